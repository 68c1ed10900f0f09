//! The usage ledger: one SQLite row per model request attempt, in
//! `usage.db` in the config directory.
//!
//! WAL mode with a busy timeout lets several `claude` processes append at
//! once without losing a row; each row is its own transaction, committed
//! before the call returns. The schema version lives in `PRAGMA user_version` and
//! the migrations below bring any older file up to date.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::UsageError;

pub const LEDGER_FILE: &str = "usage.db";

/// Migration `i` takes a ledger from version `i` to `i + 1`; append only.
const MIGRATIONS: &[&str] = &[
    // 1: requests and the budget alerts already given.
    "CREATE TABLE requests (
        id                  INTEGER PRIMARY KEY,
        ts_ms               INTEGER NOT NULL,
        session_id          TEXT    NOT NULL,
        project             TEXT    NOT NULL,
        provider            TEXT    NOT NULL,
        region              TEXT,
        model_id            TEXT    NOT NULL,
        canonical_model     TEXT,
        alias               TEXT,
        skill               TEXT,
        purpose             TEXT    NOT NULL,
        input_tokens        INTEGER NOT NULL,
        output_tokens       INTEGER NOT NULL,
        cache_read_tokens   INTEGER NOT NULL,
        cache_write_tokens  INTEGER NOT NULL,
        cost_nanos          INTEGER,
        uncached_cost_nanos INTEGER,
        latency_ms          INTEGER,
        first_byte_ms       INTEGER,
        request_id          TEXT,
        status              TEXT    NOT NULL,
        attempt             INTEGER NOT NULL
    );
    CREATE INDEX requests_ts ON requests (ts_ms);
    CREATE INDEX requests_session ON requests (session_id, ts_ms);
    CREATE TABLE budget_alerts (
        period    TEXT NOT NULL,
        threshold REAL NOT NULL,
        ts_ms     INTEGER NOT NULL,
        PRIMARY KEY (period, threshold)
    );",
    // 2: per-day totals by model ID and region, kept in step by a trigger, so
    // daily, monthly and model reports read a few hundred rows instead of
    // every request.
    "CREATE TABLE daily_totals (
        day                 INTEGER NOT NULL,
        model_id            TEXT    NOT NULL,
        region              TEXT    NOT NULL,
        canonical_model     TEXT,
        requests            INTEGER NOT NULL,
        errors              INTEGER NOT NULL,
        input_tokens        INTEGER NOT NULL,
        output_tokens       INTEGER NOT NULL,
        cache_read_tokens   INTEGER NOT NULL,
        cache_write_tokens  INTEGER NOT NULL,
        cost_nanos          INTEGER NOT NULL,
        uncached_cost_nanos INTEGER NOT NULL,
        unpriced            INTEGER NOT NULL,
        first_ms            INTEGER NOT NULL,
        last_ms             INTEGER NOT NULL,
        PRIMARY KEY (day, model_id, region)
    ) WITHOUT ROWID;
    INSERT INTO daily_totals
        SELECT ts_ms / 86400000, model_id, COALESCE(region, ''), MAX(canonical_model), COUNT(*),
            SUM(status <> 'ok'), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
            SUM(cache_write_tokens), COALESCE(SUM(cost_nanos), 0),
            COALESCE(SUM(uncached_cost_nanos), 0), SUM(cost_nanos IS NULL), MIN(ts_ms), MAX(ts_ms)
        FROM requests GROUP BY 1, 2, 3;
    CREATE TRIGGER requests_daily_totals AFTER INSERT ON requests BEGIN
        INSERT INTO daily_totals VALUES (
            NEW.ts_ms / 86400000, NEW.model_id, COALESCE(NEW.region, ''), NEW.canonical_model, 1,
            NEW.status <> 'ok', NEW.input_tokens, NEW.output_tokens, NEW.cache_read_tokens,
            NEW.cache_write_tokens, COALESCE(NEW.cost_nanos, 0),
            COALESCE(NEW.uncached_cost_nanos, 0), NEW.cost_nanos IS NULL, NEW.ts_ms, NEW.ts_ms)
        ON CONFLICT (day, model_id, region) DO UPDATE SET
            canonical_model = COALESCE(excluded.canonical_model, canonical_model),
            requests = requests + 1,
            errors = errors + excluded.errors,
            input_tokens = input_tokens + excluded.input_tokens,
            output_tokens = output_tokens + excluded.output_tokens,
            cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
            cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
            cost_nanos = cost_nanos + excluded.cost_nanos,
            uncached_cost_nanos = uncached_cost_nanos + excluded.uncached_cost_nanos,
            unpriced = unpriced + excluded.unpriced,
            first_ms = MIN(first_ms, excluded.first_ms),
            last_ms = MAX(last_ms, excluded.last_ms);
    END;",
    // 3: the subagent type behind a request (its session_id is the parent
    // session's, so a session's cost includes its subagents).
    "ALTER TABLE requests ADD COLUMN agent_type TEXT;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One model request attempt as billed.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UsageRecord {
    pub ts_ms: i64,
    pub session_id: String,
    /// The project root the session ran in.
    pub project: String,
    pub provider: String,
    pub region: Option<String>,
    /// Exactly as sent: base ID, inference-profile ID or ARN.
    pub model_id: String,
    /// The base model ID behind it, when known.
    pub canonical_model: Option<String>,
    pub alias: Option<String>,
    pub skill: Option<String>,
    /// `main`, `skill`, `subagent`, `compaction`, `wipe`, …
    pub purpose: String,
    /// The subagent type (`general-purpose`, `Explore`, a custom agent).
    pub agent_type: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// `None` when no price is known for the model ID.
    pub cost_nanos: Option<i64>,
    pub uncached_cost_nanos: Option<i64>,
    pub latency_ms: Option<u64>,
    pub first_byte_ms: Option<u64>,
    pub request_id: Option<String>,
    /// `ok`, or the error code of a failed attempt.
    pub status: String,
    /// 1-based attempt within the request.
    pub attempt: u32,
}

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// `usage.db` in `dir` (the config directory), created if needed.
    pub fn open_in(dir: &Path) -> Result<Ledger, UsageError> {
        Ledger::open(&dir.join(LEDGER_FILE))
    }

    /// Opens or creates the ledger at `path`, readable by its owner only,
    /// and migrates it to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Ledger, UsageError> {
        let io = |source| UsageError::LedgerIo {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            private_dir(dir).map_err(io)?;
        }
        private_file(path).map_err(io)?;
        let conn = Connection::open(path).map_err(|e| sqlite(path, "open", e))?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        ledger.configure()?;
        ledger.migrate()?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> UsageError + '_ {
        move |e| sqlite(&self.path, context, e)
    }

    fn configure(&mut self) -> Result<(), UsageError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(self.err("set busy timeout"))?;
        // Switching to WAL needs a moment alone with the file; another
        // process doing the same can make it busy without calling the busy
        // handler, so try again briefly.
        let mut tries = 0;
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => break,
                Err(e) if is_busy(&e) && tries < 200 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(sqlite(&self.path, "switch to WAL", e)),
            }
        }
        // NORMAL in WAL mode: a committed row survives any crash of claude
        // (it is in the WAL file before the commit returns); only a power cut
        // or kernel crash can lose the last commits before a checkpoint.
        // FULL would fsync every request and cost milliseconds each.
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(self.err("set synchronous"))?;
        Ok(())
    }

    pub fn schema_version(&self) -> Result<u32, UsageError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.err("read the schema version"))
    }

    fn migrate(&mut self) -> Result<(), UsageError> {
        if self.schema_version()? == SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let path = path.as_path();
        let err = |context| move |e| sqlite(path, context, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("start a migration"))?;
        // Another process may have migrated while this one waited.
        let found: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err("read the schema version"))?;
        if found > SCHEMA_VERSION {
            return Err(UsageError::SchemaTooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for sql in &MIGRATIONS[found as usize..] {
            tx.execute_batch(sql).map_err(err("migrate the schema"))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err("record the schema version"))?;
        tx.commit().map_err(err("commit the migration"))
    }

    /// Appends one row; returns its id. Committed when this returns.
    pub fn record(&self, r: &UsageRecord) -> Result<i64, UsageError> {
        insert(&self.conn, r).map_err(self.err("record a request"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Appends many rows in one transaction (imports, benches).
    pub fn record_batch(&mut self, rows: &[UsageRecord]) -> Result<(), UsageError> {
        let path = self.path.clone();
        let path = path.as_path();
        let err = |context| move |e| sqlite(path, context, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("start a batch"))?;
        for r in rows {
            insert(&tx, r).map_err(err("record a request"))?;
        }
        tx.commit().map_err(err("commit a batch"))
    }

    /// Nano-dollars spent in `[since_ms, until_ms)`, unpriced rows excluded.
    pub fn spent_nanos(&self, since_ms: i64, until_ms: i64) -> Result<i64, UsageError> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(cost_nanos), 0) FROM requests WHERE ts_ms >= ?1 AND ts_ms < ?2",
            )
            .and_then(|mut s| s.query_row(params![since_ms, until_ms], |r| r.get(0)))
            .map_err(self.err("sum spending"))
    }

    /// Records that the `threshold` % alert of `period` was given. `true`
    /// for the one caller, across every process, that records it first.
    pub fn claim_alert(
        &self,
        period: &str,
        threshold: f64,
        at_ms: i64,
    ) -> Result<bool, UsageError> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO budget_alerts (period, threshold, ts_ms) VALUES (?1, ?2, ?3)",
                params![period, threshold, at_ms],
            )
            .map_err(self.err("record a budget alert"))?;
        Ok(n == 1)
    }

    /// The request row with this id, for tests and `claude cost` details.
    pub fn get(&self, id: i64) -> Result<Option<UsageRecord>, UsageError> {
        self.conn
            .query_row(
                "SELECT ts_ms, session_id, project, provider, region, model_id, canonical_model,
                    alias, skill, purpose, input_tokens, output_tokens, cache_read_tokens,
                    cache_write_tokens, cost_nanos, uncached_cost_nanos, latency_ms,
                    first_byte_ms, request_id, status, attempt, agent_type
                 FROM requests WHERE id = ?1",
                [id],
                row_to_record,
            )
            .optional()
            .map_err(self.err("read a request"))
    }

    /// Every row in insertion order.
    pub fn all(&self) -> Result<Vec<UsageRecord>, UsageError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT ts_ms, session_id, project, provider, region, model_id, canonical_model,
                    alias, skill, purpose, input_tokens, output_tokens, cache_read_tokens,
                    cache_write_tokens, cost_nanos, uncached_cost_nanos, latency_ms,
                    first_byte_ms, request_id, status, attempt, agent_type
                 FROM requests ORDER BY id",
            )
            .map_err(self.err("list requests"))?;
        let rows = stmt
            .query_map([], row_to_record)
            .map_err(self.err("list requests"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("list requests"))
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn sql_error(&self, context: &'static str, e: rusqlite::Error) -> UsageError {
        sqlite(&self.path, context, e)
    }
}

