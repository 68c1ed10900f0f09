//! The SQLite index at `.data/vault.db`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
pub const SCHEMA_VERSION: i64 = 2;

const SKIPPED_DIRS: &[&str] = &[".git", ".obsidian", ".claude", ".data", "node_modules"];

/// The tables. `path`'s UNIQUE index is filled in path order, so it costs little on a first build.
const TABLES: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE notes(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  type TEXT, status TEXT, priority TEXT, created TEXT, modified TEXT,
  frontmatter TEXT NOT NULL DEFAULT '{}',
  key_title TEXT NOT NULL, key_path TEXT NOT NULL,
  size INTEGER NOT NULL, mtime INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE VIRTUAL TABLE fts_content USING fts5(title, content);
CREATE TABLE tags(note_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE TABLE links(source_id INTEGER NOT NULL, target_id INTEGER, target_path TEXT NOT NULL, target TEXT NOT NULL);
";

/// The secondary indexes: dropped during a first build and created once the rows are in, which is
/// one sort each instead of a B-tree insert per row.
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

/// FTS5's in-memory buffer during a first build (default 1 MiB): fewer, larger segments to merge.
const FTS_HASH_SIZE: i64 = 16 * 1024 * 1024;

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
}

/// A note the index holds.
struct Known {
    id: i64,
    size: i64,
    mtime: i64,
    hash: String,
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
struct Resolver<'a> {
    /// Lower-cased file name → (id, path), shortest path first.
    by_name: HashMap<String, Vec<(i64, &'a str)>>,
}

impl<'a> Resolver<'a> {
    fn new(notes: impl Iterator<Item = (i64, &'a str)>) -> Self {
        let mut by_name: HashMap<String, Vec<(i64, &'a str)>> = HashMap::new();
        for (id, path) in notes {
            by_name.entry(key_title(path)).or_default().push((id, path));
        }
        for v in by_name.values_mut() {
            if v.len() > 1 {
                v.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.1.cmp(b.1)));
            }
        }
        Self { by_name }
    }

    fn resolve(&self, target: &str) -> Option<(i64, &'a str)> {
        let lower = target.to_lowercase();
        let lower = lower.trim_start_matches("./").trim_start_matches('/');
        let name = lower.rsplit('/').next().unwrap_or(lower);
        let candidates = self.by_name.get(name)?;
        if name.len() == lower.len() {
            return candidates.first().copied();
        }
        // A path: the note at exactly that path, else one whose path ends with it.
        let suffix = format!("/{lower}");
        candidates
            .iter()
            .find(|(_, p)| key_path(p) == lower)
            .or_else(|| {
                candidates
                    .iter()
                    .find(|(_, p)| key_path(p).ends_with(&suffix))
            })
            .copied()
    }
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
    links: Vec<(String, Option<(i64, &'a str)>)>,
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
        let conn = Connection::open(&db_path).map_err(db)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;
             PRAGMA mmap_size=268435456;",
        )
        .map_err(db)?;
        let found: Option<String> = match conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
        {
            Ok(v) => v,
            // No `meta` table: a new file.
            Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => {
                Self::create(&conn).map_err(db)?;
                Some(SCHEMA_VERSION.to_string())
            }
            Err(e) => return Err(db(e)),
        };
        let found = found.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if found != SCHEMA_VERSION {
            if found > SCHEMA_VERSION {
                return Err(VaultError::Schema {
                    path: db_path.display().to_string(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            // Older schema: drop everything and rebuild.
            conn.execute_batch(
                "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS notes; DROP TABLE IF EXISTS fts_content;
                 DROP TABLE IF EXISTS tags; DROP TABLE IF EXISTS links;",
            )
            .map_err(db)?;
            Self::create(&conn).map_err(db)?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            db_path,
            conn,
        })
    }

    fn create(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(TABLES)?;
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

    /// Every `*.md` file of the vault with its size and mtime, in path order; a parallel walk.
    fn walk(&self) -> Result<Vec<Seen>> {
        let found: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
        let error: Mutex<Option<ignore::Error>> = Mutex::new(None);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
        ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .require_git(false)
            .git_global(false)
            .threads(threads)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
            })
            .build_parallel()
            .run(|| {
                let found = &found;
                let error = &error;
                let root = &self.root;
                // Hand this thread's files over when the walk drops the visitor.
                struct Flush<'a>(Vec<Seen>, &'a Mutex<Vec<Seen>>);
                impl Drop for Flush<'_> {
                    fn drop(&mut self) {
                        if let Ok(mut f) = self.1.lock() {
                            f.append(&mut self.0);
                        }
                    }
                }
                let mut flush = Flush(Vec::new(), found);
                Box::new(move |entry| {
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            if let Ok(mut slot) = error.lock() {
                                slot.get_or_insert(e);
                            }
                            return ignore::WalkState::Quit;
                        }
                    };
                    if !entry.file_type().is_some_and(|t| t.is_file())
                        || entry.path().extension().is_none_or(|e| e != "md")
                    {
                        return ignore::WalkState::Continue;
                    }
                    let abs = entry.path().to_path_buf();
                    let Ok(rel) = abs.strip_prefix(root) else {
                        return ignore::WalkState::Continue;
                    };
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    let meta = match entry.metadata() {
                        Ok(m) => m,
                        Err(e) => {
                            if let Ok(mut slot) = error.lock() {
                                slot.get_or_insert(e);
                            }
                            return ignore::WalkState::Quit;
                        }
                    };
                    let mtime = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos() as i64);
                    flush.0.push(Seen {
                        rel,
                        abs,
                        size: meta.len() as i64,
                        mtime,
                    });
                    ignore::WalkState::Continue
                })
            });
        if let Some(e) = error.into_inner().ok().flatten() {
            return Err(e.into());
        }
        let mut out = found.into_inner().unwrap_or_default();
        out.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// Bring the index up to date: parse only notes whose size, mtime or hash changed; drop deleted
    /// notes. `progress(done, total)` is called as changed notes are stored.
    ///
    /// Reading, hashing and parsing run on every core; one thread writes to SQLite, in path order.
    /// A first build (an empty index) drops the secondary indexes, inserts with the rollback
    /// journal and no fsync (new pages need no journal), then sorts the indexes in and goes back
    /// to WAL.
    pub fn refresh(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<RefreshReport> {
        let mut timings = Vec::new();
        let t = Instant::now();
        let seen = self.walk()?;
        timings.push(("walk", ms(t)));
        let mut report = RefreshReport {
            scanned: seen.len(),
            ..RefreshReport::default()
        };
        let t = Instant::now();
        let mut known: HashMap<String, Known> = HashMap::with_capacity(seen.len());
        {
            let mut stmt = self
                .conn
                .prepare("SELECT path, id, size, mtime, hash FROM notes")
                .map_err(|e| self.db(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.db(e))?;
            while let Some(r) = rows.next().map_err(|e| self.db(e))? {
                let get = |e| VaultError::Db {
                    path: self.db_path.display().to_string(),
                    source: e,
                };
                known.insert(
                    r.get(0).map_err(get)?,
                    Known {
                        id: r.get(1).map_err(get)?,
                        size: r.get(2).map_err(get)?,
                        mtime: r.get(3).map_err(get)?,
                        hash: r.get(4).map_err(get)?,
                    },
                );
            }
        }
        timings.push(("load", ms(t)));
        let changed: Vec<&Seen> = seen
            .iter()
            .filter(|s| {
                known
                    .get(&s.rel)
                    .is_none_or(|k| k.size != s.size || k.mtime != s.mtime)
            })
            .collect();
        let present: HashSet<&str> = seen.iter().map(|s| s.rel.as_str()).collect();
        let mut removed: Vec<i64> = known
            .iter()
            .filter(|(p, _)| !present.contains(p.as_str()))
            .map(|(_, k)| k.id)
            .collect();
        removed.sort_unstable();
        report.unchanged = seen.len() - changed.len();
        if changed.is_empty() && removed.is_empty() {
            report.timings = timings;
            return Ok(report);
        }

        // Ids: kept for known notes, new ones in path order after the largest.
        let t = Instant::now();
        let mut next_id = known.values().map(|k| k.id).max().unwrap_or(0) + 1;
        let ids: HashMap<&str, i64> = seen
            .iter()
            .map(|s| {
                let id = known.get(&s.rel).map_or_else(
                    || {
                        next_id += 1;
                        next_id - 1
                    },
                    |k| k.id,
                );
                (s.rel.as_str(), id)
            })
            .collect();
        let resolver = Resolver::new(seen.iter().map(|s| (ids[s.rel.as_str()], s.rel.as_str())));
        timings.push(("resolver", ms(t)));

        let first_build = known.is_empty();
        let db_path = self.db_path.display().to_string();
        let dbe = |source| VaultError::Db {
            path: db_path.clone(),
            source,
        };
        if first_build {
            // New pages need no rollback journal, so a first build writes each page once; without
            // fsync. A crash leaves an index that the next run rebuilds.
            self.conn
                .execute_batch(
                    "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;
                     PRAGMA threads=4;",
                )
                .map_err(dbe)?;
            for (name, _) in INDEXES {
                self.conn
                    .execute_batch(&format!("DROP INDEX IF EXISTS {name}"))
                    .map_err(dbe)?;
            }
            self.conn
                .execute(
                    "INSERT INTO fts_content(fts_content, rank) VALUES ('hashsize', ?1)",
                    [FTS_HASH_SIZE],
                )
                .map_err(dbe)?;
        }
        let result = self.write(
            &changed,
            &removed,
            &known,
            &ids,
            &resolver,
            first_build,
            &mut report,
            &mut timings,
            progress,
        );
        if first_build {
            // Back to WAL, even after an error.
            let back = self
                .conn
                .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
                .map_err(dbe);
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
        removed: &[i64],
        known: &HashMap<String, Known>,
        ids: &HashMap<&str, i64>,
        resolver: &Resolver<'a>,
        first_build: bool,
        report: &mut RefreshReport,
        timings: &mut Vec<(&'static str, f64)>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let db_path = self.db_path.display().to_string();
        let dbe = |source| VaultError::Db {
            path: db_path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(dbe)?;
        let t = Instant::now();
        // Links that pointed at a deleted note: resolved again below (another note of that name
        // may take over), else broken.
        let mut orphaned_links: Vec<(i64, String)> = Vec::new();
        for id in removed {
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
            delete_note(&tx, *id).map_err(dbe)?;
        }
        report.removed = removed.len();
        timings.push(("remove", ms(t)));

        let t = Instant::now();
        let total = changed.len();
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8)
            .min(total.div_ceil(16).max(1));
        let next = AtomicUsize::new(0);
        let mut new_notes: Vec<(i64, &'a str)> = Vec::new();
        std::thread::scope(|scope| -> Result<()> {
            let (send, recv) = std::sync::mpsc::sync_channel::<(usize, Parsed<'a>)>(256);
            for _ in 0..workers {
                let send = send.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(s) = changed.get(i) else { break };
                        let parsed =
                            parse_file(s, known.get(&s.rel), ids[s.rel.as_str()], resolver);
                        if send.send((i, parsed)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(send);
            // Rows arrive out of order; they are stored in path order, so ids and the path
            // index grow at the end.
            let mut pending: BTreeMap<usize, Parsed<'a>> = BTreeMap::new();
            let mut done = 0;
            let mut busy = std::time::Duration::ZERO;
            let mut insert = |parsed: Parsed<'a>, s: &'a Seen| -> rusqlite::Result<()> {
                match parsed {
                    Parsed::Unreadable(w) => report.warnings.push(w),
                    Parsed::Touch => {
                        let k = &known[&s.rel];
                        tx.prepare_cached("UPDATE notes SET size = ?1, mtime = ?2 WHERE id = ?3")?
                            .execute(params![s.size, s.mtime, k.id])?;
                        report.unchanged += 1;
                    }
                    Parsed::Row(row, warning) => {
                        report.warnings.extend(warning);
                        if known.contains_key(&s.rel) {
                            delete_note(&tx, row.id)?;
                            report.updated += 1;
                        } else {
                            report.added += 1;
                            new_notes.push((row.id, s.rel.as_str()));
                        }
                        insert_row(&tx, &row)?;
                    }
                }
                Ok(())
            };
            for (i, parsed) in recv {
                pending.insert(i, parsed);
                while let Some(parsed) = pending.remove(&done) {
                    let t = Instant::now();
                    insert(parsed, changed[done]).map_err(dbe)?;
                    busy += t.elapsed();
                    done += 1;
                    if done % 256 == 0 {
                        progress(done, total);
                    }
                }
            }
            timings.push(("store", busy.as_secs_f64() * 1000.0));
            Ok(())
        })?;
        progress(total, total);
        timings.push(("parse+insert", ms(t)));

        let t = Instant::now();
        // Links elsewhere that were broken and that a new note now satisfies (a first build
        // resolved every link as it went).
        if !first_build {
            for (id, rel) in &new_notes {
                let title = Path::new(rel)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let stem = rel.strip_suffix(".md").unwrap_or(rel);
                let mut st = tx
                    .prepare_cached(
                        "SELECT rowid, target FROM links WHERE target_id IS NULL
                           AND (target = ?1 COLLATE NOCASE OR target = ?2 COLLATE NOCASE)",
                    )
                    .map_err(dbe)?;
                let rows = st
                    .query_map([title.as_str(), stem], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(dbe)?
                    .collect::<rusqlite::Result<Vec<(i64, String)>>>()
                    .map_err(dbe)?;
                for (rowid, target) in rows {
                    if let Some((target_id, path)) = resolver.resolve(&target)
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
                let (target_id, path) = match resolver.resolve(target) {
                    Some((id, path)) => (Some(id), path),
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
        if first_build {
            let t = Instant::now();
            create_indexes(&tx).map_err(dbe)?;
            timings.push(("indexes", ms(t)));
        }
        let t = Instant::now();
        tx.commit().map_err(dbe)?;
        timings.push(("commit", ms(t)));
        Ok(())
    }

    /// Answer a parsed `/q` query.
    pub fn query(&self, q: &Query, limit: usize) -> Result<Vec<Hit>> {
        let mut sql = String::from("SELECT n.path, n.title, n.type, n.status, n.modified, ");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut wheres: Vec<String> = Vec::new();
        if let Some(text) = &q.text {
            sql.push_str(
                "snippet(fts_content, 1, '→', '←', '…', 12) FROM fts_content JOIN notes n ON fts_content.rowid = n.id",
            );
            wheres.push("fts_content MATCH ?".into());
            args.push(text.clone().into());
        } else {
            sql.push_str("'' FROM notes n");
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
        if q.text.is_some() {
            sql.push_str(" ORDER BY rank");
        } else {
            sql.push_str(" ORDER BY n.modified DESC, n.path");
        }
        sql.push_str(" LIMIT ?");
        args.push((limit as i64).into());
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.db(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok(Hit {
                    path: r.get(0)?,
                    title: r.get(1)?,
                    note_type: r.get(2)?,
                    status: r.get(3)?,
                    modified: r.get(4)?,
                    snippet: r.get::<_, String>(5)?.replace('\n', " "),
                })
            })
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("fts5") => {
                    VaultError::Query(m)
                }
                e => self.db(e),
            })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.db(e))
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

fn delete_note(tx: &rusqlite::Transaction<'_>, id: i64) -> rusqlite::Result<()> {
    for sql in [
        "DELETE FROM notes WHERE id = ?1",
        "DELETE FROM fts_content WHERE rowid = ?1",
        "DELETE FROM tags WHERE note_id = ?1",
        "DELETE FROM links WHERE source_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([id])?;
    }
    Ok(())
}

/// Read, hash and parse one changed file (on a worker thread).
fn parse_file<'a>(
    s: &'a Seen,
    old: Option<&Known>,
    id: i64,
    resolver: &Resolver<'a>,
) -> Parsed<'a> {
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
    if old.is_some_and(|k| k.hash == hash) {
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
            let target = resolver.resolve(&l);
            (l, target)
        })
        .collect();
    Parsed::Row(
        Box::new(Row {
            id,
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

fn insert_row(tx: &rusqlite::Transaction<'_>, row: &Row<'_>) -> rusqlite::Result<()> {
    let s = row.seen;
    let [note_type, status, priority, created, modified] = &row.fields;
    tx.prepare_cached(
        "INSERT INTO notes(id, path, title, type, status, priority, created, modified, frontmatter,
                           key_title, key_path, size, mtime, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                 coalesce(?8, date(?13 / 1000000000, 'unixepoch')), ?9, ?10, ?11, ?12, ?13, ?14)",
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
        s.size,
        s.mtime,
        row.hash
    ])?;
    tx.prepare_cached("INSERT INTO fts_content(rowid, title, content) VALUES (?1, ?2, ?3)")?
        .execute(params![row.id, row.title, row.body])?;
    let mut tag = tx.prepare_cached("INSERT INTO tags(note_id, tag) VALUES (?1, ?2)")?;
    for t in &row.tags {
        tag.execute(params![row.id, t])?;
    }
    let mut link = tx.prepare_cached(
        "INSERT INTO links(source_id, target_id, target_path, target) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (text, target) in &row.links {
        let (target_id, path) = match target {
            Some((id, path)) => (Some(*id), *path),
            None => (None, text.as_str()),
        };
        link.execute(params![row.id, target_id, path, text])?;
    }
    Ok(())
}

fn create_indexes(conn: &Connection) -> rusqlite::Result<()> {
    for (name, on) in INDEXES {
        conn.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))?;
    }
    Ok(())
}
