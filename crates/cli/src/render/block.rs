//! What kind of block a line starts, decided from as little of it as
//! possible.
//!
//! [`classify`] answers `None` while the bytes seen so far could still
//! become more than one kind (`- - ` may end as a rule or a list item, `12`
//! as a list number or a sentence). Once it answers a kind that [streams] for
//! a partial line, no continuation can change the answer; that promise is
//! what lets the stream start writing a list item or a paragraph before its
//! newline arrives. Any other answer for a partial line only means "wait for
//! the newline", and is asked again of the whole line.
//!
//! [streams]: LineKind::streams
//!
//! Out of scope, because a line-at-a-time renderer cannot know them without
//! looking ahead or because replies do not use them: setext headings,
//! indented code blocks (four spaces indent a nested list item far more often
//! in a reply), HTML blocks, fences inside block quotes, tables without a
//! leading pipe.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Leaf {
    Blank,
    Heading {
        level: usize,
        text: Range<usize>,
    },
    Rule,
    /// An opening fence; `info` is the text after the backticks or tildes.
    Fence {
        ch: u8,
        len: usize,
        info: Range<usize>,
    },
    Table {
        separator: bool,
    },
    /// The marker is at `lead`; the item's text starts after it.
    Bullet,
    /// `view[lead..content]` is the number with its `.` or `)`.
    Ordered {
        content: usize,
    },
    Paragraph,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineKind {
    /// End of the leading whitespace.
    pub indent: usize,
    /// End of the block-quote markers (and the whitespace after them);
    /// where the leaf starts.
    pub lead: usize,
    pub quoted: bool,
    pub leaf: Leaf,
}

impl LineKind {
    /// Kinds whose text is inline Markdown after a fixed prefix, and so can
    /// be written while the line is still arriving.
    pub(crate) fn streams(&self) -> bool {
        matches!(
            self.leaf,
            Leaf::Bullet | Leaf::Ordered { .. } | Leaf::Paragraph
        )
    }

    /// Where the inline text of a streaming kind starts.
    pub(crate) fn content(&self) -> usize {
        match self.leaf {
            Leaf::Bullet => self.lead + 1,
            Leaf::Ordered { content } => content,
            _ => self.lead,
        }
    }
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Classifies `view` (one line, without its line ending). With `complete`
/// false, `view` is a prefix of the line and the answer is `None` until it is
/// certain.
pub(crate) fn classify(view: &str, complete: bool) -> Option<LineKind> {
    let b = view.as_bytes();
    let indent = b.iter().take_while(|&&c| is_ws(c)).count();
    let mut lead = indent;
    let mut quoted = false;
    while b.get(lead) == Some(&b'>') {
        quoted = true;
        lead += 1;
        while b.get(lead).is_some_and(|&c| is_ws(c)) {
            lead += 1;
        }
    }
    let kind = |leaf| {
        Some(LineKind {
            indent,
            lead,
            quoted,
            leaf,
        })
    };
    let rest = &b[lead..];
    let Some(&c) = rest.first() else {
        return if complete { kind(Leaf::Blank) } else { None };
    };
    let run = rest.iter().take_while(|&&x| x == c).count();
    match c {
        b'#' if run <= 6 => match rest.get(run) {
            None if !complete => None,
            Some(&x) if !is_ws(x) => kind(Leaf::Paragraph),
            _ => kind(heading(view, lead + run)),
        },
        b'`' | b'~' if !quoted => {
            if run < 3 {
                return if run == rest.len() && !complete {
                    None
                } else {
                    kind(Leaf::Paragraph)
                };
            }
            let info = lead + run..view.len();
            if complete && c == b'`' && view[info.clone()].contains('`') {
                // Not a fence (CommonMark): ```a` b``` is inline code.
                return kind(Leaf::Paragraph);
            }
            kind(Leaf::Fence {
                ch: c,
                len: run,
                info,
            })
        }
        b'|' if !quoted => kind(Leaf::Table {
            separator: is_separator(rest),
        }),
        b'+' => match rest.get(1) {
            None if !complete => None,
            Some(&x) if !is_ws(x) => kind(Leaf::Paragraph),
            _ => kind(Leaf::Bullet),
        },
        b'-' | b'*' | b'_' | b':' => {
            // While only these bytes have arrived, a rule, a table separator
            // row and a list item are all still possible.
            let undecided: &[u8] = match c {
                b'-' | b':' => b"-|: \t",
                b'*' => b"* \t",
                _ => b"_ \t",
            };
            if !complete && rest.iter().all(|x| undecided.contains(x)) {
                return None;
            }
            let is_rule = c != b':'
                && rest.iter().all(|&x| x == c || is_ws(x))
                && rest.iter().filter(|&&x| x == c).count() >= 3;
            if is_rule {
                kind(Leaf::Rule)
            } else if !quoted && matches!(c, b'-' | b':') && is_separator(rest) {
                kind(Leaf::Table { separator: true })
            } else if matches!(c, b'-' | b'*') && rest.get(1).is_none_or(|&x| is_ws(x)) {
                kind(Leaf::Bullet)
            } else {
                kind(Leaf::Paragraph)
            }
        }
        b'0'..=b'9' => {
            let digits = rest.iter().take_while(|x| x.is_ascii_digit()).count();
            if digits > 9 {
                return kind(Leaf::Paragraph);
            }
            match rest.get(digits) {
                None if !complete => None,
                Some(b'.' | b')') => match rest.get(digits + 1) {
                    None if !complete => None,
                    Some(&x) if !is_ws(x) => kind(Leaf::Paragraph),
                    _ => kind(Leaf::Ordered {
                        content: lead + digits + 1,
                    }),
                },
                _ => kind(Leaf::Paragraph),
            }
        }
        _ => kind(Leaf::Paragraph),
    }
}

/// The heading text after the `#`s at `after`, without the optional closing
/// `#` sequence.
fn heading(view: &str, after: usize) -> Leaf {
    let level = view[..after]
        .bytes()
        .rev()
        .take_while(|&c| c == b'#')
        .count();
    let text = &view[after..];
    let start = after + (text.len() - text.trim_start().len());
    let mut end = after + text.trim_end().len();
    let body = &view[start..end.max(start)];
    let hashes = body.bytes().rev().take_while(|&c| c == b'#').count();
    if hashes == body.len() {
        end = start;
    } else if hashes > 0 && is_ws(body.as_bytes()[body.len() - hashes - 1]) {
        end = start + view[start..end - hashes].trim_end().len();
    }
    Leaf::Heading {
        level,
        text: start..end.max(start),
    }
}

/// The row under a table header: pipes, dashes, colons and spaces only.
fn is_separator(rest: &[u8]) -> bool {
    rest.iter().all(|c| b"|-: \t".contains(c)) && rest.contains(&b'-') && rest.contains(&b'|')
}

/// Whether `view` closes a fence opened with `len` × `ch`.
pub(crate) fn closes_fence(view: &str, ch: u8, len: usize) -> bool {
    let t = view.trim_start_matches([' ', '\t']).as_bytes();
    let run = t.iter().take_while(|&&c| c == ch).count();
    run >= len && t[run..].iter().all(|&c| is_ws(c))
}