fn insert(conn: &Connection, r: &UsageRecord) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO requests (ts_ms, session_id, project, provider, region, model_id,
            canonical_model, alias, skill, purpose, input_tokens, output_tokens,
            cache_read_tokens, cache_write_tokens, cost_nanos, uncached_cost_nanos,
            latency_ms, first_byte_ms, request_id, status, attempt, agent_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
            ?17, ?18, ?19, ?20, ?21, ?22)",
    )?
    .execute(params![
        r.ts_ms,
        r.session_id,
        r.project,
        r.provider,
        r.region,
        r.model_id,
        r.canonical_model,
        r.alias,
        r.skill,
        r.purpose,
        r.input_tokens as i64,
        r.output_tokens as i64,
        r.cache_read_tokens as i64,
        r.cache_write_tokens as i64,
        r.cost_nanos,
        r.uncached_cost_nanos,
        r.latency_ms.map(|v| v as i64),
        r.first_byte_ms.map(|v| v as i64),
        r.request_id,
        r.status,
        r.attempt,
        r.agent_type,
    ])
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<UsageRecord> {
    let u = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
    Ok(UsageRecord {
        ts_ms: r.get(0)?,
        session_id: r.get(1)?,
        project: r.get(2)?,
        provider: r.get(3)?,
        region: r.get(4)?,
        model_id: r.get(5)?,
        canonical_model: r.get(6)?,
        alias: r.get(7)?,
        skill: r.get(8)?,
        purpose: r.get(9)?,
        input_tokens: u(10)?,
        output_tokens: u(11)?,
        cache_read_tokens: u(12)?,
        cache_write_tokens: u(13)?,
        cost_nanos: r.get(14)?,
        uncached_cost_nanos: r.get(15)?,
        latency_ms: r.get::<_, Option<i64>>(16)?.map(|v| v as u64),
        first_byte_ms: r.get::<_, Option<i64>>(17)?.map(|v| v as u64),
        request_id: r.get(18)?,
        status: r.get(19)?,
        attempt: r.get(20)?,
        agent_type: r.get(21)?,
    })
}

fn sqlite(path: &Path, context: &'static str, source: rusqlite::Error) -> UsageError {
    UsageError::Sqlite {
        path: path.to_path_buf(),
        context,
        source,
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Creates `dir` (owner-only when new).
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Creates `path` with mode 0600, or narrows an existing file to it. SQLite
/// gives its `-wal` and `-shm` files the same mode as the database.
pub(crate) fn private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let file = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}
