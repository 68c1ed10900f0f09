//! YAML frontmatter of skills, commands and agents, read leniently: files
//! written for Claude Code carry keys and values it tolerates, and one
//! broken file must never stop the others from loading.

use std::path::{Path, PathBuf};

use claude_vault::{yaml_key, yaml_to_json};
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Something to fix in one file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl Warning {
    pub fn new(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// A file split into its frontmatter and body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The frontmatter as JSON; empty when absent or malformed.
    pub fields: Map<String, Value>,
    /// Whether the file starts with a `---` block at all.
    pub has_frontmatter: bool,
    /// Line (1-based, in the file) and message when the YAML is malformed.
    pub error: Option<(usize, String)>,
    /// The text after the frontmatter.
    pub body: String,
    /// The line the body starts on (1-based).
    pub body_line: usize,
    /// The line each top-level key is on, for warnings.
    pub key_lines: Vec<(String, usize)>,
}

impl Document {
    pub fn parse(text: &str) -> Document {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some((yaml, body, body_line)) = split(text) else {
            return Document {
                body: text.to_string(),
                body_line: 1,
                ..Document::default()
            };
        };
        let mut doc = Document {
            has_frontmatter: true,
            body: body.to_string(),
            body_line,
            key_lines: key_lines(yaml),
            ..Document::default()
        };
        match YamlLoader::load_from_str(yaml) {
            Ok(docs) => match docs.into_iter().next() {
                Some(Yaml::Hash(h)) => {
                    for (k, v) in h {
                        if let Some(k) = yaml_key(&k) {
                            doc.fields.insert(k, yaml_to_json(v));
                        }
                    }
                }
                None | Some(Yaml::Null) => {}
                Some(_) => doc.error = Some((2, "frontmatter is not a mapping of keys".into())),
            },
            Err(e) => {
                // Markers count from 1 and the YAML starts on the file's second line.
                let last = yaml.lines().count().max(1);
                let line = e.marker().line().clamp(1, last) + 1;
                doc.error = Some((line, e.info().to_string()));
            }
        }
        doc
    }

    /// The line a top-level key is on.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A boolean as Claude Code reads it: `true/false`, `yes/no`, `on/off`, `1/0`.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.fields.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_i64().map(|n| n != 0),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Some(true),
                "false" | "no" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A list given as a YAML list or as one string split on commas (or,
    /// without commas, on whitespace outside parentheses, so
    /// `Bash(git add *) Read` stays two rules).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.fields.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    // `arguments` as a list of objects takes each one's `name`.
                    Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) => split_list(s),
            _ => Vec::new(),
        }
    }
}

/// Splits `a, b` or `a b` into items, never inside parentheses.
pub fn split_list(s: &str) -> Vec<String> {
    let by_comma = s.contains(',');
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let separator = depth == 0
            && if by_comma {
                c == ','
            } else {
                c.is_whitespace()
            };
        if separator {
            let item = current.trim();
            if !item.is_empty() {
                items.push(item.to_string());
            }
            current.clear();
        } else {
            current.push(c);
        }
    }
    let item = current.trim();
    if !item.is_empty() {
        items.push(item.to_string());
    }
    items
}

/// The first paragraph of a Markdown body that is prose: not a heading,
/// not a code fence, not a list marker alone.
pub fn first_paragraph(body: &str) -> Option<String> {
    let mut para: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            if !para.is_empty() {
                break;
            }
            continue;
        }
        if in_code {
            continue;
        }
        if t.is_empty() || t.starts_with('#') || t == "---" {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        para.push(t);
    }
    let text = para.join(" ");
    (!text.is_empty()).then_some(text)
}

/// `(yaml, body, body_line)` when the text opens with a `---` line that is closed.
fn split(text: &str) -> Option<(&str, &str, usize)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            // Line 1 is the opening `---`, the YAML starts on 2, the closing
            // marker is on i + 2 and the body on i + 3.
            return Some((yaml, body, i + 3));
        }
        offset += line.len();
    }
    None
}

fn key_lines(yaml: &str) -> Vec<(String, usize)> {
    yaml.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with([' ', '\t', '-', '#']))
        .filter_map(|(i, l)| {
            let (k, _) = l.split_once(':')?;
            let k = k.trim().trim_matches(['"', '\'']);
            (!k.is_empty()).then(|| (k.to_string(), i + 2))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontmatter_body_and_lines() {
        let d = Document::parse("---\nname: x\nmodel: haiku\n---\n# Title\nbody\n");
        assert!(d.has_frontmatter);
        assert_eq!(d.str("model").as_deref(), Some("haiku"));
        assert_eq!(d.body, "# Title\nbody\n");
        assert_eq!(d.body_line, 5);
        assert_eq!(d.line_of("model"), Some(3));
    }

    #[test]
    fn no_frontmatter_and_unclosed_block() {
        let d = Document::parse("# Agent\n\nDoes things.\n");
        assert!(!d.has_frontmatter);
        assert_eq!(d.body_line, 1);
        let d = Document::parse("---\nname: x\n");
        assert!(!d.has_frontmatter);
    }

    #[test]
    fn yaml_errors_carry_the_file_line() {
        let d = Document::parse("---\nname: x\ndescription: [unclosed\nmodel: haiku\n---\nbody\n");
        let (line, _) = d.error.expect("error");
        assert!((3..=5).contains(&line), "{line}");
        assert!(d.fields.is_empty());
        assert_eq!(d.body, "body\n");
    }

    #[test]
    fn lenient_booleans_and_lists() {
        let d = Document::parse(
            "---\na: yes\nb: off\nc: 1\nd: maybe\ntools: Read, Grep, Bash(git add *)\nallowed: Bash(git status *) Read\nargs:\n  - name: title\n    required: true\n  - name: project\n---\n",
        );
        assert_eq!(d.bool("a"), Some(true));
        assert_eq!(d.bool("b"), Some(false));
        assert_eq!(d.bool("c"), Some(true));
        assert_eq!(d.bool("d"), None);
        assert_eq!(d.list("tools"), ["Read", "Grep", "Bash(git add *)"]);
        assert_eq!(d.list("allowed"), ["Bash(git status *)", "Read"]);
        assert_eq!(d.list("args"), ["title", "project"]);
    }

    #[test]
    fn first_paragraph_skips_headings_and_code() {
        let body = "# Architect\n\n```\ncode\n```\nYou review designs\nfor risk.\n\nMore.\n";
        assert_eq!(
            first_paragraph(body).as_deref(),
            Some("You review designs for risk.")
        );
        assert_eq!(first_paragraph("# Only a title\n"), None);
    }
}
