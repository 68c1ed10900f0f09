//! The SQLite index at `.data/vault.db`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::parse::parse_note;
use crate::query::{Filter, Query};
use crate::{Result, VaultError};

/// Where the index lives, relative to the vault root.
pub const DB_RELATIVE_PATH: &str = ".data/vault.db";
/// Bumped whenever the schema changes; an older file is rebuilt.
/// 2: case-insensitive indexes on `type` and `status`; a partial index of broken links;
/// links in code and YAML comments no longer indexed.
/// 3: size and mtime moved from `notes` to a narrow `files` table keyed by path, which a refresh
/// scans instead of every note's row.
pub const SCHEMA_VERSION: i64 = 3;

const SKIPPED_DIRS: &[&str] = &[".git", ".obsidian", ".claude", ".data", "node_modules"];

/// The notes' tables. `files` is what a refresh compares the walk with: one short row per note, in
/// path order (a `WITHOUT ROWID` table keyed by path), so the comparison is one merge of two sorted
/// lists and never reads the notes' frontmatter. A first build also creates them, with this same
/// text, in its scratch database ([`Scratch`]).
const NOTE_TABLES: &str = "
CREATE TABLE notes(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  title TEXT NOT NULL,
  type TEXT, status TEXT, priority TEXT, created TEXT, modified TEXT,
  frontmatter TEXT NOT NULL DEFAULT '{}',
  key_title TEXT NOT NULL, key_path TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TABLE files(path TEXT PRIMARY KEY, id INTEGER NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE tags(note_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE TABLE links(source_id INTEGER NOT NULL, target_id INTEGER, target_path TEXT NOT NULL, target TEXT NOT NULL);
";

/// The other tables: the schema version and the full-text index.
const INDEX_TABLES: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE VIRTUAL TABLE fts_content USING fts5(title, content);
";

/// The tables of [`NOTE_TABLES`], in the order a first build copies them.
const NOTE_TABLE_NAMES: [&str; 4] = ["notes", "files", "tags", "links"];

/// The secondary indexes. A first build creates them in its scratch database once the rows are in
/// (one sort each instead of a B-tree insert per row), and they come across with the rows.
const INDEXES: &[(&str, &str)] = &[
    // The /q skill's `WHERE type = '<Type>'` (binary collation).
    ("notes_type", "notes(type)"),
    // `type:` and `status:` filters (case-insensitive).
    ("notes_type_nocase", "notes(type COLLATE NOCASE)"),
    ("notes_status_nocase", "notes(status COLLATE NOCASE)"),
    ("notes_modified", "notes(modified)"),
    ("notes_key_title", "notes(key_title)"),
    ("notes_key_path", "notes(key_path)"),
    ("tags_note", "tags(note_id)"),
    ("tags_tag", "tags(tag COLLATE NOCASE)"),
    ("links_source", "links(source_id)"),
    ("links_target", "links(target_id)"),
    // Broken links only: what a new note may now satisfy, and `backlinks:` to a missing note.
    (
        "links_broken",
        "links(target COLLATE NOCASE) WHERE target_id IS NULL",
    ),
];

/// FTS5's in-memory buffer (default 1 MiB), set by a first build. At 100,000 notes of 6.5 KB a
/// 16 MiB buffer flushed 13 segments and FTS5's automerge rewrote them as they piled up (about
/// 1.5 s); 64 MiB flushes 4, merged once at the end of the build.
const FTS_HASH_SIZE: i64 = 64 * 1024 * 1024;

/// Notes per message between the parse workers and the writers.
const BATCH: usize = 32;

/// Up to this many changed or deleted notes, a refresh resolves links with the index's
/// `notes_key_title` instead of building an in-memory map of every note's name.
const SMALL_REFRESH: usize = 256;

/// A warning met while indexing (malformed frontmatter, unreadable file).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// What a refresh did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefreshReport {
    pub scanned: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub warnings: Vec<Warning>,
    /// Wall time of each phase in milliseconds (walk, load, parse+insert, resolve, indexes, …),
    /// for profiling; not part of the JSON report.
    #[serde(skip)]
    pub timings: Vec<(&'static str, f64)>,
}

/// One query result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub path: String,
    pub title: String,
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub status: Option<String>,
    pub modified: Option<String>,
    pub snippet: String,
}

/// A link whose target does not exist.
#[derive(Debug, Clone, Serialize)]
pub struct BrokenLink {
    pub source: String,
    pub target: String,
}

/// `claude vault stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub notes: i64,
    pub by_type: Vec<(String, i64)>,
    pub tags: i64,
    pub distinct_tags: i64,
    pub links: i64,
    pub orphans: i64,
    pub broken_links: i64,
}

/// `claude vault check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub broken_links: Vec<BrokenLink>,
    pub duplicate_titles: Vec<(String, Vec<String>)>,
    pub without_type: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.broken_links.is_empty()
            && self.duplicate_titles.is_empty()
            && self.without_type.is_empty()
    }
}

/// An open vault index.
pub struct Index {
    root: PathBuf,
    db_path: PathBuf,
    conn: Connection,
}

/// A file the walk found.
struct Seen {
    rel: String,
    abs: PathBuf,
    size: i64,
    mtime: i64,
    /// The note's id: the index's for a known note, else a new one (path order, after the largest).
    id: i64,
    /// The index holds this path.
    known: bool,
    /// New, or its size or mtime differ from the index's.
    changed: bool,
}

/// The `/q` skill's orphans: no link at all points at the note, and its `type` is set and is not
/// one of these (the skill's `n.type NOT IN (…)`: a note without `type` is never an orphan, and the
/// comparison is case-sensitive).
const ORPHANS: &str = "NOT EXISTS (SELECT 1 FROM links l WHERE l.target_id = n.id)
     AND n.type NOT IN ('DailyNote', 'MOC', 'Dashboard', 'Query')";

