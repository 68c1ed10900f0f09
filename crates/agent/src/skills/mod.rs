//! Skills and custom commands, as Claude Code finds and reads them:
//! `~/.claude/skills/*/SKILL.md`, `.claude/skills/*/SKILL.md`,
//! `~/.claude/commands/**/*.md` and `.claude/commands/**/*.md`.
//!
//! A vault written for Claude Code carries frontmatter Claude Code
//! tolerates (unknown keys, `context: normal`, `arguments` as objects), so
//! everything here is lenient: a problem is a [`Warning`] with file and line,
//! never a reason to drop the other files.

mod args;
mod invoke;
mod run;
mod shell;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::frontmatter::Warning;
use crate::frontmatter::{Document, first_paragraph};
pub use args::{Substitutions, expand, has_placeholder, split_args};
pub use invoke::{Invocation, InvokeEnv, InvokeError, Step, parse_line, prepare};
pub use run::{SkillRunError, Skills};
pub use shell::{ShellError, run_dynamic_context};

/// Claude Code truncates `description` + `when_to_use` here.
pub const DESCRIPTION_LIMIT: usize = 1536;

/// Where a skill came from; earlier variants win a name clash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `~/.claude/…`
    User,
    /// `<project>/.claude/…`
    Project,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Project => "project",
        }
    }
}

/// A `SKILL.md` folder or a command file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Skill,
    Command,
}

/// How the skill runs: in the conversation, or as a subagent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    Inline,
    Fork,
}

/// One invocable skill or command.
#[derive(Debug, Clone)]
pub struct Skill {
    /// The name it is invoked by: the folder's, or `folder:name` for a
    /// namespaced command.
    pub name: String,
    /// The frontmatter `name`, a display label only.
    pub label: Option<String>,
    /// `description` (+ `when_to_use`), or the body's first paragraph.
    pub description: String,
    pub argument_hint: Option<String>,
    /// Names for `$name` placeholders, in argument order.
    pub arguments: Vec<String>,
    pub disable_model_invocation: bool,
    pub user_invocable: bool,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
    /// An alias, a model ID, or `inherit`.
    pub model: Option<String>,
    pub context: Context,
    /// The frontmatter value as written (`fork`, `normal`, …).
    pub context_raw: Option<String>,
    /// The subagent type for `context: fork`.
    pub agent: Option<String>,
    /// Hooks registered while the skill runs.
    pub hooks: Option<Value>,
    pub body: String,
    /// The file it came from and the folder `${CLAUDE_SKILL_DIR}` names.
    pub source: PathBuf,
    pub dir: PathBuf,
    pub kind: Kind,
    pub scope: Scope,
}

/// Every skill and command in effect, by name.
#[derive(Debug, Clone, Default)]
pub struct SkillSet {
    skills: BTreeMap<String, Skill>,
    /// Files that lost a name clash, with the file that won.
    pub shadowed: Vec<(PathBuf, PathBuf)>,
    pub warnings: Vec<Warning>,
}

impl SkillSet {
    /// Loads the user's and the project's skills and commands. Precedence
    /// follows Claude Code: personal over project, and a skill over a
    /// command of the same name.
    pub fn load(user_dir: &Path, project_root: &Path) -> SkillSet {
        let mut set = SkillSet::default();
        let project = project_root.join(".claude");
        let sources = [(user_dir, Scope::User), (project.as_path(), Scope::Project)];
        // Scope first, then kind: a user command beats a project skill
        // only if no user skill has the name.
        let mut found: Vec<Skill> = Vec::new();
        for (dir, scope) in sources {
            found.extend(load_skills(&dir.join("skills"), scope, &mut set.warnings));
        }
        for (dir, scope) in sources {
            found.extend(load_commands(
                &dir.join("commands"),
                scope,
                &mut set.warnings,
            ));
        }
        found.sort_by_key(|s| (s.kind == Kind::Command, s.scope));
        for skill in found {
            match set.skills.get(&skill.name) {
                Some(winner) => set.shadowed.push((skill.source, winner.source.clone())),
                None => {
                    set.skills.insert(skill.name.clone(), skill);
                }
            }
        }
        set
    }

    pub fn get(&self, name: &str) -> Option<&Skill> {
        self.skills.get(name)
    }

