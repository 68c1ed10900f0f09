//! Running a typed `/name args` line: inline skills become one turn on the
//! skill's model (the session's own model is unchanged afterwards), forked
//! skills run as subagents. Every request is filed under the skill.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use claude_protocol::{ContentBlock, Message};
use claude_providers::resolve::ResolveError;
use claude_providers::{CallLabel, Completion, ProviderEvent, message_events};
use tokio::sync::mpsc;

use super::invoke::{InvokeEnv, InvokeError, Step, parse_line, prepare};
use super::{Context, SkillSet};
use crate::hooks::HookEvent;
use crate::session::{RequestCost, Session, TurnError, TurnEvent, TurnScope};
use crate::subagents::{SubagentError, SubagentTask};
use crate::tools::skill::SkillTool;

/// The skills a session can invoke, and the environment their commands see.
#[derive(Clone)]
pub struct Skills {
    pub set: Arc<SkillSet>,
    /// The settings' `env` over the process environment.
    pub env: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SkillRunError {
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    #[error("/{skill}: its `model: {model}` cannot be used: {source}")]
    Model {
        skill: String,
        model: String,
        source: ResolveError,
    },
    #[error("/{skill}: {source}")]
    Subagent {
        skill: String,
        source: Box<SubagentError>,
    },
    #[error(
        "/{skill} runs as a subagent (context: fork), which needs the tool loop; this session has no tools"
    )]
    NoSubagents { skill: String },
    #[error("/{skill}: interrupted")]
    Cancelled { skill: String },
}

impl Session {
    /// Makes `/name` lines invoke these skills, and gives the model the
    /// `Skill` tool for the ones it may invoke (after [`Session::enable_tools`]).
    pub fn enable_skills(&mut self, skills: Skills) {
        if let Some(agent) = self.agent.as_mut()
            && skills.set.model_invocable().next().is_some()
        {
            agent.tools.push(Arc::new(SkillTool::new(
                skills.set.clone(),
                agent.permissions.clone(),
                skills.env.clone(),
            )));
        }
        self.skills = Some(skills);
    }

    /// One line from the user: a `/skill` invocation when the line starts
    /// with one, an ordinary turn otherwise.
    pub async fn submit<C: Future<Output = ()>>(
        &mut self,
        line: &str,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        cancel: C,
    ) -> Result<Completion, TurnError> {
        let found = self.skills.as_ref().and_then(|skills| {
            parse_line(line, &skills.set).map(|(found, args)| {
                let found: Vec<_> = found.into_iter().cloned().collect();
                (found, args, skills.env.clone())
            })
        });
        let Some((found, args, env)) = found else {
            return self.turn(line, sink, cancel).await;
        };
        // Hooks see the line as typed, before anything of the skill runs.
        let prompt_context = self.prompt_hooks(line, sink).await?;
        let refs: Vec<&super::Skill> = found.iter().collect();
        let invocation = {
            let (cwd, root) = match &self.agent {
                Some(agent) => (agent.ctx.cwd(), agent.ctx.project_root.clone()),
                None => (self.cwd().to_path_buf(), self.cwd().to_path_buf()),
            };
            let at = InvokeEnv {
                session_id: &self.id,
                project_dir: &root,
                cwd: &cwd,
                env: &env,
                permissions: self.agent.as_ref().map(|a| &a.permissions),
            };
            prepare(line, &refs, &args, &at)
                .await
                .map_err(SkillRunError::from)?
        };
        // A skill's frontmatter hooks hold for the rest of the session.
        if let Some(agent) = &self.agent {
            for step in &invocation.steps {
                let Some(hooks) = &step.hooks else { continue };
                if let Err(e) = agent
                    .hooks
                    .register(hooks, &step.source.display().to_string())
                {
                    sink(TurnEvent::HookMessage {
                        event: HookEvent::UserPromptSubmit,
                        text: format!("/{}: its hooks are not used: {e}", step.name),
                        is_error: true,
                    });
                }
            }
        }
        let (forks, inline): (Vec<Step>, Vec<Step>) = invocation
            .steps
            .into_iter()
            .partition(|s| s.context == Context::Fork);
        let mut cancel = std::pin::pin!(cancel);
        let mut last = None;
        for mut step in forks {
            // The hooks' context goes with the task, as it would with a prompt.
            for c in &prompt_context {
                step.content.push_str(&format!(
                    "\n\n<user-prompt-submit-hook>\n{c}\n</user-prompt-submit-hook>"
                ));
            }
            last = Some(self.run_forked(line, step, sink, cancel.as_mut()).await?);
        }
        if inline.is_empty() {
            return Ok(last.expect("an invocation has at least one step"));
        }
        self.run_inline(inline, prompt_context, sink, cancel).await
    }

