//! The tool loop: tools declared in every request, each `tool_use` checked
//! against the permissions, run, and answered with a `tool_result`, until the
//! model ends its turn or `--max-turns` is reached.

use std::path::PathBuf;
use std::sync::Arc;

use claude_protocol::{ContentBlock, Message, MessageContent, Tool as ToolDecl};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Value, json};

use crate::memory::{EnvInfo, Memory, system_prompt};
use crate::permissions::{Decision, Mode, Permissions};
use crate::tools::{Tool, ToolCtx, ToolOutput};

/// A question to the user about one tool call.
#[derive(Debug, Clone)]
pub struct PermissionRequest {
    pub tool: String,
    pub key_arg: String,
    pub input: Value,
    /// The rule "yes, don't ask again" would save.
    pub suggested_rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionAnswer {
    AllowOnce,
    /// Allow, and save the suggested rule to `.claude/settings.local.json`.
    AllowAlways,
    /// Deny, with a reason for the model.
    Deny(String),
}

/// How the front end asks; `None` in print mode, where asking means denying.
pub type Prompter =
    Arc<dyn Fn(PermissionRequest) -> BoxFuture<'static, PermissionAnswer> + Send + Sync>;

/// A tool call that was not allowed, as Claude Code reports it in print mode.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionDenial {
    pub tool_name: String,
    pub tool_use_id: String,
    pub tool_input: Value,
}

/// Everything the tool loop needs beyond the conversation.
pub struct Agent {
    pub tools: Vec<Arc<dyn Tool>>,
    pub permissions: Permissions,
    pub memory: Memory,
    pub ctx: ToolCtx,
    pub prompter: Option<Prompter>,
    pub max_turns: Option<u32>,
    pub env: EnvInfo,
    /// Files the model touched, for rules with `paths:` frontmatter.
    pub touched: Vec<PathBuf>,
}

impl Agent {
    /// The tools the request declares: a bare deny removes a tool.
    pub fn declared(&self) -> Vec<ToolDecl> {
        self.tools
            .iter()
            .filter(|t| !self.permissions.tool_removed(t.name()))
            .map(|t| ToolDecl {
                name: t.name().to_string(),
                description: Some(t.description().to_string()),
                input_schema: t.input_schema(),
                cache_control: None,
            })
            .collect()
    }

    /// The system prompt: how to work, the environment, then memory.
    pub fn system(&self) -> String {
        let names: Vec<&str> = self.tools.iter().map(|t| t.name()).collect();
        let mut text = system_prompt(&self.env, &names);
        if self.permissions.mode() == Mode::Plan {
            text.push_str("\n\nPlan mode is on: only read-only tools are available. Investigate, then present a plan for the user to approve; do not change files or run commands that change anything.");
        }
        let memory = self.memory.system_text(&self.touched);
        if !memory.is_empty() {
            text.push_str("\n\n");
            text.push_str(&memory);
        }
        text
    }

    fn tool(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name).cloned()
    }

    pub fn note_touched(&mut self, input: &Value) {
        let cwd = self.ctx.cwd();
        for key in ["file_path", "path", "notebook_path"] {
            if let Some(p) = input.get(key).and_then(Value::as_str) {
                self.touched.push(cwd.join(p));
            }
        }
    }

    /// Decides one call, asking the user when the rules say ask and a
    /// prompter exists. Text from earlier tool results never reaches here:
    /// the decision depends on rules, mode and this call's input only.
    pub async fn authorize(&mut self, name: &str, input: &Value) -> Result<(), String> {
        let Some(tool) = self.tool(name) else {
            return Err(format!("There is no tool named {name}."));
        };
        let cwd = self.ctx.cwd();
        match self.permissions.decide(name, input, tool.read_only(), &cwd) {
            Decision::Allow { .. } => Ok(()),
            Decision::Deny { reason, .. } => Err(reason),
            Decision::Ask { .. } => {
                let Some(prompter) = self.prompter.clone() else {
                    return Err(format!(
                        "Permission to use {name} was not granted: print mode cannot ask. Allow it with --allowedTools \"{name}\" or a permissions.allow rule in .claude/settings.json."
                    ));
                };
                let key_arg = tool.key_arg(input);
                let suggested_rule = suggested_rule(name, &key_arg);
                let answer = prompter(PermissionRequest {
                    tool: name.to_string(),
                    key_arg,
                    input: input.clone(),
                    suggested_rule: suggested_rule.clone(),
                })
                .await;
                match answer {
                    PermissionAnswer::AllowOnce => Ok(()),
                    PermissionAnswer::AllowAlways => {
                        let root = self.ctx.project_root.clone();
                        // Saving may fail (read-only checkout); the call is still allowed once.
                        let _ = self.permissions.add_allow_rule(&suggested_rule, &root);
                        Ok(())
                    }
                    PermissionAnswer::Deny(reason) if reason.trim().is_empty() => {
                        Err(format!("The user denied this {name} call."))
                    }
                    PermissionAnswer::Deny(reason) => {
                        Err(format!("The user denied this {name} call: {reason}"))
                    }
                }
            }
        }
    }

    /// Runs one allowed call; shared access so read-only calls can run together.
    pub async fn run(&self, name: &str, input: Value) -> ToolOutput {
        match self.tool(name) {
            Some(t) => t.call(input, &self.ctx).await,
            None => ToolOutput::error(format!("There is no tool named {name}.")),
        }
    }

    pub fn is_read_only(&self, name: &str) -> bool {
        self.tool(name).is_some_and(|t| t.read_only())
    }

    pub fn key_arg(&self, name: &str, input: &Value) -> String {
        self.tool(name)
            .map(|t| t.key_arg(input))
            .unwrap_or_default()
    }
}

