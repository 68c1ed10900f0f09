use std::path::PathBuf;

/// Everything that can go wrong keeping or reading the books. Each message
/// names the file involved and the next step.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "cannot use the usage ledger {path}: {source}. claude records every billed request there; make the directory writable or point CLAUDE_CONFIG_DIR at one that is."
    )]
    LedgerIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the usage ledger {path} failed ({context}): {source}. If another claude is writing a very large batch, retry; if the file is damaged, move it aside (claude starts a new one) and keep the old one for your records."
    )]
    Sqlite {
        path: PathBuf,
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the usage ledger {path} has schema version {found}, newer than this claude understands ({supported}). Upgrade claude; the ledger is left untouched."
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "cannot write the audit log {path}: {source}. Make the directory writable, or turn the log off with `claude config set audit.enabled false` if your policy allows it."
    )]
    AuditIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{value}` is not a date; write it as YYYY-MM-DD (or YYYYMMDD), e.g. 2026-07-01")]
    BadDate { value: String },
    #[error("no monthly budget is set. Set one first: claude config set budget.monthly_usd 100")]
    NoBudget,
}
