//! Cost governance end to end: the ledger, reports, budgets, `claude budget`,
//! the audit log and `claude pricing`, through the real binary against the
//! loopback Bedrock (which also plays STS and AWS Budgets).

use claude_test_support::bedrock::{CallerIdentity, ControlPlane, Reply};
use claude_test_support::{Auth, BedrockOptions, BedrockServer, Operation, Usage};
use claude_usage::Ledger;
use serde_json::{Value, json};

use crate::common::World;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn server() -> BedrockServer {
    BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
            region: "us-east-1".into(),
        },
        ..Default::default()
    })
}

fn world(server: &BedrockServer) -> World {
    let mut w = World::new();
    w.set("AWS_ACCESS_KEY_ID", KEY_ID)
        .set("AWS_SECRET_ACCESS_KEY", SECRET)
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url())
        .set("CLAUDE_PROVIDER", "bedrock");
    w.fast_retries();
    w
}

/// Writes the user config file (replacing fast_retries' one, so keep it).
fn config(w: &World, extra: &str) {
    w.write_abs(
        &w.config_dir().join("config.toml"),
        &format!("{extra}\n[retry]\nbase_delay_ms = 5\nmax_delay_ms = 20\n"),
    );
}

/// input 1000, output 500, cache read 2000, cache write 3000.
fn cached_reply(text: &str) -> Reply {
    Reply::Text {
        text: text.into(),
        usage: Usage {
            input: 1000,
            output: 500,
            cache_read: 2000,
            cache_write: 3000,
        },
    }
}

fn invocations(server: &BedrockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| matches!(r.operation, Operation::Invoke | Operation::InvokeStream))
        .count()
}

#[test]
fn ledger_costs_equal_hand_computed_values() {
    let s = server();
    let w = world(&s);
    // (model as asked, model ID sent, nano-dollars by hand for the usage above)
    let cases = [
        // 1000×0.25 + 500×1.25 + 3000×0.3125 + 2000×0.025 = 1 862.5 µ$ … per M → $0.0018625
        ("haiku", "anthropic.claude-3-haiku-20240307-v1:0", 1_862_500),
        // 1000×3 + 500×15 + 3000×3.75 + 2000×0.3 = 22 350 per M
        (
            "sonnet",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            22_350_000,
        ),
        // 1000×15 + 500×75 + 3000×18.75 + 2000×1.5 = 111 750 per M
        ("opus", "anthropic.claude-3-opus-20240229-v1:0", 111_750_000),
        // Geo profile, +10 %: 1000×3.3 + 500×16.5 + 3000×4.125 + 2000×0.33 = 24 585 per M
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            24_585_000,
        ),
    ];
    for (model, _, nanos) in cases {
        s.push(cached_reply("priced"));
        let r = w.run(&["--model", model, "-p", "hi", "--output-format", "json"]);
        r.ok();
        let j = r.json();
        assert_eq!(
            j["total_cost_usd"].as_f64().unwrap(),
            nanos as f64 / 1e9,
            "{model}"
        );
    }
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert_eq!(rows.len(), 4);
    for (row, (_, id, nanos)) in rows.iter().zip(cases) {
        assert_eq!(row.model_id, id);
        assert_eq!(row.cost_nanos, Some(nanos), "{id}");
        assert_eq!(
            (
                row.input_tokens,
                row.output_tokens,
                row.cache_read_tokens,
                row.cache_write_tokens
            ),
            (1000, 500, 2000, 3000)
        );
        assert_eq!(
            (row.provider.as_str(), row.region.as_deref()),
            ("bedrock", Some("us-east-1"))
        );
        assert_eq!(row.status, "ok");
        assert!(row.request_id.is_some() && row.latency_ms.is_some());
        assert!(row.project.ends_with("project"), "{}", row.project);
    }
    assert_eq!(rows[0].alias.as_deref(), Some("haiku"));
    assert_eq!(
        rows[3].canonical_model.as_deref(),
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
    );

    // The same figures as JSON, CSV and a table: Cost Explorer's "group by model ID".
    let j = w.run(&["cost", "model", "--json"]);
    j.ok();
    let j = j.json();
    assert_eq!(j["report"], "model");
    let by_id = |id: &str| {
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == id)
            .unwrap()
            .clone()
    };
    for (_, id, nanos) in cases {
        assert_eq!(by_id(id)["cost_nanos"], nanos, "{id}");
    }
    assert_eq!(
        j["rows"][0]["key"], "anthropic.claude-3-opus-20240229-v1:0",
        "most expensive first"
    );
    assert_eq!(
        j["totals"]["cost_nanos"],
        1_862_500 + 22_350_000 + 111_750_000 + 24_585_000
    );
    // Savings against no caching for the geo profile: 6000×3.3 + 500×16.5 − 24 585 = 3 465 per M.
    let saved = by_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0")["saved_by_cache_usd"]
        .as_f64()
        .unwrap();
    assert!((saved - 0.003465).abs() < 1e-12, "{saved}");

    let csv = w.run(&["cost", "model", "--csv"]);
    csv.ok();
    let csv = csv.stdout();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model_id,requests,errors,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,cost_usd,saved_by_cache_usd,unpriced_requests"
    );
    assert!(
        csv.contains("us.anthropic.claude-sonnet-4-5-20250929-v1:0,1,0,1000,500,3000,2000,0.024585000,0.003465000,0\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);

    let table = w.run(&["cost", "daily", "--breakdown"]);
    table.ok();
    let t = table.stdout();
    assert!(t.starts_with("Date (UTC)"), "{t}");
    assert!(t.contains("$0.160548"), "day total 0.1605475 rounded: {t}");
    assert!(
        t.contains("└ us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "{t}"
    );
    let widths: Vec<usize> = t
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.chars().count())
        .collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "aligned:\n{t}");

    let summary = w.run(&["cost"]);
    summary.ok();
    assert!(
        summary.stdout().contains("This month"),
        "{}",
        summary.stdout()
    );
    assert!(summary.stdout().contains("No monthly budget is set"));
}

