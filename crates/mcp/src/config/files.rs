//! The files that define servers and approvals, read and edited in place:
//! `~/.claude.json` (user and local scopes; every other key of that file is
//! kept), `.mcp.json` (project scope) and `.claude/settings.local.json`
//! (approvals of `.mcp.json` servers).

use std::path::{Path, PathBuf};

use claude_config::{Config, write_atomically};
use serde_json::{Map, Value as Json};

use super::{Defined, McpConfigError, McpPolicy, Scope, ServerConfig, expand};

/// `~/.claude.json`; as in Claude Code, `$CLAUDE_CONFIG_DIR/.claude.json`
/// when `CLAUDE_CONFIG_DIR` is set, so each configuration directory keeps
/// its own user and local servers.
pub fn claude_json_path(cfg: &Config) -> Option<PathBuf> {
    if cfg
        .env()
        .get("CLAUDE_CONFIG_DIR")
        .is_some_and(|d| !d.is_empty())
    {
        return Some(cfg.user_dir().join(".claude.json"));
    }
    cfg.env()
        .get("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(home).join(".claude.json"))
}

/// `.mcp.json` at the project root.
pub fn mcp_json_path(cfg: &Config) -> PathBuf {
    cfg.project_root().join(".mcp.json")
}

/// `.claude/settings.local.json` of a project: where approvals go.
pub fn local_settings_path(project_root: &Path) -> PathBuf {
    project_root.join(".claude").join("settings.local.json")
}

/// The key of this project in `~/.claude.json`'s `projects`.
fn project_key(cfg: &Config) -> String {
    cfg.project_root().display().to_string()
}

/// The file of a scope and the keys leading to its `mcpServers` object.
fn location(cfg: &Config, scope: Scope) -> Result<(PathBuf, Vec<String>), McpConfigError> {
    let servers = "mcpServers".to_owned();
    match scope {
        Scope::Project => Ok((mcp_json_path(cfg), vec![servers])),
        Scope::User | Scope::Local => {
            let path = claude_json_path(cfg).ok_or(McpConfigError::NoHome { scope })?;
            let keys = if scope == Scope::User {
                vec![servers]
            } else {
                vec!["projects".to_owned(), project_key(cfg), servers]
            };
            Ok((path, keys))
        }
        Scope::Managed => Err(McpConfigError::ManagedScope),
    }
}

/// A JSON object file; `None` when it does not exist. An empty file is `{}`.
pub(super) fn read_object(path: &Path) -> Result<Option<Map<String, Json>>, McpConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(McpConfigError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    let parse = |line, column, message: String| McpConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    match serde_json::from_str(&text) {
        Ok(Json::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(parse(1, 1, "expected a JSON object".to_owned())),
        Err(e) => {
            let message = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&position).unwrap_or(&message);
            Err(parse(e.line(), e.column(), message.to_owned()))
        }
    }
}

fn write_object(path: &Path, obj: &Map<String, Json>) -> Result<(), McpConfigError> {
    let mut text = serde_json::to_string_pretty(obj).unwrap_or_default();
    text.push('\n');
    write_atomically(path, &text)?;
    Ok(())
}

/// One `mcpServers` entry: `type` may be absent or `stdio` (with `command`,
/// `args`, `env`), `http` or `sse` (with `url`, `headers`). Keys Claude Code
/// uses that claude does not are ignored.
pub fn parse_server(value: &Json) -> Result<ServerConfig, String> {
    let Json::Object(obj) = value else {
        return Err("expected an object with `command` or `type` and `url`".to_owned());
    };
    let mut obj = obj.clone();
    match obj.get("type") {
        None => {
            obj.insert("type".to_owned(), Json::from("stdio"));
        }
        Some(Json::String(t)) if matches!(t.as_str(), "stdio" | "http" | "sse") => {}
        Some(other) => {
            return Err(format!(
                "`type` is {other}; expected \"stdio\", \"http\" or \"sse\""
            ));
        }
    }
    serde_json::from_value(Json::Object(obj)).map_err(|e| e.to_string())
}

/// The entries of one `mcpServers` object; a bad entry is a warning.
pub(super) fn servers_in(
    servers: Option<&Json>,
    source: &Path,
    scope: Scope,
    warnings: &mut Vec<String>,
) -> Vec<Defined> {
    let Some(servers) = servers else {
        return Vec::new();
    };
    let Json::Object(servers) = servers else {
        warnings.push(format!(
            "`mcpServers` in {} is not an object; its servers are not used",
            source.display()
        ));
        return Vec::new();
    };
    servers
        .iter()
        .filter_map(|(name, value)| match parse_server(value) {
            Ok(config) => Some(Defined {
                name: name.clone(),
                config,
                scope,
                source: source.to_path_buf(),
            }),
            Err(e) => {
                warnings.push(format!(
                    "MCP server `{name}` in {} is not used: {e}",
                    source.display()
                ));
                None
            }
        })
        .collect()
}

fn at<'a>(obj: &'a Map<String, Json>, keys: &[String]) -> Option<&'a Json> {
    let (first, rest) = keys.split_first()?;
    rest.iter()
        .try_fold(obj.get(first)?, |value, key| value.get(key))
}

