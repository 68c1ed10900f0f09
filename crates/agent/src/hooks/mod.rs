//! Claude Code's hooks: shell commands that settings files, skills and
//! subagents attach to the events of a session, with Claude Code's input,
//! exit codes and JSON output (reference §3.4).
//!
//! [`Hooks::from_config`] reads every settings file's `hooks` key (merged,
//! identical handlers once); [`Hooks::with_scoped`] and [`Hooks::register`]
//! add the hooks of skill and subagent frontmatter. [`Hooks::fire`] runs
//! the handlers that match an event, all at once, and merges what they said
//! into a [`HookOutcome`]; the caller acts on it. Nothing here prints.

mod config;
mod matcher;
mod output;
mod run;
mod status_line;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use claude_config::{Config, SettingsScope};
use serde_json::{Map, Value, json};

pub use config::{HookConfigError, IGNORED_EVENTS};
pub use matcher::Matcher;
pub use output::{HookMessage, HookOutcome, PermissionDecision};
pub use status_line::StatusLine;

use config::Entry;

/// The events this build fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    SessionStart,
    UserPromptSubmit,
    PreToolUse,
    PermissionRequest,
    PostToolUse,
    PostToolUseFailure,
    Notification,
    Stop,
    SubagentStop,
    PreCompact,
    SessionEnd,
}

impl HookEvent {
    pub const ALL: [HookEvent; 11] = [
        HookEvent::SessionStart,
        HookEvent::UserPromptSubmit,
        HookEvent::PreToolUse,
        HookEvent::PermissionRequest,
        HookEvent::PostToolUse,
        HookEvent::PostToolUseFailure,
        HookEvent::Notification,
        HookEvent::Stop,
        HookEvent::SubagentStop,
        HookEvent::PreCompact,
        HookEvent::SessionEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "SessionStart",
            HookEvent::UserPromptSubmit => "UserPromptSubmit",
            HookEvent::PreToolUse => "PreToolUse",
            HookEvent::PermissionRequest => "PermissionRequest",
            HookEvent::PostToolUse => "PostToolUse",
            HookEvent::PostToolUseFailure => "PostToolUseFailure",
            HookEvent::Notification => "Notification",
            HookEvent::Stop => "Stop",
            HookEvent::SubagentStop => "SubagentStop",
            HookEvent::PreCompact => "PreCompact",
            HookEvent::SessionEnd => "SessionEnd",
        }
    }

    pub fn parse(name: &str) -> Option<HookEvent> {
        HookEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The input field the matcher is compared with; `None` for events
    /// whose matcher Claude Code ignores.
    pub fn matcher_field(self) -> Option<&'static str> {
        match self {
            HookEvent::PreToolUse
            | HookEvent::PermissionRequest
            | HookEvent::PostToolUse
            | HookEvent::PostToolUseFailure => Some("tool_name"),
            HookEvent::SessionStart => Some("source"),
            HookEvent::SessionEnd => Some("reason"),
            HookEvent::PreCompact => Some("trigger"),
            HookEvent::Notification => Some("notification_type"),
            HookEvent::SubagentStop => Some("agent_type"),
            HookEvent::UserPromptSubmit | HookEvent::Stop => None,
        }
    }

    /// Seconds a handler may run when it sets no `timeout`.
    pub fn default_timeout(self) -> u64 {
        match self {
            HookEvent::UserPromptSubmit => 30,
            _ => 600,
        }
    }
}

impl std::fmt::Display for HookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a handler gets on stdin: the common fields, then the event's own
/// (`tool_name`, `tool_input`, `tool_use_id`, `tool_response`, `prompt`,
/// `source`, `reason`, `trigger`, `stop_hook_active`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookInput {
    pub session_id: String,
    pub transcript_path: Option<PathBuf>,
    pub cwd: PathBuf,
    pub permission_mode: Option<String>,
    /// Set inside a subagent.
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub fields: Map<String, Value>,
}

impl HookInput {
    /// Adds an event field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// The JSON document the handlers read.
    pub fn to_json(&self, event: HookEvent) -> Value {
        let mut doc = Map::new();
        doc.insert("session_id".into(), json!(self.session_id));
        doc.insert(
            "transcript_path".into(),
            json!(
                self.transcript_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        );
        doc.insert("cwd".into(), json!(self.cwd.display().to_string()));
        if let Some(m) = &self.permission_mode {
            doc.insert("permission_mode".into(), json!(m));
        }
        doc.insert("hook_event_name".into(), json!(event.as_str()));
        if let Some(a) = &self.agent_id {
            doc.insert("agent_id".into(), json!(a));
        }
        if let Some(a) = &self.agent_type {
            doc.insert("agent_type".into(), json!(a));
        }
        for (k, v) in &self.fields {
            doc.insert(k.clone(), v.clone());
        }
        Value::Object(doc)
    }
}

/// One hook in effect, for `/hooks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookListing {
    pub event: HookEvent,
    /// As written; empty for "everything".
    pub matcher: String,
    pub command: String,
    pub timeout_secs: u64,
    /// The settings file, or `skill NAME` / `agent NAME`.
    pub source: String,
    pub once: bool,
}

#[derive(Debug, Default)]
struct Shared {
    entries: RwLock<Vec<Arc<Entry>>>,
    warnings: RwLock<Vec<String>>,
    project_dir: PathBuf,
    env: Vec<(String, String)>,
}

/// The hooks of a session. Cheap to clone: clones share the hooks, so one
/// registered by a skill is seen by every holder.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    shared: Arc<Shared>,
}