/// Resolves link text to notes the way Obsidian does: by file name (case-insensitive), else by
/// vault path (`[[Folder/Note]]`, also as the end of a longer path); among several notes of that
/// name the one with the shortest path wins. Frontmatter `aliases` do not resolve links: Obsidian
/// writes `[[Note|alias]]` when you pick an alias, and a bare `[[alias]]` stays unresolved.
enum Resolver<'a> {
    /// Lower-cased file name → (id, path), shortest path first: a first build or a large refresh,
    /// resolved on the parse workers.
    Memory(HashMap<String, Vec<(i64, &'a str)>>),
    /// A small refresh: the candidates of a name come from `notes_key_title`, on the writer, once
    /// the changed notes are stored (so the index already shows the vault as it is now).
    Index,
}

/// A resolved link target: the note's id and path.
type Target<'a> = Option<(i64, Cow<'a, str>)>;

impl<'a> Resolver<'a> {
    fn memory(notes: impl Iterator<Item = (i64, &'a str)>) -> Self {
        let mut by_name: HashMap<String, Vec<(i64, &'a str)>> = HashMap::new();
        for (id, path) in notes {
            by_name.entry(key_title(path)).or_default().push((id, path));
        }
        for v in by_name.values_mut() {
            if v.len() > 1 {
                v.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.1.cmp(b.1)));
            }
        }
        Self::Memory(by_name)
    }

    /// Resolve on a worker: `None` for [`Resolver::Index`], which the writer resolves later.
    fn resolve_here(&self, target: &str) -> Option<Target<'a>> {
        match self {
            Self::Memory(by_name) => {
                let lower = link_key(target);
                Some(
                    by_name
                        .get(file_name(&lower))
                        .and_then(|v| choose(&lower, v).map(|i| (v[i].0, Cow::Borrowed(v[i].1)))),
                )
            }
            Self::Index => None,
        }
    }

    /// Resolve on the writer, reading the index for [`Resolver::Index`].
    fn resolve(&self, tx: &Connection, target: &str) -> rusqlite::Result<Target<'a>> {
        if let Some(t) = self.resolve_here(target) {
            return Ok(t);
        }
        let lower = link_key(target);
        let mut v = tx
            .prepare_cached("SELECT id, path FROM notes WHERE key_title = ?1")?
            .query_map([file_name(&lower)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        v.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.1.cmp(&b.1)));
        Ok(choose(&lower, &v).map(|i| {
            let (id, path) = v.swap_remove(i);
            (id, Cow::Owned(path))
        }))
    }
}

/// A link's text as the resolver compares it: lower-cased, without a leading `./` or `/`.
fn link_key(target: &str) -> String {
    let lower = target.to_lowercase();
    let trimmed = lower.trim_start_matches("./").trim_start_matches('/');
    if trimmed.len() == lower.len() {
        lower
    } else {
        trimmed.to_string()
    }
}

/// The file-name part of a link key.
fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Obsidian's choice among the notes named like the link (shortest path first): a bare name takes
/// the first; a path takes the note at exactly that path, else one whose path ends with it.
fn choose<P: AsRef<str>>(key: &str, candidates: &[(i64, P)]) -> Option<usize> {
    if file_name(key).len() == key.len() {
        return (!candidates.is_empty()).then_some(0);
    }
    let suffix = format!("/{key}");
    candidates
        .iter()
        .position(|(_, p)| key_path(p.as_ref()) == key)
        .or_else(|| {
            candidates
                .iter()
                .position(|(_, p)| key_path(p.as_ref()).ends_with(&suffix))
        })
}

/// `Folder/Note.md` → `note`.
fn key_title(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.strip_suffix(".md").unwrap_or(name).to_lowercase()
}

/// `Folder/Note.md` → `folder/note`.
fn key_path(rel: &str) -> String {
    rel.strip_suffix(".md").unwrap_or(rel).to_lowercase()
}

/// A parsed note, ready to insert.
struct Row<'a> {
    id: i64,
    seen: &'a Seen,
    title: String,
    fields: [Option<String>; 5],
    frontmatter: String,
    body: String,
    hash: String,
    tags: Vec<String>,
    /// Link text and target; the target is `None` (not yet resolved) under [`Resolver::Index`].
    links: Vec<(String, Option<Target<'a>>)>,
}

