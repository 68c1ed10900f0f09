//! One connection to one MCP server, on the official Rust SDK (`rmcp`): the
//! `initialize` handshake (rmcp offers its newest protocol version and
//! accepts the server's) over stdio, streamable HTTP or the legacy SSE
//! transport ([`crate::sse`]), `tools/list` with pagination, `tools/call`,
//! `resources/list` and `resources/read`, `prompts/list` and `prompts/get`.
//! A server's `notifications/tools/list_changed` (and `prompts/list_changed`)
//! marks its lists stale; the manager lists them again before the next
//! model request.
//!
//! A stdio server runs in its own process group with its stderr appended to
//! a log file; dropping the [`Connection`] kills the whole group.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, GetPromptRequestParams,
    Implementation, ReadResourceRequestParams, ServerCapabilities,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;

use crate::config::ServerConfig;

/// What `claude mcp list` shows of a healthy server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInfo {
    pub server_name: String,
    pub server_version: String,
    pub tools: usize,
}

/// Connects to a server, lists its tools and disconnects (a stdio server's
/// process group is stopped), all within `timeout`. The error says why the
/// server is not usable, in one line.
pub async fn probe(config: &ServerConfig, timeout: Duration) -> Result<ProbeInfo, String> {
    let conn = Connection::open(config, None, timeout, Arc::default()).await?;
    let tools = within(timeout, conn.list_tools()).await?;
    Ok(ProbeInfo {
        server_name: conn.server_name.clone(),
        server_version: conn.server_version.clone(),
        tools: tools.len(),
    })
}

/// One tool as the server declares it (`tools/list`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    /// The tool's `annotations.readOnlyHint`, false when absent.
    pub read_only: bool,
}

/// One prompt as the server declares it (`prompts/list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptInfo {
    pub name: String,
    pub description: String,
    /// Its arguments' names, in order.
    pub arguments: Vec<String>,
}

/// Introduces the client to the server as `claude-code`, and notes when the
/// server says its tools or prompts changed.
struct Handler {
    stale: Arc<AtomicBool>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut client = Implementation::from_build_env();
        client.name = "claude-code".into();
        ClientConfig::new(ClientCapabilities::default(), client)
    }

    fn on_tool_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        self.stale.store(true, Ordering::SeqCst);
        std::future::ready(())
    }

    fn on_prompt_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        self.stale.store(true, Ordering::SeqCst);
        std::future::ready(())
    }
}

/// A live, initialised connection.
pub struct Connection {
    service: RunningService<RoleClient, Handler>,
    pub server_name: String,
    pub server_version: String,
    /// The process (and process group) id of a stdio server.
    pub pid: Option<u32>,
}

