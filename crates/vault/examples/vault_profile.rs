//! Profiling aid, not a test: `cargo run --release -p claude-vault --example vault_profile -- VAULT`
//! builds or refreshes VAULT's index and prints the time of each phase; with `--parse-only` it
//! reads and parses every note on one thread and stores nothing.

#![allow(clippy::print_stdout)]

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.iter().find(|a| !a.starts_with("--")) else {
        println!("usage: vault_profile VAULT [--parse-only]");
        return;
    };
    let root = std::path::Path::new(root);
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
            t.elapsed().as_secs_f64() * 1000.0
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
        t.elapsed().as_secs_f64() * 1000.0
    );
    for (phase, ms) in &report.timings {
        println!("  {phase:<14} {ms:>9.1} ms");
    }
}
