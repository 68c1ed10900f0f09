//! Parsing `Tool` / `Tool(specifier)` rule strings and deciding which tool
//! calls a rule covers.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::paths::{PathPattern, Target};
use super::pattern::{Domain, Wildcard, url_host};

/// Which list a rule sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleList {
    Allow,
    Ask,
    Deny,
}

impl fmt::Display for RuleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleList::Allow => "allow",
            RuleList::Ask => "ask",
            RuleList::Deny => "deny",
        })
    }
}

/// One rule as written, for `/permissions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub tool: String,
    pub specifier: Option<String>,
    /// The settings file it came from, or `--allowedTools`/`--disallowedTools`.
    pub source: String,
    pub list: RuleList,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.specifier {
            Some(spec) => write!(f, "{}({})", self.tool, escape_parens(spec)),
            None => f.write_str(&self.tool),
        }
    }
}

fn escape_parens(spec: &str) -> String {
    spec.replace('(', "\\(").replace(')', "\\)")
}

/// Tools whose file path `Edit(…)` rules govern, with their path field.
pub(crate) const EDIT_TOOLS: [(&str, &str); 4] = [
    ("Edit", "file_path"),
    ("Write", "file_path"),
    ("MultiEdit", "file_path"),
    ("NotebookEdit", "notebook_path"),
];

/// Tools whose path `Read(…)` rules govern, with their path field. For the
/// search tools the field is optional and defaults to the cwd.
pub(crate) const READ_TOOLS: [(&str, &str); 5] = [
    ("Read", "file_path"),
    ("Glob", "path"),
    ("Grep", "path"),
    ("LS", "path"),
    ("NotebookRead", "notebook_path"),
];

/// Tools for which only `Read(…)`/`Edit(…)` path rules are consulted: a
/// specifier written for one of these is ignored with a warning.
const PATH_RULE_TOOLS: [&str; 6] = ["Write", "MultiEdit", "NotebookEdit", "Glob", "Grep", "LS"];

/// A stand-in for "some file inside this directory".
const CHILD: &str = "\u{1}";

/// What the specifier of a compiled rule matches.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// `Tool` or `Tool(*)`: every call.
    Any,
    /// `Bash(…)`: each simple command of the command line.
    Command(Wildcard),
    /// `Read(…)` / `Edit(…)`.
    Path(Box<PathPattern>),
    /// `WebFetch(domain:…)`.
    Domain(Domain),
    /// `Skill(name *)`: the skill name and its arguments.
    Skill(Wildcard),
    /// `Agent(Explore)`: the subagent type.
    Agent(Wildcard),
    /// `Tool(param:value)`, deny and ask only.
    Param { name: String, value: Wildcard },
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub rule: Rule,
    pub matcher: Matcher,
}

/// `Tool` or `Tool(specifier)` split apart; `\(` and `\)` in the specifier
/// are literal parentheses.
pub(crate) fn split(text: &str) -> Result<(String, Option<String>), String> {
    let text = text.trim();
    let (tool, spec) = match text.find('(') {
        None => (text, None),
        Some(open) => {
            let Some(inner) = text[open + 1..].strip_suffix(')') else {
                return Err("a rule with `(` must end with `)`".into());
            };
            (
                &text[..open],
                Some(inner.replace("\\(", "(").replace("\\)", ")")),
            )
        }
    };
    let tool = tool.trim();
    let valid = !tool.is_empty()
        && tool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.'));
    if !valid {
        return Err(format!("`{tool}` is not a tool name"));
    }
    // `Tool()` and `Tool(*)` are the bare tool.
    let spec = spec.filter(|s| !s.trim().is_empty() && s.trim() != "*");
    let tool = if tool == "Task" { "Agent" } else { tool };
    Ok((tool.to_string(), spec))
}

/// Where relative rule paths start, and the home directory for `~/`.
pub(crate) struct Anchors<'a> {
    /// `/x`: the directory holding the settings file's `.claude/`, or the
    /// cwd for flag rules.
    pub rule_root: &'a Path,
    pub cwd: &'a Path,
    pub home: Option<&'a Path>,
}

