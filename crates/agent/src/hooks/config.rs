//! Reading the `hooks` key of settings files and of skill and subagent
//! frontmatter: `{ "<Event>": [ { "matcher": "...", "hooks": [ {handler} ] } ] }`.

use std::sync::atomic::AtomicBool;

use serde_json::Value;

use super::HookEvent;
use super::matcher::Matcher;
use super::run::Command;

/// Claude Code events this build accepts in configuration but never fires.
pub const IGNORED_EVENTS: [&str; 20] = [
    "Setup",
    "InstructionsLoaded",
    "UserPromptExpansion",
    "PermissionDenied",
    "PostToolBatch",
    "MessageDisplay",
    "SubagentStart",
    "TaskCreated",
    "TaskCompleted",
    "StopFailure",
    "TeammateIdle",
    "ConfigChange",
    "CwdChanged",
    "DirectoryAdded",
    "FileChanged",
    "WorktreeCreate",
    "WorktreeRemove",
    "PostCompact",
    "Elicitation",
    "ElicitationResult",
];

/// A `hooks` value that is not the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hooks in {origin}: `{at}` {reason}")]
pub struct HookConfigError {
    /// The settings file, or the skill or subagent.
    pub origin: String,
    /// Where in the value: `PreToolUse[0].hooks[1]`.
    pub at: String,
    pub reason: String,
}

/// One handler of one matcher group.
#[derive(Debug)]
pub struct Entry {
    pub event: HookEvent,
    pub matcher_text: String,
    pub matcher: Matcher,
    pub command: Command,
    /// Seconds; the event's default when the handler sets none.
    pub timeout: Option<u64>,
    pub source: String,
    /// `once: true` (skill hooks): run the first time only.
    pub once: bool,
    pub fired: AtomicBool,
}

impl Entry {
    /// Identical handlers from several sources run once.
    pub fn same_as(&self, other: &Entry) -> bool {
        self.event == other.event
            && self.matcher_text == other.matcher_text
            && self.command == other.command
            && self.timeout == other.timeout
    }
}

/// Parses one `hooks` value. Shape errors are returned; handlers this build
/// cannot run (http, prompt, agent, mcp_tool, `if`) and events it never
/// fires are skipped with a warning.
pub fn parse(
    hooks: &Value,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Entry>, HookConfigError> {
    let err = |at: String, reason: &str| HookConfigError {
        origin: origin.to_string(),
        at,
        reason: reason.to_string(),
    };
    let Value::Object(events) = hooks else {
        return Err(err(
            "hooks".into(),
            "must be an object mapping event names to lists of matcher groups",
        ));
    };
    let mut entries = Vec::new();
    for (name, groups) in events {
        let Some(event) = HookEvent::parse(name) else {
            if IGNORED_EVENTS.contains(&name.as_str()) {
                warnings.push(format!(
                    "{origin}: {name} hooks are not supported by this build and never run"
                ));
            } else {
                warnings.push(format!(
                    "{origin}: unknown hook event {name}; its hooks never run"
                ));
            }
            continue;
        };
        let Value::Array(groups) = groups else {
            return Err(err(name.clone(), "must be a list of matcher groups"));
        };
        for (g, group) in groups.iter().enumerate() {
            let at = format!("{name}[{g}]");
            let Value::Object(group) = group else {
                return Err(err(at, "must be an object with `matcher` and `hooks`"));
            };
            let matcher_text = match group.get("matcher") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(err(format!("{at}.matcher"), "must be a string")),
            };
            let matcher = match Matcher::parse(Some(&matcher_text)) {
                Ok(m) => m,
                Err(e) => {
                    warnings.push(format!(
                        "{origin}: {at}.matcher `{matcher_text}` is not a valid regular expression ({e}); its hooks never run"
                    ));
                    continue;
                }
            };
            let Some(Value::Array(handlers)) = group.get("hooks") else {
                return Err(err(format!("{at}.hooks"), "must be a list of handlers"));
            };
            for (h, handler) in handlers.iter().enumerate() {
                let at = format!("{at}.hooks[{h}]");
                if let Some(command) = handler_command(handler, &at, origin, warnings)
                    .map_err(|reason| err(at.clone(), &reason))?
                {
                    entries.push(Entry {
                        event,
                        matcher_text: matcher_text.clone(),
                        matcher: matcher.clone(),
                        command,
                        timeout: number(handler.get("timeout")),
                        source: origin.to_string(),
                        once: handler.get("once").is_some_and(truthy),
                        fired: AtomicBool::new(false),
                    });
                }
            }
        }
    }
    Ok(entries)
}

