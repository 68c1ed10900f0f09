//! A small reader for the POSIX shell language, just enough for permission
//! checks: it splits a command line into the simple commands that would run
//! (at `&&`, `||`, `;`, `|`, `&`, newlines and parentheses), keeps quoting
//! intact (`echo "a && b"` is one command), pulls the commands out of
//! `$(…)`, backticks and `<(…)`, skips comments and here-document bodies,
//! and separates redirections from words.
//!
//! It never runs anything and never expands anything. When it cannot make
//! sense of the text (an unclosed quote, a `$(` without its `)`) it says so
//! through [`Script::complete`], and the caller refuses to allow.

/// One word as written (`raw`, quotes included) and with the quotes and
/// backslashes removed (`value`). Substitutions stay as written in both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Word {
    pub raw: String,
    pub value: String,
}

/// `>`, `>>`, `2>`, `&>`, `<`, `<<`, `>&`, … and the word after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redirect {
    pub op: String,
    pub target: Word,
}

impl Redirect {
    /// Output to a file (not to `/dev/null` or another descriptor).
    pub(crate) fn writes_file(&self) -> bool {
        self.op.contains('>') && !self.harmless()
    }

    /// Redirections that change nothing a permission rule cares about:
    /// descriptor duplication (`2>&1`, `>&-`) and `/dev/null`.
    pub(crate) fn harmless(&self) -> bool {
        let target = self.target.value.as_str();
        if self.op.ends_with('&') {
            return target == "-"
                || (!target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()));
        }
        self.op.contains('>') && matches!(target, "/dev/null" | "/dev/stdout" | "/dev/stderr")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SimpleCommand {
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    /// Every simple command, those inside substitutions included.
    pub commands: Vec<SimpleCommand>,
    /// False when the text could not be read with certainty.
    pub complete: bool,
}

/// Substitutions nest; deeper than this is treated as unreadable.
const MAX_DEPTH: usize = 16;

pub(crate) fn parse(src: &str) -> Script {
    let mut script = Script {
        commands: Vec::new(),
        complete: true,
    };
    parse_into(src, 0, &mut script);
    script
}

fn parse_into(src: &str, depth: usize, script: &mut Script) {
    if depth > MAX_DEPTH {
        script.complete = false;
        return;
    }
    let mut p = Parser {
        chars: src.chars().collect(),
        pos: 0,
        depth,
        script,
        current: SimpleCommand::default(),
        word: None,
        redirect_op: None,
        heredocs: Vec::new(),
    };
    p.run();
}

struct Heredoc {
    delimiter: String,
    /// An unquoted delimiter means the body is expanded, so `$(…)` in it runs.
    expands: bool,
    strip_tabs: bool,
}

struct Parser<'s> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    script: &'s mut Script,
    current: SimpleCommand,
    word: Option<Word>,
    redirect_op: Option<String>,
    heredocs: Vec<Heredoc>,
}

