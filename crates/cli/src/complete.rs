//! Tab completion of `/` commands and skills in the REPL.

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// Completes the first word of a line that starts with `/`.
pub struct SlashCompleter {
    /// `(name with slash, what it does)`, sorted.
    names: Vec<(String, String)>,
}

impl SlashCompleter {
    pub fn new(mut names: Vec<(String, String)>) -> Self {
        names.sort();
        names.dedup_by(|a, b| a.0 == b.0);
        Self { names }
    }

    fn candidates(&self, word: &str) -> Vec<Pair> {
        self.names
            .iter()
            .filter(|(n, _)| n.starts_with(word))
            .map(|(n, what)| Pair {
                display: if what.is_empty() {
                    n.clone()
                } else {
                    format!("{n}  {what}")
                },
                replacement: format!("{n} "),
            })
            .collect()
    }
}

impl Completer for SlashCompleter {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // Each stacked skill (`/a /b args`) completes too: the word under the cursor.
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[start..];
        let only_skills_before = before[..start]
            .split_whitespace()
            .all(|w| w.starts_with('/'));
        if !word.starts_with('/') || !only_skills_before {
            return Ok((pos, Vec::new()));
        }
        Ok((start, self.candidates(word)))
    }
}

impl Hinter for SlashCompleter {
    type Hint = String;
}

impl Highlighter for SlashCompleter {}

impl Validator for SlashCompleter {}

impl Helper for SlashCompleter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_slash_words_only() {
        let c = SlashCompleter::new(vec![
            ("/daily".into(), "Daily note".into()),
            ("/deploy".into(), String::new()),
            ("/help".into(), "commands".into()),
        ]);
        let got: Vec<String> = c
            .candidates("/d")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(got, ["/daily ", "/deploy "]);
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, found) = c.complete("/daily /he", 10, &ctx).unwrap();
        assert_eq!((start, found.len()), (7, 1));
        let (_, found) = c.complete("hello /d", 8, &ctx).unwrap();
        assert!(found.is_empty());
    }
}
