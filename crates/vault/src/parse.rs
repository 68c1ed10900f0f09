//! Parsing one Markdown note: frontmatter, tags and wiki-links.

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// What the index keeps of one note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedNote {
    /// The frontmatter as JSON (empty when absent or malformed).
    pub frontmatter: Map<String, Value>,
    /// Line (1-based, in the file) and message when the frontmatter is malformed.
    pub frontmatter_error: Option<(usize, String)>,
    /// The text after the frontmatter.
    pub body: String,
    /// Tags without `#`, deduplicated, in order of appearance.
    pub tags: Vec<String>,
    /// Wiki-link targets (`[[Target|alias]]` → `Target`), without heading or block part.
    pub links: Vec<String>,
}

impl ParsedNote {
    /// A frontmatter value as text (`type`, `status`, …), scalars only.
    pub fn scalar(&self, key: &str) -> Option<String> {
        match self.frontmatter.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Parse a note's text.
pub fn parse_note(text: &str) -> ParsedNote {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut note = ParsedNote::default();
    let (yaml, body) = split_frontmatter(text);
    note.body = body.to_string();
    if let Some(yaml) = yaml {
        match YamlLoader::load_from_str(yaml) {
            Ok(docs) => {
                if let Some(Yaml::Hash(h)) = docs.into_iter().next() {
                    for (k, v) in h {
                        if let Some(k) = yaml_key(&k) {
                            note.frontmatter.insert(k, yaml_to_json(v));
                        }
                    }
                }
            }
            // Markers count lines from 1 and the frontmatter starts on line 2 of the file; an error
            // found at the end of the block is reported on its last line.
            Err(e) => {
                let last = yaml.lines().count().max(1);
                let line = e.marker().line().clamp(1, last) + 1;
                note.frontmatter_error = Some((line, e.info().to_string()));
            }
        }
    }
    let mut tags = Vec::new();
    match note
        .frontmatter
        .get("tags")
        .or_else(|| note.frontmatter.get("tag"))
    {
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::String(s) = item {
                    push_tag_list(&mut tags, s);
                }
            }
        }
        Some(Value::String(s)) => push_tag_list(&mut tags, s),
        _ => {}
    }
    // Links as Obsidian sees them: in frontmatter values (attendees, relatedTo, …), never in a YAML
    // comment; in the body outside code blocks and inline code.
    let mut links = Vec::new();
    match yaml {
        Some(_) if note.frontmatter_error.is_none() => {
            for v in note.frontmatter.values() {
                value_links(v, &mut links);
            }
        }
        Some(raw) => links_in(raw, &mut links),
        None => {}
    }
    scan_body(&note.body, &mut tags, &mut links);
    note.tags = tags;
    note.links = links;
    note
}

fn split_frontmatter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, text)
}

