//! `Agent` (Claude Code's `Task` of old): runs a task in a subagent and
//! returns its final text.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{listing, text_field as field};
use super::{Tool, ToolCtx, ToolOutput};
use crate::subagents::{AgentDef, SubagentTask};

/// The most characters of agent descriptions the tool's description lists.
const LIST_BUDGET: usize = 6_000;
/// The most characters of one agent's description in that list.
const ONE_BUDGET: usize = 400;

const INTRO: &str = "Launch a subagent to handle a complex, multi-step task on its own. The subagent starts with no view of this conversation: give it a complete, self-contained task in `prompt` (what to find or do, where, and what to report back). It works with its own tools and returns one final message, which you get as this tool's result; the user does not see it, so summarise what matters.\n\n- Use it for broad searches and research that would take many tool calls, and to keep this conversation's context small.\n- To run several subagents at once, make several Agent calls in one response; they run concurrently.\n- Do not use it for a single file read or a search for one known name: use Read, Glob or Grep directly.\n\nAvailable subagent types (`subagent_type`):\n";

pub struct AgentTool {
    description: &'static str,
}

impl AgentTool {
    /// The tool, its description listing `agents` (within a size budget).
    /// The description lives as long as the process: it is built once per session.
    pub fn new(agents: &[AgentDef]) -> AgentTool {
        AgentTool {
            description: Box::leak(describe(agents).into_boxed_str()),
        }
    }
}

fn describe(agents: &[AgentDef]) -> String {
    let items: Vec<(&str, String, &str)> = agents
        .iter()
        .map(|a| (a.name.as_str(), a.name.clone(), a.description.as_str()))
        .collect();
    listing(INTRO, &items, ONE_BUDGET, LIST_BUDGET)
}

impl Tool for AgentTool {
    fn name(&self) -> &'static str {
        "Agent"
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "description": {"type": "string", "description": "A short (3-5 word) description of the task"},
                "prompt": {"type": "string", "description": "The task for the subagent to perform"},
                "subagent_type": {"type": "string", "description": "The type of subagent to use for this task"},
                "model": {"type": "string", "description": "Optional model for this subagent (sonnet, opus, haiku, a model ID, or inherit); the agent's own model otherwise"}
            },
            "required": ["description", "prompt", "subagent_type"],
            "additionalProperties": false
        })
    }

    /// The call itself changes nothing; the subagent's own calls are checked
    /// against its own permissions. So `Agent` calls of one reply run
    /// concurrently and are available in plan mode.
    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        let kind = field(input, "subagent_type").unwrap_or("general-purpose");
        match field(input, "description") {
            Some(d) => format!("{kind}: {d}"),
            None => kind.to_string(),
        }
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let Some(host) = ctx.subagents.clone() else {
                return ToolOutput::error(
                    "Subagents cannot start subagents; do this part of the task yourself.",
                );
            };
            let Some(prompt) = field(&input, "prompt") else {
                return ToolOutput::error("Agent needs a `prompt`: the task for the subagent.");
            };
            let task = SubagentTask {
                agent_type: field(&input, "subagent_type")
                    .unwrap_or("general-purpose")
                    .to_string(),
                description: field(&input, "description").unwrap_or_default().to_string(),
                prompt: prompt.to_string(),
                model: field(&input, "model").map(str::to_string),
                skill: None,
                parent_tool_use_id: ctx.tool_use_id.clone(),
            };
            match host.run_reporting(task, ctx.events.clone()).await {
                Ok(done) => {
                    let tokens = done.usage.input_tokens
                        + done.usage.output_tokens
                        + done.usage.cache_read_input_tokens
                        + done.usage.cache_creation_input_tokens;
                    let summary = format!(
                        "Done ({} tool use{} · {tokens} tokens · {})",
                        done.tool_uses,
                        if done.tool_uses == 1 { "" } else { "s" },
                        done.model_id
                    );
                    ToolOutput::ok(done.text, summary)
                }
                Err(e) => ToolOutput::error(e.to_string()),
            }
        })
    }
}
