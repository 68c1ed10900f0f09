//! A conversation: its messages, its model, its transcript and its cost.
//!
//! The session owns the provider it was started with and never changes it;
//! the model may change within the provider. Every turn is written ahead to
//! the transcript so nothing shown is ever lost.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claude_protocol::{
    BlockDelta, ContentBlock, Message, MessageContent, MessagesRequest, Role, StreamEvent,
    SystemPrompt, Usage,
};
use claude_providers::resolve::{ResolveError, ResolvedModel};
use claude_providers::{
    CallLabel, CallOptions, Completion, Provider, ProviderError, ProviderEvent,
};
use serde::Serialize;

use crate::agentic::{Agent, PermissionDenial, denial_block, fire, result_block, tool_uses};
use crate::hooks::{HookEvent, HookInput};
use crate::setup::{Runtime, cost_on};
use crate::subagents::{AgentDef, SubagentHost};
use crate::tools::agent::AgentTool;
use crate::transcript::{
    AssistantRecord, LoadedSession, SessionMeta, Transcript, TranscriptError, TranscriptStore,
    new_uuid, summary_message,
};

/// What a session reports while a turn runs; the front end renders it.
#[derive(Debug, Clone)]
pub enum TurnEvent {
    Provider(ProviderEvent),
    /// Older turns were summarised because the context was about to overflow.
    AutoCompacted {
        tokens_before: u64,
        tokens_after: u64,
    },
    ToolStarted {
        id: String,
        name: String,
        key_arg: String,
    },
    ToolFinished {
        id: String,
        name: String,
        summary: String,
        is_error: bool,
    },
    ToolDenied {
        id: String,
        name: String,
        reason: String,
    },
    /// A complete message of the conversation: each assistant reply and
    /// each user message of tool results (stream-json prints them).
    Message(Message),
    /// Something a subagent did, under the `Agent` call that started it
    /// (`None` for a `context: fork` skill run outside a tool call).
    Subagent {
        parent_tool_use_id: Option<String>,
        agent_type: String,
        event: Box<TurnEvent>,
    },
    /// A hook's `systemMessage`, or a hook that failed or timed out (never
    /// blocking): for the user, not the model.
    HookMessage {
        event: HookEvent,
        text: String,
        is_error: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("cancelled")]
    Cancelled { partial: String },
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    #[error("stopped after {turns} turns (--max-turns); the model wanted to go on")]
    MaxTurns { turns: u32 },
    /// A skill invocation that could not run (a failing `!` command, an
    /// unusable `model:`, a forked skill whose subagent failed).
    #[error(transparent)]
    Skill(#[from] crate::skills::SkillRunError),
    /// A UserPromptSubmit hook blocked the prompt (it was not sent), or a
    /// hook answered `continue: false`.
    #[error("stopped by a {event} hook: {reason}")]
    HookStopped { event: HookEvent, reason: String },
}

/// What the last turn did, for print mode's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TurnStats {
    pub num_turns: u32,
    pub permission_denials: Vec<PermissionDenial>,
    /// A PreToolUse or PostToolUse hook's `continue: false`, and its reason.
    #[serde(skip)]
    pub stopped_by_hook: Option<(HookEvent, String)>,
}

/// How many times Stop hooks may send the model back to work in one turn.
const MAX_STOP_CONTINUES: u32 = 8;

const INTERRUPTED: &str = "The user interrupted this tool call (Ctrl-C) before it finished; it was stopped. Ask before retrying it.";

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "This session was recorded with the {recorded} provider, and you cannot switch providers mid-session. Start a new session instead: `claude --provider {requested}` (or resume it with `claude --provider {recorded} --resume {id}`)."
    )]
    ProviderMismatch {
        recorded: String,
        requested: String,
        id: String,
    },
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    #[error(transparent)]
    Model(#[from] ResolveError),
}

/// What one billed request cost, for `/cost`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestCost {
    pub model: String,
    pub usage: Usage,
    pub cost_usd: f64,
    /// `turn`, `summary` (from /wipe, /compact or auto-compaction).
    pub kind: &'static str,
}

/// What applies to one turn only: a skill's `model:` and the label its
/// requests are filed under. The session's own model is untouched.
#[derive(Debug, Clone, Default)]
pub struct TurnScope {
    pub model: Option<ResolvedModel>,
    pub label: Option<CallLabel>,
    /// Set when UserPromptSubmit hooks already ran (on a skill's typed
    /// line): the context they added.
    pub prompt_context: Option<Vec<String>>,
}