#[test]
fn two_processes_of_fifty_requests_leave_exactly_a_hundred_rows() {
    let s = server();
    let w = world(&s);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..50 {
                    w.run(&["--model", "haiku", "-p", "hi"]).ok();
                }
            });
        }
    });
    assert_eq!(invocations(&s), 100);
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert_eq!(rows.len(), 100);
    let sessions: std::collections::BTreeSet<_> =
        rows.iter().map(|r| r.session_id.clone()).collect();
    assert_eq!(sessions.len(), 100, "one session per run");
    let j = w.run(&["cost", "daily", "--json"]).json();
    assert_eq!(j["totals"]["requests"], 100);
    // 12 input and 8 output tokens of Claude 3 Haiku each: 13 µ$.
    assert_eq!(j["totals"]["cost_nanos"], 100 * 13_000);
}

/// $0.30 of Claude 3.5 Sonnet input per request.
fn thirty_cents() -> Reply {
    Reply::Text {
        text: "thirty cents".into(),
        usage: Usage::new(100_000, 0),
    }
}

#[test]
fn block_refuses_the_request_after_the_limit() {
    let s = server();
    let w = world(&s);
    config(&w, "[budget]\nmonthly_usd = 0.5\naction = \"block\"");
    s.push(thirty_cents());
    s.push(thirty_cents());
    s.push(thirty_cents());
    w.run(&["--model", "sonnet", "-p", "one"]).ok();
    // $0.30 < $0.50: the second may start, and overshoots to $0.60.
    w.run(&["--model", "sonnet", "-p", "two"]).ok();
    let r = w.run(&[
        "--model",
        "sonnet",
        "-p",
        "three",
        "--output-format",
        "json",
    ]);
    r.fails_with(10);
    let e = r.stderr();
    for needle in [
        "monthly budget is spent",
        "$0.60 of $0.50",
        "claude config set budget.monthly_usd",
        "Nothing was sent",
    ] {
        assert!(e.contains(needle), "missing {needle}:\n{e}");
    }
    assert_eq!(r.json()["error"]["code"], "budget_exceeded");
    assert_eq!(invocations(&s), 2, "the refused request never left");
    // Raising the limit lets work continue.
    w.run(&["config", "set", "budget.monthly_usd", "5"]).ok();
    w.run(&["--model", "sonnet", "-p", "four"]).ok();
    assert_eq!(invocations(&s), 3);
}

