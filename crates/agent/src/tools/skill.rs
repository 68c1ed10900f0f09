//! `Skill`: the model invokes a skill by name. An inline skill's content
//! (placeholders filled, dynamic context run) comes back as the result for
//! the model to follow; a `context: fork` skill runs as a subagent on its
//! own model and its final text comes back.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{listing, text_field as field};
use super::{Tool, ToolCtx, ToolOutput};
use crate::permissions::Permissions;
use crate::skills::{Context, InvokeEnv, SkillSet, prepare};
use crate::subagents::SubagentTask;

/// The most characters of skill descriptions the tool's description lists
/// (Claude Code keeps the listing to a similar budget).
const LIST_BUDGET: usize = 12_000;
/// The most characters of one skill's description in that list.
const ONE_BUDGET: usize = 250;

const INTRO: &str = "Run a skill: a packaged set of instructions from this project or the user, for a kind of task. When a request matches a skill's description, call this tool with the skill's name (and any arguments) before doing the work, then follow the instructions it returns. Skills marked (runs as a subagent) do the work themselves and return their result. Do not invoke a skill that is already running.\n\nAvailable skills (`skill`):\n";

pub struct SkillTool {
    skills: Arc<SkillSet>,
    /// The session's permissions when the tool was built: a skill's
    /// dynamic context runs only under them.
    permissions: Permissions,
    env: HashMap<String, String>,
    description: &'static str,
}

impl SkillTool {
    /// The tool, its description listing the skills the model may invoke.
    /// The description lives as long as the process: it is built once per session.
    pub fn new(
        skills: Arc<SkillSet>,
        permissions: Permissions,
        env: HashMap<String, String>,
    ) -> SkillTool {
        SkillTool {
            description: Box::leak(describe(&skills).into_boxed_str()),
            skills,
            permissions,
            env,
        }
    }
}

fn describe(skills: &SkillSet) -> String {
    let items: Vec<(&str, String, &str)> = skills
        .model_invocable()
        .map(|s| {
            let label = if s.context == Context::Fork {
                format!("{} (runs as a subagent)", s.name)
            } else {
                s.name.clone()
            };
            (s.name.as_str(), label, s.description.as_str())
        })
        .collect();
    listing(INTRO, &items, ONE_BUDGET, LIST_BUDGET)
}

impl Tool for SkillTool {
    fn name(&self) -> &'static str {
        "Skill"
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "skill": {"type": "string", "description": "The skill's name, e.g. \"daily\" or \"git:commit\" (no leading slash)"},
                "args": {"type": "string", "description": "Optional arguments for the skill, as a user would type them after its name"}
            },
            "required": ["skill"],
            "additionalProperties": false
        })
    }

    /// Loading instructions changes nothing by itself; what the skill then
    /// does goes through the permissions call by call.
    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        let name = field(input, "skill").unwrap_or_default();
        match field(input, "args") {
            Some(a) => format!("/{name} {a}"),
            None => format!("/{name}"),
        }
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let Some(name) = field(&input, "skill").map(|n| n.trim_start_matches('/')) else {
                return ToolOutput::error("Skill needs `skill`: the name of the skill to run.");
            };
            let Some(skill) = self.skills.get(name) else {
                return ToolOutput::error(format!(
                    "There is no skill named `{name}`. Available: {}.",
                    self.skills
                        .model_invocable()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            if skill.disable_model_invocation {
                return ToolOutput::error(format!(
                    "The skill `{name}` can only be invoked by the user (disable-model-invocation)."
                ));
            }
            let args = field(&input, "args").unwrap_or_default();
            let cwd = ctx.cwd();
            let at = InvokeEnv {
                session_id: &ctx.session_id,
                project_dir: &ctx.project_root,
                cwd: &cwd,
                env: &self.env,
                permissions: Some(&self.permissions),
            };
            let line = format!("/{name} {args}");
            let invocation = match prepare(&line, &[skill], args, &at).await {
                Ok(i) => i,
                Err(e) => return ToolOutput::error(e.to_string()),
            };
            let Some(step) = invocation.steps.into_iter().next() else {
                return ToolOutput::error(format!("The skill `{name}` produced nothing to run."));
            };
            if step.context == Context::Inline {
                if !step.allowed_tools.is_empty()
                    && let Ok(mut grants) = ctx.skill_grants.lock()
                {
                    grants.push((
                        step.allowed_tools.clone(),
                        skill.source.display().to_string(),
                    ));
                }
                let summary = format!("Loaded /{name}");
                let text = format!(
                    "Skill /{name} (from {}). Follow these instructions:\n\n{}",
                    skill.source.display(),
                    step.content
                );
                return ToolOutput::ok(text, summary);
            }
            let Some(host) = ctx.subagents.clone() else {
                return ToolOutput::error(format!(
                    "The skill `{name}` runs as a subagent, which cannot start inside a subagent; follow its task yourself."
                ));
            };
            let task = SubagentTask {
                agent_type: step.agent.unwrap_or_else(|| "general-purpose".into()),
                description: format!("/{name}"),
                prompt: step.content,
                model: step.model,
                skill: Some(name.to_string()),
                parent_tool_use_id: ctx.tool_use_id.clone(),
            };
            match host.run_reporting(task, ctx.events.clone()).await {
                Ok(done) => {
                    let summary = format!("/{name} done on {}", done.model_id);
                    ToolOutput::ok(done.text, summary)
                }
                Err(e) => ToolOutput::error(e.to_string()),
            }
        })
    }
}
