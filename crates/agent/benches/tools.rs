//! Benchmarks of the built-in tools, called as the model calls them (JSON
//! input, the full `Tool::call`, output formatting included).
//!
//! `cargo bench -p claude-agent --bench tools [-- --runs N]`
//!
//! Prints a Markdown table for docs/performance.md:
//! - Read of a 1 MB text file (the default first window, and a window at the end);
//! - Grep (each output mode) and Glob over 10,000 notes made by copying the
//!   ArchitectKB vault's `.md` files (../shared/fixtures/architectkb) round-robin
//!   into 100 folders of a temporary directory. Without the fixture those rows
//!   are skipped with a notice.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use claude_agent::tools::{Tool, ToolCtx, ToolOutput, builtin};
use serde_json::{Value, json};

const NOTES: usize = 10_000;
const FOLDERS: usize = 100;

struct Row {
    what: String,
    result: String,
    times: Vec<Duration>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tools = builtin();
    let tool = |name: &str| -> std::sync::Arc<dyn Tool> {
        tools
            .iter()
            .find(|t| t.name() == name)
            .cloned()
            .expect("tool")
    };
    let mut rows = Vec::new();

    // Read: a 1 MB file of 80-character lines.
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("one-megabyte.txt");
    let line = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n";
    let mut body = String::new();
    let mut n = 0;
    while body.len() < 1_000_000 {
        n += 1;
        body.push_str(&format!("{n:>6} {line}"));
    }
    std::fs::write(&big, &body).expect("write");
    let ctx = ToolCtx::new(
        dir.path().to_path_buf(),
        dir.path().to_path_buf(),
        "bench".into(),
    );
    let read = tool("Read");
    let label = format!("Read, 1 MB file ({n} lines), default window");
    rows.push(measure(
        &rt,
        runs,
        &label,
        &*read,
        json!({"file_path": big}),
        &ctx,
    ));
    rows.push(measure(
        &rt,
        runs,
        "Read, 1 MB file, last 100 lines (offset)",
        &*read,
        json!({"file_path": big, "offset": n - 99, "limit": 100}),
        &ctx,
    ));

    // Grep and Glob over 10,000 notes.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/architectkb");
    let mut notice = None;
    let mut corpus = String::new();
    match notes_from(&fixture) {
        Some(sources) => {
            let vault = tempfile::tempdir().expect("tempdir");
            let bytes = make_vault(vault.path(), &sources);
            corpus = format!(
                "{NOTES} notes in {FOLDERS} folders, {:.1} MB, copied round-robin from the {} Markdown files of the ArchitectKB fixture",
                bytes as f64 / 1e6,
                sources.len()
            );
            let ctx = ToolCtx::new(
                vault.path().to_path_buf(),
                vault.path().to_path_buf(),
                "bench".into(),
            );
            let grep = tool("Grep");
            let glob = tool("Glob");
            let cases: Vec<(&str, &dyn Tool, Value)> = vec![
                (
                    "Grep, files_with_matches, common word (`-i architecture`)",
                    &*grep,
                    json!({"pattern": "architecture", "-i": true}),
                ),
                (
                    "Grep, files_with_matches, rare word (`Kafka`)",
                    &*grep,
                    json!({"pattern": "Kafka"}),
                ),
                (
                    "Grep, files_with_matches, no match (every byte read)",
                    &*grep,
                    json!({"pattern": "zq9xv-never-present"}),
                ),
                (
                    "Grep, files_with_matches, regex (`\\bADR-\\d{3}\\b`)",
                    &*grep,
                    json!({"pattern": "\\bADR-\\d{3}\\b"}),
                ),
                (
                    "Grep, content, `-n`, `-C 2`, head_limit 200 (`Kafka`)",
                    &*grep,
                    json!({"pattern": "Kafka", "output_mode": "content", "-C": 2, "head_limit": 200}),
                ),
                (
                    "Grep, count (`-i architecture`)",
                    &*grep,
                    json!({"pattern": "architecture", "-i": true, "output_mode": "count"}),
                ),
                (
                    "Grep, `glob: \"n1*/*.md\"` (`Kafka`)",
                    &*grep,
                    json!({"pattern": "Kafka", "glob": "n1*/*.md"}),
                ),
                (
                    "Glob, `**/*.md` (every note, newest 100)",
                    &*glob,
                    json!({"pattern": "**/*.md"}),
                ),
                (
                    "Glob, `*ADR*` (names at any depth)",
                    &*glob,
                    json!({"pattern": "*ADR*"}),
                ),
                (
                    "Glob, `n42/*.md` (one folder)",
                    &*glob,
                    json!({"pattern": "n42/*.md"}),
                ),
            ];
            for (what, t, input) in cases {
                rows.push(measure(&rt, runs, what, t, input, &ctx));
            }
            drop(vault);
        }
        None => {
            notice = Some(format!(
                "Grep and Glob rows skipped: the fixture {} is absent.",
                fixture.display()
            ));
        }
    }

