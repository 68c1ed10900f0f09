//! Claude Code's permission model: which tool calls run without asking,
//! which ask, and which are refused.
//!
//! # Sources
//! `permissions.allow`, `ask` and `deny` from every settings layer (they
//! merge), plus `--allowedTools` and `--disallowedTools`. Within a list all
//! rules are equal; lists are consulted deny, then ask, then allow, and the
//! first match decides.
//!
//! # Rules
//! `Tool` or `Tool(specifier)`; `Tool(*)` and `Tool()` are the bare tool, and
//! `Task(…)` is the old name of `Agent(…)`.
//! - `Bash(npm run *)`: `*` spans anything, spaces included; a trailing ` *`
//!   is a word boundary (`Bash(ls *)` matches `ls` and `ls -la`, not `lsof`);
//!   the legacy `Bash(git status:*)` means the same as `Bash(git status *)`.
//!   A command line is split into the simple commands that would run (at
//!   `&&`, `||`, `;`, `|`, `&`, newlines, and inside `$(…)`, backticks,
//!   `sh -c '…'`, `eval`, `xargs`, `find -exec`), respecting quotes. An allow
//!   needs every one of them allowed; a deny or ask needs any one. Deny and
//!   ask rules also see each command without quotes, environment
//!   assignments, `sudo`/`env`/`command`/`exec` and the program's directory,
//!   so `FOO=1 sudo /bin/rm -rf "x"` still meets `Bash(rm -rf *)`. Wrappers
//!   that run their argument unchanged (`timeout 30`, `nice`, `nohup`,
//!   `time`) are removed for allow rules too. A command line that cannot be
//!   read with certainty (an unclosed quote) is never allowed by a rule.
//!   A command that writes a file through `>`/`>>` is allowed only when an
//!   `Edit` of that file would be (a rule or acceptEdits).
//! - `Read(…)` and `Edit(…)` take gitignore-style paths: `//abs/path`,
//!   `~/in/home`, `/from/project` (the directory holding the settings file's
//!   `.claude/`; the cwd for flag rules), `./from/cwd` (anchored to the cwd),
//!   and bare `name` (from the cwd; without an inner `/` it matches at any
//!   depth). A pattern matching a directory covers what is inside. Paths are
//!   compared as the file system resolves them (symlinks and `..` followed;
//!   for a file not yet created, its nearest existing parent); deny and ask
//!   rules are also compared with the path as written. `Edit` rules govern
//!   `Write`, `MultiEdit` and `NotebookEdit`; `Read` rules govern `Glob`,
//!   `Grep` and `LS` (their `path`, the cwd when absent). Path rules written
//!   for those tools themselves are ignored with a warning ([`Permissions::warnings`]).
//! - `WebFetch(domain:example.com)` is that host only;
//!   `WebFetch(domain:*.example.com)` is its subdomains (any depth, not the
//!   apex); `domain:*` is every host. The host comes from WHATWG URL parsing.
//! - `Skill(deploy *)` matches the skill name plus its arguments;
//!   `Agent(Explore)` the `subagent_type`.
//! - `mcp__server` and `mcp__server__*` cover every tool of a server;
//!   `mcp__server__tool` one tool.
//! - `Tool(param:value)` (deny and ask only) matches an input field with a
//!   wildcard value; in allow it is ignored with a warning.
//!
//! # Defaults and modes
//! Without a matching rule, `Read`, `Glob`, `Grep`, `LS` are allowed inside
//! the working directory and the additional directories and ask outside;
//! the task tools (`TaskCreate`, `TaskUpdate`, `TaskList`, `TaskGet`,
//! `TodoWrite`), `AskUserQuestion` and `Agent` are allowed; everything else asks.
//! - `default`: as above.
//! - `acceptEdits`: also allows `Edit`/`Write`/`MultiEdit`/`NotebookEdit` of
//!   files inside the working directories, and `mkdir`, `touch`, `cp`, `mv`
//!   whose paths are all inside them. Deny and ask rules still apply first.
//! - `plan`: only read-only tools (the `read_only` argument of
//!   [`Permissions::decide`]); anything else is denied with a reason telling
//!   the model it is in plan mode.
//! - `bypassPermissions` (`--dangerously-skip-permissions`): everything is
//!   allowed except what deny rules forbid (ask rules do not ask). Refused when any settings layer
//!   sets `permissions.disableBypassPermissionsMode: "disable"`.
//! - Claude Code's `dontAsk` parses as [`Mode::Default`] with asking turned
//!   into refusing ([`Permissions::dont_ask`]): only pre-approved calls run.
//!   Its `auto` (approval by a background safety classifier, which this
//!   build does not have) parses as [`Mode::Default`], so those calls ask.
//!
//! # What decisions depend on
//! Only the rules, the mode and the tool call's own input. Nothing a tool
//! returns, no file's content and nothing the model writes can add a rule
//! or change the mode: the only ways to widen permissions are the settings
//! files, the flags, [`Permissions::add_allow_rule`] and
//! [`Permissions::set_mode`], which the front end calls on the user's word.

