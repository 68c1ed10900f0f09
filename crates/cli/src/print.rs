//! Print mode: one prompt, one reply, rendered as text, JSON or stream-JSON.

use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

use claude_agent::Runtime;
use claude_config::Config;
use claude_protocol::{BlockDelta, Message, MessagesRequest, StreamEvent};
use claude_providers::{CallOptions, Completion, ProviderError, ProviderEvent};
use serde_json::json;

use crate::args::{OutputFormat, RunArgs};

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
    let runtime = match Runtime::from_config(cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("claude: {e}");
            return Ok(2);
        }
    };
    if args.verbose {
        for line in runtime.describe() {
            eprintln!("claude: {line}");
        }
    }
    if !args.print && !args.dry_run {
        eprintln!(
            "claude: interactive sessions are not part of this build yet. Use print mode: `claude -p \"your prompt\"` (or pipe the prompt: `echo hi | claude -p`)."
        );
        return Ok(2);
    }
    let Some(prompt) = read_prompt(args)? else {
        eprintln!(
            "claude: no prompt. Give one as an argument (`claude -p \"hello\"`) or on standard input (`echo hello | claude -p`)."
        );
        return Ok(2);
    };
    let request = MessagesRequest {
        max_tokens: runtime.max_tokens,
        messages: vec![Message::user(prompt)],
        ..Default::default()
    };
    let stream = !args.no_stream;
    if args.dry_run {
        println!(
            "{}",
            serde_json::to_string_pretty(&runtime.dry_run(&request, stream))?
        );
        return Ok(0);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(call(args.output_format, &runtime, request, stream))
}

async fn call(
    format: OutputFormat,
    runtime: &Runtime,
    request: MessagesRequest,
    stream: bool,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let session_id = new_session_id();
    let provider = runtime.connect().await;
    let options = CallOptions {
        model_id: runtime.model.model_id.clone(),
        stream,
    };
    let mut out = Renderer::new(format);
    let mut sink = |ev: ProviderEvent| out.event(ev);
    let result = tokio::select! {
        r = provider.call(&request, &options, &mut sink) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    let Some(result) = result else {
        out.finish_text();
        eprintln!("claude: interrupted; the reply above is incomplete.");
        return Ok(130);
    };
    let elapsed = started.elapsed().as_millis() as u64;
    match result {
        Ok(done) => {
            out.finish_text();
            if format != OutputFormat::Text {
                let result = result_json(runtime, &done, &session_id, elapsed);
                println!("{result}");
            }
            Ok(0)
        }
        Err(e) => {
            out.finish_text();
            report_error(format, &e, &session_id, elapsed);
            Ok(e.exit_code())
        }
    }
}

fn report_error(format: OutputFormat, e: &ProviderError, session_id: &str, elapsed: u64) {
    if let ProviderError::Interrupted { .. } = e {
        eprintln!("claude: [reply incomplete]");
    }
    eprintln!("claude: {e}");
    if format != OutputFormat::Text {
        let partial = match e {
            ProviderError::Interrupted { partial, .. } => partial.content.text(),
            _ => String::new(),
        };
        println!(
            "{}",
            json!({
                "type": "result",
                "subtype": "error_during_execution",
                "is_error": true,
                "result": partial,
                "error": { "code": e.code(), "message": e.to_string(), "request_id": e.request_id() },
                "session_id": session_id,
                "duration_ms": elapsed,
                "num_turns": 1,
                "total_cost_usd": 0.0,
            })
        );
    }
}

fn result_json(
    runtime: &Runtime,
    done: &Completion,
    session_id: &str,
    elapsed: u64,
) -> serde_json::Value {
    let cost = runtime
        .model
        .info
        .map(|i| {
            i.prices_for(runtime.model.profile_prefix.as_deref())
                .cost(&done.usage)
        })
        .unwrap_or(0.0);
    json!({
        "type": "result",
        "subtype": "success",
        "is_error": false,
        "result": done.message.content.text(),
        "stop_reason": done.stop_reason,
        "session_id": session_id,
        "duration_ms": elapsed,
        "duration_api_ms": done.latency.as_millis() as u64,
        "num_turns": 1,
        "total_cost_usd": cost,
        "usage": done.usage,
        "model": runtime.model.model_id,
        "request_id": done.request_id,
        "attempts": done.attempts,
    })
}

/// A random RFC 4122 version-4 UUID, the shape Claude Code uses for sessions.
fn new_session_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Writes events as they arrive; text reaches stdout at once.
struct Renderer {
    format: OutputFormat,
    ended_with_newline: bool,
    wrote_text: bool,
}

impl Renderer {
    fn new(format: OutputFormat) -> Self {
        Self {
            format,
            ended_with_newline: true,
            wrote_text: false,
        }
    }

    fn event(&mut self, ev: ProviderEvent) {
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
                OutputFormat::StreamJson => {
                    println!("{}", json!({"type": "stream_event", "event": ev}));
                }
                OutputFormat::Json => {}
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