pub struct Session {
    pub id: String,
    pub runtime: Runtime,
    /// Shared with the subagents this session starts.
    provider: Arc<dyn Provider>,
    scope: TurnScope,
    pub messages: Vec<Message>,
    transcript: Option<Transcript>,
    store: TranscriptStore,
    cwd: PathBuf,
    entrypoint: &'static str,
    pub costs: Vec<RequestCost>,
    /// Input tokens (cache included) of the last request: the context size.
    pub last_context_tokens: Option<u64>,
    pub started: Instant,
    pub agent: Option<Agent>,
    pub last_turn: TurnStats,
    /// The skills and commands `/name` invokes, when loaded.
    pub skills: Option<crate::skills::Skills>,
    /// SessionStart hooks' context, sent with the next prompt.
    hook_context: Vec<String>,
}

const HANDOFF_PROMPT: &str = "Write a handoff summary of this conversation for a fresh session that will continue the work without seeing it. Include: the goal, decisions made and why, facts established, files or notes involved, open questions, and the next steps. Be complete but concise; use short Markdown sections. Reply with the summary only.";
const QUICK_PROMPT: &str = "Write the essentials of this conversation for a fresh session: the goal, the current state and the next step, in at most five bullet points. Reply with the bullets only.";

impl Session {
    pub async fn start(
        mut runtime: Runtime,
        store: TranscriptStore,
        cwd: PathBuf,
        entrypoint: &'static str,
        persist: bool,
    ) -> Result<Session, SessionError> {
        let provider = Arc::from(runtime.connect().await);
        runtime.settle_profile();
        let id = new_uuid();
        let transcript = if persist {
            Some(store.create(meta(&runtime, &id, &cwd, entrypoint))?)
        } else {
            None
        };
        Ok(Session::new(
            id, runtime, provider, store, cwd, entrypoint, transcript,
        ))
    }

    /// A session with no messages, tools or skills yet: what every
    /// constructor starts from.
    fn new(
        id: String,
        runtime: Runtime,
        provider: Arc<dyn Provider>,
        store: TranscriptStore,
        cwd: PathBuf,
        entrypoint: &'static str,
        transcript: Option<Transcript>,
    ) -> Session {
        Session {
            id,
            provider,
            scope: TurnScope::default(),
            runtime,
            messages: Vec::new(),
            transcript,
            store,
            cwd,
            entrypoint,
            costs: Vec::new(),
            last_context_tokens: None,
            started: Instant::now(),
            agent: None,
            last_turn: TurnStats::default(),
            skills: None,
            hook_context: Vec::new(),
        }
    }

    /// Continues a recorded session; refuses a different provider.
    pub async fn resume(
        mut runtime: Runtime,
        store: TranscriptStore,
        loaded: LoadedSession,
        explicit_model: bool,
    ) -> Result<Session, SessionError> {
        let requested = runtime.provider.as_str().to_string();
        if loaded.meta.provider != requested {
            return Err(SessionError::ProviderMismatch {
                recorded: loaded.meta.provider.clone(),
                requested,
                id: loaded.meta.session_id.clone(),
            });
        }
        if !explicit_model && !loaded.last_model.is_empty() {
            let model = runtime.resolve_model(&loaded.last_model)?;
            runtime.use_model(model);
        }
        let transcript = store.reopen(&loaded)?;
        let costs = loaded
            .usage
            .iter()
            .map(|(model, usage, cost)| RequestCost {
                model: model.clone(),
                usage: *usage,
                cost_usd: *cost,
                kind: "turn",
            })
            .collect();
        let provider = Arc::from(runtime.connect().await);
        runtime.settle_profile();
        let mut session = Session::new(
            loaded.meta.session_id.clone(),
            runtime,
            provider,
            store,
            PathBuf::from(&loaded.meta.cwd),
            "repl",
            Some(transcript),
        );
        session.messages = normalize(loaded.messages);
        session.costs = costs;
        Ok(session)
    }

    /// A subagent's session: the parent's provider (and so its books), its
    /// own runtime (model) and messages, no transcript.
    pub fn child(
        runtime: Runtime,
        provider: Arc<dyn Provider>,
        store: TranscriptStore,
        cwd: PathBuf,
    ) -> Session {
        Session::new(new_uuid(), runtime, provider, store, cwd, "subagent", None)
    }

    /// Records a prompt answered locally, without a model (the native `/q`): the user line and
    /// an assistant line with zero usage and model `native:/q` in the transcript, and both
    /// messages in the conversation.
    pub fn record_local(&mut self, prompt: &str, answer: &str) -> Result<(), TranscriptError> {
        self.record_exchange(prompt, answer, "native:/q")
    }