/// Local, project and user definitions, in that order (highest first).
pub(super) fn defined_servers(cfg: &Config, warnings: &mut Vec<String>) -> Vec<Defined> {
    let mut defined = Vec::new();
    for scope in [Scope::Local, Scope::Project, Scope::User] {
        let Ok((path, keys)) = location(cfg, scope) else {
            continue;
        };
        match read_object(&path) {
            Ok(Some(obj)) => defined.extend(servers_in(at(&obj, &keys), &path, scope, warnings)),
            Ok(None) => {}
            // ~/.claude.json is read for two scopes: say it once.
            Err(e) if scope != Scope::User => {
                warnings.push(format!("{e}; the MCP servers defined there are not used"));
            }
            Err(_) => {}
        }
    }
    defined
}

/// The scopes whose files define `name`, with each file.
pub fn defined_in(cfg: &Config, name: &str) -> Result<Vec<(Scope, PathBuf)>, McpConfigError> {
    let mut found = Vec::new();
    for scope in [Scope::Local, Scope::Project, Scope::User] {
        let (path, mut keys) = match location(cfg, scope) {
            Ok(location) => location,
            Err(McpConfigError::NoHome { .. }) => continue,
            Err(e) => return Err(e),
        };
        keys.push(name.to_owned());
        if let Some(obj) = read_object(&path)?
            && at(&obj, &keys).is_some()
        {
            found.push((scope, path));
        }
    }
    Ok(found)
}

/// The object at `keys`, created (with its parents) when missing.
fn object_at<'a>(
    obj: &'a mut Map<String, Json>,
    keys: &[String],
    path: &Path,
) -> Result<&'a mut Map<String, Json>, McpConfigError> {
    let mut current = obj;
    for key in keys {
        let next = current
            .entry(key.clone())
            .or_insert_with(|| Json::Object(Map::new()));
        current = next.as_object_mut().ok_or_else(|| McpConfigError::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("`{}` is not an object", keys.join(".")),
        })?;
    }
    Ok(current)
}

/// Names as Claude Code accepts them: letters, digits, `-` and `_`.
fn check_name(name: &str) -> Result<(), McpConfigError> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(());
    }
    Err(McpConfigError::Invalid {
        name: name.to_owned(),
        message: "names may contain only letters, digits, hyphens and underscores".to_owned(),
    })
}

