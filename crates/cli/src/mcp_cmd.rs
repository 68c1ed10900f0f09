//! `claude mcp add|add-json|get|list|remove`: MCP server definitions in
//! Claude Code's files, as Claude Code's own `claude mcp` edits them.
//! Rendering only; reading, writing and the policy live in `claude-mcp`.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use claude_config::Config;
use claude_mcp::config::{
    self as mcp, Admission, McpConfigError, Scope, ServerConfig, ServerEntry,
};

use crate::cost_cmd::table;

/// How long `claude mcp list` waits for each server to answer.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Add a server: `claude mcp add NAME -- npx -y pkg` or `claude mcp add --transport http NAME URL`.
    Add(AddArgs),
    /// Add a server from its JSON definition, e.g. '{"type":"http","url":"https://…"}'.
    AddJson {
        name: String,
        json: String,
        #[arg(short, long, value_enum, default_value_t = ScopeArg::Local)]
        scope: ScopeArg,
    },
    /// Show one server: scope, file, transport, command or URL, admission (secrets masked).
    Get { name: String },
    /// Every server of this project with its scope, transport, admission and health.
    List,
    /// Remove a server (from the one scope that defines it, or from --scope).
    Remove {
        name: String,
        #[arg(short, long, value_enum)]
        scope: Option<ScopeArg>,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The server's name (letters, digits, `-` and `_`).
    pub name: String,
    /// The command to run (stdio), or the URL (http, sse).
    #[arg(value_name = "COMMAND_OR_URL")]
    pub command_or_url: String,
    /// The command's arguments; put `--` before the name when they start with `-`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Where to keep it: local (you, this project), project (.mcp.json, shared) or user (you, every project).
    #[arg(short, long, value_enum, default_value_t = ScopeArg::Local)]
    pub scope: ScopeArg,
    /// stdio (a command, the default), http or sse (a URL).
    #[arg(short, long, value_enum)]
    pub transport: Option<Transport>,
    /// An environment variable for a stdio server: -e KEY=VALUE (repeatable).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A header for an http or sse server: -H "Authorization: Bearer ${TOKEN}" (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub header: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    Local,
    Project,
    User,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Scope {
        match s {
            ScopeArg::Local => Scope::Local,
            ScopeArg::Project => Scope::Project,
            ScopeArg::User => Scope::User,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    Stdio,
    Http,
    Sse,
}

pub fn run(cfg: &Config, cmd: McpCommand) -> anyhow::Result<i32> {
    Ok(match cmd {
        McpCommand::Add(args) => match server_from_args(&args) {
            Ok(config) => add(cfg, args.scope.into(), &args.name, &config),
            Err(e) => usage(&e),
        },
        McpCommand::AddJson { name, json, scope } => {
            let parsed = serde_json::from_str(&json)
                .map_err(|e| e.to_string())
                .and_then(|v| mcp::parse_server(&v));
            match parsed {
                Ok(config) => add(cfg, scope.into(), &name, &config),
                Err(e) => usage(&format!(
                    "the JSON for `{name}` is not a server definition: {e}"
                )),
            }
        }
        McpCommand::Get { name } => get(cfg, &name),
        McpCommand::List => list(cfg)?,
        McpCommand::Remove { name, scope } => {
            match mcp::remove_server(cfg, &name, scope.map(Scope::from)) {
                Ok((scope, path)) => {
                    println!(
                        "Removed MCP server `{name}` from {scope} config: {}",
                        path.display()
                    );
                    0
                }
                Err(e) => fail(&e),
            }
        }
    })
}

fn usage(message: &str) -> i32 {
    eprintln!("claude: {message}");
    2
}

fn fail(e: &McpConfigError) -> i32 {
    eprintln!("claude: {e}");
    match e {
        McpConfigError::NotFound { .. } => 1,
        _ => 2,
    }
}

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("claude: warning: {w}");
    }
}

