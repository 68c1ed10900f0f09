//! `claude cost` and its reports, rendered as aligned tables, JSON or CSV.
//! The numbers come from `claude_usage`; this file only lays them out.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use claude_config::Config;
use claude_usage::time::{Date, iso8601, now_ms};
use claude_usage::{Budget, Filter, GroupBy, Ledger, Report, Row, Totals, fmt_usd, nanos_to_usd};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct CostArgs {
    #[command(subcommand)]
    pub report: Option<CostReport>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CostReport {
    /// By UTC day.
    Daily(ReportArgs),
    /// By UTC month.
    Monthly(ReportArgs),
    /// By session, oldest activity first.
    Session(ReportArgs),
    /// By model ID as sent (Cost Explorer's "group by model ID"), most expensive first.
    Model(ReportArgs),
    /// By skill, most expensive first.
    Skill(ReportArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// First day included (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day included (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only this session.
    #[arg(long, value_name = "SESSION_ID")]
    pub session: Option<String>,
    /// Split each row by model ID (by region in the model report).
    #[arg(long)]
    pub breakdown: bool,
    /// JSON instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

pub fn run(cfg: &Config, args: CostArgs) -> anyhow::Result<i32> {
    let ledger = match Ledger::open_in(cfg.user_dir()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("claude: {e}");
            return Ok(1);
        }
    };
    let Some(which) = args.report else {
        return summary(cfg, &ledger, args.json);
    };
    let (group, opts) = match which {
        CostReport::Daily(o) => (GroupBy::Day, o),
        CostReport::Monthly(o) => (GroupBy::Month, o),
        CostReport::Session(o) => (GroupBy::Session, o),
        CostReport::Model(o) => (GroupBy::Model, o),
        CostReport::Skill(o) => (GroupBy::Skill, o),
    };
    let filter = match filter(&opts) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("claude: {e}");
            return Ok(2);
        }
    };
    let report = claude_usage::report(&ledger, group, &filter, opts.breakdown)?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&report_json(&report))?);
    } else if opts.csv {
        print!("{}", report_csv(&report, opts.breakdown));
    } else {
        print!("{}", report_table(&report));
    }
    Ok(0)
}

fn filter(opts: &ReportArgs) -> Result<Filter, claude_usage::UsageError> {
    let since = opts.since.as_deref().map(Date::parse).transpose()?;
    let until = opts.until.as_deref().map(Date::parse).transpose()?;
    Ok(Filter {
        since_ms: since.map(Date::start_ms),
        until_ms: until.map(Date::end_ms),
        session: opts.session.clone(),
    })
}

/// `$0.024585`: to the micro-dollar in tables; JSON and CSV carry nano-dollars.
fn usd(nanos: i64) -> String {
    let v = nanos_to_usd(nanos);
    if v < 0.0 {
        format!("-${:.6}", -v)
    } else {
        format!("${v:.6}")
    }
}

