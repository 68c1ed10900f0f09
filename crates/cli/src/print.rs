//! Print mode: one prompt, one reply, rendered as text, JSON or stream-JSON.

use std::io::{IsTerminal, Read, Write};

use claude_agent::Runtime;
use claude_agent::accounting::AccountingHandle;
use claude_agent::session::{Session, TurnError, TurnEvent};
use claude_config::Config;
use claude_protocol::{BlockDelta, StreamEvent, Usage};
use claude_providers::ProviderEvent;
use serde_json::json;

use crate::args::{OutputFormat, RunArgs};
use crate::sessions;

/// Standard input is capped like Claude Code's, so a runaway pipe cannot
/// become a runaway bill.
const STDIN_CAP: u64 = 10 * 1024 * 1024;

fn read_prompt(args: &RunArgs) -> anyhow::Result<Option<String>> {
    if let Some(p) = &args.prompt {
        return Ok(Some(p.clone()));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut buf = String::new();
    stdin.lock().take(STDIN_CAP).read_to_string(&mut buf)?;
    Ok(Some(buf).filter(|s| !s.trim().is_empty()))
}

pub fn run(args: &RunArgs, cfg: &Config) -> anyhow::Result<i32> {
    let mut runtime = match Runtime::from_config(cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("claude: {e}");
            return Ok(2);
        }
    };
    runtime.stream = !args.no_stream;
    if args.verbose {
        for line in runtime.describe() {
            eprintln!("claude: {line}");
        }
    }
    if !args.print && !args.dry_run {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "claude: standard input is not a terminal. For a non-interactive answer use print mode: `claude -p \"your prompt\"` or `echo prompt | claude -p`."
            );
            return Ok(2);
        }
        return crate::repl::run(args, cfg, runtime);
    }
    let Some(prompt) = read_prompt(args)? else {
        eprintln!(
            "claude: no prompt. Give one as an argument (`claude -p \"hello\"`) or on standard input (`echo hello | claude -p`)."
        );
        return Ok(2);
    };
    if args.dry_run {
        let mut request = claude_protocol::MessagesRequest {
            max_tokens: runtime.max_tokens,
            messages: vec![claude_protocol::Message::user(prompt)],
            ..Default::default()
        };
        if cfg.bool("prompt_caching") != Some(false) {
            claude_agent::caching::place_breakpoints(&mut request, runtime.model.info);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&runtime.dry_run(&request, runtime.stream))?
        );
        return Ok(0);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(print_turn(args, cfg, runtime, prompt))
}

