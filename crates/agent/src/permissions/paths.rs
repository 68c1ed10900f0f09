//! Paths for `Read(…)`/`Edit(…)` rules and the working-directory checks:
//! resolving what a tool input names, and gitignore-style patterns.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// A path named in a tool input, in the two forms checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Absolute, with `.` and `..` removed as text.
    pub lexical: PathBuf,
    /// What the file system would open: symlinks and `..` resolved for the
    /// part that exists, the rest (a file about to be created) appended.
    pub physical: PathBuf,
    pub is_dir: bool,
}

impl Target {
    /// `raw` as a tool would resolve it: `~/` from `home`, relative to `cwd`.
    pub(crate) fn resolve(raw: &str, cwd: &Path, home: Option<&Path>) -> Target {
        let joined = expand(raw, cwd, home);
        let physical = physical(&joined);
        Target {
            lexical: lexical(&joined),
            is_dir: physical.is_dir(),
            physical,
        }
    }

    /// Both forms, deduplicated: what deny and ask rules look at, so a rule
    /// matches however the path is reached.
    pub(crate) fn forms(&self) -> Vec<&Path> {
        if self.lexical == self.physical {
            vec![&self.physical]
        } else {
            vec![&self.physical, &self.lexical]
        }
    }
}

/// `~`, `~/x`, absolute, or relative to `base`.
pub(crate) fn expand(raw: &str, base: &Path, home: Option<&Path>) -> PathBuf {
    match (raw, home) {
        ("~", Some(home)) => home.to_path_buf(),
        (r, Some(home)) if r.starts_with("~/") => home.join(&r[2..]),
        (r, _) => base.join(r),
    }
}

/// Removes `.` and resolves `..` textually.
pub(crate) fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                // `/..` is `/`; a relative path keeps leading `..`s.
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The longest existing prefix canonicalised (so symlinks and `..` go where
/// the OS would go), then the rest with `..` removed textually.
pub(crate) fn physical(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let mut existing = path.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    while let Some(name) = existing.file_name().map(|n| n.to_os_string()) {
        // `file_name` is None for a trailing `..`, which stops the walk; the
        // lexical fallback below handles that.
        rest.push(name);
        existing.pop();
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return lexical(&out);
        }
    }
    lexical(path)
}

/// True when `path` is `dir` or inside it.
pub(crate) fn within(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

/// A `Read(…)`/`Edit(…)` specifier compiled against its base directory.
///
/// Gitignore semantics: a pattern with no `/` except a trailing one matches
/// a name at any depth below the base; one with a `/` is anchored to the
/// base; a trailing `/` matches directories only; a pattern that matches a
/// directory also covers everything inside it.
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    /// The base directory, as written and resolved (both, so either way of
    /// reaching a file is checked).
    bases: Vec<PathBuf>,
    glob: GlobMatcher,
    dir_only: bool,
}

