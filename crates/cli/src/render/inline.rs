//! Inline Markdown (code spans, emphasis, strikethrough, links, autolinks,
//! backslash escapes) as an incremental transducer over one line.
//!
//! The line may still be growing. Output is committed up to the first
//! construct whose meaning depends on bytes not seen yet; the caller calls
//! again with the longer line and the same [`Cursor`]. Because every decision
//! taken on a prefix is one the full line would also take, the bytes produced
//! do not depend on where the line was cut.
//!
//! That is only possible because a closing delimiter must start within a
//! bounded window of its opener ([`SPAN_WINDOW`], [`URL_WINDOW`]): CommonMark
//! lets `**` wait for its partner until the end of the paragraph, which would
//! force the renderer to hold text back without bound. Past the window the
//! opener is shown literally. The window also bounds how long a stray `*` or
//! backtick can hold back output, and how much is ever re-scanned.
//!
//! Deliberate simplifications, each for the sake of a single forward pass:
//! emphasis pairs a run with the next flanking run of the same character and
//! length (no delimiter stack, no "rule of three"); code spans do not hide
//! delimiters from an enclosing emphasis scan; spans never cross lines.

use super::ansi::{self, Attrs, Color};

/// Maximum distance in bytes from an opener to the start of its closer, for
/// code spans, emphasis, strikethrough and link text.
pub(crate) const SPAN_WINDOW: usize = 256;

/// Maximum length of a link destination or autolink; URLs are long.
pub(crate) const URL_WINDOW: usize = 1024;

/// Longest backtick run that opens a code span; longer ones are text.
const MAX_TICKS: usize = 16;

const CODE: Attrs = Attrs::fg(Color::Indexed(180)).on(Color::Indexed(236));
const LINK: Attrs = Attrs::fg(Color::Theme(12)).underline();
const URL: Attrs = ansi::PLAIN.dim();

/// Progress through a line: everything before `pos` has been written.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cursor {
    pub pos: usize,
    /// The character before `pos`, which decides whether `_` may open.
    pub prev: Option<char>,
    /// `prev` ended a delimiter run too long to mean anything, written as
    /// text before the line had all of it; more of the same continues it.
    pub in_run: bool,
}

enum Step {
    /// Consumed up to here; the last character consumed.
    To(usize, char),
    /// A literal delimiter run ends here, and may continue.
    Run(usize, char),
    /// Needs bytes beyond the end of the line seen so far.
    Stall,
}

enum Find<T> {
    Found(T),
    Absent,
    More,
}

fn is_special(b: u8) -> bool {
    matches!(b, b'\\' | b'`' | b'*' | b'_' | b'~' | b'[' | b'!' | b'<')
}

/// Writes as much of `s[cur.pos..]` as is decided. `complete` says `s` is the
/// whole line; then everything is written. Spans are closed by re-stating
/// `base`, so a caller with a plain base leaves the terminal plain after every
/// call, even mid-line.
pub(crate) fn render(s: &str, cur: &mut Cursor, complete: bool, base: Attrs, out: &mut String) {
    let b = s.as_bytes();
    while cur.pos < b.len() {
        if cur.in_run {
            if cur.prev == Some(char::from(b[cur.pos])) {
                let n = run_upto(b, cur.pos, usize::MAX);
                out.push_str(&s[cur.pos..cur.pos + n]);
                cur.pos += n;
                continue;
            }
            cur.in_run = false;
        }
        let plain = b[cur.pos..]
            .iter()
            .position(|&c| is_special(c))
            .unwrap_or(b.len() - cur.pos);
        if plain > 0 {
            let text = &s[cur.pos..cur.pos + plain];
            ansi::push_text(out, text);
            cur.prev = text.chars().next_back();
            cur.pos += plain;
            continue;
        }
        match step(s, cur.pos, cur.prev, complete, base, out) {
            Step::To(pos, last) => {
                cur.pos = pos;
                cur.prev = Some(last);
            }
            Step::Run(pos, last) => {
                cur.pos = pos;
                cur.prev = Some(last);
                cur.in_run = true;
            }
            Step::Stall => return,
        }
    }
}

/// Renders a complete fragment (the inside of a span).
fn render_all(s: &str, prev: char, base: Attrs, out: &mut String) {
    let mut cur = Cursor {
        pos: 0,
        prev: Some(prev),
        in_run: false,
    };
    render(s, &mut cur, true, base, out);
}