/// The command of a `command` handler; `None` (with a warning) for what
/// this build cannot run.
fn handler_command(
    handler: &Value,
    at: &str,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Command>, String> {
    let Value::Object(h) = handler else {
        return Err("must be an object with `type` and `command`".into());
    };
    let kind = h.get("type").and_then(Value::as_str).unwrap_or("command");
    if kind != "command" {
        warnings.push(format!(
            "{origin}: {at} is a `{kind}` hook; only `command` hooks are supported, so it never runs"
        ));
        return Ok(None);
    }
    if h.contains_key("if") {
        warnings.push(format!(
            "{origin}: {at} has an `if` condition, which this build does not evaluate, so it never runs"
        ));
        return Ok(None);
    }
    let Some(command) = h.get("command").and_then(Value::as_str) else {
        return Err("needs a `command` string".into());
    };
    if command.trim().is_empty() {
        return Err("has an empty `command`".into());
    }
    let args = match h.get("args") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err("`args` must be a list of strings".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err("`args` must be a list of strings".into()),
    };
    Ok(Some(Command {
        command: command.to_string(),
        args,
        bash: h.get("shell").and_then(Value::as_str) == Some("bash"),
    }))
}

/// A number of seconds, also as text (frontmatter is often loose).
fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f > 0.0).map(|f| f.ceil() as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

/// YAML-ish booleans: `true`, `yes`, `on`, `1`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() == Some(1),
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "on" | "1"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(v: Value) -> (Vec<Entry>, Vec<String>) {
        let mut w = Vec::new();
        let e = parse(&v, "settings.json", &mut w).unwrap();
        (e, w)
    }

    #[test]
    fn the_documented_shape() {
        let (e, w) = ok(json!({
            "PreToolUse": [{"matcher": "Edit|Write", "hooks": [
                {"type": "command", "command": "python3 .claude/hooks/file-protection.py", "timeout": 5},
                {"command": "echo", "args": ["a", 1]}
            ]}],
            "Stop": [{"hooks": [{"type": "command", "command": "./check.sh", "once": "yes", "shell": "bash"}]}]
        }));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].event, HookEvent::PreToolUse);
        assert_eq!(e[0].timeout, Some(5));
        assert!(e[0].matcher.matches(Some("Write")));
        assert_eq!(e[1].command.args, Some(vec!["a".into(), "1".into()]));
        assert!(e[2].once && e[2].command.bash);
        assert!(e[2].matcher.matches(None));
    }

    #[test]
    fn unsupported_handlers_and_events_warn_and_are_skipped() {
        let (e, w) = ok(json!({
            "PreToolUse": [{"matcher": "Bash", "hooks": [
                {"type": "http", "url": "https://example.invalid"},
                {"type": "prompt", "prompt": "is this safe?"},
                {"type": "command", "command": "x", "if": "Bash(rm *)"}
            ]}],
            "PostCompact": [{"hooks": [{"type": "command", "command": "y"}]}],
            "PreToolUze": [{"hooks": [{"type": "command", "command": "z"}]}],
            "PostToolUse": [{"matcher": "Edit(", "hooks": [{"type": "command", "command": "w"}]}]
        }));
        assert!(e.is_empty());
        let all = w.join("\n");
        for needle in [
            "`http` hook",
            "`prompt` hook",
            "`if` condition",
            "PostCompact hooks are not supported",
            "unknown hook event PreToolUze",
            "not a valid regular expression",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
    }

    #[test]
    fn shape_errors_say_where() {
        let mut w = Vec::new();
        let e = parse(&json!({"Stop": {"hooks": []}}), "skill q", &mut w).unwrap_err();
        assert_eq!(
            e.to_string(),
            "hooks in skill q: `Stop` must be a list of matcher groups"
        );
        let e = parse(
            &json!({"Stop": [{"hooks": [{"type": "command"}]}]}),
            "s",
            &mut w,
        )
        .unwrap_err();
        assert_eq!(e.at, "Stop[0].hooks[0]");
        assert!(parse(&json!(["x"]), "s", &mut w).is_err());
    }
}