    /// Skills in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values()
    }

    pub fn len(&self) -> usize {
        self.skills.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// The names a user can type after `/`, for completion.
    pub fn user_invocable(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values().filter(|s| s.user_invocable)
    }

    /// The skills the model may invoke through the `Skill` tool.
    pub fn model_invocable(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values().filter(|s| !s.disable_model_invocation)
    }
}

fn load_skills(dir: &Path, scope: Scope, warnings: &mut Vec<Warning>) -> Vec<Skill> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for folder in dirs {
        let file = folder.join("SKILL.md");
        if !file.is_file() {
            continue;
        }
        let Some(name) = folder.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if let Some(skill) = read_skill(&file, &folder, name, Kind::Skill, scope, warnings) {
            out.push(skill);
        }
    }
    out
}

fn load_commands(dir: &Path, scope: Scope, warnings: &mut Vec<Warning>) -> Vec<Skill> {
    let mut files = Vec::new();
    collect_md(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(rel) = file.strip_prefix(dir) else {
            continue;
        };
        let name = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(":");
        let folder = file.parent().unwrap_or(dir).to_path_buf();
        if let Some(skill) = read_skill(&file, &folder, name, Kind::Command, scope, warnings) {
            out.push(skill);
        }
    }
    out
}

/// Markdown files under `dir`, at any depth, following Claude Code in
/// skipping hidden folders.
pub(crate) fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            collect_md(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The frontmatter keys Claude Code acts on (skills and commands) and the
/// Agent Skills spec fields it accepts without acting on them.
const KNOWN_KEYS: [&str; 20] = [
    "name",
    "description",
    "when_to_use",
    "argument-hint",
    "arguments",
    "disable-model-invocation",
    "user-invocable",
    "allowed-tools",
    "disallowed-tools",
    "model",
    "effort",
    "context",
    "agent",
    "background",
    "hooks",
    "paths",
    "shell",
    "metadata",
    "license",
    "compatibility",
];

fn read_skill(
    file: &Path,
    dir: &Path,
    name: String,
    kind: Kind,
    scope: Scope,
    warnings: &mut Vec<Warning>,
) -> Option<Skill> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(Warning::new(file, None, format!("cannot be read: {e}")));
            return None;
        }
    };
    let doc = Document::parse(&text);
    if let Some((line, message)) = &doc.error {
        warnings.push(Warning::new(
            file,
            Some(*line),
            format!("frontmatter is not valid YAML ({message}); the skill loads without it"),
        ));
    }
    let mut warn = |key: Option<&str>, message: String| {
        let line = key.and_then(|k| doc.line_of(k));
        warnings.push(Warning::new(file, line, message));
    };
    for (key, _) in &doc.fields {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            warn(Some(key), format!("unknown key `{key}` is ignored"));
        }
    }
    let context_raw = doc.str("context");
    let context = match context_raw.as_deref() {
        Some("fork") => Context::Fork,
        None | Some("inline") => Context::Inline,
        Some(other) => {
            warn(
                Some("context"),
                format!("`context: {other}` is not a Claude Code value; the skill runs inline"),
            );
            Context::Inline
        }
    };
    let mut description = doc.str("description").unwrap_or_default();
    if let Some(when) = doc.str("when_to_use") {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&when);
    }
    if description.is_empty() {
        description = first_paragraph(&doc.body).unwrap_or_default();
    }
    if description.chars().count() > DESCRIPTION_LIMIT {
        description = description.chars().take(DESCRIPTION_LIMIT).collect();
    }
    let bool_key = |key: &str, default: bool, warn: &mut dyn FnMut(Option<&str>, String)| match (
        doc.fields.get(key),
        doc.bool(key),
    ) {
        (None, _) => default,
        (Some(_), Some(b)) => b,
        (Some(v), None) => {
            warn(
                Some(key),
                format!("`{key}: {v}` is not a boolean; using {default}"),
            );
            default
        }
    };
    let disable_model_invocation = bool_key("disable-model-invocation", false, &mut warn);
    let user_invocable = bool_key("user-invocable", true, &mut warn);
    let arguments = doc.list("arguments");
    let hooks = doc.fields.get("hooks").cloned();
    if let Some(h) = &hooks
        && !h.is_object()
    {
        warn(Some("hooks"), "`hooks` must be a mapping of events".into());
    }
    Some(Skill {
        name,
        label: doc.str("name"),
        description,
        argument_hint: doc.str("argument-hint"),
        arguments,
        disable_model_invocation,
        user_invocable,
        allowed_tools: doc.list("allowed-tools"),
        disallowed_tools: doc.list("disallowed-tools"),
        model: doc.str("model"),
        context,
        context_raw,
        agent: doc.str("agent"),
        hooks: hooks.filter(Value::is_object),
        body: doc.body,
        source: file.to_path_buf(),
        dir: dir.to_path_buf(),
        kind,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn discovery_names_and_precedence() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let user = home.path();
        let p = project.path();
        write(
            p,
            ".claude/skills/daily/SKILL.md",
            "---\ncontext: fork\nmodel: haiku\n---\nWrite today's note.\n",
        );
        write(
            p,
            ".claude/commands/daily.md",
            "A command that loses to the skill.\n",
        );
        write(
            p,
            ".claude/commands/git/commit.md",
            "---\ndescription: Commit\n---\nCommit $ARGUMENTS\n",
        );
        write(
            p,
            ".claude/skills/adr/SKILL.md",
            "---\ndescription: project adr\n---\nx\n",
        );
        write(
            user,
            "skills/adr/SKILL.md",
            "---\ndescription: personal adr\n---\ny\n",
        );
        write(p, ".claude/skills/no-file/README.md", "not a skill\n");
        let set = SkillSet::load(user, p);
        let names: Vec<&str> = set.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["adr", "daily", "git:commit"]);
        assert_eq!(set.get("adr").unwrap().description, "personal adr");
        assert_eq!(set.get("adr").unwrap().scope, Scope::User);
        let daily = set.get("daily").unwrap();
        assert_eq!(daily.kind, Kind::Skill);
        assert_eq!(daily.context, Context::Fork);
        assert_eq!(daily.model.as_deref(), Some("haiku"));
        assert_eq!(daily.description, "Write today's note.");
        assert_eq!(set.shadowed.len(), 2);
        assert_eq!(set.get("git:commit").unwrap().kind, Kind::Command);
    }

    #[test]
    fn lenient_frontmatter_variants() {
        let project = tempfile::tempdir().unwrap();
        let p = project.path();
        write(
            p,
            ".claude/skills/meeting/SKILL.md",
            "---\nname: Meeting\ncontext: normal\nskill: meeting\ntags: [a]\narguments:\n  - name: title\n    description: The title\n    required: true\n  - name: project\ndisable-model-invocation: yes\nuser-invocable: off\nallowed-tools: Read, Write, Bash(git status *)\n---\n# Meeting\n\nCreate a meeting note.\n",
        );
        write(
            p,
            ".claude/skills/broken/SKILL.md",
            "---\ndescription: [oops\n---\nStill loads.\n",
        );
        write(
            p,
            ".claude/skills/ok/SKILL.md",
            "---\ndescription: fine\n---\nbody\n",
        );
        let set = SkillSet::load(&p.join("nohome"), p);
        assert_eq!(set.len(), 3);
        let m = set.get("meeting").unwrap();
        assert_eq!(m.context, Context::Inline);
        assert_eq!(m.arguments, ["title", "project"]);
        assert!(m.disable_model_invocation);
        assert!(!m.user_invocable);
        assert_eq!(m.allowed_tools, ["Read", "Write", "Bash(git status *)"]);
        assert_eq!(m.label.as_deref(), Some("Meeting"));
        assert_eq!(m.description, "Create a meeting note.");
        let broken = set.get("broken").unwrap();
        assert_eq!(broken.description, "Still loads.");
        let msgs: Vec<String> = set.warnings.iter().map(ToString::to_string).collect();
        assert!(
            msgs.iter()
                .any(|w| w.contains("broken/SKILL.md:") && w.contains("not valid YAML")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|w| w.contains("meeting/SKILL.md:4: unknown key `skill`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|w| w.contains("meeting/SKILL.md:3: `context: normal`")),
            "{msgs:?}"
        );
    }
}
