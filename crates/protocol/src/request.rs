use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::{CacheControl, Message};

/// A tool the model may call. Kept open (`extra`) for server and computer tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto,
    Any,
    None,
    Tool { name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Thinking {
    Enabled { budget_tokens: u32 },
    Adaptive,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemBlock {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_control: Option<CacheControl>,
}

/// The system prompt: a string, or text blocks when caching breakpoints are needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    Text(String),
    Blocks(Vec<SystemBlock>),
}

/// The provider-neutral Messages request.
///
/// It carries neither `model` nor `stream`: Bedrock rejects both keys in the
/// body (the model is in the URL, streaming is the endpoint), so each provider
/// adds what its own wire format needs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessagesRequest {
    pub max_tokens: u32,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system: Option<SystemPrompt>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stop_sequences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub thinking: Option<Thinking>,
    /// Beta names. Bedrock wants them as the body array `anthropic_beta`, the
    /// direct API as the `anthropic-beta` header; providers move them.
    #[serde(skip, default)]
    pub betas: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_request_serialises_without_optional_keys() {
        let req = MessagesRequest {
            max_tokens: 16,
            messages: vec![Message::user("hi")],
            betas: vec!["x".into()],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
        );
    }

    #[test]
    fn thinking_and_tool_choice_use_wire_tags() {
        assert_eq!(
            serde_json::to_value(Thinking::Enabled {
                budget_tokens: 1024
            })
            .unwrap(),
            json!({"type": "enabled", "budget_tokens": 1024})
        );
        assert_eq!(
            serde_json::to_value(ToolChoice::Tool {
                name: "Read".into()
            })
            .unwrap(),
            json!({"type": "tool", "name": "Read"})
        );
    }
}
