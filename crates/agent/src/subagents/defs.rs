//! Subagent definitions: the built-in types and the Markdown files of
//! `~/.claude/agents/**/*.md` and `.claude/agents/**/*.md`, read leniently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::frontmatter::Warning;
use crate::frontmatter::{Document, first_paragraph};
use crate::permissions::Mode;

/// One subagent type: who it is, what it may use, and its system prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDef {
    pub name: String,
    /// When to use it; shown to the model in the `Agent` tool's description.
    pub description: String,
    /// The tools it may use; `None` for all of the parent's (never `Agent`).
    pub tools: Option<Vec<String>>,
    pub disallowed_tools: Vec<String>,
    /// An alias, a model ID, or `inherit`; `None` is the parent's model.
    pub model: Option<String>,
    /// `default`, `acceptEdits`, `plan` or `bypassPermissions`.
    pub permission_mode: Option<String>,
    pub max_turns: Option<u32>,
    /// The body of the file: the subagent's system prompt.
    pub prompt: String,
    /// The file it came from; `None` for the built-in types.
    pub source: Option<PathBuf>,
    /// The `hooks` frontmatter, as JSON, for the hooks engine.
    pub hooks: Option<Value>,
}

/// The tools of the built-in read-only types.
const READ_ONLY_TOOLS: [&str; 6] = ["Glob", "Grep", "Read", "WebFetch", "TaskGet", "TaskList"];

const GENERAL_PURPOSE_PROMPT: &str = "You are a subagent of `claude`, a command-line agent in the style of Claude Code. You were given one task by the main agent, which will see only your final message. Use the tools available to complete the task fully: search widely when you do not know where something is, read what you need, and check your work. Do what was asked, nothing more. When you are done, reply with a complete, self-contained report of what you found or did, with the file paths that matter; the main agent relays it to the user.";

const EXPLORE_PROMPT: &str = "You are a fast, read-only search subagent of `claude`. You were given one question by the main agent, which will see only your final message. Find the answer in the files with Glob, Grep and Read: start broad, then narrow down, and read the passages that matter. You cannot change anything. Reply with a concise, complete answer that cites file paths (and line numbers where useful).";

const PLAN_PROMPT: &str = "You are a read-only planning subagent of `claude`. You were given one task by the main agent, which will see only your final message. Investigate the files involved with Glob, Grep and Read, without changing anything, then reply with a step-by-step implementation plan: the files to change, what to change in each and why, the risks, and how to check the result.";

/// `general-purpose`, `Explore` and `Plan`, as Claude Code has them.
pub fn builtin_agents() -> Vec<AgentDef> {
    let def = |name: &str, description: &str, tools: Option<&[&str]>, prompt: &str| AgentDef {
        name: name.into(),
        description: description.into(),
        tools: tools.map(|t| t.iter().map(|s| (*s).to_string()).collect()),
        disallowed_tools: Vec::new(),
        model: None,
        permission_mode: None,
        max_turns: None,
        prompt: prompt.into(),
        source: None,
        hooks: None,
    };
    vec![
        def(
            "general-purpose",
            "General-purpose agent for researching complex questions, searching for code or notes, and carrying out multi-step tasks. Use it when a search may take several rounds of looking.",
            None,
            GENERAL_PURPOSE_PROMPT,
        ),
        def(
            "Explore",
            "Fast read-only agent for exploring files: finding files by pattern, searching contents, answering questions about what is where. It cannot change anything.",
            Some(&READ_ONLY_TOOLS),
            EXPLORE_PROMPT,
        ),
        def(
            "Plan",
            "Read-only planning agent: investigates the files involved and returns a step-by-step implementation plan. It cannot change anything.",
            Some(&READ_ONLY_TOOLS),
            PLAN_PROMPT,
        ),
    ]
}

impl AgentDef {
    /// Explore and Plan as built in: they load no memory files (CLAUDE.md),
    /// as in Claude Code, to stay fast and cheap.
    pub fn skips_memory(&self) -> bool {
        self.source.is_none() && matches!(self.name.as_str(), "Explore" | "Plan")
    }
}