/// A YAML mapping key as text (strings, numbers, booleans); other keys are dropped.
pub fn yaml_key(k: &Yaml) -> Option<String> {
    match k {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A YAML value as JSON, as frontmatter is kept: reals that JSON cannot hold stay text, aliases
/// and bad values become null. Skills' and agents' frontmatter is read the same way.
pub fn yaml_to_json(y: Yaml) -> Value {
    match y {
        Yaml::String(s) => Value::String(s),
        Yaml::Integer(i) => Value::from(i),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(r), Value::Number),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(a) => Value::Array(a.into_iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.into_iter()
                .filter_map(|(k, v)| yaml_key(&k).map(|k| (k, yaml_to_json(v))))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn push_tag(tags: &mut Vec<String>, tag: &str) {
    let tag = tag.trim().trim_start_matches('#').trim();
    if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
        tags.push(tag.to_string());
    }
}

/// A frontmatter tag string may hold several tags: `"a, b"` or `"a b"`.
fn push_tag_list(tags: &mut Vec<String>, s: &str) {
    for t in s.split([',', ' ']) {
        push_tag(tags, t);
    }
}

/// Links in the strings of a frontmatter value.
fn value_links(v: &Value, links: &mut Vec<String>) {
    match v {
        Value::String(s) => links_in(s, links),
        Value::Array(items) => items.iter().for_each(|v| value_links(v, links)),
        Value::Object(map) => map.values().for_each(|v| value_links(v, links)),
        _ => {}
    }
}

/// Every `[[…]]` of a text with no code in it (a frontmatter value).
fn links_in(text: &str, links: &mut Vec<String>) {
    for line in text.lines() {
        let mut rest = line;
        while let Some(start) = rest.find("[[") {
            rest = &rest[start..];
            rest = &rest[take_link(rest, links)..];
        }
    }
}

/// `line` starts with `[[`: records the link and returns how many bytes it spans (2 when it is
/// not a link, so the scan goes on after the brackets).
fn take_link(line: &str, links: &mut Vec<String>) -> usize {
    let after = &line[2..];
    let Some(end) = after.find("]]") else {
        return 2;
    };
    let inner = &after[..end];
    if inner.contains("[[") {
        return 2;
    }
    push_link(links, inner);
    end + 4
}

/// `Target|alias`, `Target#Heading`, `Target^block`, `Target.md`, `Target\|alias` (a pipe escaped
/// inside a table) → `Target`.
fn push_link(links: &mut Vec<String>, inner: &str) {
    let target = inner.split('|').next().unwrap_or("");
    let target = target.split(['#', '^']).next().unwrap_or("");
    let target = target.trim_end_matches('\\').trim();
    let target = target.strip_suffix(".md").unwrap_or(target);
    if !target.is_empty() && !links.iter().any(|t| t == target) {
        links.push(target.to_string());
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/')
}

/// One pass over the body for `#tags` and `[[links]]`, outside code fences and inline code. A tag
/// follows whitespace or starts a line and has at least one non-digit (so `#1` is not a tag).
/// `memchr` jumps from one line end or marker byte to the next: at 100,000 notes the body scan
/// was a third of the parse, most of it stepping over ordinary bytes one at a time.
fn scan_body(body: &str, tags: &mut Vec<String>, links: &mut Vec<String>) {
    let mut in_fence = false;
    let mut start = 0;
    while start < body.len() {
        let end =
            memchr::memchr(b'\n', &body.as_bytes()[start..]).map_or(body.len(), |n| start + n);
        let line = &body[start..end];
        start = end + 1;
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            scan_line(line, tags, links);
        }
    }
}

/// Tags and links of one line outside a fence; backticks open and close inline code.
fn scan_line(line: &str, tags: &mut Vec<String>, links: &mut Vec<String>) {
    let bytes = line.as_bytes();
    let mut in_code = false;
    let mut i = 0;
    while let Some(n) = memchr::memchr3(b'`', b'#', b'[', &bytes[i..]) {
        i += n;
        match bytes[i] {
            b'`' => in_code = !in_code,
            b'#' if !in_code
                && line[..i]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace) =>
            {
                let rest = &line[i + 1..];
                let end = rest.find(|c: char| !is_tag_char(c)).unwrap_or(rest.len());
                let tag = rest[..end].trim_end_matches('/');
                if !tag.is_empty() && tag.chars().any(|c| !c.is_ascii_digit()) {
                    push_tag(tags, tag);
                }
                i += 1 + end;
                continue;
            }
            b'[' if !in_code && bytes.get(i + 1) == Some(&b'[') => {
                i += take_link(&line[i..], links);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontmatter_scalars_lists_and_comments() {
        let n = parse_note(
            "---\ntype: Adr\nstatus: draft # draft | proposed\ntags: [type/adr, activity/architecture]\ncreated: 2025-12-01\npriority: 2\n---\n# Title\nBody #inline/tag and `#code` and #123.\n",
        );
        assert_eq!(n.scalar("type").as_deref(), Some("Adr"));
        assert_eq!(n.scalar("status").as_deref(), Some("draft"));
        assert_eq!(n.scalar("created").as_deref(), Some("2025-12-01"));
        assert_eq!(n.scalar("priority").as_deref(), Some("2"));
        assert_eq!(n.tags, ["type/adr", "activity/architecture", "inline/tag"]);
        assert!(n.body.starts_with("# Title"));
        assert!(n.frontmatter_error.is_none());
    }

    #[test]
    fn tags_as_block_list_and_string() {
        let n = parse_note("---\ntags:\n  - ADR\n  - \"#technology/aws\"\n---\nx");
        assert_eq!(n.tags, ["ADR", "technology/aws"]);
        let n = parse_note("---\ntags: a, b c\n---\n```\n#notatag\n```\n");
        assert_eq!(n.tags, ["a", "b", "c"]);
    }

    #[test]
    fn every_link_variant() {
        let n = parse_note(
            "---\nattendees:\n  - \"[[Alex Johnson]]\"\n---\nSee [[Note]], [[Other|alias]], [[Third#Heading]], ![[diagram.png]], [[Folder/Deep.md|x]] and [[Note]] again, [[Block^abc]].",
        );
        assert_eq!(
            n.links,
            [
                "Alex Johnson",
                "Note",
                "Other",
                "Third",
                "diagram.png",
                "Folder/Deep",
                "Block"
            ]
        );
    }

    /// Obsidian sees no link in a YAML comment, a code block or inline code.
    #[test]
    fn no_links_in_comments_or_code() {
        let n = parse_note(
            "---\nowner: null # \"[[X]]\"\nlead: \"[[Lead]]\"\nteam:\n  members: [\"[[Member]]\"]\n---\n```md\n[[In Fence]] #fenced\n```\nSee `[[Inline]]` and [[Real]]; | [[Table\\|shown]] |\n~~~\n[[Tilde]]\n~~~\n",
        );
        assert_eq!(n.links, ["Lead", "Member", "Real", "Table"]);
        assert!(n.tags.is_empty(), "{:?}", n.tags);
    }

    #[test]
    fn malformed_frontmatter_keeps_the_body_and_names_the_line() {
        let n =
            parse_note("---\ntype: Adr\ntitle: [unclosed\nstatus: x\n---\nbody #tag [[Link]]\n");
        let (line, _) = n.frontmatter_error.clone().expect("error");
        assert!((2..=5).contains(&line), "line {line}");
        assert!(n.frontmatter.is_empty());
        assert_eq!(n.tags, ["tag"]);
        assert_eq!(n.links, ["Link"]);
        assert!(n.body.starts_with("body"));
    }

    #[test]
    fn no_frontmatter() {
        let n = parse_note("<%* tp %>\n---\ntype: ADR\n---\n");
        assert!(n.frontmatter.is_empty());
        assert!(n.body.starts_with("<%*"));
    }

    /// Every note of the fixture parses; the variants it uses come out as expected.
    #[allow(clippy::print_stderr)]
    #[test]
    fn fixture_variants() {
        let Some(root) = claude_test_support::fixtures::shared_file("fixtures/architectkb") else {
            eprintln!("skipping: ../shared not present");
            return;
        };
        let text = std::fs::read_to_string(root.join("ADRs/ADR - Adopt GraphQL for API Layer.md"))
            .unwrap();
        let n = parse_note(&text);
        assert_eq!(n.scalar("type").as_deref(), Some("Adr"));
        assert_eq!(n.scalar("status").as_deref(), Some("proposed"));
        assert!(n.tags.iter().any(|t| t == "technology/graphql"));
        assert!(n.links.iter().any(|l| l == "Alex Johnson"));
        assert!(
            n.links
                .iter()
                .any(|l| l == "Project - API Gateway Modernisation")
        );
        let mut parsed = 0;
        for entry in ignore::WalkBuilder::new(&root)
            .hidden(false)
            .build()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                let _ = parse_note(&text);
                parsed += 1;
            }
        }
        assert!(parsed > 100);
    }
}