/// Compiles one rule. `Ok(None)` with a warning pushed means "valid but
/// ignored" (a path rule on `Write`, a parameter rule in allow).
pub(crate) fn compile(
    text: &str,
    list: RuleList,
    source: &str,
    anchors: &Anchors<'_>,
    warnings: &mut Vec<String>,
) -> Result<Option<Compiled>, String> {
    let (tool, specifier) = split(text)?;
    let rule = Rule {
        tool: tool.clone(),
        specifier: specifier.clone(),
        source: source.to_string(),
        list,
    };
    let Some(spec) = specifier else {
        return Ok(Some(Compiled {
            rule,
            matcher: Matcher::Any,
        }));
    };
    let ignore = |warnings: &mut Vec<String>, why: &str| {
        warnings.push(format!(
            "{list} rule `{text}` in {source} is ignored: {why}"
        ));
        Ok(None)
    };
    let matcher = match tool.as_str() {
        "Bash" => Matcher::Command(Wildcard::new(&spec)),
        "Read" | "Edit" => {
            match PathPattern::new(spec.trim(), anchors.rule_root, anchors.cwd, anchors.home) {
                Ok(p) => Matcher::Path(Box::new(p)),
                Err(e) => return ignore(warnings, &format!("bad path pattern: {e}")),
            }
        }
        "WebFetch" => match spec.trim().strip_prefix("domain:") {
            Some(domain) => Matcher::Domain(Domain::new(domain)),
            None => {
                return ignore(
                    warnings,
                    "WebFetch rules take `domain:HOST` (e.g. `WebFetch(domain:example.com)`)",
                );
            }
        },
        "Skill" => Matcher::Skill(Wildcard::new(spec.trim().trim_start_matches('/'))),
        "Agent" => Matcher::Agent(Wildcard::new(&spec)),
        _ => match param_rule(&spec) {
            Some((name, value)) => {
                if list == RuleList::Allow {
                    return ignore(
                        warnings,
                        "`Tool(param:value)` rules work in deny and ask only",
                    );
                }
                Matcher::Param {
                    name: name.to_string(),
                    value: Wildcard::new(value),
                }
            }
            None if PATH_RULE_TOOLS.contains(&tool.as_str()) => {
                let family = if matches!(tool.as_str(), "Glob" | "Grep" | "LS") {
                    "Read"
                } else {
                    "Edit"
                };
                return ignore(
                    warnings,
                    &format!(
                        "only Read(…) and Edit(…) path rules are consulted; write `{family}({spec})`"
                    ),
                );
            }
            None => {
                return ignore(
                    warnings,
                    &format!("{tool} rules take no specifier other than `param:value`"),
                );
            }
        },
    };
    Ok(Some(Compiled { rule, matcher }))
}

/// `param:value` with an identifier before the colon.
fn param_rule(spec: &str) -> Option<(&str, &str)> {
    let (name, value) = spec.split_once(':')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some((name, value))
}

/// Whether a rule written for `rule_tool` covers calls to `tool`:
/// the same tool; `Task` ≡ `Agent`; `Edit` covers every file-editing tool
/// and `Read` every file-reading one; `mcp__server` covers all of that
/// server's tools; `*` in a rule's tool name is a wildcard (`mcp__server__*`).
pub(crate) fn covers(rule_tool: &str, tool: &str) -> bool {
    let tool = if tool == "Task" { "Agent" } else { tool };
    if rule_tool == tool {
        return true;
    }
    match rule_tool {
        "Edit" => EDIT_TOOLS.iter().any(|(t, _)| *t == tool),
        "Read" => READ_TOOLS.iter().any(|(t, _)| *t == tool),
        _ if rule_tool.contains('*') => Wildcard::new(rule_tool).matches(tool),
        _ if rule_tool.starts_with("mcp__") && !rule_tool[5..].contains("__") => tool
            .strip_prefix(rule_tool)
            .is_some_and(|rest| rest.starts_with("__")),
        _ => false,
    }
}

/// What a call offers to non-Bash matchers.
pub(crate) struct Call<'a> {
    pub tool: &'a str,
    pub input: &'a Value,
    /// The path the call touches, for Read/Edit-family tools.
    pub target: Option<&'a Target>,
}

