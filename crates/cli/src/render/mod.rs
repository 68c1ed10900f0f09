//! Streaming Markdown for the terminal.
//!
//! A reply is shown while it streams, so rendering cannot wait for the whole
//! document the way a Markdown parser such as pulldown-cmark does (its
//! events only come once a block is closed, and re-parsing the growing reply
//! per delta would be quadratic). Instead, [`MarkdownStream`] classifies
//! each line by its first bytes and renders inline Markdown with bounded
//! look-ahead, writing everything that can no longer change. See its
//! documentation for what that costs in fidelity.

mod ansi;
mod block;
mod highlight;
mod inline;
mod stream;

#[cfg(test)]
mod tests;

pub use stream::{MarkdownStream, Style};
