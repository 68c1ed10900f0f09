//! The Anthropic provider against loopback servers: the scripted
//! `claude_test_support` server for behaviour, and a raw byte-exact replay of
//! the real recording in `shared/` for the wire quirks.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use claude_protocol::{Message, MessagesRequest, StreamEvent};
use claude_providers::anthropic::{AnthropicProvider, AnthropicSettings};
use claude_providers::error::{CredentialsKind, UnavailableKind};
use claude_providers::retry::RetryPolicy;
use claude_providers::{CallOptions, Completion, Provider, ProviderError, ProviderEvent};
use claude_test_support::anthropic::{AnthropicOptions, AnthropicServer, Reply};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-test-KEYVALUE";

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
    }
}

fn provider(
    base_url: String,
    env: &[(&str, &str)],
    auth_header: Option<&str>,
) -> AnthropicProvider {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let settings = AnthropicSettings::from_env(&env, Some(base_url), auth_header, None);
    AnthropicProvider::new(settings, fast_retries(4))
}

fn request() -> MessagesRequest {
    MessagesRequest {
        max_tokens: 64,
        messages: vec![Message::user("Say hello")],
        ..Default::default()
    }
}

fn options(model: &str, stream: bool) -> CallOptions {
    CallOptions {
        model_id: model.into(),
        stream,
        label: None,
        metadata: Default::default(),
    }
}

async fn call(
    p: &AnthropicProvider,
    req: &MessagesRequest,
    opts: &CallOptions,
) -> (Result<Completion, ProviderError>, Vec<ProviderEvent>) {
    let mut events = Vec::new();
    let mut sink = |e: ProviderEvent| events.push(e);
    let out = p.call(req, opts, &mut sink).await;
    (out, events)
}

