//! The interactive session: line editing and history, streamed replies,
//! a spinner until the first token, Ctrl-C to cancel a reply, built-in
//! slash commands.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use claude_agent::Runtime;
use claude_agent::agentic::{PermissionAnswer, PermissionRequest, Prompter};
use claude_agent::session::{Session, TurnError, TurnEvent};
use claude_config::Config;
use claude_protocol::{BlockDelta, StreamEvent};
use claude_providers::ProviderEvent;
use indicatif::{ProgressBar, ProgressStyle};
use rustyline::error::ReadlineError;
use std::sync::Arc;

use crate::args::RunArgs;
use crate::complete::SlashCompleter;
use crate::print::header;
use crate::render::{MarkdownStream, Style};
use crate::sessions;

const COMMANDS: &[(&str, &str)] = &[
    ("/help", "this list"),
    (
        "/model [alias|id]",
        "show or switch the model (same provider)",
    ),
    ("/cost", "this session's tokens and cost by model"),
    (
        "/status",
        "provider, region, endpoint, model, context size and config files",
    ),
    (
        "/wipe [quick]",
        "write a handoff summary, clear the context, continue in a fresh session seeded with it",
    ),
    ("/clear", "clear the context without a summary"),
    (
        "/compact",
        "replace the conversation with a summary, same session",
    ),
    (
        "/permissions",
        "the permission rules in effect, the file each came from, and the mode",
    ),
    (
        "/memory",
        "the memory files loaded (CLAUDE.md, rules, imports) and their size in tokens",
    ),
    (
        "/context",
        "the context's tokens by part against the model's window",
    ),
    (
        "/mcp",
        "the MCP servers: transport, status, tool count and last error",
    ),
    ("/tasks", "the session's task list"),
    (
        "/hooks",
        "the hooks in effect: event, matcher, command and the file each came from",
    ),
    (
        "/exit",
        "leave (Ctrl-D works too; Shift-Tab cycles the permission mode)",
    ),
];

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn dim(s: &str) -> String {
    if color() {
        format!("\x1b[2m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn run(args: &RunArgs, cfg: &Config, runtime: Runtime) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut session =
        match rt.block_on(sessions::open(args, cfg, runtime, "repl", Some(prompter()))) {
            Ok(s) => s,
            Err(code) => return Ok(code),
        };
    let mut editor: rustyline::Editor<SlashCompleter, rustyline::history::DefaultHistory> =
        rustyline::Editor::new()?;
    editor.set_helper(Some(completer(&session)));
    let cycle = Arc::new(std::sync::atomic::AtomicBool::new(false));
    editor.bind_sequence(
        rustyline::KeyEvent(rustyline::KeyCode::BackTab, rustyline::Modifiers::NONE),
        rustyline::EventHandler::Conditional(Box::new(CycleMode(cycle.clone()))),
    );
    let mut pending_input = String::new();
    let history = cfg.user_dir().join("repl_history");
    let _ = editor.load_history(&history);

    println!("{}", dim(&format!("claude · {}", header(&session))));
    if !session.messages.is_empty() {
        println!(
            "{}",
            dim(&format!(
                "Resumed session {} ({} messages).",
                session.id,
                session.messages.len()
            ))
        );
    }
    println!(
        "{}",
        dim("/help for commands · Ctrl-C cancels a reply · Ctrl-D exits")
    );

    let status_line = match claude_agent::hooks::StatusLine::from_config(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("claude: warning: {e}");
            None
        }
    };
    if let Some(p) = &args.prompt {
        rt.block_on(turn(&mut session, p));
    }
    loop {
        if let Some(line) = &status_line {
            // Refreshed before every prompt, so after each turn.
            match rt.block_on(line.render(&status_json(&session, cfg))) {
                Ok(text) if !text.trim().is_empty() => println!("{}", dim(&text)),
                Ok(_) => {}
                Err(e) => eprintln!("claude: {e}"),
            }
        }
        let read = editor.readline_with_initial("> ", (&std::mem::take(&mut pending_input), ""));
        if cycle.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // Shift-Tab: cycle the permission mode and give the line back.
            if let Ok(l) = &read {
                pending_input.clone_from(l);
            }
            if let Some(agent) = session.agent.as_mut() {
                let mode = agent.permissions.cycle_mode();
                println!("{}", dim(&format!("permission mode: {}", mode.as_str())));
            }
            continue;
        }
        let mut line = match read {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        // A trailing backslash continues the prompt on the next line.
        while line.ends_with('\\') {
            line.pop();
            line.push('\n');
            match editor.readline("… ") {
                Ok(more) => line.push_str(&more),
                Err(ReadlineError::Interrupted) => {
                    line.clear();
                    break;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            }
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(trimmed);
        if trimmed.starts_with('/') {
            if !rt.block_on(command(&mut session, cfg, trimmed)) {
                break;
            }
        } else {
            rt.block_on(turn(&mut session, trimmed));
        }
    }
    let _ = editor.save_history(&history);
    rt.block_on(session.session_end("prompt_input_exit", &mut show_hook_messages));
    claude_mcp::client::stop_all();
    if let Some(p) = session.transcript_path() {
        println!(
            "{}",
            dim(&format!(
                "Session saved to {}; resume with `claude --resume {}`.",
                p.display(),
                session.id
            ))
        );
    }
    Ok(0)
}

/// What the status line command reads on stdin: Claude Code's shape.
fn status_json(session: &Session, cfg: &Config) -> serde_json::Value {
    let model = session.model_in_use();
    let cwd = session
        .agent
        .as_ref()
        .map_or_else(|| cfg.project_root().to_path_buf(), |a| a.ctx.cwd());
    let display_name = model
        .info
        .map(|i| i.name.clone())
        .or_else(|| model.alias.clone())
        .unwrap_or_else(|| model.model_id.clone());
    serde_json::json!({
        "hook_event_name": "Status",
        "session_id": session.id,
        "transcript_path": session.transcript_path(),
        "cwd": cwd,
        "model": {"id": model.model_id, "display_name": display_name},
        "workspace": {"current_dir": cwd, "project_dir": cfg.project_root()},
        "version": env!("CARGO_PKG_VERSION"),
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": session.total_cost(),
            "total_duration_ms": session.elapsed().as_millis() as u64,
        },
        "context_tokens": session.context_tokens(),
        "exceeds_200k_tokens": session.context_tokens() > 200_000,
    })
}

/// Shows hook messages outside a turn (session start and end, /clear).
fn show_hook_messages(ev: TurnEvent) {
    if let TurnEvent::HookMessage {
        event,
        text,
        is_error,
    } = ev
    {
        eprintln!("{}", hook_line(event, &text, is_error));
    }
}

/// A hook's message: failures name the hook themselves; system messages
/// get the event.
fn hook_line(event: claude_agent::hooks::HookEvent, text: &str, is_error: bool) -> String {
    if is_error {
        format!("⚠ {text}")
    } else {
        dim(&format!("{event} hook: {text}"))
    }
}

/// Tab completion for the built-in commands, the session's skills and the
/// MCP servers' prompts.
fn completer(session: &Session) -> SlashCompleter {
    let mut names: Vec<(String, String)> = COMMANDS
        .iter()
        .map(|(c, what)| {
            let name = c.split_whitespace().next().unwrap_or(c);
            (name.to_string(), (*what).to_string())
        })
        .collect();
    if let Some(skills) = &session.skills {
        names.extend(skills.set.user_invocable().map(|s| {
            let hint = s.argument_hint.clone().unwrap_or_default();
            (format!("/{}", s.name), hint)
        }));
    }
    if let Some(mcp) = sessions::MCP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        names.extend(mcp.prompt_commands());
    }
    SlashCompleter::new(names)
}

/// The spinner on screen, so a permission prompt can clear it first.
static ACTIVE_SPINNER: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);