    println!(
        "Built-in tools, {runs} runs each after 2 warm-up runs (`cargo bench -p claude-agent --bench tools`)."
    );
    println!(
        "Machine: {} CPUs available; times are wall-clock per tool call, output formatting included.",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !corpus.is_empty() {
        println!("Corpus: {corpus}.");
    }
    if let Some(n) = &notice {
        println!("NOTICE: {n}");
    }
    println!();
    println!("| operation | median | p90 | min | result |");
    println!("| --- | ---: | ---: | ---: | --- |");
    for r in rows {
        let mut t = r.times.clone();
        t.sort();
        let p = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {} | {} | {} | {} | {} |",
            r.what,
            ms(p(0.5)),
            ms(p(0.9)),
            ms(t[0]),
            r.result
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn measure(
    rt: &tokio::runtime::Runtime,
    runs: usize,
    what: &str,
    tool: &dyn Tool,
    input: Value,
    ctx: &ToolCtx,
) -> Row {
    let mut last: Option<ToolOutput> = None;
    for _ in 0..2 {
        last = Some(rt.block_on(tool.call(input.clone(), ctx)));
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let out = rt.block_on(tool.call(input.clone(), ctx));
        times.push(start.elapsed());
        last = Some(out);
    }
    let out = last.expect("ran");
    assert!(!out.is_error, "{what}: {:?}", out.content);
    let chars = out.content.as_str().map_or(0, |s| s.chars().count());
    Row {
        what: what.to_string(),
        result: format!("{} ({chars} chars)", out.summary),
        times,
    }
}

fn notes_from(fixture: &Path) -> Option<Vec<PathBuf>> {
    if !fixture.is_dir() {
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![fixture.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    (!out.is_empty()).then_some(out)
}

/// Writes NOTES notes into FOLDERS folders, cycling through the sources;
/// returns the bytes written.
fn make_vault(root: &Path, sources: &[PathBuf]) -> u64 {
    let contents: Vec<(String, Vec<u8>)> = sources
        .iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (stem, std::fs::read(p).unwrap_or_default())
        })
        .collect();
    let mut bytes = 0u64;
    for f in 0..FOLDERS {
        std::fs::create_dir_all(root.join(format!("n{f}"))).expect("mkdir");
    }
    for i in 0..NOTES {
        let (stem, body) = &contents[i % contents.len()];
        let path = root
            .join(format!("n{}", i % FOLDERS))
            .join(format!("{stem} {i}.md"));
        std::fs::write(&path, body).expect("write note");
        bytes += body.len() as u64;
    }
    std::fs::write(root.join(".gitignore"), ".obsidian/\n").expect("gitignore");
    // Let the kernel write the new files back before timing, so that the
    // writeback does not compete with the searches.
    let _ = std::process::Command::new("sync").status();
    std::thread::sleep(Duration::from_millis(500));
    bytes
}
