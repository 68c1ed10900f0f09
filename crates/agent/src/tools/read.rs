//! `Read`: a text file as `cat -n` numbers it, or an image as a content block.

use std::fs::File;
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{self, Res};
use super::{Tool, ToolCtx, ToolOutput};

/// Lines returned when the model gives no `limit`.
pub const DEFAULT_LIMIT: usize = 2000;
/// Characters kept of one line.
pub const MAX_LINE_CHARS: usize = 2000;
/// Characters of numbered output in one call (about 25,000 tokens).
pub const MAX_OUTPUT_CHARS: usize = 100_000;
/// Largest image returned, so that its base64 stays under the API's 5 MB.
pub const MAX_IMAGE_BYTES: u64 = 3_750_000;
/// Bytes sniffed for a NUL to tell binary from text.
const SNIFF: usize = 8192;

const BINARY_EXTENSIONS: &[&str] = &[
    "pdf", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "tar", "jar", "war", "class",
    "exe", "dll", "so", "dylib", "o", "a", "lib", "bin", "wasm", "pyc", "pyo", "mp3", "mp4", "m4a",
    "mov", "avi", "mkv", "wav", "flac", "ogg", "webm", "ttf", "otf", "woff", "woff2", "eot", "ico",
    "bmp", "tif", "tiff", "psd", "heic", "sqlite", "db", "docx", "xlsx", "pptx", "doc", "xls",
    "ppt", "odt", "dmg", "iso", "deb", "rpm",
];

pub struct ReadTool;

const DESCRIPTION: &str = "Reads a file from the local filesystem.

Usage:
- `file_path` should be an absolute path; a relative path is resolved against the current working directory.
- By default up to 2000 lines are returned, starting at the first line. For a long file, pass `offset` (the 1-based line number to start at) and `limit` (how many lines) to read the part you need; the result says which lines it shows and how to read on.
- Lines longer than 2000 characters are cut, and one call returns at most about 100,000 characters.
- Output is numbered like `cat -n`: the line number, a tab, then the line. The number and tab are not part of the file: never include them in an Edit's old_string.
- Images (PNG, JPEG, GIF, WebP up to 3.75 MB) are returned as images you can see.
- Other binary files (PDF, archives, executables, media) are refused; use Bash with a suitable converter (e.g. `pdftotext file.pdf -`) instead.
- Read a directory with Bash `ls` or with Glob, not with Read.
- You can call several tools in one response: when several files may be useful, read them together.
- A file must be read before Write overwrites it or Edit changes it.";

impl Tool for ReadTool {
    fn name(&self) -> &'static str {
        "Read"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "The absolute path to the file to read"},
                "offset": {"type": "integer", "minimum": 0, "description": "The line number to start reading from (1-based). Only provide if the file is too large to read at once"},
                "limit": {"type": "integer", "minimum": 1, "description": "The number of lines to read. Only provide if the file is too large to read at once"}
            },
            "required": ["file_path"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        common::str_field(input, "file_path")
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(run(input, ctx).await) })
    }
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let file_path = common::req_str(&input, "Read", "file_path")?;
    let offset = common::opt_u64(&input, "Read", "offset")?
        .unwrap_or(1)
        .max(1) as usize;
    let limit = match common::opt_u64(&input, "Read", "limit")? {
        Some(0) => {
            return Err(ToolOutput::error(
                "Read: `limit` must be at least 1 (or omitted, for up to 2000 lines).",
            ));
        }
        Some(n) => n as usize,
        None => DEFAULT_LIMIT,
    };
    let path = common::resolve(ctx, file_path);
    let cwd = ctx.cwd();
    let out = common::blocking(move || read_path(&path, &cwd, offset, limit)).await?;
    common::mark_read(ctx, &out.1);
    Ok(out.0)
}

/// Reads and formats; returns the output and the path to record as read.
fn read_path(path: &Path, cwd: &Path, offset: usize, limit: usize) -> Res<(ToolOutput, PathBuf)> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ToolOutput::error(format!(
                "File does not exist: {}. The current working directory is {}. Check the path, or find the file with Glob.",
                path.display(),
                cwd.display()
            )));
        }
        Err(e) => return Err(common::io_error("read", path, &e)),
    };
    if meta.is_dir() {
        return Err(ToolOutput::error(format!(
            "{} is a directory, not a file. List it with Bash `ls` or find files in it with Glob.",
            path.display()
        )));
    }
    let mut file = File::open(path).map_err(|e| common::io_error("read", path, &e))?;
    let mut head = Vec::with_capacity(SNIFF);
    (&mut file)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(|e| common::io_error("read", path, &e))?;

    if let Some(media_type) = image_type(&head) {
        return read_image(path, meta.len(), media_type).map(|o| (o, path.to_path_buf()));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if memchr_nul(&head) || BINARY_EXTENSIONS.contains(&ext.as_str()) {
        let hint = if ext == "pdf" {
            " For a PDF, extract its text with Bash, e.g. `pdftotext \"file.pdf\" -`."
        } else {
            " Inspect it with Bash instead (e.g. `file`, `xxd | head`, or a converter for its format)."
        };
        return Err(ToolOutput::error(format!(
            "{} is a binary file ({} bytes); Read shows text files and PNG, JPEG, GIF or WebP images only.{hint}",
            path.display(),
            meta.len()
        )));
    }

    // Stream the file: lines before `offset` and after the window are only counted.
    let reader = BufReader::with_capacity(64 * 1024, std::io::Cursor::new(head).chain(file));
    let window =
        read_window(reader, offset, limit).map_err(|e| common::io_error("read", path, &e))?;
    Ok((format_window(path, offset, &window), path.to_path_buf()))
}

