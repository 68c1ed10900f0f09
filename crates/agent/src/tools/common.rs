//! Helpers shared by the built-in tools: reading inputs leniently, resolving
//! paths against the session's working directory, the "read before write"
//! bookkeeping, atomic writes and text truncation.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::{ToolCtx, ToolOutput};

/// Internal result: the error is already a model-facing [`ToolOutput`].
pub(crate) type Res<T> = Result<T, ToolOutput>;

/// Collapses `Ok(out)` and `Err(out)` into the output.
pub(crate) fn flatten(r: Res<ToolOutput>) -> ToolOutput {
    r.unwrap_or_else(|e| e)
}

/// A required string field, with an error naming the tool and the field.
/// A string field for display (`key_arg`): empty when absent.
pub(crate) fn str_field(input: &Value, key: &str) -> String {
    input
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `pattern in path` for Glob and Grep's display line.
pub(crate) fn pattern_in_path(input: &Value) -> String {
    let pattern = str_field(input, "pattern");
    match input.get("path").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => format!("{pattern} in {p}"),
        _ => pattern,
    }
}

pub(crate) fn req_str<'a>(input: &'a Value, tool: &str, key: &str) -> Res<&'a str> {
    match input.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ToolOutput::error(format!(
            "{tool}: the required parameter `{key}` is missing."
        ))),
        Some(other) => Err(ToolOutput::error(format!(
            "{tool}: `{key}` must be a string, not {}.",
            kind(other)
        ))),
    }
}

/// An optional string field. Models sometimes send "undefined" or "null" for
/// an omitted value; those count as absent.
pub(crate) fn opt_str<'a>(input: &'a Value, tool: &str, key: &str) -> Res<Option<&'a str>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() || s == "undefined" || s == "null" => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ToolOutput::error(format!(
            "{tool}: `{key}` must be a string, not {}.",
            kind(other)
        ))),
    }
}

/// An optional non-negative integer; a numeric string is accepted too.
pub(crate) fn opt_u64(input: &Value, tool: &str, key: &str) -> Res<Option<u64>> {
    let bad = |v: &Value| {
        ToolOutput::error(format!(
            "{tool}: `{key}` must be a non-negative integer, not {v}."
        ))
    };
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(Some(u)),
            (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => Ok(Some(f as u64)),
            _ => Err(bad(v)),
        },
        Some(v @ Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s == "undefined" || s == "null" {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| bad(v))
        }
        Some(v) => Err(bad(v)),
    }
}