fn server_from_args(a: &AddArgs) -> Result<ServerConfig, String> {
    let is_url =
        a.command_or_url.starts_with("http://") || a.command_or_url.starts_with("https://");
    let transport = match a.transport {
        Some(t) => t,
        None if is_url => {
            return Err(format!(
                "`{}` is a URL: add --transport http (or sse) to connect to it",
                a.command_or_url
            ));
        }
        None => Transport::Stdio,
    };
    if transport == Transport::Stdio {
        if !a.header.is_empty() {
            return Err("-H/--header is for http and sse servers".into());
        }
        let env = a
            .env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
                _ => Err(format!("-e takes KEY=VALUE, not `{kv}`")),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        return Ok(ServerConfig::Stdio {
            command: a.command_or_url.clone(),
            args: a.args.clone(),
            env,
        });
    }
    if !a.env.is_empty() {
        return Err(
            "-e/--env is for stdio servers; send values to http and sse servers with -H".into(),
        );
    }
    if !a.args.is_empty() {
        return Err(format!(
            "an {} server takes only a URL, not `{}`",
            if transport == Transport::Http {
                "http"
            } else {
                "sse"
            },
            a.args.join(" ")
        ));
    }
    let headers = a
        .header
        .iter()
        .map(|h| match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            // The text is not echoed: it is likely a credential.
            _ => Err(
                "-H takes \"Name: value\", e.g. -H \"Authorization: Bearer ${TOKEN}\"".to_owned(),
            ),
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let url = a.command_or_url.clone();
    Ok(match transport {
        Transport::Http => ServerConfig::Http { url, headers },
        _ => ServerConfig::Sse { url, headers },
    })
}

fn add(cfg: &Config, scope: Scope, name: &str, config: &ServerConfig) -> i32 {
    let path = match mcp::add_server(cfg, scope, name, config) {
        Ok(path) => path,
        Err(e) => return fail(&e),
    };
    println!(
        "Added {} MCP server `{name}` ({}) to {scope} config: {}",
        config.transport(),
        config.target(),
        path.display()
    );
    // Whoever adds a server to .mcp.json trusts it; teammates who pull the
    // file are asked for themselves.
    if scope == Scope::Project {
        match mcp::approve_project_server(cfg.project_root(), name) {
            Ok(local) => println!("Approved it for you in {}", local.display()),
            Err(e) => eprintln!("claude: warning: could not record your approval: {e}"),
        }
    }
    0
}

fn find(cfg: &Config, name: &str) -> Option<ServerEntry> {
    let (entries, warnings) = mcp::load_servers(cfg);
    warn(&warnings);
    entries.into_iter().find(|e| e.name == name)
}

fn get(cfg: &Config, name: &str) -> i32 {
    let Some(e) = find(cfg, name) else {
        return fail(&McpConfigError::NotFound {
            name: name.to_owned(),
            scope: None,
        });
    };
    println!("{}:", e.name);
    println!("  Scope: {}", e.scope.description());
    println!("  File: {}", e.source.display());
    println!("  Type: {}", e.config.transport());
    match &e.config {
        ServerConfig::Stdio { env, .. } => {
            println!("  Command: {}", e.config.target());
            if !env.is_empty() {
                println!("  Environment:");
                for (k, v) in env {
                    println!("    {k}={}", mcp::masked_env(k, v));
                }
            }
        }
        ServerConfig::Http { headers, .. } | ServerConfig::Sse { headers, .. } => {
            println!("  URL: {}", e.config.target());
            if !headers.is_empty() {
                println!("  Headers:");
                for (k, v) in headers {
                    println!("    {k}: {}", mcp::masked_header(k, v));
                }
            }
        }
    }
    println!("  Status: {}", e.admission);
    if e.admission == Admission::NeedsApproval {
        println!(
            "  (approve it when the next session asks, or add it to enabledMcpjsonServers in {})",
            mcp::local_settings_path(cfg.project_root()).display()
        );
    }
    0
}

fn list(cfg: &Config) -> anyhow::Result<i32> {
    let (entries, warnings) = mcp::load_servers(cfg);
    warn(&warnings);
    if entries.is_empty() {
        println!(
            "No MCP servers configured. Add one with `claude mcp add NAME -- COMMAND [ARGS]` or `claude mcp add --transport http NAME URL`."
        );
        return Ok(0);
    }
    let health = health(&entries)?;
    let rows: Vec<Vec<String>> = entries
        .iter()
        .zip(health)
        .map(|(e, health)| {
            vec![
                e.name.clone(),
                e.scope.to_string(),
                e.config.transport().to_owned(),
                e.config.target(),
                e.admission.to_string(),
                health,
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "Name",
                "Scope",
                "Transport",
                "Command or URL",
                "Status",
                "Health"
            ],
            &rows,
            &[],
        )
    );
    Ok(0)
}

/// A table cell of at most 72 characters.
fn short(text: &str) -> String {
    match text.char_indices().nth(71) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Connects to every server that may start, all at once, and lists its
/// tools; the others are not started.
fn health(entries: &[ServerEntry]) -> anyhow::Result<Vec<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let checks = entries.iter().map(|e| async move {
        if e.admission != Admission::Allowed {
            return "not started".to_owned();
        }
        match claude_mcp::client::probe(&e.config, HEALTH_TIMEOUT).await {
            Ok(info) => format!(
                "✓ connected: {} {}, {} tools",
                info.server_name, info.server_version, info.tools
            ),
            Err(e) => short(&format!("✗ {e}")),
        }
    });
    Ok(rt.block_on(futures_util::future::join_all(checks)))
}