fn step(
    s: &str,
    at: usize,
    prev: Option<char>,
    complete: bool,
    base: Attrs,
    out: &mut String,
) -> Step {
    let b = s.as_bytes();
    let c = b[at];
    let literal = |out: &mut String, n: usize| {
        out.push_str(&s[at..at + n]);
        Step::To(at + n, char::from(c))
    };
    match c {
        b'\\' => match s[at + 1..].chars().next() {
            None if !complete => Step::Stall,
            Some(e) if e.is_ascii_punctuation() => {
                out.push(e);
                Step::To(at + 2, e)
            }
            _ => literal(out, 1),
        },
        b'`' => {
            let n = run_upto(b, at, MAX_TICKS + 1);
            if n > MAX_TICKS {
                return long_run(s, at, out);
            }
            if at + n == b.len() && !complete {
                return Step::Stall;
            }
            match find_code_close(b, at, n, complete) {
                Find::More => Step::Stall,
                Find::Absent => literal(out, n),
                Find::Found(close) => {
                    let mut inner = &s[at + n..close];
                    if inner.len() >= 2
                        && inner.starts_with(' ')
                        && inner.ends_with(' ')
                        && inner.bytes().any(|c| c != b' ')
                    {
                        inner = &inner[1..inner.len() - 1];
                    }
                    ansi::sgr(out, base.with(CODE));
                    ansi::push_text(out, inner);
                    ansi::sgr(out, base);
                    Step::To(close + n, '`')
                }
            }
        }
        b'*' | b'_' | b'~' => {
            let n = run_upto(b, at, 4);
            if n > 3 || (c == b'~' && n > 2) {
                return long_run(s, at, out);
            }
            if at + n == b.len() && !complete {
                return Step::Stall;
            }
            let style = match (c, n) {
                (b'~', 2) => Attrs::default().strike(),
                (b'~', _) => return literal(out, n),
                (_, 1) => Attrs::default().italic(),
                (_, 2) => Attrs::default().bold(),
                (_, 3) => Attrs::default().bold().italic(),
                _ => return literal(out, n),
            };
            let Some(next) = s[at + n..].chars().next() else {
                return literal(out, n);
            };
            // `_` inside a word is punctuation (`snake_case`), not emphasis.
            let intraword = c == b'_' && prev.is_some_and(char::is_alphanumeric);
            if next.is_whitespace() || intraword {
                return literal(out, n);
            }
            match find_delim_close(s, at, c, n, complete) {
                Find::More => Step::Stall,
                Find::Absent => literal(out, n),
                Find::Found(close) => {
                    let inner_base = base.with(style);
                    ansi::sgr(out, inner_base);
                    render_all(&s[at + n..close], char::from(c), inner_base, out);
                    ansi::sgr(out, base);
                    Step::To(close + n, char::from(c))
                }
            }
        }
        b'[' => link(s, at, at, complete, base, out),
        b'!' => match b.get(at + 1) {
            None if !complete => Step::Stall,
            Some(b'[') => link(s, at, at + 1, complete, base, out),
            _ => literal(out, 1),
        },
        b'<' => match find_autolink(b, at, complete) {
            Find::More => Step::Stall,
            Find::Absent => literal(out, 1),
            Find::Found(close) => {
                ansi::sgr(out, base.with(LINK));
                ansi::push_text(out, &s[at + 1..close]);
                ansi::sgr(out, base);
                Step::To(close + 1, '>')
            }
        },
        _ => unreachable!("only called on special bytes"),
    }
}

/// Length of the run of `b[at]` starting at `at`, counted up to `cap`: a
/// run at the end of a growing line is looked at again on every delta, so
/// only as much is counted as the decision needs.
fn run_upto(b: &[u8], at: usize, cap: usize) -> usize {
    b[at..]
        .iter()
        .take(cap)
        .take_while(|&&c| c == b[at])
        .count()
}

/// A run no opener can start (`****`, a long row of backticks): written
/// whole, and continued by the same character on the next call.
fn long_run(s: &str, at: usize, out: &mut String) -> Step {
    let n = run_upto(s.as_bytes(), at, usize::MAX);
    out.push_str(&s[at..at + n]);
    Step::Run(at + n, char::from(s.as_bytes()[at]))
}

/// Skips the rest of a run that started before `j`, not past `limit`.
fn skip_run(b: &[u8], mut j: usize, c: u8, limit: usize) -> usize {
    while j < limit && b[j] == c {
        j += 1;
    }
    j
}

/// The start of a backtick run of exactly `n` after the opener at `open`.
fn find_code_close(b: &[u8], open: usize, n: usize, complete: bool) -> Find<usize> {
    let limit = b.len().min(open + SPAN_WINDOW + 1);
    let mut j = open + n;
    while let Some(k) = b[j.min(limit)..limit].iter().position(|&c| c == b'`') {
        j += k;
        let m = run_upto(b, j, n + 1);
        if m <= n && j + m == b.len() && !complete {
            return Find::More;
        }
        if m == n {
            return Find::Found(j);
        }
        j = skip_run(b, j + m, b'`', limit);
    }
    end_of_data(b.len(), open, SPAN_WINDOW, complete)
}

/// Nothing matched in `b[..len]`: the answer is final once the window is
/// used up or the line is complete.
fn end_of_data<T>(len: usize, open: usize, window: usize, complete: bool) -> Find<T> {
    if complete || len - open > window {
        Find::Absent
    } else {
        Find::More
    }
}