/// An optional boolean; "true"/"false" strings are accepted too.
pub(crate) fn opt_bool(input: &Value, tool: &str, key: &str) -> Res<Option<bool>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(v) => Err(ToolOutput::error(format!(
            "{tool}: `{key}` must be true or false, not {v}."
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Resolves a path the model gave: `~` is the home directory, relative
/// paths are relative to the session's working directory. `.` and `..` are
/// folded lexically so the path shown back is tidy.
pub(crate) fn resolve(ctx: &ToolCtx, path: &str) -> PathBuf {
    let p = if path == "~" || path.starts_with("~/") {
        match std::env::var_os("HOME") {
            Some(home) => {
                PathBuf::from(home).join(path.trim_start_matches('~').trim_start_matches('/'))
            }
            None => PathBuf::from(path),
        }
    } else {
        PathBuf::from(path)
    };
    let joined = if p.is_absolute() {
        p
    } else {
        ctx.cwd().join(p)
    };
    normalize(&joined)
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The canonical form of an existing path, else the path itself.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub(crate) fn was_read(ctx: &ToolCtx, path: &Path) -> bool {
    let c = canonical(path);
    ctx.read_files
        .lock()
        .map(|set| set.contains(&c))
        .unwrap_or(false)
}

pub(crate) fn mark_read(ctx: &ToolCtx, path: &Path) {
    let c = canonical(path);
    if let Ok(mut set) = ctx.read_files.lock() {
        set.insert(c);
    }
}

/// An I/O error in words, with the path: never a debug dump.
pub(crate) fn io_error(what: &str, path: &Path, e: &io::Error) -> ToolOutput {
    let reason = match e.kind() {
        io::ErrorKind::NotFound => "it does not exist".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        io::ErrorKind::NotADirectory => "a parent of it is not a directory".to_string(),
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_string(),
        io::ErrorKind::StorageFull => "the disk is full".to_string(),
        _ => e.to_string(),
    };
    ToolOutput::error(format!("Could not {what} {}: {reason}.", path.display()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed, given the existing file's mode (or the default mode for a new
/// file), then renamed over the target. A symlink is followed, so the link
/// stays a link and its target gets the new content.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let existing_mode = fs::metadata(&target).ok().map(|m| m.permissions().mode());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let guard = TempGuard(Some(tmp.clone()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&tmp)?;
    file.write_all(bytes)?;
    if let Some(mode) = existing_mode {
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &target)?;
    guard.disarm();
    Ok(())
}

/// Removes the temporary file unless the rename happened.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// One line as `cat -n` numbers it: the number right-aligned in six
/// columns, a tab, the text.
pub(crate) fn numbered(out: &mut String, number: usize, text: &str) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{number:>6}\t{text}");
}

/// The first `max` characters of `s` (the whole of it when shorter).
pub(crate) fn take_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The last `max` characters of `s`.
pub(crate) fn last_chars(s: &str, max: usize) -> &str {
    let n = s.chars().count();
    if n <= max {
        return s;
    }
    match s.char_indices().nth(n - max) {
        Some((i, _)) => &s[i..],
        None => "",
    }
}

/// "1 file" / "3 files".
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Runs blocking work (file walks, big reads) off the async executor.
pub(crate) async fn blocking<T, F>(f: F) -> Res<T>
where
    F: FnOnce() -> Res<T> + Send + 'static,
    T: Send + 'static,
{
    // Outside a Tokio runtime (a caller's own executor), run in place.
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => Err(ToolOutput::error(
            "The tool stopped unexpectedly before finishing; try the call again.",
        )),
    }
}

/// Per-thread results of a parallel walk, moved into the shared list when
/// the thread's visitor is dropped (one lock per thread, not per file).
pub(crate) struct Collector<'a, T> {
    pub(crate) local: Vec<T>,
    shared: &'a std::sync::Mutex<Vec<T>>,
}

impl<'a, T> Collector<'a, T> {
    pub(crate) fn new(shared: &'a std::sync::Mutex<Vec<T>>) -> Self {
        Self {
            local: Vec::new(),
            shared,
        }
    }
}

impl<T> Drop for Collector<'_, T> {
    fn drop(&mut self) {
        if let Ok(mut all) = self.shared.lock() {
            all.append(&mut self.local);
        }
    }
}

/// Directories of version-control systems: never listed nor searched.
pub(crate) fn is_vcs_dir(entry: &ignore::DirEntry) -> bool {
    entry.depth() > 0
        && entry.file_type().is_some_and(|t| t.is_dir())
        && matches!(
            entry.file_name().to_str(),
            Some(".git" | ".hg" | ".svn" | ".jj" | ".bzr")
        )
}

/// A string field of the input, trimmed; `None` when absent or blank.
pub(crate) fn text_field<'v>(input: &'v Value, key: &str) -> Option<&'v str> {
    input
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A tool description's list of choices (skills, subagent types): `intro`,
/// then `- label: description` lines, each description cut to `one_budget`
/// characters, the whole list kept within `list_budget` characters; what
/// does not fit is named in a last line. Items are `(name, label, description)`.
pub(crate) fn listing(
    intro: &str,
    items: &[(&str, String, &str)],
    one_budget: usize,
    list_budget: usize,
) -> String {
    let mut text = intro.to_string();
    let mut left = list_budget;
    for (i, (_, label, description)) in items.iter().enumerate() {
        let mut d = description.split_whitespace().collect::<Vec<_>>().join(" ");
        if d.chars().count() > one_budget {
            d = d.chars().take(one_budget).collect::<String>() + "…";
        }
        let line = format!("- {label}: {d}\n");
        if line.len() > left {
            let rest: Vec<&str> = items[i..].iter().map(|(name, _, _)| *name).collect();
            text.push_str(&format!(
                "- … and {} more: {}\n",
                rest.len(),
                rest.join(", ")
            ));
            break;
        }
        left -= line.len();
        text.push_str(&line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_home_and_dots() {
        let ctx = ToolCtx::new("/work/dir".into(), "/work".into(), "s".into());
        assert_eq!(
            resolve(&ctx, "a/../b/./c.txt"),
            PathBuf::from("/work/dir/b/c.txt")
        );
        assert_eq!(resolve(&ctx, "/abs/x"), PathBuf::from("/abs/x"));
        assert_eq!(resolve(&ctx, "../up"), PathBuf::from("/work/up"));
    }

    #[test]
    fn lenient_numbers_and_bools() {
        let v = serde_json::json!({"a": 5, "b": "7", "c": -1, "d": "true", "e": 2.0});
        assert_eq!(opt_u64(&v, "T", "a").unwrap(), Some(5));
        assert_eq!(opt_u64(&v, "T", "b").unwrap(), Some(7));
        assert_eq!(opt_u64(&v, "T", "e").unwrap(), Some(2));
        assert!(opt_u64(&v, "T", "c").is_err());
        assert_eq!(opt_u64(&v, "T", "zz").unwrap(), None);
        assert_eq!(opt_bool(&v, "T", "d").unwrap(), Some(true));
        assert!(
            req_str(&v, "T", "zz")
                .unwrap_err()
                .content
                .as_str()
                .unwrap()
                .contains("`zz`")
        );
    }

    #[test]
    fn char_slicing() {
        assert_eq!(take_chars("héllo", 2), "hé");
        assert_eq!(last_chars("héllo", 4), "éllo");
        assert_eq!(last_chars("hi", 4), "hi");
    }

    #[test]
    fn atomic_write_keeps_mode_and_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.sh");
        fs::write(&f, "old").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o751)).unwrap();
        atomic_write(&f, b"new").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "new");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o751
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        atomic_write(&link, b"via link").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&f).unwrap(), "via link");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
