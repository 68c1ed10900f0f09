//! `Grep`: ripgrep's search through its library crates (`grep-regex`,
//! `grep-searcher`, `grep-printer`, `ignore`), walking in parallel.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use ::grep::printer::StandardBuilder;
use ::grep::regex::{RegexMatcher, RegexMatcherBuilder};
use ::grep::searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use futures_util::future::BoxFuture;
use ignore::overrides::OverrideBuilder;
use ignore::types::TypesBuilder;
use ignore::{WalkBuilder, WalkState};
use serde_json::{Value, json};

use super::common::{self, Collector, Res};
use super::{Tool, ToolCtx, ToolOutput};

/// Characters of output in one call; the rest is summarised in a note.
pub const MAX_OUTPUT_CHARS: usize = 30_000;
/// Longest line printed whole in content mode (ripgrep's `--max-columns`).
pub const MAX_COLUMNS: u64 = 500;

pub struct GrepTool;

const DESCRIPTION: &str = "A powerful search tool built on ripgrep.

Usage:
- ALWAYS use Grep for search tasks. NEVER invoke `grep` or `rg` as a Bash command: this tool has been optimized for correct permissions and access.
- Supports full regex syntax (ripgrep's Rust regex, e.g. \"log.*Error\", \"function\\\\s+\\\\w+\"). Literal braces need escaping: use `interface\\\\{\\\\}` to find `interface{}` in Go code.
- Filter files with `glob` (e.g. \"*.js\", \"**/*.{ts,tsx}\") or `type` (ripgrep file types: js, py, rust, go, java, md, json, yaml, …).
- `output_mode`: \"files_with_matches\" (default) lists matching files, newest first; \"content\" shows matching lines (`path:line:text`, with `-n` line numbers on by default and `-A`/`-B`/`-C` context lines); \"count\" shows matching lines per file.
- `-i` for a case-insensitive search. Patterns match within single lines by default; for patterns that span lines, like `struct \\\\{[\\\\s\\\\S]*?field`, set `multiline: true` (`.` then matches newlines too).
- `head_limit` keeps the first N lines (content) or entries (files, count), like `| head -N`. Output is capped at 30,000 characters in any case.
- .gitignore is honoured, hidden files are searched, binary files are skipped.
- Use Glob to find files by name. For open-ended searches that need several rounds, search in parallel in one response.";

impl Tool for GrepTool {
    fn name(&self) -> &'static str {
        "Grep"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "The regular expression pattern to search for in file contents"},
                "path": {"type": "string", "description": "File or directory to search in (rg PATH). Defaults to current working directory."},
                "glob": {"type": "string", "description": "Glob pattern to filter files (e.g. \"*.js\", \"*.{ts,tsx}\") - maps to rg --glob"},
                "type": {"type": "string", "description": "File type to search (rg --type). Common types: js, py, rust, go, java, etc. More efficient than glob for standard file types."},
                "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"], "description": "Output mode: \"content\" shows matching lines (supports -A/-B/-C context, -n line numbers, head_limit), \"files_with_matches\" shows file paths (supports head_limit), \"count\" shows match counts (supports head_limit). Defaults to \"files_with_matches\"."},
                "-i": {"type": "boolean", "description": "Case insensitive search (rg -i)"},
                "-n": {"type": "boolean", "description": "Show line numbers in output (rg -n). Requires output_mode: \"content\", ignored otherwise. Defaults to true."},
                "-A": {"type": "integer", "minimum": 0, "description": "Number of lines to show after each match (rg -A). Requires output_mode: \"content\", ignored otherwise."},
                "-B": {"type": "integer", "minimum": 0, "description": "Number of lines to show before each match (rg -B). Requires output_mode: \"content\", ignored otherwise."},
                "-C": {"type": "integer", "minimum": 0, "description": "Number of lines to show before and after each match (rg -C). Requires output_mode: \"content\", ignored otherwise."},
                "multiline": {"type": "boolean", "description": "Enable multiline mode where . matches newlines and patterns can span lines (rg -U --multiline-dotall). Default: false."},
                "head_limit": {"type": "integer", "minimum": 0, "description": "Limit output to first N lines/entries, equivalent to \"| head -N\". Works across all output modes: content (limits output lines), files_with_matches (limits file paths), count (limits count entries). When unspecified, shows all results up to a 30,000-character cap."}
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Content,
    FilesWithMatches,
    Count,
}

