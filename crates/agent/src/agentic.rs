//! The tool loop: tools declared in every request, each `tool_use` checked
//! against the permissions, run, and answered with a `tool_result`, until the
//! model ends its turn or `--max-turns` is reached.

use std::path::PathBuf;
use std::sync::Arc;

use claude_protocol::{ContentBlock, Message, MessageContent, Tool as ToolDecl};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Value, json};

use crate::hooks::{HookEvent, HookInput, HookOutcome, Hooks, PermissionDecision};
use crate::memory::{EnvInfo, Memory, env_block, system_prompt};
use crate::permissions::{Decision, Mode, Permissions};
use crate::session::TurnEvent;
use crate::tools::{Sourced, Tool, ToolCtx, ToolOutput, ToolSource};

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
    /// A subagent's own system prompt (its definition's body), in place of
    /// the built-in one; the environment and memory still follow it.
    pub agent_prompt: Option<String>,
    /// The session's hooks; a subagent shares its parent's.
    pub hooks: Hooks,
    /// Where tools that change during the session come from (MCP servers).
    pub sources: Vec<Sourced>,
}

/// What authorising one call decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorized {
    /// Allowed, or denied with a reason for the model.
    pub result: Result<(), String>,
    /// A hook's `continue: false`: end the turn after this reply's calls,
    /// with this reason for the user.
    pub stop: Option<String>,
}

impl Agent {
    /// Adds a source's tools now, and keeps them up to date before every
    /// request ([`Agent::sync_tools`]).
    pub fn add_source(&mut self, source: Arc<dyn ToolSource>) {
        self.tools.extend(source.tools());
        self.sources.push(Sourced { source, seen: 0 });
    }

    /// Takes in the tool lists that changed since the last request.
    pub async fn sync_tools(&mut self) {
        for sourced in &mut self.sources {
            sourced.sync(&mut self.tools, |_| true).await;
        }
    }

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
        let mut text = match &self.agent_prompt {
            Some(own) => format!("{own}\n{}", env_block(&self.env)),
            None => system_prompt(&self.env, &names),
        };
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

