//! The compiled-in prices against the shared price tables
//! (`shared/data/bedrock-anthropic-prices*.tsv`). Skips with a notice when
//! `shared/` is not beside the checkout.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use claude_providers::catalog::Catalog;
use claude_test_support::fixtures::shared_file;
use claude_usage::Pricing;

/// Rows the shared table has wrong, with the reason we differ (the wire
/// protocol notes §4.2 flag both).
const KNOWN_BAD: &[(&str, &str)] = &[
    (
        "eu.anthropic.claude-3-5-haiku-20241022-v1:0",
        "LiteLLM copies Claude 3 Haiku's 0.25/1.25; the spec calls it suspicious",
    ),
    (
        "eu.anthropic.claude-opus-4-5-20251101-v1:0",
        "LiteLLM has the global 5/25; every other geo profile of a 4.5+ model is +10 %",
    ),
];

type Tsv = BTreeMap<String, BTreeMap<String, String>>;

fn read_tsv(name: &str) -> Option<Tsv> {
    let Some(path) = shared_file(&format!("data/{name}")) else {
        println!(
            "skipped: shared/data/{name} not found (set CLAUDE_SHARED_DIR to check the catalog against it)"
        );
        return None;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    Some(
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let cells: BTreeMap<String, String> = header
                    .iter()
                    .zip(l.split('\t'))
                    .map(|(h, c)| ((*h).to_owned(), c.trim().to_owned()))
                    .collect();
                (cells["model_id"].clone(), cells)
            })
            .collect(),
    )
}

fn num(row: &BTreeMap<String, String>, col: &str) -> Option<f64> {
    row.get(col)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn catalog_prices_match_the_shared_tsv() {
    let (Some(prices), Some(extra)) = (
        read_tsv("bedrock-anthropic-prices.tsv"),
        read_tsv("bedrock-anthropic-prices-extra.tsv"),
    ) else {
        return;
    };
    let pricing = Pricing::builtin();
    let mut checked = 0;
    let mut problems = Vec::new();
    for m in Catalog::builtin().models() {
        // LiteLLM keys the bare base ID at the base (global) price; the
        // catalog's in-region price adds the regional premium for 4.5+, so
        // the base row is compared with the catalog's base price.
        let rows = std::iter::once((m.id.clone(), m.price)).chain(m.profiles.iter().map(|p| {
            let id = format!("{p}.{}", m.id);
            let q = pricing.quote("bedrock", &id).unwrap().prices;
            (id, q)
        }));
        for (id, ours) in rows {
            let Some(row) = prices.get(&id) else {
                println!("note: {id} is not in the shared table");
                continue;
            };
            if KNOWN_BAD.iter().any(|(bad, _)| *bad == id) {
                continue;
            }
            checked += 1;
            let want = [
                ("input", Some(ours.input), num(row, "input_per_mtok")),
                ("output", Some(ours.output), num(row, "output_per_mtok")),
                (
                    "cache write",
                    Some(ours.cache_write_5m),
                    num(row, "cache_write_per_mtok"),
                ),
                (
                    "cache read",
                    Some(ours.cache_read),
                    num(row, "cache_read_per_mtok"),
                ),
                (
                    "cache write 1h",
                    ours.cache_write_1h,
                    extra
                        .get(&id)
                        .and_then(|e| num(e, "cache_write_1h_per_mtok")),
                ),
            ];
            for (what, ours, theirs) in want {
                match (ours, theirs) {
                    (Some(a), Some(b)) if !close(a, b) => {
                        problems.push(format!("{id}: {what} catalog {a} vs shared {b}"))
                    }
                    (None, Some(b)) => problems.push(format!("{id}: {what} missing (shared {b})")),
                    _ => {}
                }
            }
            if let Some(min) = extra
                .get(&id)
                .and_then(|e| num(e, "prompt_cache_min_tokens"))
                && m.cache_min_tokens != Some(min as u32)
            {
                problems.push(format!(
                    "{id}: cache minimum catalog {:?} vs shared {min}",
                    m.cache_min_tokens
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked > 80, "only {checked} rows compared");
}

#[test]
fn spec_seed_models_match_the_guides_per_1k_table() {
    // The Bedrock guide's "Pricing Considerations" table, per 1K tokens.
    for (id, input_1k, output_1k) in [
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", 0.003, 0.015),
        ("anthropic.claude-3-opus-20240229-v1:0", 0.015, 0.075),
        ("anthropic.claude-3-haiku-20240307-v1:0", 0.00025, 0.00125),
    ] {
        let p = Pricing::builtin().quote("bedrock", id).unwrap().prices;
        assert!(close(p.input / 1000.0, input_1k), "{id} input");
        assert!(close(p.output / 1000.0, output_1k), "{id} output");
    }
}