#[test]
fn each_threshold_warns_exactly_once() {
    let s = server();
    let w = world(&s);
    config(
        &w,
        "[budget]\nmonthly_usd = 1\nalert_thresholds = [50, 80, 100]",
    );
    let mut warnings = Vec::new();
    for i in 0..6 {
        s.push(thirty_cents());
        let r = w.run(&["--model", "sonnet", "-p", "hi"]);
        r.ok();
        let found: Vec<String> = r
            .stderr()
            .lines()
            .filter(|l| l.contains("budget alert"))
            .map(str::to_owned)
            .collect();
        warnings.push((i, found));
    }
    let flat: Vec<(usize, &str)> = warnings
        .iter()
        .flat_map(|(i, f)| f.iter().map(move |l| (*i, l.as_str())))
        .collect();
    assert_eq!(flat.len(), 3, "{warnings:?}");
    // $0.60 after the 2nd run, $0.90 after the 3rd, $1.20 after the 4th.
    assert!(
        flat[0].0 == 1 && flat[0].1.contains("50% of the $1.00 monthly budget"),
        "{flat:?}"
    );
    assert!(flat[1].0 == 2 && flat[1].1.contains("80%"), "{flat:?}");
    assert!(
        flat[2].0 == 3 && flat[2].1.contains("100%") && flat[2].1.contains("budget.action = warn"),
        "{flat:?}"
    );
    assert_eq!(invocations(&s), 6, "warn never blocks");
    let j = w.run(&["cost", "--json"]).json();
    assert_eq!(j["budget"]["limit_usd"], 1.0);
    assert!((j["budget"]["spent_usd"].as_f64().unwrap() - 1.8).abs() < 1e-9);
}

#[test]
fn max_budget_usd_ends_the_run_with_its_subtype() {
    let s = server();
    let w = world(&s);
    s.push(thirty_cents());
    let r = w.run(&[
        "--model",
        "sonnet",
        "-p",
        "hi",
        "--max-budget-usd",
        "0.10",
        "--output-format",
        "json",
    ]);
    r.fails_with(11);
    let j = r.json();
    assert_eq!(j["subtype"], "error_max_budget_usd");
    assert_eq!(j["is_error"], true);
    assert_eq!(
        j["result"], "thirty cents",
        "the reply that crossed the cap is kept"
    );
    assert!((j["total_cost_usd"].as_f64().unwrap() - 0.3).abs() < 1e-12);
    s.push(thirty_cents());
    w.run(&["--model", "sonnet", "-p", "hi", "--max-budget-usd", "1"])
        .ok();
    let bad = w.run(&["--model", "sonnet", "-p", "hi", "--max-budget-usd", "-3"]);
    bad.fails_with(2);
}

/// The Bedrock guide's "Example budget JSON".
const GUIDE_BUDGET: &str = r#"{
  "BudgetName": "Bedrock-Monthly",
  "BudgetLimit": {
    "Amount": "100",
    "Unit": "USD"
  },
  "BudgetType": "COST",
  "TimeUnit": "MONTHLY"
}"#;