struct Window {
    /// The numbered text.
    text: String,
    /// Lines shown: first and last (1-based); `shown == 0` when none.
    shown: usize,
    last: usize,
    total: usize,
    cut_lines: usize,
    /// The output cap stopped the window early.
    capped: bool,
}

fn read_window(mut reader: impl BufRead, offset: usize, limit: usize) -> std::io::Result<Window> {
    let mut w = Window {
        text: String::new(),
        shown: 0,
        last: 0,
        total: 0,
        cut_lines: 0,
        capped: false,
    };
    let mut buf = Vec::with_capacity(256);
    let end = offset.saturating_add(limit);
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        w.total += 1;
        let number = w.total;
        if number < offset || number >= end || w.capped {
            continue;
        }
        let mut line = &buf[..];
        if line.ends_with(b"\n") {
            line = &line[..line.len() - 1];
        }
        if line.ends_with(b"\r") {
            line = &line[..line.len() - 1];
        }
        let text = String::from_utf8_lossy(line);
        let text = if text.len() > MAX_LINE_CHARS && text.chars().count() > MAX_LINE_CHARS {
            w.cut_lines += 1;
            format!(
                "{}… [line cut: {} characters in all]",
                common::take_chars(&text, MAX_LINE_CHARS),
                text.chars().count()
            )
        } else {
            text.into_owned()
        };
        if w.shown > 0 && w.text.len() + text.len() > MAX_OUTPUT_CHARS {
            w.capped = true;
            continue;
        }
        common::numbered(&mut w.text, number, &text);
        w.shown += 1;
        w.last = number;
    }
    Ok(w)
}

fn format_window(path: &Path, offset: usize, w: &Window) -> ToolOutput {
    if w.total == 0 {
        return ToolOutput::ok(
            "<system-reminder>Warning: the file exists but its contents are empty.</system-reminder>",
            "Read 0 lines (empty file)",
        );
    }
    if w.shown == 0 {
        return ToolOutput::ok(
            format!(
                "<system-reminder>Warning: the file exists but is shorter than the provided offset ({offset}). The file has {} lines.</system-reminder>",
                w.total
            ),
            format!("Read 0 lines (offset {offset} is past the end)"),
        );
    }
    let mut text = w.text.clone();
    if w.last < w.total {
        let why = if w.capped {
            format!("the output is capped at {MAX_OUTPUT_CHARS} characters")
        } else {
            "the line limit was reached".to_string()
        };
        text.push_str(&format!(
            "\n[Showing lines {offset}-{} of {} ({why}). To read more, call Read with offset={} and a limit of up to {DEFAULT_LIMIT} lines, or find what you need with Grep.]\n",
            w.last,
            w.total,
            w.last + 1
        ));
    }
    if w.cut_lines > 0 {
        text.push_str(&format!(
            "\n[{} cut to {MAX_LINE_CHARS} characters. To see the rest of line N, use Bash, e.g. `sed -n 'Np' \"{}\" | cut -c{}-{}`.]\n",
            common::plural(w.cut_lines, "line was", "lines were"),
            path.display(),
            MAX_LINE_CHARS + 1,
            MAX_LINE_CHARS * 2
        ));
    }
    let summary = if w.shown == w.total {
        format!("Read {}", common::plural(w.shown, "line", "lines"))
    } else {
        format!(
            "Read {} of {}",
            common::plural(w.shown, "line", "lines"),
            w.total
        )
    };
    ToolOutput::ok(text, summary)
}

fn memchr_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

