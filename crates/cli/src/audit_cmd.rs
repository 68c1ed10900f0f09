//! `claude audit tail|search`: read the JSONL audit log (rotated files
//! included, oldest first). Lines are printed as stored, one per line.

use clap::Subcommand;
use claude_config::Config;
use claude_usage::time::Date;
use claude_usage::{Audit, AuditEvent, AuditQuery};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The last lines of the audit log.
    Tail {
        /// How many lines.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
    },
    /// Lines that match every filter given (exit 1 when none do).
    Search(Box<SearchArgs>),
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// From this day (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Through this day (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// model-invocation, tool-execution or budget-refusal.
    #[arg(long)]
    event: Option<String>,
    /// Part of the model ID.
    #[arg(long)]
    model: Option<String>,
    /// A tool name, e.g. Bash.
    #[arg(long)]
    tool: Option<String>,
    /// A request id, as CloudTrail and Bedrock invocation logs show it.
    #[arg(long)]
    request_id: Option<String>,
    /// A session id.
    #[arg(long)]
    session: Option<String>,
    /// Part of the principal's ARN.
    #[arg(long)]
    principal: Option<String>,
    /// Text anywhere in the line.
    #[arg(long)]
    text: Option<String>,
}

fn audit(cfg: &Config) -> Audit {
    Audit::new(
        cfg.user_dir(),
        cfg.u64("audit.max_bytes").unwrap_or(10 * 1024 * 1024),
    )
}

pub fn run(cfg: &Config, cmd: AuditCommand) -> anyhow::Result<i32> {
    let log = audit(cfg);
    if log.files().is_empty() {
        eprintln!(
            "claude: the audit log {} is empty: nothing has been recorded yet{}.",
            log.path().display(),
            if cfg.bool("audit.enabled") == Some(false) {
                " (audit.enabled is false)"
            } else {
                ""
            }
        );
        return Ok(1);
    }
    let lines = match cmd {
        AuditCommand::Tail { lines } => log.tail(lines)?,
        AuditCommand::Search(args) => {
            let SearchArgs {
                since,
                until,
                event,
                model,
                tool,
                request_id,
                session,
                principal,
                text,
            } = *args;
            let day = |d: Option<String>| d.as_deref().map(Date::parse).transpose();
            let (since, until) = match (day(since), day(until)) {
                (Ok(s), Ok(u)) => (s, u),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("claude: {e}");
                    return Ok(2);
                }
            };
            let event = match event.as_deref().map(|e| (e, AuditEvent::parse(e))) {
                None => None,
                Some((_, Some(ev))) => Some(ev),
                Some((e, None)) => {
                    eprintln!(
                        "claude: unknown event `{e}`; use model-invocation, tool-execution or budget-refusal."
                    );
                    return Ok(2);
                }
            };
            let found = log.search(&AuditQuery {
                since_ms: since.map(Date::start_ms),
                until_ms: until.map(Date::end_ms),
                event,
                model,
                tool,
                request_id,
                session,
                principal,
                text,
            })?;
            if found.is_empty() {
                return Ok(1);
            }
            found
        }
    };
    for line in lines {
        println!("{line}");
    }
    Ok(0)
}
