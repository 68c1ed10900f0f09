//! The direct Anthropic API provider end to end, against the loopback SSE server.

use claude_test_support::anthropic::Reply;
use claude_test_support::{AnthropicOptions, AnthropicServer};

use crate::common::World;

const KEY: &str = "sk-ant-api03-test-secret-key";

fn server() -> AnthropicServer {
    AnthropicServer::start(AnthropicOptions {
        api_key: Some(KEY.into()),
        unknown_events: true,
        ..Default::default()
    })
}

fn world(s: &AnthropicServer) -> World {
    let mut w = World::new();
    w.set("ANTHROPIC_API_KEY", KEY)
        .set("ANTHROPIC_BASE_URL", s.url())
        .set("CLAUDE_PROVIDER", "anthropic");
    w.fast_retries();
    w
}

fn messages(s: &AnthropicServer) -> Vec<claude_test_support::RecordedRequest> {
    s.requests()
        .into_iter()
        .filter(|r| r.path == "/v1/messages")
        .collect()
}

#[test]
fn streams_a_reply_with_the_current_auth_and_version() {
    let s = server();
    s.push(Reply::text("Hello from the direct API."));
    let w = world(&s);
    let r = w.run(&["--model", "haiku", "-p", "hello", "--verbose"]);
    r.ok();
    assert_eq!(r.stdout(), "Hello from the direct API.\n");
    assert!(!r.stderr().contains(KEY) && !r.stdout().contains(KEY));
    assert!(
        r.stderr()
            .contains("Authorization: Bearer (ANTHROPIC_API_KEY)"),
        "{}",
        r.stderr()
    );
    let reqs = messages(&s);
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("anthropic-version"), Some("2026-10-21"));
    let body = req.json.clone().unwrap();
    assert_eq!(body["model"], "claude-haiku-4-5-20251001");
    assert_eq!(body["stream"], true);
}

#[test]
fn the_older_x_api_key_form_is_configurable() {
    let s = server();
    let w = world(&s);
    w.run(&["config", "set", "anthropic.auth_header", "x-api-key"])
        .ok();
    w.run(&["-p", "hi"]).ok();
    let req = &messages(&s)[0];
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert!(req.header("authorization").is_none());
}

#[test]
fn rate_limits_honour_retry_after_and_overloads_retry() {
    let s = server();
    s.push(Reply::rate_limited("1"));
    s.push(Reply::text("after the rate limit"));
    let w = world(&s);
    let started = std::time::Instant::now();
    let r = w.run(&["-p", "hi"]);
    r.ok();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "retry-after: 1 was not honoured"
    );
    assert!(r.stdout().contains("after the rate limit"));
    assert!(
        r.stderr().contains("rate_limit_error")
            && r.stderr().contains("Retrying in 1.0 s (attempt 2 of 10)"),
        "{}",
        r.stderr()
    );

    s.push(Reply::overloaded());
    s.push(Reply::overloaded());
    s.push(Reply::text("after two overloads"));
    let r = w.run(&["-p", "hi"]);
    r.ok();
    assert!(r.stdout().contains("after two overloads"));
    assert_eq!(
        r.stderr().matches("overloaded_error").count(),
        2,
        "{}",
        r.stderr()
    );
}

#[test]
fn a_bad_key_gets_the_guidance_and_the_request_id() {
    let s = server();
    let mut w = world(&s);
    w.set("ANTHROPIC_API_KEY", "sk-ant-wrong");
    let r = w.run(&["-p", "hi"]);
    r.fails_with(3);
    let e = r.stderr();
    assert!(
        e.contains("ANTHROPIC_API_KEY") && e.contains("Request ID: "),
        "{e}"
    );
    assert!(!e.contains("sk-ant-wrong"), "{e}");
}

#[test]
fn an_error_event_mid_stream_keeps_the_partial_reply() {
    let s = server();
    s.push(Reply::mid_stream_overloaded());
    let w = world(&s);
    let r = w.run(&["-p", "hi"]);
    r.fails_with(9);
    assert!(!r.stdout().is_empty());
    assert!(
        r.stderr().contains("incomplete") && r.stderr().contains("overloaded_error"),
        "{}",
        r.stderr()
    );
    assert_eq!(messages(&s).len(), 1);
}

#[test]
fn dry_run_shows_the_request_without_the_key() {
    let s = server();
    let w = world(&s);
    let r = w.run(&["-p", "hi", "--dry-run"]);
    r.ok();
    assert!(!r.stdout().contains(KEY));
    let v = r.json();
    assert_eq!(v["endpoint"], format!("{}/v1/messages", s.url()));
    assert_eq!(v["headers"]["authorization"], "[redacted]");
    assert_eq!(v["headers"]["anthropic-version"], "2026-10-21");
    assert_eq!(v["body"]["model"], "claude-sonnet-5");
    assert!(messages(&s).is_empty());
}
