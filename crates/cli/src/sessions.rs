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
use claude_mcp::config::Admission;
use claude_mcp::manager::{Manager, Status};

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
    let prompter_present = prompter.is_some();
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
            let mcp = Arc::new(start_mcp(cfg, prompter_present).await);
            if let Some(agent) = session.agent.as_mut()
                && !mcp.servers.is_empty()
            {
                agent.add_source(claude_mcp::tools::source(mcp.clone()));
            }
            *MCP.lock().unwrap_or_else(|p| p.into_inner()) = Some(mcp);
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

/// The session's MCP servers, for `/mcp`.
pub static MCP: std::sync::Mutex<Option<Arc<Manager>>> = std::sync::Mutex::new(None);

/// Starts the allowed MCP servers in parallel (each within `MCP_TIMEOUT`).
/// A project server nobody approved yet is asked about once in the REPL
/// (the answer is recorded) and left out in print mode, with a notice.
async fn start_mcp(cfg: &Config, interactive: bool) -> Manager {
    let (entries, warnings) = claude_mcp::config::load_servers(cfg);
    for w in warnings {
        eprintln!("claude: warning: {w}");
    }
    let mut run = Vec::new();
    for e in entries {
        match e.admission {
            Admission::Allowed => run.push((e.name, e.config)),
            Admission::NeedsApproval if interactive => {
                eprint!(
                    "The project's .mcp.json defines the MCP server `{}` ({}). Use it? [y/N] ",
                    e.name,
                    e.config.target()
                );
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let yes = std::io::stdin().lock().read_line(&mut answer).is_ok()
                    && matches!(answer.trim(), "y" | "Y" | "yes");
                let recorded = if yes {
                    claude_mcp::config::approve_project_server(cfg.project_root(), &e.name)
                } else {
                    claude_mcp::config::disable_project_server(cfg.project_root(), &e.name)
                };
                if let Err(err) = recorded {
                    eprintln!("claude: warning: the answer was not recorded: {err}");
                }
                if yes {
                    run.push((e.name, e.config));
                }
            }
            Admission::NeedsApproval => eprintln!(
                "claude: the project MCP server `{}` is not approved yet, so it was not started; \
                 approve it in an interactive session (`claude`) first",
                e.name
            ),
            Admission::Disabled => {}
            other => eprintln!(
                "claude: the MCP server `{}` was not started: {other}",
                e.name
            ),
        }
    }
    if run.is_empty() {
        return Manager::default();
    }
    let timeout = claude_mcp::manager::env_millis("MCP_TIMEOUT")
        .unwrap_or(claude_mcp::manager::DEFAULT_START_TIMEOUT);
    let mcp = Manager::start(run, Some(cfg.user_dir().join("mcp-logs")), timeout).await;
    for r in mcp.report() {
        if let Status::Failed(why) = &r.status {
            eprintln!(
                "claude: the MCP server `{}` is not available: {why}",
                r.name
            );
        }
    }
    mcp
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
