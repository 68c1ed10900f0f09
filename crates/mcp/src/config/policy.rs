//! The administrator's say: `allowedMcpServers` and `deniedMcpServers` in
//! the managed settings, and `managed-mcp.json` beside them, which when
//! present is the whole server set.

use std::path::{Path, PathBuf};

use claude_config::Config;
use serde_json::{Value as Json, json};

use super::{Defined, Scope, ServerConfig, files, managed_settings};

const MANAGED_MCP_FILE: &str = "managed-mcp.json";

/// One entry of `allowedMcpServers` or `deniedMcpServers`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `{"serverName": "github"}`: any server of that name.
    Name(String),
    /// `{"serverCommand": ["npx", "-y", "pkg"]}`: a stdio server whose
    /// command and arguments are exactly these.
    Command(Vec<String>),
    /// `{"serverUrl": "https://*.example.com/*"}`: a remote server whose URL
    /// matches, `*` standing for any run of characters.
    Url(String),
}

impl Rule {
    fn parse(item: &Json) -> Option<Rule> {
        let obj = item.as_object().filter(|o| o.len() == 1)?;
        if let Some(name) = obj.get("serverName") {
            return name.as_str().map(|n| Rule::Name(n.to_owned()));
        }
        if let Some(command) = obj.get("serverCommand") {
            let words: Option<Vec<String>> = command
                .as_array()?
                .iter()
                .map(|w| w.as_str().map(str::to_owned))
                .collect();
            return words.filter(|w| !w.is_empty()).map(Rule::Command);
        }
        obj.get("serverUrl")?
            .as_str()
            .map(|u| Rule::Url(u.to_owned()))
    }

    fn shown(&self) -> String {
        match self {
            Rule::Name(name) => json!({ "serverName": name }),
            Rule::Command(words) => json!({ "serverCommand": words }),
            Rule::Url(url) => json!({ "serverUrl": url }),
        }
        .to_string()
    }

    fn matches(&self, name: &str, config: &ServerConfig) -> bool {
        match (self, config) {
            (Rule::Name(n), _) => n == name,
            (Rule::Command(words), ServerConfig::Stdio { command, args, .. }) => {
                words.len() == args.len() + 1
                    && words[0] == *command
                    && words[1..].iter().eq(args.iter())
            }
            (
                Rule::Url(pattern),
                ServerConfig::Http { url, .. } | ServerConfig::Sse { url, .. },
            ) => wildcard(pattern, url),
            _ => false,
        }
    }
}

