//! The session's MCP servers: started in parallel, each within
//! `MCP_TIMEOUT`; a server that fails to start or crashes later only loses
//! its tools (and says why in `/mcp`); a crashed server is restarted once.
//! Dropping the manager (and every tool holding it) stops every server.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::client::{CallError, Connection, PromptInfo, ToolInfo};
use crate::config::ServerConfig;

/// The start-up timeout without `MCP_TIMEOUT` (milliseconds).
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a duration in milliseconds from the environment variable `name`.
pub fn env_millis(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
}

/// Where a server stands, as `/mcp` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connected,
    Failed(String),
}

/// One server as `/mcp` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReport {
    pub name: String,
    pub transport: &'static str,
    pub status: Status,
    pub tools: usize,
    /// The last error, even when a restart has since connected.
    pub last_error: Option<String>,
    pub log: Option<PathBuf>,
}

type Connected = (Arc<Connection>, Vec<ToolInfo>, Vec<PromptInfo>);

struct State {
    conn: Option<Arc<Connection>>,
    tools: Vec<ToolInfo>,
    prompts: Vec<PromptInfo>,
    last_error: Option<String>,
    restarted: bool,
}

/// One configured server.
pub struct Server {
    pub name: String,
    config: ServerConfig,
    log: Option<PathBuf>,
    timeout: Duration,
    state: Mutex<State>,
    /// Set when the server announces that its tools or prompts changed.
    stale: Arc<AtomicBool>,
    /// The manager's count of tool-list changes, shared by its servers.
    generation: Arc<AtomicU64>,
}

impl Server {
    async fn connect(&self) -> Result<Connected, String> {
        self.stale.store(false, Ordering::SeqCst);
        let conn = Connection::open(
            &self.config,
            self.log.as_deref(),
            self.timeout,
            self.stale.clone(),
        )
        .await?;
        let (tools, prompts) = self.lists(&conn).await?;
        Ok((Arc::new(conn), tools, prompts))
    }

    /// The server's tools and prompts, within the start-up timeout.
    async fn lists(&self, conn: &Connection) -> Result<(Vec<ToolInfo>, Vec<PromptInfo>), String> {
        let lists =
            async { Ok::<_, String>((conn.list_tools().await?, conn.list_prompts().await?)) };
        tokio::time::timeout(self.timeout, lists)
            .await
            .unwrap_or_else(|_| Err("tools/list: no answer within MCP_TIMEOUT".to_string()))
    }

