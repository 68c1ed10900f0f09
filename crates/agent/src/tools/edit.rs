//! `Edit`: exact string replacement in a file, keeping line endings and mode.

use std::path::Path;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{self, Res};
use super::write::not_read_error;
use super::{Tool, ToolCtx, ToolOutput};

pub struct EditTool;

const DESCRIPTION: &str = "Performs exact string replacements in files.

Usage:
- You must use the Read tool at least once in the conversation before editing a file. This tool will error if you attempt an edit without reading the file.
- When editing text from Read output, preserve the exact indentation (tabs/spaces) as it appears AFTER the line number prefix. The prefix format is: spaces + line number + tab. Everything after that tab is the actual file content to match. Never include any part of the line number prefix in old_string or new_string.
- The edit will FAIL if `old_string` is not unique in the file. Either provide a larger string with more surrounding context to make it unique or use `replace_all` to change every instance of `old_string`.
- Use `replace_all` for replacing and renaming strings across the file, e.g. renaming a variable.
- `old_string` and `new_string` must differ. An empty `old_string` creates a new file (or fills an empty one) with `new_string`.
- Line endings are kept: in a file with CRLF line endings, write the strings with plain newlines and they are matched and written as CRLF. The file's permissions are kept and the write is atomic.
- ALWAYS prefer editing existing files. NEVER write new files unless explicitly required.";

impl Tool for EditTool {
    fn name(&self) -> &'static str {
        "Edit"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "The absolute path to the file to modify"},
                "old_string": {"type": "string", "description": "The text to replace"},
                "new_string": {"type": "string", "description": "The text to replace it with (must be different from old_string)"},
                "replace_all": {"type": "boolean", "default": false, "description": "Replace all occurrences of old_string (default false)"}
            },
            "required": ["file_path", "old_string", "new_string"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        false
    }

    fn key_arg(&self, input: &Value) -> String {
        common::str_field(input, "file_path")
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(run(input, ctx).await) })
    }
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let file_path = common::req_str(&input, "Edit", "file_path")?;
    let old = common::req_str(&input, "Edit", "old_string")?.to_string();
    let new = common::req_str(&input, "Edit", "new_string")?.to_string();
    let replace_all = common::opt_bool(&input, "Edit", "replace_all")?.unwrap_or(false);
    if old == new {
        return Err(ToolOutput::error(
            "No changes to make: old_string and new_string are exactly the same.",
        ));
    }
    let path = common::resolve(ctx, file_path);
    let exists = match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {
            return Err(ToolOutput::error(format!(
                "{} is a directory; Edit needs a file path.",
                path.display()
            )));
        }
        Ok(_) => true,
        Err(_) => false,
    };
    if !exists {
        if !old.is_empty() {
            return Err(ToolOutput::error(format!(
                "File does not exist: {}. The current working directory is {}. To create a new file, use Write (or Edit with an empty old_string).",
                path.display(),
                ctx.cwd().display()
            )));
        }
        let target = path.clone();
        common::blocking(move || {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| common::io_error("create the folder", parent, &e))?;
            }
            common::atomic_write(&target, new.as_bytes())
                .map_err(|e| common::io_error("write", &target, &e))
        })
        .await?;
        common::mark_read(ctx, &path);
        return Ok(ToolOutput::ok(
            format!("File created successfully at: {}", path.display()),
            format!("Created {}", path.display()),
        ));
    }
    if !common::was_read(ctx, &path) {
        return Err(not_read_error(&path));
    }
    let target = path.clone();
    let out = common::blocking(move || edit_file(&target, &old, &new, replace_all)).await?;
    common::mark_read(ctx, &path);
    Ok(out)
}

