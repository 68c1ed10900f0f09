//! The vault index. This crate owns everything between an Obsidian-style Markdown vault and its
//! SQLite index at `.data/vault.db`: parsing notes (YAML frontmatter, title, tags, wiki-links),
//! building and incrementally refreshing the index (FTS5, WAL, a versioned schema the vault's own
//! `/q` skill queries unchanged with `sqlite3`), and answering `/q` queries, stats and checks.
//! It makes no model request and no network call, returns typed errors, and never prints.

mod index;
mod parse;
mod query;

pub use index::{
    BrokenLink, CheckReport, DB_RELATIVE_PATH, Hit, Index, RefreshReport, SCHEMA_VERSION, Stats,
    Warning,
};
pub use parse::{ParsedNote, parse_note, yaml_key, yaml_to_json};
pub use query::{Filter, Query, parse_query};

/// Errors from the vault index.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault database {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot use {path}: {source}; check that it exists and that you may read and write it")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a directory; give the vault's folder (`claude vault index PATH`), or run it inside the vault"
    )]
    NotAVault { path: String },
    #[error("walking the vault: {0}")]
    Walk(#[from] ignore::Error),
    #[error("invalid query: {0}")]
    Query(String),
    #[error(
        "{path} has schema version {found}, this build writes {expected}; delete it to rebuild"
    )]
    Schema {
        path: String,
        found: i64,
        expected: i64,
    },
}

pub type Result<T> = std::result::Result<T, VaultError>;