#[test]
#[allow(clippy::print_stdout)]
fn budget_export_equals_the_guides_example() {
    let s = server();
    let w = world(&s);
    let none = w.run(&["budget", "export"]);
    none.fails_with(2);
    assert!(
        none.stderr()
            .contains("claude config set budget.monthly_usd"),
        "{}",
        none.stderr()
    );
    w.run(&["config", "set", "budget.monthly_usd", "100"]).ok();
    let r = w.run(&["budget", "export"]);
    r.ok();
    assert_eq!(r.stdout(), format!("{GUIDE_BUDGET}\n"));
    // And against the guide itself, when the spec is beside the checkout.
    match claude_test_support::fixtures::shared_file("spec/bedrock-guide.md") {
        Some(path) => {
            let guide = std::fs::read_to_string(path).unwrap();
            let start = guide.find("Example budget JSON:").unwrap();
            let block = &guide[start..];
            let json_start = block.find("```json\n").unwrap() + 8;
            let json_end = block[json_start..].find("```").unwrap() + json_start;
            let spec: Value = serde_json::from_str(&block[json_start..json_end]).unwrap();
            assert_eq!(r.json(), spec);
        }
        None => println!("skipped the comparison with shared/spec/bedrock-guide.md: not found"),
    }
    w.run(&["config", "set", "budget.monthly_usd", "250.5"])
        .ok();
    let file = w.root.path().join("budget.json");
    w.run(&[
        "budget",
        "export",
        "--name",
        "Team-A",
        "-o",
        file.to_str().unwrap(),
    ])
    .ok();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        written["BudgetLimit"],
        json!({"Amount": "250.5", "Unit": "USD"})
    );
    assert_eq!(written["BudgetName"], "Team-A");
}

#[test]
fn budget_create_calls_aws_budgets() {
    let s = server();
    let w = world(&s);
    w.run(&["config", "set", "budget.monthly_usd", "100"]).ok();
    let r = w.run(&["budget", "create", "--account-id", "123456789012"]);
    r.ok();
    assert!(
        r.stdout()
            .contains("Created AWS budget `Bedrock-Monthly` in account 123456789012"),
        "{}",
        r.stdout()
    );
    let calls: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.operation == Operation::CreateBudget)
        .collect();
    assert_eq!(calls.len(), 1);
    let body = calls[0].json.clone().unwrap();
    assert_eq!(body["AccountId"], "123456789012");
    assert_eq!(
        body["Budget"],
        serde_json::from_str::<Value>(GUIDE_BUDGET).unwrap()
    );
    assert!(body.get("NotificationsWithSubscribers").is_none());
    let auth = calls[0].header("authorization").unwrap();
    assert!(auth.contains("/us-east-1/budgets/aws4_request"), "{auth}");

    let again = w.run(&["budget", "create", "--account-id", "123456789012"]);
    again.fails_with(1);
    assert!(
        again.stderr().contains("already exists") && again.stderr().contains("--name"),
        "{}",
        again.stderr()
    );

    let alerts = w.run(&[
        "budget",
        "create",
        "--account-id",
        "123456789012",
        "--name",
        "With-Alerts",
        "--notify-email",
        "finops@example.com",
    ]);
    alerts.ok();
    let last = s
        .requests()
        .into_iter()
        .rfind(|r| r.operation == Operation::CreateBudget)
        .unwrap();
    let n = &last.json.unwrap()["NotificationsWithSubscribers"];
    let thresholds: Vec<f64> = n
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["Notification"]["Threshold"].as_f64().unwrap())
        .collect();
    assert_eq!(thresholds, [50.0, 80.0, 100.0]);
    assert_eq!(n[0]["Subscribers"][0]["Address"], "finops@example.com");

    w.run(&["budget", "create", "--account-id", "12345"])
        .fails_with(2);
}