fn edit_file(path: &Path, old: &str, new: &str, replace_all: bool) -> Res<ToolOutput> {
    let bytes = std::fs::read(path).map_err(|e| common::io_error("read", path, &e))?;
    let content = String::from_utf8(bytes).map_err(|_| {
        ToolOutput::error(format!(
            "{} is not valid UTF-8 text, so Edit cannot change it safely. Use Bash (e.g. sed, or iconv to convert it first).",
            path.display()
        ))
    })?;

    if old.is_empty() {
        if !content.is_empty() {
            return Err(ToolOutput::error(format!(
                "Cannot create new file - file already exists: {}. To change it, give the text to replace in old_string; to replace it whole, use Write.",
                path.display()
            )));
        }
        common::atomic_write(path, new.as_bytes())
            .map_err(|e| common::io_error("write", path, &e))?;
        return Ok(ToolOutput::ok(
            format!("The file {} has been updated.", path.display()),
            format!("Wrote {}", path.display()),
        ));
    }

    let (old_m, new_m, count) = matching_form(&content, old, new);
    if count == 0 {
        return Err(ToolOutput::error(format!(
            "String to replace not found in file {}.\nString: {old}\nRead the file again and copy the text exactly, including whitespace and indentation (but not Read's line-number prefix).",
            path.display()
        )));
    }
    if count > 1 && !replace_all {
        return Err(ToolOutput::error(format!(
            "Found {count} matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: {old}"
        )));
    }
    let first = content.find(old_m.as_str()).unwrap_or(0);
    let updated = if replace_all {
        content.replace(old_m.as_str(), &new_m)
    } else {
        content.replacen(old_m.as_str(), &new_m, 1)
    };
    common::atomic_write(path, updated.as_bytes())
        .map_err(|e| common::io_error("write", path, &e))?;

    let replaced = if replace_all { count } else { 1 };
    let mut text = if replace_all && count > 1 {
        format!(
            "The file {} has been updated. All {count} occurrences were replaced. The first, as `cat -n` shows it:\n",
            path.display()
        )
    } else {
        format!(
            "The file {} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n",
            path.display()
        )
    };
    text.push_str(&snippet(&updated, first, new_m.len()));
    Ok(ToolOutput::ok(
        text,
        format!(
            "Replaced {} in {}",
            common::plural(replaced, "occurrence", "occurrences"),
            path.display()
        ),
    ))
}

/// Picks the form of the strings that matches the file's line endings and
/// counts the matches: in a CRLF file, LF strings are matched and written
/// as CRLF; in an LF file, CRLF strings as LF. Falls back to the strings as
/// given when the converted form is not found (a file with mixed endings).
fn matching_form(content: &str, old: &str, new: &str) -> (String, String, usize) {
    let crlf = content.matches("\r\n").count();
    let lf = content.matches('\n').count();
    let uses_crlf = crlf > 0 && crlf * 2 >= lf;
    let (o, n) = if uses_crlf {
        (to_crlf(old), to_crlf(new))
    } else {
        (old.replace("\r\n", "\n"), new.replace("\r\n", "\n"))
    };
    let count = content.matches(o.as_str()).count();
    if count > 0 || (o == old && n == new) {
        return (o, n, count);
    }
    let count = content.matches(old).count();
    (old.to_string(), new.to_string(), count)
}

