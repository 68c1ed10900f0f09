//! The accounting layer around a scripted provider: rows per attempt,
//! budget refusals before sending, alerts once, cancellation, caching.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use claude_agent::Runtime;
use claude_agent::accounting::{AccountingHandle, Notice};
use claude_config::{Config, LoadOptions};
use claude_protocol::{
    ContentBlock, Message, MessageStart, MessagesRequest, StreamEvent, SystemPrompt, Usage,
};
use claude_providers::provider::FailedAttempt;
use claude_providers::{
    CallOptions, Completion, EventSink, Provider, ProviderError, ProviderEvent, RetryNotice,
};
use claude_usage::{Audit, Ledger};
use futures_util::future::BoxFuture;

/// Answers with fixed usage; optionally one failed attempt first, or never.
struct Scripted {
    usage: Usage,
    retry_first: bool,
    hang: bool,
    seen: Arc<Mutex<Vec<MessagesRequest>>>,
}

impl Provider for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        _options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(request.clone());
            let start = |input| {
                ProviderEvent::Stream(StreamEvent::MessageStart {
                    message: MessageStart {
                        usage: Usage {
                            input_tokens: input,
                            ..Usage::default()
                        },
                        ..MessageStart::default()
                    },
                })
            };
            if self.retry_first {
                sink(start(7));
                sink(ProviderEvent::Retry(RetryNotice {
                    reason: "stream broke".into(),
                    wait: Duration::ZERO,
                    next_attempt: 2,
                    max_attempts: 3,
                    failed: FailedAttempt {
                        code: "ModelStreamErrorException".into(),
                        request_id: Some("req-failed".into()),
                    },
                }));
            }
            sink(start(self.usage.input_tokens));
            if self.hang {
                std::future::pending::<()>().await;
            }
            Ok(Completion {
                message: Message::assistant(vec![ContentBlock::text("ok")]),
                stop_reason: Some("end_turn".into()),
                usage: self.usage,
                request_id: Some("req-ok".into()),
                latency: Duration::from_millis(30),
                first_byte: Some(Duration::from_millis(10)),
                attempts: if self.retry_first { 2 } else { 1 },
                failed_attempts: Vec::new(),
            })
        })
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    config_dir: std::path::PathBuf,
    cfg: Config,
}

fn fixture(config_toml: &str) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let config_dir = tmp.path().join("config");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), config_toml).unwrap();
    let opts = LoadOptions {
        env: BTreeMap::from([
            (
                "CLAUDE_CONFIG_DIR".to_owned(),
                config_dir.display().to_string(),
            ),
            ("CLAUDE_PROVIDER".to_owned(), "bedrock".to_owned()),
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            // No principal lookup: this test has no STS.
            (
                "AWS_BEARER_TOKEN_BEDROCK".to_owned(),
                "test-token".to_owned(),
            ),
        ]),
        home: Some(tmp.path().join("home")),
        cwd: project,
        ..LoadOptions::default()
    };
    let cfg = Config::load(&opts).unwrap();
    Fixture {
        _tmp: tmp,
        config_dir,
        cfg,
    }
}

fn books(f: &Fixture, cap: Option<f64>) -> (Runtime, AccountingHandle) {
    let runtime = Runtime::from_config(&f.cfg).unwrap();
    let handle = AccountingHandle::open(&f.cfg, &runtime, cap).unwrap();
    handle.set_session("session-1");
    (runtime, handle)
}

fn scripted(usage: Usage) -> Scripted {
    Scripted {
        usage,
        retry_first: false,
        hang: false,
        seen: Arc::default(),
    }
}

const MODEL: &str = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0";

async fn ask(
    provider: &dyn Provider,
    request: &MessagesRequest,
) -> Result<Completion, ProviderError> {
    let options = CallOptions {
        model_id: MODEL.into(),
        stream: true,
        label: None,
        metadata: Default::default(),
    };
    let mut sink = |_: ProviderEvent| {};
    provider.call(request, &options, &mut sink).await
}

fn hello() -> MessagesRequest {
    MessagesRequest {
        max_tokens: 10,
        messages: vec![Message::user("hello")],
        ..Default::default()
    }
}

fn rows(dir: &Path) -> Vec<claude_usage::UsageRecord> {
    Ledger::open_in(dir).unwrap().all().unwrap()
}