#[test]
fn audit_log_holds_metadata_not_secrets_or_prompts() {
    let s = server();
    s.set_control_plane(ControlPlane {
        caller: CallerIdentity {
            arn: "arn:aws:sts::123456789012:assumed-role/Architect/jane".into(),
            ..CallerIdentity::default()
        },
        ..ControlPlane::default()
    });
    let w = world(&s);
    let prompt = "Summarise ADR-0042 for the PRIVATE-PROMPT-MARKER board";
    s.push(cached_reply("A reply that also stays out of the log"));
    w.run(&["--model", "haiku", "-p", prompt]).ok();
    let path = w.config_dir().join("audit.jsonl");
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(!log.contains(SECRET), "the secret key leaked:\n{log}");
    assert!(
        !log.contains("PRIVATE-PROMPT-MARKER"),
        "the prompt leaked:\n{log}"
    );
    assert!(
        !log.contains("stays out of the log"),
        "the reply leaked:\n{log}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let ledger = std::fs::metadata(w.config_dir().join("usage.db")).unwrap();
        assert_eq!(ledger.permissions().mode() & 0o777, 0o600);
    }
    let line: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(line["event"], "model_invocation");
    assert_eq!(
        line["principal_arn"],
        "arn:aws:sts::123456789012:assumed-role/Architect/jane"
    );
    assert_eq!(line["region"], "us-east-1");
    assert_eq!(line["model_id"], "anthropic.claude-3-haiku-20240307-v1:0");
    assert_eq!(
        (
            line["input_tokens"].as_u64(),
            line["cache_read_tokens"].as_u64()
        ),
        (Some(1000), Some(2000))
    );
    assert_eq!(line["cost_usd"], 0.0018625);
    let request_id = line["request_id"].as_str().unwrap().to_owned();
    assert_eq!(request_id.len(), 36, "a Bedrock request id: {request_id}");

    let tail = w.run(&["audit", "tail", "-n", "1"]);
    tail.ok();
    assert_eq!(tail.stdout().trim(), log.lines().last().unwrap());
    let found = w.run(&["audit", "search", "--request-id", &request_id]);
    found.ok();
    assert_eq!(found.stdout().lines().count(), 1);
    w.run(&[
        "audit",
        "search",
        "--principal",
        "Architect/jane",
        "--event",
        "model-invocation",
    ])
    .ok();
    w.run(&["audit", "search", "--text", "no-such-thing"])
        .fails_with(1);
    w.run(&["audit", "search", "--since", "last week"])
        .fails_with(2);

    // Content only when asked for.
    w.run(&["config", "set", "audit.include_content", "true"])
        .ok();
    s.push(cached_reply("kept on request"));
    w.run(&["--model", "haiku", "-p", prompt]).ok();
    let log = std::fs::read_to_string(&path).unwrap();
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("PRIVATE-PROMPT-MARKER") && last.contains("kept on request"),
        "{last}"
    );
    assert!(!log.contains(SECRET));
}