fn clear_spinner() {
    if let Ok(mut s) = ACTIVE_SPINNER.lock()
        && let Some(pb) = s.take()
    {
        pb.finish_and_clear();
    }
}

fn spinner(label: &str) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(label.to_string());
        pb.enable_steady_tick(Duration::from_millis(80));
        if let Ok(mut s) = ACTIVE_SPINNER.lock() {
            *s = Some(pb.clone());
        }
        pb
    })
}

/// Asks the user about a tool call: yes once, yes and don't ask again, or
/// no with a reason for the model.
pub fn prompter() -> Prompter {
    Arc::new(|req: PermissionRequest| {
        Box::pin(async move {
            clear_spinner();
            let answer = tokio::task::spawn_blocking(move || ask_permission(&req)).await;
            answer.unwrap_or(PermissionAnswer::Deny(String::new()))
        })
    })
}

fn ask_permission(req: &PermissionRequest) -> PermissionAnswer {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "\n{} wants to run: {}", req.tool, req.key_arg);
    if req.tool != "Bash" {
        let _ = writeln!(err, "{}", dim(&req.input.to_string()));
    }
    let _ = write!(
        err,
        "  [y] yes   [a] yes, and don't ask again for {}   [n] no (and say why)  > ",
        req.suggested_rule
    );
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return PermissionAnswer::Deny(String::new());
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => PermissionAnswer::AllowOnce,
        "a" | "always" => PermissionAnswer::AllowAlways,
        _ => {
            let _ = write!(err, "  Reason for the model (optional): ");
            let _ = err.flush();
            let mut reason = String::new();
            let _ = std::io::stdin().read_line(&mut reason);
            PermissionAnswer::Deny(reason.trim().to_string())
        }
    }
}