    /// The tool a call names; `Task` is `Agent`'s old name.
    fn tool(&self, name: &str) -> Option<Arc<dyn Tool>> {
        let name = if name == "Task" { "Agent" } else { name };
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
    /// the decision depends on rules, mode, hooks and this call's input only.
    ///
    /// PreToolUse hooks run first and may rewrite `input` (`updatedInput`).
    /// Deny rules always hold; then a hook's deny denies, its allow skips
    /// the prompt, its ask forces one. Before a prompt, PermissionRequest
    /// hooks may answer it; otherwise Notification hooks fire and the user
    /// is asked. `base` carries the hooks' common input fields.
    pub async fn authorize(
        &mut self,
        id: &str,
        name: &str,
        input: &mut Value,
        base: &HookInput,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Authorized {
        let Some(tool) = self.tool(name) else {
            return Authorized {
                result: Err(format!("There is no tool named {name}.")),
                stop: None,
            };
        };
        let call = |input: &Value| {
            base.clone()
                .with("tool_name", name)
                .with("tool_input", input.clone())
                .with("tool_use_id", id)
        };
        let pre = fire(&self.hooks, HookEvent::PreToolUse, call(input), sink).await;
        let denied = |reason: &str, event: HookEvent| {
            if reason.is_empty() {
                Err(format!("A {event} hook denied this {name} call."))
            } else {
                Err(format!("A {event} hook denied this {name} call: {reason}"))
            }
        };
        let hook = pre.permission.clone();
        if !matches!(hook, Some((PermissionDecision::Deny, _)))
            && let Some(updated) = pre.updated_input
        {
            *input = updated;
        }
        let cwd = self.ctx.cwd();
        // A skill the model invoked this turn pre-approves its `allowed-tools`.
        let granted = self.ctx.granted(&self.permissions);
        let permissions = granted.as_ref().unwrap_or(&self.permissions);
        let result = match (
            permissions.decide(name, input, tool.read_only(), &cwd),
            hook,
        ) {
            (Decision::Deny { reason, .. }, _) => Err(reason),
            (_, Some((PermissionDecision::Deny, reason))) => denied(&reason, HookEvent::PreToolUse),
            (_, Some((PermissionDecision::Allow, _))) | (Decision::Allow { .. }, None) => Ok(()),
            (Decision::Ask { .. }, _) | (_, Some((PermissionDecision::Ask, _))) => {
                let asked =
                    fire(&self.hooks, HookEvent::PermissionRequest, call(input), sink).await;
                match asked.permission {
                    Some((PermissionDecision::Allow, _)) => {
                        if let Some(updated) = asked.updated_input {
                            *input = updated;
                        }
                        Ok(())
                    }
                    Some((PermissionDecision::Deny, reason)) => {
                        denied(&reason, HookEvent::PermissionRequest)
                    }
                    _ => self.ask(name, &tool, input, base, sink).await,
                }
            }
        };
        Authorized {
            result,
            stop: pre.stop,
        }
    }

    /// Asks the user about one call (Notification hooks fire first); in
    /// print mode, where nobody can answer, the call is denied.
    async fn ask(
        &mut self,
        name: &str,
        tool: &Arc<dyn Tool>,
        input: &Value,
        base: &HookInput,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<(), String> {
        let Some(prompter) = self.prompter.clone() else {
            return Err(format!(
                "Permission to use {name} was not granted: print mode cannot ask. Allow it with --allowedTools \"{name}\" or a permissions.allow rule in .claude/settings.json."
            ));
        };
        let notice = base
            .clone()
            .with(
                "message",
                format!("Claude needs your permission to use {name}"),
            )
            .with("notification_type", "permission_prompt");
        fire(&self.hooks, HookEvent::Notification, notice, sink).await;
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

    /// PostToolUse (or PostToolUseFailure) hooks for a finished call: their
    /// `additionalContext`, and the reason of a block, are added to what the
    /// model reads. Returns the output and a `continue: false` reason.
    pub async fn after_tool(
        &self,
        id: &str,
        name: &str,
        input: &Value,
        mut out: ToolOutput,
        base: &HookInput,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> (ToolOutput, Option<String>) {
        let call = base
            .clone()
            .with("tool_name", name)
            .with("tool_input", input.clone())
            .with("tool_use_id", id);
        let (event, call) = if out.is_error {
            let error = match &out.content {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (
                HookEvent::PostToolUseFailure,
                call.with("error", error).with("is_interrupt", false),
            )
        } else {
            (
                HookEvent::PostToolUse,
                call.with("tool_response", out.content.clone()),
            )
        };
        let outcome = fire(&self.hooks, event, call, sink).await;
        let mut notes = Vec::new();
        if let Some(reason) = &outcome.block {
            notes.push(format!("{event} hook feedback:\n{reason}"));
        }
        if let Some(context) = outcome.context() {
            notes.push(context);
        }
        if !notes.is_empty() {
            let note = notes.join("\n\n");
            out.content = match out.content {
                Value::String(s) => Value::String(format!("{s}\n\n{note}")),
                Value::Array(mut blocks) => {
                    blocks.push(json!({"type": "text", "text": note}));
                    Value::Array(blocks)
                }
                other => Value::String(format!("{other}\n\n{note}")),
            };
        }
        (out, outcome.stop)
    }

    /// Runs one allowed call; shared access so read-only calls can run
    /// together. The call knows its `tool_use` id and may report progress to
    /// `events` while it runs (a subagent's steps).
    pub async fn run(
        &self,
        id: &str,
        name: &str,
        input: Value,
        events: tokio::sync::mpsc::UnboundedSender<crate::session::TurnEvent>,
    ) -> ToolOutput {
        let mut ctx = self.ctx.clone();
        ctx.tool_use_id = Some(id.to_string());
        ctx.events = Some(events);
        match self.tool(name) {
            Some(t) => t.call(input, &ctx).await,
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

/// Fires a hook event and shows the user what the hooks said (system
/// messages, failures, timeouts) as [`TurnEvent::HookMessage`].
pub(crate) async fn fire(
    hooks: &Hooks,
    event: HookEvent,
    input: HookInput,
    sink: &mut (dyn FnMut(TurnEvent) + Send),
) -> HookOutcome {
    let outcome = hooks.fire(event, input).await;
    for m in &outcome.messages {
        sink(TurnEvent::HookMessage {
            event: m.event,
            text: m.text.clone(),
            is_error: m.is_error,
        });
    }
    outcome
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
            agent_prompt: None,
            hooks: Hooks::from_config(cfg),
            sources: Vec::new(),
        })
    }
}