fn to_crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The edited region with four lines of context each side, numbered.
fn snippet(content: &str, start: usize, len: usize) -> String {
    let start = start.min(content.len());
    let end = (start + len).min(content.len());
    let first_line = content[..start].matches('\n').count();
    let last_line = first_line + content[start..end].matches('\n').count();
    let from = first_line.saturating_sub(4);
    let to = (last_line + 4).min(from + 60);
    let mut out = String::new();
    for (i, line) in content
        .split('\n')
        .enumerate()
        .skip(from)
        .take(to + 1 - from)
    {
        common::numbered(&mut out, i + 1, line.strip_suffix('\r').unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::read::ReadTool;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn ctx(dir: &Path) -> ToolCtx {
        ToolCtx::new(dir.to_path_buf(), dir.to_path_buf(), "test".into())
    }

    fn text(o: &ToolOutput) -> &str {
        o.content.as_str().unwrap_or_default()
    }

    async fn read_first(c: &ToolCtx, name: &str) {
        let out = ReadTool.call(json!({"file_path": name}), c).await;
        assert!(!out.is_error, "{out:?}");
    }

    #[tokio::test]
    async fn replaces_a_unique_string_and_shows_a_snippet() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.rs"), "fn a() {}\nfn b() {}\n").unwrap();
        let c = ctx(dir.path());
        read_first(&c, "f.rs").await;
        let out = EditTool
            .call(
                json!({"file_path": "f.rs", "old_string": "fn b", "new_string": "fn beta"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(
            fs::read_to_string(dir.path().join("f.rs")).unwrap(),
            "fn a() {}\nfn beta() {}\n"
        );
        assert!(text(&out).contains("     2\tfn beta() {}"));
        assert!(out.summary.starts_with("Replaced 1 occurrence"));
    }

    #[tokio::test]
    async fn error_paths() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "x x x\n").unwrap();
        let c = ctx(dir.path());
        let call = |input: Value| {
            let c = c.clone();
            async move { EditTool.call(input, &c).await }
        };
        // Not read yet.
        let out = call(json!({"file_path": "f", "old_string": "x", "new_string": "y"})).await;
        assert!(
            out.is_error && text(&out).contains("Read it first"),
            "{out:?}"
        );
        read_first(&c, "f").await;
        // Same strings.
        let out = call(json!({"file_path": "f", "old_string": "x", "new_string": "x"})).await;
        assert!(out.is_error && text(&out).contains("exactly the same"));
        // Missing.
        let out = call(json!({"file_path": "f", "old_string": "zzz", "new_string": "y"})).await;
        assert!(out.is_error && text(&out).contains("String to replace not found"));
        // Ambiguous, with the count.
        let out = call(json!({"file_path": "f", "old_string": "x", "new_string": "y"})).await;
        assert!(
            out.is_error && text(&out).contains("Found 3 matches"),
            "{out:?}"
        );
        assert!(text(&out).contains("replace_all"));
        // Missing file.
        let out = call(json!({"file_path": "nofile", "old_string": "a", "new_string": "b"})).await;
        assert!(out.is_error && text(&out).contains("does not exist"));
        // Empty old_string on a non-empty file.
        let out = call(json!({"file_path": "f", "old_string": "", "new_string": "b"})).await;
        assert!(out.is_error && text(&out).contains("already exists"));
        // Missing field.
        let out = call(json!({"file_path": "f", "old_string": "a"})).await;
        assert!(out.is_error && text(&out).contains("`new_string`"));
        assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), "x x x\n");
        // replace_all then works.
        let out = call(
            json!({"file_path": "f", "old_string": "x", "new_string": "y", "replace_all": true}),
        )
        .await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), "y y y\n");
        assert!(out.summary.starts_with("Replaced 3 occurrences"));
    }

    #[tokio::test]
    async fn crlf_files_stay_crlf_and_mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("win.txt");
        fs::write(&f, "alpha\r\nbeta\r\ngamma\r\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o741)).unwrap();
        let c = ctx(dir.path());
        read_first(&c, "win.txt").await;
        let out = EditTool
            .call(
                json!({"file_path": "win.txt", "old_string": "alpha\nbeta", "new_string": "one\ntwo\nthree"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "one\r\ntwo\r\nthree\r\ngamma\r\n"
        );
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o741
        );
        assert!(!text(&out).contains('\r'));
    }

    #[tokio::test]
    async fn empty_old_string_creates_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = EditTool
            .call(
                json!({"file_path": "sub/new.md", "old_string": "", "new_string": "# hi\n"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(
            fs::read_to_string(dir.path().join("sub/new.md")).unwrap(),
            "# hi\n"
        );
    }

    #[test]
    fn line_ending_forms() {
        assert_eq!(matching_form("a\r\nb\r\n", "a\nb", "c\nd").0, "a\r\nb");
        assert_eq!(matching_form("a\nb\n", "a\r\nb", "c").0, "a\nb");
        // Mixed file: the LF part is found as given.
        let (o, _, n) = matching_form("a\r\nb\r\nc\nd\r\n", "c\nd", "e");
        assert_eq!((o.as_str(), n), ("c\nd", 1));
    }
}