    /// Inline skills: their contents as one user turn, on the first model
    /// any of them names, with their tool rules for this turn only.
    async fn run_inline(
        &mut self,
        steps: Vec<Step>,
        prompt_context: Vec<String>,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        cancel: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<Completion, TurnError> {
        let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        let skill_label = names.join(",");
        let mut scope = TurnScope {
            model: None,
            label: Some(CallLabel {
                purpose: "skill".into(),
                skill: Some(skill_label),
                agent_type: None,
            }),
            prompt_context: Some(prompt_context),
        };
        if let Some(step) = steps
            .iter()
            .find(|s| s.model.as_deref().is_some_and(|m| !is_inherit(m)))
        {
            let requested = step.model.clone().unwrap_or_default();
            let model =
                self.runtime
                    .resolve_model(&requested)
                    .map_err(|source| SkillRunError::Model {
                        skill: step.name.clone(),
                        model: requested,
                        source,
                    })?;
            if let Some(books) = &self.runtime.accounting {
                books.note_model(&model);
            }
            scope.model = Some(model);
        }
        let text = steps
            .iter()
            .map(|s| s.content.trim_end())
            .collect::<Vec<_>>()
            .join("\n\n");
        let allowed: Vec<String> = steps.iter().flat_map(|s| s.allowed_tools.clone()).collect();
        let disallowed: Vec<String> = steps
            .iter()
            .flat_map(|s| s.disallowed_tools.clone())
            .collect();
        let saved = self.agent.as_mut().map(|agent| {
            let source = steps[0].source.display().to_string();
            let (scoped, _) = agent.permissions.scoped(&allowed, &disallowed, &source);
            std::mem::replace(&mut agent.permissions, scoped)
        });
        let result = self.turn_with(&text, scope, sink, cancel).await;
        if let (Some(agent), Some(saved)) = (self.agent.as_mut(), saved) {
            // The mode may have changed during the turn (Shift-Tab); keep it.
            let mode = agent.permissions.mode();
            agent.permissions = saved;
            let _ = agent.permissions.set_mode(mode);
        }
        result
    }

    /// A `context: fork` skill: a subagent on the skill's model, with the
    /// content as its task and no history; its answer joins the conversation.
    async fn run_forked(
        &mut self,
        line: &str,
        step: Step,
        sink: &mut (dyn FnMut(TurnEvent) + Send),
        mut cancel: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<Completion, TurnError> {
        let Some(host) = self.subagents() else {
            return Err(SkillRunError::NoSubagents { skill: step.name }.into());
        };
        let started = Instant::now();
        let agent_type = step
            .agent
            .clone()
            .unwrap_or_else(|| "general-purpose".into());
        let task = SubagentTask {
            agent_type,
            description: format!("/{}", step.name),
            prompt: step.content.trim_end().to_string(),
            model: step.model.filter(|m| !is_inherit(m)),
            skill: Some(step.name.clone()),
            parent_tool_use_id: None,
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let run = host.run_reporting(task, Some(tx));
        let mut run = std::pin::pin!(run);
        let result = loop {
            tokio::select! {
                done = &mut run => break Some(done),
                Some(ev) = rx.recv() => sink(ev),
                () = cancel.as_mut() => break None,
            }
        };
        while let Ok(ev) = rx.try_recv() {
            sink(ev);
        }
        let done = match result {
            Some(Ok(done)) => done,
            Some(Err(source)) => {
                return Err(SkillRunError::Subagent {
                    skill: step.name,
                    source: Box::new(source),
                }
                .into());
            }
            None => return Err(SkillRunError::Cancelled { skill: step.name }.into()),
        };
        self.record_exchange(line, &done.text, &done.model_id)?;
        self.costs.push(RequestCost {
            model: done.model_id.clone(),
            usage: done.usage,
            cost_usd: done.cost_usd,
            kind: "subagent",
        });
        self.last_turn.num_turns += done.num_turns;
        let message = Message::assistant(vec![ContentBlock::text(done.text.clone())]);
        // The answer is shown like any reply: the front end renders these events.
        for ev in message_events(&message, &done.model_id) {
            sink(TurnEvent::Provider(ProviderEvent::Stream(ev)));
        }
        sink(TurnEvent::Message(message.clone()));
        Ok(Completion {
            message,
            stop_reason: Some("end_turn".into()),
            usage: done.usage,
            request_id: None,
            latency: started.elapsed(),
            first_byte: None,
            attempts: 1,
            failed_attempts: Vec::new(),
        })
    }
}

fn is_inherit(model: &str) -> bool {
    model.trim().eq_ignore_ascii_case("inherit") || model.trim().is_empty()
}
