//! Prompt-caching breakpoints: where to put `cache_control` in a request so
//! that the stable part of the prompt is billed at the cache-read rate
//! (0.1× input) on the next request instead of in full.
//!
//! The prompt is cached as a prefix in the order tools → system → messages.
//! A breakpoint is only worth placing where the prefix up to it reaches the
//! model's minimum (1,024 to 4,096 tokens); at most four may be used.
//! A request with a single message gets none there: a one-shot prompt would
//! pay the 25 % cache-write premium with nothing to read it back.

use claude_protocol::{
    CacheControl, ContentBlock, MessageContent, MessagesRequest, SystemBlock, SystemPrompt,
};
use claude_providers::catalog::ModelInfo;
use serde::Serialize;

/// The most `cache_control` marks one request may carry.
pub const MAX_BREAKPOINTS: usize = 4;

/// Where a breakpoint went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "at", content = "index")]
pub enum Breakpoint {
    Tools,
    System,
    /// The last cacheable block of message `i`.
    Message(usize),
}

/// What [`place_breakpoints`] did, for `--verbose`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CachePlan {
    pub placed: Vec<Breakpoint>,
    /// Why nothing was placed, when nothing was.
    pub skipped: Option<&'static str>,
}

/// A lower-bound-ish estimate: about four characters a token.
fn tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

fn text_len(value: &impl Serialize) -> usize {
    serde_json::to_string(value).map_or(0, |s| s.len())
}

fn marked(cc: &Option<CacheControl>) -> bool {
    cc.is_some()
}

fn block_marks(b: &ContentBlock) -> bool {
    match b {
        ContentBlock::Text { cache_control, .. }
        | ContentBlock::Image { cache_control, .. }
        | ContentBlock::ToolResult { cache_control, .. } => marked(cache_control),
        _ => false,
    }
}

fn existing_marks(req: &MessagesRequest) -> usize {
    let tools = req
        .tools
        .iter()
        .filter(|t| marked(&t.cache_control))
        .count();
    let system = match &req.system {
        Some(SystemPrompt::Blocks(b)) => b.iter().filter(|b| marked(&b.cache_control)).count(),
        _ => 0,
    };
    let messages = req
        .messages
        .iter()
        .map(|m| match &m.content {
            MessageContent::Blocks(b) => b.iter().filter(|b| block_marks(b)).count(),
            MessageContent::Text(_) => 0,
        })
        .sum::<usize>();
    tools + system + messages
}

/// Marks the last block of message `i` that can carry `cache_control`.
fn mark_message(req: &mut MessagesRequest, i: usize) -> bool {
    let content = &mut req.messages[i].content;
    if let MessageContent::Text(text) = content {
        *content = MessageContent::Blocks(vec![ContentBlock::text(std::mem::take(text))]);
    }
    let MessageContent::Blocks(blocks) = content else {
        return false;
    };
    for b in blocks.iter_mut().rev() {
        match b {
            ContentBlock::Text { cache_control, .. }
            | ContentBlock::Image { cache_control, .. }
            | ContentBlock::ToolResult { cache_control, .. } => {
                if cache_control.is_some() {
                    return false;
                }
                *cache_control = Some(CacheControl::ephemeral());
                return true;
            }
            _ => {}
        }
    }
    false
}

