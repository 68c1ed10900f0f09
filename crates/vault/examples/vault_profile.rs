//! Profiling aid, not a test: `cargo run --release -p claude-vault --example vault_profile -- VAULT`
//! builds or refreshes VAULT's index and prints the time of each phase; with `--parse-only` it
//! reads and parses every note on one thread and stores nothing; with `--query Q` it answers the
//! `/q` query Q from the index as it is (no refresh) and prints the time to open the index, of
//! the first answer (what `claude vault q Q --no-refresh` pays) and of the best of ten.

#![allow(clippy::print_stdout)]

use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first().filter(|a| !a.starts_with("--")) else {
        println!("usage: vault_profile VAULT [--parse-only | --query Q]");
        return;
    };
    let root = std::path::Path::new(root);
    if let Some(i) = args.iter().position(|a| a == "--query") {
        let Some(text) = args.get(i + 1) else {
            println!("--query needs a query");
            return;
        };
        let t = Instant::now();
        let index = claude_vault::Index::open(root).expect("open");
        let open = ms(t);
        let q = claude_vault::parse_query(text).expect("query");
        let t = Instant::now();
        let hits = index.query(&q, 20).expect("query");
        let first = ms(t);
        let mut best = f64::MAX;
        for _ in 0..10 {
            let t = Instant::now();
            let _ = index.query(&q, 20).expect("query");
            best = best.min(ms(t));
        }
        println!(
            "{} hits: open {open:.1} ms, first query {first:.1} ms, best of 10 {best:.1} ms",
            hits.len()
        );
        // Free text: how much of it is ranking every match (the rest is the rows and snippets).
        if let Some(text) = &q.text {
            let db = rusqlite::Connection::open(index.db_path()).expect("open");
            let mut st = db
                .prepare("SELECT rowid, rank FROM fts_content WHERE fts_content MATCH ?1")
                .expect("prepare");
            let mut best = f64::MAX;
            let mut n = 0;
            for _ in 0..10 {
                let t = Instant::now();
                n = st
                    .query_map([text], |r| r.get::<_, f64>(1))
                    .expect("query")
                    .count();
                best = best.min(ms(t));
            }
            println!("  ranking all {n} matches (best of 10): {best:.1} ms");
        }
        return;
    }
    if args.iter().any(|a| a == "--parse-only") {
        let t = Instant::now();
        let (mut bytes, mut notes, mut links) = (0, 0, 0);
        for e in ignore::WalkBuilder::new(root)
            .hidden(false)
            .build()
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "md") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                bytes += text.len();
                notes += 1;
                links += claude_vault::parse_note(&text).links.len();
            }
        }
        println!(
            "{notes} notes, {bytes} bytes, {links} links: read+parse {:.0} ms",
            ms(t)
        );
        return;
    }
    let t = Instant::now();
    let mut index = claude_vault::Index::open(root).expect("open");
    let report = index.refresh(&mut |_, _| {}).expect("refresh");
    println!(
        "{} notes ({} added) in {:.0} ms",
        report.scanned,
        report.added,
        ms(t)
    );
    for (phase, ms) in &report.timings {
        println!("  {phase:<14} {ms:>9.1} ms");
    }
}