/// One search, as the tool's input describes it.
#[derive(Debug, Clone)]
pub struct Query {
    pub pattern: String,
    pub root: PathBuf,
    pub glob: Option<String>,
    pub file_type: Option<String>,
    pub mode: Mode,
    pub case_insensitive: bool,
    pub line_numbers: bool,
    pub before: usize,
    pub after: usize,
    pub multiline: bool,
    pub head_limit: Option<usize>,
}

impl Query {
    pub fn new(pattern: &str, root: &Path) -> Self {
        Self {
            pattern: pattern.to_string(),
            root: root.to_path_buf(),
            glob: None,
            file_type: None,
            mode: Mode::FilesWithMatches,
            case_insensitive: false,
            line_numbers: true,
            before: 0,
            after: 0,
            multiline: false,
            head_limit: None,
        }
    }
}

fn parse(input: &Value, ctx: &ToolCtx) -> Res<Query> {
    const T: &str = "Grep";
    let pattern = common::req_str(input, T, "pattern")?;
    if pattern.is_empty() {
        return Err(ToolOutput::error(
            "Grep: `pattern` is empty; give a regular expression.",
        ));
    }
    let root = match common::opt_str(input, T, "path")? {
        Some(p) => common::resolve(ctx, p),
        None => ctx.cwd(),
    };
    let mut q = Query::new(pattern, &root);
    q.glob = common::opt_str(input, T, "glob")?.map(str::to_string);
    q.file_type = common::opt_str(input, T, "type")?.map(str::to_string);
    q.mode = match common::opt_str(input, T, "output_mode")? {
        None | Some("files_with_matches") => Mode::FilesWithMatches,
        Some("content") => Mode::Content,
        Some("count") => Mode::Count,
        Some(other) => {
            return Err(ToolOutput::error(format!(
                "Grep: unknown output_mode \"{other}\"; use \"content\", \"files_with_matches\" or \"count\"."
            )));
        }
    };
    q.case_insensitive = common::opt_bool(input, T, "-i")?.unwrap_or(false);
    q.line_numbers = common::opt_bool(input, T, "-n")?.unwrap_or(true);
    q.multiline = common::opt_bool(input, T, "multiline")?.unwrap_or(false);
    let context = common::opt_u64(input, T, "-C")?.unwrap_or(0) as usize;
    q.before = common::opt_u64(input, T, "-B")?.map_or(context, |n| n as usize);
    q.after = common::opt_u64(input, T, "-A")?.map_or(context, |n| n as usize);
    q.head_limit = common::opt_u64(input, T, "head_limit")?
        .filter(|&n| n > 0)
        .map(|n| n as usize);
    Ok(q)
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let q = parse(&input, ctx)?;
    common::blocking(move || search(&q)).await
}