/// Adds a server to a scope's file (`claude mcp add`, `add-json`), as
/// written (variables unexpanded). Refused when the scope already has the
/// name, or the managed policy would refuse the server.
pub fn add_server(
    cfg: &Config,
    scope: Scope,
    name: &str,
    config: &ServerConfig,
) -> Result<PathBuf, McpConfigError> {
    check_name(name)?;
    let (path, keys) = location(cfg, scope)?;
    let refused = |policy| McpConfigError::Refused {
        name: name.to_owned(),
        policy,
    };
    let policy = McpPolicy::load(cfg, &mut Vec::new());
    if policy.exclusive().is_some() {
        return Err(refused(policy.exclusive_reason()));
    }
    let expanded = expand::expand_config(config, cfg.env());
    // A URL that still holds an unset `${VAR}` is checked once the variable is set.
    if let Ok(e) = &expanded
        && let Some(message) = e.url_problem()
    {
        return Err(McpConfigError::Invalid {
            name: name.to_owned(),
            message,
        });
    }
    let expanded = expanded.unwrap_or_else(|_| config.clone());
    policy.check(name, &expanded).map_err(refused)?;
    let mut obj = read_object(&path)?.unwrap_or_default();
    let servers = object_at(&mut obj, &keys, &path)?;
    if servers.contains_key(name) {
        return Err(McpConfigError::Exists {
            name: name.to_owned(),
            scope,
            path,
        });
    }
    let value = serde_json::to_value(config).unwrap_or_default();
    servers.insert(name.to_owned(), value);
    write_object(&path, &obj)?;
    Ok(path)
}

/// Removes a server (`claude mcp remove`): from `scope`, or from the one
/// scope that defines it. Returns the scope and the file changed.
pub fn remove_server(
    cfg: &Config,
    name: &str,
    scope: Option<Scope>,
) -> Result<(Scope, PathBuf), McpConfigError> {
    let not_found = || McpConfigError::NotFound {
        name: name.to_owned(),
        scope,
    };
    let scope = match scope {
        Some(scope) => scope,
        None => {
            let found = defined_in(cfg, name)?;
            match found.as_slice() {
                [] => return Err(not_found()),
                [(scope, _)] => *scope,
                _ => {
                    let scopes = found
                        .iter()
                        .map(|(s, _)| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(McpConfigError::Ambiguous {
                        name: name.to_owned(),
                        scopes,
                    });
                }
            }
        }
    };
    let (path, keys) = location(cfg, scope)?;
    let Some(mut obj) = read_object(&path)? else {
        return Err(not_found());
    };
    let removed = object_at(&mut obj, &keys, &path)?.shift_remove(name);
    if removed.is_none() {
        return Err(not_found());
    }
    write_object(&path, &obj)?;
    Ok((scope, path))
}

/// Approves a `.mcp.json` server for this user and project, as Claude Code
/// does: its name joins `enabledMcpjsonServers` (and leaves
/// `disabledMcpjsonServers`) in `.claude/settings.local.json`, whose other
/// keys are kept. Returns that file.
pub fn approve_project_server(project_root: &Path, name: &str) -> Result<PathBuf, McpConfigError> {
    set_approval(
        project_root,
        name,
        "enabledMcpjsonServers",
        "disabledMcpjsonServers",
    )
}

/// Turns a `.mcp.json` server off for this user and project (declined in
/// the REPL): its name joins `disabledMcpjsonServers`.
pub fn disable_project_server(project_root: &Path, name: &str) -> Result<PathBuf, McpConfigError> {
    set_approval(
        project_root,
        name,
        "disabledMcpjsonServers",
        "enabledMcpjsonServers",
    )
}

fn set_approval(
    project_root: &Path,
    name: &str,
    join: &str,
    leave: &str,
) -> Result<PathBuf, McpConfigError> {
    let path = local_settings_path(project_root);
    let mut obj = read_object(&path)?.unwrap_or_default();
    let leaving = list_of(&mut obj, leave, &path)?;
    leaving.retain(|v| v.as_str() != Some(name));
    if leaving.is_empty() {
        obj.shift_remove(leave);
    }
    let joining = list_of(&mut obj, join, &path)?;
    if !joining.iter().any(|v| v.as_str() == Some(name)) {
        joining.push(Json::from(name));
    }
    write_object(&path, &obj)?;
    Ok(path)
}

/// The list at `key`, created when missing.
fn list_of<'a>(
    obj: &'a mut Map<String, Json>,
    key: &str,
    path: &Path,
) -> Result<&'a mut Vec<Json>, McpConfigError> {
    obj.entry(key.to_owned())
        .or_insert_with(|| Json::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| McpConfigError::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("`{key}` is not a list"),
        })
}
