//! The loopback Bedrock over real HTTP: routing, validation, scripted replies and faults,
//! credential checks, control plane, STS, and the bench binary.

mod common;

use std::time::{Duration, Instant};

use claude_test_support::bedrock::{ControlPlane, DEFAULT_TEXT, Reply};
use claude_test_support::eventstream::{Frame, PAD_ALPHABET, decode_frames};
use claude_test_support::sigv4::{self, Key};
use claude_test_support::{Auth, BedrockOptions, BedrockServer, ChildServer, Operation, Usage};
use common::{Resp, send, send_within};
use serde_json::{Value, json};

const BODY: &str = r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
const MODEL_PATH: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0";

fn start() -> BedrockServer {
    BedrockServer::start(BedrockOptions::default())
}

fn invoke(server: &BedrockServer, stream: bool) -> Resp {
    let op = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    send(
        &server.url(),
        "POST",
        &format!("/model/{MODEL_PATH}/{op}"),
        &[("content-type", "application/json")],
        BODY.as_bytes(),
    )
}

fn events(resp: &Resp) -> Vec<Value> {
    frames(resp)
        .iter()
        .filter_map(Frame::chunk_event)
        .map(|e| serde_json::from_str(&e).unwrap())
        .collect()
}

fn frames(resp: &Resp) -> Vec<Frame> {
    assert_eq!(resp.status, 200, "{}", resp.text());
    decode_frames(&resp.body).unwrap()
}

fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["delta"]["type"] == "text_delta")
        .map(|e| e["delta"]["text"].as_str().unwrap())
        .collect()
}