fn retries(events: &[ProviderEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ProviderEvent::Retry(n) => Some(n.reason.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn streamed_reply_sends_the_right_request_and_assembles() {
    let server = AnthropicServer::start(AnthropicOptions {
        api_key: Some(KEY.into()),
        unknown_events: true,
        ..Default::default()
    });
    server.push(Reply::text("Hello there, world"));
    let p = provider(
        server.url(),
        &[
            ("ANTHROPIC_API_KEY", KEY),
            ("ANTHROPIC_CUSTOM_HEADERS", "X-Team: core\nX-Trace: 1"),
        ],
        None,
    );
    let mut req = request();
    req.betas = vec!["beta-one".into(), "beta-two".into()];
    let (out, events) = call(&p, &req, &options("claude-sonnet-4-5", true)).await;
    let done = out.unwrap();

    assert_eq!(done.message.content.text(), "Hello there, world");
    assert_eq!(done.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!((done.usage.input_tokens, done.usage.output_tokens), (12, 8));
    assert!(
        done.request_id
            .as_deref()
            .is_some_and(|r| r.starts_with("req_"))
    );
    assert!(done.first_byte.is_some());
    assert_eq!(done.attempts, 1);
    // Every stream event reached the sink; the unknown one did not.
    assert!(matches!(
        events.first(),
        Some(ProviderEvent::Stream(StreamEvent::MessageStart { .. }))
    ));
    assert!(matches!(
        events.last(),
        Some(ProviderEvent::Stream(StreamEvent::MessageStop { .. }))
    ));
    assert!(!events.iter().any(|e| matches!(
        e,
        ProviderEvent::Stream(StreamEvent::Unknown(_)) | ProviderEvent::Retry(_)
    )));

    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(sent.header("anthropic-beta"), Some("beta-one,beta-two"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("x-team"), Some("core"));
    assert_eq!(sent.header("x-trace"), Some("1"));
    let body = sent.json.as_ref().unwrap();
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 64);
    assert!(body.get("betas").is_none() && body.get("anthropic_beta").is_none());
}

#[tokio::test]
async fn x_api_key_mode_and_non_streaming_replay_events() {
    let server = AnthropicServer::start(AnthropicOptions {
        api_key: Some(KEY.into()),
        ..Default::default()
    });
    server.push(Reply::text("Unary answer"));
    let p = provider(
        server.url(),
        &[("ANTHROPIC_API_KEY", KEY)],
        Some("x-api-key"),
    );
    let (out, events) = call(&p, &request(), &options("claude-haiku-4-5", false)).await;
    let done = out.unwrap();
    assert_eq!(done.message.content.text(), "Unary answer");
    assert_eq!(done.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(done.usage.output_tokens, 8);
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            ProviderEvent::Stream(StreamEvent::ContentBlockDelta {
                delta: claude_protocol::BlockDelta::TextDelta { text },
                ..
            }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, "Unary answer");
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.json.as_ref().unwrap().get("stream").is_none());
}

#[tokio::test]
async fn rate_limited_with_retry_after_then_success() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::rate_limited("1"));
    server.push(Reply::text("after the wait"));
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let started = std::time::Instant::now();
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let done = out.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(done.message.content.text(), "after the wait");
    assert_eq!(done.attempts, 2);
    assert_eq!(done.failed_attempts.len(), 1);
    assert_eq!(done.failed_attempts[0].code, "throttled");
    assert!(done.failed_attempts[0].request_id.is_some());
    let notice = events
        .iter()
        .find_map(|e| match e {
            ProviderEvent::Retry(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        notice.reason,
        "The Anthropic API is rate limiting (rate_limit_error)"
    );
    assert_eq!(notice.wait, Duration::from_secs(1));
    assert_eq!((notice.next_attempt, notice.max_attempts), (2, 4));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn overloaded_twice_then_success() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::overloaded());
    server.push(Reply::overloaded());
    server.push(Reply::text("third time"));
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let done = out.unwrap();
    assert_eq!(done.message.content.text(), "third time");
    assert_eq!(done.attempts, 3);
    assert_eq!(
        retries(&events),
        vec!["The Anthropic API is overloaded (overloaded_error)"; 2]
    );
}

#[tokio::test]
async fn overloaded_every_time_ends_as_a_service_error() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    for _ in 0..4 {
        server.push(Reply::overloaded());
    }
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Service { code, attempts: 4, .. } if code == "overloaded_error"),
        "{err:?}"
    );
    assert_eq!(retries(&events).len(), 3);
    assert!(
        err.to_string()
            .contains("The Anthropic API failed after 4 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn unauthorized_explains_the_fix_and_never_shows_the_key() {
    let server = AnthropicServer::start(AnthropicOptions {
        api_key: Some("sk-ant-the-right-one".into()),
        ..Default::default()
    });
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Credentials {
                kind: CredentialsKind::ApiKey,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("export ANTHROPIC_API_KEY"), "{text}");
    assert!(text.contains("anthropic.auth_header x-api-key"), "{text}");
    assert!(text.contains("Request ID: req_"), "{text}");
    for shown in [
        text,
        format!("{err:?}"),
        format!("{:?}", p.settings()),
        p.settings().describe(),
    ] {
        assert!(!shown.contains("KEYVALUE"), "{shown}");
    }
    assert!(retries(&events).is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unknown_model_gets_a_did_you_mean() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::not_found("claude-sonet-4-5"));
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, _) = call(&p, &request(), &options("claude-sonet-4-5", true)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::ModelNotAvailable {
                kind: UnavailableKind::NotFound,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Did you mean `claude-sonnet-4-5`?"),
        "{err}"
    );
}

#[tokio::test]
async fn error_event_after_content_keeps_the_partial_reply() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::mid_stream_overloaded());
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let err = out.unwrap_err();
    let ProviderError::Interrupted {
        code,
        partial,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(code, "overloaded_error");
    assert_eq!(partial.content.text(), "Partial answer");
    assert!(request_id.is_some());
    assert!(retries(&events).is_empty());
    assert_eq!(server.requests().len(), 1);
    assert_eq!(err.exit_code(), 9);
}

#[tokio::test]
async fn error_event_before_content_is_retried() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::Events(vec![
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ]));
    server.push(Reply::text("recovered"));
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let done = out.unwrap();
    assert_eq!(done.message.content.text(), "recovered");
    assert_eq!(done.attempts, 2);
    assert_eq!(
        retries(&events),
        vec!["The Anthropic API is overloaded (overloaded_error)"]
    );
}

