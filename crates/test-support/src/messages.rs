//! The Anthropic Messages stream events both servers send, and the non-streaming Message
//! folded from them, so a scripted reply means the same thing on every route.

use serde_json::{Map, Value, json};

use crate::ids;

/// Token counts a scripted reply reports. `input` excludes cached tokens, as on Bedrock
/// and the direct API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the prompt cache.
    pub cache_write: u64,
}

impl Usage {
    /// Usage without caching.
    pub fn new(input: u64, output: u64) -> Self {
        Usage {
            input,
            output,
            ..Usage::default()
        }
    }
}

/// A tool call to script: `(id, name, input)`.
pub type ToolCall = (String, String, Value);

/// Where the two services' event bodies differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Bedrock,
    Anthropic,
}

impl Dialect {
    fn message_id(self) -> String {
        match self {
            Dialect::Bedrock => ids::anthropic_id("msg_bdrk_"),
            Dialect::Anthropic => ids::anthropic_id("msg_"),
        }
    }

    fn start_usage(self, usage: &Usage) -> Value {
        match self {
            Dialect::Bedrock => json!({
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read,
                "output_tokens": 1,
            }),
            Dialect::Anthropic => json!({
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": usage.cache_write,
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": 1,
                "service_tier": "standard",
                "inference_geo": "not_available",
            }),
        }
    }

    /// The direct API repeats the cumulative input counts in `message_delta`; Bedrock
    /// sends only `output_tokens` there.
    fn delta_usage(self, usage: &Usage) -> Value {
        match self {
            Dialect::Bedrock => json!({ "output_tokens": usage.output }),
            Dialect::Anthropic => json!({
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read,
                "output_tokens": usage.output,
            }),
        }
    }
}

/// `message_start` as the dialect sends it; the key order follows the captures.
pub(crate) fn message_start(dialect: Dialect, model: &str, usage: &Usage) -> Value {
    let id = dialect.message_id();
    let mut message = Map::new();
    if dialect == Dialect::Anthropic {
        message.insert("model".into(), model.into());
    }
    message.insert("id".into(), id.into());
    message.insert("type".into(), "message".into());
    message.insert("role".into(), "assistant".into());
    if dialect == Dialect::Bedrock {
        message.insert("model".into(), model.into());
    }
    message.insert("content".into(), json!([]));
    message.insert("stop_reason".into(), Value::Null);
    message.insert("stop_sequence".into(), Value::Null);
    message.insert("usage".into(), dialect.start_usage(usage));
    json!({ "type": "message_start", "message": message })
}

pub(crate) fn text_block_start(index: usize) -> Value {
    json!({"type":"content_block_start","index":index,"content_block":{"type":"text","text":""}})
}

pub(crate) fn text_delta(index: usize, text: &str) -> Value {
    json!({"type":"content_block_delta","index":index,"delta":{"type":"text_delta","text":text}})
}

fn block_stop(index: usize) -> Value {
    json!({"type":"content_block_stop","index":index})
}

/// Every event of a scripted reply from `message_start` through `message_delta`; the
/// caller adds `message_stop`, whose Bedrock form carries timings known only when sent.
pub(crate) fn reply_events(
    dialect: Dialect,
    model: &str,
    text: Option<&str>,
    tools: &[ToolCall],
    usage: &Usage,
) -> Vec<Value> {
    let mut events = vec![message_start(dialect, model, usage)];
    let mut index = 0;
    if let Some(text) = text {
        events.push(text_block_start(index));
        events.extend(text_pieces(text).map(|piece| text_delta(index, piece)));
        events.push(block_stop(index));
        index += 1;
    }
    for (id, name, input) in tools {
        events.push(json!({"type":"content_block_start","index":index,
            "content_block":{"type":"tool_use","id":id,"name":name,"input":{}}}));
        let input = input.to_string();
        for piece in std::iter::once("").chain(json_pieces(&input)) {
            events.push(json!({"type":"content_block_delta","index":index,
                "delta":{"type":"input_json_delta","partial_json":piece}}));
        }
        events.push(block_stop(index));
        index += 1;
    }
    let stop_reason = if tools.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    events.push(json!({
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": dialect.delta_usage(usage),
    }));
    events
}

/// Two words per delta, roughly the granularity real streams have; concatenating the
/// pieces gives back the text exactly.
pub(crate) fn text_pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .match_indices(' ')
            .nth(1)
            .map_or(rest.len(), |(i, _)| i + 1);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

