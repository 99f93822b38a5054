//! Listing writes under load, for latency against a database on another host
//! (`bench/network.sh`): `createService` with a listing of a realistic size (its
//! description alone is longer than one Ethernet segment, so its statements span
//! several TCP packets) and `updateCapacity`, each in a closed loop. Reports rounds/s,
//! p50, p99, the slowest, and how many took 40 ms or more (a delayed-ACK stall).
//!
//! Usage: write_load <base-url> <editor-key> <services> [connections] [seconds]
//! Services `bench-0000000` .. `bench-<services-1>` belong to the key's authority.

use std::sync::Arc;

use serde_json::json;

#[path = "common/closed_loop.rs"]
mod closed_loop;
use closed_loop::Round;

const ORGANIZATION: &str = "mutation { createOrganization(input: { name: \"Bench Community Trust\" }) { organization { id } } }";
const CREATE: &str =
    "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }";
const CAPACITY: &str = "mutation($id: ID!, $n: Int!) { updateCapacity(serviceId: $id, input: { available: $n, maximum: 50 }) { capacity { status } } }";

/// About 1,300 characters, as a community group's description often is.
const DESCRIPTION: &str = "A friendly weekly walking group for people who would like to get out of the house, \
meet others and move a little more. Walks are led by trained volunteer walk leaders, last about an hour and \
keep to flat, well-surfaced paths around the water park, with benches along the way and a shorter route for \
anyone who needs it. We finish at the café for a cup of tea and a chat (tea is free for first-timers). You do \
not need any special kit: comfortable shoes and a coat are enough. Carers are welcome to walk alongside the \
person they care for, and well-behaved dogs on leads are fine. If you have a long-term health condition, have \
recently been bereaved, feel lonely or low, or have been told by your GP to be more active, this is a gentle \
place to start. Link workers and social prescribers can refer, or people can simply turn up: just let the \
walk leader know you are new and they will make sure you are looked after. We run all year except in ice or \
storms; check the page before you set out. Volunteers are always wanted, especially people who can help with \
lifts to and from the park for members who cannot get there by bus. Large-print and easy-read leaflets are \
available on request, and we can arrange for an interpreter with a week's notice.";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, key, services, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: write_load <base-url> <editor-key> <services> [connections] [seconds]".into(),
        );
    };
    let services: usize = services.parse()?;
    let connections: usize = rest.first().map_or(Ok(4), |c| c.parse())?;
    let seconds: u64 = rest.get(1).map_or(Ok(20), |s| s.parse())?;
    let client = reqwest::Client::new();
    let made: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": ORGANIZATION }))
        .send()
        .await?
        .json()
        .await?;
    let organization = made["data"]["createOrganization"]["organization"]["id"].clone();
    if organization.is_null() {
        return Err(format!("could not create the organization: {made}").into());
    }

    println!(
        "| write ({connections} connections, {seconds} s) | writes/s | p50 ms | p99 ms | slowest ms | ≥ 40 ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|");
    let key = Arc::new(key.clone());
    let create: Round = {
        let key = key.clone();
        Arc::new(move |caller, n| {
            let (key, organization) = (key.clone(), organization.clone());
            Box::pin(async move {
                let input = json!({
                    "organizationId": organization,
                    "name": format!("Bench Walkers {n}"),
                    "description": DESCRIPTION,
                    "taxonomyTerms": ["walking-groups"],
                    "minimumAge": 18,
                    "email": "walks@example.org",
                    "url": "https://example.org/walks",
                    "locations": [{ "name": "Sale Water Park", "latitude": 53.4333 + (n % 100) as f64 * 1e-4,
                        "longitude": -2.2989, "postcode": "M33 2LE" }],
                    "schedules": [{ "days": ["TUESDAY", "THURSDAY"], "opensAt": "10:00", "closesAt": "11:30" }],
                    "costOptions": [{ "option": "Tea afterwards", "amountPence": 150 }],
                });
                caller
                    .send(&key, CREATE, json!({ "input": input }))
                    .await
                    .map(drop)
            })
        })
    };
    let capacity: Round = Arc::new(move |caller, n| {
        let key = key.clone();
        Box::pin(async move {
            let variables = json!({ "id": format!("bench-{:07}", n % services), "n": n % 40 + 10 });
            caller.send(&key, CAPACITY, variables).await.map(drop)
        })
    });
    for (name, round) in [("createService", create), ("updateCapacity", capacity)] {
        let f = closed_loop::measure(base, connections, seconds, round).await;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.1} | {} of {} | {} |",
            f.per_second, f.p50, f.p99, f.max, f.slow, f.rounds, f.errors
        );
    }
    Ok(())
}