/// Runs the search and formats the result as the model sees it.
pub fn search(q: &Query) -> Res<ToolOutput> {
    let root_meta = std::fs::metadata(&q.root)
        .map_err(|_| ToolOutput::error(format!("Path does not exist: {}.", q.root.display())))?;
    let single_file = root_meta.is_file();
    let matcher = build_matcher(q)?;
    let walk = build_walk(q)?;
    let hits = Mutex::new(Vec::<Hit>::new());

    walk.build_parallel().run(|| {
        let mut out = Collector::new(&hits);
        let matcher = matcher.clone();
        let mut searcher = build_searcher(q);
        let mut printer = StandardBuilder::new()
            .heading(false)
            .path(!single_file)
            .max_columns(Some(MAX_COLUMNS))
            .max_columns_preview(true)
            .separator_context(Some(b"--".to_vec()))
            .build_no_color(Vec::<u8>::new());
        let mode = q.mode;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let hit = match mode {
                Mode::FilesWithMatches => {
                    let mut sink = FirstMatch(false);
                    match searcher.search_path(&matcher, path, &mut sink) {
                        Ok(()) if sink.0 => Some(Payload::None),
                        _ => None,
                    }
                }
                Mode::Count => {
                    let mut sink = CountLines(0);
                    match searcher.search_path(&matcher, path, &mut sink) {
                        Ok(()) if sink.0 > 0 => Some(Payload::Count(sink.0)),
                        _ => None,
                    }
                }
                Mode::Content => {
                    let result = {
                        let mut sink = printer.sink_with_path(&matcher, path);
                        searcher
                            .search_path(&matcher, path, &mut sink)
                            .map(|()| sink.has_match())
                    };
                    let bytes = std::mem::take(printer.get_mut().get_mut());
                    match result {
                        Ok(true) => Some(Payload::Text(bytes)),
                        _ => None,
                    }
                }
            };
            if let Some(payload) = hit {
                let mtime = if mode == Mode::FilesWithMatches {
                    entry
                        .metadata()
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .unwrap_or(SystemTime::UNIX_EPOCH)
                } else {
                    SystemTime::UNIX_EPOCH
                };
                out.local.push(Hit {
                    path: entry.into_path(),
                    mtime,
                    payload,
                });
            }
            WalkState::Continue
        })
    });
    let hits = hits.into_inner().unwrap_or_default();
    Ok(format_hits(q, hits))
}

struct Hit {
    path: PathBuf,
    mtime: SystemTime,
    payload: Payload,
}

enum Payload {
    None,
    Count(u64),
    Text(Vec<u8>),
}

fn build_matcher(q: &Query) -> Res<RegexMatcher> {
    let mut b = RegexMatcherBuilder::new();
    b.case_insensitive(q.case_insensitive)
        .multi_line(true)
        .unicode(true)
        .octal(false);
    if q.multiline {
        b.dot_matches_new_line(true);
    } else {
        b.line_terminator(Some(b'\n'));
    }
    b.build(&q.pattern).map_err(|e| {
        let msg = e.to_string();
        let hint = if msg.contains("\\n") || msg.contains("line terminator") {
            " To match across lines, set multiline: true."
        } else {
            " Grep uses ripgrep's Rust regex syntax: escape literal characters such as ( ) [ ] { } . * + ? with a backslash."
        };
        ToolOutput::error(format!("Invalid regex pattern \"{}\": {msg}.{hint}", q.pattern))
    })
}

fn build_searcher(q: &Query) -> Searcher {
    let content = q.mode == Mode::Content;
    SearcherBuilder::new()
        .line_number(content && q.line_numbers)
        .multi_line(q.multiline)
        .before_context(if content { q.before } else { 0 })
        .after_context(if content { q.after } else { 0 })
        .binary_detection(BinaryDetection::quit(b'\x00'))
        .build()
}

fn build_walk(q: &Query) -> Res<WalkBuilder> {
    let mut walk = WalkBuilder::new(&q.root);
    walk.hidden(false)
        .require_git(false)
        .filter_entry(|e| !common::is_vcs_dir(e));
    if let Some(glob) = &q.glob {
        let mut ob = OverrideBuilder::new(&q.root);
        for g in split_globs(glob) {
            ob.add(&g).map_err(|e| {
                ToolOutput::error(format!(
                    "Grep: invalid glob \"{g}\": {e}. Use e.g. \"*.md\" or \"**/*.{{ts,tsx}}\"."
                ))
            })?;
        }
        let ov = ob
            .build()
            .map_err(|e| ToolOutput::error(format!("Grep: invalid glob \"{glob}\": {e}.")))?;
        walk.overrides(ov);
    }
    if let Some(t) = &q.file_type {
        let mut tb = TypesBuilder::new();
        tb.add_defaults();
        tb.select(t);
        let types = tb.build().map_err(|_| {
            ToolOutput::error(format!(
                "Grep: unknown file type \"{t}\". Use a ripgrep type name (js, ts, py, rust, go, java, c, cpp, md, json, yaml, toml, html, css, sh, …) or the `glob` parameter instead."
            ))
        })?;
        walk.types(types);
    }
    Ok(walk)
}