impl PathPattern {
    /// `spec` with its anchor: `//abs`, `~/in-home`, `/from-settings-root`,
    /// `./from-cwd` or a bare pattern (from the cwd).
    pub(crate) fn new(
        spec: &str,
        rule_root: &Path,
        cwd: &Path,
        home: Option<&Path>,
    ) -> Result<PathPattern, String> {
        let (base, pattern, anchored): (PathBuf, &str, bool) =
            if let Some(rest) = spec.strip_prefix("//") {
                (PathBuf::from("/"), rest, true)
            } else if let Some(rest) = spec.strip_prefix("~/") {
                let home = home.ok_or("the home directory is unknown")?;
                (home.to_path_buf(), rest, true)
            } else if spec == "~" {
                let home = home.ok_or("the home directory is unknown")?;
                (home.to_path_buf(), "", true)
            } else if let Some(rest) = spec.strip_prefix('/') {
                (rule_root.to_path_buf(), rest, true)
            } else if let Some(rest) = spec.strip_prefix("./") {
                (cwd.to_path_buf(), rest, true)
            } else {
                let inner_slash = spec.trim_end_matches('/').contains('/');
                (cwd.to_path_buf(), spec, inner_slash)
            };
        let dir_only = pattern.ends_with('/');
        let pattern = pattern.trim_end_matches('/');
        let glob_text = if pattern.is_empty() {
            "**".to_string()
        } else if anchored {
            pattern.to_string()
        } else {
            format!("**/{pattern}")
        };
        let glob = GlobBuilder::new(&glob_text)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| e.kind().to_string())?
            .compile_matcher();
        let mut bases = vec![lexical(&base)];
        let resolved = physical(&base);
        if resolved != bases[0] {
            bases.push(resolved);
        }
        Ok(PathPattern {
            bases,
            glob,
            dir_only: dir_only && !pattern.is_empty(),
        })
    }

    pub(crate) fn matches(&self, path: &Path, is_dir: bool) -> bool {
        self.bases.iter().any(|base| {
            let Ok(relative) = path.strip_prefix(base) else {
                return false;
            };
            let parts: Vec<_> = relative.components().collect();
            if parts.is_empty() {
                // The base itself: only a whole-base pattern covers it.
                return self.glob.is_match("") && !self.dir_only;
            }
            (1..=parts.len()).any(|n| {
                let last = n == parts.len();
                if last && self.dir_only && !is_dir {
                    return false;
                }
                let prefix: PathBuf = parts[..n].iter().collect();
                self.glob.is_match(&prefix)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_resolves_dots() {
        assert_eq!(lexical(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(lexical(Path::new("/a/../../etc")), PathBuf::from("/etc"));
    }

    #[cfg(unix)]
    #[test]
    fn physical_follows_symlinks_and_keeps_missing_tails() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        assert_eq!(physical(&root.join("link/sub")), root.join("real/sub"));
        assert_eq!(
            physical(&root.join("link/new/file.md")),
            root.join("real/new/file.md")
        );
        // `..` after a symlink goes to the link target's parent, as the OS does.
        assert_eq!(physical(&root.join("link/sub/../../x")), root.join("x"));
    }

    fn pattern(spec: &str) -> PathPattern {
        PathPattern::new(
            spec,
            Path::new("/proj"),
            Path::new("/proj/cwd"),
            Some(Path::new("/home/u")),
        )
        .unwrap()
    }

    #[test]
    fn anchors_and_gitignore_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("//etc/passwd", "/etc/passwd", true),
            ("//etc/**", "/etc/ssh/sshd_config", true),
            ("//etc", "/etc/hosts", true),
            ("~/.ssh/**", "/home/u/.ssh/id_rsa", true),
            ("~/.ssh/**", "/home/other/.ssh/id_rsa", false),
            ("/src/**", "/proj/src/a/b.rs", true),
            ("/src/**", "/proj/cwd/src/a.rs", false),
            ("./.env", "/proj/cwd/.env", true),
            ("./.env", "/proj/cwd/sub/.env", false),
            (".env", "/proj/cwd/sub/.env", true),
            (".env", "/proj/.env", false),
            ("*.pem", "/proj/cwd/a/b/key.pem", true),
            ("secrets", "/proj/cwd/secrets/x/y", true),
            ("secrets/", "/proj/cwd/secrets/x", true),
            ("docs/*.md", "/proj/cwd/docs/a.md", true),
            ("docs/*.md", "/proj/cwd/docs/a/b.md", false),
            ("docs/*.md", "/proj/cwd/x/docs/a.md", false),
            ("**", "/proj/cwd/anything", true),
            ("src/**/*.{ts,tsx}", "/proj/cwd/src/a/b.tsx", true),
        ];
        for (spec, path, want) in cases {
            assert_eq!(
                pattern(spec).matches(Path::new(path), false),
                *want,
                "{spec} vs {path}"
            );
        }
        // A trailing slash is for directories only.
        assert!(!pattern("secrets/").matches(Path::new("/proj/cwd/secrets"), false));
        assert!(pattern("secrets/").matches(Path::new("/proj/cwd/secrets"), true));
    }
}
