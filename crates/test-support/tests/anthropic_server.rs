//! The loopback Anthropic API over real HTTP: SSE quirks, JSON replies, errors, auth,
//! validation and recording.

mod common;

use std::time::Duration;

use claude_test_support::anthropic::{DEFAULT_TEXT, Reply};
use claude_test_support::{AnthropicOptions, AnthropicServer, Operation, Usage};
use common::{Resp, send, send_within, sse_events};
use serde_json::{Value, json};

const STREAM_BODY: &str = r#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const BODY: &str =
    r#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;

fn post(server: &AnthropicServer, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut all = vec![
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    all.extend_from_slice(headers);
    send(&server.url(), "POST", "/v1/messages", &all, body.as_bytes())
}

fn parsed(resp: &Resp) -> Vec<(String, Value)> {
    assert_eq!(resp.status, 200, "{}", resp.text());
    sse_events(&resp.text())
        .into_iter()
        .map(|(event, data)| {
            let value: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(
                value["type"],
                event.as_str(),
                "event name matches data type"
            );
            (event, value)
        })
        .collect()
}

fn text_of(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(_, e)| e["delta"]["type"] == "text_delta")
        .map(|(_, e)| e["delta"]["text"].as_str().unwrap())
        .collect()
}

#[test]
fn default_stream_has_the_real_apis_quirks() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    let resp = post(&server, &[], STREAM_BODY);
    assert_eq!(
        resp.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control"), Some("no-cache"));
    assert!(resp.header("request-id").unwrap().starts_with("req_011C"));
    let raw = resp.text();
    assert!(raw.contains("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
    let lines: Vec<&str> = raw
        .lines()
        .filter(|l| l.starts_with("data: {\"type\":\""))
        .collect();
    assert!(
        lines.iter().all(|l| l.ends_with(" }")),
        "every data line is padded"
    );
    let widths: std::collections::BTreeSet<usize> = lines
        .iter()
        .map(|l| l.len() - l.trim_end_matches('}').trim_end().len())
        .collect();
    assert!(widths.len() > 1, "padding varies");

    let events = parsed(&resp);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        &kinds[..3],
        ["message_start", "content_block_start", "ping"]
    );
    assert_eq!(kinds.last(), Some(&"message_stop"));
    let message = &events[0].1["message"];
    assert_eq!(message.as_object().unwrap().keys().next().unwrap(), "model");
    assert_eq!(message["model"], "claude-sonnet-4-5");
    assert!(message["id"].as_str().unwrap().starts_with("msg_01"));
    assert_eq!(message["usage"]["service_tier"], "standard");
    assert_eq!(text_of(&events), DEFAULT_TEXT);
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["usage"]["output_tokens"], 8);
    assert_eq!(delta["usage"]["input_tokens"], 12);

    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].operation, Operation::Messages);
    assert_eq!(recorded[0].model_id.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(recorded[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(recorded[0].json.as_ref().unwrap()["stream"], true);
}

#[test]
fn non_streaming_returns_the_message() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::ToolUse {
        text: None,
        tools: vec![("toolu_01x".into(), "Read".into(), json!({"path": "a.txt"}))],
        usage: Usage {
            cache_read: 50,
            ..Usage::new(3, 4)
        },
    });
    let resp = post(&server, &[], BODY);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.header("request-id").is_some());
    let message = resp.json();
    assert_eq!(message["type"], "message");
    assert_eq!(
        message["content"],
        json!([{"type":"tool_use","id":"toolu_01x","name":"Read","input":{"path":"a.txt"}}])
    );
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(message["usage"]["cache_read_input_tokens"], 50);
    assert_eq!(message["usage"]["output_tokens"], 4);
}

#[test]
fn errors_carry_type_request_id_and_retry_after() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    let cases = [
        (Reply::authentication_error(), 401, "authentication_error"),
        (Reply::permission_error(), 403, "permission_error"),
        (Reply::not_found("claude-nope"), 404, "not_found_error"),
        (
            Reply::invalid_request("messages: at least one message is required"),
            400,
            "invalid_request_error",
        ),
        (Reply::request_too_large(), 413, "request_too_large"),
        (Reply::rate_limited("3"), 429, "rate_limit_error"),
        (Reply::overloaded(), 529, "overloaded_error"),
        (Reply::api_error(), 500, "api_error"),
    ];
    for (reply, status, error_type) in cases {
        server.push(reply);
        let resp = post(&server, &[], STREAM_BODY);
        assert_eq!(resp.status, status, "{error_type}");
        let body = resp.json();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], error_type);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(body["request_id"].as_str(), resp.header("request-id"));
        assert_eq!(resp.header("retry-after").is_some(), status == 429);
    }
}

