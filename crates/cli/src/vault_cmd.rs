//! `claude vault index|q|stats|check` and the native `/q`: rendering only; the parsing, index and
//! queries live in `claude_vault`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use claude_config::Config;
use claude_vault::{Hit, Index, RefreshReport, VaultError, parse_query};

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Build or refresh .data/vault.db (only changed notes are parsed again).
    Index {
        /// The vault (default: the project root).
        path: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Answer a /q query: free text (FTS5), type:, status:, priority:, tag:, recent[:N], backlinks:"Note", orphans, broken-links.
    Q(QArgs),
    /// Notes by type, tags, links, orphans and broken links.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Broken links, duplicate titles and notes without `type` (exit 1 when any).
    Check {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct QArgs {
    /// The query, e.g. `type:Adr status:proposed technology/aws`.
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    #[arg(long)]
    pub json: bool,
    /// The most rows shown.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Answer from the index as it is, without the stat walk that picks up changed files.
    #[arg(long)]
    pub no_refresh: bool,
}

fn open_and_refresh(root: &Path, refresh: bool) -> anyhow::Result<(Index, RefreshReport)> {
    let mut index = Index::open(root)?;
    let report = if refresh {
        let mut bar: Option<indicatif::ProgressBar> = None;
        let report = index.refresh(&mut |done, total| {
            if total >= 1000 {
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::new(total as u64);
                    if let Ok(style) =
                        indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len}")
                    {
                        b.set_style(style);
                    }
                    b.set_message("indexing notes");
                    b
                });
                // A first build then merges its full-text index and copies the notes' rows in
                // (about 2 s at 100,000 notes).
                if done == total {
                    b.set_message("writing the index");
                }
                b.set_position(done as u64);
            }
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        // Profiling: where a refresh spends its time (docs/performance.md).
        if std::env::var_os("CLAUDE_VAULT_TIMINGS").is_some() {
            let phases: Vec<String> = report
                .timings
                .iter()
                .map(|(phase, ms)| format!("{phase} {ms:.1} ms"))
                .collect();
            eprintln!("vault timings: {}", phases.join(", "));
        }
        for w in &report.warnings {
            match w.line {
                Some(line) => eprintln!("warning: {}:{line}: {}", w.path, w.message),
                None => eprintln!("warning: {}: {}", w.path, w.message),
            }
        }
        report
    } else {
        RefreshReport::default()
    };
    Ok((index, report))
}

/// `claude vault …`. A bad query, a vault path that is not a folder, or an index of a newer schema
/// is a usage or configuration error: exit 2, as for every command.
pub fn run(cfg: &Config, cmd: VaultCommand) -> anyhow::Result<i32> {
    match run_inner(cfg, cmd) {
        Err(e) if is_usage_error(&e) => {
            eprintln!("claude: {}", crate::error_text(&e));
            Ok(2)
        }
        other => other,
    }
}

fn is_usage_error(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<VaultError>(),
        Some(VaultError::Query(_) | VaultError::NotAVault { .. } | VaultError::Schema { .. })
    )
}

fn run_inner(cfg: &Config, cmd: VaultCommand) -> anyhow::Result<i32> {
    let root = cfg.project_root().to_path_buf();
    match cmd {
        VaultCommand::Index { path, json } => {
            let root = path.unwrap_or(root);
            let start = std::time::Instant::now();
            let (index, r) = open_and_refresh(&root, true)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{}: {} notes ({} added, {} updated, {} removed, {} unchanged) in {} ms",
                    index.db_path().display(),
                    r.scanned,
                    r.added,
                    r.updated,
                    r.removed,
                    r.unchanged,
                    start.elapsed().as_millis()
                );
            }
            Ok(0)
        }
        VaultCommand::Q(args) => {
            // A mistyped query fails before any indexing.
            let query = parse_query(&args.query.join(" "))?;
            let (index, _) = open_and_refresh(&root, !args.no_refresh)?;
            let hits = index.query(&query, args.limit)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else {
                print!("{}", table(&hits));
            }
            Ok(0)
        }
        VaultCommand::Stats { json } => {
            let (index, _) = open_and_refresh(&root, true)?;
            let s = index.stats()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("notes          {}", s.notes);
                println!("tags           {} ({} distinct)", s.tags, s.distinct_tags);
                println!("links          {}", s.links);
                println!("orphans        {}", s.orphans);
                println!("broken links   {}", s.broken_links);
                println!("by type:");
                for (t, n) in &s.by_type {
                    println!("  {n:>6}  {t}");
                }
            }
            Ok(0)
        }
        VaultCommand::Check { json } => {
            let (index, _) = open_and_refresh(&root, true)?;
            let c = index.check()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                println!("broken links ({}):", c.broken_links.len());
                for b in &c.broken_links {
                    println!("  {} → [[{}]]", b.source, b.target);
                }
                println!("duplicate titles ({}):", c.duplicate_titles.len());
                for (t, paths) in &c.duplicate_titles {
                    println!("  {t}: {}", paths.join(", "));
                }
                println!("notes without type ({}):", c.without_type.len());
                for p in &c.without_type {
                    println!("  {p}");
                }
            }
            Ok(if c.is_clean() { 0 } else { 1 })
        }
    }
}

/// The native `/q`: refresh the index of `root`, answer `query`, and return the table.
pub fn native_q(root: &Path, query: &str) -> anyhow::Result<String> {
    let query = parse_query(query)?;
    let mut index = Index::open(root)?;
    index.refresh(&mut |_, _| {})?;
    let hits = index.query(&query, 20)?;
    Ok(table(&hits))
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A Markdown table: path, title, type, status, snippet.
pub fn table(hits: &[Hit]) -> String {
    if hits.is_empty() {
        return "No matching notes.\n".into();
    }
    let mut out = String::from(
        "| path | title | type | status | snippet |\n| --- | --- | --- | --- | --- |\n",
    );
    for h in hits {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&h.path),
            cell(&h.title),
            cell(h.note_type.as_deref().unwrap_or("")),
            cell(h.status.as_deref().unwrap_or("")),
            cell(&h.snippet)
        );
    }
    let _ = writeln!(
        out,
        "\n{} note{}",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" }
    );
    out
}

/// Whether `/q` is answered natively (`vault.native_q`, default true).
pub fn native_q_enabled(cfg: &Config) -> bool {
    cfg.bool("vault.native_q") != Some(false)
}

/// When `prompt` is `/q …` and the native `/q` is on: answer it from the index, record it in the
/// session's transcript (zero usage, model `native:/q`), and return the answer. No model request.
pub fn try_native_q(
    session: &mut claude_agent::session::Session,
    cfg: &Config,
    prompt: &str,
) -> Option<anyhow::Result<String>> {
    let prompt = prompt.trim();
    let query = match prompt.strip_prefix("/q") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest.trim(),
        _ => return None,
    };
    if !native_q_enabled(cfg) {
        return None;
    }
    let answer = if query.is_empty() {
        Ok("Usage: /q <query>, e.g. /q type:Adr status:proposed technology/aws\n".to_string())
    } else {
        native_q(cfg.project_root(), query)
    };
    Some(answer.and_then(|a| {
        session.record_local(prompt, &a)?;
        Ok(a)
    }))
}
