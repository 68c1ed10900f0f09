//! [`MarkdownStream`]: line state, block rendering and code blocks.

use super::ansi::{self, Attrs, Color, ERASE_EOL, PLAIN, RESET};
use super::block::{self, Leaf, LineKind};
use super::highlight::{self, Carry, Lang, Tok};
use super::inline::{self, Cursor};

/// How replies are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Styled with ANSI escapes for a terminal `width` columns wide (0 when
    /// unknown; 80 is assumed). The width only sizes rules and decides where
    /// code-block backgrounds may be painted; text is never re-wrapped, so a
    /// resize mid-reply costs nothing.
    Ansi { width: usize },
    /// The reply byte for byte: for pipes, files and `NO_COLOR`.
    Plain,
}

/// Renders a reply that arrives in arbitrary pieces as styled terminal text.
///
/// Markdown is mostly line-structured, so the renderer works a line at a
/// time, but it does not wait for a newline when it does not have to. A line
/// is written as soon as its kind is known if it is a paragraph, list item or
/// quoted paragraph (the bulk of a reply): the prefix (`•`, number, quote bar)
/// first, then its text as it arrives. Only inline constructs still open are
/// held back: a `**` waits for its partner, and gives up, showing the `**`
/// literally, when none starts within [`SPAN_WINDOW`] bytes (links: their
/// text within that window, their URL within [`URL_WINDOW`]). Headings, code
/// lines, fences, rules and table rows are written when their newline
/// arrives, since their styling depends on the whole line.
///
/// The trade-off of writing early is that spans cannot be longer than the
/// window and never cross lines, and emphasis pairing is simpler than
/// CommonMark's (see the `inline` module). In exchange, the text stream never
/// stalls on a long line, and the output does not depend on how the reply was
/// cut into deltas: decisions are taken only once no later byte can change
/// them, so any split renders to the same bytes as the whole.
///
/// Every string returned leaves the terminal in its default rendition: spans
/// are closed before the call returns, held lines end with a reset, and a
/// reply that breaks off mid-stream cannot leave the prompt coloured.
///
/// Work is linear in the reply. Text is scanned once; what is looked at again
/// on a later delta is bounded: an undecided line start (at most
/// `UNDECIDED_LIMIT` bytes) and a held-back span (at most its window). A
/// long line without newlines is not even kept whole (`COMPACT_AT`).
///
/// [`SPAN_WINDOW`]: inline::SPAN_WINDOW
/// [`URL_WINDOW`]: inline::URL_WINDOW
#[derive(Debug)]
pub struct MarkdownStream {
    style: Style,
    /// The current line, without its newline (may be a tail of it: see
    /// [`COMPACT_AT`]).
    line: String,
    state: LineState,
    fence: Option<Fence>,
    carry: Carry,
}

#[derive(Clone, Copy, Debug)]
enum LineState {
    /// Kind not known yet.
    Fresh,
    /// Written when the newline arrives.
    Hold,
    /// Prefix written; inline text written up to the cursor.
    Stream(Cursor),
}

#[derive(Clone, Copy, Debug)]
struct Fence {
    ch: u8,
    len: usize,
    indent: usize,
    lang: Lang,
}

/// A partial line still undecided after this many bytes (say, a long run of
/// `- - - -`) is simply held until its newline: classification of a partial
/// line is repeated per delta, and this bounds that work.
const UNDECIDED_LIMIT: usize = 64;

/// A streaming line drops what it has written once that much has piled up,
/// so a reply without newlines does not keep its whole text in memory.
pub(super) const COMPACT_AT: usize = 4096;

const BULLET: Attrs = Attrs::fg(Color::Theme(6));
const QUOTE_BAR: Attrs = PLAIN.dim();
const RULE: Attrs = PLAIN.dim();
const TABLE_SEPARATOR: Attrs = PLAIN.dim();
const CODE: Attrs = Attrs::fg(Color::Indexed(252)).on(Color::Indexed(236));
const CODE_LABEL: Attrs = Attrs::fg(Color::Indexed(244));

fn heading_attrs(level: usize) -> Attrs {
    match level {
        1 => Attrs::fg(Color::Theme(13)).bold().underline(),
        2 => Attrs::fg(Color::Theme(13)).bold(),
        3 => Attrs::fg(Color::Theme(14)).bold(),
        _ => Attrs::fg(Color::Theme(6)).bold(),
    }
}