mod bash;
mod paths;
mod pattern;
mod rule;
mod shell;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use claude_config::{Config, FileKind};
use serde_json::{Map, Value};

use self::paths::Target;
use self::rule::{Anchors, Call, Compiled, EDIT_TOOLS, READ_TOOLS, covers, str_field};

pub use self::rule::{Rule, RuleList};

/// How much runs without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    #[default]
    Default,
    AcceptEdits,
    Plan,
    BypassPermissions,
}

impl Mode {
    /// Claude Code's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::AcceptEdits => "acceptEdits",
            Mode::Plan => "plan",
            Mode::BypassPermissions => "bypassPermissions",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = PermissionError;

    /// Claude Code's names. `dontAsk` and `auto` map to `default` (see the
    /// module docs); [`Permissions::from_config`] keeps `dontAsk`'s refusal.
    fn from_str(s: &str) -> Result<Mode, PermissionError> {
        match s.trim() {
            "default" => Ok(Mode::Default),
            "acceptEdits" => Ok(Mode::AcceptEdits),
            "plan" => Ok(Mode::Plan),
            "bypassPermissions" => Ok(Mode::BypassPermissions),
            "dontAsk" | "auto" => Ok(Mode::Default),
            other => Err(PermissionError::UnknownMode(other.to_string())),
        }
    }
}

/// The answer for one tool call. `rule` is the deciding rule as written
/// (several, comma-separated, when each part of a compound command was
/// allowed by a different rule); `None` when a default or the mode decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow {
        rule: Option<String>,
    },
    Ask {
        rule: Option<String>,
    },
    Deny {
        reason: String,
        rule: Option<String>,
    },
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    pub fn is_deny(&self) -> bool {
        matches!(self, Decision::Deny { .. })
    }

    pub fn rule(&self) -> Option<&str> {
        match self {
            Decision::Allow { rule } | Decision::Ask { rule } | Decision::Deny { rule, .. } => {
                rule.as_deref()
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PermissionError {
    #[error(
        "unknown permission mode `{0}`; expected default, acceptEdits, plan, bypassPermissions, dontAsk or auto"
    )]
    UnknownMode(String),
    #[error(
        "bypassPermissions mode is disabled by permissions.disableBypassPermissionsMode in {}",
        .file.display()
    )]
    BypassDisabled { file: PathBuf },
    #[error("invalid permission rule `{rule}`: {reason}")]
    InvalidRule { rule: String, reason: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", .path.display())]
    Settings { path: PathBuf, reason: String },
}