#[tokio::test]
async fn a_stream_that_stops_early_is_retried() {
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(Reply::Events(vec![json!({"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3, "output_tokens": 1}}})]));
    server.push(Reply::text("whole"));
    let p = provider(server.url(), &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    assert_eq!(out.unwrap().message.content.text(), "whole");
    assert_eq!(
        retries(&events),
        vec!["The Anthropic API stream broke (StreamEnded)"]
    );
}

#[tokio::test]
async fn unreachable_endpoint_is_retried_then_reported() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env: BTreeMap<String, String> = BTreeMap::from([("ANTHROPIC_API_KEY".into(), KEY.into())]);
    let settings =
        AnthropicSettings::from_env(&env, Some(format!("http://127.0.0.1:{port}")), None, None);
    let p = AnthropicProvider::new(settings, fast_retries(2));
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Service { code, attempts: 2, .. } if code == "ConnectionError"),
        "{err:?}"
    );
    assert_eq!(
        retries(&events),
        vec![format!("Could not reach http://127.0.0.1:{port}")]
    );
    assert!(!format!("{err}{err:?}").contains("KEYVALUE"));
}

// ---------------------------------------------------------------------------
// Byte-exact replay of the real recording.

/// Status, headers and raw body of one recorded response.
type Canned = (u16, Vec<(String, String)>, Vec<u8>);

/// One canned HTTP/1.1 response per connection, body sent in small pieces
/// so events straddle reads. Returns the requests it saw (head + body).
fn replay(responses: Vec<Canned>, piece: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (status, headers, body) in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                break;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            seen.push(read_request(&mut stream));
            let mut head = format!("HTTP/1.1 {status} X\r\n");
            for (k, v) in &headers {
                if !k.eq_ignore_ascii_case("content-length")
                    && !k.eq_ignore_ascii_case("connection")
                {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
            }
            head.push_str("connection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            for part in body.chunks(piece) {
                let _ = stream.write_all(part);
                let _ = stream.flush();
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        seen
    });
    (url, handle)
}

fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).into_owned(),
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn recording() -> Option<Vec<Value>> {
    let path = claude_test_support::fixtures::capture("anthropic-sdk-snapshot-stream.json")?;
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[allow(clippy::print_stdout)]
#[tokio::test]
async fn replays_the_real_recording_rate_limits_then_stream() {
    let Some(exchanges) = recording() else {
        println!("skipping: ../shared not present");
        return;
    };
    let responses: Vec<Canned> = exchanges
        .iter()
        .map(|x| {
            let r = &x["response"];
            let headers = r["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            let body = match &r["body"] {
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            };
            (r["status_code"].as_u64().unwrap() as u16, headers, body)
        })
        .collect();
    assert_eq!(responses.len(), 3, "two 429s then the stream");
    let (url, server) = replay(responses, 7);
    let p = provider(url, &[("ANTHROPIC_API_KEY", KEY)], None);
    let (out, events) = call(&p, &request(), &options("claude-sonnet-4-5", true)).await;
    let done = out.unwrap();
    // The 429s carry `x-should-retry: true` but no retry-after: backoff applies.
    assert_eq!(done.attempts, 3);
    assert_eq!(
        retries(&events),
        vec!["The Anthropic API is rate limiting (rate_limit_error)"; 2]
    );
    let failed: Vec<_> = done
        .failed_attempts
        .iter()
        .map(|f| f.request_id.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        failed,
        [
            "req_011CYK5n67SytMUxm8WMZUWY",
            "req_011CYK5n94JW2KDxvEjTDLeR"
        ]
    );
    assert_eq!(done.message.content.text(), "[12345,67890]");
    assert_eq!(done.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(
        (done.usage.input_tokens, done.usage.output_tokens),
        (135, 10)
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProviderEvent::Stream(StreamEvent::Ping)))
    );
    let seen = server.join().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen[0].starts_with("POST /v1/messages HTTP/1.1"));
}

#[allow(clippy::print_stdout)]
#[test]
fn the_recorded_sse_body_parses_and_assembles() {
    use claude_providers::anthropic::sse::{Decoded, SseParser, decode};
    let Some(exchanges) = recording() else {
        println!("skipping: ../shared not present");
        return;
    };
    let body = exchanges[2]["response"]["body"]
        .as_str()
        .unwrap()
        .as_bytes();
    for piece in [1, 3, 64, body.len()] {
        let mut parser = SseParser::new();
        let mut asm = claude_protocol::StreamAssembler::default();
        let mut kinds = Vec::new();
        for chunk in body.chunks(piece) {
            for raw in parser.push(chunk) {
                kinds.push(raw.event.clone());
                match decode(&raw) {
                    Decoded::Event(e) => asm.push(&e),
                    other => panic!("{other:?} for {raw:?}"),
                }
            }
        }
        assert!(!parser.finish());
        assert_eq!(kinds.len(), 10);
        assert_eq!(kinds[2], "ping");
        assert_eq!(asm.text(), "[12345,67890]");
        assert_eq!(asm.stop_reason.as_deref(), Some("end_turn"));
        assert_eq!(asm.id, "msg_013nnniYDrJDocdy5nrMU7cH");
        assert_eq!((asm.usage.input_tokens, asm.usage.output_tokens), (135, 10));
    }
}