#[test]
fn default_stream_is_shaped_like_bedrock() {
    let server = start();
    let resp = invoke(&server, true);
    assert_eq!(
        resp.header("content-type"),
        Some("application/vnd.amazon.eventstream")
    );
    assert_eq!(
        resp.header("x-amzn-bedrock-content-type"),
        Some("application/json")
    );
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.header("x-amzn-requestid").unwrap().len(), 36);
    let frames = frames(&resp);
    let mut pads = std::collections::BTreeSet::new();
    for frame in &frames {
        let names: Vec<&str> = frame.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [":event-type", ":content-type", ":message-type"]);
        let payload: Value = serde_json::from_slice(&frame.payload).unwrap();
        let p = payload["p"].as_str().unwrap();
        assert!(PAD_ALPHABET.starts_with(p) && (2..=61).contains(&p.len()));
        pads.insert(p.len());
    }
    assert!(pads.len() > 1, "padding varies");
    let events = events(&resp);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(
        &kinds[kinds.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert!(
        kinds
            .iter()
            .filter(|k| **k == "content_block_delta")
            .count()
            > 1
    );
    assert!(!kinds.contains(&"ping"), "Bedrock streams carry no ping");
    let message = &events[0]["message"];
    assert!(message["id"].as_str().unwrap().starts_with("msg_bdrk_01"));
    assert_eq!(message["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(message["usage"]["input_tokens"], 12);
    assert_eq!(message["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(streamed_text(&events), DEFAULT_TEXT);
    let delta = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"], json!({"output_tokens": 8}));
    let metrics = &events[events.len() - 1]["amazon-bedrock-invocationMetrics"];
    assert_eq!(metrics["inputTokenCount"], 12);
    assert_eq!(metrics["outputTokenCount"], 8);
    assert!(
        metrics["invocationLatency"].as_u64().unwrap()
            >= metrics["firstByteLatency"].as_u64().unwrap()
    );
    assert!(metrics.get("cacheReadInputTokenCount").is_none());

    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(r.operation, Operation::InvokeStream);
    assert_eq!(
        r.model_id.as_deref(),
        Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    assert_eq!(
        r.path,
        format!("/model/{MODEL_PATH}/invoke-with-response-stream")
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.json.as_ref().unwrap()["max_tokens"], 16);
    assert_eq!(r.body_text(), BODY);
}

#[test]
fn invoke_returns_the_message_and_token_headers() {
    let server = start();
    server.push(Reply::Text {
        text: "cached answer".into(),
        usage: Usage {
            input: 5,
            output: 7,
            cache_read: 100,
            cache_write: 20,
        },
    });
    let resp = invoke(&server, false);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(
        resp.header("x-amzn-bedrock-invocation-latency")
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(resp.header("x-amzn-bedrock-input-token-count"), Some("5"));
    assert_eq!(resp.header("x-amzn-bedrock-output-token-count"), Some("7"));
    assert_eq!(
        resp.header("x-amzn-bedrock-cache-read-input-token-count"),
        Some("100")
    );
    assert_eq!(
        resp.header("x-amzn-bedrock-cache-write-input-token-count"),
        Some("20")
    );
    let message = resp.json();
    assert!(message["id"].as_str().unwrap().starts_with("msg_bdrk_"));
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "cached answer"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(
        message["usage"].to_string(),
        r#"{"input_tokens":5,"cache_creation_input_tokens":20,"cache_read_input_tokens":100,"output_tokens":7}"#
    );
    let plain = invoke(&server, false);
    assert_eq!(
        plain.header("x-amzn-bedrock-cache-read-input-token-count"),
        None
    );
    assert_eq!(plain.json()["content"][0]["text"], DEFAULT_TEXT);
}

#[test]
fn stream_metrics_carry_cache_counts() {
    let server = start();
    server.push(Reply::Text {
        text: "x".into(),
        usage: Usage {
            input: 1,
            output: 2,
            cache_read: 3,
            cache_write: 4,
        },
    });
    let events = events(&invoke(&server, true));
    let metrics = &events.last().unwrap()["amazon-bedrock-invocationMetrics"];
    assert_eq!(metrics["cacheReadInputTokenCount"], 3);
    assert_eq!(metrics["cacheWriteInputTokenCount"], 4);
    assert_eq!(
        events[0]["message"]["usage"]["cache_creation_input_tokens"],
        4
    );
}

#[test]
fn model_ids_are_url_decoded_in_every_form() {
    let server = start();
    let arn =
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123";
    for path in [
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
        "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke",
        &format!("/model/{arn}/invoke"),
    ] {
        assert_eq!(
            send(&server.url(), "POST", path, &[], BODY.as_bytes()).status,
            200
        );
    }
    let ids: Vec<String> = server
        .requests()
        .into_iter()
        .filter_map(|r| r.model_id)
        .collect();
    assert_eq!(
        ids,
        [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
        ]
    );
}

#[test]
fn malformed_bodies_get_bedrock_validation_errors_and_keep_the_queue() {
    let server = start();
    server.push(Reply::text("kept"));
    let with_stream =
        r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[],"stream":true}"#;
    let resp = send(
        &server.url(),
        "POST",
        &format!("/model/{MODEL_PATH}/invoke"),
        &[],
        with_stream.as_bytes(),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.text(),
        r#"{"message":"Malformed input request: #: extraneous key [stream] is not permitted, please reformat your input and try again."}"#
    );
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/")
    );
    let missing = send(
        &server.url(),
        "POST",
        &format!("/model/{MODEL_PATH}/invoke"),
        &[],
        br#"{"model":"m"}"#,
    );
    assert!(
        missing.json()["message"]
            .as_str()
            .unwrap()
            .contains("#: required key [messages] not found")
    );
    assert_eq!(invoke(&server, false).json()["content"][0]["text"], "kept");
}

#[test]
fn replies_are_consumed_in_order_then_the_default() {
    let server = start();
    server.push(Reply::throttling());
    server.push(Reply::on_demand_unsupported(
        "anthropic.claude-sonnet-4-20250514-v1:0",
    ));
    server.push(Reply::text("third"));
    let first = invoke(&server, true);
    assert_eq!(first.status, 429);
    assert_eq!(
        first.text(),
        r#"{"message":"Too many tokens, please wait before trying again."}"#
    );
    assert_eq!(first.header("content-length"), Some("63"));
    assert_eq!(
        first.header("x-amzn-errortype"),
        Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
    );
    assert_eq!(first.header("content-type"), Some("application/json"));
    let second = invoke(&server, true);
    assert_eq!(second.status, 400);
    assert_eq!(
        second.json()["message"],
        "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    );
    assert_eq!(streamed_text(&events(&invoke(&server, true))), "third");
    assert_eq!(streamed_text(&events(&invoke(&server, true))), DEFAULT_TEXT);
}

#[test]
fn error_constructors_use_the_recorded_statuses_and_shapes() {
    let server = start();
    let cases = [
        (Reply::access_denied_model(), 403, "AccessDeniedException"),
        (
            Reply::access_denied_iam(
                "bedrock:InvokeModelWithResponseStream",
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            ),
            403,
            "AccessDeniedException",
        ),
        (Reply::marketplace_denied(), 403, "AccessDeniedException"),
        (Reply::invalid_model(), 400, "ValidationException"),
        (Reply::legacy_model(), 404, "ResourceNotFoundException"),
        (Reply::internal(), 500, "InternalServerException"),
        (Reply::unavailable(), 503, "ServiceUnavailableException"),
        (Reply::model_not_ready(), 429, "ModelNotReadyException"),
        (Reply::expired_token(), 403, "ExpiredTokenException"),
    ];
    for (reply, status, shape) in cases {
        let Reply::Error { message, .. } = reply.clone() else {
            panic!("error constructor")
        };
        server.push(reply);
        let resp = invoke(&server, false);
        assert_eq!(resp.status, status, "{shape}");
        assert!(
            resp.header("x-amzn-errortype")
                .unwrap()
                .starts_with(&format!("{shape}:http://internal.amazon.com/coral/"))
        );
        assert_eq!(resp.json(), json!({ "message": message }));
    }
}

#[test]
fn mid_stream_exceptions_follow_http_200() {
    let server = start();
    server.push(Reply::mid_stream_throttling());
    server.push(Reply::MidStreamException {
        after_content: false,
        member: "modelStreamErrorException".into(),
        message: "boom".into(),
    });
    server.push(Reply::mid_stream_throttling());

    let frames_after = frames(&invoke(&server, true));
    let last = frames_after.last().unwrap();
    let headers: Vec<(&str, &str)> = last
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str().unwrap()))
        .collect();
    assert_eq!(
        headers,
        [
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ]
    );
    assert_eq!(
        last.payload,
        br#"{"message":"Too many tokens, please wait before trying again."}"#
    );
    let before: Vec<Value> = frames_after[..frames_after.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(&f.chunk_event().unwrap()).unwrap())
        .collect();
    assert_eq!(before[0]["type"], "message_start");
    assert!(!streamed_text(&before).is_empty());

    let immediate = frames(&invoke(&server, true));
    assert_eq!(immediate.len(), 1);
    assert_eq!(
        immediate[0].header_str(":exception-type"),
        Some("modelStreamErrorException")
    );

    let unary = invoke(&server, false);
    assert_eq!(unary.status, 429);
    assert!(
        unary
            .header("x-amzn-errortype")
            .unwrap()
            .starts_with("ThrottlingException:")
    );
}

#[test]
fn tool_use_streams_json_pieces_and_folds_for_invoke() {
    let server = start();
    let input = json!({"location": "San Francisco, CA", "unit": "celsius"});
    let reply = Reply::ToolUse {
        text: Some("Let me check.".into()),
        tools: vec![(
            "toolu_bdrk_01abc".into(),
            "get_weather".into(),
            input.clone(),
        )],
        usage: Usage::new(273, 72),
    };
    server.push(reply.clone());
    server.push(reply);
    let events = events(&invoke(&server, true));
    let start = events
        .iter()
        .find(|e| e["content_block"]["type"] == "tool_use")
        .unwrap();
    assert_eq!(start["index"], 1);
    assert_eq!(
        start["content_block"],
        json!({"type":"tool_use","id":"toolu_bdrk_01abc","name":"get_weather","input":{}})
    );
    let pieces: Vec<&str> = events
        .iter()
        .filter(|e| e["delta"]["type"] == "input_json_delta")
        .map(|e| e["delta"]["partial_json"].as_str().unwrap())
        .collect();
    assert_eq!(pieces[0], "", "Bedrock opens with an empty piece");
    assert!(pieces.len() > 2);
    assert_eq!(
        serde_json::from_str::<Value>(&pieces.concat()).unwrap(),
        input
    );
    let delta = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");

    let message = invoke(&server, false).json();
    assert_eq!(message["content"][0]["text"], "Let me check.");
    assert_eq!(message["content"][1]["input"], input);
    assert_eq!(message["stop_reason"], "tool_use");
}

#[test]
fn raw_events_are_sent_as_is() {
    let server = start();
    let raw = vec![
        json!({"type":"message_start","message":{"id":"msg_bdrk_x","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}),
    ];
    server.push(Reply::Events(raw.clone()));
    server.push(Reply::Events(raw.clone()));
    assert_eq!(
        events(&invoke(&server, true)),
        raw,
        "no message_stop is added"
    );
    let message = invoke(&server, false).json();
    assert_eq!(
        message["content"],
        json!([{"type":"thinking","thinking":"hmm","signature":"c2ln"}])
    );
    assert_eq!(message["usage"]["output_tokens"], 3);
}

#[test]
fn slow_replies_pace_every_frame() {
    let server = start();
    server.push(Reply::Slow {
        per_event: Duration::from_millis(40),
        text: "one two three four".into(),
    });
    let started = Instant::now();
    let resp = invoke(&server, true);
    let n = frames(&resp).len() as u32;
    assert!(n >= 7);
    assert!(started.elapsed() >= Duration::from_millis(40) * n);
    assert_eq!(streamed_text(&events(&resp)), "one two three four");
}

#[test]
fn hang_never_answers_and_drop_still_stops_the_server() {
    let server = start();
    server.push(Reply::Hang);
    let url = server.url();
    let path = format!("/model/{MODEL_PATH}/invoke-with-response-stream");
    assert!(
        send_within(
            Duration::from_millis(300),
            &url,
            "POST",
            &path,
            &[],
            BODY.as_bytes()
        )
        .is_none()
    );
    assert_eq!(server.requests().len(), 1);
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());
}

fn sigv4_server(session_token: Option<&str>) -> BedrockServer {
    BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: session_token.map(str::to_owned),
            region: "us-west-2".into(),
        },
        ..BedrockOptions::default()
    })
}

/// Sends a request signed as the AWS SDK would, with `key`.
fn signed(
    server: &BedrockServer,
    key: &Key<'_>,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
) -> Resp {
    let host = server.url().trim_start_matches("http://").to_owned();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("host".to_owned(), host),
        ("x-amz-date".to_owned(), "20250101T000000Z".to_owned()),
    ];
    if let Some(token) = token {
        headers.push(("x-amz-security-token".into(), token.into()));
    }
    let authorization = sigv4::sign(
        &sigv4::Request {
            method,
            path,
            query,
            headers: &headers,
            body,
        },
        key,
    );
    let mut sent: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| n != "host")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    sent.push(("authorization", &authorization));
    let full_path = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    send(&server.url(), method, &full_path, &sent, body)
}

fn key<'a>(access_key_id: &'a str, secret: &'a str, service: &'a str) -> Key<'a> {
    Key {
        access_key_id,
        secret_access_key: secret,
        session_token: None,
        region: "us-west-2",
        service,
    }
}