#[test]
fn mid_stream_error_arrives_as_an_error_event() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::mid_stream_overloaded());
    server.push(Reply::mid_stream_overloaded());
    let events = parsed(&post(&server, &[], STREAM_BODY));
    let (last_kind, last) = events.last().unwrap();
    assert_eq!(last_kind, "error");
    assert_eq!(
        last,
        &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})
    );
    assert!(!text_of(&events).is_empty());
    assert_eq!(post(&server, &[], BODY).status, 529);
}

#[test]
fn unknown_event_types_can_be_injected() {
    let server = AnthropicServer::start(AnthropicOptions {
        unknown_events: true,
        ..AnthropicOptions::default()
    });
    server.push(Reply::text("still fine"));
    let events = parsed(&post(&server, &[], STREAM_BODY));
    assert!(events.iter().any(|(k, _)| k == "loopback_unknown_event"));
    assert_eq!(text_of(&events), "still fine");
}

#[test]
fn raw_events_and_slow_and_hang() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    let raw = vec![
        json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}),
        json!({"type":"message_stop"}),
    ];
    server.push(Reply::Events(raw.clone()));
    let got: Vec<Value> = parsed(&post(&server, &[], STREAM_BODY))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, raw);

    server.push(Reply::Slow {
        per_event: Duration::from_millis(30),
        text: "a b c".into(),
    });
    let started = std::time::Instant::now();
    let events = parsed(&post(&server, &[], STREAM_BODY));
    assert!(started.elapsed() >= Duration::from_millis(30) * events.len() as u32);

    server.push(Reply::Hang);
    let headers = [("anthropic-version", "2023-06-01")];
    assert!(
        send_within(
            Duration::from_millis(300),
            &server.url(),
            "POST",
            "/v1/messages",
            &headers,
            STREAM_BODY.as_bytes()
        )
        .is_none()
    );
}

#[test]
fn api_key_mode_requires_the_key() {
    let server = AnthropicServer::start(AnthropicOptions {
        api_key: Some("sk-ant-test".into()),
        ..AnthropicOptions::default()
    });
    assert_eq!(
        post(&server, &[("x-api-key", "sk-ant-test")], BODY).status,
        200
    );
    assert_eq!(
        post(&server, &[("authorization", "Bearer sk-ant-test")], BODY).status,
        200
    );
    let wrong = post(&server, &[("x-api-key", "sk-ant-other")], BODY);
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["error"],
        json!({"type":"authentication_error","message":"invalid x-api-key"})
    );
    let missing = post(&server, &[], BODY);
    assert_eq!(missing.status, 401);
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn requests_are_validated_like_the_real_api() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::text("kept"));
    let no_version = send(&server.url(), "POST", "/v1/messages", &[], BODY.as_bytes());
    assert_eq!(no_version.status, 400);
    assert_eq!(
        no_version.json()["error"]["message"],
        "anthropic-version: header is required"
    );
    let no_max = post(&server, &[], r#"{"model":"m","messages":[]}"#);
    assert_eq!(
        no_max.json()["error"]["message"],
        "max_tokens: Field required"
    );
    let bedrock_body = post(
        &server,
        &[],
        r#"{"anthropic_version":"bedrock-2023-05-31","model":"m","max_tokens":1,"messages":[]}"#,
    );
    assert_eq!(
        bedrock_body.json()["error"]["type"],
        "invalid_request_error"
    );
    let other = send(&server.url(), "GET", "/v1/models", &[], b"");
    assert_eq!(other.status, 404);
    assert_eq!(other.json()["error"]["type"], "not_found_error");
    assert_eq!(
        post(&server, &[], BODY).json()["content"][0]["text"],
        "kept"
    );
}