/// Thousands separators, e.g. `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Lays out rows under headers; `right[i]` right-aligns column `i`.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
            .chain(std::iter::once(headers[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..headers.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn money_cells(t: &Totals) -> Vec<String> {
    vec![
        count(t.requests),
        count(t.errors),
        count(t.input_tokens),
        count(t.output_tokens),
        count(t.cache_write_tokens),
        count(t.cache_read_tokens),
        usd(t.cost_nanos),
        usd(t.saved_nanos()),
    ]
}

const MONEY_HEADERS: [&str; 8] = [
    "Requests",
    "Errors",
    "Input",
    "Output",
    "Cache write",
    "Cache read",
    "Cost (USD)",
    "Saved by cache",
];

fn key_header(group: GroupBy) -> &'static str {
    match group {
        GroupBy::Day => "Date (UTC)",
        GroupBy::Month => "Month (UTC)",
        GroupBy::Session => "Session",
        GroupBy::Model => "Model ID",
        GroupBy::Skill => "Skill",
    }
}

fn extra_headers(group: GroupBy) -> Vec<&'static str> {
    match group {
        GroupBy::Session => vec!["Project", "Last activity (UTC)"],
        GroupBy::Model => vec!["Base model"],
        _ => vec![],
    }
}

fn extra_cells(group: GroupBy, r: &Row) -> Vec<String> {
    match group {
        GroupBy::Session => vec![
            r.project.clone().unwrap_or_default(),
            iso8601(r.last_ms)[..16].replace('T', " "),
        ],
        GroupBy::Model => vec![
            r.canonical_model
                .clone()
                .unwrap_or_else(|| "(unknown)".into()),
        ],
        _ => vec![],
    }
}

fn report_table(report: &Report) -> String {
    let group = report.group;
    let mut headers = vec![key_header(group)];
    headers.extend(extra_headers(group));
    let fixed = headers.len();
    headers.extend(MONEY_HEADERS);
    let right: Vec<bool> = (0..headers.len()).map(|i| i >= fixed).collect();
    let mut rows = Vec::new();
    for r in &report.rows {
        let mut cells = vec![r.key.clone()];
        cells.extend(extra_cells(group, r));
        cells.extend(money_cells(&r.totals));
        rows.push(cells);
        for (i, b) in r.breakdown.iter().enumerate() {
            let branch = if i + 1 == r.breakdown.len() {
                "└ "
            } else {
                "├ "
            };
            let mut cells = vec![format!("  {branch}{}", b.key)];
            cells.extend((1..fixed).map(|_| String::new()));
            cells.extend(money_cells(&b.totals));
            rows.push(cells);
        }
    }
    let mut total = vec!["Total".to_owned()];
    total.extend((1..fixed).map(|_| String::new()));
    total.extend(money_cells(&report.totals));
    rows.push(total);
    let mut out = String::new();
    if report.rows.is_empty() {
        out.push_str("No requests recorded for this period.\n");
        return out;
    }
    out.push_str(&table(&headers, &rows, &right));
    notes(&mut out, &report.totals);
    out
}

fn notes(out: &mut String, t: &Totals) {
    if t.unpriced > 0 {
        let _ = writeln!(
            out,
            "\n{} request(s) used a model ID with no known price and are not in the cost; add it with `claude config set pricing.overrides …` (see `claude pricing`).",
            count(t.unpriced)
        );
    }
    if t.errors > 0 {
        let _ = writeln!(
            out,
            "\nErrors are failed attempts (throttling, broken streams, cancellations); tokens the service reported before failing are billed and counted."
        );
    }
}

fn totals_json(t: &Totals) -> Value {
    json!({
        "requests": t.requests,
        "errors": t.errors,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
        "cache_write_tokens": t.cache_write_tokens,
        "cache_read_tokens": t.cache_read_tokens,
        "total_tokens": t.total_tokens(),
        "cost_usd": nanos_to_usd(t.cost_nanos),
        "cost_nanos": t.cost_nanos,
        "uncached_cost_usd": nanos_to_usd(t.uncached_cost_nanos),
        "saved_by_cache_usd": nanos_to_usd(t.saved_nanos()),
        "unpriced_requests": t.unpriced,
    })
}

fn row_json(group: GroupBy, r: &Row) -> Value {
    let mut v = json!({ "key": r.key });
    if let (Value::Object(m), Value::Object(t)) = (&mut v, totals_json(&r.totals)) {
        m.extend(t);
        m.insert("first".into(), json!(iso8601(r.first_ms)));
        m.insert("last".into(), json!(iso8601(r.last_ms)));
        if group == GroupBy::Session {
            m.insert("project".into(), json!(r.project));
        }
        if group == GroupBy::Model {
            m.insert("canonical_model".into(), json!(r.canonical_model));
        }
        if !r.breakdown.is_empty() {
            let by = if group == GroupBy::Model {
                "region"
            } else {
                "model_id"
            };
            m.insert("breakdown_by".into(), json!(by));
            m.insert(
                "breakdown".into(),
                Value::Array(
                    r.breakdown
                        .iter()
                        .map(|b| row_json(GroupBy::Day, b))
                        .collect(),
                ),
            );
        }
    }
    v
}

fn report_json(report: &Report) -> Value {
    json!({
        "report": report.group.name(),
        "since": report.filter.since_ms.map(iso8601),
        "until": report.filter.until_ms.map(iso8601),
        "session": report.filter.session,
        "rows": report.rows.iter().map(|r| row_json(report.group, r)).collect::<Vec<_>>(),
        "totals": totals_json(&report.totals),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn report_csv(report: &Report, breakdown: bool) -> String {
    let group = report.group;
    let key = match group {
        GroupBy::Day => "date",
        GroupBy::Month => "month",
        GroupBy::Session => "session_id",
        GroupBy::Model => "model_id",
        GroupBy::Skill => "skill",
    };
    let mut header = vec![key];
    if breakdown {
        header.push(if group == GroupBy::Model {
            "region"
        } else {
            "model_id"
        });
    }
    header.extend([
        "requests",
        "errors",
        "input_tokens",
        "output_tokens",
        "cache_write_tokens",
        "cache_read_tokens",
        "cost_usd",
        "saved_by_cache_usd",
        "unpriced_requests",
    ]);
    let mut out = header.join(",") + "\n";
    let nums = |t: &Totals| {
        format!(
            "{},{},{},{},{},{},{:.9},{:.9},{}",
            t.requests,
            t.errors,
            t.input_tokens,
            t.output_tokens,
            t.cache_write_tokens,
            t.cache_read_tokens,
            nanos_to_usd(t.cost_nanos),
            nanos_to_usd(t.saved_nanos()),
            t.unpriced
        )
    };
    for r in &report.rows {
        if breakdown {
            for b in &r.breakdown {
                let _ = writeln!(
                    out,
                    "{},{},{}",
                    csv_field(&r.key),
                    csv_field(&b.key),
                    nums(&b.totals)
                );
            }
        } else {
            let _ = writeln!(out, "{},{}", csv_field(&r.key), nums(&r.totals));
        }
    }
    out
}

fn summary(cfg: &Config, ledger: &Ledger, as_json: bool) -> anyhow::Result<i32> {
    let budget = Budget::from_config(cfg);
    let s = claude_usage::summary(ledger, &budget, now_ms())?;
    if as_json {
        let mut v = json!({
            "today": s.today,
            "month": s.month,
            "today_totals": totals_json(&s.today_totals),
            "month_totals": totals_json(&s.month_totals),
            "budget": s.budget,
        });
        if s.budget.is_some() {
            v["budget"]["alert_thresholds"] = json!(budget.thresholds);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let mut headers = vec!["Period (UTC)"];
    headers.extend(MONEY_HEADERS);
    let right: Vec<bool> = (0..headers.len()).map(|i| i > 0).collect();
    let mut rows = Vec::new();
    for (label, t) in [
        (format!("Today {}", s.today), &s.today_totals),
        (format!("This month {}", s.month), &s.month_totals),
    ] {
        let mut cells = vec![label];
        cells.extend(money_cells(t));
        rows.push(cells);
    }
    let mut out = table(&headers, &rows, &right);
    match s.budget {
        Some(b) => {
            let _ = writeln!(
                out,
                "\nBudget: {} of {} spent this month ({:.1}%), {} left; at 100% claude {}. Alerts at {}%.",
                fmt_usd(b.spent_usd),
                fmt_usd(b.limit_usd),
                b.percent,
                fmt_usd(b.remaining_usd),
                match b.action {
                    claude_usage::BudgetAction::Block =>
                        "refuses new requests (budget.action = block)",
                    claude_usage::BudgetAction::Warn =>
                        "warns and continues (budget.action = warn)",
                },
                budget
                    .thresholds
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nNo monthly budget is set: claude config set budget.monthly_usd 100"
            );
        }
    }
    notes(&mut out, &s.month_totals);
    let _ = writeln!(
        out,
        "\nCosts are computed locally from tokens and list prices (`claude pricing`); your AWS bill is authoritative. Reports: claude cost daily|monthly|session|model|skill."
    );
    print!("{out}");
    Ok(0)
}

/// `/cost` inside a session: the session's rows by model ID, in the order
/// the models were first used.
pub fn session_cost(report: &Report) -> String {
    if report.rows.is_empty() {
        return "No billed requests in this session yet.\n".into();
    }
    let mut by_use = report.clone();
    by_use.rows.sort_by_key(|r| r.first_ms);
    report_table(&by_use)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(cost: i64) -> Totals {
        Totals {
            requests: 1234,
            input_tokens: 1_000_000,
            cost_nanos: cost,
            uncached_cost_nanos: cost * 2,
            ..Totals::default()
        }
    }

    fn sample(breakdown: bool) -> Report {
        let sub = Row {
            key: "us.anthropic.claude-sonnet-4-5-20250929-v1:0".into(),
            totals: totals(24_585_000),
            first_ms: 0,
            last_ms: 0,
            project: None,
            canonical_model: None,
            breakdown: vec![],
        };
        Report {
            group: GroupBy::Day,
            filter: Filter::default(),
            rows: vec![Row {
                key: "2026-07-01".into(),
                breakdown: if breakdown { vec![sub.clone()] } else { vec![] },
                ..sub
            }],
            totals: totals(24_585_000),
        }
    }

    #[test]
    fn tables_align_numbers_right() {
        let t = report_table(&sample(true));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("Date (UTC)"), "{t}");
        let widths: Vec<usize> = lines[..4].iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{t}");
        let last: Vec<&str> = lines[2].split_whitespace().rev().take(2).collect();
        assert_eq!(last, ["$0.024585", "$0.024585"], "{t}");
        assert!(lines[4].starts_with("Total"), "{t}");
        assert!(lines[3].contains("└ us.anthropic"), "{t}");
        assert!(t.contains("1,000,000"));
    }

    #[test]
    fn csv_and_json_carry_exact_costs() {
        let csv = report_csv(&sample(true), true);
        assert_eq!(
            csv,
            "date,model_id,requests,errors,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,cost_usd,saved_by_cache_usd,unpriced_requests\n\
             2026-07-01,us.anthropic.claude-sonnet-4-5-20250929-v1:0,1234,0,1000000,0,0,0,0.024585000,0.024585000,0\n"
        );
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        let j = report_json(&sample(false));
        assert_eq!(j["rows"][0]["cost_nanos"], 24_585_000);
        assert_eq!(j["totals"]["cost_usd"], 0.024585);
    }
}