/// The start of a run of exactly `n` × `c` that can close: not preceded by
/// whitespace and, for `_`, not followed by a letter or digit (so that
/// `snake_case_name` stays literal).
fn find_delim_close(s: &str, open: usize, c: u8, n: usize, complete: bool) -> Find<usize> {
    let b = s.as_bytes();
    let limit = b.len().min(open + SPAN_WINDOW + 1);
    let mut j = open + n;
    while let Some(k) = b[j.min(limit)..limit].iter().position(|&x| x == c) {
        j += k;
        let m = run_upto(b, j, n + 1);
        if m <= n && j + m == b.len() && !complete {
            return Find::More;
        }
        let before = s[..j]
            .chars()
            .next_back()
            .is_some_and(|p| !p.is_whitespace());
        let after_ok = c != b'_'
            || !s[j + m..]
                .chars()
                .next()
                .is_some_and(|a| a.is_alphanumeric());
        if m == n && before && after_ok {
            return Find::Found(j);
        }
        j = skip_run(b, j + m, c, limit);
    }
    end_of_data(b.len(), open, SPAN_WINDOW, complete)
}

/// `[text](dest)` with `[` at `open`; `start` is where the construct begins
/// (`!` for images, which are shown like links since a terminal cannot show
/// the picture).
fn link(s: &str, start: usize, open: usize, complete: bool, base: Attrs, out: &mut String) -> Step {
    let b = s.as_bytes();
    match find_link(b, open, complete) {
        Find::More => Step::Stall,
        Find::Absent => {
            out.push_str(&s[start..open + 1]);
            Step::To(open + 1, '[')
        }
        Find::Found((text_end, dest_end)) => {
            let text = &s[open + 1..text_end];
            let dest = destination(&s[text_end + 2..dest_end]);
            if !text.is_empty() {
                let inner = base.with(LINK);
                ansi::sgr(out, inner);
                render_all(text, '[', inner, out);
                ansi::sgr(out, base);
            }
            if !dest.is_empty() && dest != text {
                if !text.is_empty() {
                    out.push(' ');
                }
                ansi::sgr(out, base.with(URL));
                out.push('(');
                ansi::push_text(out, dest);
                out.push(')');
                ansi::sgr(out, base);
            }
            Step::To(dest_end + 1, ')')
        }
    }
}

/// The URL of a link destination: `<…>` unwrapped, a `"title"` dropped.
fn destination(raw: &str) -> &str {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('<')
        && let Some(end) = inner.find('>')
    {
        return &inner[..end];
    }
    raw.split_whitespace().next().unwrap_or("")
}

/// Index of the `]` ending the text and of the `)` ending the destination.
fn find_link(b: &[u8], open: usize, complete: bool) -> Find<(usize, usize)> {
    let Some(text_end) = (match balanced(b, open, b'[', b']', SPAN_WINDOW, complete) {
        Find::Found(j) => Some(j),
        Find::Absent => None,
        Find::More => return Find::More,
    }) else {
        return Find::Absent;
    };
    match b.get(text_end + 1) {
        None if !complete => return Find::More,
        Some(b'(') => {}
        _ => return Find::Absent,
    }
    match balanced(b, text_end + 1, b'(', b')', URL_WINDOW, complete) {
        Find::Found(j) => Find::Found((text_end, j)),
        Find::Absent => Find::Absent,
        Find::More => Find::More,
    }
}

/// The `close` matching the `open` byte at `at`, honouring nesting and
/// backslash escapes, within `window` bytes.
fn balanced(
    b: &[u8],
    at: usize,
    open: u8,
    close: u8,
    window: usize,
    complete: bool,
) -> Find<usize> {
    let mut depth = 0usize;
    let mut j = at + 1;
    while j < b.len() {
        if j - at > window {
            return Find::Absent;
        }
        match b[j] {
            b'\\' => j += 1,
            x if x == open => depth += 1,
            x if x == close => {
                if depth == 0 {
                    return Find::Found(j);
                }
                depth -= 1;
            }
            _ => {}
        }
        j += 1;
    }
    end_of_data(b.len().min(j), at, window, complete)
}

/// `<scheme:…>` for the schemes a reply plausibly contains; anything else
/// (HTML, generics such as `Vec<T>`) stays literal.
fn find_autolink(b: &[u8], open: usize, complete: bool) -> Find<usize> {
    const SCHEMES: [&[u8]; 3] = [b"https://", b"http://", b"mailto:"];
    let rest = &b[open + 1..];
    let matched = SCHEMES.iter().any(|s| rest.starts_with(s));
    if !matched {
        let could = SCHEMES
            .iter()
            .any(|s| rest.len() < s.len() && s.starts_with(rest));
        return if could && !complete {
            Find::More
        } else {
            Find::Absent
        };
    }
    for (k, &c) in rest.iter().enumerate() {
        if k + 1 > URL_WINDOW {
            return Find::Absent;
        }
        match c {
            b'>' => return Find::Found(open + 1 + k),
            b'<' | b' ' | b'\t' => return Find::Absent,
            _ => {}
        }
    }
    end_of_data(b.len(), open, URL_WINDOW, complete)
}
