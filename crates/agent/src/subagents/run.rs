//! Running one subagent: a child session on the parent's provider and
//! books, with its own model, tools, permissions and messages.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use claude_protocol::{Message, Usage};
use claude_providers::resolve::{ResolveError, ResolvedModel};
use claude_providers::{CallLabel, Provider};
use tokio::sync::mpsc::UnboundedSender;

use super::defs::AgentDef;
use crate::agentic::{Agent, Prompter};
use crate::hooks::Hooks;
use crate::memory::{EnvInfo, Memory};
use crate::permissions::{Mode, Permissions};
use crate::session::{Session, TurnError, TurnEvent, TurnScope};
use crate::setup::Runtime;
use crate::tools::{Sourced, Tool, ToolCtx};
use crate::transcript::TranscriptStore;

/// Tools a subagent never gets: `Agent` (no recursion) and
/// `AskUserQuestion` (several subagents may run at once; the main agent
/// asks the user instead).
const NEVER: [&str; 3] = ["Agent", "Task", "AskUserQuestion"];

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct SubagentTask {
    /// The subagent type: `general-purpose`, `Explore`, `Plan` or a custom agent's name.
    pub agent_type: String,
    /// A few words for progress lines.
    pub description: String,
    /// The task: the subagent's first and only user message.
    pub prompt: String,
    /// Overrides the definition's model: an alias, an ID or `inherit`.
    pub model: Option<String>,
    /// The skill a `context: fork` invocation runs, for the ledger.
    pub skill: Option<String>,
    /// The `Agent` tool call that started it, for stream-json.
    pub parent_tool_use_id: Option<String>,
}

/// What a subagent produced.
#[derive(Debug, Clone)]
pub struct SubagentResult {
    /// Its final reply's text: the `Agent` tool's result.
    pub text: String,
    /// The model ID its requests went to.
    pub model_id: String,
    /// Tokens of all its requests.
    pub usage: Usage,
    /// USD at the catalog's prices.
    pub cost_usd: f64,
    /// Model requests it made.
    pub num_turns: u32,
    /// Tool calls it made.
    pub tool_uses: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SubagentError {
    #[error("There is no subagent type `{name}`. Available: {available}.")]
    UnknownType { name: String, available: String },
    #[error("The {agent_type} subagent's model cannot be used: {source}")]
    Model {
        agent_type: String,
        source: ResolveError,
    },
    #[error("The {agent_type} subagent failed: {source}")]
    Turn {
        agent_type: String,
        source: TurnError,
    },
}

/// The parent's side of the tool loop, as it stands when subagents start.
struct Parent {
    permissions: Permissions,
    model: ResolvedModel,
}

/// The parent's tools and the sources that change some of them.
type ParentTools = (Vec<Arc<dyn Tool>>, Vec<Sourced>);

/// Starts subagents for one session. Shared (in an `Arc`) by the `Agent`
/// tool through [`ToolCtx::subagents`] and by `context: fork` skills.
pub struct SubagentHost {
    provider: Arc<dyn Provider>,
    runtime: Runtime,
    store: TranscriptStore,
    agents: Vec<AgentDef>,
    /// The parent's tools, kept up to date with its sources when a subagent starts.
    tools: tokio::sync::Mutex<ParentTools>,
    memory: Memory,
    env: EnvInfo,
    /// The parent's prompter, one question at a time: subagents run concurrently.
    prompter: Option<Prompter>,
    project_root: PathBuf,
    cwd: Arc<Mutex<PathBuf>>,
    tasks: Arc<Mutex<Vec<serde_json::Value>>>,
    /// The parent's hooks: PreToolUse and the others apply inside subagents too.
    hooks: Hooks,
    parent: Mutex<Parent>,
}

impl SubagentHost {
    /// A host for the session whose provider, runtime and tool loop these are.
    pub fn new(
        provider: Arc<dyn Provider>,
        runtime: Runtime,
        store: TranscriptStore,
        parent: &Agent,
        agents: Vec<AgentDef>,
    ) -> SubagentHost {
        SubagentHost {
            provider,
            store,
            agents,
            tools: tokio::sync::Mutex::new((parent.tools.clone(), parent.sources.clone())),
            memory: parent.memory.clone(),
            env: parent.env.clone(),
            prompter: parent.prompter.clone().map(one_at_a_time),
            project_root: parent.ctx.project_root.clone(),
            cwd: parent.ctx.cwd.clone(),
            tasks: parent.ctx.tasks.clone(),
            hooks: parent.hooks.clone(),
            parent: Mutex::new(Parent {
                permissions: parent.permissions.clone(),
                model: runtime.model.clone(),
            }),
            runtime,
        }
    }

    /// Takes the parent's current permissions (mode, rules saved since) and
    /// model (`inherit`) for the subagents started from now on.
    pub fn sync_parent(&self, permissions: &Permissions, model: &ResolvedModel) {
        let mut p = self.parent.lock().unwrap_or_else(PoisonError::into_inner);
        p.permissions = permissions.clone();
        p.model = model.clone();
    }

    /// Runs a subagent to the end, reporting nothing while it runs.
    pub async fn run(&self, task: SubagentTask) -> Result<SubagentResult, SubagentError> {
        self.run_reporting(task, None).await
    }