/// Several globs may be given separated by commas outside braces
/// ("*.ts,*.tsx"); a single glob may contain spaces (note file names do).
fn split_globs(glob: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for ch in glob.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn format_hits(q: &Query, mut hits: Vec<Hit>) -> ToolOutput {
    match q.mode {
        Mode::FilesWithMatches => {
            hits.sort_by(|a, b| b.mtime.cmp(&a.mtime).then_with(|| a.path.cmp(&b.path)));
            let total = hits.len();
            if total == 0 {
                return ToolOutput::ok("No files found", "Found 0 files");
            }
            let lines = hits.iter().map(|h| h.path.display().to_string());
            let (body, note) = limited(lines, q.head_limit, "files");
            ToolOutput::ok(
                format!(
                    "Found {}\n{body}{note}",
                    common::plural(total, "file", "files")
                ),
                format!("Found {}", common::plural(total, "file", "files")),
            )
        }
        Mode::Count => {
            hits.sort_by(|a, b| a.path.cmp(&b.path));
            if hits.is_empty() {
                return ToolOutput::ok("No matches found", "0 matches");
            }
            let total: u64 = hits
                .iter()
                .map(|h| match h.payload {
                    Payload::Count(n) => n,
                    _ => 0,
                })
                .sum();
            let files = hits.len();
            let lines = hits.iter().map(|h| match h.payload {
                Payload::Count(n) => format!("{}:{n}", h.path.display()),
                _ => h.path.display().to_string(),
            });
            let (body, note) = limited(lines, q.head_limit, "entries");
            let what = if q.multiline {
                "match"
            } else {
                "matching line"
            };
            ToolOutput::ok(
                format!(
                    "{body}{note}\n\nFound {} across {}.",
                    common::plural(total as usize, what, &format!("{what}s")),
                    common::plural(files, "file", "files")
                ),
                format!(
                    "{} in {}",
                    common::plural(total as usize, what, &format!("{what}s")),
                    common::plural(files, "file", "files")
                ),
            )
        }
        Mode::Content => {
            hits.sort_by(|a, b| a.path.cmp(&b.path));
            if hits.is_empty() {
                return ToolOutput::ok("No matches found", "0 matches");
            }
            let files = hits.len();
            let context = q.before > 0 || q.after > 0;
            let mut lines: Vec<String> = Vec::new();
            for (i, h) in hits.iter().enumerate() {
                if let Payload::Text(bytes) = &h.payload {
                    if context && i > 0 {
                        lines.push("--".to_string());
                    }
                    let text = String::from_utf8_lossy(bytes);
                    lines.extend(text.lines().map(str::to_string));
                }
            }
            let (body, note) = limited(lines.into_iter(), q.head_limit, "lines");
            ToolOutput::ok(
                format!("{body}{note}"),
                format!("Matches in {}", common::plural(files, "file", "files")),
            )
        }
    }
}

/// Joins lines, applying `head_limit` and the character cap; the note says
/// what was left out.
fn limited(
    lines: impl Iterator<Item = String>,
    head_limit: Option<usize>,
    unit: &str,
) -> (String, String) {
    let all: Vec<String> = lines.collect();
    let total = all.len();
    let mut body = String::new();
    let mut shown = 0usize;
    let mut capped = false;
    for line in all.iter().take(head_limit.unwrap_or(usize::MAX)) {
        if body.len() + line.len() + 1 > MAX_OUTPUT_CHARS && shown > 0 {
            capped = true;
            break;
        }
        if shown > 0 {
            body.push('\n');
        }
        body.push_str(line);
        shown += 1;
    }
    let note = if capped {
        format!(
            "\n\n[Output truncated at {MAX_OUTPUT_CHARS} characters: showing {shown} of {total} {unit}. Narrow the search with path, glob, type or a more specific pattern, or page with head_limit.]"
        )
    } else if shown < total {
        format!("\n\n[Showing the first {shown} of {total} {unit} (head_limit={shown}).]")
    } else {
        String::new()
    };
    (body, note)
}

/// Stops a file's search at its first match.
struct FirstMatch(bool);

impl Sink for FirstMatch {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, _: &SinkMatch<'_>) -> Result<bool, std::io::Error> {
        self.0 = true;
        Ok(false)
    }
}