/// The rule "don't ask again" saves: the command's first word for Bash
/// (`Bash(npm run *)`), the domain for WebFetch, the tool otherwise.
pub fn suggested_rule(tool: &str, key_arg: &str) -> String {
    match tool {
        "Bash" => {
            // Tools whose second word is the real command keep it, so
            // "npm run" is remembered without also allowing "npm publish".
            const SUBCOMMANDS: [&str; 12] = [
                "git",
                "npm",
                "pnpm",
                "yarn",
                "cargo",
                "docker",
                "kubectl",
                "aws",
                "go",
                "pip",
                "terraform",
                "gh",
            ];
            let words: Vec<&str> = key_arg.split_whitespace().take(2).collect();
            match words.as_slice() {
                [] => "Bash".into(),
                [a, b] if SUBCOMMANDS.contains(a) && !b.starts_with('-') => {
                    format!("Bash({a} {b} *)")
                }
                [a, ..] => format!("Bash({a} *)"),
            }
        }
        "WebFetch" => {
            let host = key_arg
                .split("://")
                .nth(1)
                .and_then(|r| r.split(['/', ':', '?']).next())
                .unwrap_or_default();
            if host.is_empty() {
                "WebFetch".into()
            } else {
                format!("WebFetch(domain:{host})")
            }
        }
        other => other.to_string(),
    }
}

/// The `tool_use` blocks of an assistant message, in order.
pub fn tool_uses(message: &Message) -> Vec<(String, String, Value)> {
    match &message.content {
        MessageContent::Blocks(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                ContentBlock::ToolUse { id, name, input } => {
                    Some((id.clone(), name.clone(), input.clone()))
                }
                _ => None,
            })
            .collect(),
        MessageContent::Text(_) => Vec::new(),
    }
}

pub fn result_block(id: &str, out: &ToolOutput) -> ContentBlock {
    ContentBlock::ToolResult {
        tool_use_id: id.to_string(),
        content: out.content.clone(),
        is_error: out.is_error,
        cache_control: None,
    }
}

pub fn denial_block(id: &str, reason: &str) -> ContentBlock {
    ContentBlock::ToolResult {
        tool_use_id: id.to_string(),
        content: json!(reason),
        is_error: true,
        cache_control: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_rules_follow_claude_code() {
        assert_eq!(suggested_rule("Bash", "npm run build"), "Bash(npm run *)");
        assert_eq!(suggested_rule("Bash", "ls -la"), "Bash(ls *)");
        assert_eq!(suggested_rule("Bash", "pwd"), "Bash(pwd *)");
        assert_eq!(suggested_rule("Bash", "echo hello world"), "Bash(echo *)");
        assert_eq!(suggested_rule("Bash", "git status"), "Bash(git status *)");
        assert_eq!(
            suggested_rule("WebFetch", "https://docs.aws.amazon.com/bedrock/x"),
            "WebFetch(domain:docs.aws.amazon.com)"
        );
        assert_eq!(suggested_rule("Edit", "/x"), "Edit");
    }
}

/// How the front end sets the agent up.
#[derive(Default)]
pub struct AgentOptions {
    pub flags: crate::permissions::PermissionFlags,
    pub max_turns: Option<u32>,
    pub prompter: Option<Prompter>,
    pub ask_user: Option<crate::tools::AskUserFn>,
}

impl Agent {
    /// The built-in tools under the configured permissions, with the
    /// project's CLAUDE.md memory, for a session in `cwd`.
    pub fn from_config(
        cfg: &claude_config::Config,
        cwd: &std::path::Path,
        model: &str,
        opts: AgentOptions,
    ) -> Result<Agent, crate::permissions::PermissionError> {
        let permissions = Permissions::from_config(cfg, cwd, &opts.flags)?;
        let home = cfg.env().get("HOME").map(PathBuf::from);
        let memory = Memory::load(cfg.user_dir(), home.as_deref(), cwd, cfg.project_root());
        let mut ctx = ToolCtx::new(
            cwd.to_path_buf(),
            cfg.project_root().to_path_buf(),
            String::new(),
        );
        ctx.ask_user = opts.ask_user;
        Ok(Agent {
            tools: crate::tools::builtin(),
            permissions,
            memory,
            ctx,
            prompter: opts.prompter,
            max_turns: opts.max_turns,
            env: EnvInfo::detect(cwd, model),
            touched: Vec::new(),
        })
    }
}
