//! Referral round trips under load (a closed model: each connection sends its next
//! request when the last one answered). A round trip is what a link worker and a
//! group do for one person: `createReferral` (the team), then `updateReferralStatus`
//! to OPENED and to ACCEPTED (the group). The baseline, in the same run and with the
//! same connections, is three `updateCapacity` writes per round: as many write
//! requests, none of them sealing, auditing reads or moving a referral.
//!
//! Usage: referral_load <base-url> <referrer-key> <group-key> <services> [connections] [seconds]
//! Services are `bench-0000000` .. `bench-<services-1>`, owned by the group key's authority.

use std::sync::Arc;

use serde_json::json;

#[path = "common/closed_loop.rs"]
mod closed_loop;
use closed_loop::{Caller, Round};

const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { referral { id version } } }";
const MOVE: &str = "mutation($id: ID!, $v: Int!, $s: ReferralStatus!) { updateReferralStatus(id: $id, expectedVersion: $v, input: { status: $s }) { referral { version } } }";
const CAPACITY: &str = "mutation($id: ID!, $n: Int!) { updateCapacity(serviceId: $id, input: { available: $n, maximum: 50 }) { capacity { status } } }";

#[derive(Clone, Copy)]
enum Kind {
    Referral,
    Baseline,
}

async fn round(
    caller: Arc<Caller>,
    kind: Kind,
    n: usize,
    keys: (&str, &str),
    services: usize,
) -> Result<(), String> {
    let service = format!("bench-{:07}", n % services);
    match kind {
        Kind::Referral => {
            let input = json!({ "serviceId": service, "consent": true, "reason": "bench",
                "person": { "name": format!("Person {n}"), "phone": "0161 496 0000", "age": 70 } });
            let made = caller
                .send(keys.0, CREATE, json!({ "input": input }))
                .await?;
            let id = made["createReferral"]["referral"]["id"].clone();
            let mut version = made["createReferral"]["referral"]["version"].clone();
            for status in ["OPENED", "ACCEPTED"] {
                let moved = caller
                    .send(keys.1, MOVE, json!({ "id": id, "v": version, "s": status }))
                    .await?;
                version = moved["updateReferralStatus"]["referral"]["version"].clone();
            }
        }
        Kind::Baseline => {
            for i in 0..3 {
                let variables = json!({ "id": service, "n": (n + i) % 40 + 10 });
                caller.send(keys.1, CAPACITY, variables).await?;
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, referrer, group, services, rest @ ..] = args.as_slice() else {
        return Err("usage: referral_load <base-url> <referrer-key> <group-key> <services> [connections] [seconds]".into());
    };
    let services: usize = services.parse()?;
    let connections: usize = rest.first().map_or(Ok(8), |c| c.parse())?;
    let seconds: u64 = rest.get(1).map_or(Ok(20), |s| s.parse())?;
    println!(
        "| round ({connections} connections, {seconds} s) | rounds/s | p50 ms | p99 ms | errors |"
    );
    println!("|---|---|---|---|---|");
    let mut rates = Vec::new();
    for (name, kind) in [
        ("3 × updateCapacity (baseline)", Kind::Baseline),
        ("createReferral + OPENED + ACCEPTED", Kind::Referral),
    ] {
        let (referrer, group) = (referrer.clone(), group.clone());
        let run: Round = Arc::new(move |caller, n| {
            let (referrer, group) = (referrer.clone(), group.clone());
            Box::pin(async move { round(caller, kind, n, (&referrer, &group), services).await })
        });
        let f = closed_loop::measure(base, connections, seconds, run).await;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {} |",
            f.per_second, f.p50, f.p99, f.errors
        );
        rates.push(f.per_second);
    }
    println!(
        "\nreferral round trips: {:.2}× the baseline's rounds per second",
        rates[1] / rates[0]
    );
    Ok(())
}