/// What a parse worker hands the writer for one changed file.
enum Parsed<'a> {
    Row(Box<Row<'a>>, Option<Warning>),
    /// Same content as indexed (only size or mtime moved).
    Touch,
    Unreadable(Warning),
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Index {
    /// Open (creating when absent) the index of the vault at `root`.
    pub fn open(root: &Path) -> Result<Self> {
        // A mistyped path must not become a new, empty vault.
        if !root.is_dir() {
            return Err(VaultError::NotAVault {
                path: root.display().to_string(),
            });
        }
        let dir = root.join(".data");
        std::fs::create_dir_all(&dir).map_err(|source| VaultError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let db_path = root.join(DB_RELATIVE_PATH);
        let db = |source| VaultError::Db {
            path: db_path.display().to_string(),
            source,
        };
        // A new file is created under the write lock (another process may be creating it too).
        let mut lock = if db_path.exists() {
            None
        } else {
            Some(write_lock(&db_path)?)
        };
        let conn = Connection::open(&db_path).map_err(db)?;
        // A first build runs in rollback-journal mode, under the write lock, and holds the file
        // for itself: wait for it rather than fail with "database is locked".
        if lock.is_none() && !in_wal_mode(&conn) {
            lock = Some(write_lock(&db_path)?);
        }
        // No memory map: a one-shot `q kafka` over 100,000 notes took 15.7 ms with read(2), 16.9 ms
        // with 256 MiB mapped and 17.6 ms with the whole 1 GB file mapped (page faults, and
        // unmapping at exit, cost more than copying the few pages a query reads).
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;",
        )
        .map_err(db)?;
        if schema_version(&conn).map_err(db)? != Some(SCHEMA_VERSION) {
            // Create or rebuild under the write lock, having looked again: another process may
            // have done it meanwhile.
            if lock.is_none() {
                lock = Some(write_lock(&db_path)?);
            }
            match schema_version(&conn).map_err(db)? {
                Some(SCHEMA_VERSION) => {}
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(VaultError::Schema {
                        path: db_path.display().to_string(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                // A new file, or an older schema: (drop everything and) create, in one
                // transaction, so that a crash cannot leave half a schema.
                found => {
                    let tx = conn.unchecked_transaction().map_err(db)?;
                    if found.is_some() {
                        tx.execute_batch(
                            "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS notes;
                             DROP TABLE IF EXISTS fts_content; DROP TABLE IF EXISTS tags;
                             DROP TABLE IF EXISTS links; DROP TABLE IF EXISTS files;",
                        )
                        .map_err(db)?;
                    }
                    Self::create(&tx).map_err(db)?;
                    tx.commit().map_err(db)?;
                }
            }
        }
        drop(lock);
        Ok(Self {
            root: root.to_path_buf(),
            db_path,
            conn,
        })
    }

    fn create(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(INDEX_TABLES)?;
        conn.execute_batch(NOTE_TABLES)?;
        create_indexes(conn)?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        Ok(())
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    fn db(&self, source: rusqlite::Error) -> VaultError {
        VaultError::Db {
            path: self.db_path.display().to_string(),
            source,
        }
    }

    /// Every `*.md` file of the vault with its size and mtime, in path order.
    ///
    /// `ignore` walks the tree (`.gitignore`, skipped folders) without a `stat`: the directory
    /// listing gives the file type. The `stat` of each note — the walk's real cost, a few µs per
    /// file — then runs on every core.
    fn walk(&self) -> Result<Vec<Seen>> {
        let mut out = Vec::new();
        for entry in ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .require_git(false)
            .git_global(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
            })
            .build()
        {
            let entry = entry?;
            if !entry.file_type().is_some_and(|t| t.is_file())
                || entry.path().extension().is_none_or(|e| e != "md")
            {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&self.root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push(Seen {
                rel,
                abs: entry.into_path(),
                size: -1,
                mtime: 0,
                id: 0,
                known: false,
                changed: true,
            });
        }
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8)
            .min(out.len().div_ceil(1024).max(1));
        let chunk = out.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| -> Result<()> {
            let stat = |files: &mut [Seen]| -> Result<()> {
                for f in files {
                    match std::fs::metadata(&f.abs) {
                        Ok(m) => {
                            f.size = m.len() as i64;
                            f.mtime = m
                                .modified()
                                .ok()
                                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                                .map_or(0, |d| d.as_nanos() as i64);
                        }
                        // Deleted since the listing: not in the vault any more.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(VaultError::Io {
                                path: f.abs.display().to_string(),
                                source,
                            });
                        }
                    }
                }
                Ok(())
            };
            let mut parts = out.chunks_mut(chunk);
            let first = parts.next();
            let handles: Vec<_> = parts.map(|p| scope.spawn(move || stat(p))).collect();
            if let Some(p) = first {
                stat(p)?;
            }
            for h in handles {
                h.join().unwrap_or(Ok(()))?;
            }
            Ok(())
        })?;
        out.retain(|f| f.size >= 0);
        out.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// Bring the index up to date: parse only notes whose size, mtime or hash changed; drop deleted
    /// notes. `progress(done, total)` is called as changed notes are stored.
    ///
    /// The walk (sorted by path) is merged with `files` (in path order); nothing else is read for
    /// unchanged notes. Reading, hashing and parsing run on every core; one thread writes to
    /// SQLite, in path order. A first build (an empty index) drops the secondary indexes, inserts
    /// with the rollback journal and no fsync (new pages need no journal), then sorts the indexes
    /// in and goes back to WAL.
    pub fn refresh(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<RefreshReport> {
        let mut timings = Vec::new();
        let t = Instant::now();
        // One refresh at a time: a second one waits, then finds the index up to date.
        let _lock = write_lock(&self.db_path)?;
        timings.push(("lock", ms(t)));
        let t = Instant::now();
        let mut seen = self.walk()?;
        timings.push(("walk", ms(t)));
        let mut report = RefreshReport {
            scanned: seen.len(),
            ..RefreshReport::default()
        };
        let t = Instant::now();
        // (id, path) of notes no longer in the vault.
        let mut removed: Vec<(i64, String)> = Vec::new();
        let mut max_id = 0;
        let mut any_known = false;
        {
            let dbe = |e| self.db(e);
            let mut stmt = self
                .conn
                .prepare("SELECT path, id, size, mtime FROM files ORDER BY path")
                .map_err(dbe)?;
            let mut rows = stmt.query([]).map_err(dbe)?;
            let mut i = 0;
            while let Some(r) = rows.next().map_err(dbe)? {
                any_known = true;
                let path = r.get_ref(0).map_err(dbe)?;
                let path = path.as_str().map_err(|e| dbe(e.into()))?;
                let id: i64 = r.get(1).map_err(dbe)?;
                max_id = max_id.max(id);
                while seen.get(i).is_some_and(|s| s.rel.as_str() < path) {
                    i += 1;
                }
                match seen.get_mut(i) {
                    Some(s) if s.rel == path => {
                        s.id = id;
                        s.known = true;
                        s.changed = s.size != r.get::<_, i64>(2).map_err(dbe)?
                            || s.mtime != r.get::<_, i64>(3).map_err(dbe)?;
                        i += 1;
                    }
                    _ => removed.push((id, path.to_string())),
                }
            }
        }
        timings.push(("load", ms(t)));
        // New notes get ids in path order after the largest.
        for (id, s) in (max_id + 1..).zip(seen.iter_mut().filter(|s| !s.known)) {
            s.id = id;
        }
        let changed: Vec<&Seen> = seen.iter().filter(|s| s.changed).collect();
        report.unchanged = seen.len() - changed.len();
        if changed.is_empty() && removed.is_empty() {
            report.timings = timings;
            return Ok(report);
        }
        // The content hash of the changed known notes, to skip those whose text did not change.
        let t = Instant::now();
        let mut old_hash: HashMap<i64, String> = HashMap::new();
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT hash FROM notes WHERE id = ?1")
                .map_err(|e| self.db(e))?;
            for s in changed.iter().filter(|s| s.known) {
                if let Some(h) = st
                    .query_row([s.id], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(|e| self.db(e))?
                {
                    old_hash.insert(s.id, h);
                }
            }
        }
        let first_build = !any_known;
        let resolver = if !first_build && changed.len() + removed.len() <= SMALL_REFRESH {
            Resolver::Index
        } else {
            Resolver::memory(seen.iter().map(|s| (s.id, s.rel.as_str())))
        };
        timings.push(("resolver", ms(t)));

        let db_path = self.db_path.display().to_string();
        let dbe = |source| VaultError::Db {
            path: db_path.clone(),
            source,
        };
        let (mut scratch, mut side) = (None, None);
        if first_build {
            let t = Instant::now();
            // New pages need no rollback journal, so a first build writes each page once (WAL
            // writes it twice: to the log, then back); without fsync. A crash leaves an index
            // that the next run rebuilds. SQLite leaves WAL mode only when no other connection
            // has the file open; with one (another `claude` waiting for this build), the build
            // runs in WAL mode.
            match self.conn.execute_batch("PRAGMA main.journal_mode=DELETE") {
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
                other => other.map_err(dbe)?,
            }
            self.conn
                .execute_batch("PRAGMA main.synchronous=OFF; PRAGMA main.cache_size=-65536;")
                .map_err(dbe)?;
            let (s, conn) = Scratch::create(&self.db_path)?;
            // The copy from the scratch database wants these tables empty and indexed (the
            // indexes come across with the rows); an interrupted build may have left either.
            self.conn
                .execute_batch(
                    "DELETE FROM notes; DELETE FROM files; DELETE FROM tags; DELETE FROM links;
                     DELETE FROM fts_content;",
                )
                .map_err(dbe)?;
            create_indexes(&self.conn).map_err(dbe)?;
            self.conn
                .execute(
                    "INSERT INTO fts_content(fts_content, rank) VALUES ('hashsize', ?1)",
                    [FTS_HASH_SIZE],
                )
                .map_err(dbe)?;
            self.conn
                .execute("ATTACH DATABASE ?1 AS scratch", [s.path.to_string_lossy()])
                .map_err(dbe)?;
            scratch = Some(s);
            side = Some(conn);
            timings.push(("setup", ms(t)));
        }
        let result = self.write(
            &changed,
            &removed,
            &old_hash,
            &resolver,
            side,
            &mut report,
            &mut timings,
            progress,
        );
        if let Some(s) = scratch {
            // Back to WAL, even after an error; the scratch file goes with `s`.
            let t = Instant::now();
            let back = self
                .conn
                .execute_batch(
                    "DETACH DATABASE scratch;
                     PRAGMA main.journal_mode=WAL; PRAGMA main.synchronous=NORMAL;",
                )
                .map_err(dbe);
            drop(s);
            timings.push(("wal", ms(t)));
            result?;
            back?;
        } else {
            result?;
        }
        report.timings = timings;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn write<'a>(
        &mut self,
        changed: &[&'a Seen],
        removed: &[(i64, String)],
        old_hash: &HashMap<i64, String>,
        resolver: &Resolver<'a>,
        side: Option<Connection>,
        report: &mut RefreshReport,
        timings: &mut Vec<(&'static str, f64)>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let db_path = self.db_path.display().to_string();
        let dbe = |source| VaultError::Db {
            path: db_path.clone(),
            source,
        };
        let first_build = side.is_some();
        let tx = self.conn.transaction().map_err(dbe)?;
        let t = Instant::now();
        // Links that pointed at a deleted note: resolved again below (another note of that name
        // may take over), else broken.
        let mut orphaned_links: Vec<(i64, String)> = Vec::new();
        for (id, path) in removed {
            {
                let mut st = tx
                    .prepare_cached("SELECT rowid, target FROM links WHERE target_id = ?1")
                    .map_err(dbe)?;
                let rows = st
                    .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(dbe)?;
                for row in rows {
                    orphaned_links.push(row.map_err(dbe)?);
                }
            }
            delete_note(&tx, *id, path).map_err(dbe)?;
        }
        report.removed = removed.len();
        timings.push(("remove", ms(t)));

        let t = Instant::now();
        let total = changed.len();
        // A first build leaves a core to each of its two writers and parses on the others: on
        // two cores, two parse workers made the full-text writer share its core, and 100,000
        // notes took 9.7–9.9 s instead of 8.8–8.9 s. A refresh parses on every core: much of a
        // large one is often reading and hashing notes whose text did not change.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = if first_build {
            cores.saturating_sub(2)
        } else {
            cores
        }
        .clamp(1, 8)
        .min(total.div_ceil(16).max(1));
        let next = AtomicUsize::new(0);
        let mut new_notes: Vec<(i64, &'a str)> = Vec::new();
        // Links left for the writer to resolve ([`Resolver::Index`]): (source id, text).
        let mut unresolved: Vec<(i64, String)> = Vec::new();
        std::thread::scope(|scope| -> Result<()> {
            // A first build's notes, files, tags and links go to the scratch database's writer.
            let (side_send, side_done) = match side {
                Some(conn) => {
                    let (send, recv) = std::sync::mpsc::sync_channel::<Side<'a>>(8);
                    (
                        Some(send),
                        Some(scope.spawn(move || write_scratch(conn, recv))),
                    )
                }
                None => (None, None),
            };
            // Notes go from thread to thread in batches: one message (and one wake-up of a
            // sleeping receiver) per note cost a first build of 100,000 notes seconds of CPU.
            let (send, recv) = std::sync::mpsc::sync_channel::<(usize, Vec<Parsed<'a>>)>(16);
            for _ in 0..workers {
                let send = send.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let start = next.fetch_add(BATCH, Ordering::Relaxed);
                        let Some(batch) = changed.get(start..(start + BATCH).min(changed.len()))
                        else {
                            break;
                        };
                        if batch.is_empty() {
                            break;
                        }
                        let parsed = batch
                            .iter()
                            .map(|s| parse_file(s, old_hash.get(&s.id), resolver))
                            .collect();
                        if send.send((start, parsed)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(send);
            // Batches arrive out of order; notes are stored in path order, so ids and the path
            // index grow at the end.
            let mut pending: BTreeMap<usize, Vec<Parsed<'a>>> = BTreeMap::new();
            let mut done = 0;
            let mut busy = std::time::Duration::ZERO;
            let mut side_batch: Vec<Row<'a>> = Vec::new();
            // Stores one note; `false` when the scratch writer has stopped (its error is read
            // below).
            let mut insert = |parsed: Parsed<'a>, s: &'a Seen| -> rusqlite::Result<bool> {
                match parsed {
                    Parsed::Unreadable(w) => report.warnings.push(w),
                    Parsed::Touch => {
                        tx.prepare_cached(
                            "UPDATE files SET size = ?1, mtime = ?2 WHERE path = ?3",
                        )?
                        .execute(params![s.size, s.mtime, s.rel])?;
                        report.unchanged += 1;
                    }
                    Parsed::Row(mut row, warning) => {
                        report.warnings.extend(warning);
                        if s.known {
                            delete_note(&tx, row.id, &s.rel)?;
                            report.updated += 1;
                        } else {
                            report.added += 1;
                            new_notes.push((row.id, s.rel.as_str()));
                        }
                        insert_text(&tx, row.id, &row.title, std::mem::take(&mut row.body))?;
                        match &side_send {
                            Some(side) => {
                                side_batch.push(*row);
                                if side_batch.len() == BATCH {
                                    let rows = std::mem::take(&mut side_batch);
                                    return Ok(side.send(Side::Rows(rows)).is_ok());
                                }
                            }
                            None => insert_row(&tx, &row, &mut unresolved)?,
                        }
                    }
                }
                Ok(true)
            };
            let mut side_alive = true;
            'recv: for (start, batch) in recv {
                pending.insert(start, batch);
                while let Some(batch) = pending.remove(&done) {
                    for parsed in batch {
                        let t = Instant::now();
                        side_alive = insert(parsed, changed[done]).map_err(dbe)?;
                        busy += t.elapsed();
                        if !side_alive {
                            break 'recv;
                        }
                        done += 1;
                        if done % 256 == 0 {
                            progress(done, total);
                        }
                        if side_send.is_some() && done == total / 2 {
                            // A savepoint makes FTS5 write its buffer out: see `optimize_fts`.
                            tx.execute_batch("SAVEPOINT flush; RELEASE flush;")
                                .map_err(dbe)?;
                        }
                    }
                }
            }
            timings.push(("store", busy.as_secs_f64() * 1000.0));
            progress(total, total);
            timings.push(("parse+insert", ms(t)));
            let (Some(side_send), Some(side_done)) = (side_send, side_done) else {
                return Ok(());
            };
            let joined = |done: std::thread::ScopedJoinHandle<'_, Result<_>>| {
                done.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            if !side_alive
                || side_send.send(Side::Rows(side_batch)).is_err()
                || side_send.send(Side::Done).is_err()
            {
                joined(side_done)?;
                unreachable!("the scratch writer stops before `Done` only on an error");
            }
            drop(side_send);
            // The scratch writer sorts its indexes in while the full-text index is merged here.
            let t = Instant::now();
            optimize_fts(&tx).map_err(dbe)?;
            timings.push(("fts-merge", ms(t)));
            timings.extend(joined(side_done)?);
            // Whole records, indexes included: SQLite's transfer of a table into an empty one
            // of the same shape, with no re-sorting.
            let t = Instant::now();
            for table in NOTE_TABLE_NAMES {
                tx.execute_batch(&format!(
                    "INSERT INTO main.{table} SELECT * FROM scratch.{table}"
                ))
                .map_err(dbe)?;
            }
            timings.push(("copy", ms(t)));
            Ok(())
        })?;

        let t = Instant::now();
        // A small refresh resolves links now that every changed note is stored.
        for (source, text) in &unresolved {
            let target = resolver.resolve(&tx, text).map_err(dbe)?;
            insert_link(&tx, *source, text, target.as_ref()).map_err(dbe)?;
        }
        // Links elsewhere that were broken and that a new note now satisfies (a first build
        // resolved every link as it went).
        if !first_build {
            for (id, rel) in &new_notes {
                let title = Path::new(rel)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let stem = rel.strip_suffix(".md").unwrap_or(rel);
                // One lookup per spelling: `links_broken` answers each (an `OR` scanned every
                // link, 110 ms at 100,000 notes).
                let mut st = tx
                    .prepare_cached(
                        "SELECT rowid, target FROM links WHERE target_id IS NULL
                           AND target = ?1 COLLATE NOCASE",
                    )
                    .map_err(dbe)?;
                let spellings = if title.eq_ignore_ascii_case(stem) {
                    vec![title.as_str()]
                } else {
                    vec![title.as_str(), stem]
                };
                let mut rows = Vec::new();
                for text in spellings {
                    rows.extend(
                        st.query_map([text], |r| Ok((r.get(0)?, r.get(1)?)))
                            .map_err(dbe)?
                            .collect::<rusqlite::Result<Vec<(i64, String)>>>()
                            .map_err(dbe)?,
                    );
                }
                for (rowid, target) in rows {
                    if let Some((target_id, path)) = resolver.resolve(&tx, &target).map_err(dbe)?
                        && target_id == *id
                    {
                        tx.prepare_cached(
                            "UPDATE links SET target_id = ?1, target_path = ?2 WHERE rowid = ?3",
                        )
                        .and_then(|mut st| st.execute(params![target_id, path, rowid]))
                        .map_err(dbe)?;
                    }
                }
            }
            for (rowid, target) in &orphaned_links {
                let resolved = resolver.resolve(&tx, target).map_err(dbe)?;
                let (target_id, path) = match &resolved {
                    Some((id, path)) => (Some(*id), path.as_ref()),
                    None => (None, target.as_str()),
                };
                tx.prepare_cached(
                    "UPDATE links SET target_id = ?1, target_path = ?2 WHERE rowid = ?3",
                )
                .and_then(|mut st| st.execute(params![target_id, path, rowid]))
                .map_err(dbe)?;
            }
        }
        timings.push(("resolve", ms(t)));
        let t = Instant::now();
        tx.commit().map_err(dbe)?;
        timings.push(("commit", ms(t)));
        Ok(())
    }

    /// Answer a parsed `/q` query.
    ///
    /// Free text is ranked by FTS5's `rank` (bm25) in two steps: every match's rowid and rank
    /// (no sort: FTS5's `ORDER BY rank` puts all of them, 20,000 for `kafka` at 100,000 notes,
    /// through SQLite's sorter), the best `limit` picked here, then their rows and snippets.
    pub fn query(&self, q: &Query, limit: usize) -> Result<Vec<Hit>> {
        let mut sql = String::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut wheres: Vec<String> = Vec::new();
        if let Some(text) = &q.text {
            if q.filters.is_empty() {
                sql.push_str("SELECT rowid, rank FROM fts_content");
            } else {
                sql.push_str(
                    "SELECT fts_content.rowid, fts_content.rank FROM fts_content JOIN notes n ON fts_content.rowid = n.id",
                );
            }
            wheres.push("fts_content MATCH ?".into());
            args.push(text.clone().into());
        } else {
            sql.push_str("SELECT n.path, n.title, n.type, n.status, n.modified, '' FROM notes n");
        }
        for f in &q.filters {
            match f {
                Filter::Field(col, v) => {
                    wheres.push(format!("n.{col} = ? COLLATE NOCASE"));
                    args.push(v.clone().into());
                }
                Filter::Tag(t) => {
                    // The tag or a tag under it; both by the case-insensitive index (a range for
                    // the prefix: `t/` ≤ tag < `t0`, as `0` follows `/`).
                    wheres.push(
                        "n.id IN (SELECT note_id FROM tags WHERE tag = ?1 COLLATE NOCASE
                           OR (tag >= (?1 || '/') COLLATE NOCASE AND tag < (?1 || '0') COLLATE NOCASE))"
                            .replace("?1", &format!("?{}", args.len() + 1)),
                    );
                    args.push(t.clone().into());
                }
                Filter::Recent(days) => {
                    wheres.push("n.modified >= date('now', ?)".into());
                    args.push(format!("-{days} days").into());
                }
                Filter::Backlinks(name) => {
                    // Links resolved to that note (by name or path), or broken links of that text.
                    let p = format!("?{}", args.len() + 1);
                    wheres.push(format!(
                        "n.id IN (SELECT source_id FROM links WHERE target_id IN
                            (SELECT id FROM notes WHERE key_title = lower({p}) OR key_path = lower({p}))
                          UNION SELECT source_id FROM links WHERE target_id IS NULL AND target = {p} COLLATE NOCASE)"
                    ));
                    args.push(name.clone().into());
                }
                Filter::Orphans => wheres.push(ORPHANS.into()),
                Filter::BrokenLinks => wheres.push(
                    "EXISTS (SELECT 1 FROM links l WHERE l.source_id = n.id AND l.target_id IS NULL)".into(),
                ),
            }
        }
        if !wheres.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&wheres.join(" AND "));
        }
        let fts_error = |e| match e {
            rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("fts5") => {
                VaultError::Query(m)
            }
            e => self.db(e),
        };
        let hit = |r: &rusqlite::Row<'_>| {
            Ok(Hit {
                path: r.get(0)?,
                title: r.get(1)?,
                note_type: r.get(2)?,
                status: r.get(3)?,
                modified: r.get(4)?,
                snippet: r.get::<_, String>(5)?.replace('\n', " "),
            })
        };
        let Some(text) = &q.text else {
            sql.push_str(" ORDER BY n.modified DESC, n.path LIMIT ?");
            args.push((limit as i64).into());
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.db(e))?;
            return stmt
                .query_map(rusqlite::params_from_iter(args), hit)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(fts_error);
        };
        let mut ranked: Vec<(f64, i64)> = {
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.db(e))?;
            stmt.query_map(rusqlite::params_from_iter(args), |r| {
                Ok((r.get::<_, f64>(1)?, r.get::<_, i64>(0)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(fts_error)?
        };
        // Best (lowest) rank first; equal ranks in rowid order.
        let order = |a: &(f64, i64), b: &(f64, i64)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if ranked.len() > limit {
            if limit == 0 {
                return Ok(Vec::new());
            }
            ranked.select_nth_unstable_by(limit - 1, order);
            ranked.truncate(limit);
        }
        ranked.sort_unstable_by(order);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT n.path, n.title, n.type, n.status, n.modified,
                        snippet(fts_content, 1, '→', '←', '…', 12)
                 FROM fts_content JOIN notes n ON fts_content.rowid = n.id
                 WHERE fts_content MATCH ?1 AND fts_content.rowid = ?2",
            )
            .map_err(|e| self.db(e))?;
        let mut hits = Vec::with_capacity(ranked.len());
        for (_, rowid) in ranked {
            if let Some(h) = stmt
                .query_row(params![text, rowid], hit)
                .optional()
                .map_err(fts_error)?
            {
                hits.push(h);
            }
        }
        Ok(hits)
    }

    /// Counts for `claude vault stats`.
    pub fn stats(&self) -> Result<Stats> {
        let one = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.db(e))
        };
        let mut stmt = self
            .conn
            .prepare("SELECT coalesce(type, '(none)'), count(*) FROM notes GROUP BY 1 ORDER BY 2 DESC, 1")
            .map_err(|e| self.db(e))?;
        let by_type = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.db(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.db(e))?;
        Ok(Stats {
            notes: one("SELECT count(*) FROM notes")?,
            by_type,
            tags: one("SELECT count(*) FROM tags")?,
            distinct_tags: one("SELECT count(DISTINCT lower(tag)) FROM tags")?,
            links: one("SELECT count(*) FROM links")?,
            orphans: one(&format!("SELECT count(*) FROM notes n WHERE {ORPHANS}"))?,
            broken_links: one("SELECT count(*) FROM links WHERE target_id IS NULL")?,
        })
    }

    /// Problems for `claude vault check`.
    pub fn check(&self) -> Result<CheckReport> {
        let strings = |sql: &str| -> Result<Vec<(String, String)>> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.db(e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.db(e))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.db(e))
        };
        let broken_links = strings(
            "SELECT n.path, l.target FROM links l JOIN notes n ON n.id = l.source_id
             WHERE l.target_id IS NULL ORDER BY n.path, l.target",
        )?
        .into_iter()
        .map(|(source, target)| BrokenLink { source, target })
        .collect();
        let mut duplicate_titles: Vec<(String, Vec<String>)> = Vec::new();
        for (title, path) in strings(
            "SELECT title, path FROM notes WHERE key_title IN
               (SELECT key_title FROM notes GROUP BY key_title HAVING count(*) > 1)
             ORDER BY key_title, path",
        )? {
            match duplicate_titles.last_mut() {
                Some((t, paths)) if t.eq_ignore_ascii_case(&title) => paths.push(path),
                _ => duplicate_titles.push((title, vec![path])),
            }
        }
        let without_type = strings("SELECT path, '' FROM notes WHERE type IS NULL ORDER BY path")?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        Ok(CheckReport {
            broken_links,
            duplicate_titles,
            without_type,
        })
    }
}

