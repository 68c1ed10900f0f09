//! Starting, continuing and resuming sessions, and `claude sessions`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::SystemTime;

use claude_agent::Runtime;
use claude_agent::accounting::AccountingHandle;
use claude_agent::agentic::{Agent, AgentOptions, Prompter};
use claude_agent::permissions::PermissionFlags;
use claude_agent::session::{Session, TurnEvent};
use claude_agent::skills::{SkillSet, Skills};
use claude_agent::subagents::load_agents;
use claude_agent::transcript::{LoadedSession, SessionSummary, TranscriptStore};
use claude_config::Config;

use crate::args::RunArgs;

/// Opens the session the flags ask for. On failure the message is printed
/// and the exit code returned.
pub async fn open(
    args: &RunArgs,
    cfg: &Config,
    mut runtime: Runtime,
    entrypoint: &'static str,
    prompter: Option<Prompter>,
) -> Result<Session, i32> {
    // Every request of the session goes through the books: budget, ledger, audit.
    match AccountingHandle::open(cfg, &runtime, args.max_budget_usd) {
        Ok(books) => runtime.accounting = Some(books),
        Err(e) => {
            eprintln!("claude: {e}");
            return Err(2);
        }
    }
    let store = TranscriptStore::new(cfg.user_dir());
    let cwd = cfg.project_root().to_path_buf();
    let loaded: Option<LoadedSession> = if args.continue_session {
        match store.latest(&cwd) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("claude: {e}");
                return Err(2);
            }
        }
    } else if let Some(id) = &args.resume {
        let id = if id.is_empty() {
            match pick(&store, cfg) {
                Some(id) => id,
                None => return Err(2),
            }
        } else {
            id.clone()
        };
        match store.open(&cwd, &id) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("claude: {e}");
                return Err(2);
            }
        }
    } else {
        None
    };
    let resumed = loaded.is_some();
    let result = match loaded {
        Some(l) => {
            let incomplete = l.had_incomplete_reply;
            let s = Session::resume(runtime, store, l, args.model.is_some()).await;
            if incomplete && s.is_ok() {
                eprintln!(
                    "claude: the last reply of this session did not complete; what was shown is kept, marked incomplete."
                );
            }
            s
        }
        None => {
            Session::start(
                runtime,
                store,
                cwd,
                entrypoint,
                !args.no_session_persistence,
            )
            .await
        }
    };
    let mut session = result.map_err(|e| {
        eprintln!("claude: {e}");
        2
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| cfg.project_root().to_path_buf());
    let opts = AgentOptions {
        flags: PermissionFlags {
            allowed_tools: args.allowed_tools.clone(),
            disallowed_tools: args.disallowed_tools.clone(),
            mode: args.permission_mode.clone(),
            add_dirs: args.add_dir.clone(),
            dangerously_skip_permissions: args.dangerously_skip_permissions,
        },
        max_turns: args.max_turns,
        ask_user: prompter.is_some().then(crate::repl::ask_user),
        prompter,
    };
    match Agent::from_config(cfg, &cwd, &session.runtime.model.model_id, opts) {
        Ok(agent) => {
            let hook_warnings = agent.hooks.warnings();
            for w in agent
                .permissions
                .warnings()
                .iter()
                .chain(agent.memory.warnings())
                .chain(&hook_warnings)
            {
                eprintln!("claude: warning: {w}");
            }
            session.enable_tools(agent);
            // Agent-file warnings are shown by `claude skills check`, not at every start.
            let (agents, _warnings) = load_agents(cfg.user_dir(), cfg.project_root());
            session.enable_subagents(agents);
            let skills = SkillSet::load(cfg.user_dir(), cfg.project_root());
            session.enable_skills(Skills {
                set: Arc::new(skills),
                env: cfg
                    .env()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        }
        Err(e) => {
            eprintln!("claude: {e}");
            return Err(2);
        }
    }
    if let Some(books) = &session.runtime.accounting {
        books.set_session(&session.id);
    }
    let source = if resumed { "resume" } else { "startup" };
    let mut show = |ev: TurnEvent| {
        if let TurnEvent::HookMessage {
            event,
            text,
            is_error,
        } = ev
        {
            if is_error {
                eprintln!("claude: {text}");
            } else {
                eprintln!("claude: {event} hook: {text}");
            }
        }
    };
    session.session_start(source, &mut show).await;
    Ok(session)
}

/// Lets the user choose a session when `--resume` has no id.
fn pick(store: &TranscriptStore, cfg: &Config) -> Option<String> {
    let list = store.list(cfg.project_root());
    if list.is_empty() {
        eprintln!(
            "claude: no sessions in this project yet ({}).",
            store.project_dir(cfg.project_root()).display()
        );
        return None;
    }
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "claude: --resume needs a session id when standard input is not a terminal. Sessions:"
        );
        print_list(&list, &mut std::io::stderr());
        return None;
    }
    print_list(&list, &mut std::io::stderr());
    eprint!("Resume which session? [1-{}] ", list.len());
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let n: usize = line.trim().parse().ok()?;
    list.get(n.checked_sub(1)?).map(|s| s.session_id.clone())
}

fn ago(t: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs());
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

fn print_list(list: &[SessionSummary], out: &mut dyn Write) {
    for (i, s) in list.iter().enumerate() {
        let mut prompt: String = s.first_prompt.chars().take(60).collect();
        if prompt.len() < s.first_prompt.len() {
            prompt.push('…');
        }
        let _ = writeln!(
            out,
            "{:>3}. {}  {:>8}  {:<9} {:<45} {:>3} turns  {}",
            i + 1,
            s.session_id,
            ago(s.modified),
            s.provider,
            s.model,
            s.turns,
            prompt.replace('\n', " ")
        );
    }
}

/// `claude sessions`.
pub fn list(cfg: &Config, json: bool) -> anyhow::Result<i32> {
    let store = TranscriptStore::new(cfg.user_dir());
    let list = store.list(cfg.project_root());
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(0);
    }
    if list.is_empty() {
        println!("No sessions in this project yet.");
        return Ok(0);
    }
    print_list(&list, &mut std::io::stdout());
    Ok(0)
}
