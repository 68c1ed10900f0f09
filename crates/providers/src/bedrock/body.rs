//! The InvokeModel body: the Messages request as Bedrock wants it.

use claude_protocol::MessagesRequest;
use serde_json::{Value, json};

/// Pinned: newer SDK defaults are rejected by ARN-versioned models.
pub const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// Serialises the request with `anthropic_version` pinned, betas as the body
/// array `anthropic_beta`, and never a `model` or `stream` key (Bedrock
/// rejects both as extraneous).
pub fn invoke_body(req: &MessagesRequest) -> Value {
    let mut body = json!({ "anthropic_version": ANTHROPIC_VERSION });
    if !req.betas.is_empty() {
        body["anthropic_beta"] = json!(req.betas);
    }
    if let (Value::Object(dst), Ok(Value::Object(src))) = (&mut body, serde_json::to_value(req)) {
        for (k, v) in src {
            if k != "model" && k != "stream" {
                dst.insert(k, v);
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use claude_protocol::Message;

    #[test]
    fn pins_version_moves_betas_and_never_sends_model_or_stream() {
        let req = MessagesRequest {
            max_tokens: 16,
            messages: vec![Message::user("hi")],
            betas: vec!["context-1m-2025-08-07".into()],
            temperature: Some(0.5),
            stop_sequences: vec!["END".into()],
            ..Default::default()
        };
        let body = invoke_body(&req);
        assert_eq!(body["anthropic_version"], "bedrock-2023-05-31");
        assert_eq!(body["anthropic_beta"], json!(["context-1m-2025-08-07"]));
        assert_eq!(body["max_tokens"], 16);
        assert_eq!(body["stop_sequences"], json!(["END"]));
        assert!(body.get("model").is_none() && body.get("stream").is_none());
        // The spec's SigV4 vector body, byte for byte, starts the same way.
        let plain = invoke_body(&MessagesRequest {
            max_tokens: 16,
            messages: vec![Message::user("hi")],
            ..Default::default()
        });
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#
        );
    }
}
