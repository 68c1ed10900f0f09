//! The built-in tools, with Claude Code's names and input fields so hooks
//! and settings written for Claude Code keep working. Each tool is one
//! implementation of [`Tool`] in its own file.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use serde_json::Value;

pub mod agent;
pub mod ask_user;
pub mod bash;
mod common;
pub mod edit;
pub mod glob;
pub mod grep;
pub mod read;
pub mod skill;
pub mod tasks;
pub mod web_fetch;
pub mod write;

/// Every built-in tool this build implements, in the order they are
/// declared to the model. Tools keep no per-session state of their own
/// (that lives in [`ToolCtx`]), except WebFetch's 15-minute page cache.
pub fn builtin() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(bash::BashTool),
        Arc::new(glob::GlobTool),
        Arc::new(grep::GrepTool),
        Arc::new(read::ReadTool),
        Arc::new(edit::EditTool),
        Arc::new(write::WriteTool),
        Arc::new(web_fetch::WebFetchTool::new()),
        Arc::new(tasks::TaskCreateTool),
        Arc::new(tasks::TaskGetTool),
        Arc::new(tasks::TaskUpdateTool),
        Arc::new(tasks::TaskListTool),
        Arc::new(ask_user::AskUserQuestionTool),
    ]
}

/// What a tool may use from the session. Cheap to clone; state is shared.
#[derive(Clone)]
pub struct ToolCtx {
    /// The session's working directory; `Bash` `cd` changes it for later calls.
    pub cwd: Arc<Mutex<PathBuf>>,
    pub project_root: PathBuf,
    pub session_id: String,
    /// Files read in this session: `Write` refuses to overwrite others.
    pub read_files: Arc<Mutex<HashSet<PathBuf>>>,
    /// The session's task list (TaskCreate/TaskUpdate/TaskList/TaskGet).
    pub tasks: Arc<Mutex<Vec<Value>>>,
    /// Asks the user a question in the REPL; `None` in print mode.
    pub ask_user: Option<AskUserFn>,
    /// Starts subagents for the `Agent` tool; `None` inside a subagent.
    pub subagents: Option<Arc<crate::subagents::SubagentHost>>,
    /// The `tool_use` id of the call being run (set per call by the tool loop).
    pub tool_use_id: Option<String>,
    /// Where a call may report progress while it runs, such as a subagent's
    /// steps (set per call by the tool loop, which shows them).
    pub events: Option<tokio::sync::mpsc::UnboundedSender<crate::session::TurnEvent>>,
    /// Allow rules of skills the model invoked this turn, cleared when the
    /// user's next turn starts.
    pub skill_grants: Arc<Mutex<Vec<SkillGrant>>>,
}

/// A skill's `allowed-tools` rules and the skill file they come from.
pub type SkillGrant = (Vec<String>, String);

/// How the front end asks the user `AskUserQuestion`'s questions: given the
/// tool's input, the answers as text, or why there are none. (A name for the
/// type the `ask_user` field always had.)
pub type AskUserFn =
    Arc<dyn Fn(&Value) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

impl ToolCtx {
    pub fn new(cwd: PathBuf, project_root: PathBuf, session_id: String) -> Self {
        Self {
            cwd: Arc::new(Mutex::new(cwd)),
            project_root,
            session_id,
            read_files: Arc::default(),
            tasks: Arc::default(),
            ask_user: None,
            subagents: None,
            tool_use_id: None,
            events: None,
            skill_grants: Arc::default(),
        }
    }

    /// `permissions` with this turn's skill grants, when there are any.
    pub fn granted(
        &self,
        permissions: &crate::permissions::Permissions,
    ) -> Option<crate::permissions::Permissions> {
        let grants = self.skill_grants.lock().ok()?;
        let mut granted: Option<crate::permissions::Permissions> = None;
        for (rules, source) in grants.iter() {
            let base = granted.as_ref().unwrap_or(permissions);
            granted = Some(base.scoped(rules, &[], source).0);
        }
        granted
    }

    pub fn cwd(&self) -> PathBuf {
        self.cwd.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The result of one tool call, as the model and the user see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The `tool_result` content: a string, or content blocks (text, image).
    pub content: Value,
    /// Sent as `is_error: true`; the content says what the model can do about it.
    pub is_error: bool,
    /// One line for the REPL: "Read 120 lines", "3 files matched", "exit code 0".
    pub summary: String,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            content: Value::String(content.into()),
            is_error: false,
            summary: summary.into(),
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            summary: message.lines().next().unwrap_or_default().to_string(),
            content: Value::String(message),
            is_error: true,
        }
    }
}

pub trait Tool: Send + Sync {
    /// Claude Code's tool name, e.g. `Read`.
    fn name(&self) -> &'static str;
    /// What the model is told about the tool.
    fn description(&self) -> &'static str;
    /// JSON Schema of the input, with Claude Code's field names.
    fn input_schema(&self) -> Value;
    /// Read-only tools may run concurrently and are allowed in plan mode.
    fn read_only(&self) -> bool;
    /// The argument to show beside the tool name (a path, a command, a pattern).
    fn key_arg(&self, input: &Value) -> String;
    /// Runs the tool. Dropping the future cancels it (a Bash command's whole
    /// process group is killed).
    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput>;
}

