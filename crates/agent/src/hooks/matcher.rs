//! Which calls a hook group applies to: Claude Code's `matcher`.
//!
//! `*`, an empty string or no matcher at all match everything. A value made
//! only of letters, digits, `_`, `-`, spaces, `,` and `|` is an exact name
//! or a list of names (`Edit|Write`). Anything else is an unanchored regular
//! expression (`mcp__memory__.*`, `Notebook.*`).

use regex::Regex;

#[derive(Debug, Clone)]
pub enum Matcher {
    All,
    Names(Vec<String>),
    Regex(Regex),
}

impl Matcher {
    /// Parses a matcher; the error is the regular expression's.
    pub fn parse(text: Option<&str>) -> Result<Matcher, String> {
        let text = text.unwrap_or("").trim();
        if text.is_empty() || text == "*" {
            return Ok(Matcher::All);
        }
        let plain = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ' | ',' | '|'));
        if plain {
            let names = text
                .split(['|', ','])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>();
            return Ok(if names.is_empty() {
                Matcher::All
            } else {
                Matcher::Names(names)
            });
        }
        Regex::new(text).map(Matcher::Regex).map_err(|e| {
            // The regex crate's message spans several lines with a caret.
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regular expression")
                .trim()
                .to_string()
        })
    }

    /// Whether the matcher applies to `target` (a tool name, a SessionStart
    /// source, ...). A missing target only matches `All`.
    pub fn matches(&self, target: Option<&str>) -> bool {
        match (self, target) {
            (Matcher::All, _) => true,
            (_, None) => false,
            (Matcher::Names(names), Some(t)) => names.iter().any(|n| n == t),
            (Matcher::Regex(re), Some(t)) => re.is_match(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Matcher {
        Matcher::parse(Some(text)).unwrap()
    }

    #[test]
    fn empty_star_and_missing_match_everything() {
        for text in ["", "*", "  "] {
            assert!(m(text).matches(Some("Write")), "{text:?}");
            assert!(m(text).matches(None), "{text:?}");
        }
        assert!(Matcher::parse(None).unwrap().matches(Some("Bash")));
    }

    #[test]
    fn names_are_exact_and_lists_split_on_bars_and_commas() {
        let one = m("Write");
        assert!(one.matches(Some("Write")));
        assert!(!one.matches(Some("WriteFile")) && !one.matches(Some("write")));
        assert!(!one.matches(None));
        let list = m("Edit|Write");
        assert!(list.matches(Some("Edit")) && list.matches(Some("Write")));
        assert!(!list.matches(Some("MultiEdit")), "a list is not a regex");
        let spaced = m("Read, Glob | Grep");
        for t in ["Read", "Glob", "Grep"] {
            assert!(spaced.matches(Some(t)), "{t}");
        }
        assert!(m("startup").matches(Some("startup")));
        assert!(!m("startup").matches(Some("resume")));
    }

    #[test]
    fn anything_else_is_an_unanchored_regex() {
        let re = m("mcp__memory__.*");
        assert!(re.matches(Some("mcp__memory__create_entities")));
        assert!(!re.matches(Some("mcp__github__search")));
        assert!(m("Notebook.*").matches(Some("NotebookEdit")));
        // Unanchored, as in JavaScript's RegExp.test.
        assert!(m("Edit.?").matches(Some("MultiEdit")));
        assert!(m("^Bash$").matches(Some("Bash")));
        assert!(!m("^Bash$").matches(Some("BashOutput")));
    }

    #[test]
    fn a_bad_regex_is_an_error() {
        let err = Matcher::parse(Some("Edit(")).unwrap_err();
        assert!(err.contains("unclosed"), "{err}");
    }
}