fn token_attrs(tok: Tok) -> Attrs {
    match tok {
        Tok::Plain => PLAIN,
        Tok::Keyword => Attrs::fg(Color::Indexed(204)),
        Tok::Literal => Attrs::fg(Color::Indexed(141)),
        Tok::Type => Attrs::fg(Color::Indexed(81)),
        Tok::Str => Attrs::fg(Color::Indexed(114)),
        Tok::Num => Attrs::fg(Color::Indexed(215)),
        Tok::Comment => Attrs::fg(Color::Indexed(244)).italic(),
        Tok::Key => Attrs::fg(Color::Indexed(117)),
    }
}

impl MarkdownStream {
    pub fn new(style: Style) -> Self {
        MarkdownStream {
            style,
            line: String::new(),
            state: LineState::Fresh,
            fence: None,
            carry: Carry::Normal,
        }
    }

    /// Takes the next piece of the reply; returns what to write now.
    pub fn push(&mut self, delta: &str) -> String {
        if self.style == Style::Plain {
            return delta.to_owned();
        }
        let mut out = String::new();
        let mut rest = delta;
        while let Some(nl) = rest.find('\n') {
            self.line.push_str(&rest[..nl]);
            self.end_line(true, &mut out);
            rest = &rest[nl + 1..];
        }
        if !rest.is_empty() {
            self.line.push_str(rest);
            self.advance(&mut out);
        }
        out
    }

    /// Ends the reply: writes a last line that had no newline (without
    /// adding one), ends an unterminated code block, and makes sure the
    /// terminal is back to its default rendition. The stream is then ready
    /// for another reply.
    pub fn finish(&mut self) -> String {
        if self.style == Style::Plain {
            return String::new();
        }
        let mut out = String::new();
        let in_code = self.fence.is_some();
        if !self.line.is_empty() || !matches!(self.state, LineState::Fresh) {
            self.end_line(false, &mut out);
        }
        self.fence = None;
        self.carry = Carry::Normal;
        if (in_code || !out.is_empty()) && !out.ends_with(RESET) {
            out.push_str(RESET);
        }
        out
    }

    /// Bytes of the current line kept in memory.
    #[cfg(test)]
    pub(super) fn buffered(&self) -> usize {
        self.line.len()
    }

    fn width(&self) -> usize {
        match self.style {
            Style::Ansi { width: 0 } | Style::Plain => 80,
            Style::Ansi { width } => width,
        }
    }