/// Answers `AskUserQuestion` in the terminal: each question with its
/// numbered options; the user picks numbers or types their own answer.
pub fn ask_user() -> claude_agent::tools::AskUserFn {
    Arc::new(|input: &serde_json::Value| {
        let input = input.clone();
        Box::pin(async move {
            clear_spinner();
            tokio::task::spawn_blocking(move || ask_questions(&input))
                .await
                .unwrap_or_else(|_| Err("the question could not be shown".into()))
        })
    })
}

fn ask_questions(input: &serde_json::Value) -> Result<String, String> {
    let mut answers = Vec::new();
    let mut err = std::io::stderr();
    for q in input["questions"].as_array().into_iter().flatten() {
        let question = q["question"].as_str().unwrap_or_default();
        let _ = writeln!(err, "\n{question}");
        let options: Vec<&str> = q["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["label"].as_str())
            .collect();
        for (i, o) in q["options"].as_array().into_iter().flatten().enumerate() {
            let _ = writeln!(
                err,
                "  {}. {}  {}",
                i + 1,
                o["label"].as_str().unwrap_or_default(),
                dim(o["description"].as_str().unwrap_or_default())
            );
        }
        let multi = q["multiSelect"].as_bool().unwrap_or(false);
        let _ = write!(
            err,
            "{} > ",
            if multi {
                "Numbers separated by commas, or your own answer"
            } else {
                "A number, or your own answer"
            }
        );
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
            return Err("the user closed the prompt without answering".into());
        }
        let picked: Vec<&str> = line
            .trim()
            .split(',')
            .filter_map(|n| n.trim().parse::<usize>().ok())
            .filter_map(|n| options.get(n.wrapping_sub(1)).copied())
            .collect();
        let answer = if picked.is_empty() {
            line.trim().to_string()
        } else {
            picked.join(", ")
        };
        answers.push(format!("\"{question}\"=\"{answer}\""));
    }
    Ok(answers.join(", "))
}

/// Shows a spinner until the first token, then streams Markdown.
struct TurnView {
    spinner: Option<ProgressBar>,
    markdown: MarkdownStream,
}

impl TurnView {
    fn new(label: &str) -> Self {
        let spinner = spinner(label);
        let style = if color() {
            Style::Ansi {
                width: terminal_width(),
            }
        } else {
            Style::Plain
        };
        Self {
            spinner,
            markdown: MarkdownStream::new(style),
        }
    }

    fn stop_spinner(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
        clear_spinner();
    }