async fn print_turn(
    args: &RunArgs,
    cfg: &Config,
    runtime: Runtime,
    prompt: String,
) -> anyhow::Result<i32> {
    let format = args.output_format;
    let mut session = match sessions::open(args, cfg, runtime, "print", None).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if format == OutputFormat::StreamJson {
        println!(
            "{}",
            json!({
                "type": "system",
                "subtype": "init",
                "session_id": session.id,
                "cwd": cfg.project_root(),
                "model": session.runtime.model.model_id,
                "provider": session.runtime.provider.as_str(),
                "tools": session.preview_request().tools.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                "mcp_servers": mcp_servers(),
                "permissionMode": session.agent.as_ref().map(|a| a.permissions.mode().as_str()),
            })
        );
    }
    if let Some(answer) = crate::vault_cmd::try_native_q(&mut session, cfg, &prompt) {
        let answer = answer?;
        if format == OutputFormat::Text {
            print!("{answer}");
        } else {
            println!(
                "{}",
                json!({
                    "type": "result",
                    "subtype": "success",
                    "is_error": false,
                    "result": answer,
                    "session_id": session.id,
                    "num_turns": 0,
                    "total_cost_usd": 0.0,
                    "model": "native:/q",
                })
            );
        }
        return Ok(0);
    }
    let costs_before = session.costs.len();
    let mut out = Renderer::new(format, args.include_partial_messages, session.id.clone());
    let mut sink = |ev: TurnEvent| out.event(ev);
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = session.submit(&prompt, &mut sink, cancel).await;
    out.finish_text();
    let run_costs = &session.costs[costs_before..];
    let mut usage = Usage::default();
    for c in run_costs {
        usage.input_tokens += c.usage.input_tokens;
        usage.output_tokens += c.usage.output_tokens;
        usage.cache_creation_input_tokens += c.usage.cache_creation_input_tokens;
        usage.cache_read_input_tokens += c.usage.cache_read_input_tokens;
    }
    let books = session.runtime.accounting.clone();
    // The ledger's figure: failed but billed attempts and pricing.overrides included.
    let cost: f64 = books.as_ref().map_or_else(
        || run_costs.iter().map(|c| c.cost_usd).sum::<f64>() + 0.0,
        AccountingHandle::run_cost_usd,
    );
    let elapsed = session.elapsed().as_millis() as u64;
    let mut result_line = json!({
        "type": "result",
        "session_id": session.id,
        "duration_ms": elapsed,
        "num_turns": session.last_turn.num_turns,
        "permission_denials": session.last_turn.permission_denials,
        "total_cost_usd": cost,
        "usage": usage,
        "model": session.runtime.model.model_id,
    });
    let code = match result {
        Ok(done) => {
            result_line["subtype"] = json!("success");
            result_line["is_error"] = json!(false);
            result_line["result"] = json!(done.message.content.text());
            result_line["stop_reason"] = json!(done.stop_reason);
            result_line["duration_api_ms"] = json!(done.latency.as_millis() as u64);
            result_line["request_id"] = json!(done.request_id);
            0
        }
        Err(TurnError::Cancelled { partial }) => {
            eprintln!(
                "claude: interrupted; the reply above is incomplete and was kept in the transcript."
            );
            result_line["subtype"] = json!("error_during_execution");
            result_line["is_error"] = json!(true);
            result_line["result"] = json!(partial);
            result_line["error"] =
                json!({"code": "interrupted", "message": "interrupted with Ctrl-C"});
            130
        }
        Err(TurnError::Provider(e)) => {
            if let claude_providers::ProviderError::Interrupted { partial, .. } = &e {
                eprintln!("claude: [reply incomplete]");
                result_line["result"] = json!(partial.content.text());
            } else {
                result_line["result"] = json!("");
            }
            eprintln!("claude: {e}");
            result_line["subtype"] = json!("error_during_execution");
            result_line["is_error"] = json!(true);
            result_line["error"] =
                json!({"code": e.code(), "message": e.to_string(), "request_id": e.request_id()});
            e.exit_code()
        }
        Err(TurnError::MaxTurns { turns }) => {
            eprintln!(
                "claude: stopped after {turns} turns (--max-turns {turns}); raise --max-turns to let the model go on."
            );
            result_line["subtype"] = json!("error_max_turns");
            result_line["is_error"] = json!(true);
            result_line["result"] = json!("");
            12
        }
        Err(TurnError::Skill(e)) => {
            eprintln!("claude: {e}");
            result_line["subtype"] = json!("error_during_execution");
            result_line["is_error"] = json!(true);
            result_line["result"] = json!("");
            result_line["error"] = json!({"code": "skill", "message": e.to_string()});
            1
        }
        Err(TurnError::Transcript(e)) => {
            eprintln!("claude: {e}");
            result_line["subtype"] = json!("error_during_execution");
            result_line["is_error"] = json!(true);
            result_line["result"] = json!("");
            result_line["error"] = json!({"code": "transcript", "message": e.to_string()});
            1
        }
        Err(e @ TurnError::HookStopped { .. }) => {
            eprintln!("claude: {e}");
            result_line["subtype"] = json!("error_during_execution");
            result_line["is_error"] = json!(true);
            result_line["result"] = json!("");
            result_line["error"] = json!({"code": "hook_stopped", "message": e.to_string()});
            1
        }
    };
    session
        .session_end("other", &mut |ev: TurnEvent| out.event(ev))
        .await;
    claude_mcp::client::stop_all();
    let code = settle_books(books.as_ref(), code, &mut result_line);
    if format != OutputFormat::Text {
        println!("{result_line}");
    }
    Ok(code)
}

