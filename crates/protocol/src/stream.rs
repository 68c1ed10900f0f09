use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::{ContentBlock, Message};
use crate::usage::{InvocationMetrics, Usage};

/// The `message` object inside `message_start`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageStart {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

/// A content-block delta. `Other` keeps types this build does not know
/// (citations, future deltas) without failing the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    #[serde(untagged)]
    Other(Value),
}

/// The Anthropic Messages stream events, as both Bedrock (inside event-stream
/// chunks) and the direct API (as SSE) deliver them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: usize,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Usage,
    },
    MessageStop {
        #[serde(
            rename = "amazon-bedrock-invocationMetrics",
            skip_serializing_if = "Option::is_none",
            default
        )]
        invocation_metrics: Option<InvocationMetrics>,
    },
    Ping,
    Error {
        error: Value,
    },
    #[serde(untagged)]
    Unknown(Value),
}

impl StreamEvent {
    /// Whether this event carries something a person would see, which
    /// decides if a failed stream may still be retried silently.
    pub fn is_visible_content(&self) -> bool {
        matches!(
            self,
            StreamEvent::ContentBlockDelta { .. } | StreamEvent::ContentBlockStart { .. }
        )
    }
}

/// Builds the final assistant message out of stream events.
///
/// Tool inputs arrive as `input_json_delta` fragments that are only valid
/// JSON once complete, so they are buffered per block and parsed at stop.
#[derive(Debug, Default)]
pub struct StreamAssembler {
    blocks: Vec<(ContentBlock, String)>,
    pub id: String,
    pub model: String,
    pub stop_reason: Option<String>,
    pub usage: Usage,
    pub metrics: Option<InvocationMetrics>,
}

impl StreamAssembler {
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::MessageStart { message } => {
                self.id.clone_from(&message.id);
                self.model.clone_from(&message.model);
                self.usage.merge(&message.usage);
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let mut block = content_block.clone();
                if let ContentBlock::ToolUse { input, .. } = &mut block {
                    // The start event carries `{}`; the real input follows as deltas.
                    *input = Value::Null;
                }
                let slot = (block, String::new());
                if *index < self.blocks.len() {
                    self.blocks[*index] = slot;
                } else {
                    self.blocks.push(slot);
                }
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                let Some((block, json)) = self.blocks.get_mut(*index) else {
                    return;
                };
                match (block, delta) {
                    (ContentBlock::Text { text, .. }, BlockDelta::TextDelta { text: d }) => {
                        text.push_str(d)
                    }
                    (ContentBlock::ToolUse { .. }, BlockDelta::InputJsonDelta { partial_json }) => {
                        json.push_str(partial_json)
                    }
                    (
                        ContentBlock::Thinking { thinking, .. },
                        BlockDelta::ThinkingDelta { thinking: d },
                    ) => thinking.push_str(d),
                    (
                        ContentBlock::Thinking { signature, .. },
                        BlockDelta::SignatureDelta { signature: d },
                    ) => signature.push_str(d),
                    _ => {}
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                if let Some((ContentBlock::ToolUse { input, .. }, json)) =
                    self.blocks.get_mut(*index)
                {
                    *input = parse_tool_input(json);
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason.clone_from(&delta.stop_reason);
                }
                self.usage.merge(usage);
            }
            StreamEvent::MessageStop { invocation_metrics } => {
                if let Some(m) = invocation_metrics {
                    self.metrics = Some(*m);
                }
            }
            StreamEvent::Ping | StreamEvent::Error { .. } | StreamEvent::Unknown(_) => {}
        }
    }

    /// Usage as billed: Bedrock's invocation metrics when present, else the
    /// model's own cumulative counts.
    pub fn billed_usage(&self) -> Usage {
        match &self.metrics {
            Some(m) => {
                let mut u = m.usage();
                // Older metrics omit cache counts; keep the model's then.
                if u.cache_read_input_tokens == 0 {
                    u.cache_read_input_tokens = self.usage.cache_read_input_tokens;
                }
                if u.cache_creation_input_tokens == 0 {
                    u.cache_creation_input_tokens = self.usage.cache_creation_input_tokens;
                }
                u
            }
            None => self.usage,
        }
    }

    /// The text shown so far, across all text blocks.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|(b, _)| match b {
                ContentBlock::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The assistant message; a tool block cut off before its stop keeps
    /// whatever JSON arrived, parsed if possible.
    pub fn message(&self) -> Message {
        let blocks = self
            .blocks
            .iter()
            .map(|(b, json)| match b {
                ContentBlock::ToolUse { id, name, input } if input.is_null() => {
                    ContentBlock::ToolUse {
                        id: id.clone(),
                        name: name.clone(),
                        input: parse_tool_input(json),
                    }
                }
                other => other.clone(),
            })
            .collect();
        Message::assistant(blocks)
    }
}

fn parse_tool_input(json: &str) -> Value {
    if json.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::MessageContent;

    fn ev(s: &str) -> StreamEvent {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn parses_real_bedrock_events_including_metrics() {
        let e = ev(
            r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":17,"outputTokenCount":322,"invocationLatency":7881,"firstByteLatency":1145}}"#,
        );
        let StreamEvent::MessageStop {
            invocation_metrics: Some(m),
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(m.output_token_count, 322);
    }

    #[test]
    fn unknown_event_and_delta_types_do_not_fail() {
        assert!(matches!(
            ev(r#"{"type":"brand_new","x":1}"#),
            StreamEvent::Unknown(_)
        ));
        let e = ev(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
        );
        assert!(matches!(
            e,
            StreamEvent::ContentBlockDelta {
                delta: BlockDelta::Other(_),
                ..
            }
        ));
        assert_eq!(ev(r#"{"type": "ping"}"#), StreamEvent::Ping);
    }

    #[test]
    fn assembles_text_and_tool_use_from_deltas() {
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-3-sonnet","content":[],"usage":{"input_tokens":273,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_bdrk_1","name":"get_weather","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locat"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ion\": \"Paris\"}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":88}}"#,
            r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":273,"outputTokenCount":72,"invocationLatency":1337,"firstByteLatency":333}}"#,
        ];
        let mut a = StreamAssembler::default();
        for e in events {
            a.push(&ev(e));
        }
        assert_eq!(a.text(), "Let me check.");
        assert_eq!(a.stop_reason.as_deref(), Some("tool_use"));
        assert_eq!(a.usage.output_tokens, 88);
        assert_eq!(a.billed_usage().output_tokens, 72);
        let MessageContent::Blocks(blocks) = a.message().content else {
            panic!()
        };
        assert_eq!(
            blocks[1],
            ContentBlock::ToolUse {
                id: "toolu_bdrk_1".into(),
                name: "get_weather".into(),
                input: serde_json::json!({"location": "Paris"})
            }
        );
    }
}