    fn event(&mut self, ev: TurnEvent) {
        match ev {
            TurnEvent::Provider(ProviderEvent::Stream(StreamEvent::ContentBlockDelta {
                delta: BlockDelta::TextDelta { text },
                ..
            })) => {
                self.stop_spinner();
                let out = self.markdown.push(&text);
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(out.as_bytes());
                let _ = stdout.flush();
            }
            TurnEvent::Provider(ProviderEvent::Retry(notice)) => match &self.spinner {
                Some(s) => s.set_message(notice.to_string()),
                None => eprintln!("claude: {notice}"),
            },
            TurnEvent::AutoCompacted {
                tokens_before,
                tokens_after,
            } => {
                let msg = format!(
                    "The context was nearly full ({tokens_before} tokens): older turns were summarised ({tokens_after} tokens now)."
                );
                match &self.spinner {
                    Some(s) => s.println(dim(&msg)),
                    None => eprintln!("claude: {msg}"),
                }
            }
            TurnEvent::ToolStarted { name, key_arg, .. } => {
                self.stop_spinner();
                let rest = self.markdown.finish();
                println!("{rest}\n⏺ {name}({key_arg})");
                self.spinner = spinner(&format!("Running {name}…"));
            }
            TurnEvent::ToolFinished {
                summary, is_error, ..
            } => {
                self.stop_spinner();
                let mark = if is_error { "error: " } else { "" };
                println!("  ⎿ {}", dim(&format!("{mark}{summary}")));
                self.spinner = spinner("Thinking…");
            }
            TurnEvent::ToolDenied { name, reason, .. } => {
                self.stop_spinner();
                println!("  ⎿ {}", dim(&format!("{name} denied: {reason}")));
                self.spinner = spinner("Thinking…");
            }
            TurnEvent::HookMessage {
                event,
                text,
                is_error,
            } => {
                let line = hook_line(event, &text, is_error);
                match &self.spinner {
                    Some(s) => s.println(line),
                    None => eprintln!("{line}"),
                }
            }
            TurnEvent::Subagent {
                agent_type, event, ..
            } => self.subagent(&agent_type, *event),
            TurnEvent::Provider(_) | TurnEvent::Message(_) => {}
        }
    }

    /// A subagent's tool calls, denials and retries, under its `Agent` call
    /// and above the spinner; its text is for the main agent only.
    fn subagent(&mut self, agent_type: &str, ev: TurnEvent) {
        let line = match ev {
            TurnEvent::ToolStarted { name, key_arg, .. } => {
                format!("  ⎿ {agent_type} ⏺ {name}({key_arg})")
            }
            TurnEvent::ToolDenied { name, reason, .. } => {
                format!("  ⎿ {agent_type}: {name} denied: {reason}")
            }
            TurnEvent::Provider(ProviderEvent::Retry(notice)) => {
                format!("  ⎿ {agent_type}: {notice}")
            }
            // What hooks said and compaction notices read the same from a subagent.
            ev @ (TurnEvent::HookMessage { .. } | TurnEvent::AutoCompacted { .. }) => {
                return self.event(ev);
            }
            _ => return,
        };
        match &self.spinner {
            Some(s) => s.println(dim(&line)),
            None => println!("{}", dim(&line)),
        }
    }