/// Counts matching lines (matches, in multiline mode), as `rg -c` does.
struct CountLines(u64);

impl Sink for CountLines {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, _: &SinkMatch<'_>) -> Result<bool, std::io::Error> {
        self.0 += 1;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Duration;

    fn ctx(dir: &Path) -> ToolCtx {
        ToolCtx::new(dir.to_path_buf(), dir.to_path_buf(), "test".into())
    }

    fn text(o: &ToolOutput) -> &str {
        o.content.as_str().unwrap_or_default()
    }

    fn vault() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("notes")).unwrap();
        fs::create_dir_all(d.join("ignored")).unwrap();
        fs::write(d.join(".gitignore"), "ignored/\n").unwrap();
        fs::write(
            d.join("a.md"),
            "alpha\nbeta\nKafka one\ngamma\ndelta\nkafka two\n",
        )
        .unwrap();
        fs::write(d.join("notes/b.md"), "nothing here\nKafka three\n").unwrap();
        fs::write(d.join("notes/c.txt"), "Kafka in text\n").unwrap();
        fs::write(d.join("ignored/d.md"), "Kafka ignored\n").unwrap();
        fs::write(d.join("bin.dat"), b"Kafka\0binary").unwrap();
        let old = SystemTime::now() - Duration::from_secs(100);
        fs::File::options()
            .write(true)
            .open(d.join("a.md"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        dir
    }

    #[tokio::test]
    async fn files_with_matches_is_the_default_newest_first() {
        let v = vault();
        let d = v.path();
        let out = GrepTool.call(json!({"pattern": "Kafka"}), &ctx(d)).await;
        assert!(!out.is_error, "{out:?}");
        let lines: Vec<&str> = text(&out).lines().collect();
        assert_eq!(lines[0], "Found 3 files");
        // a.md is the oldest, so last; the ignored folder and the binary file are skipped.
        assert_eq!(lines[3], d.join("a.md").display().to_string());
        assert!(!text(&out).contains("ignored") && !text(&out).contains("bin.dat"));
        let out = GrepTool
            .call(json!({"pattern": "nomatchatall"}), &ctx(d))
            .await;
        assert_eq!(text(&out), "No files found");
    }

    #[tokio::test]
    async fn content_mode_with_line_numbers_context_and_case() {
        let v = vault();
        let d = v.path();
        let c = ctx(d);
        let a = d.join("a.md").display().to_string();
        let out = GrepTool
            .call(
                json!({"pattern": "kafka", "-i": true, "output_mode": "content", "glob": "*.md"}),
                &c,
            )
            .await;
        let t = text(&out);
        assert!(t.contains(&format!("{a}:3:Kafka one")), "{t}");
        assert!(t.contains(&format!("{a}:6:kafka two")));
        assert!(!t.contains("c.txt"));

        let out = GrepTool
            .call(json!({"pattern": "Kafka one", "output_mode": "content", "-B": 1, "-A": 1, "path": "a.md"}), &c)
            .await;
        assert_eq!(text(&out), "2-beta\n3:Kafka one\n4-gamma");

        let out = GrepTool
            .call(json!({"pattern": "alpha|kafka two", "output_mode": "content", "-C": 1, "-n": false, "path": "a.md"}), &c)
            .await;
        assert_eq!(text(&out), "alpha\nbeta\n--\ndelta\nkafka two");
        // Adjacent context groups merge, as in ripgrep.
        let out = GrepTool
            .call(json!({"pattern": "Kafka one|kafka two", "output_mode": "content", "-C": 1, "path": "a.md"}), &c)
            .await;
        assert_eq!(
            text(&out),
            "2-beta\n3:Kafka one\n4-gamma\n5-delta\n6:kafka two"
        );

        // Context across files is separated by "--".
        let out = GrepTool
            .call(json!({"pattern": "three|Kafka in", "output_mode": "content", "-A": 1, "path": "notes"}), &c)
            .await;
        assert!(text(&out).contains("\n--\n"), "{}", text(&out));
    }

    #[tokio::test]
    async fn count_mode_type_filter_and_head_limit() {
        let v = vault();
        let d = v.path();
        let c = ctx(d);
        let out = GrepTool
            .call(
                json!({"pattern": "(?i)kafka", "output_mode": "count", "type": "md"}),
                &c,
            )
            .await;
        let t = text(&out);
        assert!(
            t.contains(&format!("{}:2", d.join("a.md").display())),
            "{t}"
        );
        assert!(t.contains(&format!("{}:1", d.join("notes/b.md").display())));
        assert!(t.contains("Found 3 matching lines across 2 files."));
        let out = GrepTool
            .call(
                json!({"pattern": "a", "output_mode": "content", "path": "a.md", "head_limit": 2}),
                &c,
            )
            .await;
        assert!(
            text(&out).starts_with("1:alpha\n2:beta\n\n[Showing the first 2 of"),
            "{}",
            text(&out)
        );
        let out = GrepTool
            .call(json!({"pattern": "Kafka", "head_limit": 1}), &c)
            .await;
        assert_eq!(text(&out).lines().count(), 4, "{}", text(&out));
    }

    #[tokio::test]
    async fn multiline_patterns() {
        let v = vault();
        let c = ctx(v.path());
        let out = GrepTool
            .call(json!({"pattern": "beta.Kafka", "multiline": true, "output_mode": "content", "path": "a.md"}), &c)
            .await;
        assert_eq!(text(&out), "2:beta\n3:Kafka one", "{out:?}");
        let out = GrepTool
            .call(json!({"pattern": "beta\\nKafka", "path": "a.md"}), &c)
            .await;
        assert!(
            out.is_error && text(&out).contains("multiline: true"),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn errors_the_model_can_act_on() {
        let v = vault();
        let c = ctx(v.path());
        let out = GrepTool.call(json!({"pattern": "a(b"}), &c).await;
        assert!(
            out.is_error && text(&out).starts_with("Invalid regex pattern"),
            "{out:?}"
        );
        let out = GrepTool
            .call(json!({"pattern": "a", "type": "nosuchtype"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("unknown file type"));
        let out = GrepTool
            .call(json!({"pattern": "a", "output_mode": "lines"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("output_mode"));
        let out = GrepTool
            .call(json!({"pattern": "a", "path": "missing"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("does not exist"));
        let out = GrepTool
            .call(json!({"pattern": "a", "glob": "[x"}), &c)
            .await;
        assert!(
            out.is_error && text(&out).contains("invalid glob"),
            "{out:?}"
        );
    }

    #[test]
    fn globs_split_on_commas_outside_braces() {
        assert_eq!(split_globs("*.{ts,tsx}"), vec!["*.{ts,tsx}"]);
        assert_eq!(split_globs("*.ts, *.js"), vec!["*.ts", "*.js"]);
        assert_eq!(split_globs("Page - *.md"), vec!["Page - *.md"]);
    }
}