/// The command-line flags that bear on permissions.
#[derive(Debug, Clone, Default)]
pub struct PermissionFlags {
    /// `--allowedTools`: each entry may hold several rules, comma or space
    /// separated (`"Bash(git log:*),Read"`).
    pub allowed_tools: Vec<String>,
    /// `--disallowedTools`, likewise.
    pub disallowed_tools: Vec<String>,
    /// `--permission-mode`.
    pub mode: Option<String>,
    /// `--add-dir`, relative to the cwd.
    pub add_dirs: Vec<PathBuf>,
    /// `--dangerously-skip-permissions`: bypassPermissions mode.
    pub dangerously_skip_permissions: bool,
}

const ALLOWED_FLAG: &str = "--allowedTools";
const DISALLOWED_FLAG: &str = "--disallowedTools";

/// Tools that never need asking: they only touch the session's own state
/// (`Agent`, `Task` of old, as in Claude Code: the subagent's own calls are
/// checked against its permissions).
const ALWAYS_ALLOWED: [&str; 8] = [
    "TaskCreate",
    "TaskUpdate",
    "TaskList",
    "TaskGet",
    "TodoWrite",
    "AskUserQuestion",
    "Agent",
    "Task",
];

/// Programs acceptEdits mode runs without asking when every path they name
/// is inside the working directories.
const FILE_COMMANDS: [&str; 4] = ["mkdir", "touch", "cp", "mv"];

/// The session's permission state.
#[derive(Debug, Clone)]
pub struct Permissions {
    deny: Vec<Compiled>,
    ask: Vec<Compiled>,
    allow: Vec<Compiled>,
    mode: Mode,
    dont_ask: bool,
    /// The file whose `disableBypassPermissionsMode` forbids bypass.
    bypass_disabled_by: Option<PathBuf>,
    /// Whether Shift-Tab may reach bypassPermissions: only when the session
    /// started with it and no settings file disables it.
    bypass_available: bool,
    /// The cwd at start, which `./` rules and the working directory mean.
    cwd: PathBuf,
    /// The working directory and the additional directories, resolved.
    working_dirs: Vec<PathBuf>,
    additional_dirs: Vec<PathBuf>,
    home: Option<PathBuf>,
    warnings: Vec<String>,
}

impl Permissions {
    /// The permissions for a session started in `cwd` (absolute).
    pub fn from_config(
        cfg: &Config,
        cwd: &Path,
        flags: &PermissionFlags,
    ) -> Result<Permissions, PermissionError> {
        let merged = cfg.permissions();
        let home = home_dir(cfg);
        let cwd = paths::lexical(cwd);
        let managed: HashSet<&Path> = cfg
            .files()
            .iter()
            .filter(|f| f.kind == FileKind::ManagedSettings)
            .map(|f| f.path.as_path())
            .collect();

        let mode_text = if flags.dangerously_skip_permissions {
            "bypassPermissions".to_string()
        } else if let Some(mode) = &flags.mode {
            mode.clone()
        } else if let Some(mode) = &merged.default_mode {
            mode.value.clone()
        } else {
            "default".to_string()
        };
        let mode: Mode = mode_text.parse()?;
        let bypass_disabled_by = merged
            .disable_bypass_permissions_mode
            .as_ref()
            .map(|s| s.file.clone());
        if let (Mode::BypassPermissions, Some(file)) = (mode, &bypass_disabled_by) {
            return Err(PermissionError::BypassDisabled { file: file.clone() });
        }

        let mut perms = Permissions {
            deny: Vec::new(),
            ask: Vec::new(),
            allow: Vec::new(),
            mode,
            dont_ask: mode_text.trim() == "dontAsk",
            bypass_available: bypass_disabled_by.is_none() && mode == Mode::BypassPermissions,
            bypass_disabled_by,
            working_dirs: vec![paths::physical(&cwd)],
            additional_dirs: Vec::new(),
            cwd,
            home,
            warnings: Vec::new(),
        };

        let lists = [
            (
                RuleList::Deny,
                &merged.deny,
                &flags.disallowed_tools,
                DISALLOWED_FLAG,
            ),
            (RuleList::Ask, &merged.ask, &Vec::new(), ""),
            (
                RuleList::Allow,
                &merged.allow,
                &flags.allowed_tools,
                ALLOWED_FLAG,
            ),
        ];
        for (list, from_files, from_flags, flag) in lists {
            // Managed rules first, then flags, then the other files: the
            // settings precedence, which only matters for `/permissions`.
            let (managed_rules, other_rules): (Vec<_>, Vec<_>) = from_files
                .iter()
                .partition(|r| managed.contains(r.file.as_path()));
            for sourced in managed_rules {
                perms.push_rule(
                    &sourced.value,
                    list,
                    &sourced.file.display().to_string(),
                    &settings_root(&sourced.file),
                );
            }
            for text in from_flags.iter().flat_map(|t| split_rule_list(t)) {
                let root = perms.cwd.clone();
                perms.push_rule(&text, list, flag, &root);
            }
            for sourced in other_rules {
                perms.push_rule(
                    &sourced.value,
                    list,
                    &sourced.file.display().to_string(),
                    &settings_root(&sourced.file),
                );
            }
        }

        for dir in &merged.additional_directories {
            let root = settings_root(&dir.file);
            perms.add_directory_from(&dir.value, &root);
        }
        for dir in &flags.add_dirs {
            let root = perms.cwd.clone();
            perms.add_directory_from(&dir.to_string_lossy(), &root);
        }
        Ok(perms)
    }