    /// Records a prompt and an answer that did not come from this
    /// session's own model request (a native command, a forked skill's
    /// subagent, whose requests are in the ledger under its own rows).
    pub fn record_exchange(
        &mut self,
        prompt: &str,
        answer: &str,
        model: &str,
    ) -> Result<(), TranscriptError> {
        let user = Message::user(prompt);
        let reply = Message {
            role: Role::Assistant,
            content: MessageContent::Text(answer.to_string()),
        };
        if let Some(t) = &mut self.transcript {
            t.user(&user)?;
            let uuid = new_uuid();
            t.assistant(
                &uuid,
                &AssistantRecord {
                    message: &reply,
                    model,
                    message_id: "",
                    stop_reason: Some("end_turn"),
                    usage: &Usage::default(),
                    cost_usd: 0.0,
                    request_id: None,
                    incomplete: false,
                },
            )?;
        }
        push_merged(&mut self.messages, user);
        self.messages.push(reply);
        Ok(())
    }

    /// The directory the session started in.
    pub fn cwd(&self) -> &std::path::Path {
        &self.cwd
    }

    pub fn transcript_path(&self) -> Option<PathBuf> {
        self.transcript.as_ref().map(|t| t.path().to_path_buf())
    }

    /// Switches the model within the provider.
    pub fn set_model(&mut self, requested: &str) -> Result<(), SessionError> {
        let model = self.runtime.resolve_model(requested)?;
        self.runtime.use_model(model);
        if let Some(t) = &mut self.transcript {
            t.model_switch(&self.runtime.model.model_id)?;
        }
        Ok(())
    }

    pub fn total_cost(&self) -> f64 {
        // An empty float sum is -0.0, which would print as "$-0.0000".
        self.costs.iter().map(|c| c.cost_usd).sum::<f64>() + 0.0
    }

    /// The context's size in tokens: measured on the last request, estimated
    /// (4 characters a token) for what was added since or when unknown.
    pub fn context_tokens(&self) -> u64 {
        estimate_tokens(&self.messages).max(self.last_context_tokens.unwrap_or(0))
    }

    /// The model this turn's requests go to: the turn's scope, else the session's.
    pub fn model_in_use(&self) -> &ResolvedModel {
        self.scope.model.as_ref().unwrap_or(&self.runtime.model)
    }

    /// The provider, for subagents that share this session's connection and books.
    pub fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    fn request(&self, messages: Vec<Message>) -> MessagesRequest {
        let (tools, system) = match &self.agent {
            Some(a) => (a.declared(), Some(SystemPrompt::Text(a.system()))),
            None => (Vec::new(), None),
        };
        MessagesRequest {
            max_tokens: match &self.scope.model {
                Some(m) => self.runtime.max_tokens_on(m),
                None => self.runtime.max_tokens,
            },
            messages,
            tools,
            system,
            ..Default::default()
        }
    }

    /// Turns on the tool loop with these tools, permissions and memory.
    pub fn enable_tools(&mut self, mut agent: Agent) {
        agent.ctx.session_id.clone_from(&self.id);
        self.agent = Some(agent);
    }

    /// Adds the `Agent` tool with these subagent types (after
    /// [`Session::enable_tools`]); subagents run on this session's provider.
    pub fn enable_subagents(&mut self, agents: Vec<AgentDef>) {
        let Some(agent) = self.agent.as_mut() else {
            return;
        };
        let tool = AgentTool::new(&agents);
        let host = SubagentHost::new(
            self.provider.clone(),
            self.runtime.clone(),
            self.store.clone(),
            agent,
            agents,
        );
        agent.ctx.subagents = Some(Arc::new(host));
        agent.tools.push(Arc::new(tool));
    }

    /// The subagent host, brought up to date with this session's
    /// permissions and model; `None` without tools or subagents.
    pub fn subagents(&self) -> Option<Arc<SubagentHost>> {
        let agent = self.agent.as_ref()?;
        let host = agent.ctx.subagents.clone()?;
        host.sync_parent(&agent.permissions, self.model_in_use());
        Some(host)
    }

    /// Takes in tool lists that changed (an MCP server's), so the next
    /// request and `/context` declare the tools as they stand.
    pub async fn sync_tools(&mut self) {
        if let Some(agent) = self.agent.as_mut() {
            agent.sync_tools().await;
        }
    }

    /// The request the next turn would send (for `/context` and dry runs).
    pub fn preview_request(&self) -> MessagesRequest {
        self.request(self.messages.clone())
    }