/// Shows the books' notices (budget alerts, unpriced models, unwritten
/// records) and applies `--max-budget-usd`: a run that reached it reports
/// subtype `error_max_budget_usd` and exits 11, as documented.
fn settle_books(books: Option<&AccountingHandle>, code: i32, line: &mut serde_json::Value) -> i32 {
    let Some(books) = books else {
        return code;
    };
    for notice in books.take_notices() {
        eprintln!("claude: {notice}");
    }
    let capped = books.run_cap_reached() || line["error"]["code"] == "max_budget_usd";
    if capped && (code == 0 || code == 11) {
        eprintln!(
            "claude: this run reached --max-budget-usd: ${:.6} spent.",
            books.run_cost_usd()
        );
        line["subtype"] = json!("error_max_budget_usd");
        line["is_error"] = json!(true);
        return 11;
    }
    code
}

/// Writes print-mode events as they arrive; text reaches stdout at once.
struct Renderer {
    format: OutputFormat,
    partial_messages: bool,
    ended_with_newline: bool,
    wrote_text: bool,
    session_id: String,
}

impl Renderer {
    fn new(format: OutputFormat, partial_messages: bool, session_id: String) -> Self {
        Self {
            format,
            partial_messages,
            ended_with_newline: true,
            wrote_text: false,
            session_id,
        }
    }

    /// A stream-json line for a whole message: the main conversation's
    /// (`parent_tool_use_id` null) or a subagent's (the `Agent` call's id).
    fn message_line(&self, message: &claude_protocol::Message, parent: Option<&str>) {
        if self.format == OutputFormat::StreamJson {
            let kind = match message.role {
                claude_protocol::Role::User => "user",
                claude_protocol::Role::Assistant => "assistant",
            };
            println!(
                "{}",
                json!({"type": kind, "message": message, "parent_tool_use_id": parent, "session_id": self.session_id})
            );
        }
    }

    /// What a subagent does: its messages in stream-json, its tool calls on
    /// stderr in text mode, its retries and denials always.
    fn subagent(&mut self, parent: Option<&str>, agent_type: &str, ev: TurnEvent) {
        match ev {
            // A subagent with no `Agent` call (a slash-invoked fork skill) has
            // no id to mark its messages with: only its answer is shown.
            TurnEvent::Message(m) if parent.is_some() => self.message_line(&m, parent),
            TurnEvent::ToolStarted { name, key_arg, .. } if self.format == OutputFormat::Text => {
                self.finish_text();
                eprintln!("claude:   ⎿ {agent_type} ⏺ {name}({key_arg})");
            }
            TurnEvent::ToolDenied { name, reason, .. } => {
                eprintln!("claude:   ⎿ {agent_type}: {name} denied: {reason}");
            }
            TurnEvent::Provider(ProviderEvent::Retry(notice)) => {
                eprintln!("claude: {agent_type}: {notice}");
            }
            TurnEvent::Provider(ProviderEvent::Stream(ev))
                if self.format == OutputFormat::StreamJson && self.partial_messages =>
            {
                println!(
                    "{}",
                    json!({"type": "stream_event", "event": ev, "parent_tool_use_id": parent, "session_id": self.session_id})
                );
            }
            // What hooks said and compaction notices read the same from a subagent.
            ev @ (TurnEvent::HookMessage { .. } | TurnEvent::AutoCompacted { .. }) => {
                self.event(ev)
            }
            _ => {}
        }
    }