    fn push_rule(&mut self, text: &str, list: RuleList, source: &str, rule_root: &Path) {
        let anchors = Anchors {
            rule_root,
            cwd: &self.cwd,
            home: self.home.as_deref(),
        };
        match rule::compile(text, list, source, &anchors, &mut self.warnings) {
            Ok(Some(compiled)) => self.list_mut(list).push(compiled),
            Ok(None) => {}
            Err(reason) => self.warnings.push(format!(
                "{list} rule `{text}` in {source} is invalid and ignored: {reason}"
            )),
        }
    }

    /// These permissions plus allow rules that hold for one skill
    /// invocation only (its `allow-tools`), and minus the tools it
    /// disallows (added as bare deny rules, which also take them out of the
    /// request). Nothing is saved. Invalid rules are returned as warnings.
    pub fn scoped(&self, allow: &[String], deny: &[String], source: &str) -> (Self, Vec<String>) {
        let mut scoped = self.clone();
        let before = scoped.warnings.len();
        let root = scoped.cwd.clone();
        for rule in allow {
            scoped.push_rule(rule, RuleList::Allow, source, &root);
        }
        for rule in deny {
            scoped.push_rule(rule, RuleList::Deny, source, &root);
        }
        let new = scoped.warnings.split_off(before);
        (scoped, new)
    }

    fn list_mut(&mut self, list: RuleList) -> &mut Vec<Compiled> {
        match list {
            RuleList::Allow => &mut self.allow,
            RuleList::Ask => &mut self.ask,
            RuleList::Deny => &mut self.deny,
        }
    }

    fn add_directory_from(&mut self, raw: &str, base: &Path) {
        let dir = paths::physical(&paths::expand(raw, base, self.home.as_deref()));
        if !dir.is_dir() {
            self.warnings.push(format!(
                "additional directory {} does not exist",
                dir.display()
            ));
        }
        if !self.working_dirs.contains(&dir) {
            self.working_dirs.push(dir.clone());
            self.additional_dirs.push(dir);
        }
    }

    /// `/add-dir`: one more directory the default read access and
    /// acceptEdits cover, relative to the session's cwd.
    pub fn add_directory(&mut self, dir: &Path) {
        let base = self.cwd.clone();
        self.add_directory_from(&dir.to_string_lossy(), &base);
    }