#[test]
fn sigv4_is_verified_by_recomputation() {
    let server = sigv4_server(None);
    let path = format!("/model/{MODEL_PATH}/invoke");
    let good = signed(
        &server,
        &key("AKIDEXAMPLE", "secret", "bedrock"),
        None,
        "POST",
        &path,
        BODY.as_bytes(),
    );
    assert_eq!(good.status, 200, "{}", good.text());

    let bad = signed(
        &server,
        &key("AKIDEXAMPLE", "wrong", "bedrock"),
        None,
        "POST",
        &path,
        BODY.as_bytes(),
    );
    assert_eq!(bad.status, 403);
    assert_eq!(
        bad.header("x-amzn-errortype"),
        Some(
            "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"
        )
    );
    assert_eq!(bad.json()["message"], sigv4::SIGNATURE_MISMATCH);

    let unknown = signed(
        &server,
        &key("AKIDOTHER", "secret", "bedrock"),
        None,
        "POST",
        &path,
        BODY.as_bytes(),
    );
    assert_eq!(unknown.status, 403);
    assert!(
        unknown
            .header("x-amzn-errortype")
            .unwrap()
            .starts_with("UnrecognizedClientException:")
    );
    assert_eq!(
        unknown.json()["message"],
        "The security token included in the request is invalid."
    );

    let wrong_service = signed(
        &server,
        &key("AKIDEXAMPLE", "secret", "bedrock-runtime"),
        None,
        "POST",
        &path,
        BODY.as_bytes(),
    );
    assert_eq!(
        wrong_service.json()["message"],
        "Credential should be scoped to correct service: 'bedrock'."
    );

    let missing = send(&server.url(), "POST", &path, &[], BODY.as_bytes());
    assert_eq!(missing.status, 403);
    assert!(
        missing
            .header("x-amzn-errortype")
            .unwrap()
            .starts_with("MissingAuthenticationTokenException:")
    );
    assert_eq!(missing.json()["message"], "Missing Authentication Token");

    assert_eq!(
        server.requests().len(),
        5,
        "rejected requests are recorded too"
    );
}

