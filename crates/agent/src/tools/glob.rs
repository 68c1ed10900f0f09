//! `Glob`: files whose path matches a glob pattern, newest first, with
//! `.gitignore` honoured.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use globset::{GlobBuilder, GlobMatcher};
use ignore::{WalkBuilder, WalkState};
use serde_json::{Value, json};

use super::common::{self, Collector, Res};
use super::{Tool, ToolCtx, ToolOutput};

/// Paths returned in one call.
pub const MAX_RESULTS: usize = 100;

pub struct GlobTool;

const DESCRIPTION: &str = "Fast file pattern matching tool that works with any codebase size.

- Supports glob patterns like \"**/*.js\" or \"src/**/*.ts\": `*` matches within one path segment, `**` across folders, `?` one character, `[abc]` a class and `{a,b}` alternatives.
- A pattern without `/` matches file names at any depth (\"*.md\" finds every Markdown file); a pattern with `/` matches the path relative to the search folder (\"docs/*.md\" only directly inside docs/).
- Returns absolute paths of matching files sorted by modification time, newest first, at most 100 (the result says when there were more).
- Files ignored by .gitignore (and .ignore) are skipped; hidden files are included; .git is never listed.
- Use this tool when you need to find files by name patterns. For searching file contents, use Grep.
- You can call several tools in one response: it is often better to run several searches together.";

impl Tool for GlobTool {
    fn name(&self) -> &'static str {
        "Glob"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "The glob pattern to match files against"},
                "path": {"type": "string", "description": "The directory to search in. If not specified, the current working directory will be used. IMPORTANT: Omit this field to use the default directory. DO NOT enter \"undefined\" or \"null\" - simply omit it for the default behavior. Must be a valid directory path if provided."}
            },
            "required": ["pattern"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        common::pattern_in_path(input)
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(run(input, ctx).await) })
    }
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let pattern = common::req_str(&input, "Glob", "pattern")?
        .trim()
        .to_string();
    if pattern.is_empty() {
        return Err(ToolOutput::error(
            "Glob: `pattern` is empty; give a glob such as \"**/*.md\".",
        ));
    }
    let root = match common::opt_str(&input, "Glob", "path")? {
        Some(p) => common::resolve(ctx, p),
        None => ctx.cwd(),
    };
    common::blocking(move || {
        let found = search(&root, &pattern)?;
        Ok(format_result(&found))
    })
    .await
}

/// The files found, newest first, and how many matched in all.
pub struct Found {
    pub paths: Vec<PathBuf>,
    pub total: usize,
}

/// Finds files under `root` matching `pattern`, newest first, capped at
/// [`MAX_RESULTS`].
pub fn search(root: &Path, pattern: &str) -> Res<Found> {
    // An absolute pattern is matched as a path below its own root, never by name.
    let by_name = !pattern.starts_with('/') && !pattern.contains('/');
    let (root, pattern) = split_absolute(root, pattern);
    match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(ToolOutput::error(format!(
                "Path is not a directory: {}. Glob searches a directory; to check one file, use Read.",
                root.display()
            )));
        }
        Err(_) => {
            return Err(ToolOutput::error(format!(
                "Directory does not exist: {}.",
                root.display()
            )));
        }
    }
    let pattern = pattern.trim_start_matches("./");
    let matcher = compile(pattern)?;

    let shared: Mutex<Vec<(SystemTime, PathBuf)>> = Mutex::new(Vec::new());
    let mut walk = WalkBuilder::new(&root);
    walk.hidden(false)
        .require_git(false)
        .filter_entry(|e| !common::is_vcs_dir(e));
    walk.build_parallel().run(|| {
        let mut out = Collector::new(&shared);
        let matcher = &matcher;
        let root = &root;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !entry
                .file_type()
                .is_some_and(|t| t.is_file() || t.is_symlink())
            {
                return WalkState::Continue;
            }
            let path = entry.path();
            let hit = if by_name {
                matcher.is_match(entry.file_name())
            } else {
                path.strip_prefix(root)
                    .is_ok_and(|rel| matcher.is_match(rel))
            };
            if hit {
                // A symlink counts when it leads to a file.
                let meta = match std::fs::metadata(path) {
                    Ok(m) if m.is_file() => m,
                    _ => return WalkState::Continue,
                };
                let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                out.local.push((mtime, entry.into_path()));
            }
            WalkState::Continue
        })
    });
    let mut all = shared.into_inner().unwrap_or_default();
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = all.len();
    all.truncate(MAX_RESULTS);
    Ok(Found {
        paths: all.into_iter().map(|(_, p)| p).collect(),
        total,
    })
}

fn compile(pattern: &str) -> Res<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            ToolOutput::error(format!(
                "Invalid glob pattern \"{pattern}\": {}. Use `*`, `**`, `?`, `[...]` and `{{a,b}}`, e.g. \"**/*.md\".",
                e.kind()
            ))
        })
}