/// Tools that can change while a session runs: an MCP server's, after it
/// sends `notifications/tools/list_changed` or is restarted. The agent asks
/// before every model request, so the next request declares the new set.
pub trait ToolSource: Send + Sync {
    /// Brings the tools up to date (re-listing whatever announced a change)
    /// and returns a number that changes whenever [`ToolSource::tools`] does.
    fn refresh(&self) -> BoxFuture<'_, u64>;
    /// The source's tools as they stand.
    fn tools(&self) -> Vec<Arc<dyn Tool>>;
    /// Whether a tool of this name came from this source.
    fn owns(&self, name: &str) -> bool;
}

/// A tool source and the generation of it that a tool list holds.
#[derive(Clone)]
pub struct Sourced {
    pub source: Arc<dyn ToolSource>,
    pub seen: u64,
}

impl Sourced {
    /// Brings `tools` up to date with the source: its old tools out, its
    /// current ones (those `keep` accepts) in. Returns whether they changed.
    pub async fn sync(
        &mut self,
        tools: &mut Vec<Arc<dyn Tool>>,
        keep: impl Fn(&dyn Tool) -> bool,
    ) -> bool {
        let generation = self.source.refresh().await;
        if generation == self.seen {
            return false;
        }
        self.seen = generation;
        tools.retain(|t| !self.source.owns(t.name()));
        tools.extend(self.source.tools().into_iter().filter(|t| keep(t.as_ref())));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A source whose tools are named `src__<n>` for the names it holds.
    struct Changing {
        generation: AtomicU64,
        names: Mutex<Vec<&'static str>>,
    }

    struct Named(&'static str);

    impl Tool for Named {
        fn name(&self) -> &'static str {
            self.0
        }
        fn description(&self) -> &'static str {
            ""
        }
        fn input_schema(&self) -> Value {
            serde_json::json!({"type": "object"})
        }
        fn read_only(&self) -> bool {
            true
        }
        fn key_arg(&self, _input: &Value) -> String {
            String::new()
        }
        fn call<'a>(&'a self, _input: Value, _ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
            Box::pin(async { ToolOutput::error("unused") })
        }
    }

    impl ToolSource for Changing {
        fn refresh(&self) -> BoxFuture<'_, u64> {
            Box::pin(async { self.generation.load(Ordering::SeqCst) })
        }
        fn tools(&self) -> Vec<Arc<dyn Tool>> {
            let names = self.names.lock().unwrap();
            names
                .iter()
                .map(|n| Arc::new(Named(n)) as Arc<dyn Tool>)
                .collect()
        }
        fn owns(&self, name: &str) -> bool {
            name.starts_with("src__")
        }
    }

    #[tokio::test]
    async fn a_changed_source_replaces_only_its_own_tools() {
        let source = Arc::new(Changing {
            generation: AtomicU64::new(0),
            names: Mutex::new(vec!["src__a", "src__b"]),
        });
        let mut tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Named("Read"))];
        tools.extend(source.tools());
        let mut sourced = Sourced {
            source: source.clone(),
            seen: 0,
        };
        let names = |tools: &[Arc<dyn Tool>]| tools.iter().map(|t| t.name()).collect::<Vec<_>>();
        assert!(!sourced.sync(&mut tools, |_| true).await);
        assert_eq!(names(&tools), ["Read", "src__a", "src__b"]);

        *source.names.lock().unwrap() = vec!["src__b", "src__c", "src__d"];
        source.generation.store(1, Ordering::SeqCst);
        assert!(sourced.sync(&mut tools, |t| t.name() != "src__d").await);
        assert_eq!(names(&tools), ["Read", "src__b", "src__c"]);
        assert!(!sourced.sync(&mut tools, |_| true).await, "no change since");
    }

    #[test]
    fn builtin_tools_have_unique_names_and_valid_schemas() {
        let tools = builtin();
        let names: HashSet<&str> = tools.iter().map(|t| t.name()).collect();
        assert_eq!(names.len(), tools.len());
        for t in &tools {
            let schema = t.input_schema();
            assert_eq!(schema["type"], "object", "{}", t.name());
            let props = schema["properties"].as_object().expect("properties");
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert!(props.contains_key(r.as_str().unwrap()), "{}: {r}", t.name());
            }
            assert!(t.description().len() > 80, "{}", t.name());
        }
        let ro: Vec<&str> = tools
            .iter()
            .filter(|t| t.read_only())
            .map(|t| t.name())
            .collect();
        for n in [
            "Read",
            "Glob",
            "Grep",
            "WebFetch",
            "TaskCreate",
            "TaskList",
            "AskUserQuestion",
        ] {
            assert!(ro.contains(&n), "{n}");
        }
        for n in ["Write", "Edit", "Bash"] {
            assert!(!ro.contains(&n), "{n}");
        }
    }
}
