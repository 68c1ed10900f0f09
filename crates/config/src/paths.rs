//! Where the user and project configuration live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::options::{LoadOptions, Scope};

pub(crate) const CONFIG_FILE: &str = "config.toml";
pub(crate) const SETTINGS_FILE: &str = "settings.json";
pub(crate) const LOCAL_SETTINGS_FILE: &str = "settings.local.json";
const DOT_CLAUDE: &str = ".claude";
const MANAGED_SETTINGS_FILE: &str = "managed-settings.json";

/// Names a directory holding `managed-settings.json` to use instead of the
/// platform's, for tests and for trying a policy out before deploying it.
pub const MANAGED_SETTINGS_DIR_VAR: &str = "CLAUDE_MANAGED_SETTINGS_DIR";

/// The managed policy file: `platform_dir`'s `managed-settings.json` when it
/// exists, otherwise the one in [`MANAGED_SETTINGS_DIR_VAR`]'s directory
/// (relative to `cwd`) when that is set. A deployed policy therefore always
/// wins: the variable can add a policy where there is none, never replace
/// or remove one.
pub fn managed_settings_file(
    platform_dir: &Path,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> PathBuf {
    let deployed = platform_dir.join(MANAGED_SETTINGS_FILE);
    match env.get(MANAGED_SETTINGS_DIR_VAR).filter(|d| !d.is_empty()) {
        Some(dir) if !deployed.exists() => cwd.join(dir).join(MANAGED_SETTINGS_FILE),
        _ => deployed,
    }
}

#[derive(Debug)]
pub(crate) struct Paths {
    pub(crate) user_dir: PathBuf,
    pub(crate) project_root: PathBuf,
    /// `<root>/.claude`, or `None` when that is the user dir itself (working
    /// in the home directory): its files would otherwise be read twice, once
    /// with project precedence.
    pub(crate) project_dir: Option<PathBuf>,
}

impl Paths {
    pub(crate) fn resolve(opts: &LoadOptions) -> Result<Paths, ConfigError> {
        let user_dir = user_dir(opts)?;
        let project_root = project_root(&opts.cwd, &user_dir, opts.home.as_deref());
        let dot_claude = project_root.join(DOT_CLAUDE);
        let project_dir = (!same_path(&dot_claude, &user_dir)).then_some(dot_claude);
        Ok(Paths {
            user_dir,
            project_root,
            project_dir,
        })
    }

    /// The file `set_value` edits. Always the scope's own path, even when the
    /// project dir is the user dir, so the reported path is what was asked for.
    pub(crate) fn config_file(&self, scope: Scope) -> PathBuf {
        match scope {
            Scope::User => self.user_dir.join(CONFIG_FILE),
            Scope::Project => self.project_root.join(DOT_CLAUDE).join(CONFIG_FILE),
        }
    }
}

fn user_dir(opts: &LoadOptions) -> Result<PathBuf, ConfigError> {
    if let Some(dir) = opts.env.get("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(opts.cwd.join(dir));
    }
    match &opts.home {
        Some(home) => Ok(home.join(DOT_CLAUDE)),
        None => Err(ConfigError::Io {
            path: PathBuf::from("~").join(DOT_CLAUDE),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the home directory is unknown; set CLAUDE_CONFIG_DIR to the directory that should \
                 hold config.toml and settings.json",
            ),
        }),
    }
}

/// The nearest ancestor with a `.claude/` directory or a `.git` entry (a file
/// in worktrees). The home directory's `.claude` is the user dir, so it does
/// not make home a project.
fn project_root(cwd: &Path, user_dir: &Path, home: Option<&Path>) -> PathBuf {
    for dir in cwd.ancestors() {
        let dot_claude = dir.join(DOT_CLAUDE);
        let is_user_dir =
            same_path(&dot_claude, user_dir) || home.is_some_and(|h| same_path(dir, h));
        if (dot_claude.is_dir() && !is_user_dir) || dir.join(".git").exists() {
            return dir.to_path_buf();
        }
    }
    cwd.to_path_buf()
}