    /// Runs a subagent to the end; what it does is sent to `events` as
    /// [`TurnEvent::Subagent`], tagged with the task's `parent_tool_use_id`.
    pub async fn run_reporting(
        &self,
        task: SubagentTask,
        events: Option<UnboundedSender<TurnEvent>>,
    ) -> Result<SubagentResult, SubagentError> {
        let agent_type = task.agent_type.clone();
        let Some(def) = self.agents.iter().find(|d| d.name == agent_type) else {
            return Err(SubagentError::UnknownType {
                name: agent_type,
                available: self
                    .agents
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let (permissions, parent_model) = {
            let p = self.parent.lock().unwrap_or_else(PoisonError::into_inner);
            (p.permissions.clone(), p.model.clone())
        };
        let requested = task
            .model
            .as_deref()
            .or(def.model.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("inherit"));
        let model = match requested {
            Some(m) => self
                .runtime
                .resolve_model(m)
                .map_err(|source| SubagentError::Model {
                    agent_type: agent_type.clone(),
                    source,
                })?,
            None => parent_model,
        };
        let mut runtime = self.runtime.clone();
        if let Some(books) = &runtime.accounting {
            books.note_model(&model);
        }
        runtime.use_model(model.clone());
        let cwd = self.cwd.lock().map(|c| c.clone()).unwrap_or_default();
        let mut session = Session::child(
            runtime,
            self.provider.clone(),
            self.store.clone(),
            cwd.clone(),
        );
        let tools = {
            let mut guard = self.tools.lock().await;
            let (tools, sources) = &mut *guard;
            for sourced in sources.iter_mut() {
                sourced.sync(tools, |_| true).await;
            }
            tools.clone()
        };
        session.enable_tools(self.child_agent(def, &tools, permissions, &model, cwd));

        let parent_tool_use_id = task.parent_tool_use_id.clone();
        let report = |event: TurnEvent| {
            if let Some(tx) = &events {
                // The parent stops listening only when it is cancelled.
                let _ = tx.send(TurnEvent::Subagent {
                    parent_tool_use_id: parent_tool_use_id.clone(),
                    agent_type: agent_type.clone(),
                    event: Box::new(event),
                });
            }
        };
        report(TurnEvent::Message(Message::user(task.prompt.as_str())));
        let mut tool_uses = 0;
        let mut sink = |event: TurnEvent| {
            if matches!(event, TurnEvent::ToolStarted { .. }) {
                tool_uses += 1;
            }
            report(event);
        };
        let scope = TurnScope {
            model: None,
            label: Some(CallLabel {
                purpose: "subagent".into(),
                skill: task.skill.clone(),
                agent_type: Some(agent_type.clone()),
            }),
            prompt_context: None,
        };
        // Cancelling the parent drops this future, which stops the subagent.
        let never = std::future::pending::<()>();
        let done = session
            .turn_with(&task.prompt, scope, &mut sink, never)
            .await
            .map_err(|source| SubagentError::Turn {
                agent_type: agent_type.clone(),
                source,
            })?;
        // SubagentStop hooks fired when the child's turn ended (Session::turn).
        let mut usage = Usage::default();
        for c in &session.costs {
            usage.input_tokens += c.usage.input_tokens;
            usage.output_tokens += c.usage.output_tokens;
            usage.cache_creation_input_tokens += c.usage.cache_creation_input_tokens;
            usage.cache_read_input_tokens += c.usage.cache_read_input_tokens;
        }
        let text = done.message.content.text();
        Ok(SubagentResult {
            text: if text.trim().is_empty() {
                format!("The {agent_type} subagent finished without a reply.")
            } else {
                text
            },
            model_id: model.model_id,
            usage,
            cost_usd: session.total_cost(),
            num_turns: session.last_turn.num_turns,
            tool_uses,
        })
    }

    /// The child's tool loop: the definition's tools (never `Agent`), the
    /// parent's permissions under the definition's mode, memory unless the
    /// type skips it, and the definition's body as its system prompt.
    fn child_agent(
        &self,
        def: &AgentDef,
        tools: &[Arc<dyn Tool>],
        mut permissions: Permissions,
        model: &ResolvedModel,
        cwd: PathBuf,
    ) -> Agent {
        let tools = tools
            .iter()
            .filter(|t| !NEVER.contains(&t.name()))
            .filter(|t| {
                def.tools
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|n| n == t.name()))
            })
            .filter(|t| !def.disallowed_tools.iter().any(|n| n == t.name()))
            .cloned()
            .collect();
        // The parent's plan mode (read-only) and bypassPermissions stand, as in
        // Claude Code; otherwise the definition's mode applies.
        let parent_mode = permissions.mode();
        if !matches!(parent_mode, Mode::Plan | Mode::BypassPermissions)
            && let Some(mode) = def.permission_mode.as_deref().and_then(|m| m.parse().ok())
        {
            // bypassPermissions may be disabled by policy; the parent's mode then stays.
            let _ = permissions.set_mode(mode);
        }
        let mut ctx = ToolCtx::new(cwd.clone(), self.project_root.clone(), String::new());
        ctx.tasks = self.tasks.clone();
        Agent {
            tools,
            permissions,
            memory: if def.skips_memory() {
                Memory::default()
            } else {
                self.memory.clone()
            },
            ctx,
            prompter: self.prompter.clone(),
            max_turns: def.max_turns,
            env: EnvInfo {
                cwd,
                model: model.model_id.clone(),
                ..self.env.clone()
            },
            touched: Vec::new(),
            agent_prompt: Some(def.prompt.clone()),
            hooks: self.hooks.clone(),
            sources: Vec::new(),
        }
    }
}

/// Lets concurrent subagents ask the user one question at a time.
fn one_at_a_time(prompter: Prompter) -> Prompter {
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    Arc::new(move |request| {
        let prompter = prompter.clone();
        let turn = turn.clone();
        Box::pin(async move {
            let _mine = turn.lock().await;
            prompter(request).await
        })
    })
}
