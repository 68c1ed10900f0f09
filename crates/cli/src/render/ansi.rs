//! SGR styling, control-character neutralising and column counting.
//!
//! Every escape this module writes starts with a full reset (`ESC[0;…m`):
//! the renderer never needs to remember what the terminal currently has
//! switched on, so a span can be closed by re-stating the enclosing style and
//! no combination of nested spans can leak an attribute.

/// Returns the terminal to its default rendition.
pub(crate) const RESET: &str = "\x1b[0m";

/// Erase to end of line. With a background colour set, terminals that
/// support "background colour erase" (practically all) paint the rest of the
/// row, so a code block reads as a card without padding it with spaces that
/// would end up in the user's clipboard.
pub(crate) const ERASE_EOL: &str = "\x1b[K";

/// A colour: one of the 16 theme colours (which follow the user's palette),
/// or a fixed entry of the 256-colour cube where a theme colour would be too
/// coarse (code blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Color {
    /// 0–7 normal, 8–15 bright.
    Theme(u8),
    Indexed(u8),
}

/// A complete rendition. Spans nest by [`Attrs::with`]; the result is always
/// written whole, never as a delta.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub strike: bool,
    pub fg: Option<Color>,
    pub bg: Option<Color>,
}

impl Attrs {
    pub(crate) const fn fg(c: Color) -> Self {
        Attrs {
            bold: false,
            dim: false,
            italic: false,
            underline: false,
            strike: false,
            fg: Some(c),
            bg: None,
        }
    }

    pub(crate) const fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    pub(crate) const fn dim(mut self) -> Self {
        self.dim = true;
        self
    }

    pub(crate) const fn italic(mut self) -> Self {
        self.italic = true;
        self
    }

    pub(crate) const fn underline(mut self) -> Self {
        self.underline = true;
        self
    }

    pub(crate) const fn strike(mut self) -> Self {
        self.strike = true;
        self
    }

    pub(crate) const fn on(mut self, c: Color) -> Self {
        self.bg = Some(c);
        self
    }

    /// `inner` layered over `self`: flags accumulate, colours are replaced.
    pub(crate) fn with(self, inner: Attrs) -> Attrs {
        Attrs {
            bold: self.bold || inner.bold,
            dim: self.dim || inner.dim,
            italic: self.italic || inner.italic,
            underline: self.underline || inner.underline,
            strike: self.strike || inner.strike,
            fg: inner.fg.or(self.fg),
            bg: inner.bg.or(self.bg),
        }
    }

    pub(crate) fn is_plain(self) -> bool {
        self == Attrs::default()
    }
}

pub(crate) const PLAIN: Attrs = Attrs {
    bold: false,
    dim: false,
    italic: false,
    underline: false,
    strike: false,
    fg: None,
    bg: None,
};

/// Writes `a` as one self-contained SGR sequence.
pub(crate) fn sgr(out: &mut String, a: Attrs) {
    if a.is_plain() {
        out.push_str(RESET);
        return;
    }
    out.push_str("\x1b[0");
    for (on, code) in [
        (a.bold, ";1"),
        (a.dim, ";2"),
        (a.italic, ";3"),
        (a.underline, ";4"),
        (a.strike, ";9"),
    ] {
        if on {
            out.push_str(code);
        }
    }
    if let Some(c) = a.fg {
        push_color(out, c, 30, 90, 38);
    }
    if let Some(c) = a.bg {
        push_color(out, c, 40, 100, 48);
    }
    out.push('m');
}

fn push_color(out: &mut String, c: Color, normal: u16, bright: u16, extended: u16) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = match c {
        Color::Theme(n) if n < 8 => write!(out, ";{}", normal + u16::from(n)),
        Color::Theme(n) => write!(out, ";{}", bright + u16::from(n & 7)),
        Color::Indexed(n) => write!(out, ";{extended};5;{n}"),
    };
}

/// Appends `s` with every control character made visible, so reply text can
/// neither forge styling, move the cursor nor retitle the window: C0 and DEL
/// in caret notation (`^[`), C1 as U+FFFD. Tabs pass through.
pub(crate) fn push_text(out: &mut String, s: &str) {
    if !s.chars().any(is_control) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        push_char(out, c);
    }
}

pub(crate) fn push_char(out: &mut String, c: char) {
    if !is_control(c) {
        out.push(c);
    } else if (c as u32) < 0x20 || c == '\x7f' {
        out.push('^');
        out.push(char::from((c as u8) ^ 0x40));
    } else {
        out.push('\u{fffd}');
    }
}

fn is_control(c: char) -> bool {
    c != '\t' && c.is_control()
}

/// Terminal columns of `c`: an approximation of `wcwidth` good enough to know
/// whether a code line fills the row (see [`ERASE_EOL`]). Erring is cheap:
/// the fill is merely skipped or the row not painted to its end.
pub(crate) fn char_width(c: char) -> usize {
    let u = c as u32;
    match u {
        0x0300..=0x036f | 0x200b..=0x200f | 0xfe00..=0xfe0f => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}
