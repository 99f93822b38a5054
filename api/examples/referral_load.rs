//! Referral round trips under load (a closed model: each connection sends its next
//! request when the last one answered). A round trip is what a link worker and a
//! group do for one person: `createReferral` (the team), then `updateReferralStatus`
//! to OPENED and to ACCEPTED (the group). The baseline, in the same run and with the
//! same connections, is three `updateCapacity` writes per round: as many write
//! requests, none of them sealing, auditing reads or moving a referral.
//!
//! Usage: referral_load <base-url> <referrer-key> <group-key> <services> [connections] [seconds]
//! Services are `bench-0000000` .. `bench-<services-1>`, owned by the group key's authority.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { referral { id version } } }";
const MOVE: &str = "mutation($id: ID!, $v: Int!, $s: ReferralStatus!) { updateReferralStatus(id: $id, expectedVersion: $v, input: { status: $s }) { referral { version } } }";
const CAPACITY: &str = "mutation($id: ID!, $n: Int!) { updateCapacity(serviceId: $id, input: { available: $n, maximum: 50 }) { capacity { status } } }";

struct Caller {
    client: reqwest::Client,
    url: String,
}

impl Caller {
    /// One request; the `data` of an answer without errors.
    async fn send(&self, key: &str, query: &str, variables: Value) -> Result<Value, String> {
        let body: Value = self
            .client
            .post(&self.url)
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match body.get("errors") {
            Some(errors) => Err(errors.to_string()),
            None => Ok(body["data"].clone()),
        }
    }
}

#[derive(Clone, Copy)]
enum Round {
    Referral,
    Baseline,
}

async fn round(
    caller: &Caller,
    kind: Round,
    n: usize,
    keys: (&str, &str),
    services: usize,
) -> Result<(), String> {
    let service = format!("bench-{:07}", n % services);
    match kind {
        Round::Referral => {
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
        Round::Baseline => {
            for i in 0..3 {
                let variables = json!({ "id": service, "n": (n + i) % 40 + 10 });
                caller.send(keys.1, CAPACITY, variables).await?;
            }
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Rounds per second, p50 and p99 in ms, and errors, for `seconds` at `connections`.
async fn measure(
    base: &str,
    kind: Round,
    keys: (&str, &str),
    services: usize,
    connections: usize,
    seconds: u64,
) -> (f64, f64, f64, usize) {
    let started = Instant::now();
    let length = Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for worker in 0..connections {
        let caller = Caller {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            url: format!("{base}/graphql"),
        };
        let (referrer, group) = (keys.0.to_string(), keys.1.to_string());
        workers.push(tokio::spawn(async move {
            let (mut millis, mut errors, mut n) = (Vec::new(), 0, worker);
            while started.elapsed() < length {
                let sent = Instant::now();
                match round(&caller, kind, n, (&referrer, &group), services).await {
                    Ok(()) => millis.push(sent.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("first error: {e}");
                        }
                        errors += 1;
                    }
                }
                n += connections;
            }
            (millis, errors)
        }));
    }
    let (mut millis, mut errors) = (Vec::new(), 0);
    for worker in workers {
        if let Ok((m, e)) = worker.await {
            millis.extend(m);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    millis.sort_by(f64::total_cmp);
    (
        millis.len() as f64 / elapsed,
        percentile(&millis, 0.5),
        percentile(&millis, 0.99),
        errors,
    )
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
    let keys = (referrer.as_str(), group.as_str());
    println!(
        "| round ({connections} connections, {seconds} s) | rounds/s | p50 ms | p99 ms | errors |"
    );
    println!("|---|---|---|---|---|");
    let mut rates = Vec::new();
    for (name, kind) in [
        ("3 × updateCapacity (baseline)", Round::Baseline),
        ("createReferral + OPENED + ACCEPTED", Round::Referral),
    ] {
        let (rate, p50, p99, errors) =
            measure(base, kind, keys, services, connections, seconds).await;
        println!("| {name} | {rate:.0} | {p50:.2} | {p99:.2} | {errors} |");
        rates.push(rate);
    }
    println!(
        "\nreferral round trips: {:.2}× the baseline's rounds per second",
        rates[1] / rates[0]
    );
    Ok(())
}
