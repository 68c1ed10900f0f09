//! MCP server definitions, in Claude Code's file formats.
//!
//! [`load_servers`] reads the three scopes (local and user in
//! `~/.claude.json`, project in `.mcp.json`) or, when the administrator has
//! deployed one, `managed-mcp.json` alone; expands `${VAR}` and
//! `${VAR:-default}`; keeps the highest-precedence definition of each name
//! (local > project > user); and decides each server's [`Admission`] from
//! the managed policy (`allowedMcpServers`, `deniedMcpServers`) and the
//! project-server approvals in the settings files.

mod expand;
mod files;
mod mask;
mod policy;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use claude_config::{Config, SettingsScope};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub use files::{
    add_server, approve_project_server, claude_json_path, defined_in, disable_project_server,
    local_settings_path, mcp_json_path, parse_server, remove_server,
};
pub use mask::{masked_env, masked_header, masked_url};
pub use policy::McpPolicy;

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

impl ServerConfig {
    /// `stdio`, `http` or `sse`, as `--transport` and `type` name it.
    pub fn transport(&self) -> &'static str {
        match self {
            ServerConfig::Stdio { .. } => "stdio",
            ServerConfig::Http { .. } => "http",
            ServerConfig::Sse { .. } => "sse",
        }
    }

    /// Why a remote server's URL (after `${VAR}` expansion) cannot be
    /// reached: it must be an absolute `http` or `https` URL.
    pub fn url_problem(&self) -> Option<String> {
        let (ServerConfig::Http { url, .. } | ServerConfig::Sse { url, .. }) = self else {
            return None;
        };
        let shown = masked_url(url);
        match url.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.authority().is_some() =>
            {
                None
            }
            Ok(_) => Some(format!("`{shown}` is not an http:// or https:// URL")),
            Err(e) => Some(format!("`{shown}` is not a URL: {e}")),
        }
    }

    /// The command line or URL, with secrets masked: safe to print.
    pub fn target(&self) -> String {
        match self {
            ServerConfig::Stdio { command, args, .. } => std::iter::once(command)
                .chain(args)
                .map(|a| mask::masked_arg(a))
                .collect::<Vec<_>>()
                .join(" "),
            ServerConfig::Http { url, .. } | ServerConfig::Sse { url, .. } => masked_url(url),
        }
    }
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

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Local => "local",
            Scope::Project => "project",
            Scope::User => "user",
            Scope::Managed => "managed",
        }
    }

    /// What the scope means, for `claude mcp get`.
    pub fn description(self) -> &'static str {
        match self {
            Scope::Local => "local config (private to you in this project)",
            Scope::Project => "project config (shared via .mcp.json)",
            Scope::User => "user config (available in all your projects)",
            Scope::Managed => "managed config (set by your administrator)",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// Its definition cannot be used as written (a `${VAR}` that is not
    /// set and has no default); `reason` says what to fix.
    Invalid { reason: String },
}

impl fmt::Display for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Admission::Allowed => f.write_str("allowed"),
            Admission::NeedsApproval => f.write_str("needs approval"),
            Admission::Disabled => f.write_str("disabled"),
            Admission::Refused { policy } => write!(f, "refused by policy: {policy}"),
            Admission::Invalid { reason } => write!(f, "invalid: {reason}"),
        }
    }
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

/// Reading or writing server definitions.
#[derive(Debug, thiserror::Error)]
pub enum McpConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Write(#[from] claude_config::ConfigError),
    #[error("server `{name}`: {message}")]
    Invalid { name: String, message: String },
    #[error("MCP server `{name}` already exists in {scope} config ({}); remove it first with `claude mcp remove {name} --scope {scope}`", path.display())]
    Exists {
        name: String,
        scope: Scope,
        path: PathBuf,
    },
    #[error("no MCP server named `{name}`{}", in_scope(*.scope))]
    NotFound { name: String, scope: Option<Scope> },
    #[error("MCP server `{name}` is defined in several scopes ({scopes}); choose one with --scope")]
    Ambiguous { name: String, scopes: String },
    #[error("MCP server `{name}` is refused by the managed policy: {policy}")]
    Refused { name: String, policy: String },
    #[error(
        "{scope} servers are kept in ~/.claude.json, and the home directory is unknown (HOME is not set); set HOME, or CLAUDE_CONFIG_DIR to keep them in $CLAUDE_CONFIG_DIR/.claude.json"
    )]
    NoHome { scope: Scope },
    #[error(
        "managed servers are set by the administrator in managed-mcp.json; use --scope local, project or user"
    )]
    ManagedScope,
}