/// Compares through symlinks (`/var` → `/private/var` on macOS) when both
/// paths exist.
fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn opts(home: &Path, cwd: &Path) -> LoadOptions {
        LoadOptions {
            home: Some(home.to_path_buf()),
            cwd: cwd.to_path_buf(),
            ..LoadOptions::default()
        }
    }

    #[test]
    fn user_dir_defaults_to_home_dot_claude() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::resolve(&opts(tmp.path(), tmp.path())).unwrap();
        assert_eq!(paths.user_dir, tmp.path().join(".claude"));
        assert_eq!(
            paths.config_file(Scope::User),
            tmp.path().join(".claude/config.toml")
        );
    }

    #[test]
    fn claude_config_dir_wins_unless_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path(), tmp.path());
        o.env = BTreeMap::from([("CLAUDE_CONFIG_DIR".into(), "/etc/cc".into())]);
        assert_eq!(
            Paths::resolve(&o).unwrap().user_dir,
            PathBuf::from("/etc/cc")
        );
        o.env.insert("CLAUDE_CONFIG_DIR".into(), "rel".into());
        assert_eq!(Paths::resolve(&o).unwrap().user_dir, tmp.path().join("rel"));
        o.env.insert("CLAUDE_CONFIG_DIR".into(), String::new());
        assert_eq!(
            Paths::resolve(&o).unwrap().user_dir,
            tmp.path().join(".claude")
        );
    }

    #[test]
    fn managed_dir_variable_adds_a_policy_but_never_replaces_one() {
        let tmp = tempfile::tempdir().unwrap();
        let platform = tmp.path().join("etc/claude-code");
        let mut env = BTreeMap::new();
        let file =
            |env: &BTreeMap<String, String>| managed_settings_file(&platform, env, tmp.path());
        assert_eq!(file(&env), platform.join("managed-settings.json"));
        env.insert(MANAGED_SETTINGS_DIR_VAR.into(), "policy".into());
        assert_eq!(file(&env), tmp.path().join("policy/managed-settings.json"));
        env.insert(MANAGED_SETTINGS_DIR_VAR.into(), String::new());
        assert_eq!(file(&env), platform.join("managed-settings.json"));

        fs::create_dir_all(&platform).unwrap();
        fs::write(platform.join("managed-settings.json"), "{}").unwrap();
        env.insert(MANAGED_SETTINGS_DIR_VAR.into(), "/elsewhere".into());
        assert_eq!(file(&env), platform.join("managed-settings.json"));
    }

    #[test]
    fn no_home_and_no_config_dir_is_an_actionable_error() {
        let o = LoadOptions {
            cwd: "/".into(),
            ..LoadOptions::default()
        };
        let err = Paths::resolve(&o).unwrap_err();
        assert!(err.to_string().contains("CLAUDE_CONFIG_DIR"), "{err}");
    }

    #[test]
    fn project_root_is_nearest_marker() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let repo = home.join("work/repo");
        let deep = repo.join("src/deep");
        fs::create_dir_all(&deep).unwrap();
        fs::create_dir_all(home.join(".claude")).unwrap();
        fs::write(repo.join(".git"), "gitdir: elsewhere").unwrap();
        let paths = Paths::resolve(&opts(&home, &deep)).unwrap();
        assert_eq!(paths.project_root, repo);
        assert_eq!(paths.project_dir, Some(repo.join(".claude")));
        assert_eq!(
            paths.config_file(Scope::Project),
            repo.join(".claude/config.toml")
        );

        fs::create_dir_all(repo.join("src/.claude")).unwrap();
        assert_eq!(
            Paths::resolve(&opts(&home, &deep)).unwrap().project_root,
            repo.join("src")
        );
        assert_eq!(
            Paths::resolve(&opts(&home, &repo)).unwrap().project_root,
            repo
        );
    }

    #[test]
    fn home_dot_claude_is_not_a_project() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let notes = home.join("notes");
        fs::create_dir_all(&notes).unwrap();
        fs::create_dir_all(home.join(".claude")).unwrap();
        let paths = Paths::resolve(&opts(&home, &notes)).unwrap();
        assert_eq!(paths.project_root, notes);

        let at_home = Paths::resolve(&opts(&home, &home)).unwrap();
        assert_eq!(at_home.project_root, home);
        assert_eq!(at_home.project_dir, None);
    }

    #[test]
    fn custom_user_dir_is_not_a_project_either() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("a/b");
        fs::create_dir_all(&cwd).unwrap();
        fs::create_dir_all(tmp.path().join("a/.claude")).unwrap();
        let mut o = opts(&tmp.path().join("home"), &cwd);
        o.env.insert(
            "CLAUDE_CONFIG_DIR".into(),
            tmp.path().join("a/.claude").display().to_string(),
        );
        assert_eq!(Paths::resolve(&o).unwrap().project_root, cwd);
    }
}