/// An absolute pattern names its own root: `/vault/notes/**/*.md` searches
/// `/vault/notes` for `**/*.md`.
fn split_absolute(root: &Path, pattern: &str) -> (PathBuf, String) {
    if !pattern.starts_with('/') {
        return (root.to_path_buf(), pattern.to_string());
    }
    let parts: Vec<&str> = pattern.split('/').collect();
    let first_glob = parts
        .iter()
        .position(|p| p.contains(['*', '?', '[', '{']))
        .unwrap_or(parts.len() - 1);
    let base = parts[..first_glob].join("/");
    let rest = parts[first_glob..].join("/");
    let base = if base.is_empty() {
        "/".to_string()
    } else {
        base
    };
    (PathBuf::from(base), rest)
}

fn format_result(found: &Found) -> ToolOutput {
    if found.total == 0 {
        return ToolOutput::ok("No files found", "Found 0 files");
    }
    let mut text = found
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if found.total > found.paths.len() {
        text.push_str(&format!(
            "\n(Results are truncated: showing the {} most recently modified of {} matching files. Consider using a more specific path or pattern.)",
            found.paths.len(),
            found.total
        ));
    }
    ToolOutput::ok(
        text,
        format!("Found {}", common::plural(found.total, "file", "files")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Duration;

    fn ctx(dir: &Path) -> ToolCtx {
        ToolCtx::new(dir.to_path_buf(), dir.to_path_buf(), "test".into())
    }

    fn set_mtime(path: &Path, secs_ago: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs_ago);
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    fn lines(o: &ToolOutput) -> Vec<String> {
        o.content
            .as_str()
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[tokio::test]
    async fn newest_first_gitignore_honoured_and_names_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("notes/deep")).unwrap();
        fs::create_dir_all(d.join("build")).unwrap();
        fs::create_dir_all(d.join(".git")).unwrap();
        fs::write(d.join(".gitignore"), "build/\nsecret.md\n").unwrap();
        for (name, age) in [
            ("a.md", 30),
            ("notes/b.md", 10),
            ("notes/deep/c.md", 20),
            ("x.txt", 5),
        ] {
            fs::write(d.join(name), "x").unwrap();
            set_mtime(&d.join(name), age);
        }
        fs::write(d.join("build/out.md"), "x").unwrap();
        fs::write(d.join("secret.md"), "x").unwrap();
        fs::write(d.join(".git/HEAD.md"), "x").unwrap();

        let c = ctx(d);
        let out = GlobTool.call(json!({"pattern": "*.md"}), &c).await;
        assert!(!out.is_error, "{out:?}");
        let want: Vec<String> = ["notes/b.md", "notes/deep/c.md", "a.md"]
            .iter()
            .map(|n| d.join(n).display().to_string())
            .collect();
        assert_eq!(lines(&out), want);
        assert_eq!(out.summary, "Found 3 files");

        let out = GlobTool.call(json!({"pattern": "notes/*.md"}), &c).await;
        assert_eq!(
            lines(&out),
            vec![d.join("notes/b.md").display().to_string()]
        );
        let out = GlobTool
            .call(json!({"pattern": "**/deep/*.md", "path": "notes"}), &c)
            .await;
        assert_eq!(
            lines(&out),
            vec![d.join("notes/deep/c.md").display().to_string()]
        );
        let abs = format!("{}/notes/**/*.md", d.display());
        let out = GlobTool.call(json!({"pattern": abs}), &c).await;
        assert_eq!(lines(&out).len(), 2, "{out:?}");
        let out = GlobTool.call(json!({"pattern": "*.rs"}), &c).await;
        assert_eq!(out.content, "No files found");
    }

    #[tokio::test]
    async fn results_are_capped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..130 {
            fs::write(dir.path().join(format!("f{i}.txt")), "x").unwrap();
        }
        let out = GlobTool
            .call(json!({"pattern": "*.txt"}), &ctx(dir.path()))
            .await;
        let l = lines(&out);
        assert_eq!(l.len(), MAX_RESULTS + 1);
        assert!(l[MAX_RESULTS].contains("showing the 100 most recently modified of 130"));
    }

    #[tokio::test]
    async fn errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "x").unwrap();
        let c = ctx(dir.path());
        let out = GlobTool
            .call(json!({"pattern": "a[", "path": "."}), &c)
            .await;
        assert!(
            out.is_error && out.content.as_str().unwrap().starts_with("Invalid glob"),
            "{out:?}"
        );
        let out = GlobTool
            .call(json!({"pattern": "*", "path": "missing"}), &c)
            .await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("does not exist"));
        let out = GlobTool
            .call(json!({"pattern": "*", "path": "f"}), &c)
            .await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("not a directory"));
        let out = GlobTool.call(json!({"path": "."}), &c).await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("`pattern`"));
        // "undefined" for path means the working directory.
        let out = GlobTool
            .call(json!({"pattern": "f", "path": "undefined"}), &c)
            .await;
        assert!(!out.is_error && out.summary == "Found 1 file", "{out:?}");
    }
}