    /// The additional directories (`additionalDirectories`, `--add-dir`), resolved.
    pub fn additional_directories(&self) -> &[PathBuf] {
        &self.additional_dirs
    }

    /// Rules that were ignored or could not be read, one sentence each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every rule in effect, deny first, then ask, then allow.
    pub fn rules(&self) -> Vec<Rule> {
        self.deny
            .iter()
            .chain(&self.ask)
            .chain(&self.allow)
            .map(|c| c.rule.clone())
            .collect()
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// True in Claude Code's `dontAsk` mode: what would ask is refused.
    pub fn dont_ask(&self) -> bool {
        self.dont_ask
    }

    pub fn set_dont_ask(&mut self, on: bool) {
        self.dont_ask = on;
    }

    /// Changes the mode; bypassPermissions is refused when a settings file
    /// disables it.
    pub fn set_mode(&mut self, mode: Mode) -> Result<(), PermissionError> {
        if mode == Mode::BypassPermissions {
            if let Some(file) = &self.bypass_disabled_by {
                return Err(PermissionError::BypassDisabled { file: file.clone() });
            }
            self.bypass_available = true;
        }
        self.mode = mode;
        Ok(())
    }

    /// Shift-Tab: default → acceptEdits → plan → (bypassPermissions, when
    /// the session started in it and it is not disabled) → default.
    pub fn cycle_mode(&mut self) -> Mode {
        self.mode = match self.mode {
            Mode::Default => Mode::AcceptEdits,
            Mode::AcceptEdits => Mode::Plan,
            Mode::Plan if self.bypass_available && self.bypass_disabled_by.is_none() => {
                Mode::BypassPermissions
            }
            Mode::Plan | Mode::BypassPermissions => Mode::Default,
        };
        self.mode
    }

    /// A bare deny (`Bash`, `mcp__server`, `Edit`) takes the tool out of the
    /// request altogether. `Edit` also removes the other file-editing tools
    /// and `Read` the other file-reading ones, as their calls would all be
    /// refused.
    pub fn tool_removed(&self, tool: &str) -> bool {
        self.deny
            .iter()
            .any(|r| r.is_bare() && covers(&r.rule.tool, tool))
    }

    /// Decides one call. `read_only` is the tool's own declaration (plan
    /// mode runs only those); `cwd` is the session's current directory, for
    /// relative paths in the input.
    pub fn decide(&self, tool: &str, input: &Value, read_only: bool, cwd: &Path) -> Decision {
        if tool == "Bash" {
            return self.decide_bash(str_field(input, "command").unwrap_or(""), read_only, cwd);
        }
        let target = self.target(tool, input, cwd);
        let call = Call {
            tool,
            input,
            target: target.as_ref(),
        };
        if let Some(rule) = self.deny.iter().find(|r| r.matches(&call, false)) {
            return denied_by(tool, rule, &subject(tool, input));
        }
        if self.mode == Mode::Plan && !read_only {
            return plan_denial(tool);
        }
        if self.mode == Mode::BypassPermissions {
            return Decision::Allow { rule: None };
        }
        if let Some(rule) = self.ask.iter().find(|r| r.matches(&call, false)) {
            return Decision::Ask {
                rule: Some(rule.rule.to_string()),
            };
        }
        if let Some(rule) = self.allow.iter().find(|r| r.matches(&call, true)) {
            return Decision::Allow {
                rule: Some(rule.rule.to_string()),
            };
        }
        if ALWAYS_ALLOWED.contains(&tool) {
            return Decision::Allow { rule: None };
        }
        let inside = target.as_ref().is_some_and(|t| self.inside_working_dirs(t));
        if READ_TOOLS.iter().any(|(t, _)| *t == tool) && inside {
            return Decision::Allow { rule: None };
        }
        if self.mode == Mode::AcceptEdits && EDIT_TOOLS.iter().any(|(t, _)| *t == tool) && inside {
            return Decision::Allow { rule: None };
        }
        self.unapproved(tool)
    }

    fn decide_bash(&self, command: &str, read_only: bool, cwd: &Path) -> Decision {
        let (parts, complete) = bash::analyse(command);
        let whole = pattern::collapse_whitespace(command);
        let hits = |rule: &Compiled| {
            rule.is_bare()
                || parts
                    .iter()
                    .any(|p| p.deny_forms.iter().any(|f| rule.matches_command(f)))
                || (!complete && rule.matches_command(&whole))
        };
        if let Some(rule) = bash_rules(&self.deny).into_iter().find(|r| hits(r)) {
            return denied_by("Bash", rule, &whole);
        }
        if self.mode == Mode::Plan && !read_only {
            return plan_denial("Bash");
        }
        if self.mode == Mode::BypassPermissions {
            return Decision::Allow { rule: None };
        }
        if let Some(rule) = bash_rules(&self.ask).into_iter().find(|r| hits(r)) {
            return Decision::Ask {
                rule: Some(rule.rule.to_string()),
            };
        }
        let allow = bash_rules(&self.allow);
        if let Some(rule) = allow.iter().find(|r| r.is_bare()) {
            return Decision::Allow {
                rule: Some(rule.rule.to_string()),
            };
        }
        if !complete || parts.is_empty() {
            return self.unapproved("Bash");
        }
        let mut used: Vec<String> = Vec::new();
        for part in &parts {
            let by_rule = allow
                .iter()
                .find(|r| part.allow_forms.iter().any(|f| r.matches_command(f)));
            let writes_ok = part.writes.iter().all(|w| self.redirect_allowed(w, cwd));
            match by_rule {
                Some(rule) if writes_ok => {
                    let text = rule.rule.to_string();
                    if !used.contains(&text) {
                        used.push(text);
                    }
                }
                None if writes_ok && self.file_command_allowed(&part.argv, cwd) => {}
                _ => return self.unapproved("Bash"),
            }
        }
        Decision::Allow {
            rule: (!used.is_empty()).then(|| used.join(", ")),
        }
    }

    /// What acceptEdits runs without asking: `mkdir`/`touch`/`cp`/`mv` whose
    /// every path is a plain word inside the working directories that may
    /// be edited and is not read-denied.
    fn file_command_allowed(&self, argv: &[String], cwd: &Path) -> bool {
        if self.mode != Mode::AcceptEdits {
            return false;
        }
        let Some((program, args)) = argv.split_first() else {
            return false;
        };
        if !FILE_COMMANDS.contains(&program.as_str()) {
            return false;
        }
        let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        !paths.is_empty()
            && paths.iter().all(|p| {
                plain_path(p) && {
                    let target = Target::resolve(p, cwd, self.home.as_deref());
                    self.edit_allowed(&target) && !self.read_denied(&target)
                }
            })
    }

    /// Whether `> file` in a command may write `file`: as an `Edit` would be.
    fn redirect_allowed(&self, raw: &str, cwd: &Path) -> bool {
        plain_path(raw) && self.edit_allowed(&Target::resolve(raw, cwd, self.home.as_deref()))
    }

    fn edit_allowed(&self, target: &Target) -> bool {
        let call = Call {
            tool: "Edit",
            input: &Value::Null,
            target: Some(target),
        };
        if self
            .deny
            .iter()
            .chain(&self.ask)
            .any(|r| r.matches(&call, false))
        {
            return false;
        }
        self.mode == Mode::BypassPermissions
            || self.allow.iter().any(|r| r.matches(&call, true))
            || (self.mode == Mode::AcceptEdits && self.inside_working_dirs(target))
    }

    fn read_denied(&self, target: &Target) -> bool {
        let call = Call {
            tool: "Read",
            input: &Value::Null,
            target: Some(target),
        };
        self.deny.iter().any(|r| r.matches(&call, false))
    }

    fn inside_working_dirs(&self, target: &Target) -> bool {
        self.working_dirs
            .iter()
            .any(|dir| paths::within(&target.physical, dir))
    }

    /// The path a file tool's call touches; the search tools default to the cwd.
    /// For Glob, the directory part of the pattern counts too, so
    /// `{"pattern": "/etc/**"}` or `"../other/*"` is a read of that directory.
    fn target(&self, tool: &str, input: &Value, cwd: &Path) -> Option<Target> {
        let (_, field) = EDIT_TOOLS
            .iter()
            .chain(READ_TOOLS.iter())
            .find(|(t, _)| *t == tool)?;
        let raw = str_field(input, field).filter(|s| !s.trim().is_empty());
        let raw = match (raw, tool) {
            (Some(raw), _) => raw,
            (None, "Glob" | "Grep" | "LS") => ".",
            (None, _) => return None,
        };
        let home = self.home.as_deref();
        if tool == "Glob"
            && let Some(prefix) = str_field(input, "pattern").map(literal_prefix)
            && !prefix.is_empty()
        {
            let base = paths::expand(raw, cwd, home);
            let full = paths::expand(&prefix, &base, home);
            return Some(Target::resolve(&full.to_string_lossy(), cwd, home));
        }
        Some(Target::resolve(raw, cwd, home))
    }

    fn unapproved(&self, tool: &str) -> Decision {
        if self.dont_ask {
            Decision::Deny {
                reason: format!(
                    "Permission to use {tool} was not granted: this session does not ask (dontAsk mode) and no permissions.allow rule covers this call."
                ),
                rule: None,
            }
        } else {
            Decision::Ask { rule: None }
        }
    }

    /// "Yes, don't ask again": appends `rule` to
    /// `<project_root>/.claude/settings.local.json` `permissions.allow`
    /// (creating the file, keeping every other key, replacing the file
    /// atomically) and applies it to this session. Returns the file.
    pub fn add_allow_rule(
        &mut self,
        rule: &str,
        project_root: &Path,
    ) -> Result<PathBuf, PermissionError> {
        let rule = rule.trim();
        let (tool, specifier) =
            rule::split(rule).map_err(|reason| PermissionError::InvalidRule {
                rule: rule.to_string(),
                reason,
            })?;
        let path = project_root.join(".claude").join("settings.local.json");
        let mut root = match fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Map::new(),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(settings_error(&path, "expected a JSON object")),
                Err(e) => {
                    return Err(settings_error(
                        &path,
                        &format!("not valid JSON ({e}); not changed"),
                    ));
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Map::new(),
            Err(source) => return Err(PermissionError::Io { path, source }),
        };
        let permissions = root
            .entry("permissions")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(permissions) = permissions else {
            return Err(settings_error(
                &path,
                "`permissions` is not an object; not changed",
            ));
        };
        let allow = permissions
            .entry("allow")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(allow) = allow else {
            return Err(settings_error(
                &path,
                "`permissions.allow` is not a list; not changed",
            ));
        };
        if !allow.iter().any(|v| v.as_str() == Some(rule)) {
            allow.push(Value::String(rule.to_string()));
            let mut text = serde_json::to_string_pretty(&Value::Object(root))
                .map_err(|e| settings_error(&path, &e.to_string()))?;
            text.push('\n');
            write_atomically(&path, &text)?;
        }
        let source = path.display().to_string();
        let already = self.allow.iter().any(|c| {
            c.rule.source == source && c.rule.tool == tool && c.rule.specifier == specifier
        });
        if !already {
            self.push_rule(rule, RuleList::Allow, &source, project_root);
        }
        Ok(path)
    }
}

/// The rules of a list that can apply to Bash.
fn bash_rules(list: &[Compiled]) -> Vec<&Compiled> {
    list.iter()
        .filter(|r| covers(&r.rule.tool, "Bash"))
        .collect()
}

/// `..` from the settings file: the directory holding its `.claude/`, or
/// the file's own directory for files elsewhere (managed settings,
/// `CLAUDE_CONFIG_DIR`).
fn settings_root(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("/"));
    if dir.file_name().is_some_and(|n| n == ".claude") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// `HOME` as the session sees it, else the parent of a `~/.claude` user dir.
fn home_dir(cfg: &Config) -> Option<PathBuf> {
    if let Some(home) = cfg.env().get("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    let user_dir = cfg.user_dir();
    user_dir
        .file_name()
        .is_some_and(|n| n == ".claude")
        .then(|| user_dir.parent().map(Path::to_path_buf))
        .flatten()
}

/// `"Bash(git log:*),Read Edit"` → three rules: commas and spaces separate,
/// except inside parentheses.
fn split_rule_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                current.push(c);
                continue;
            }
            '\\' => {
                escaped = true;
                current.push(c);
                continue;
            }
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' | ' ' | '\t' | '\n' if depth == 0 => {
                if !current.trim().is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The leading directories of a glob pattern, up to the first component
/// with a wildcard: `/etc/**/x` → `/etc`, `**/*.rs` → empty.
fn literal_prefix(pattern: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for (i, part) in pattern.split('/').enumerate() {
        if part.contains(['*', '?', '[', '{']) {
            break;
        }
        if i == 0 && part.is_empty() {
            out.push("");
            continue;
        }
        out.push(part);
    }
    match out.as_slice() {
        [""] => "/".to_string(),
        _ => out.join("/"),
    }
}

/// A path a command names that can be judged without running a shell:
/// no expansion, globbing or `~user`.
fn plain_path(raw: &str) -> bool {
    !raw.is_empty()
        && !raw.contains(['$', '`', '*', '?', '[', '{'])
        && (!raw.starts_with('~') || raw == "~" || raw.starts_with("~/"))
}

/// What a call is about, for reasons.
fn subject(tool: &str, input: &Value) -> String {
    let field = match tool {
        "WebFetch" => "url",
        "Agent" | "Task" => "subagent_type",
        "Skill" => "skill",
        _ => EDIT_TOOLS
            .iter()
            .chain(READ_TOOLS.iter())
            .find(|(t, _)| *t == tool)
            .map_or("", |(_, f)| *f),
    };
    str_field(input, field).unwrap_or_default().to_string()
}

fn denied_by(tool: &str, rule: &Compiled, subject: &str) -> Decision {
    let what = if subject.is_empty() {
        String::new()
    } else {
        format!(" for `{subject}`")
    };
    Decision::Deny {
        reason: format!(
            "Permission to use {tool}{what} has been denied by the rule {}. Do not try to work around this rule; if the task needs it, tell the user.",
            rule.describe()
        ),
        rule: Some(rule.rule.to_string()),
    }
}

fn plan_denial(tool: &str) -> Decision {
    Decision::Deny {
        reason: format!(
            "Plan mode is on, so {tool} is not available: only read-only tools may run. Keep researching with read-only tools, then present your plan to the user for approval (ExitPlanMode) before making any changes."
        ),
        rule: None,
    }
}

fn settings_error(path: &Path, reason: &str) -> PermissionError {
    PermissionError::Settings {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes through a temporary file in the same directory and a rename, so a
/// crash never leaves half a settings file. A symlinked file is updated at
/// its target; an existing file's permissions are kept.
fn write_atomically(path: &Path, text: &str) -> Result<(), PermissionError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PermissionError::Io { path, source }
    };
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(io(path))?,
        _ => path.to_path_buf(),
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(text.as_bytes()).map_err(io(&target))?;
    if let Ok(meta) = fs::metadata(&target) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(io(&target))?;
    }
    tmp.as_file().sync_all().map_err(io(&target))?;
    tmp.persist(&target).map_err(|e| PermissionError::Io {
        path: target.clone(),
        source: e.error,
    })?;
    Ok(())
}
