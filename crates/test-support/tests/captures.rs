//! The encoder and the servers held to real recorded traffic: every captured frame must
//! decode with valid CRCs and re-encode byte for byte, and the servers must answer in the
//! recorded shapes.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use claude_test_support::eventstream::{
    self, Frame, HeaderValue, PAD_ALPHABET, chunk_frame, decode_frames, exception_frame,
};
use claude_test_support::fixtures;
use claude_test_support::{
    AnthropicOptions, AnthropicServer, BedrockOptions, BedrockServer, Usage, anthropic, bedrock,
};
use common::{fixture, send, sse_events};
use serde_json::Value;

fn json_fixture(path: Option<std::path::PathBuf>) -> Option<Value> {
    fixture(path).map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

const CHUNK_HEADERS: [(&str, &str); 3] = [
    (":event-type", "chunk"),
    (":content-type", "application/json"),
    (":message-type", "event"),
];

fn string_headers(frame: &Frame) -> Vec<(&str, &str)> {
    frame
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str().expect("string header")))
        .collect()
}

/// Checks a real Bedrock stream frame by frame and returns the Anthropic events inside.
fn check_real_stream(bytes: &[u8]) -> Vec<String> {
    let frames = decode_frames(bytes).unwrap();
    let mut reencoded = Vec::new();
    let mut events = Vec::new();
    let mut pads = std::collections::BTreeSet::new();
    for frame in &frames {
        assert_eq!(string_headers(frame), CHUNK_HEADERS);
        let payload: Value = serde_json::from_slice(&frame.payload).unwrap();
        let keys: Vec<&String> = payload.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["bytes", "p"]);
        let p = payload["p"].as_str().unwrap();
        assert!(
            PAD_ALPHABET.starts_with(p) && (2..=61).contains(&p.len()),
            "{p}"
        );
        pads.insert(p.len());
        let event = frame.chunk_event().unwrap();
        assert_eq!(
            STANDARD.encode(&event),
            payload["bytes"].as_str().unwrap(),
            "base64 round trip"
        );
        let parsed: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(parsed.to_string(), event, "the event JSON is compact");
        let frame_bytes = chunk_frame(&event, p.len());
        assert_eq!(decode_frames(&frame_bytes).unwrap(), vec![frame.clone()]);
        reencoded.extend(frame_bytes);
        events.push(event);
    }
    assert_eq!(
        reencoded, bytes,
        "our encoder reproduces the capture byte for byte"
    );
    assert!(pads.len() > 3, "Bedrock varies the padding");
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(first["type"], "message_start");
    assert!(
        first["message"]["id"]
            .as_str()
            .unwrap()
            .starts_with("msg_bdrk_01")
    );
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["type"], "message_stop");
    assert!(last["amazon-bedrock-invocationMetrics"]["inputTokenCount"].is_u64());
    events
}