fn delete_note(tx: &rusqlite::Transaction<'_>, id: i64, path: &str) -> rusqlite::Result<()> {
    for sql in [
        "DELETE FROM notes WHERE id = ?1",
        "DELETE FROM fts_content WHERE rowid = ?1",
        "DELETE FROM tags WHERE note_id = ?1",
        "DELETE FROM links WHERE source_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([id])?;
    }
    tx.prepare_cached("DELETE FROM files WHERE path = ?1")?
        .execute([path])?;
    Ok(())
}

/// Read, hash and parse one changed file (on a worker thread).
fn parse_file<'a>(s: &'a Seen, old_hash: Option<&String>, resolver: &Resolver<'a>) -> Parsed<'a> {
    let bytes = match std::fs::read(&s.abs) {
        Ok(b) => b,
        Err(e) => {
            return Parsed::Unreadable(Warning {
                path: s.rel.clone(),
                line: None,
                message: e.to_string(),
            });
        }
    };
    let hash = hex::encode(Sha256::digest(&bytes));
    if old_hash.is_some_and(|h| *h == hash) {
        return Parsed::Touch;
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let note = parse_note(&text);
    let warning = note
        .frontmatter_error
        .as_ref()
        .map(|(line, message)| Warning {
            path: s.rel.clone(),
            line: Some(*line),
            message: format!("malformed frontmatter, indexed from the body: {message}"),
        });
    let title = Path::new(&s.rel)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fields = ["type", "status", "priority", "created", "modified"].map(|k| note.scalar(k));
    let frontmatter = serde_json::to_string(&note.frontmatter).unwrap_or_else(|_| "{}".into());
    let links = note
        .links
        .into_iter()
        .map(|l| {
            let target = resolver.resolve_here(&l);
            (l, target)
        })
        .collect();
    Parsed::Row(
        Box::new(Row {
            id: s.id,
            seen: s,
            title,
            fields,
            frontmatter,
            body: note.body,
            hash,
            tags: note.tags,
            links,
        }),
        warning,
    )
}

/// Store a parsed note's rows (all but its text, which goes to `fts_content`); links not resolved
/// yet go to `unresolved` (source id, text).
fn insert_row(
    tx: &Connection,
    row: &Row<'_>,
    unresolved: &mut Vec<(i64, String)>,
) -> rusqlite::Result<()> {
    let s = row.seen;
    let [note_type, status, priority, created, modified] = &row.fields;
    tx.prepare_cached(
        "INSERT INTO notes(id, path, title, type, status, priority, created, modified, frontmatter,
                           key_title, key_path, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                 coalesce(?8, date(?13 / 1000000000, 'unixepoch')), ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        row.id,
        s.rel,
        row.title,
        note_type,
        status,
        priority,
        created,
        modified,
        row.frontmatter,
        row.title.to_lowercase(),
        key_path(&s.rel),
        row.hash,
        s.mtime
    ])?;
    tx.prepare_cached("INSERT INTO files(path, id, size, mtime) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![s.rel, row.id, s.size, s.mtime])?;
    let mut tag = tx.prepare_cached("INSERT INTO tags(note_id, tag) VALUES (?1, ?2)")?;
    for t in &row.tags {
        tag.execute(params![row.id, t])?;
    }
    for (text, target) in &row.links {
        match target {
            Some(target) => insert_link(tx, row.id, text, target.as_ref())?,
            None => unresolved.push((row.id, text.clone())),
        }
    }
    Ok(())
}

/// The file is in WAL mode, as it is except during a first build. Asked without waiting: while a
/// first build holds the file, the answer is no.
fn in_wal_mode(conn: &Connection) -> bool {
    // rusqlite's default, put back after the question.
    let wait = std::time::Duration::from_secs(5);
    let _ = conn.busy_timeout(std::time::Duration::ZERO);
    let mode = conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0));
    let _ = conn.busy_timeout(wait);
    mode.is_ok_and(|m| m.eq_ignore_ascii_case("wal"))
}