#[tokio::test]
async fn every_attempt_is_filed_with_its_cost() {
    let f = fixture("");
    let (_rt, handle) = books(&f, None);
    let mut inner = scripted(Usage {
        input_tokens: 1000,
        output_tokens: 500,
        cache_read_input_tokens: 2000,
        cache_creation_input_tokens: 3000,
    });
    inner.retry_first = true;
    let provider = handle.wrap(Box::new(inner));
    ask(provider.as_ref(), &hello()).await.unwrap();
    let r = rows(&f.config_dir);
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].status.as_str(), r[0].attempt, r[0].input_tokens),
        ("ModelStreamErrorException", 1, 7)
    );
    assert_eq!(r[0].request_id.as_deref(), Some("req-failed"));
    // 7 input tokens at the eu. price of 3.3 $/M.
    assert_eq!(r[0].cost_nanos, Some(23_100));
    assert_eq!((r[1].status.as_str(), r[1].attempt), ("ok", 2));
    // eu. (geo, +10 %): 1000×3.3 + 500×16.5 + 2000×0.33 + 3000×4.125 = 24 585 per M.
    assert_eq!(r[1].cost_nanos, Some(24_585_000));
    assert_eq!(
        r[1].canonical_model.as_deref(),
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    assert_eq!(
        (r[1].session_id.as_str(), r[1].region.as_deref()),
        ("session-1", Some("eu-west-1"))
    );
    assert_eq!((r[1].latency_ms, r[1].first_byte_ms), (Some(30), Some(10)));
    assert_eq!(handle.run_cost_usd(), (24_585_000.0 + 23_100.0) / 1e9);
    let audit = Audit::new(&f.config_dir, 1 << 20).lines().unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        audit[1].contains("\"request_id\":\"req-ok\"") && !audit[1].contains("hello"),
        "{}",
        audit[1]
    );
}

#[tokio::test]
async fn block_refuses_before_sending_and_alerts_once() {
    // $0.06 budget; each request costs $0.024585.
    let f = fixture("[budget]\nmonthly_usd = 0.06\naction = \"block\"\n");
    let (_rt, handle) = books(&f, None);
    let inner = scripted(Usage {
        input_tokens: 1000,
        output_tokens: 500,
        cache_read_input_tokens: 2000,
        cache_creation_input_tokens: 3000,
    });
    let seen = inner.seen.clone();
    let provider = handle.wrap(Box::new(inner));
    let thresholds = |h: &AccountingHandle| -> Vec<f64> {
        h.take_notices()
            .iter()
            .map(|n| match n {
                Notice::ThresholdReached { threshold, .. } => *threshold,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    ask(provider.as_ref(), &hello()).await.unwrap();
    assert_eq!(thresholds(&handle), Vec::<f64>::new(), "41 %");
    ask(provider.as_ref(), &hello()).await.unwrap();
    assert_eq!(thresholds(&handle), [50.0, 80.0], "82 %");
    // $0.04917 < $0.06: the third request may start, and overshoots.
    ask(provider.as_ref(), &hello()).await.unwrap();
    assert_eq!(thresholds(&handle), [100.0], "123 %");
    let err = ask(provider.as_ref(), &hello()).await.unwrap_err();
    assert_eq!(err.exit_code(), 10);
    assert!(err.to_string().contains("budget.monthly_usd"), "{err}");
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "the refused request was not sent"
    );
    assert!(handle.take_notices().is_empty(), "no alert twice");
    // A second process sharing the ledger neither re-alerts nor sends.
    let (_rt2, other) = books(&f, None);
    let err = ask(
        other.wrap(Box::new(scripted(Usage::default()))).as_ref(),
        &hello(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "budget_exceeded");
    assert!(other.take_notices().is_empty());
    let refusals = Audit::new(&f.config_dir, 1 << 20).lines().unwrap();
    assert_eq!(
        refusals
            .iter()
            .filter(|l| l.contains("budget_refusal"))
            .count(),
        2
    );
}

#[tokio::test]
async fn run_cap_stops_the_next_request() {
    let f = fixture("");
    let (_rt, handle) = books(&f, Some(0.01));
    let provider = handle.wrap(Box::new(scripted(Usage {
        input_tokens: 1000,
        output_tokens: 1000,
        ..Usage::default()
    })));
    ask(provider.as_ref(), &hello()).await.unwrap();
    assert!(handle.run_cap_reached());
    let err = ask(provider.as_ref(), &hello()).await.unwrap_err();
    assert_eq!(
        (err.exit_code(), err.code().as_str()),
        (11, "max_budget_usd")
    );
}

#[tokio::test]
async fn a_cancelled_request_is_still_filed() {
    let f = fixture("");
    let (_rt, handle) = books(&f, None);
    let mut inner = scripted(Usage {
        input_tokens: 40,
        ..Usage::default()
    });
    inner.hang = true;
    let provider = handle.wrap(Box::new(inner));
    let r = tokio::time::timeout(Duration::from_millis(50), ask(provider.as_ref(), &hello())).await;
    assert!(r.is_err(), "the call hangs and is dropped");
    let r = rows(&f.config_dir);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].status.as_str(), r[0].input_tokens), ("cancelled", 40));
}