impl Compiled {
    /// `strict` is for allow rules: a path must match as the file system
    /// resolves it. Deny and ask rules also match the path as written.
    pub(crate) fn matches(&self, call: &Call<'_>, strict: bool) -> bool {
        if !covers(&self.rule.tool, call.tool) {
            return false;
        }
        match &self.matcher {
            Matcher::Any => true,
            // Bash is decided per simple command elsewhere.
            Matcher::Command(_) => false,
            Matcher::Path(pattern) => call.target.is_some_and(|t| {
                if strict {
                    pattern.matches(&t.physical, t.is_dir)
                } else {
                    // A directory (searched by Glob/Grep/LS) is also caught
                    // when the rule covers what is directly inside it
                    // (`Read(~/.ssh/**)` for a Glob of `~/.ssh`): the check
                    // uses a name no rule spells out, so only wildcards match.
                    t.forms().into_iter().any(|p| {
                        pattern.matches(p, t.is_dir)
                            || (t.is_dir && pattern.matches(&p.join(CHILD), false))
                    })
                }
            }),
            Matcher::Domain(domain) => str_field(call.input, "url")
                .and_then(url_host)
                .is_some_and(|host| domain.matches(&host)),
            Matcher::Skill(pattern) => {
                let Some(name) =
                    str_field(call.input, "skill").or_else(|| str_field(call.input, "command"))
                else {
                    return false;
                };
                let name = name.trim().trim_start_matches('/');
                let text = match str_field(call.input, "args").map(str::trim) {
                    Some(args) if !args.is_empty() => format!("{name} {args}"),
                    _ => name.to_string(),
                };
                pattern.matches(&text)
            }
            Matcher::Agent(pattern) => {
                str_field(call.input, "subagent_type").is_some_and(|t| pattern.matches(t))
            }
            Matcher::Param { name, value } => match call.input.get(name) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => value.matches(s),
                Some(other) => value.matches(&other.to_string()),
            },
        }
    }

    /// `Bash(…)` against one form of one simple command.
    pub(crate) fn matches_command(&self, text: &str) -> bool {
        match &self.matcher {
            Matcher::Any => true,
            Matcher::Command(pattern) => pattern.matches(text),
            _ => false,
        }
    }

    pub(crate) fn is_bare(&self) -> bool {
        matches!(self.matcher, Matcher::Any)
    }

    /// For reasons: `Bash(rm -rf *)` from /p/.claude/settings.json.
    pub(crate) fn describe(&self) -> String {
        format!("`{}` from {}", self.rule, self.rule.source)
    }
}

pub(crate) fn str_field<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        let ok: &[(&str, &str, Option<&str>)] = &[
            ("Bash", "Bash", None),
            ("Bash(*)", "Bash", None),
            ("Bash()", "Bash", None),
            (" Bash(npm run *) ", "Bash", Some("npm run *")),
            ("Bash(echo \\(hi\\))", "Bash", Some("echo (hi)")),
            ("Task(Explore)", "Agent", Some("Explore")),
            ("mcp__github__*", "mcp__github__*", None),
            ("Read(./a (copy).md)", "Read", Some("./a (copy).md")),
        ];
        for (text, tool, spec) in ok {
            let (t, s) = split(text).unwrap();
            assert_eq!((t.as_str(), s.as_deref()), (*tool, *spec), "{text}");
        }
        for bad in ["", "Bash(ls", "(ls)", "Ba sh", "Bash(ls)x"] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage() {
        let cases: &[(&str, &str, bool)] = &[
            ("Edit", "Write", true),
            ("Edit", "NotebookEdit", true),
            ("Edit", "Read", false),
            ("Read", "Grep", true),
            ("Read", "Glob", true),
            ("Read", "Edit", false),
            ("Agent", "Task", true),
            ("mcp__github", "mcp__github__create_issue", true),
            ("mcp__github", "mcp__githubx__a", false),
            ("mcp__github__*", "mcp__github__create_issue", true),
            ("mcp__github__*", "mcp__gitlab__x", false),
            (
                "mcp__github__create_issue",
                "mcp__github__create_issue",
                true,
            ),
            (
                "mcp__github__create_issue",
                "mcp__github__delete_repo",
                false,
            ),
            ("Bash", "BashOutput", false),
        ];
        for (rule, tool, want) in cases {
            assert_eq!(covers(rule, tool), *want, "{rule} covers {tool}");
        }
    }

    #[test]
    fn rule_display_round_trips() {
        let (tool, specifier) = split("Bash(echo \\(x\\))").unwrap();
        let rule = Rule {
            tool,
            specifier,
            source: "s".into(),
            list: RuleList::Allow,
        };
        assert_eq!(rule.to_string(), "Bash(echo \\(x\\))");
    }
}