#[test]
fn sigv4_session_tokens_must_match() {
    let server = sigv4_server(Some("session-token"));
    let path = format!("/model/{MODEL_PATH}/invoke-with-response-stream");
    let k = key("AKIDEXAMPLE", "secret", "bedrock");
    assert_eq!(
        signed(
            &server,
            &k,
            Some("session-token"),
            "POST",
            &path,
            BODY.as_bytes()
        )
        .status,
        200
    );
    let stale = signed(
        &server,
        &k,
        Some("old-token"),
        "POST",
        &path,
        BODY.as_bytes(),
    );
    assert_eq!(stale.status, 403);
    assert!(
        stale
            .header("x-amzn-errortype")
            .unwrap()
            .starts_with("UnrecognizedClientException:")
    );
    assert_eq!(
        signed(&server, &k, None, "POST", &path, BODY.as_bytes()).status,
        403
    );
}

#[test]
fn bearer_and_unsigned_modes() {
    let bearer = BedrockServer::start(BedrockOptions {
        auth: Auth::Bearer("bedrock-api-key-abc".into()),
        ..BedrockOptions::default()
    });
    let path = format!("/model/{MODEL_PATH}/invoke");
    let ok = send(
        &bearer.url(),
        "POST",
        &path,
        &[("authorization", "Bearer bedrock-api-key-abc")],
        BODY.as_bytes(),
    );
    assert_eq!(ok.status, 200);
    let wrong = send(
        &bearer.url(),
        "POST",
        &path,
        &[("authorization", "Bearer other")],
        BODY.as_bytes(),
    );
    assert_eq!(wrong.status, 403);
    assert_eq!(
        send(&bearer.url(), "POST", &path, &[], BODY.as_bytes()).status,
        403
    );

    let unsigned = BedrockServer::start(BedrockOptions {
        auth: Auth::Unsigned,
        ..BedrockOptions::default()
    });
    assert_eq!(
        send(&unsigned.url(), "POST", &path, &[], BODY.as_bytes()).status,
        200
    );
    let signed = send(
        &unsigned.url(),
        "POST",
        &path,
        &[("authorization", "AWS4-HMAC-SHA256 Credential=x")],
        BODY.as_bytes(),
    );
    assert_eq!(signed.status, 403);
}

