//! `Write`: creates or overwrites a file, atomically, keeping its mode.

use std::path::Path;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{self, Res};
use super::{Tool, ToolCtx, ToolOutput};

pub struct WriteTool;

const DESCRIPTION: &str = "Writes a file to the local filesystem.

Usage:
- This tool will overwrite the existing file if there is one at the provided path.
- If this is an existing file, you MUST use the Read tool first to read the file's contents. This tool will fail if you did not read the file first.
- Prefer the Edit tool for changing existing files: it sends only the change. Use Write for new files or complete rewrites.
- Missing parent folders are created. The write is atomic, and an existing file keeps its permissions.
- `file_path` should be absolute; a relative path is resolved against the current working directory.
- NEVER create documentation files (*.md) or README files unless explicitly requested by the user.";

impl Tool for WriteTool {
    fn name(&self) -> &'static str {
        "Write"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "The absolute path to the file to write (must be absolute, not relative)"},
                "content": {"type": "string", "description": "The content to write to the file"}
            },
            "required": ["file_path", "content"],
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
    let file_path = common::req_str(&input, "Write", "file_path")?;
    let content = common::req_str(&input, "Write", "content")?.to_string();
    let path = common::resolve(ctx, file_path);
    let existed = match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {
            return Err(ToolOutput::error(format!(
                "{} is a directory; Write needs a file path.",
                path.display()
            )));
        }
        Ok(_) => true,
        Err(_) => false,
    };
    if existed && !common::was_read(ctx, &path) {
        return Err(not_read_error(&path));
    }
    let target = path.clone();
    common::blocking(move || {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| common::io_error("create the folder", parent, &e))?;
        }
        common::atomic_write(&target, content.as_bytes())
            .map_err(|e| common::io_error("write", &target, &e))
    })
    .await?;
    common::mark_read(ctx, &path);
    let lines = count_lines(
        input
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let lines_word = common::plural(lines, "line", "lines");
    Ok(if existed {
        ToolOutput::ok(
            format!(
                "The file {} has been overwritten ({lines_word}).",
                path.display()
            ),
            format!("Wrote {lines_word} to {}", path.display()),
        )
    } else {
        ToolOutput::ok(
            format!(
                "File created successfully at: {} ({lines_word}).",
                path.display()
            ),
            format!("Created {} ({lines_word})", path.display()),
        )
    })
}

/// The error both Write and Edit give for a file that was not read first.
pub(crate) fn not_read_error(path: &Path) -> ToolOutput {
    ToolOutput::error(format!(
        "File has not been read yet. Read it first before writing to it: call Read with file_path \"{}\", then try again.",
        path.display()
    ))
}

fn count_lines(s: &str) -> usize {
    if s.is_empty() { 0 } else { s.lines().count() }
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

    #[tokio::test]
    async fn creates_files_and_parent_folders() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = WriteTool
            .call(
                json!({"file_path": "a/b/new.txt", "content": "hi\nthere\n"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        assert!(
            out.content
                .as_str()
                .unwrap()
                .starts_with("File created successfully")
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("a/b/new.txt")).unwrap(),
            "hi\nthere\n"
        );
        // A file this session wrote can be written again without a Read.
        let again = WriteTool
            .call(json!({"file_path": "a/b/new.txt", "content": "x"}), &c)
            .await;
        assert!(!again.is_error, "{again:?}");
    }

    #[tokio::test]
    async fn refuses_to_overwrite_an_unread_file_then_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("run.sh");
        fs::write(&f, "echo old\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o750)).unwrap();
        let c = ctx(dir.path());
        let out = WriteTool
            .call(json!({"file_path": "run.sh", "content": "echo new\n"}), &c)
            .await;
        assert!(out.is_error);
        assert!(out.content.as_str().unwrap().contains("Read it first"));
        assert_eq!(fs::read_to_string(&f).unwrap(), "echo old\n");

        assert!(
            !ReadTool
                .call(json!({"file_path": "run.sh"}), &c)
                .await
                .is_error
        );
        let out = WriteTool
            .call(
                json!({"file_path": f.to_str().unwrap(), "content": "echo new\n"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        assert!(out.content.as_str().unwrap().contains("overwritten"));
        assert_eq!(fs::read_to_string(&f).unwrap(), "echo new\n");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o750
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[tokio::test]
    async fn missing_fields_and_directories_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = WriteTool.call(json!({"file_path": "x"}), &c).await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("`content`"));
        let out = WriteTool
            .call(json!({"file_path": ".", "content": "x"}), &c)
            .await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("is a directory"));
    }
}