fn json_pieces(json: &str) -> impl Iterator<Item = &str> {
    let mut rest = json;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(10);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The non-streaming Message that a stream of events amounts to.
pub(crate) fn fold(events: &[Value]) -> Value {
    let mut message = Map::new();
    let mut blocks: Vec<Value> = Vec::new();
    let mut partial_json: Vec<(usize, String)> = Vec::new();
    for event in events {
        let index = event["index"].as_u64().map_or(0, |i| i as usize);
        match event["type"].as_str() {
            Some("message_start") => {
                if let Some(m) = event["message"].as_object() {
                    message = m.clone();
                }
            }
            Some("content_block_start") => {
                if blocks.len() <= index {
                    blocks.resize(index + 1, Value::Null);
                }
                blocks[index] = event["content_block"].clone();
            }
            Some("content_block_delta") => {
                let delta = &event["delta"];
                let Some(block) = blocks.get_mut(index) else {
                    continue;
                };
                match delta["type"].as_str() {
                    Some("text_delta") => append(block, "text", &delta["text"]),
                    Some("thinking_delta") => append(block, "thinking", &delta["thinking"]),
                    Some("signature_delta") => block["signature"] = delta["signature"].clone(),
                    Some("input_json_delta") => {
                        let piece = delta["partial_json"].as_str().unwrap_or_default();
                        match partial_json.iter_mut().find(|(i, _)| *i == index) {
                            Some((_, acc)) => acc.push_str(piece),
                            None => partial_json.push((index, piece.to_owned())),
                        }
                    }
                    _ => {}
                }
            }
            Some("message_delta") => {
                if let Some(delta) = event["delta"].as_object() {
                    for (k, v) in delta {
                        message.insert(k.clone(), v.clone());
                    }
                }
                if let Some(usage) = event["usage"].as_object() {
                    let target = message.entry("usage").or_insert_with(|| json!({}));
                    for (k, v) in usage {
                        target[k] = v.clone();
                    }
                }
            }
            _ => {}
        }
    }
    for (index, acc) in partial_json {
        if let (Some(block), Ok(input)) = (blocks.get_mut(index), serde_json::from_str(&acc)) {
            block["input"] = input;
        }
    }
    message.insert("content".into(), Value::Array(blocks));
    Value::Object(message)
}

fn append(block: &mut Value, key: &str, piece: &Value) {
    let mut text = block[key].as_str().unwrap_or_default().to_owned();
    text.push_str(piece.as_str().unwrap_or_default());
    block[key] = text.into();
}

/// A usage summary of a reply's events, for headers and metrics: input from
/// `message_start`, output from the last `message_delta`.
pub(crate) fn usage_of(events: &[Value]) -> Usage {
    let message = fold(events);
    let usage = &message["usage"];
    let n = |k: &str| usage[k].as_u64().unwrap_or(0);
    Usage {
        input: n("input_tokens"),
        output: n("output_tokens"),
        cache_read: n("cache_read_input_tokens"),
        cache_write: n("cache_creation_input_tokens"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pieces_rejoin_exactly() {
        let text = "Hello from loopback  Bedrock. ünï cödé";
        let pieces: Vec<&str> = text_pieces(text).collect();
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        let json = r#"{"city":"Zürich","n":[1,2,3]}"#;
        assert_eq!(json_pieces(json).collect::<String>(), json);
    }

    #[test]
    fn fold_rebuilds_the_message() {
        let tools = vec![(
            "toolu_1".to_owned(),
            "get_weather".to_owned(),
            json!({"location": "Paris"}),
        )];
        let usage = Usage {
            input: 10,
            output: 18,
            cache_read: 3,
            cache_write: 4,
        };
        let events = reply_events(
            Dialect::Bedrock,
            "claude-x",
            Some("Hi there you"),
            &tools,
            &usage,
        );
        let message = fold(&events);
        assert_eq!(
            message["content"][0],
            json!({"type":"text","text":"Hi there you"})
        );
        assert_eq!(
            message["content"][1],
            json!({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}})
        );
        assert_eq!(message["stop_reason"], "tool_use");
        assert_eq!(
            message["usage"].to_string(),
            r#"{"input_tokens":10,"cache_creation_input_tokens":4,"cache_read_input_tokens":3,"output_tokens":18}"#
        );
        assert_eq!(usage_of(&events), usage);
        let keys: Vec<&String> = message.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "type",
                "role",
                "model",
                "content",
                "stop_reason",
                "stop_sequence",
                "usage"
            ]
        );
    }
}