#[test]
fn control_plane_reads() {
    let server = start();
    let url = server.url();
    let models = send(
        &url,
        "GET",
        "/foundation-models?byProvider=anthropic",
        &[],
        b"",
    );
    assert_eq!(models.status, 200);
    let summaries = models.json()["modelSummaries"].as_array().unwrap().clone();
    assert!(summaries.len() >= 4);
    assert!(summaries.iter().all(|m| m["providerName"] == "Anthropic"));
    let none = send(
        &url,
        "GET",
        "/foundation-models?byProvider=amazon",
        &[],
        b"",
    )
    .json();
    assert_eq!(none["modelSummaries"], json!([]));
    let on_demand = send(
        &url,
        "GET",
        "/foundation-models?byInferenceType=ON_DEMAND",
        &[],
        b"",
    )
    .json();
    assert_eq!(on_demand["modelSummaries"].as_array().unwrap().len(), 1);

    let page = send(
        &url,
        "GET",
        "/inference-profiles?maxResults=3&type=SYSTEM_DEFINED",
        &[],
        b"",
    )
    .json();
    assert_eq!(
        page["inferenceProfileSummaries"].as_array().unwrap().len(),
        3
    );
    let token = page["nextToken"].as_str().unwrap();
    let rest = send(
        &url,
        "GET",
        &format!("/inference-profiles?maxResults=1000&nextToken={token}&type=SYSTEM_DEFINED"),
        &[],
        b"",
    )
    .json();
    assert!(rest.get("nextToken").is_none());
    let total = 3 + rest["inferenceProfileSummaries"].as_array().unwrap().len();
    assert_eq!(total, ControlPlane::default().inference_profiles.len());

    let arn = "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
    let profile = send(&url, "GET", &format!("/inference-profiles/{arn}"), &[], b"");
    assert_eq!(profile.status, 200);
    assert_eq!(
        profile.json()["inferenceProfileId"],
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    assert_eq!(
        send(&url, "GET", "/inference-profiles/nope", &[], b"").status,
        404
    );

    let availability = send(
        &url,
        "GET",
        "/foundation-model-availability/anthropic.claude-sonnet-4-5-20250929-v1%3A0",
        &[],
        b"",
    )
    .json();
    assert_eq!(availability["authorizationStatus"], "AUTHORIZED");
    assert_eq!(
        availability["modelId"],
        "anthropic.claude-sonnet-4-5-20250929-v1:0"
    );

    let mut cp = ControlPlane::default();
    cp.availability.push(ControlPlane::model_availability(
        "anthropic.claude-opus-4-6-v1",
        false,
    ));
    cp.guardrails
        .push(ControlPlane::guardrail("us-east-1", "gr123", "1"));
    server.set_control_plane(cp);
    let denied = send(
        &url,
        "GET",
        "/foundation-model-availability/anthropic.claude-opus-4-6-v1",
        &[],
        b"",
    )
    .json();
    assert_eq!(denied["authorizationStatus"], "NOT_AUTHORIZED");
    let guardrail = send(
        &url,
        "GET",
        "/guardrails/gr123?guardrailVersion=1",
        &[],
        b"",
    );
    assert_eq!(guardrail.json()["status"], "READY");
    let missing = send(&url, "GET", "/guardrails/zzz", &[], b"");
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .header("x-amzn-errortype")
            .unwrap()
            .starts_with("ResourceNotFoundException:")
    );

    let ops: Vec<Operation> = server.requests().iter().map(|r| r.operation).collect();
    assert_eq!(ops[0], Operation::ListFoundationModels);
    assert!(ops.contains(&Operation::GetInferenceProfile));
    assert!(ops.contains(&Operation::GetGuardrail));
}