/// Reads one agent file. A file without frontmatter takes its name from the
/// file name and its description from its first paragraph (with a warning);
/// a file whose frontmatter does not parse is skipped (with a warning).
pub fn parse_agent(path: &Path, text: &str) -> (Option<AgentDef>, Vec<Warning>) {
    let doc = Document::parse(text);
    let mut warnings = Vec::new();
    if let Some((line, message)) = &doc.error {
        warnings.push(Warning::new(
            path,
            Some(*line),
            format!("invalid YAML frontmatter ({message}); this agent is not loaded"),
        ));
        return (None, warnings);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body = doc.body.trim().to_string();
    if !doc.has_frontmatter {
        warnings.push(Warning::new(
            path,
            None,
            "no frontmatter: the name comes from the file name and the description from the first paragraph; add `name:` and `description:` frontmatter as Claude Code requires",
        ));
    }
    let name = match doc.str("name") {
        Some(n) => n,
        None => {
            if doc.has_frontmatter {
                warnings.push(Warning::new(
                    path,
                    Some(1),
                    format!("no `name:`; using the file name `{stem}`"),
                ));
            }
            stem
        }
    };
    let description = match doc.str("description") {
        Some(d) => d,
        None => {
            if doc.has_frontmatter {
                warnings.push(Warning::new(
                    path,
                    Some(1),
                    "no `description:`; using the first paragraph",
                ));
            }
            first_paragraph(&body).unwrap_or_else(|| format!("The {name} agent."))
        }
    };
    let tools = doc
        .fields
        .contains_key("tools")
        .then(|| tool_names(&doc.list("tools")))
        .filter(|t| !t.iter().any(|n| n == "*"));
    let permission_mode = doc.str("permissionMode").filter(|m| {
        let ok = m.parse::<Mode>().is_ok();
        if !ok {
            warnings.push(Warning::new(
                path,
                doc.line_of("permissionMode"),
                format!("unknown permissionMode `{m}` (default, acceptEdits, plan, bypassPermissions); ignored"),
            ));
        }
        ok
    });
    let max_turns = match doc.str("maxTurns") {
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                warnings.push(Warning::new(
                    path,
                    doc.line_of("maxTurns"),
                    format!("maxTurns must be a positive whole number, got `{raw}`; ignored"),
                ));
                None
            }
        },
        None => None,
    };
    if doc.bool("background") == Some(true) {
        warnings.push(Warning::new(
            path,
            doc.line_of("background"),
            "background subagents are not supported; this one runs in the foreground",
        ));
    }
    let def = AgentDef {
        name,
        description,
        tools,
        disallowed_tools: tool_names(&doc.list("disallowedTools")),
        model: doc.str("model"),
        permission_mode,
        max_turns,
        prompt: body,
        source: Some(path.to_path_buf()),
        hooks: doc.fields.get("hooks").filter(|v| !v.is_null()).cloned(),
    };
    (Some(def), warnings)
}

/// Tool names from a `tools:` list: `Bash(git *)` names `Bash`, `Task` is `Agent`.
fn tool_names(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item.split('(').next().unwrap_or_default().trim();
        let name = if name == "Task" { "Agent" } else { name };
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Every subagent type: the built-ins, then `user_dir/agents/**/*.md`
/// (`~/.claude/agents`), then the project's `.claude/agents/**/*.md`. A
/// later definition of a name replaces an earlier one, so project agents
/// override user agents and both may override a built-in. Sorted by name,
/// built-ins first.
pub fn load_agents(user_dir: &Path, project_root: &Path) -> (Vec<AgentDef>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let mut by_name: BTreeMap<String, AgentDef> = BTreeMap::new();
    for def in builtin_agents() {
        by_name.insert(def.name.clone(), def);
    }
    for dir in [
        user_dir.join("agents"),
        project_root.join(".claude").join("agents"),
    ] {
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for path in markdown_files(&dir) {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    warnings.push(Warning::new(&path, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            let (def, w) = parse_agent(&path, &text);
            warnings.extend(w);
            let Some(def) = def else { continue };
            if let Some(first) = seen.get(&def.name) {
                warnings.push(Warning::new(
                    &path,
                    None,
                    format!(
                        "another agent named `{}` is defined in {}; this one is ignored",
                        def.name,
                        first.display()
                    ),
                ));
                continue;
            }
            seen.insert(def.name.clone(), path.clone());
            by_name.insert(def.name.clone(), def);
        }
    }
    let builtin: Vec<String> = builtin_agents().into_iter().map(|d| d.name).collect();
    let mut all: Vec<AgentDef> = by_name.into_values().collect();
    all.sort_by_key(|d| {
        let rank = match d.source {
            None => builtin.iter().position(|n| *n == d.name).unwrap_or(0),
            Some(_) => builtin.len(),
        };
        (rank, d.name.clone())
    });
    (all, warnings)
}

/// The `.md` files under `dir`, at any depth, in path order.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