#[tokio::test]
async fn caching_breakpoints_go_out_unless_turned_off() {
    let big = || MessagesRequest {
        max_tokens: 10,
        system: Some(SystemPrompt::Text("policy ".repeat(2_000))),
        messages: vec![Message::user("hello")],
        ..Default::default()
    };
    for (config, cached) in [("", true), ("prompt_caching = false\n", false)] {
        let f = fixture(config);
        let (_rt, handle) = books(&f, None);
        let inner = scripted(Usage::default());
        let seen = inner.seen.clone();
        let provider = handle.wrap(Box::new(inner));
        ask(provider.as_ref(), &big()).await.unwrap();
        let sent = serde_json::to_value(&seen.lock().unwrap()[0]).unwrap();
        assert_eq!(
            sent["system"][0]["cache_control"].is_object(),
            cached,
            "{config}: {sent}"
        );
    }
}

#[tokio::test]
async fn content_is_audited_only_when_asked() {
    let f = fixture("[audit]\ninclude_content = true\n");
    let (_rt, handle) = books(&f, None);
    let provider = handle.wrap(Box::new(scripted(Usage::default())));
    ask(provider.as_ref(), &hello()).await.unwrap();
    handle.record_tool(
        "Bash",
        "deny",
        Some("not allowed"),
        Some(&serde_json::json!({"command": "ls"})),
        None,
    );
    let lines = Audit::new(&f.config_dir, 1 << 20).lines().unwrap();
    assert!(lines[0].contains("hello"), "{}", lines[0]);
    assert!(
        lines[1].contains("\"tool\":\"Bash\"")
            && lines[1].contains("\"decision\":\"deny\"")
            && lines[1].contains("ls")
    );
}

/// Keeps the options of every call.
struct OptionsSeen(Arc<Mutex<Vec<CallOptions>>>, Scripted);

impl Provider for OptionsSeen {
    fn name(&self) -> &'static str {
        "options-seen"
    }

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.0.lock().unwrap().push(options.clone());
        self.1.call(request, options, sink)
    }
}

#[tokio::test]
async fn every_call_carries_session_project_and_skill_as_request_metadata() {
    let f = fixture("");
    let (_rt, handle) = books(&f, None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let provider = handle.wrap(Box::new(OptionsSeen(
        seen.clone(),
        scripted(Usage::default()),
    )));
    let mut sink = |_: ProviderEvent| {};
    let plain = CallOptions {
        model_id: MODEL.into(),
        stream: true,
        label: None,
        metadata: BTreeMap::new(),
    };
    provider.call(&hello(), &plain, &mut sink).await.unwrap();
    let by_skill = CallOptions {
        label: Some(claude_providers::CallLabel {
            purpose: "skill".into(),
            skill: Some("review-pr".into()),
            agent_type: None,
        }),
        ..plain.clone()
    };
    provider.call(&hello(), &by_skill, &mut sink).await.unwrap();
    handle.set_purpose("skill", Some("q"));
    provider.call(&hello(), &plain, &mut sink).await.unwrap();

    let seen = seen.lock().unwrap();
    let project = f.cfg.project_root().display().to_string();
    for (options, skill) in seen.iter().zip([None, Some("review-pr"), Some("q")]) {
        let m = &options.metadata;
        assert_eq!(m.get("session_id").map(String::as_str), Some("session-1"));
        assert_eq!(m.get("project"), Some(&project));
        assert_eq!(m.get("skill").map(String::as_str), skill);
    }
}
