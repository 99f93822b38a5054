//! The soak: mixed read and write load at a fixed rate (an open model: requests are
//! sent on schedule whether or not earlier ones have answered) for some minutes,
//! reporting per minute the requests answered, p50/p99 latency, errors and the
//! server's resident memory. The first minute is the baseline the rest is compared
//! with: p99 drift and memory drift are reported against it.
//!
//! Usage: soak <base-url> <server-pid> <api-key> <bodies.jsonl> <services> [minutes] [reads/s] [writes/s]
//! Reads are the search bodies in turn; writes update the capacity of services
//! `bench-0000000` .. `bench-<services-1>` in turn.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Read,
    Write,
}

struct Sample {
    minute: usize,
    kind: Kind,
    millis: f64,
    /// HTTP status, or 0 when no answer came.
    status: u16,
    graphql_errors: bool,
}

const UPDATE: &str = "mutation($id: ID!, $n: Int!) { updateCapacity(serviceId: $id, input: { available: $n, maximum: 12 }) { capacity { status } } }";

fn resident_mib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, pid, key, bodies, services, rest @ ..] = args.as_slice() else {
        return Err("usage: soak <base-url> <server-pid> <api-key> <bodies.jsonl> <services> [minutes] [reads/s] [writes/s]".into());
    };
    let number =
        |i: usize, default: f64| rest.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (minutes, reads, writes) = (number(0, 10.0) as usize, number(1, 200.0), number(2, 20.0));
    let services: usize = services.parse()?;
    let bodies: Vec<Value> = std::fs::read_to_string(bodies)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{base}/graphql");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Sample>();
    let started = Instant::now();
    let length = Duration::from_secs(60 * minutes as u64);

    // One schedule per kind, each an interval that fires on time (missed ticks are
    // sent at once rather than skipped, so a slow server meets the full rate).
    let mut schedules = Vec::new();
    for (kind, rate) in [(Kind::Read, reads), (Kind::Write, writes)] {
        if rate <= 0.0 {
            continue;
        }
        let (client, url, key, tx) = (client.clone(), url.clone(), key.clone(), tx.clone());
        let bodies = bodies.clone();
        schedules.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut n: usize = 0;
            while started.elapsed() < length {
                tick.tick().await;
                n += 1;
                let request = match kind {
                    Kind::Read => client.post(&url).json(&bodies[n % bodies.len()]),
                    Kind::Write => client.post(&url).bearer_auth(&key).json(&json!({
                        "query": UPDATE,
                        "variables": { "id": format!("bench-{:07}", n % services), "n": n % 13 },
                    })),
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let sent = Instant::now();
                    let minute = (started.elapsed().as_secs() / 60) as usize;
                    let (status, graphql_errors) = match request.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body: Value = response.json().await.unwrap_or(Value::Null);
                            (status, body.get("errors").is_some())
                        }
                        Err(_) => (0, true),
                    };
                    let _ = tx.send(Sample {
                        minute,
                        kind,
                        millis: sent.elapsed().as_secs_f64() * 1000.0,
                        status,
                        graphql_errors,
                    });
                });
            }
        }));
    }
    drop(tx);

    // Memory at the end of each minute.
    let pid = pid.clone();
    let memory = tokio::spawn(async move {
        let mut readings = Vec::new();
        for minute in 1..=minutes {
            tokio::time::sleep_until((started + Duration::from_secs(60 * minute as u64)).into())
                .await;
            readings.push(resident_mib(&pid));
        }
        readings
    });

    let mut samples: Vec<Sample> = Vec::new();
    while let Some(sample) = rx.recv().await {
        samples.push(sample);
    }
    for schedule in schedules {
        schedule.await?;
    }
    let memory = memory.await?;

    println!(
        "| minute | reads | writes | req/s | p50 ms | p99 ms | non-2xx | 5xx | GraphQL errors | RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut p99s = Vec::new();
    for minute in 0..minutes {
        let these: Vec<&Sample> = samples.iter().filter(|s| s.minute == minute).collect();
        let mut millis: Vec<f64> = these.iter().map(|s| s.millis).collect();
        millis.sort_by(f64::total_cmp);
        let p99 = percentile(&millis, 0.99);
        p99s.push(p99);
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {:.0} |",
            minute + 1,
            these.iter().filter(|s| s.kind == Kind::Read).count(),
            these.iter().filter(|s| s.kind == Kind::Write).count(),
            these.len() as f64 / 60.0,
            percentile(&millis, 0.5),
            p99,
            these
                .iter()
                .filter(|s| !(200..300).contains(&s.status))
                .count(),
            these
                .iter()
                .filter(|s| s.status >= 500 || s.status == 0)
                .count(),
            these.iter().filter(|s| s.graphql_errors).count(),
            memory.get(minute).copied().unwrap_or(f64::NAN),
        );
    }
    let total_5xx = samples
        .iter()
        .filter(|s| s.status >= 500 || s.status == 0)
        .count();
    let (first_rss, last_rss) = (
        memory.first().copied().unwrap_or(f64::NAN),
        memory.last().copied().unwrap_or(f64::NAN),
    );
    let worst_p99 = p99s.iter().copied().fold(0.0, f64::max);
    println!(
        "\n{} requests in {:.1} min; 5xx or no answer: {total_5xx}; p99 first minute {:.2} ms, last {:.2} ms, worst {:.2} ms ({:.2}× the first); RSS {:.0} → {:.0} MiB ({:+.1}% after the first minute)",
        samples.len(),
        started.elapsed().as_secs_f64() / 60.0,
        p99s.first().copied().unwrap_or(f64::NAN),
        p99s.last().copied().unwrap_or(f64::NAN),
        worst_p99,
        worst_p99 / p99s.first().copied().unwrap_or(f64::NAN),
        first_rss,
        last_rss,
        (last_rss - first_rss) / first_rss * 100.0,
    );
    Ok(())
}