    /// Lists the tools and prompts again when the server said they changed
    /// (`notifications/tools/list_changed`). A failed listing keeps the old
    /// lists and is shown by `/mcp`.
    pub async fn refresh(&self) {
        if !self.stale.swap(false, Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = self.connection() else { return };
        match self.lists(&conn).await {
            Ok((tools, prompts)) => {
                let mut s = self.lock();
                s.tools = tools;
                s.prompts = prompts;
                drop(s);
                self.generation.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                self.lock().last_error = Some(format!("listing the changed tools failed: {e}"));
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live connection, or why there is none.
    pub fn connection(&self) -> Result<Arc<Connection>, String> {
        let s = self.lock();
        match &s.conn {
            Some(c) if !c.is_closed() => Ok(c.clone()),
            _ => Err(s
                .last_error
                .clone()
                .unwrap_or_else(|| "the server is not running".into())),
        }
    }

    /// The connection broke (`why`): restart the server once; after that it
    /// stays down. Returns whether a restart connected.
    pub async fn lost(&self, why: &str) -> bool {
        let again = {
            let mut s = self.lock();
            s.conn = None;
            s.last_error = Some(format!("the server stopped: {why}"));
            !std::mem::replace(&mut s.restarted, true)
        };
        if !again {
            // Its tools leave the next request.
            self.generation.fetch_add(1, Ordering::SeqCst);
            return false;
        }
        match self.connect().await {
            Ok((conn, tools, prompts)) => {
                let mut s = self.lock();
                s.conn = Some(conn);
                s.tools = tools;
                s.prompts = prompts;
                drop(s);
                self.generation.fetch_add(1, Ordering::SeqCst);
                true
            }
            Err(e) => {
                self.lock().last_error = Some(format!("restart failed: {e}"));
                self.generation.fetch_add(1, Ordering::SeqCst);
                false
            }
        }
    }

    /// Calls a tool; a broken connection restarts the server (once) and
    /// the call reports the crash.
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<Value, String> {
        let conn = self.connection()?;
        match conn.call_tool(tool, arguments).await {
            Ok(v) => Ok(v),
            Err(CallError::Refused(m)) => Err(m),
            Err(CallError::Lost(m)) => {
                drop(conn);
                let note = if self.lost(&m).await {
                    "it was restarted; the call was not retried"
                } else {
                    "it is not running any more"
                };
                Err(format!(
                    "the MCP server `{}` stopped during the call ({m}); {note}",
                    self.name
                ))
            }
        }
    }

    pub fn report(&self) -> ServerReport {
        let s = self.lock();
        let status = match &s.conn {
            Some(c) if !c.is_closed() => Status::Connected,
            Some(_) => Status::Failed("the server stopped".into()),
            None => Status::Failed(s.last_error.clone().unwrap_or_else(|| "not running".into())),
        };
        ServerReport {
            name: self.name.clone(),
            transport: match self.config {
                ServerConfig::Stdio { .. } => "stdio",
                ServerConfig::Http { .. } => "http",
                ServerConfig::Sse { .. } => "sse",
            },
            status,
            tools: if s.conn.is_some() { s.tools.len() } else { 0 },
            last_error: s.last_error.clone(),
            log: self.log.clone(),
        }
    }

    /// The tools as last listed (at start, at a restart, or after the
    /// server announced a change).
    pub fn tools(&self) -> Vec<ToolInfo> {
        self.lock().tools.clone()
    }
}

/// The session's servers.
#[derive(Default)]
pub struct Manager {
    pub servers: Vec<Arc<Server>>,
    generation: Arc<AtomicU64>,
}

impl Manager {
    /// Starts every server at once and waits for each to connect and list
    /// its tools, each within `timeout`. Failures are kept for `/mcp`.
    /// Stdio servers' stderr goes to `<log_dir>/<name>.log`.
    pub async fn start(
        servers: Vec<(String, ServerConfig)>,
        log_dir: Option<PathBuf>,
        timeout: Duration,
    ) -> Manager {
        let generation = Arc::new(AtomicU64::new(0));
        let servers: Vec<Arc<Server>> = servers
            .into_iter()
            .map(|(name, config)| {
                let log = match (&config, &log_dir) {
                    (ServerConfig::Stdio { .. }, Some(d)) => {
                        Some(d.join(format!("{}.log", safe_name(&name))))
                    }
                    _ => None,
                };
                Arc::new(Server {
                    name,
                    config,
                    log,
                    timeout,
                    state: Mutex::new(State {
                        conn: None,
                        tools: Vec::new(),
                        prompts: Vec::new(),
                        last_error: None,
                        restarted: false,
                    }),
                    stale: Arc::default(),
                    generation: generation.clone(),
                })
            })
            .collect();
        let starts = servers.iter().map(|s| async move {
            let result = s.connect().await;
            let mut st = s.lock();
            match result {
                Ok((conn, tools, prompts)) => {
                    st.conn = Some(conn);
                    st.tools = tools;
                    st.prompts = prompts;
                }
                Err(e) => st.last_error = Some(e),
            }
        });
        futures_util::future::join_all(starts).await;
        Manager {
            servers,
            generation,
        }
    }

    /// Lists again what changed on any server; returns a number that
    /// changes whenever a server's tool list did (a change announced by
    /// the server, or a restart).
    pub async fn refresh(&self) -> u64 {
        futures_util::future::join_all(self.servers.iter().map(|s| s.refresh())).await;
        self.generation.load(Ordering::SeqCst)
    }

    pub fn report(&self) -> Vec<ServerReport> {
        self.servers.iter().map(|s| s.report()).collect()
    }

    /// Every connected server's prompts as `/mcp__<server>__<prompt>`
    /// commands, with their descriptions.
    pub fn prompt_commands(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for s in &self.servers {
            if s.connection().is_err() {
                continue;
            }
            for p in s.lock().prompts.iter() {
                out.push((
                    format!("/mcp__{}__{}", safe_name(&s.name), safe_name(&p.name)),
                    p.description.clone(),
                ));
            }
        }
        out
    }

    /// The text of the prompt `/mcp__<server>__<prompt> args` names, its
    /// arguments given in order, separated by spaces (the last takes the
    /// rest); `None` when no connected server offers that command.
    pub async fn prompt(&self, command: &str, args: &str) -> Option<Result<String, String>> {
        for s in &self.servers {
            let Ok(conn) = s.connection() else { continue };
            let found = s
                .lock()
                .prompts
                .iter()
                .find(|p| {
                    command == format!("/mcp__{}__{}", safe_name(&s.name), safe_name(&p.name))
                })
                .cloned();
            let Some(p) = found else { continue };
            let mut map = serde_json::Map::new();
            let n = p.arguments.len();
            let mut rest = args.trim();
            for (i, name) in p.arguments.iter().enumerate() {
                let value = if i + 1 == n {
                    std::mem::take(&mut rest)
                } else {
                    let (v, r) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    rest = r.trim_start();
                    v
                };
                if !value.is_empty() {
                    map.insert(name.clone(), Value::String(value.to_string()));
                }
            }
            return Some(conn.get_prompt(&p.name, map).await);
        }
        None
    }
}

/// A name usable in a tool name and a file name: letters, digits, `_` and
/// `-`; anything else becomes `_` (as Claude Code does).
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
