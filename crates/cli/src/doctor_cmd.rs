//! `claude doctor`, `claude models` and `claude iam-policy`: rendering only.

use std::io::IsTerminal;

use claude_agent::doctor::{self, Status};
use claude_config::Config;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn doctor(cfg: &Config, json: bool, invoke: bool) -> anyhow::Result<i32> {
    let mut notice = |line: &str| eprintln!("claude: {line}");
    let report = runtime()?.block_on(doctor::run(cfg, doctor::Options { invoke }, &mut notice));
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(report.exit_code());
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    println!("claude doctor: can this machine reach Claude on Amazon Bedrock?\n");
    for c in &report.checks {
        let (mark, paint) = match c.status {
            Status::Ok => ("✔", "32"),
            Status::Warn => ("⚠", "33"),
            Status::Fail => ("✖", "31"),
        };
        let mark = if color {
            format!("\x1b[{paint}m{mark}\x1b[0m")
        } else {
            mark.to_string()
        };
        println!("{mark} {}: {}", c.name, c.summary);
        if let Some(fix) = &c.fix {
            for line in fix.lines() {
                println!("    {line}");
            }
        }
    }
    println!(
        "\nPrivate connectivity (VPC interface endpoint):\n    {}",
        report.vpc_endpoint_command
    );
    println!(
        "Audit (CloudTrail events for Bedrock):\n    {}",
        report.cloudtrail_command
    );
    let (w, f) = report
        .checks
        .iter()
        .fold((0, 0), |(w, f), c| match c.status {
            Status::Warn => (w + 1, f),
            Status::Fail => (w, f + 1),
            Status::Ok => (w, f),
        });
    println!(
        "\n{} checks: {} ok, {w} warning{}, {f} failure{}",
        report.checks.len(),
        report.checks.len() - w - f,
        if w == 1 { "" } else { "s" },
        if f == 1 { "" } else { "s" }
    );
    Ok(report.exit_code())
}

pub fn models(cfg: &Config, json: bool) -> anyhow::Result<i32> {
    let listing = match runtime()?.block_on(claude_agent::models::list(cfg)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("claude: could not list Bedrock models: {e}");
            if e.is_access_denied() {
                eprintln!(
                    "Fix: allow bedrock:ListFoundationModels and bedrock:ListInferenceProfiles (`claude iam-policy --with-list` prints the policy)."
                );
            } else {
                eprintln!("Fix: check credentials and region with `claude doctor`.");
            }
            return Ok(if e.is_access_denied() { 4 } else { 7 });
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
        return Ok(0);
    }
    let headers = [
        "MODEL ID",
        "NAME",
        "LIFECYCLE",
        "STREAM",
        "INFERENCE",
        "PROFILES",
        "ALIAS",
        "$/1K IN",
        "$/1K OUT",
    ];
    let rows: Vec<[String; 9]> = listing
        .models
        .iter()
        .map(|m| {
            [
                m.id.clone(),
                m.name.clone(),
                match &m.end_of_life {
                    Some(eol) => format!("{} (EOL {})", m.lifecycle, eol.get(..10).unwrap_or(eol)),
                    None => m.lifecycle.clone(),
                },
                match m.streaming {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "?".into(),
                },
                m.inference_types.join(","),
                m.profiles
                    .iter()
                    .filter_map(|p| p.split_once('.').map(|(pre, _)| pre.to_string()))
                    .collect::<Vec<_>>()
                    .join(","),
                m.aliases.join(","),
                m.input_per_1k.map_or("-".into(), |p| format!("{p:.5}")),
                m.output_per_1k.map_or("-".into(), |p| format!("{p:.5}")),
            ]
        })
        .collect();
    println!("Anthropic models in {}:", listing.region);
    print_table(&headers, &rows);
    if !listing.application_profiles.is_empty() {
        println!("\nApplication inference profiles:");
        let rows: Vec<[String; 3]> = listing
            .application_profiles
            .iter()
            .map(|p| [p.name.clone(), p.arn.clone(), p.models.join(",")])
            .collect();
        print_table(&["NAME", "ARN", "MODELS"], &rows);
    }
    Ok(0)
}

fn print_table<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) {
    let mut widths = headers.map(|h| h.chars().count());
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r.to_vec());
    }
}

pub fn iam_policy(cfg: &Config, with_list: bool, bearer: bool) -> anyhow::Result<i32> {
    let policy = runtime()?.block_on(claude_agent::iam::policy(
        cfg,
        claude_agent::iam::Options { with_list, bearer },
    ));
    for note in &policy.notes {
        eprintln!("claude: note: {note}");
    }
    println!("{}", serde_json::to_string_pretty(&policy.document)?);
    Ok(0)
}