    /// UserPromptSubmit hooks for a prompt: the context they add, or the
    /// error that drops the prompt. A subagent's task is not a user prompt.
    pub async fn prompt_hooks(
        &mut self,
        text: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<Vec<String>, TurnError> {
        let Some(agent) = self
            .agent
            .as_ref()
            .filter(|_| self.entrypoint != "subagent")
        else {
            return Ok(Vec::new());
        };
        let hooks = agent.hooks.clone();
        let input = self.hook_input().with("prompt", text);
        let outcome = fire(&hooks, HookEvent::UserPromptSubmit, input, sink).await;
        if let Some(reason) = outcome.block.or(outcome.stop) {
            return Err(TurnError::HookStopped {
                event: HookEvent::UserPromptSubmit,
                reason,
            });
        }
        Ok(outcome.additional_context)
    }

    /// One turn under `scope` (a skill's model and label); the session's
    /// own model is the same afterwards, whatever the outcome.
    pub async fn turn_with<C: Future<Output = ()>>(
        &mut self,
        text: &str,
        scope: TurnScope,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        cancel: C,
    ) -> Result<Completion, TurnError> {
        self.scope = scope;
        let result = self.turn(text, sink, cancel).await;
        self.scope = TurnScope::default();
        result
    }

    /// One user turn: written ahead, sent, streamed, recorded; with tools
    /// enabled, the tool loop runs until the model ends its turn.
    pub async fn turn<C: Future<Output = ()>>(
        &mut self,
        text: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        cancel: C,
    ) -> Result<Completion, TurnError> {
        self.last_turn = TurnStats::default();
        if let Some(grants) = self.agent.as_ref().map(|a| &a.ctx.skill_grants)
            && let Ok(mut g) = grants.lock()
        {
            g.clear();
        }
        let prompt_context = match self.scope.prompt_context.take() {
            // A skill invocation: the hooks saw the line as typed.
            Some(context) => context,
            None => self.prompt_hooks(text, sink).await?,
        };
        self.maybe_auto_compact(text, sink).await?;
        // SessionStart context (compaction may just have added some) first.
        let context: Vec<String> = std::mem::take(&mut self.hook_context)
            .into_iter()
            .map(|c| format!("<session-start-hook>\n{c}\n</session-start-hook>"))
            .chain(
                prompt_context
                    .into_iter()
                    .map(|c| format!("<user-prompt-submit-hook>\n{c}\n</user-prompt-submit-hook>")),
            )
            .collect();
        let user = if context.is_empty() {
            Message::user(text)
        } else {
            let mut blocks = vec![ContentBlock::text(text)];
            blocks.extend(context.into_iter().map(ContentBlock::text));
            Message {
                role: Role::User,
                content: MessageContent::Blocks(blocks),
            }
        };
        if let Some(t) = &mut self.transcript {
            t.user(&user)?;
        }
        push_merged(&mut self.messages, user);
        let cancel = std::pin::pin!(cancel);
        let mut cancel = cancel;
        let mut stop_continues = 0;
        loop {
            self.last_turn.num_turns += 1;
            self.sync_tools().await;
            let request = self.request(self.messages.clone());
            let uuid = new_uuid();
            let (result, partial) = self.call(&request, &uuid, sink, cancel.as_mut()).await;
            let done = match result {
                Some(Ok(done)) => done,
                Some(Err(e)) => {
                    if let ProviderError::Interrupted { partial, .. } = &e {
                        self.keep_partial(&uuid, partial.content.text())?;
                    }
                    return Err(TurnError::Provider(e));
                }
                None => {
                    self.keep_partial(&uuid, partial.clone())?;
                    return Err(TurnError::Cancelled { partial });
                }
            };
            self.record(&uuid, &done, false, "turn")?;
            self.messages.push(done.message.clone());
            sink(TurnEvent::Message(done.message.clone()));
            let uses = tool_uses(&done.message);
            if uses.is_empty() || self.agent.is_none() {
                let max = self.agent.as_ref().and_then(|a| a.max_turns);
                if max.is_some_and(|m| self.last_turn.num_turns >= m) {
                    return Ok(done);
                }
                let Some(feedback) = self.stop_hooks(&done, &mut stop_continues, sink).await else {
                    return Ok(done);
                };
                // A Stop hook blocked: its reason goes to the model, which goes on.
                let message = Message::user(feedback);
                if let Some(t) = &mut self.transcript {
                    t.user(&message)?;
                }
                sink(TurnEvent::Message(message.clone()));
                push_merged(&mut self.messages, message);
                continue;
            }
            let (results, cancelled) = self.run_tools(uses, sink, cancel.as_mut()).await;
            let message = Message {
                role: Role::User,
                content: MessageContent::Blocks(results),
            };
            if let Some(t) = &mut self.transcript {
                t.user(&message)?;
            }
            sink(TurnEvent::Message(message.clone()));
            self.messages.push(message);
            if cancelled {
                return Err(TurnError::Cancelled {
                    partial: String::new(),
                });
            }
            if let Some((event, reason)) = self.last_turn.stopped_by_hook.clone() {
                return Err(TurnError::HookStopped { event, reason });
            }
            let max = self.agent.as_ref().and_then(|a| a.max_turns);
            if max.is_some_and(|m| self.last_turn.num_turns >= m) {
                return Err(TurnError::MaxTurns {
                    turns: self.last_turn.num_turns,
                });
            }
        }
    }

    /// Answers every `tool_use` of one reply, in order, ids matched. Calls
    /// are authorised one by one; runs of read-only calls execute
    /// concurrently. Returns the results and whether the user cancelled.
    async fn run_tools(
        &mut self,
        uses: Vec<(String, String, serde_json::Value)>,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        mut cancel: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> (Vec<ContentBlock>, bool) {
        // One audit line per tool call: its permission decision and outcome.
        let books = self.runtime.accounting.clone();
        let audit = |name: &str,
                     decision: &str,
                     outcome: &str,
                     input: &serde_json::Value,
                     took: Option<std::time::Duration>| {
            if let Some(b) = &books {
                b.record_tool(name, decision, Some(outcome), Some(input), took);
            }
        };
        // Subagents started by these calls inherit the permissions and model as they are now.
        self.subagents();
        let base = self.hook_input();
        let Some(agent) = self.agent.as_mut() else {
            return (Vec::new(), false);
        };
        let mut uses = uses;
        let mut results: Vec<Option<ContentBlock>> = vec![None; uses.len()];
        let mut allowed = Vec::new();
        for (i, (id, name, input)) in uses.iter_mut().enumerate() {
            let verdict = agent.authorize(id, name, input, &base, sink).await;
            if let Some(reason) = verdict.stop {
                self.last_turn.stopped_by_hook = Some((HookEvent::PreToolUse, reason));
            }
            match verdict.result {
                Ok(()) => allowed.push(i),
                Err(reason) => {
                    audit(name, "deny", &reason, input, None);
                    sink(TurnEvent::ToolDenied {
                        id: id.clone(),
                        name: name.clone(),
                        reason: reason.clone(),
                    });
                    self.last_turn.permission_denials.push(PermissionDenial {
                        tool_name: name.clone(),
                        tool_use_id: id.clone(),
                        tool_input: input.clone(),
                    });
                    results[i] = Some(denial_block(id, &reason));
                }
            }
        }
        // Consecutive read-only calls form one concurrent batch (`Agent` calls
        // are read-only: their subagents run concurrently).
        let mut batches: Vec<Vec<usize>> = Vec::new();
        for i in allowed {
            let ro = agent.is_read_only(&uses[i].1);
            match batches.last_mut() {
                Some(b) if ro && b.iter().all(|j| agent.is_read_only(&uses[*j].1)) => b.push(i),
                _ => batches.push(vec![i]),
            }
        }
        let mut cancelled = false;
        for batch in batches {
            if cancelled {
                for i in batch {
                    results[i] = Some(denial_block(&uses[i].0, INTERRUPTED));
                }
                continue;
            }
            for &i in &batch {
                let (id, name, input) = &uses[i];
                agent.note_touched(input);
                sink(TurnEvent::ToolStarted {
                    id: id.clone(),
                    name: name.clone(),
                    key_arg: agent.key_arg(name, input),
                });
            }
            // Calls report progress (a subagent's steps) through a channel,
            // shown here while they run: the sink cannot be shared.
            let (events, mut progress) = tokio::sync::mpsc::unbounded_channel();
            let agent_ref = &*agent;
            let runs: Vec<_> = batch
                .iter()
                .map(|&i| {
                    let (id, name, input) = &uses[i];
                    let run = agent_ref.run(id, name, input.clone(), events.clone());
                    async move {
                        let started = std::time::Instant::now();
                        let out = run.await;
                        (out, started.elapsed())
                    }
                })
                .collect();
            drop(events);
            let mut joined = std::pin::pin!(futures_util::future::join_all(runs));
            let outs = loop {
                tokio::select! {
                    outs = &mut joined => break Some(outs),
                    () = cancel.as_mut() => break None,
                    Some(ev) = progress.recv() => sink(ev),
                }
            };
            while let Ok(ev) = progress.try_recv() {
                sink(ev);
            }
            match outs {
                Some(outs) => {
                    for (&i, (out, took)) in batch.iter().zip(outs) {
                        let outcome = if out.is_error {
                            format!("error: {}", out.summary)
                        } else {
                            out.summary.clone()
                        };
                        audit(&uses[i].1, "allow", &outcome, &uses[i].2, Some(took));
                        sink(TurnEvent::ToolFinished {
                            id: uses[i].0.clone(),
                            name: uses[i].1.clone(),
                            summary: out.summary.clone(),
                            is_error: out.is_error,
                        });
                        let (id, name, input) = &uses[i];
                        let (out, stop) = agent_ref
                            .after_tool(id, name, input, out, &base, sink)
                            .await;
                        if let Some(reason) = stop {
                            self.last_turn.stopped_by_hook = Some((HookEvent::PostToolUse, reason));
                        }
                        results[i] = Some(result_block(&uses[i].0, &out));
                    }
                }
                None => {
                    cancelled = true;
                    for &i in &batch {
                        audit(&uses[i].1, "allow", "interrupted", &uses[i].2, None);
                        sink(TurnEvent::ToolFinished {
                            id: uses[i].0.clone(),
                            name: uses[i].1.clone(),
                            summary: "interrupted".into(),
                            is_error: true,
                        });
                        results[i] = Some(denial_block(&uses[i].0, INTERRUPTED));
                    }
                }
            }
        }
        (results.into_iter().flatten().collect(), cancelled)
    }

    /// Streams one request; `None` when cancelled. Text deltas are written to
    /// the transcript before the sink shows them.
    async fn call<C: Future<Output = ()>>(
        &mut self,
        request: &MessagesRequest,
        uuid: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        cancel: std::pin::Pin<&mut C>,
    ) -> (Option<Result<Completion, ProviderError>>, String) {
        let options = CallOptions {
            model_id: self.model_in_use().model_id.clone(),
            stream: self.runtime.stream,
            label: self.scope.label.clone(),
            metadata: Default::default(),
        };
        let mut shown = String::new();
        let mut transcript = self.transcript.as_mut();
        let mut forward = |ev: ProviderEvent| {
            match &ev {
                ProviderEvent::Stream(StreamEvent::ContentBlockDelta {
                    delta: BlockDelta::TextDelta { text },
                    ..
                }) => {
                    if let Some(t) = transcript.as_mut() {
                        // A failed write must not stop the reply; the final
                        // line is retried when the turn completes.
                        let _ = t.delta(uuid, text);
                    }
                    shown.push_str(text);
                }
                ProviderEvent::Retry(_) => shown.clear(),
                _ => {}
            }
            sink(TurnEvent::Provider(ev));
        };
        let provider = &self.provider;
        let result = tokio::select! {
            r = provider.call(request, &options, &mut forward) => Some(r),
            () = cancel => None,
        };
        (result, shown)
    }

    fn cost_of(&self, usage: &Usage) -> f64 {
        cost_on(self.model_in_use(), usage)
    }

    fn record(
        &mut self,
        uuid: &str,
        done: &Completion,
        incomplete: bool,
        kind: &'static str,
    ) -> Result<(), TranscriptError> {
        let cost = self.cost_of(&done.usage);
        let model_id = self.model_in_use().model_id.clone();
        self.costs.push(RequestCost {
            model: model_id.clone(),
            usage: done.usage,
            cost_usd: cost,
            kind,
        });
        self.last_context_tokens = Some(
            done.usage.input_tokens
                + done.usage.cache_read_input_tokens
                + done.usage.cache_creation_input_tokens
                + done.usage.output_tokens,
        );
        if kind != "turn" {
            return Ok(());
        }
        if let Some(t) = &mut self.transcript {
            t.assistant(
                uuid,
                &AssistantRecord {
                    message: &done.message,
                    model: &model_id,
                    message_id: "",
                    stop_reason: done.stop_reason.as_deref(),
                    usage: &done.usage,
                    cost_usd: cost,
                    request_id: done.request_id.as_deref(),
                    incomplete,
                },
            )?;
        }
        Ok(())
    }

    /// Keeps what the user saw of a reply that did not complete.
    fn keep_partial(&mut self, uuid: &str, text: String) -> Result<(), TranscriptError> {
        if text.is_empty() {
            return Ok(());
        }
        let message = Message::assistant(vec![ContentBlock::text(format!(
            "{text}\n\n[reply incomplete: interrupted]"
        ))]);
        let model_id = self.model_in_use().model_id.clone();
        if let Some(t) = &mut self.transcript {
            t.assistant(
                uuid,
                &AssistantRecord {
                    message: &message,
                    model: &model_id,
                    message_id: "",
                    stop_reason: None,
                    usage: &Usage::default(),
                    cost_usd: 0.0,
                    request_id: None,
                    incomplete: true,
                },
            )?;
        }
        self.messages.push(message);
        Ok(())
    }

    /// Asks the current model for a summary of the conversation.
    async fn summarise(
        &mut self,
        quick: bool,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<String, TurnError> {
        let mut messages = self.messages.clone();
        push_merged(
            &mut messages,
            Message::user(if quick { QUICK_PROMPT } else { HANDOFF_PROMPT }),
        );
        let request = self.request(messages);
        let uuid = new_uuid();
        let never = std::pin::pin!(std::future::pending::<()>());
        let (result, _) = self.call(&request, &uuid, sink, never).await;
        let done = result.unwrap_or_else(|| unreachable!("summaries are not cancellable"))?;
        self.record(&uuid, &done, false, "summary")?;
        Ok(done.message.content.text())
    }

    /// `/wipe`: summarise, clear, and continue in a fresh session seeded with
    /// the summary. Returns the summary; the session's id changes.
    pub async fn wipe(
        &mut self,
        quick: bool,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<String, TurnError> {
        let summary = if self.messages.is_empty() {
            String::new()
        } else {
            self.books_purpose("wipe");
            let summary = self.summarise(quick, sink).await;
            self.books_purpose("main");
            summary?
        };
        self.id = new_uuid();
        self.books_session();
        self.messages.clear();
        self.last_context_tokens = None;
        if self.transcript.is_some() {
            let mut t =
                self.store
                    .create(meta(&self.runtime, &self.id, &self.cwd, self.entrypoint))?;
            if !summary.is_empty() {
                t.compact_boundary(&summary)?;
            }
            self.transcript = Some(t);
        }
        if !summary.is_empty() {
            self.messages.push(summary_message(&summary));
        }
        Ok(summary)
    }

    /// Files the requests that follow under `purpose` in the usage ledger.
    fn books_purpose(&self, purpose: &str) {
        if let Some(books) = &self.runtime.accounting {
            books.set_purpose(purpose, None);
        }
    }

    /// Files the requests that follow under the current session id.
    fn books_session(&self) {
        if let Some(books) = &self.runtime.accounting {
            books.set_session(&self.id);
        }
    }

    /// `/clear`: a fresh session with no summary.
    pub fn clear(&mut self) -> Result<(), TranscriptError> {
        self.id = new_uuid();
        self.books_session();
        self.messages.clear();
        self.last_context_tokens = None;
        if self.transcript.is_some() {
            self.transcript = Some(self.store.create(meta(
                &self.runtime,
                &self.id,
                &self.cwd,
                self.entrypoint,
            ))?);
        }
        Ok(())
    }

    /// `/compact`: replace the conversation with its summary, same session.
    pub async fn compact(
        &mut self,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<String, TurnError> {
        self.compact_as("manual", sink).await
    }

    /// Compaction, `manual` (/compact) or `auto`: PreCompact hooks first,
    /// SessionStart hooks (source `compact`) after.
    async fn compact_as(
        &mut self,
        trigger: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<String, TurnError> {
        if self.messages.is_empty() {
            return Ok(String::new());
        }
        if let Some(agent) = &self.agent {
            let hooks = agent.hooks.clone();
            let input = self
                .hook_input()
                .with("trigger", trigger)
                .with("custom_instructions", "");
            fire(&hooks, HookEvent::PreCompact, input, sink).await;
        }
        self.books_purpose("compaction");
        let summary = self.summarise(false, sink).await;
        self.books_purpose("main");
        let summary = summary?;
        if let Some(t) = &mut self.transcript {
            t.compact_boundary(&summary)?;
        }
        self.messages = vec![summary_message(&summary)];
        self.last_context_tokens = None;
        self.session_start("compact", sink).await;
        Ok(summary)
    }

    /// Summarises older turns when the next request would not fit the
    /// model's context window.
    async fn maybe_auto_compact(
        &mut self,
        next: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<(), TurnError> {
        let before = self.context_tokens() + (next.len() as u64).div_ceil(4);
        if before <= self.runtime.auto_compact_threshold() || self.messages.len() < 2 {
            return Ok(());
        }
        self.compact_as("auto", sink).await?;
        sink(TurnEvent::AutoCompacted {
            tokens_before: before,
            tokens_after: self.context_tokens(),
        });
        Ok(())
    }

    /// The common input of this session's hooks.
    pub fn hook_input(&self) -> HookInput {
        let agent = self.agent.as_ref();
        HookInput {
            session_id: self.id.clone(),
            transcript_path: self.transcript_path(),
            cwd: agent.map_or_else(|| self.cwd.clone(), |a| a.ctx.cwd()),
            permission_mode: agent.map(|a| a.permissions.mode().as_str().to_string()),
            agent_type: self.scope.label.as_ref().and_then(|l| l.agent_type.clone()),
            ..HookInput::default()
        }
    }

    /// SessionStart hooks (`source`: startup, resume, clear, compact); what
    /// they add to the context goes with the next prompt.
    pub async fn session_start(&mut self, source: &str, sink: &mut (dyn FnMut(TurnEvent) + Send)) {
        let Some(agent) = &self.agent else {
            return;
        };
        let hooks = agent.hooks.clone();
        let input = self
            .hook_input()
            .with("source", source)
            .with("model", self.runtime.model.model_id.clone());
        let outcome = fire(&hooks, HookEvent::SessionStart, input, sink).await;
        self.hook_context.extend(outcome.additional_context);
    }

    /// SessionEnd hooks (`reason`: clear, logout, prompt_input_exit, other).
    pub async fn session_end(&mut self, reason: &str, sink: &mut (dyn FnMut(TurnEvent) + Send)) {
        let Some(agent) = &self.agent else {
            return;
        };
        let hooks = agent.hooks.clone();
        let input = self.hook_input().with("reason", reason);
        fire(&hooks, HookEvent::SessionEnd, input, sink).await;
    }

    /// Stop hooks (SubagentStop in a subagent) when the model ends its turn:
    /// the feedback to send back when one blocks, `None` to stop.
    /// `stop_hook_active` is true once a Stop hook has already sent the
    /// model back; after [`MAX_STOP_CONTINUES`] the turn ends regardless.
    async fn stop_hooks(
        &mut self,
        done: &Completion,
        continues: &mut u32,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Option<String> {
        let event = if self.entrypoint == "subagent" {
            HookEvent::SubagentStop
        } else {
            HookEvent::Stop
        };
        let hooks = self.agent.as_ref()?.hooks.clone();
        if !hooks.has(event) {
            return None;
        }
        if *continues >= MAX_STOP_CONTINUES {
            sink(TurnEvent::HookMessage {
                event,
                text: format!(
                    "{event} hooks sent the model back {MAX_STOP_CONTINUES} times in this turn; the turn ends here."
                ),
                is_error: true,
            });
            return None;
        }
        let input = self
            .hook_input()
            .with("stop_hook_active", *continues > 0)
            .with("last_assistant_message", done.message.content.text());
        let outcome = fire(&hooks, event, input, sink).await;
        if outcome.stop.is_some() {
            return None;
        }
        let reason = outcome.block?;
        *continues += 1;
        Some(format!("{event} hook feedback:\n{reason}"))
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

fn meta(runtime: &Runtime, id: &str, cwd: &std::path::Path, entrypoint: &str) -> SessionMeta {
    SessionMeta {
        session_id: id.to_string(),
        provider: runtime.provider.as_str().to_string(),
        region: runtime.bedrock.as_ref().map(|b| b.region.clone()),
        model: runtime.model.model_id.clone(),
        cwd: cwd.display().to_string(),
        entrypoint: entrypoint.to_string(),
    }
}

/// Adds a message, merging it into the previous one when both are the
/// user's (a reply lost to a crash, or a summary seed), since the API wants
/// turns to alternate.
fn push_merged(messages: &mut Vec<Message>, message: Message) {
    match messages.last_mut() {
        Some(last) if last.role == message.role => {
            let mut blocks = into_blocks(std::mem::replace(
                &mut last.content,
                MessageContent::Blocks(Vec::new()),
            ));
            blocks.extend(into_blocks(message.content));
            last.content = MessageContent::Blocks(blocks);
        }
        _ => messages.push(message),
    }
}

fn into_blocks(c: MessageContent) -> Vec<ContentBlock> {
    match c {
        MessageContent::Text(t) => vec![ContentBlock::text(t)],
        MessageContent::Blocks(b) => b,
    }
}

fn normalize(messages: Vec<Message>) -> Vec<Message> {
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        push_merged(&mut out, m);
    }
    // A conversation must start with the user.
    while out.first().is_some_and(|m| m.role == Role::Assistant) {
        out.remove(0);
    }
    out
}

fn estimate_tokens(messages: &[Message]) -> u64 {
    let chars: usize = messages
        .iter()
        .map(|m| match &m.content {
            MessageContent::Text(t) => t.len(),
            MessageContent::Blocks(b) => b
                .iter()
                .map(|b| serde_json::to_string(b).map_or(0, |s| s.len()))
                .sum(),
        })
        .sum();
    (chars as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_user_messages_merge() {
        let mut m = vec![Message::user("a")];
        push_merged(&mut m, Message::user("b"));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].content.text(), "ab");
        push_merged(&mut m, Message::assistant(vec![ContentBlock::text("c")]));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn normalize_drops_leading_assistant_and_merges() {
        let m = normalize(vec![
            Message::assistant(vec![ContentBlock::text("x")]),
            Message::user("a"),
            Message::user("b"),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].role, Role::User);
    }
}