#[test]
fn pricing_shows_the_table_in_use_per_1k_and_per_1m() {
    let s = server();
    let w = world(&s);
    let r = w.run(&["pricing", "--model", "claude-3-haiku"]);
    r.ok();
    let t = r.stdout();
    let row = t
        .lines()
        .find(|l| l.starts_with("anthropic.claude-3-haiku-20240307-v1:0 "))
        .unwrap();
    for cell in [
        "0.25", "1.25", "0.3125", "0.025", "0.00025", "0.00125", "built-in",
    ] {
        assert!(row.split_whitespace().any(|c| c == cell), "{cell} in {row}");
    }
    w.run(&[
        "config", "set", "pricing.overrides",
        r#"{"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a": {"input": 2.5, "output": 12}}"#,
    ])
    .ok();
    let j = w.run(&["pricing", "--json", "--model", "team-a"]).json();
    let m = &j["models"][0];
    assert_eq!(m["source"], "override");
    assert_eq!(m["usd_per_thousand_tokens"]["input"], 0.0025);
    assert_eq!(m["usd_per_million_tokens"]["cache_read"], 0.25);
    // An application inference profile is priced from the override.
    s.push(Reply::Text {
        text: "x".into(),
        usage: Usage::new(1_000_000, 0),
    });
    let r = w.run(&[
        "--model",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a",
        "-p",
        "hi",
        "--output-format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json()["total_cost_usd"], 2.5);
}

#[test]
fn unpriced_models_are_recorded_and_reported() {
    let s = server();
    let w = world(&s);
    s.push(Reply::Text {
        text: "x".into(),
        usage: Usage::new(100, 10),
    });
    let r = w.run(&[
        "--model",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/unknown",
        "-p",
        "hi",
    ]);
    r.ok();
    assert!(
        r.stderr().contains("no price is known") && r.stderr().contains("pricing.overrides"),
        "{}",
        r.stderr()
    );
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert_eq!((rows[0].cost_nanos, rows[0].input_tokens), (None, 100));
    let t = w.run(&["cost", "model"]).stdout();
    assert!(
        t.contains("have no known price") || t.contains("no known price"),
        "{t}"
    );
}

#[test]
fn throttled_attempts_are_filed_too() {
    let s = server();
    let w = world(&s);
    s.push(Reply::throttling());
    s.push(cached_reply("after a retry"));
    w.run(&["--model", "haiku", "-p", "hi"]).ok();
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    let status: Vec<_> = rows
        .iter()
        .map(|r| (r.status.as_str(), r.attempt, r.cost_nanos))
        .collect();
    assert_eq!(
        status,
        [("throttled", 1, Some(0)), ("ok", 2, Some(1_862_500))]
    );
    assert!(
        rows[0].request_id.is_some(),
        "the throttled attempt's request id, for CloudTrail"
    );
    let j = w.run(&["cost", "session", "--json"]).json();
    assert_eq!(
        (
            j["totals"]["requests"].as_u64(),
            j["totals"]["errors"].as_u64()
        ),
        (Some(2), Some(1))
    );
}

#[test]
fn wipe_summaries_are_filed_under_their_purpose() {
    use std::process::Command;
    let s = server();
    let w = world(&s);
    s.push(cached_reply("The capital is Paris."));
    s.push(cached_reply("SUMMARY: the capital of France is Paris."));
    s.push(cached_reply("Fresh answer."));
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("claude"));
    cmd.env_clear()
        .current_dir(&w.cwd)
        .args(["--model", "haiku"]);
    for (k, v) in &w.env {
        cmd.env(k, v);
    }
    cmd.env("NO_COLOR", "1").env("TERM", "dumb");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    for (line, answer) in [
        ("capital of France?", "Paris."),
        ("/wipe", "Context cleared"),
        ("what next?", "Fresh answer."),
        ("/cost", "Total"),
    ] {
        p.exp_string("> ").unwrap();
        p.send_line(line).unwrap();
        p.exp_string(answer).unwrap();
    }
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    let purposes: Vec<_> = rows.iter().map(|r| r.purpose.as_str()).collect();
    assert_eq!(purposes, ["main", "wipe", "main"]);
    assert_eq!(
        rows[0].session_id, rows[1].session_id,
        "the summary belongs to the wiped session"
    );
    assert_ne!(
        rows[1].session_id, rows[2].session_id,
        "the fresh session has its own id"
    );
}

#[test]
fn tool_executions_are_audited_with_their_decision() {
    let s = server();
    let w = world(&s);
    w.write("notes/adr.md", "# ADR\nFILE-CONTENT-MARKER\n");
    s.push(Reply::ToolUse {
        text: None,
        tools: vec![
            (
                "t1".into(),
                "Read".into(),
                json!({"file_path": "notes/adr.md"}),
            ),
            (
                "t2".into(),
                "Bash".into(),
                json!({"command": "echo BASH-MARKER"}),
            ),
        ],
        usage: Usage::new(10, 5),
    });
    s.push(Reply::text("done"));
    w.run(&["--model", "haiku", "-p", "read the ADR"]).ok();
    let log = std::fs::read_to_string(w.config_dir().join("audit.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tools: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["event"] == "tool_execution")
        .map(|l| (l["tool"].as_str().unwrap(), l["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(tools, [("Bash", "deny"), ("Read", "allow")], "{log}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["event"] == "model_invocation")
            .count(),
        2
    );
    assert!(
        !log.contains("FILE-CONTENT-MARKER") && !log.contains("BASH-MARKER"),
        "content leaked:\n{log}"
    );
    let found = w.run(&[
        "audit",
        "search",
        "--event",
        "tool-execution",
        "--tool",
        "Read",
    ]);
    found.ok();
    assert_eq!(found.stdout().lines().count(), 1);
}