impl Connection {
    /// Starts or reaches the server and runs the `initialize` handshake
    /// within `timeout`. A stdio server's stderr is appended to `log` (else
    /// discarded). `stale` is set whenever the server announces that its
    /// tools or prompts changed.
    pub async fn open(
        config: &ServerConfig,
        log: Option<&Path>,
        timeout: Duration,
        stale: Arc<AtomicBool>,
    ) -> Result<Connection, String> {
        let handler = Handler { stale };
        let (service, pid) = match config {
            ServerConfig::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).envs(env).process_group(0).kill_on_drop(true);
                let stderr = match log {
                    Some(path) => Stdio::from(open_log(path)?),
                    None => Stdio::null(),
                };
                let (transport, _) = TokioChildProcess::builder(cmd)
                    .stderr(stderr)
                    .spawn()
                    .map_err(|e| format!("cannot start `{command}`: {e}"))?;
                let pid = transport.id();
                if let Some(p) = pid {
                    live().push(p);
                }
                let mut guard = GroupGuard(pid);
                let service = within(timeout, handshake(handler, transport)).await?;
                guard.0 = None;
                (service, pid)
            }
            ServerConfig::Http { url, headers } => {
                let mut cfg =
                    rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                        url.as_str(),
                    );
                for (k, v) in headers {
                    let name = http::HeaderName::try_from(k.as_str())
                        .map_err(|e| format!("header {k}: {e}"))?;
                    let value = http::HeaderValue::try_from(v.as_str())
                        .map_err(|e| format!("header {k}: {e}"))?;
                    cfg.custom_headers.insert(name, value);
                }
                let transport = StreamableHttpClientTransport::from_config(cfg);
                let service = within(timeout, handshake(handler, transport)).await?;
                (service, None)
            }
            ServerConfig::Sse { url, headers } => {
                let service = within(timeout, async {
                    handshake(handler, crate::sse::connect(url, headers).await?).await
                })
                .await?;
                (service, None)
            }
        };
        let info = service.peer().peer_info();
        let (server_name, server_version) = info
            .and_then(|i| i.server_info.clone())
            .map(|s| (s.name, s.version))
            .unwrap_or_default();
        Ok(Connection {
            service,
            server_name,
            server_version,
            pid,
        })
    }

    /// Whether the connection has ended (the server exited or hung up).
    pub fn is_closed(&self) -> bool {
        self.service.is_closed() || self.service.peer().is_transport_closed()
    }

    /// Whether the server declared a capability in `initialize` (asking a
    /// server for what it does not offer is an error).
    fn offers(&self, capability: impl Fn(&ServerCapabilities) -> bool) -> bool {
        self.service
            .peer()
            .peer_info()
            .is_some_and(|i| capability(&i.capabilities))
    }

    /// Every tool, following `nextCursor` to the last page.
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, String> {
        let tools = self
            .service
            .peer()
            .list_all_tools()
            .await
            .map_err(|e| format!("tools/list failed: {e}"))?;
        Ok(tools
            .into_iter()
            .map(|t| {
                let v = serde_json::to_value(&t).unwrap_or_default();
                ToolInfo {
                    name: t.name.to_string(),
                    description: t.description.as_deref().unwrap_or_default().to_string(),
                    input_schema: v
                        .get("inputSchema")
                        .cloned()
                        .unwrap_or_else(|| serde_json::json!({"type": "object"})),
                    read_only: v
                        .pointer("/annotations/readOnlyHint")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                }
            })
            .collect())
    }

    /// `tools/call`; the result as JSON (`content`, `structuredContent`,
    /// `isError`). Dropping the future sends `notifications/cancelled`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<Value, CallError> {
        let mut params = CallToolRequestParams::new(name.to_string());
        params.arguments = match arguments {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(CallError::Refused(format!(
                    "arguments must be an object, not {other}"
                )));
            }
        };
        match self.service.peer().call_tool(params).await {
            Ok(result) => Ok(serde_json::to_value(&result).unwrap_or_default()),
            Err(rmcp::ServiceError::McpError(e)) => Err(CallError::Refused(e.message.to_string())),
            Err(e) => Err(CallError::Lost(e.to_string())),
        }
    }

    /// Every resource, following `nextCursor` (empty when the server has none).
    pub async fn list_resources(&self) -> Result<Vec<Value>, String> {
        if !self.offers(|c| c.resources.is_some()) {
            return Ok(Vec::new());
        }
        let all = self
            .service
            .peer()
            .list_all_resources()
            .await
            .map_err(|e| format!("resources/list failed: {e}"))?;
        Ok(all
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect())
    }

    /// Every prompt (name, description, argument names), following
    /// `nextCursor`; empty when the server offers none.
    pub async fn list_prompts(&self) -> Result<Vec<PromptInfo>, String> {
        if !self.offers(|c| c.prompts.is_some()) {
            return Ok(Vec::new());
        }
        let all = self
            .service
            .peer()
            .list_all_prompts()
            .await
            .map_err(|e| format!("prompts/list failed: {e}"))?;
        Ok(all
            .into_iter()
            .map(|p| PromptInfo {
                name: p.name,
                description: p.description.unwrap_or_default(),
                arguments: p
                    .arguments
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| a.name)
                    .collect(),
            })
            .collect())
    }

    /// `prompts/get`: the text of the prompt's messages, one paragraph each.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: serde_json::Map<String, Value>,
    ) -> Result<String, String> {
        let mut params = GetPromptRequestParams::new(name);
        params.arguments = Some(arguments);
        let result = self
            .service
            .peer()
            .get_prompt(params)
            .await
            .map_err(|e| format!("prompts/get failed: {e}"))?;
        let v = serde_json::to_value(&result).unwrap_or_default();
        let texts: Vec<&str> = v["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                m["content"]["text"]
                    .as_str()
                    .or_else(|| m["content"]["resource"]["text"].as_str())
            })
            .collect();
        Ok(texts.join("\n\n"))
    }

    /// `resources/read`: the result's `contents` as JSON.
    pub async fn read_resource(&self, uri: &str) -> Result<Value, String> {
        self.service
            .peer()
            .read_resource(ReadResourceRequestParams::new(uri.to_string()))
            .await
            .map(|r| serde_json::to_value(&r).unwrap_or_default())
            .map_err(|e| format!("resources/read failed: {e}"))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        kill_group(self.pid);
    }
}

/// Why a call has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The server answered with a JSON-RPC error: it is alive.
    Refused(String),
    /// The connection broke (the server crashed or hung up).
    Lost(String),
}

/// Kills a stdio server's process group when a start-up is abandoned
/// (timed out or failed) before a [`Connection`] owns it.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// The process groups of the stdio servers started and not yet stopped.
fn live() -> std::sync::MutexGuard<'static, Vec<u32>> {
    static LIVE: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stops every stdio server this process started (their whole process
/// groups), whoever still holds their connections: for the end of a
/// session, Ctrl-C included.
pub fn stop_all() {
    let pids = std::mem::take(&mut *live());
    for pid in pids {
        killpg(pid);
    }
}

/// Stops one server's process group, unless [`stop_all`] already did (so a
/// reused id is never signalled).
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid else { return };
    let mut l = live();
    let before = l.len();
    l.retain(|&p| p != pid);
    let ours = l.len() < before;
    drop(l);
    if ours {
        killpg(pid);
    }
}

fn killpg(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The `initialize` handshake over any transport rmcp accepts.
async fn handshake<T, E, A>(
    handler: Handler,
    transport: T,
) -> Result<RunningService<RoleClient, Handler>, String>
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    handler
        .serve(transport)
        .await
        .map_err(|e| format!("initialize failed: {e}"))
}

async fn within<T>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer within {} ms (MCP_TIMEOUT)",
                timeout.as_millis()
            ))
        })
}

/// Opens the server's log for appending, owner-only.
fn open_log(path: &Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}