/// `*` matches any run of characters (including none); everything else
/// matches itself.
fn wildcard(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The MCP part of the managed policy.
#[derive(Debug, Clone, Default)]
pub struct McpPolicy {
    /// The managed settings file the lists come from.
    file: PathBuf,
    /// `None`: every server is allowed (unless denied); empty: none is.
    allowed: Option<Vec<Rule>>,
    denied: Vec<Rule>,
    /// `managed-mcp.json`, when it exists.
    managed_mcp: Option<PathBuf>,
}

impl McpPolicy {
    /// Reads the policy. A malformed list cannot be enforced as written, so
    /// it refuses every server (with a warning) rather than none.
    pub fn load(cfg: &Config, warnings: &mut Vec<String>) -> McpPolicy {
        let managed_mcp = cfg
            .managed_settings_path()
            .and_then(Path::parent)
            .map(|dir| dir.join(MANAGED_MCP_FILE))
            .filter(|p| p.exists());
        let Some(file) = managed_settings(cfg) else {
            return McpPolicy {
                managed_mcp,
                ..McpPolicy::default()
            };
        };
        let mut lockdown = false;
        let mut rules = |key: &str| -> Option<Vec<Rule>> {
            let items = file.json.get(key)?;
            let parsed: Option<Vec<Rule>> = items
                .as_array()
                .and_then(|items| items.iter().map(Rule::parse).collect());
            if parsed.is_none() {
                warnings.push(format!(
                    "`{key}` in {} is not a list of {{\"serverName\"}}, {{\"serverCommand\"}} or \
                     {{\"serverUrl\"}} objects; no MCP server may start until it is fixed",
                    file.path.display()
                ));
                lockdown = true;
            }
            parsed
        };
        let allowed = rules("allowedMcpServers");
        let denied = rules("deniedMcpServers").unwrap_or_default();
        McpPolicy {
            file: file.path.clone(),
            allowed: if lockdown { Some(Vec::new()) } else { allowed },
            denied,
            managed_mcp,
        }
    }

    /// `managed-mcp.json`, when the administrator has fixed the server set.
    pub fn exclusive(&self) -> Option<&Path> {
        self.managed_mcp.as_deref()
    }

    pub(super) fn exclusive_reason(&self) -> String {
        let path = self
            .managed_mcp
            .as_deref()
            .unwrap_or(Path::new(MANAGED_MCP_FILE));
        format!("{} defines the only MCP servers allowed", path.display())
    }

    /// `Err` names the file and the rule that refuses the server. The deny
    /// list wins over the allow list. Where the allow list has command
    /// (URL) entries, a stdio (remote) server must match one of them: its
    /// name alone is not enough.
    pub fn check(&self, name: &str, config: &ServerConfig) -> Result<(), String> {
        let file = self.file.display();
        if let Some(rule) = self.denied.iter().find(|r| r.matches(name, config)) {
            return Err(format!("{file} deniedMcpServers {}", rule.shown()));
        }
        let Some(allowed) = &self.allowed else {
            return Ok(());
        };
        if allowed.is_empty() {
            return Err(format!("{file} allowedMcpServers is empty"));
        }
        let stdio = matches!(config, ServerConfig::Stdio { .. });
        let by_command = allowed.iter().any(|r| matches!(r, Rule::Command(_)));
        let by_url = allowed.iter().any(|r| matches!(r, Rule::Url(_)));
        let name_suffices = if stdio { !by_command } else { !by_url };
        let ok = allowed.iter().any(|r| match r {
            Rule::Name(_) => name_suffices && r.matches(name, config),
            Rule::Command(_) | Rule::Url(_) => r.matches(name, config),
        });
        if ok {
            Ok(())
        } else {
            let what = match (stdio, name_suffices) {
                (_, true) => "its name",
                (true, false) => "its command",
                (false, false) => "its URL",
            };
            Err(format!("{file} allowedMcpServers does not list {what}"))
        }
    }

    /// The servers of `managed-mcp.json`, or `None` when there is none. A
    /// malformed file yields no servers (with a warning): it still replaces
    /// every other definition.
    pub(super) fn managed_servers(&self, warnings: &mut Vec<String>) -> Option<Vec<Defined>> {
        let path = self.managed_mcp.as_deref()?;
        let servers = match files::read_object(path) {
            Ok(obj) => files::servers_in(
                obj.as_ref().and_then(|o| o.get("mcpServers")),
                path,
                Scope::Managed,
                warnings,
            ),
            Err(e) => {
                warnings.push(format!("{e}; no MCP server may start until it is fixed"));
                Vec::new()
            }
        };
        Some(servers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard(
            "https://*.example.com/*",
            "https://mcp.example.com/v1"
        ));
        assert!(wildcard(
            "https://*.example.com/*",
            "https://a.b.example.com/"
        ));
        assert!(!wildcard(
            "https://*.example.com/*",
            "https://example.com/v1"
        ));
        assert!(wildcard(
            "https://mcp.example.com/",
            "https://mcp.example.com/"
        ));
        assert!(!wildcard(
            "https://mcp.example.com/",
            "https://mcp.example.com/x"
        ));
        assert!(wildcard("*", ""));
        assert!(wildcard("a*a", "aa"));
        assert!(!wildcard("a*a", "a"));
    }
}