impl Hooks {
    /// Every settings file's `hooks`, highest precedence first, identical
    /// handlers once. `disableAllHooks: true` turns off the hooks of the
    /// non-managed files (all of them when the managed policy says it);
    /// the managed policy's `allowManagedHooksOnly: true` keeps only its own.
    pub fn from_config(cfg: &Config) -> Hooks {
        let files = cfg.settings_files();
        let flag = |scope_managed: bool, key: &str| {
            files.iter().any(|f| {
                (f.scope == SettingsScope::Managed) == scope_managed
                    && f.json.get(key) == Some(&Value::Bool(true))
            })
        };
        let all_off = flag(true, "disableAllHooks");
        let managed_only =
            all_off || flag(true, "allowManagedHooksOnly") || flag(false, "disableAllHooks");
        let mut warnings = Vec::new();
        let mut entries: Vec<Arc<Entry>> = Vec::new();
        for f in files {
            let Some(hooks) = f.json.get("hooks") else {
                continue;
            };
            let managed = f.scope == SettingsScope::Managed;
            if all_off || (managed_only && !managed) {
                continue;
            }
            let origin = f.path.display().to_string();
            match config::parse(hooks, &origin, &mut warnings) {
                Ok(parsed) => add_unique(&mut entries, parsed),
                Err(e) => warnings.push(format!("{e}; the file's hooks never run")),
            }
        }
        Hooks {
            shared: Arc::new(Shared {
                entries: RwLock::new(entries),
                warnings: RwLock::new(warnings),
                project_dir: cfg.project_root().to_path_buf(),
                env: cfg
                    .env()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }),
        }
    }

    /// These hooks plus those of a skill's or subagent's frontmatter
    /// (`hooks:`, the settings shape), as a separate set: for hooks that
    /// apply only while the skill or subagent runs.
    pub fn with_scoped(&self, hooks_json: &Value, source: &str) -> Result<Hooks, HookConfigError> {
        let mut warnings = self.warnings();
        let parsed = config::parse(hooks_json, source, &mut warnings)?;
        let mut entries = read(&self.shared.entries).clone();
        add_unique(&mut entries, parsed);
        Ok(Hooks {
            shared: Arc::new(Shared {
                entries: RwLock::new(entries),
                warnings: RwLock::new(warnings),
                project_dir: self.shared.project_dir.clone(),
                env: self.shared.env.clone(),
            }),
        })
    }

    /// Adds a skill's frontmatter hooks for the rest of the session (every
    /// clone sees them). Returns how many handlers were new.
    pub fn register(&self, hooks_json: &Value, source: &str) -> Result<usize, HookConfigError> {
        let mut warnings = Vec::new();
        let parsed = config::parse(hooks_json, source, &mut warnings)?;
        if let Ok(mut w) = self.shared.warnings.write() {
            w.extend(warnings);
        }
        let Ok(mut entries) = self.shared.entries.write() else {
            return Ok(0);
        };
        let before = entries.len();
        add_unique(&mut entries, parsed);
        Ok(entries.len() - before)
    }

    /// Problems found in the configuration: unsupported handler types and
    /// events, bad matchers, malformed `hooks` values.
    pub fn warnings(&self) -> Vec<String> {
        read(&self.shared.warnings).clone()
    }

    /// The hooks in effect, in the order they run in.
    pub fn list(&self) -> Vec<HookListing> {
        read(&self.shared.entries)
            .iter()
            .filter(|e| !(e.once && e.fired.load(Ordering::SeqCst)))
            .map(|e| HookListing {
                event: e.event,
                matcher: e.matcher_text.clone(),
                command: e.command.display(),
                timeout_secs: e.timeout.unwrap_or_else(|| e.event.default_timeout()),
                source: e.source.clone(),
                once: e.once,
            })
            .collect()
    }

    /// Whether any handler is configured for `event` (so callers can skip
    /// building an input nobody reads).
    pub fn has(&self, event: HookEvent) -> bool {
        read(&self.shared.entries).iter().any(|e| e.event == event)
    }

    /// Runs every handler that matches, concurrently, and merges their
    /// answers. A handler that fails or times out is reported in
    /// `messages` and never blocks.
    pub async fn fire(&self, event: HookEvent, input: HookInput) -> HookOutcome {
        let target = event
            .matcher_field()
            .and_then(|f| input.fields.get(f))
            .and_then(Value::as_str);
        let matching: Vec<Arc<Entry>> = read(&self.shared.entries)
            .iter()
            .filter(|e| e.event == event)
            .filter(|e| event.matcher_field().is_none() || e.matcher.matches(target))
            // A `once` hook is claimed by the first fire that matches it.
            .filter(|e| !e.once || !e.fired.swap(true, Ordering::SeqCst))
            .cloned()
            .collect();
        let mut outcome = HookOutcome::default();
        if matching.is_empty() {
            return outcome;
        }
        let stdin = input.to_json(event).to_string().into_bytes();
        let runs = matching.iter().map(|e| {
            run::run(
                &e.command,
                &stdin,
                &self.shared.project_dir,
                &self.shared.env,
                e.timeout.unwrap_or_else(|| event.default_timeout()),
            )
        });
        let results = futures_util::future::join_all(runs).await;
        for (e, r) in matching.iter().zip(results) {
            outcome.absorb(event, &e.command.display(), r);
        }
        outcome
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn add_unique(entries: &mut Vec<Arc<Entry>>, new: Vec<Entry>) {
    for e in new {
        if !entries.iter().any(|have| have.same_as(&e)) {
            entries.push(Arc::new(e));
        }
    }
}

#[cfg(test)]
mod tests;