fn in_scope(scope: Option<Scope>) -> String {
    scope.map(|s| format!(" in {s} config")).unwrap_or_default()
}

/// A definition as written, before expansion and admission.
#[derive(Debug, Clone)]
struct Defined {
    name: String,
    config: ServerConfig,
    scope: Scope,
    source: PathBuf,
}

/// Every server of this project with its admission, sorted by name, and the
/// warnings met on the way (malformed files or entries, unset variables, a
/// malformed policy). Never fails: a broken file costs its servers, not the
/// session.
pub fn load_servers(cfg: &Config) -> (Vec<ServerEntry>, Vec<String>) {
    let mut warnings = Vec::new();
    let policy = McpPolicy::load(cfg, &mut warnings);
    let mut seen = BTreeMap::new();
    let managed = policy.managed_servers(&mut warnings);
    let exclusive = managed.is_some();
    for def in managed
        .into_iter()
        .flatten()
        .chain(files::defined_servers(cfg, &mut warnings))
    {
        // Highest precedence first: the first definition of a name wins.
        seen.entry(def.name.clone()).or_insert(def);
    }
    let approvals = Approvals::from_settings(cfg);
    let entries = seen
        .into_values()
        .map(|def| {
            let (config, admission) = admit(def.clone(), cfg, &policy, exclusive, &approvals);
            if let Admission::Invalid { reason } = &admission {
                warnings.push(format!(
                    "MCP server `{}` ({} config, {}) will not start: {reason}",
                    def.name,
                    def.scope,
                    def.source.display()
                ));
            }
            ServerEntry {
                name: def.name,
                config,
                scope: def.scope,
                source: def.source,
                admission,
            }
        })
        .collect();
    (entries, warnings)
}

/// The expanded configuration (the written one when expansion fails) and
/// whether the server may start.
fn admit(
    def: Defined,
    cfg: &Config,
    policy: &McpPolicy,
    exclusive: bool,
    approvals: &Approvals,
) -> (ServerConfig, Admission) {
    let (config, missing) = match expand::expand_config(&def.config, cfg.env()) {
        Ok(config) => (config, None),
        Err(missing) => (def.config, Some(missing)),
    };
    if exclusive && def.scope != Scope::Managed {
        let policy = policy.exclusive_reason();
        return (config, Admission::Refused { policy });
    }
    if let Err(policy) = policy.check(&def.name, &config) {
        return (config, Admission::Refused { policy });
    }
    if let Some(missing) = missing {
        let vars = missing
            .iter()
            .map(|v| format!("${{{v}}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let reason = format!("{vars} not set and without a default (write ${{VAR:-default}})");
        return (config, Admission::Invalid { reason });
    }
    if let Some(reason) = config.url_problem() {
        return (config, Admission::Invalid { reason });
    }
    let admission = match def.scope {
        Scope::Project => approvals.admission(&def.name),
        Scope::Local | Scope::User | Scope::Managed => Admission::Allowed,
    };
    (config, admission)
}

/// The settings that approve or disable `.mcp.json` servers.
#[derive(Debug, Default)]
struct Approvals {
    enable_all: bool,
    enabled: Vec<String>,
    disabled: Vec<String>,
}

impl Approvals {
    /// `enableAllProjectMcpServers` from the highest file that sets it; the
    /// lists from every file, a disable anywhere winning over an enable.
    fn from_settings(cfg: &Config) -> Approvals {
        let files = cfg.settings_files();
        let list = |key: &str| -> Vec<String> {
            files
                .iter()
                .filter_map(|f| f.json.get(key).and_then(Json::as_array))
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let enable_all = files
            .iter()
            .find_map(|f| f.json.get("enableAllProjectMcpServers"))
            .and_then(Json::as_bool)
            .unwrap_or(false);
        Approvals {
            enable_all,
            enabled: list("enabledMcpjsonServers"),
            disabled: list("disabledMcpjsonServers"),
        }
    }

    fn admission(&self, name: &str) -> Admission {
        let has = |list: &[String]| list.iter().any(|n| n == name);
        if has(&self.disabled) {
            Admission::Disabled
        } else if self.enable_all || has(&self.enabled) {
            Admission::Allowed
        } else {
            Admission::NeedsApproval
        }
    }
}

/// The managed settings file that was read, if any.
fn managed_settings(cfg: &Config) -> Option<&claude_config::SettingsFile> {
    cfg.settings_files()
        .iter()
        .find(|f| f.scope == SettingsScope::Managed)
}

#[cfg(test)]
mod tests;
