//! Non-streaming replies replayed as stream events, so every consumer
//! renders one way whichever operation answered.

use claude_protocol::{
    BlockDelta, ContentBlock, MessageDeltaBody, MessageStart, StreamEvent, Usage,
};
use serde_json::Value;

use crate::provider::{Completion, ProviderEvent};

/// A non-streaming reply as a `Completion`, replayed to the sink as the
/// stream events it stands for. `header_usage` fills counts the body lacks
/// (Bedrock's token-count headers).
pub(crate) fn unary_completion(
    reply: &Value,
    header_usage: Option<Usage>,
    request_id: Option<String>,
    latency: std::time::Duration,
    sink: &mut (dyn FnMut(ProviderEvent) + Send),
) -> Completion {
    let blocks: Vec<ContentBlock> =
        serde_json::from_value(reply["content"].clone()).unwrap_or_default();
    let mut usage: Usage = serde_json::from_value(reply["usage"].clone()).unwrap_or_default();
    if let Some(h) = header_usage {
        usage.merge(&h);
    }
    let stop_reason = reply["stop_reason"].as_str().map(str::to_string);
    for ev in synthesize_events(reply, &blocks, &usage, stop_reason.clone()) {
        sink(ProviderEvent::Stream(ev));
    }
    Completion {
        message: claude_protocol::Message::assistant(blocks),
        stop_reason,
        usage,
        request_id,
        latency,
        first_byte: None,
        attempts: 1,
        failed_attempts: Vec::new(),
    }
}

/// The events a stream would have carried for `message`, for a reply that
/// did not come from a stream of this session (a forked skill's answer), so
/// front ends render it like any other.
pub fn message_events(message: &claude_protocol::Message, model: &str) -> Vec<StreamEvent> {
    let blocks = match &message.content {
        claude_protocol::MessageContent::Text(t) => vec![ContentBlock::text(t.clone())],
        claude_protocol::MessageContent::Blocks(b) => b.clone(),
    };
    let reply = serde_json::json!({ "id": "", "model": model });
    synthesize_events(&reply, &blocks, &Usage::default(), Some("end_turn".into()))
}

/// The events a stream would have carried for a complete reply.
pub(crate) fn synthesize_events(
    reply: &Value,
    blocks: &[ContentBlock],
    usage: &Usage,
    stop_reason: Option<String>,
) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::MessageStart {
        message: MessageStart {
            id: reply["id"].as_str().unwrap_or_default().to_string(),
            model: reply["model"].as_str().unwrap_or_default().to_string(),
            usage: Usage {
                output_tokens: 0,
                ..*usage
            },
        },
    }];
    for (index, block) in blocks.iter().enumerate() {
        let (start, delta) = match block {
            ContentBlock::Text { text, .. } => (
                ContentBlock::text(""),
                Some(BlockDelta::TextDelta { text: text.clone() }),
            ),
            ContentBlock::ToolUse { id, name, input } => (
                ContentBlock::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: serde_json::json!({}),
                },
                Some(BlockDelta::InputJsonDelta {
                    partial_json: input.to_string(),
                }),
            ),
            other => (other.clone(), None),
        };
        events.push(StreamEvent::ContentBlockStart {
            index,
            content_block: start,
        });
        if let Some(delta) = delta {
            events.push(StreamEvent::ContentBlockDelta { index, delta });
        }
        events.push(StreamEvent::ContentBlockStop { index });
    }
    events.push(StreamEvent::MessageDelta {
        delta: MessageDeltaBody {
            stop_reason,
            stop_sequence: None,
        },
        usage: *usage,
    });
    events.push(StreamEvent::MessageStop {
        invocation_metrics: None,
    });
    events
}