/// The index's schema version; `None` for a file without one (new).
fn schema_version(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    match conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()
    {
        Ok(v) => Ok(Some(v.and_then(|v| v.parse().ok()).unwrap_or(0))),
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Hold `vault.db.lock` (an advisory lock, released when the file is dropped) while writing to
/// the index. SQLite alone would let two refreshes both see the same changes and both write
/// them: two processes building a new vault at once, or `/q` during `claude vault index`, ended
/// in a rebuilt index or a "UNIQUE constraint failed" error. Readers (`q --no-refresh`, stats)
/// never wait for it.
fn write_lock(db_path: &Path) -> Result<std::fs::File> {
    let path = beside(db_path, ".lock");
    let io = |source| VaultError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

/// `vault.db` + `suffix`: the index's lock and scratch files, beside it.
fn beside(db_path: &Path, suffix: &str) -> PathBuf {
    let mut path = db_path.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// A note's title and text, in the full-text index.
fn insert_text(tx: &Connection, id: i64, title: &str, body: String) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO fts_content(rowid, title, content) VALUES (?1, ?2, ?3)")?
        .execute(params![id, title, body])?;
    Ok(())
}

/// One link row: `target_path` is the target's path, or the link text when broken.
fn insert_link(
    tx: &Connection,
    source: i64,
    text: &str,
    target: Option<&(i64, Cow<'_, str>)>,
) -> rusqlite::Result<()> {
    let (target_id, path) = match target {
        Some((id, path)) => (Some(*id), path.as_ref()),
        None => (None, text),
    };
    tx.prepare_cached(
        "INSERT INTO links(source_id, target_id, target_path, target) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![source, target_id, path, text])?;
    Ok(())
}

/// End a first build with its full-text index in one segment above level 0, where one-note
/// refreshes do not reach it. Every refresh adds a small segment on level 0, and at the 16th
/// (about the 15th refresh after a build) FTS5 merges the whole level in that refresh's commit:
/// 2.8 s at 100,000 notes, 250 ms at 10,000 (against 30 ms for the others), when the build's
/// segments were left there. `optimize` merges them into one on the next level; it leaves a lone
/// segment where it is, so the build writes its buffer out halfway (a savepoint) to have two.
fn optimize_fts(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute_batch("INSERT INTO fts_content(fts_content) VALUES ('optimize')")
}

/// What the parse loop hands a first build's scratch writer.
enum Side<'a> {
    /// Notes' rows, their text already in `fts_content`.
    Rows(Vec<Row<'a>>),
    /// Every note is sent: index and commit. Without it (the build failed), nothing is kept.
    Done,
}

/// A first build's second writer. The single SQLite writer is a first build's bottleneck (FTS5
/// alone is most of it), so the notes' other rows (`notes`, `files`, `tags`, `links`) and their
/// indexes are written to a scratch database on another thread, then copied into the index in
/// one pass at the end. The file is removed when this is dropped.
struct Scratch {
    path: PathBuf,
    /// The file this build created there (device and inode), once it exists.
    file: Option<(u64, u64)>,
}

impl Scratch {
    fn create(db_path: &Path) -> Result<(Self, Connection)> {
        let mut scratch = Self {
            path: beside(db_path, ".build"),
            file: None,
        };
        let db = |source| VaultError::Db {
            path: scratch.path.display().to_string(),
            source,
        };
        // Left by an interrupted build.
        match std::fs::remove_file(&scratch.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(VaultError::Io {
                    path: scratch.path.display().to_string(),
                    source,
                });
            }
        }
        let conn = Connection::open(&scratch.path).map_err(db)?;
        // Throwaway: no journal, no fsync; sorter threads for the indexes.
        conn.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;
             PRAGMA threads=4;",
        )
        .map_err(db)?;
        conn.execute_batch(NOTE_TABLES).map_err(db)?;
        scratch.file = file_id(&scratch.path);
        Ok((scratch, conn))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A build started meanwhile by another process removes what it takes for a leftover and
        // creates its own file there: leave that one alone.
        if self.file.is_some() && file_id(&self.path) != self.file {
            return;
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Which file a path names now (device, inode); `None` where that cannot be told.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The scratch writer's thread: rows as they come, then the indexes (sorted once the rows are in,
/// while the index's connection merges the full-text index), then one commit. Returns its
/// timings.
fn write_scratch(
    mut conn: Connection,
    rows: std::sync::mpsc::Receiver<Side<'_>>,
) -> Result<Vec<(&'static str, f64)>> {
    let path = conn.path().unwrap_or_default().to_string();
    let db = |source| VaultError::Db {
        path: path.clone(),
        source,
    };
    let tx = conn.transaction().map_err(db)?;
    let mut busy = std::time::Duration::ZERO;
    let mut unresolved = Vec::new();
    for side in rows {
        match side {
            Side::Rows(rows) => {
                let t = Instant::now();
                for row in &rows {
                    insert_row(&tx, row, &mut unresolved).map_err(db)?;
                }
                busy += t.elapsed();
            }
            Side::Done => {
                // A first build resolves every link on the parse workers.
                debug_assert!(unresolved.is_empty());
                let t = Instant::now();
                create_indexes(&tx).map_err(db)?;
                let indexes = ms(t);
                tx.commit().map_err(db)?;
                return Ok(vec![
                    ("notes", busy.as_secs_f64() * 1000.0),
                    ("indexes", indexes),
                ]);
            }
        }
    }
    Ok(Vec::new())
}

fn create_indexes(conn: &Connection) -> rusqlite::Result<()> {
    for (name, on) in INDEXES {
        conn.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two first builds at once: the later one replaces the earlier one's scratch file (a
    /// leftover, as far as it can tell). The earlier build, ending, must not remove the file the
    /// later one is still writing.
    #[cfg(unix)]
    #[test]
    fn a_scratch_file_removes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vault.db");
        let (first, _conn) = Scratch::create(&db).unwrap();
        let (second, conn) = Scratch::create(&db).unwrap();
        assert_eq!(first.path, second.path);
        drop(first);
        assert!(second.path.exists(), "the second build's file was removed");
        conn.execute("INSERT INTO tags(note_id, tag) VALUES (1, 'x')", [])
            .unwrap();
        let path = second.path.clone();
        drop(second);
        assert!(!path.exists());
    }
}