    fn event(&mut self, ev: TurnEvent) {
        let ev = match ev {
            TurnEvent::Provider(ev) => ev,
            TurnEvent::ToolStarted { name, key_arg, .. } => {
                if self.format == OutputFormat::Text {
                    self.finish_text();
                    eprintln!("claude: ⏺ {name}({key_arg})");
                }
                return;
            }
            TurnEvent::ToolFinished {
                name,
                summary,
                is_error,
                ..
            } => {
                if self.format == OutputFormat::Text {
                    eprintln!(
                        "claude:   ⎿ {name}: {}{summary}",
                        if is_error { "error: " } else { "" }
                    );
                }
                return;
            }
            TurnEvent::ToolDenied { name, reason, .. } => {
                eprintln!("claude: {name} denied: {reason}");
                return;
            }
            TurnEvent::HookMessage {
                event,
                text,
                is_error,
            } => {
                self.finish_text();
                if is_error {
                    eprintln!("claude: {text}");
                } else {
                    eprintln!("claude: {event} hook: {text}");
                }
                return;
            }
            TurnEvent::AutoCompacted {
                tokens_before,
                tokens_after,
            } => {
                eprintln!(
                    "claude: the context was nearly full ({tokens_before} tokens); older turns were summarised ({tokens_after} tokens now)."
                );
                return;
            }
            TurnEvent::Message(m) => {
                self.message_line(&m, None);
                return;
            }
            TurnEvent::Subagent {
                parent_tool_use_id,
                agent_type,
                event,
            } => {
                self.subagent(parent_tool_use_id.as_deref(), &agent_type, *event);
                return;
            }
        };
        match ev {
            ProviderEvent::Retry(notice) => {
                eprintln!("claude: {notice}");
                if self.format == OutputFormat::StreamJson {
                    println!(
                        "{}",
                        json!({"type": "system", "subtype": "api_retry", "attempt": notice.next_attempt, "max_retries": notice.max_attempts, "retry_delay_ms": notice.wait.as_millis() as u64, "error": notice.reason})
                    );
                }
            }
            ProviderEvent::Stream(ev) => match self.format {
                OutputFormat::Text => {
                    if let StreamEvent::ContentBlockDelta {
                        delta: BlockDelta::TextDelta { text },
                        ..
                    } = &ev
                    {
                        let mut stdout = std::io::stdout().lock();
                        let _ = stdout.write_all(text.as_bytes());
                        let _ = stdout.flush();
                        if !text.is_empty() {
                            self.ended_with_newline = text.ends_with('\n');
                            self.wrote_text = true;
                        }
                    }
                }
                OutputFormat::StreamJson if self.partial_messages => {
                    println!(
                        "{}",
                        json!({"type": "stream_event", "event": ev, "parent_tool_use_id": null, "session_id": self.session_id})
                    );
                }
                OutputFormat::StreamJson | OutputFormat::Json => {}
            },
        }
    }

    fn finish_text(&mut self) {
        if self.format == OutputFormat::Text && self.wrote_text && !self.ended_with_newline {
            println!();
            self.ended_with_newline = true;
        }
    }
}

/// A compact line of the session for headers: provider, region, model, cost.
pub fn header(session: &Session) -> String {
    let rt = &session.runtime;
    let region = rt
        .bedrock
        .as_ref()
        .map(|b| format!(" · {}", b.region))
        .unwrap_or_default();
    format!(
        "{}{region} · {} · ${:.4}",
        rt.provider.as_str(),
        rt.model.model_id,
        session.total_cost()
    )
}

/// The session's MCP servers as Claude Code's `init` message lists them.
fn mcp_servers() -> Vec<serde_json::Value> {
    let mcp = sessions::MCP.lock().unwrap_or_else(|p| p.into_inner());
    mcp.iter()
        .flat_map(|m| m.report())
        .map(|r| {
            let status = match r.status {
                claude_mcp::manager::Status::Connected => "connected",
                claude_mcp::manager::Status::Failed(_) => "failed",
            };
            json!({"name": r.name, "status": status})
        })
        .collect()
}