    fn finish(&mut self) {
        self.stop_spinner();
        let rest = self.markdown.finish();
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(rest.as_bytes());
        let _ = stdout.flush();
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

async fn turn(session: &mut Session, text: &str) {
    let mut view = TurnView::new("Thinking…");
    let mut sink = |ev: TurnEvent| view.event(ev);
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = session.submit(text, &mut sink, cancel).await;
    view.finish();
    println!();
    match result {
        Ok(_) => {}
        Err(TurnError::Cancelled { .. }) => {
            println!("{}", dim("[cancelled — what was shown is kept]"))
        }
        Err(TurnError::Provider(e)) => {
            if matches!(e, claude_providers::ProviderError::Interrupted { .. }) {
                println!("{}", dim("[reply incomplete]"));
            }
            eprintln!("claude: {e}");
        }
        Err(TurnError::Transcript(e)) => eprintln!("claude: {e}"),
        Err(e @ TurnError::MaxTurns { .. }) => eprintln!("claude: {e}"),
        Err(e @ TurnError::Skill(_)) => eprintln!("claude: {e}"),
        Err(e @ TurnError::HookStopped { .. }) => eprintln!("claude: {e}"),
    }
    books(session);
    println!(
        "{}",
        dim(&format!(
            "── {} · {} tokens in context",
            header(session),
            session.context_tokens()
        ))
    );
}

/// Budget alerts and recording problems, and the session id the ledger
/// files the next requests under (it changes on /wipe and /clear).
fn books(session: &Session) {
    if let Some(books) = &session.runtime.accounting {
        books.set_session(&session.id);
        for notice in books.take_notices() {
            eprintln!("claude: {notice}");
        }
    }
}

/// Runs a slash command; `false` ends the session.
async fn command(session: &mut Session, cfg: &Config, line: &str) -> bool {
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    let keep_going = run_command(session, cfg, name, arg).await;
    books(session);
    keep_going
}

async fn run_command(session: &mut Session, cfg: &Config, name: &str, arg: &str) -> bool {
    if name == "/q"
        && let Some(answer) = crate::vault_cmd::try_native_q(session, cfg, &format!("/q {arg}"))
    {
        match answer {
            Ok(text) => print!("{text}"),
            Err(e) => eprintln!("claude: /q: {}", crate::error_text(&e)),
        }
        return true;
    }
    match name {
        "/exit" | "/quit" => return false,
        "/help" => {
            for (c, what) in COMMANDS {
                println!("  {c:<20} {what}");
            }
            if let Some(skills) = &session.skills {
                let mut any = false;
                for s in skills.set.user_invocable() {
                    if !any {
                        println!("Skills and commands (claude skills list shows their models):");
                        any = true;
                    }
                    let mut what: String = s.description.chars().take(70).collect();
                    if s.description.chars().count() > 70 {
                        what.push('…');
                    }
                    println!("  {:<20} {what}", format!("/{}", s.name));
                }
            }
        }
        "/model" if arg.is_empty() => {
            let m = &session.runtime.model;
            println!("Model: {} ({})", m.model_id, m.reason);
        }
        "/model" => match session.set_model(arg) {
            Ok(()) => {
                let m = &session.runtime.model;
                println!(
                    "Model: {} ({}); max_tokens {}",
                    m.model_id, m.reason, session.runtime.max_tokens
                );
            }
            Err(e) => eprintln!("claude: {e}"),
        },
        "/cost" => cost(session),
        "/status" => status(session, cfg),
        "/wipe" | "/compact" => {
            let quick = arg == "quick";
            let mut view = TurnView::new("Writing the handoff summary…");
            let mut sink = |ev: TurnEvent| {
                if let TurnEvent::Provider(ProviderEvent::Retry(n)) = &ev {
                    eprintln!("claude: {n}");
                }
                show_hook_messages(ev);
            };
            let result = if name == "/wipe" {
                session.session_end("clear", &mut sink).await;
                let r = session.wipe(quick, &mut sink).await;
                session.session_start("clear", &mut sink).await;
                r
            } else {
                session.compact(&mut sink).await
            };
            view.stop_spinner();
            match result {
                Ok(summary) if summary.is_empty() => {
                    println!("Nothing to summarise; the context is empty.")
                }
                Ok(summary) => {
                    let mut md = MarkdownStream::new(if color() {
                        Style::Ansi {
                            width: terminal_width(),
                        }
                    } else {
                        Style::Plain
                    });
                    print!("{}{}", md.push(&summary), md.finish());
                    if name == "/wipe" {
                        println!(
                            "\n{}",
                            dim(&format!(
                                "Context cleared. New session {} starts from this summary.",
                                session.id
                            ))
                        );
                    } else {
                        println!(
                            "\n{}",
                            dim(&format!(
                                "Conversation compacted: {} tokens in context now.",
                                session.context_tokens()
                            ))
                        );
                    }
                }
                Err(e) => eprintln!("claude: {e}"),
            }
        }
        "/permissions" => permissions(session),
        "/memory" => memory(session),
        "/context" => {
            session.sync_tools().await;
            context(session)
        }
        "/mcp" => mcp_servers(),
        "/tasks" => tasks(session),
        "/hooks" => hooks(session),
        "/clear" => {
            session.session_end("clear", &mut show_hook_messages).await;
            match session.clear() {
                Ok(()) => println!(
                    "{}",
                    dim(&format!("Context cleared. New session {}.", session.id))
                ),
                Err(e) => eprintln!("claude: {e}"),
            }
            session
                .session_start("clear", &mut show_hook_messages)
                .await;
        }
        other
            if session
                .skills
                .as_ref()
                .and_then(|s| s.set.get(&other[1..]))
                .is_some_and(|s| s.user_invocable) =>
        {
            let line = if arg.is_empty() {
                other.to_string()
            } else {
                format!("{other} {arg}")
            };
            turn(session, &line).await;
        }
        other if other.starts_with("/mcp__") && mcp_prompt(session, other, arg).await => {}
        other => {
            let skills: Vec<String> = session
                .skills
                .as_ref()
                .map(|s| {
                    s.set
                        .user_invocable()
                        .map(|s| format!("/{}", s.name))
                        .collect()
                })
                .unwrap_or_default();
            let names = COMMANDS
                .iter()
                .map(|(c, _)| c.split_whitespace().next().unwrap_or(c))
                .chain(skills.iter().map(String::as_str));
            match claude_providers::did_you_mean(other, names) {
                Some(s) => {
                    eprintln!("Unknown command {other}. Did you mean {s}? (/help lists them)")
                }
                None => eprintln!("Unknown command {other}. /help lists the commands."),
            }
        }
    }
    true
}

/// `/cost` shows the ledger's view (failed but billed attempts, cache
/// savings, pricing.overrides), as `claude cost session` does. Every session
/// has books: `sessions::open` refuses to start without them.
fn cost(session: &Session) {
    let Some(books) = &session.runtime.accounting else {
        return;
    };
    match books.session_report() {
        Ok(report) => print!("{}", crate::cost_cmd::session_cost(&report)),
        Err(e) => eprintln!("claude: {e}"),
    }
}

fn status(session: &Session, cfg: &Config) {
    let rt = &session.runtime;
    println!("Session:  {}", session.id);
    if let Some(p) = session.transcript_path() {
        println!("Transcript: {}", p.display());
    }
    for line in rt.describe() {
        println!("{line}");
    }
    let window = rt.model.info.map_or(200_000, |i| i.context_window);
    println!(
        "context: {} tokens of {window} ({}%)",
        session.context_tokens(),
        session.context_tokens() * 100 / window.max(1)
    );
    println!(
        "/q: {}",
        if crate::vault_cmd::native_q_enabled(cfg) {
            "native (vault index, no model; vault.native_q = true)"
        } else {
            "the project's q skill (vault.native_q = false)"
        }
    );
    println!("config files:");
    for f in cfg.files() {
        println!("  {}", f.path.display());
    }
    if cfg.files().is_empty() {
        println!("  (none; defaults in effect)");
    }
}

fn permissions(session: &Session) {
    let Some(agent) = &session.agent else {
        println!("Tools are off in this session.");
        return;
    };
    println!("Mode: {}", agent.permissions.mode().as_str());
    let rules = agent.permissions.rules();
    if rules.is_empty() {
        println!(
            "No rules: Read, Glob and Grep are allowed in the working directory; everything else asks."
        );
    }
    for r in rules {
        println!(
            "  {:<6} {:<40} {}",
            format!("{:?}", r.list).to_ascii_lowercase(),
            r.to_string(),
            dim(&r.source)
        );
    }
    for w in agent.permissions.warnings() {
        println!("  {}", dim(&format!("warning: {w}")));
    }
}

fn memory(session: &Session) {
    let Some(agent) = &session.agent else {
        println!("Tools are off in this session.");
        return;
    };
    if agent.memory.files.is_empty() {
        println!("No memory files (CLAUDE.md, .claude/rules/*.md, CLAUDE.local.md) were found.");
    }
    for f in &agent.memory.files {
        println!(
            "  {:>7} tokens  {}  {}",
            f.tokens,
            f.path.display(),
            dim(f.kind.description())
        );
    }
}

fn context(session: &Session) {
    let req = session.preview_request();
    let estimate = |s: &str| (s.len() as u64).div_ceil(4);
    let system = match &req.system {
        Some(claude_protocol::SystemPrompt::Text(t)) => estimate(t),
        Some(claude_protocol::SystemPrompt::Blocks(b)) => b.iter().map(|b| estimate(&b.text)).sum(),
        None => 0,
    };
    let memory = session.agent.as_ref().map_or(0, |a| a.memory.tokens());
    let tools = estimate(&serde_json::to_string(&req.tools).unwrap_or_default());
    let messages = estimate(&serde_json::to_string(&req.messages).unwrap_or_default());
    let window = session
        .runtime
        .model
        .info
        .map_or(200_000, |i| i.context_window);
    let total = system + tools + messages;
    println!(
        "Context: about {total} tokens of {window} ({}%)",
        total * 100 / window.max(1)
    );
    println!("  system prompt  {:>8}", system.saturating_sub(memory));
    println!("  memory files   {memory:>8}");
    println!("  tools          {tools:>8}");
    let mcp: Vec<_> = req
        .tools
        .iter()
        .filter(|t| t.name.starts_with("mcp__") || t.name.contains("McpResource"))
        .collect();
    if !mcp.is_empty() {
        println!(
            "    of which MCP {:>6}  ({} tools)",
            estimate(&serde_json::to_string(&mcp).unwrap_or_default()),
            mcp.len()
        );
    }
    println!("  messages       {messages:>8}");
}

/// `/mcp__<server>__<prompt> args`: the server's prompt, filled in with
/// the arguments, sent as the next turn. False when no server has it.
async fn mcp_prompt(session: &mut Session, command: &str, arg: &str) -> bool {
    let mcp = crate::sessions::MCP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(mcp) = mcp else { return false };
    match mcp.prompt(command, arg).await {
        None => false,
        Some(Ok(text)) => {
            turn(session, &text).await;
            true
        }
        Some(Err(e)) => {
            eprintln!("claude: {command}: {e}");
            true
        }
    }
}

/// `/mcp`: each MCP server with its transport, status, tool count and last error.
fn mcp_servers() {
    let mcp = crate::sessions::MCP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let reports = mcp.as_ref().map(|m| m.report()).unwrap_or_default();
    let prompts = mcp.map(|m| m.prompt_commands()).unwrap_or_default();
    if reports.is_empty() {
        println!("No MCP servers. Add one with `claude mcp add` or in .mcp.json (docs/mcp.md).");
    }
    for r in reports {
        let status = match &r.status {
            claude_mcp::manager::Status::Connected => "connected".to_string(),
            claude_mcp::manager::Status::Failed(why) => format!("failed: {why}"),
        };
        println!(
            "  {:<20} {:<6} {:>3} tools  {status}",
            r.name, r.transport, r.tools
        );
        if let Some(e) = r
            .last_error
            .filter(|_| r.status == claude_mcp::manager::Status::Connected)
        {
            println!("  {}", dim(&format!("last error: {e}")));
        }
        if let Some(log) = r.log {
            println!("  {}", dim(&format!("stderr: {}", log.display())));
        }
    }
    if !prompts.is_empty() {
        println!("Prompts:");
    }
    for (command, description) in prompts {
        println!("  {command:<32} {}", dim(&description));
    }
}

fn hooks(session: &Session) {
    let Some(agent) = &session.agent else {
        println!("Tools are off in this session.");
        return;
    };
    let list = agent.hooks.list();
    if list.is_empty() {
        println!(
            "No hooks. Add them under `hooks` in .claude/settings.json (docs/skills-and-hooks.md)."
        );
    }
    for h in list {
        let matcher = if h.matcher.is_empty() {
            "*"
        } else {
            h.matcher.as_str()
        };
        let once = if h.once { ", once" } else { "" };
        println!(
            "  {:<18} {:<16} {}  {}",
            h.event.as_str(),
            matcher,
            h.command,
            dim(&format!("({}s{once}) {}", h.timeout_secs, h.source))
        );
    }
    for w in agent.hooks.warnings() {
        println!("  {}", dim(&format!("warning: {w}")));
    }
}

fn tasks(session: &Session) {
    let Some(agent) = &session.agent else {
        println!("Tools are off in this session.");
        return;
    };
    let tasks = agent
        .ctx
        .tasks
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    if tasks.is_empty() {
        println!("No tasks yet.");
    }
    for t in tasks {
        let mark = match t["status"].as_str() {
            Some("completed") => "✔",
            Some("in_progress") => "◐",
            _ => "○",
        };
        println!(
            "  {mark} {} {}",
            t["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| t["id"].to_string()),
            t["subject"].as_str().unwrap_or_default()
        );
    }
}

/// Shift-Tab submits the line with a flag set, so the loop can cycle the
/// permission mode and put the line back for further editing.
struct CycleMode(Arc<std::sync::atomic::AtomicBool>);

impl rustyline::ConditionalEventHandler for CycleMode {
    fn handle(
        &self,
        _evt: &rustyline::Event,
        _n: rustyline::RepeatCount,
        _positive: bool,
        _ctx: &rustyline::EventContext,
    ) -> Option<rustyline::Cmd> {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        Some(rustyline::Cmd::AcceptLine)
    }
}