/// The media type of a PNG, JPEG, GIF or WebP, from its first bytes.
fn image_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn read_image(path: &Path, size: u64, media_type: &str) -> Res<ToolOutput> {
    if size > MAX_IMAGE_BYTES {
        return Err(ToolOutput::error(format!(
            "{} is an image of {:.1} MB; Read returns images up to {:.2} MB. Make a smaller copy first (e.g. Bash `convert in.png -resize 50% /tmp/small.png`) and read that.",
            path.display(),
            size as f64 / 1e6,
            MAX_IMAGE_BYTES as f64 / 1e6
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| common::io_error("read", path, &e))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(ToolOutput {
        content: json!([{
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data}
        }]),
        is_error: false,
        summary: format!(
            "Read image ({media_type}, {} KB)",
            bytes.len().div_ceil(1024)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn ctx(dir: &Path) -> ToolCtx {
        ToolCtx::new(dir.to_path_buf(), dir.to_path_buf(), "test".into())
    }

    fn text(o: &ToolOutput) -> &str {
        o.content.as_str().unwrap_or_default()
    }

    #[tokio::test]
    async fn numbers_lines_like_cat_n_and_records_the_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "one\r\ntwo\n\nfour").unwrap();
        let c = ctx(dir.path());
        let out = ReadTool.call(json!({"file_path": "a.txt"}), &c).await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(
            text(&out),
            "     1\tone\n     2\ttwo\n     3\t\n     4\tfour\n"
        );
        assert_eq!(out.summary, "Read 4 lines");
        let canon = fs::canonicalize(dir.path().join("a.txt")).unwrap();
        assert!(c.read_files.lock().unwrap().contains(&canon));
    }

    #[tokio::test]
    async fn offset_and_limit_with_a_note_on_how_to_read_more() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        fs::write(dir.path().join("f"), body).unwrap();
        let c = ctx(dir.path());
        let out = ReadTool
            .call(json!({"file_path": "f", "offset": 3, "limit": 2}), &c)
            .await;
        assert!(
            text(&out).starts_with("     3\tline 3\n     4\tline 4\n"),
            "{}",
            text(&out)
        );
        assert!(text(&out).contains("Showing lines 3-4 of 10"));
        assert!(text(&out).contains("offset=5"));
        let past = ReadTool
            .call(json!({"file_path": "f", "offset": 50}), &c)
            .await;
        assert!(!past.is_error);
        assert!(text(&past).contains("shorter than the provided offset (50)"));
        assert!(text(&past).contains("10 lines"));
        let zero = ReadTool
            .call(json!({"file_path": "f", "limit": 0}), &c)
            .await;
        assert!(zero.is_error);
    }

    #[tokio::test]
    async fn large_files_stop_at_the_default_limit() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (1..=2500).map(|i| format!("{i}\n")).collect();
        fs::write(dir.path().join("big"), body).unwrap();
        let out = ReadTool
            .call(json!({"file_path": "big"}), &ctx(dir.path()))
            .await;
        let t = text(&out);
        assert!(t.contains("  2000\t2000\n"));
        assert!(!t.contains("\t2001\n"));
        assert!(t.contains("Showing lines 1-2000 of 2500"));
        assert!(t.contains("offset=2001"));
        assert_eq!(out.summary, "Read 2000 lines of 2500");
    }

    #[tokio::test]
    async fn output_is_capped_in_characters() {
        let dir = tempfile::tempdir().unwrap();
        let line = "x".repeat(1000);
        let body: String = (0..500).map(|_| format!("{line}\n")).collect();
        fs::write(dir.path().join("wide"), body).unwrap();
        let out = ReadTool
            .call(json!({"file_path": "wide"}), &ctx(dir.path()))
            .await;
        let t = text(&out);
        assert!(t.len() < MAX_OUTPUT_CHARS + 2000);
        assert!(
            t.contains("capped at 100000 characters"),
            "{}",
            &t[t.len() - 300..]
        );
    }

    #[tokio::test]
    async fn long_lines_are_cut_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("long"),
            format!("short\n{}\n", "é".repeat(2500)),
        )
        .unwrap();
        let out = ReadTool
            .call(json!({"file_path": "long"}), &ctx(dir.path()))
            .await;
        let t = text(&out);
        assert!(t.contains("[line cut: 2500 characters in all]"));
        assert!(t.contains("1 line was cut to 2000 characters"));
        assert!(t.contains("cut -c2001-4000"));
    }

    #[tokio::test]
    async fn binary_files_are_refused_and_images_returned() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("blob.dat"), b"abc\0def").unwrap();
        fs::write(dir.path().join("doc.pdf"), b"%PDF-1.4\n").unwrap();
        let c = ctx(dir.path());
        let out = ReadTool.call(json!({"file_path": "blob.dat"}), &c).await;
        assert!(out.is_error && text(&out).contains("binary file"));
        let out = ReadTool.call(json!({"file_path": "doc.pdf"}), &c).await;
        assert!(out.is_error && text(&out).contains("pdftotext"));
        assert!(c.read_files.lock().unwrap().is_empty());

        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake";
        fs::write(dir.path().join("pic.png"), png).unwrap();
        let out = ReadTool.call(json!({"file_path": "pic.png"}), &c).await;
        assert!(!out.is_error);
        assert_eq!(out.content[0]["type"], "image");
        assert_eq!(out.content[0]["source"]["media_type"], "image/png");
        let data = out.content[0]["source"]["data"].as_str().unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
            png
        );
    }

    #[tokio::test]
    async fn missing_files_directories_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = ReadTool.call(json!({"file_path": "nope.txt"}), &c).await;
        assert!(out.is_error && text(&out).starts_with("File does not exist"));
        let out = ReadTool.call(json!({"file_path": "."}), &c).await;
        assert!(out.is_error && text(&out).contains("is a directory"));
        let out = ReadTool.call(json!({}), &c).await;
        assert!(out.is_error && text(&out).contains("`file_path`"));
        fs::write(dir.path().join("empty"), "").unwrap();
        let out = ReadTool.call(json!({"file_path": "empty"}), &c).await;
        assert!(!out.is_error && text(&out).contains("empty"));
    }
}