impl Parser<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn word(&mut self) -> &mut Word {
        self.word.get_or_insert_with(Word::default)
    }

    fn push_both(&mut self, c: char) {
        let w = self.word();
        w.raw.push(c);
        w.value.push(c);
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' => {
                    self.finish_word();
                    self.pos += 1;
                }
                '\n' => {
                    self.finish_word();
                    self.finish_command();
                    self.pos += 1;
                    self.read_heredoc_bodies();
                }
                ';' | '|' => {
                    self.finish_word();
                    self.finish_command();
                    self.pos += 1;
                    while matches!(self.peek(0), Some(';' | '|' | '&')) {
                        self.pos += 1;
                    }
                }
                '&' if self.peek(1) == Some('>') && self.word.is_none() => {
                    self.pos += 2;
                    let op = if self.peek(0) == Some('>') {
                        self.pos += 1;
                        "&>>"
                    } else {
                        "&>"
                    };
                    self.start_redirect(op.to_string());
                }
                '&' => {
                    self.finish_word();
                    self.finish_command();
                    self.pos += 1;
                    while matches!(self.peek(0), Some('&' | '|' | ';')) {
                        self.pos += 1;
                    }
                }
                '(' | ')' => {
                    // Subshells, groups and `case` patterns: the commands on
                    // either side are separate.
                    self.finish_word();
                    self.finish_command();
                    self.pos += 1;
                }
                '<' | '>' => self.redirect(c),
                '#' if self.word.is_none() => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\'' => self.single_quoted(),
                '"' => self.double_quoted(),
                '\\' => {
                    match self.peek(1) {
                        Some('\n') => {}
                        Some(next) => {
                            let w = self.word();
                            w.raw.push('\\');
                            w.raw.push(next);
                            w.value.push(next);
                        }
                        None => self.push_both('\\'),
                    }
                    self.pos += 2;
                }
                '`' => self.backticks(),
                '$' => self.dollar(false),
                _ => {
                    self.push_both(c);
                    self.pos += 1;
                }
            }
        }
        self.finish_word();
        self.finish_command();
        if !self.heredocs.is_empty() {
            // A here-document whose body never came.
            self.script.complete = false;
        }
    }

    fn finish_word(&mut self) {
        let Some(word) = self.word.take() else {
            return;
        };
        match self.redirect_op.take() {
            Some(op) => {
                if op.starts_with("<<") && op != "<<<" {
                    self.heredocs.push(Heredoc {
                        expands: word.raw == word.value,
                        delimiter: word.value.clone(),
                        strip_tabs: op == "<<-",
                    });
                }
                self.current.redirects.push(Redirect { op, target: word });
            }
            None => self.current.words.push(word),
        }
    }

    fn finish_command(&mut self) {
        if self.redirect_op.take().is_some() {
            // `ls >` with nothing after it.
            self.script.complete = false;
        }
        let command = std::mem::take(&mut self.current);
        if !command.words.is_empty() || !command.redirects.is_empty() {
            self.script.commands.push(command);
        }
    }

    fn start_redirect(&mut self, op: String) {
        if self.redirect_op.is_some() {
            self.script.complete = false;
        }
        self.redirect_op = Some(op);
    }

    fn redirect(&mut self, c: char) {
        // Process substitution `<(…)` / `>(…)` is a word, not a redirection.
        if self.peek(1) == Some('(') && self.word.is_none() {
            let start = self.pos;
            match self.find_close(self.pos + 2, ')') {
                Some(end) => {
                    let inner: String = self.chars[self.pos + 2..end].iter().collect();
                    parse_into(&inner, self.depth + 1, self.script);
                    let text: String = self.chars[start..=end].iter().collect();
                    let w = self.word();
                    w.raw.push_str(&text);
                    w.value.push_str(&text);
                    self.pos = end + 1;
                }
                None => {
                    self.script.complete = false;
                    self.pos = self.chars.len();
                }
            }
            return;
        }
        // A word of digits right before the operator is a descriptor: `2>`.
        let mut op = String::new();
        if let Some(w) = &self.word {
            if !w.raw.is_empty() && w.raw.chars().all(|d| d.is_ascii_digit()) {
                op.push_str(&w.raw);
                self.word = None;
            } else {
                self.finish_word();
            }
        }
        op.push(c);
        self.pos += 1;
        let rest: String = self.chars[self.pos..].iter().take(2).collect();
        let extra = match c {
            '>' if rest.starts_with('>') || rest.starts_with('|') || rest.starts_with('&') => 1,
            '<' if rest.starts_with("<<") => 2,
            '<' if rest.starts_with("<-") => 2,
            '<' if rest.starts_with('<') || rest.starts_with('&') || rest.starts_with('>') => 1,
            _ => 0,
        };
        // `<<-` is two characters after the first `<`; `<<<` too.
        for _ in 0..extra {
            if let Some(next) = self.peek(0) {
                op.push(next);
                self.pos += 1;
            }
        }
        self.start_redirect(op);
    }

    fn single_quoted(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek(0) {
                Some('\'') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
                None => {
                    self.script.complete = false;
                    break;
                }
            }
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let w = self.word();
        w.raw.push_str(&raw);
        w.value.push_str(&value);
    }

    fn double_quoted(&mut self) {
        self.word().raw.push('"');
        self.pos += 1;
        loop {
            match self.peek(0) {
                Some('"') => {
                    self.word().raw.push('"');
                    self.pos += 1;
                    return;
                }
                Some('\\') => {
                    match self.peek(1) {
                        Some(next @ ('"' | '\\' | '$' | '`')) => {
                            let w = self.word();
                            w.raw.push('\\');
                            w.raw.push(next);
                            w.value.push(next);
                        }
                        Some('\n') => {}
                        Some(next) => {
                            let w = self.word();
                            w.raw.push('\\');
                            w.raw.push(next);
                            w.value.push('\\');
                            w.value.push(next);
                        }
                        None => {
                            self.script.complete = false;
                            return;
                        }
                    }
                    self.pos += 2;
                }
                Some('`') => self.backticks(),
                Some('$') => self.dollar(true),
                Some(c) => {
                    self.push_both(c);
                    self.pos += 1;
                }
                None => {
                    self.script.complete = false;
                    return;
                }
            }
        }
    }

    fn backticks(&mut self) {
        let start = self.pos;
        let mut i = self.pos + 1;
        let mut inner = String::new();
        loop {
            match self.chars.get(i) {
                Some('`') => break,
                Some('\\') if i + 1 < self.chars.len() => {
                    let next = self.chars[i + 1];
                    if !matches!(next, '`' | '\\' | '$') {
                        inner.push('\\');
                    }
                    inner.push(next);
                    i += 2;
                }
                Some(c) => {
                    inner.push(*c);
                    i += 1;
                }
                None => {
                    self.script.complete = false;
                    self.pos = self.chars.len();
                    return;
                }
            }
        }
        parse_into(&inner, self.depth + 1, self.script);
        let text: String = self.chars[start..=i].iter().collect();
        let w = self.word();
        w.raw.push_str(&text);
        w.value.push_str(&text);
        self.pos = i + 1;
    }

    /// `$(…)`, `${…}`, `$((…))`; outside double quotes also `$'…'`
    /// (ANSI-C quoting) and `$"…"` (a translated string).
    fn dollar(&mut self, in_double_quotes: bool) {
        let (open, close) = match self.peek(1) {
            Some('(') => ('(', ')'),
            Some('{') => ('{', '}'),
            Some('\'') if !in_double_quotes => {
                self.ansi_c_quoted();
                return;
            }
            Some('"') if !in_double_quotes => {
                self.word().raw.push('$');
                self.pos += 1;
                self.double_quoted();
                return;
            }
            _ => {
                self.push_both('$');
                self.pos += 1;
                return;
            }
        };
        let start = self.pos;
        let Some(end) = self.find_close(self.pos + 2, close) else {
            self.script.complete = false;
            self.pos = self.chars.len();
            return;
        };
        let inner: String = self.chars[self.pos + 2..end].iter().collect();
        if open == '(' && !inner.starts_with('(') {
            parse_into(&inner, self.depth + 1, self.script);
        } else {
            // `$((…))` is arithmetic and `${x:-$(cmd)}` a parameter: only
            // the substitutions inside them can run anything.
            scan_substitutions(&inner, self.depth + 1, self.script);
        }
        let text: String = self.chars[start..=end].iter().collect();
        let w = self.word();
        w.raw.push_str(&text);
        w.value.push_str(&text);
        self.pos = end + 1;
    }

    /// `$'…'`: backslash escapes are decoded, so `$'\x72m'` is `rm`.
    fn ansi_c_quoted(&mut self) {
        let start = self.pos;
        self.pos += 2;
        let mut value = String::new();
        loop {
            match self.peek(0) {
                Some('\'') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    self.pos += 1;
                    let Some(c) = self.peek(0) else {
                        self.script.complete = false;
                        break;
                    };
                    self.pos += 1;
                    let simple = match c {
                        'n' => Some('\n'),
                        't' => Some('\t'),
                        'r' => Some('\r'),
                        'a' => Some('\u{7}'),
                        'b' => Some('\u{8}'),
                        'e' | 'E' => Some('\u{1b}'),
                        'f' => Some('\u{c}'),
                        'v' => Some('\u{b}'),
                        '\\' | '\'' | '"' | '?' => Some(c),
                        _ => None,
                    };
                    if let Some(decoded) = simple {
                        value.push(decoded);
                        continue;
                    }
                    let (radix, max, digits_start) = match c {
                        'x' => (16, 2, self.pos),
                        'u' => (16, 4, self.pos),
                        'U' => (16, 8, self.pos),
                        '0'..='7' => (8, 3, self.pos - 1),
                        _ => {
                            value.push('\\');
                            value.push(c);
                            continue;
                        }
                    };
                    let mut end = digits_start;
                    while end < self.chars.len()
                        && end - digits_start < max
                        && self.chars[end].is_digit(radix)
                    {
                        end += 1;
                    }
                    let digits: String = self.chars[digits_start..end].iter().collect();
                    match u32::from_str_radix(&digits, radix)
                        .ok()
                        .and_then(char::from_u32)
                    {
                        Some(decoded) => value.push(decoded),
                        None => {
                            value.push('\\');
                            value.push(c);
                        }
                    }
                    self.pos = end.max(self.pos);
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
                None => {
                    self.script.complete = false;
                    break;
                }
            }
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let w = self.word();
        w.raw.push_str(&raw);
        w.value.push_str(&value);
    }

    /// The index of the `close` that ends a construct opened just before
    /// `from`, skipping quoted text and nested pairs.
    fn find_close(&self, from: usize, close: char) -> Option<usize> {
        let open = if close == ')' { '(' } else { '{' };
        let mut depth = 0usize;
        let mut i = from;
        while let Some(&c) = self.chars.get(i) {
            match c {
                '\\' => i += 1,
                '\'' => {
                    i += 1;
                    while self.chars.get(i).is_some_and(|&c| c != '\'') {
                        i += 1;
                    }
                }
                '"' => {
                    i += 1;
                    while let Some(&c) = self.chars.get(i) {
                        if c == '\\' {
                            i += 1;
                        } else if c == '"' {
                            break;
                        }
                        i += 1;
                    }
                }
                '`' => {
                    i += 1;
                    while self.chars.get(i).is_some_and(|&c| c != '`') {
                        if self.chars[i] == '\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    if depth == 0 {
                        return Some(i);
                    }
                    depth -= 1;
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// After a newline: the bodies of the here-documents opened on the line
    /// just ended. They are data, except for substitutions in an unquoted one.
    fn read_heredoc_bodies(&mut self) {
        for doc in std::mem::take(&mut self.heredocs) {
            let mut body = String::new();
            let mut found = false;
            while self.pos < self.chars.len() {
                let end = self.chars[self.pos..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(self.chars.len(), |n| self.pos + n);
                let line: String = self.chars[self.pos..end].iter().collect();
                self.pos = (end + 1).min(self.chars.len());
                let candidate = if doc.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if candidate == doc.delimiter {
                    found = true;
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if !found {
                self.script.complete = false;
            }
            if doc.expands {
                scan_substitutions(&body, self.depth + 1, self.script);
            }
        }
    }
}

/// The commands inside `$(…)` and backticks in text that is otherwise data
/// (an unquoted here-document body).
fn scan_substitutions(text: &str, depth: usize, script: &mut Script) {
    // Reading the body as the inside of double quotes finds exactly the
    // substitutions bash would run.
    let quoted = format!("\"{}\"", text.replace('"', "\\\""));
    let mut nested = Script {
        commands: Vec::new(),
        complete: true,
    };
    parse_into(&quoted, depth, &mut nested);
    // The text itself, as one quoted word, is the last command read; the
    // ones before it are the substitutions.
    nested.commands.pop();
    script.commands.extend(nested.commands);
    script.complete &= nested.complete;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> (Vec<String>, bool) {
        let script = parse(src);
        let texts = script
            .commands
            .iter()
            .map(|c| {
                let mut parts: Vec<String> = c.words.iter().map(|w| w.raw.clone()).collect();
                parts.extend(
                    c.redirects
                        .iter()
                        .map(|r| format!("{}{}", r.op, r.target.raw)),
                );
                parts.join(" ")
            })
            .collect();
        (texts, script.complete)
    }

    #[test]
    fn splits_at_operators_but_not_inside_quotes() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("ls -la", &["ls -la"], true),
            (
                "a && b || c; d | e & f",
                &["a", "b", "c", "d", "e", "f"],
                true,
            ),
            ("a\nb\n\nc", &["a", "b", "c"], true),
            ("echo \"a && b\"", &["echo \"a && b\""], true),
            ("echo 'a; b' | wc", &["echo 'a; b'", "wc"], true),
            ("echo a\\;b", &["echo a\\;b"], true),
            (
                "(cd x && make) |& tee log",
                &["cd x", "make", "tee log"],
                true,
            ),
            ("echo $(rm -rf x)", &["rm -rf x", "echo $(rm -rf x)"], true),
            (
                "echo \"$(whoami)\"",
                &["whoami", "echo \"$(whoami)\""],
                true,
            ),
            ("echo `id`", &["id", "echo `id`"], true),
            ("echo '$(not run)'", &["echo '$(not run)'"], true),
            (
                "diff <(ls a) <(ls b)",
                &["ls a", "ls b", "diff <(ls a) <(ls b)"],
                true,
            ),
            ("ls # a comment; rm -rf /", &["ls"], true),
            ("ls 2>&1 > out.txt", &["ls 2>&1 >out.txt"], true),
            (
                "echo hi >>log 2>/dev/null",
                &["echo hi >>log 2>/dev/null"],
                true,
            ),
            ("echo \"unclosed", &["echo \"unclosed"], false),
            ("echo $(unclosed", &["echo"], false),
            (
                "echo ${x:-$(rm -rf y)} ${HOME}",
                &["rm -rf y", "echo ${x:-$(rm -rf y)} ${HOME}"],
                true,
            ),
            ("ls >", &["ls"], false),
            ("cat <<EOF\nrm -rf /\nEOF\nls", &["cat <<EOF", "ls"], true),
            ("cat <<EOF\n$(id)\nEOF", &["cat <<EOF", "id"], true),
            ("cat <<'EOF'\n$(id)\nEOF", &["cat <<'EOF'"], true),
            ("cat <<EOF\nno end", &["cat <<EOF"], false),
            ("a=$(b) c", &["b", "a=$(b) c"], true),
        ];
        for (src, want, complete) in cases {
            let (got, ok) = texts(src);
            assert_eq!(got, *want, "{src:?}");
            assert_eq!(ok, *complete, "{src:?}");
        }
    }

    #[test]
    fn ansi_c_and_locale_quotes_are_decoded() {
        let script = parse("$'\\x72m' $'-\\162f' $\"Daily\" \"$'x'\" echo $((1 + $(id -u)))");
        let values: Vec<&str> = script
            .commands
            .last()
            .unwrap()
            .words
            .iter()
            .map(|w| w.value.as_str())
            .collect();
        assert_eq!(values[..4], ["rm", "-rf", "Daily", "$'x'"]);
        assert_eq!(script.commands[0].words[0].value, "id");
        assert_eq!(script.commands.len(), 2, "{:?}", script.commands);
        assert!(script.complete);
    }

    #[test]
    fn values_drop_quotes() {
        let script = parse("rm -rf \"Daily\" 'x y' a\\ b");
        let values: Vec<&str> = script.commands[0]
            .words
            .iter()
            .map(|w| w.value.as_str())
            .collect();
        assert_eq!(values, ["rm", "-rf", "Daily", "x y", "a b"]);
    }

    #[test]
    fn harmless_redirects() {
        let script = parse("a 2>&1 >/dev/null >&- > f");
        let r = &script.commands[0].redirects;
        assert!(r[0].harmless() && r[1].harmless() && r[2].harmless());
        assert!(r[3].writes_file());
    }
}
