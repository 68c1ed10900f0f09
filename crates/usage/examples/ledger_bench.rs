//! Measures what the books cost a request, and seeds a large ledger for the
//! report timings in `bench/ledger.py`.
//!
//! `ledger_bench [--writes N] [--seed-rows N --seed-dir DIR]`: times N
//! single-row ledger writes (each its own synced transaction, as a request
//! makes) and N audit appends, then optionally writes N rows spread over
//! three months into DIR/usage.db.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use claude_usage::time::{DAY_MS, Date, iso8601, now_ms};
use claude_usage::{Audit, AuditEntry, Ledger, UsageRecord};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn record(ts_ms: i64, i: usize) -> UsageRecord {
    let model = [
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "eu.anthropic.claude-opus-4-6-v1",
    ][i % 3];
    UsageRecord {
        ts_ms,
        session_id: format!("session-{}", i / 20),
        project: "/work/architecture-vault".into(),
        provider: "bedrock".into(),
        region: Some("us-east-1".into()),
        model_id: model.into(),
        canonical_model: Some(
            model
                .trim_start_matches("us.")
                .trim_start_matches("eu.")
                .into(),
        ),
        alias: None,
        skill: i.is_multiple_of(4).then(|| "adr".into()),
        purpose: "main".into(),
        agent_type: None,
        input_tokens: 1200,
        output_tokens: 400,
        cache_read_tokens: 8000,
        cache_write_tokens: 300,
        cost_nanos: Some(12_345_678),
        uncached_cost_nanos: Some(40_000_000),
        latency_ms: Some(2100),
        first_byte_ms: Some(600),
        request_id: Some(format!("00000000-0000-4000-8000-{i:012}")),
        status: "ok".into(),
        attempt: 1,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let writes: usize = arg("--writes").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = Ledger::open_in(dir.path()).expect("open the ledger");
    let audit = Audit::new(dir.path(), 10 * 1024 * 1024);
    let mut ledger_us = Vec::with_capacity(writes);
    let mut audit_us = Vec::with_capacity(writes);
    for i in 0..writes {
        let r = record(now_ms(), i);
        let t = Instant::now();
        ledger.record(&r).expect("record");
        ledger_us.push(t.elapsed().as_secs_f64() * 1e6);
        let entry = AuditEntry {
            ts: iso8601(r.ts_ms),
            session_id: r.session_id.clone(),
            model_id: Some(r.model_id.clone()),
            request_id: r.request_id.clone(),
            input_tokens: Some(r.input_tokens),
            cost_usd: Some(0.012345678),
            ..AuditEntry::default()
        };
        let t = Instant::now();
        audit.append(&entry).expect("append");
        audit_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    for (name, v) in [
        ("ledger write", &mut ledger_us),
        ("audit append", &mut audit_us),
    ] {
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "{name}: mean {mean:.0} µs, p50 {:.0} µs, p99 {:.0} µs over {writes} requests",
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    if let (Some(rows), Some(seed)) = (arg("--seed-rows"), arg("--seed-dir")) {
        let rows: usize = rows.parse().expect("--seed-rows N");
        let mut big = Ledger::open_in(std::path::Path::new(&seed)).expect("open the seed ledger");
        // Three months up to now, evenly.
        let start = Date::from_ms(now_ms() - 90 * DAY_MS).start_ms();
        let step = (now_ms() - start) / rows as i64;
        let batch: Vec<_> = (0..rows)
            .map(|i| record(start + i as i64 * step, i))
            .collect();
        let t = Instant::now();
        big.record_batch(&batch).expect("seed");
        println!(
            "seeded {rows} rows into {} in {:.1} s",
            big.path().display(),
            t.elapsed().as_secs_f64()
        );
    }
}