    /// Writes what can be written of a line whose newline has not arrived.
    fn advance(&mut self, out: &mut String) {
        if self.fence.is_some() || matches!(self.state, LineState::Hold) {
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        // A trailing CR may be half of a CRLF: not text yet.
        let view = line.strip_suffix('\r').unwrap_or(&line);
        if let LineState::Fresh = self.state {
            self.state = match block::classify(view, false) {
                None if view.len() > UNDECIDED_LIMIT => LineState::Hold,
                None => LineState::Fresh,
                Some(kind) if kind.streams() => {
                    write_prefix(view, &kind, out);
                    LineState::Stream(Cursor {
                        pos: kind.content(),
                        ..Cursor::default()
                    })
                }
                Some(_) => LineState::Hold,
            };
        }
        if let LineState::Stream(mut cur) = self.state {
            inline::render(view, &mut cur, false, PLAIN, out);
            if cur.pos >= COMPACT_AT {
                line.drain(..cur.pos);
                cur.pos = 0;
            }
            self.state = LineState::Stream(cur);
        }
        self.line = line;
    }

    /// Writes the rest of the current line, which is now complete.
    fn end_line(&mut self, newline: bool, out: &mut String) {
        let mut line = std::mem::take(&mut self.line);
        if line.ends_with('\r') {
            line.pop();
        }
        let view = line.as_str();
        if let Some(fence) = self.fence {
            if block::closes_fence(view, fence.ch, fence.len) {
                self.fence = None;
                self.carry = Carry::Normal;
                let indent = leading_ws(view, fence.indent);
                self.write_code_row(&view[..indent], "", Row::Edge, out);
            } else {
                let indent = leading_ws(view, fence.indent);
                self.write_code_row(&view[..indent], &view[indent..], Row::Code(fence.lang), out);
            }
        } else if let LineState::Stream(mut cur) = self.state {
            inline::render(view, &mut cur, true, PLAIN, out);
        } else {
            let kind = block::classify(view, true).unwrap_or(LineKind {
                indent: 0,
                lead: 0,
                quoted: false,
                leaf: Leaf::Paragraph,
            });
            if kind.streams() {
                write_prefix(view, &kind, out);
                let mut cur = Cursor {
                    pos: kind.content(),
                    ..Cursor::default()
                };
                inline::render(view, &mut cur, true, PLAIN, out);
            } else {
                self.write_held(view, &kind, out);
            }
        }
        if newline {
            out.push('\n');
        }
        line.clear();
        self.line = line;
        self.state = LineState::Fresh;
    }

    /// Lines written whole: headings, rules, fences, tables, blank lines.
    fn write_held(&mut self, view: &str, kind: &LineKind, out: &mut String) {
        match &kind.leaf {
            Leaf::Blank => {
                if kind.quoted {
                    write_prefix(view, kind, out);
                }
            }
            Leaf::Heading { level, text } => {
                write_prefix(view, kind, out);
                let attrs = heading_attrs(*level);
                ansi::sgr(out, attrs);
                let mut cur = Cursor::default();
                inline::render(&view[text.clone()], &mut cur, true, attrs, out);
                out.push_str(RESET);
            }
            Leaf::Rule => {
                write_prefix(view, kind, out);
                let used: usize = view[..kind.lead].chars().map(ansi::char_width).sum();
                ansi::sgr(out, RULE);
                out.push_str(&"─".repeat(self.width().saturating_sub(used).max(3)));
                out.push_str(RESET);
            }
            Leaf::Fence { ch, len, info } => {
                let lang = Lang::from_info(&view[info.clone()]);
                self.fence = Some(Fence {
                    ch: *ch,
                    len: *len,
                    indent: kind.indent,
                    lang,
                });
                self.carry = Carry::Normal;
                let label = view[info.clone()].split_whitespace().next().unwrap_or("");
                self.write_code_row(&view[..kind.indent], label, Row::Edge, out);
            }
            Leaf::Table { separator } => {
                if *separator {
                    ansi::sgr(out, TABLE_SEPARATOR);
                    ansi::push_text(out, view);
                    out.push_str(RESET);
                } else {
                    ansi::push_text(out, view);
                }
            }
            Leaf::Bullet | Leaf::Ordered { .. } | Leaf::Paragraph => {
                unreachable!("streaming kinds are written by the inline renderer")
            }
        }
    }

    /// One row of a code block: `indent` outside the card, `text` on it.
    fn write_code_row(&mut self, indent: &str, text: &str, row: Row, out: &mut String) {
        let (lang, label) = match row {
            Row::Code(lang) => (lang, false),
            Row::Edge => (Lang::Plain, true),
        };
        out.push_str(indent);
        let mut col: usize = indent.chars().map(ansi::char_width).sum();
        // Written lazily: the first token usually has its own colour.
        let mut current = None;
        let mut emit = |tok: Tok, text: &str| {
            if text.is_empty() {
                return;
            }
            let attrs = CODE.with(if label && tok == Tok::Plain {
                CODE_LABEL
            } else {
                token_attrs(tok)
            });
            if current != Some(attrs) {
                ansi::sgr(out, attrs);
                current = Some(attrs);
            }
            for c in text.chars() {
                if c == '\t' {
                    let n = 4 - col % 4;
                    out.extend(std::iter::repeat_n(' ', n));
                    col += n;
                } else {
                    ansi::push_char(out, c);
                    col += if c.is_control() {
                        2
                    } else {
                        ansi::char_width(c)
                    };
                }
            }
        };
        highlight::highlight(lang, &mut self.carry, text, &mut emit);
        if current.is_none() {
            ansi::sgr(out, CODE);
        }
        if col < self.width() {
            out.push_str(ERASE_EOL);
        }
        out.push_str(RESET);
    }
}

/// A code block's rows: the fences become the card's top and bottom edge
/// (the top one showing the language), so the block keeps its line count and
/// the copyable text holds no backticks.
#[derive(Clone, Copy)]
enum Row {
    Edge,
    Code(Lang),
}

/// Leading spaces and tabs of `view`, at most `max` bytes of them: a fence's
/// own indentation is layout, not code.
fn leading_ws(view: &str, max: usize) -> usize {
    view.bytes()
        .take(max)
        .take_while(|&c| c == b' ' || c == b'\t')
        .count()
}

/// Indentation as is, quote markers as bars, list markers restyled.
fn write_prefix(view: &str, kind: &LineKind, out: &mut String) {
    out.push_str(&view[..kind.indent]);
    for c in view[kind.indent..kind.lead].chars() {
        if c == '>' {
            ansi::sgr(out, QUOTE_BAR);
            out.push('│');
            out.push_str(RESET);
        } else {
            out.push(c);
        }
    }
    match kind.leaf {
        Leaf::Bullet => {
            ansi::sgr(out, BULLET);
            out.push('•');
            out.push_str(RESET);
        }
        Leaf::Ordered { content } => {
            ansi::sgr(out, BULLET);
            out.push_str(&view[kind.lead..content]);
            out.push_str(RESET);
        }
        _ => {}
    }
}