/// Places breakpoints on the tools, the system prompt and the stable
/// conversation prefix of `req`, within `model`'s minimum prefix size and
/// the four-breakpoint limit. Marks already present are kept and counted.
/// `None` (a model not in the catalog) and models without prompt caching
/// get nothing.
pub fn place_breakpoints(req: &mut MessagesRequest, model: Option<&ModelInfo>) -> CachePlan {
    let Some(min) = model.and_then(|m| m.cache_min_tokens).map(u64::from) else {
        return CachePlan {
            placed: Vec::new(),
            skipped: Some("the model has no prompt caching"),
        };
    };
    let mut budget = MAX_BREAKPOINTS.saturating_sub(existing_marks(req));
    let mut plan = CachePlan::default();
    let mut prefix = 0u64;

    if !req.tools.is_empty() {
        prefix += tokens(req.tools.iter().map(text_len).sum());
        let last = req.tools.last_mut().filter(|t| t.cache_control.is_none());
        if let (Some(tool), true) = (last, budget > 0 && prefix >= min) {
            tool.cache_control = Some(CacheControl::ephemeral());
            plan.placed.push(Breakpoint::Tools);
            budget -= 1;
        }
    }

    if let Some(system) = req.system.take() {
        let mut blocks = match system {
            SystemPrompt::Text(text) => vec![SystemBlock {
                kind: "text".into(),
                text,
                cache_control: None,
            }],
            SystemPrompt::Blocks(b) => b,
        };
        prefix += tokens(blocks.iter().map(|b| b.text.len()).sum());
        let place =
            budget > 0 && prefix >= min && blocks.last().is_some_and(|b| b.cache_control.is_none());
        if place && let Some(last) = blocks.last_mut() {
            last.cache_control = Some(CacheControl::ephemeral());
            plan.placed.push(Breakpoint::System);
            budget -= 1;
        }
        req.system = Some(
            if place || blocks.len() > 1 || blocks.iter().any(|b| b.cache_control.is_some()) {
                SystemPrompt::Blocks(blocks)
            } else {
                SystemPrompt::Text(blocks.pop().map(|b| b.text).unwrap_or_default())
            },
        );
    }

    // The conversation: the newest message (the next request reads it) and
    // the user turn before it (where the previous request wrote its cache).
    let n = req.messages.len();
    if n >= 2 {
        let mut ends = Vec::new();
        let mut cumulative = Vec::with_capacity(n);
        for m in &req.messages {
            prefix += tokens(text_len(&m.content));
            cumulative.push(prefix);
        }
        ends.push(n - 1);
        if let Some(prev) = (0..n - 1)
            .rev()
            .find(|i| req.messages[*i].role == req.messages[n - 1].role)
        {
            ends.push(prev);
        }
        for i in ends {
            if budget == 0 {
                break;
            }
            if cumulative[i] >= min && mark_message(req, i) {
                plan.placed.push(Breakpoint::Message(i));
                budget -= 1;
            }
        }
    }
    if plan.placed.is_empty() {
        plan.skipped = Some(if n < 2 && req.system.is_none() && req.tools.is_empty() {
            "a single message with no system prompt or tools: nothing is reused"
        } else {
            "the prompt is below the model's minimum cacheable size"
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use claude_protocol::{Message, Role, Tool};
    use claude_providers::catalog::Catalog;
    use serde_json::json;

    fn model(id: &str) -> &'static ModelInfo {
        Catalog::builtin().find(id).unwrap()
    }

    const SONNET_45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0"; // 1,024 tokens
    const HAIKU_45: &str = "anthropic.claude-haiku-4-5-20251001-v1:0"; // 4,096 tokens

    fn words(tokens: usize) -> String {
        "abc ".repeat(tokens)
    }

    fn tool(name: &str, desc_tokens: usize) -> Tool {
        Tool {
            name: name.into(),
            description: Some(words(desc_tokens)),
            input_schema: json!({"type": "object"}),
            cache_control: None,
        }
    }

    fn conversation(turns: usize, tokens_each: usize) -> Vec<Message> {
        (0..turns)
            .flat_map(|_| {
                [
                    Message::user(words(tokens_each)),
                    Message::assistant(vec![ContentBlock::text(words(tokens_each))]),
                ]
            })
            .chain(std::iter::once(Message::user("next question")))
            .collect()
    }

    fn marks(req: &MessagesRequest) -> usize {
        existing_marks(req)
    }

    #[test]
    fn large_request_gets_tools_system_and_two_conversation_breakpoints() {
        let mut req = MessagesRequest {
            max_tokens: 100,
            tools: vec![tool("Read", 600), tool("Bash", 600)],
            system: Some(SystemPrompt::Text(words(2_000))),
            messages: conversation(3, 800),
            ..Default::default()
        };
        let plan = place_breakpoints(&mut req, Some(model(SONNET_45)));
        assert_eq!(
            plan.placed,
            [
                Breakpoint::Tools,
                Breakpoint::System,
                Breakpoint::Message(6),
                Breakpoint::Message(4)
            ]
        );
        assert_eq!(marks(&req), 4);
        assert!(req.tools[1].cache_control.is_some() && req.tools[0].cache_control.is_none());
        let body = serde_json::to_value(&req).unwrap();
        assert_eq!(
            body["system"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
        assert_eq!(
            body["messages"][6]["content"][0]["cache_control"]["type"],
            "ephemeral"
        );
        assert_eq!(body["messages"][6]["content"][0]["text"], "next question");
        assert_eq!(body["messages"][4]["role"], "user");
        assert!(
            body["messages"][5]["content"][0]
                .get("cache_control")
                .is_none()
        );
    }

    #[test]
    fn never_more_than_four_and_existing_marks_count() {
        let mut req = MessagesRequest {
            tools: vec![tool("Read", 2_000)],
            system: Some(SystemPrompt::Blocks(vec![
                SystemBlock {
                    kind: "text".into(),
                    text: words(10),
                    cache_control: Some(CacheControl::ephemeral()),
                },
                SystemBlock {
                    kind: "text".into(),
                    text: words(2_000),
                    cache_control: None,
                },
            ])),
            messages: conversation(3, 2_000),
            ..Default::default()
        };
        req.messages[0].content = MessageContent::Blocks(vec![ContentBlock::Text {
            text: words(10),
            cache_control: Some(CacheControl::ephemeral()),
        }]);
        let plan = place_breakpoints(&mut req, Some(model(SONNET_45)));
        assert_eq!(plan.placed.len(), 2, "{plan:?}");
        assert_eq!(marks(&req), MAX_BREAKPOINTS);
        let again = place_breakpoints(&mut req, Some(model(SONNET_45)));
        assert!(again.placed.is_empty());
        assert_eq!(marks(&req), MAX_BREAKPOINTS);
    }

    #[test]
    fn respects_each_models_minimum_prefix() {
        let build = || MessagesRequest {
            system: Some(SystemPrompt::Text(words(2_000))),
            messages: conversation(1, 500),
            ..Default::default()
        };
        // 2,000 tokens of system clear Sonnet 4.5's 1,024 but not Haiku 4.5's 4,096.
        let mut s = build();
        assert_eq!(
            place_breakpoints(&mut s, Some(model(SONNET_45))).placed,
            [
                Breakpoint::System,
                Breakpoint::Message(2),
                Breakpoint::Message(0)
            ]
        );
        let mut h = build();
        let plan = place_breakpoints(&mut h, Some(model(HAIKU_45)));
        assert!(plan.placed.is_empty(), "{plan:?}");
        assert_eq!(h, build(), "nothing changes when nothing is placed");
        assert!(plan.skipped.unwrap().contains("minimum"));
    }

    #[test]
    fn no_breakpoints_without_caching_support_or_reuse() {
        let build = || MessagesRequest {
            messages: vec![Message::user(words(50_000))],
            ..Default::default()
        };
        let mut one_shot = build();
        let plan = place_breakpoints(&mut one_shot, Some(model(SONNET_45)));
        assert!(plan.placed.is_empty());
        assert_eq!(one_shot, build());
        // Claude 3 Haiku rejects cache_control on Bedrock; unknown models are left alone.
        let mut big = MessagesRequest {
            system: Some(SystemPrompt::Text(words(5_000))),
            messages: conversation(2, 2_000),
            ..Default::default()
        };
        let before = big.clone();
        let plan = place_breakpoints(
            &mut big,
            Some(model("anthropic.claude-3-haiku-20240307-v1:0")),
        );
        assert_eq!((plan.placed.len(), &big), (0, &before));
        assert!(place_breakpoints(&mut big, None).placed.is_empty());
    }

    #[test]
    fn tool_results_carry_the_conversation_breakpoint() {
        let mut req = MessagesRequest {
            system: Some(SystemPrompt::Text(words(1_500))),
            messages: vec![
                Message::user("run it"),
                Message::assistant(vec![ContentBlock::ToolUse {
                    id: "t1".into(),
                    name: "Bash".into(),
                    input: json!({}),
                }]),
                Message {
                    role: Role::User,
                    content: MessageContent::Blocks(vec![ContentBlock::ToolResult {
                        tool_use_id: "t1".into(),
                        content: json!(words(300)),
                        is_error: false,
                        cache_control: None,
                    }]),
                },
            ],
            ..Default::default()
        };
        let plan = place_breakpoints(&mut req, Some(model(SONNET_45)));
        assert_eq!(
            plan.placed,
            [
                Breakpoint::System,
                Breakpoint::Message(2),
                Breakpoint::Message(0)
            ]
        );
        let body = serde_json::to_value(&req).unwrap();
        assert_eq!(
            body["messages"][2]["content"][0]["cache_control"]["type"],
            "ephemeral"
        );
    }
}