#[test]
fn sts_get_caller_identity_speaks_xml_and_checks_the_sts_scope() {
    let server = sigv4_server(None);
    let form = b"Action=GetCallerIdentity&Version=2011-06-15";
    let ok = signed(
        &server,
        &key("AKIDEXAMPLE", "secret", "sts"),
        None,
        "POST",
        "/",
        form,
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("content-type"), Some("text/xml"));
    let xml = ok.text();
    assert!(xml.starts_with(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert!(xml.contains("<Arn>arn:aws:iam::123456789012:user/test</Arn>"));
    assert!(xml.contains("<Account>123456789012</Account>"));

    let wrong = signed(
        &server,
        &key("AKIDEXAMPLE", "secret", "bedrock"),
        None,
        "POST",
        "/",
        form,
    );
    assert_eq!(wrong.status, 403);
    assert!(wrong.text().contains("<Code>SignatureDoesNotMatch</Code>"));
    let unknown = signed(
        &server,
        &key("AKIDEXAMPLE", "secret", "sts"),
        None,
        "POST",
        "/",
        b"Action=AssumeRole&Version=2011-06-15",
    );
    assert_eq!(unknown.status, 400);
    assert!(unknown.text().contains("<Code>InvalidAction</Code>"));
    assert_eq!(server.requests()[0].operation, Operation::GetCallerIdentity);
}

#[test]
fn unknown_routes_are_404_and_recorded() {
    let server = start();
    let resp = send(
        &server.url(),
        "POST",
        "/model/x/converse",
        &[],
        BODY.as_bytes(),
    );
    assert_eq!(resp.status, 404);
    assert_eq!(server.requests()[0].operation, Operation::Other);
}

#[test]
fn bench_binary_prints_its_url_and_counts_requests() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_loopback-bedrock"));
    cmd.args(["--port", "0"]);
    let server = ChildServer::url_on_stdout(cmd);
    let url = &server.url;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let path = format!("/model/{MODEL_PATH}/invoke-with-response-stream");
    assert_eq!(send(url, "POST", &path, &[], BODY.as_bytes()).status, 200);
    let admin = send(url, "GET", "/__admin/requests", &[], b"").json();
    assert_eq!(admin["count"], 1);
    assert_eq!(
        admin["requests"][0],
        json!({"method": "POST", "path": path})
    );
}
