//! Non-streaming replies replayed as stream events, so every consumer
//! renders one way whichever operation answered.

use claude_protocol::{
    BlockDelta, ContentBlock, MessageDeltaBody, MessageStart, StreamEvent, Usage,
};
use serde_json::Value;

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
