//! MCP server definitions, in Claude Code's file formats.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How to reach one server: the `mcpServers` entry of `.mcp.json` or
/// `~/.claude.json`, after `${VAR}` and `${VAR:-default}` expansion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerConfig {
    /// A child process speaking JSON-RPC on stdin/stdout (the default when
    /// `type` is absent).
    Stdio {
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
    },
    /// Streamable HTTP.
    Http {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    /// The legacy HTTP+SSE transport.
    Sse {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
}

/// Where a definition came from, as `claude mcp add --scope` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `~/.claude.json` under `projects.<project root>.mcpServers`: this project, this user.
    Local,
    /// `.mcp.json` at the project root, shared through version control.
    Project,
    /// `~/.claude.json` top-level `mcpServers`: every project of this user.
    User,
    /// `managed-mcp.json` beside the managed settings: fixed by the administrator.
    Managed,
}

/// Whether a server may start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Admission {
    /// It may start.
    Allowed,
    /// A project server nobody has approved yet: the REPL asks once; `-p`
    /// does not start it and says so.
    NeedsApproval,
    /// The user turned it off (`disabledMcpjsonServers`, or declined).
    Disabled,
    /// The managed policy refuses it; `policy` names the file and the rule.
    Refused { policy: String },
}

/// One server as the session sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerEntry {
    pub name: String,
    pub config: ServerConfig,
    pub scope: Scope,
    /// The file it was defined in.
    pub source: PathBuf,
    pub admission: Admission,
}