#[test]
fn eventstream_vectors_decode_and_reencode() {
    let Some(vectors) = json_fixture(fixtures::vector("eventstream-vectors.json")) else {
        return;
    };
    let vectors = vectors.as_object().unwrap();
    assert!(vectors.len() >= 6);
    for (name, v) in vectors {
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let frames = decode_frames(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(frames.len(), 1, "{name}");
        let frame = &frames[0];
        let headers: Vec<(String, Value)> = v["parsed_headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ours: Vec<(String, Value)> = frame
            .headers
            .iter()
            .map(|(n, h)| (n.clone(), Value::from(h.as_str().unwrap())))
            .collect();
        assert_eq!(ours, headers, "{name}: headers in order");
        assert_eq!(
            String::from_utf8(frame.payload.clone()).unwrap(),
            v["parsed_payload"].as_str().unwrap(),
            "{name}"
        );
        for (field, at) in [("prelude_crc", 8), ("message_crc", bytes.len() - 4)] {
            if let Some(crc) = v.get(field) {
                assert_eq!(hex::encode(&bytes[at..at + 4]), crc.as_str().unwrap());
            }
        }
        let named: Vec<(&str, HeaderValue)> = frame
            .headers
            .iter()
            .map(|(n, h)| (n.as_str(), h.clone()))
            .collect();
        assert_eq!(
            eventstream::encode_frame(&named, &frame.payload),
            bytes,
            "{name}"
        );
        if frame.header_str(":event-type") == Some("chunk") {
            let payload: Value = serde_json::from_slice(&frame.payload).unwrap();
            let pad = payload["p"].as_str().unwrap().len();
            let event = frame.chunk_event().unwrap();
            for key in ["decoded", "inner"] {
                if let Some(expected) = v.get(key) {
                    assert_eq!(event, expected.as_str().unwrap(), "{name}");
                }
            }
            assert_eq!(chunk_frame(&event, pad), bytes, "{name}");
        }
        if let Some(member) = frame.header_str(":exception-type") {
            let payload: Value = serde_json::from_slice(&frame.payload).unwrap();
            let message = payload["message"].as_str().unwrap();
            assert_eq!(exception_frame(member, message), bytes, "{name}");
        }
    }
}

#[test]
fn bearice_raw_stream_reencodes_byte_for_byte() {
    let Some(bytes) = fixture(fixtures::capture("bearice-stream-out.bin")) else {
        return;
    };
    let events = check_real_stream(&bytes);
    assert_eq!(events.len(), 120);
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(
        first["message"]["usage"].to_string(),
        r#"{"input_tokens":17,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}"#
    );
}

#[test]
fn arize_recordings_decode_and_reencode() {
    let names = [
        "arize-should-handle-invoke-model-with-response-stream.json",
        "arize-should-handle-streaming-responses-with-tool-calls.json",
    ];
    for name in names {
        let Some(records) = json_fixture(fixtures::capture(name)) else {
            return;
        };
        let record = &records[0];
        assert_eq!(record["responseIsBinary"], true);
        let bytes = hex::decode(record["response"].as_str().unwrap()).unwrap();
        let events = check_real_stream(&bytes);
        if name.contains("tool-calls") {
            let tool_start = events
                .iter()
                .map(|e| serde_json::from_str::<Value>(e).unwrap())
                .find(|e| e["content_block"]["type"] == "tool_use")
                .expect("a tool_use block");
            assert!(
                tool_start["content_block"]["id"]
                    .as_str()
                    .unwrap()
                    .starts_with("toolu_bdrk_")
            );
        }
    }
}

/// The capture's response headers, lowercased, minus the transport's own.
fn captured_header_names(record: &Value) -> Vec<String> {
    let raw = record["rawHeaders"].as_array().unwrap();
    raw.chunks(2)
        .map(|pair| pair[0].as_str().unwrap().to_ascii_lowercase())
        .filter(|n| {
            !["date", "connection", "content-length", "transfer-encoding"].contains(&n.as_str())
        })
        .collect()
}

fn our_header_names(resp: &common::Resp) -> Vec<String> {
    resp.headers
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !["date", "content-length", "transfer-encoding"].contains(&n.as_str()))
        .collect()
}

fn captured_header<'a>(record: &'a Value, name: &str) -> Option<&'a str> {
    let raw = record["rawHeaders"].as_array().unwrap();
    raw.chunks(2)
        .find(|pair| pair[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .and_then(|pair| pair[1].as_str())
}

#[test]
fn bedrock_errors_match_the_recordings() {
    let names = [
        "arize-should-handle-api-errors-gracefully.json",
        "arize-should-handle-streaming-errors.json",
    ];
    for name in names {
        let Some(records) = json_fixture(fixtures::capture(name)) else {
            return;
        };
        let record = &records[0];
        let server = BedrockServer::start(BedrockOptions::default());
        server.push(bedrock::Reply::invalid_model());
        let body = serde_json::to_vec(&record["body"]).unwrap();
        let resp = send(
            &server.url(),
            "POST",
            record["path"].as_str().unwrap(),
            &[],
            &body,
        );
        assert_eq!(u64::from(resp.status), record["status"].as_u64().unwrap());
        assert_eq!(resp.json(), record["response"]);
        assert_eq!(
            resp.header("content-length"),
            captured_header(record, "content-length")
        );
        assert_eq!(
            resp.header("x-amzn-errortype"),
            captured_header(record, "x-amzn-ErrorType")
        );
        assert_eq!(our_header_names(&resp), captured_header_names(record));
        assert_eq!(
            server.requests()[0].model_id.as_deref(),
            Some(record["path"].as_str().unwrap().split('/').nth(2).unwrap())
        );
    }
}

#[test]
fn bedrock_invoke_matches_the_recording() {
    let Some(records) = json_fixture(fixtures::capture(
        "arize-should-create-spans-for-invokemodel-calls.json",
    )) else {
        return;
    };
    let record = &records[0];
    let captured = &record["response"];
    let server = BedrockServer::start(BedrockOptions::default());
    server.push(bedrock::Reply::Text {
        text: captured["content"][0]["text"].as_str().unwrap().to_owned(),
        usage: Usage::new(13, 35),
    });
    let body = serde_json::to_vec(&record["body"]).unwrap();
    let resp = send(
        &server.url(),
        "POST",
        record["path"].as_str().unwrap(),
        &[],
        &body,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(our_header_names(&resp), captured_header_names(record));
    assert_eq!(resp.header("x-amzn-bedrock-input-token-count"), Some("13"));
    assert_eq!(resp.header("x-amzn-bedrock-output-token-count"), Some("35"));
    let ours = resp.json();
    let our_keys: Vec<&String> = ours.as_object().unwrap().keys().collect();
    let their_keys: Vec<&String> = captured.as_object().unwrap().keys().collect();
    assert_eq!(our_keys, their_keys);
    for key in [
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
    ] {
        assert_eq!(ours[key], captured[key], "{key}");
    }
    assert_eq!(
        ours["id"].as_str().unwrap().len(),
        captured["id"].as_str().unwrap().len()
    );
    assert_eq!(ours["usage"]["input_tokens"], 13);
    assert_eq!(ours["usage"]["output_tokens"], 35);
}

#[test]
fn bedrock_replays_a_recorded_stream_exactly() {
    let Some(records) = json_fixture(fixtures::capture(
        "arize-should-handle-streaming-responses-with-tool-calls.json",
    )) else {
        return;
    };
    let record = &records[0];
    let captured = hex::decode(record["response"].as_str().unwrap()).unwrap();
    let events: Vec<String> = decode_frames(&captured)
        .unwrap()
        .iter()
        .map(|f| f.chunk_event().unwrap())
        .collect();
    let server = BedrockServer::start(BedrockOptions::default());
    server.push(bedrock::Reply::Events(
        events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect(),
    ));
    let body = serde_json::to_vec(&record["body"]).unwrap();
    let resp = send(
        &server.url(),
        "POST",
        record["path"].as_str().unwrap(),
        &[],
        &body,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(our_header_names(&resp), captured_header_names(record));
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    let replayed: Vec<String> = decode_frames(&resp.body)
        .unwrap()
        .iter()
        .map(|f| f.chunk_event().unwrap())
        .collect();
    assert_eq!(replayed, events);
}

#[test]
fn anthropic_replays_the_recorded_sse_stream() {
    let Some(records) = json_fixture(fixtures::capture("anthropic-sdk-snapshot-stream.json"))
    else {
        return;
    };
    let ok = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["response"]["status_code"] == 200)
        .unwrap();
    let recorded = sse_events(ok["response"]["body"].as_str().unwrap());
    let events: Vec<Value> = recorded
        .iter()
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    let server = AnthropicServer::start(AnthropicOptions::default());
    server.push(anthropic::Reply::Events(events.clone()));
    let body = serde_json::to_vec(&ok["request"]["body"]).unwrap();
    let resp = send(
        &server.url(),
        "POST",
        "/v1/messages",
        &[
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        &body,
    );
    assert_eq!(resp.status, 200);
    for name in ["content-type", "cache-control"] {
        assert_eq!(
            resp.header(name),
            ok["response"]["headers"][name].as_str(),
            "{name}"
        );
    }
    let ours = sse_events(&resp.text());
    assert_eq!(ours.len(), recorded.len());
    for ((our_event, our_data), ((their_event, their_data), value)) in
        ours.iter().zip(recorded.iter().zip(&events))
    {
        assert_eq!(our_event, their_event);
        if their_event == "ping" {
            assert_eq!(our_data, their_data);
        } else {
            assert_eq!(
                our_data.trim_end_matches(['}', ' ']),
                their_data.trim_end_matches(['}', ' '])
            );
            assert_eq!(&serde_json::from_str::<Value>(our_data).unwrap(), value);
            assert!(
                our_data.ends_with(" }"),
                "padded like the recording: {our_data}"
            );
        }
    }

    let limited = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["response"]["status_code"] == 429)
        .unwrap();
    server.push(anthropic::Reply::rate_limited("7"));
    let resp = send(
        &server.url(),
        "POST",
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        &body,
    );
    assert_eq!(resp.status, 429);
    let captured_body = &limited["response"]["body"];
    let ours = resp.json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(captured_body));
    assert_eq!(keys(&ours["error"]), keys(&captured_body["error"]));
    assert_eq!(ours["error"]["type"], captured_body["error"]["type"]);
    assert_eq!(
        resp.header("x-should-retry"),
        limited["response"]["headers"]["x-should-retry"].as_str()
    );
    assert_eq!(resp.header("retry-after"), Some("7"));
    assert_eq!(resp.header("request-id"), ours["request_id"].as_str());
}
