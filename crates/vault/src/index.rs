//! The SQLite index at `.data/vault.db`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::parse::parse_note;
use crate::query::{Filter, Query};
use crate::{Result, VaultError};

/// Where the index lives, relative to the vault root.
pub const DB_RELATIVE_PATH: &str = ".data/vault.db";
/// Bumped whenever the schema changes; an older file is rebuilt.
pub const SCHEMA_VERSION: i64 = 1;

const SKIPPED_DIRS: &[&str] = &[".git", ".obsidian", ".claude", ".data", "node_modules"];

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE notes(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  type TEXT, status TEXT, priority TEXT, created TEXT, modified TEXT,
  frontmatter TEXT NOT NULL DEFAULT '{}',
  key_title TEXT NOT NULL, key_path TEXT NOT NULL,
  size INTEGER NOT NULL, mtime INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE INDEX notes_type ON notes(type);
CREATE INDEX notes_modified ON notes(modified);
CREATE INDEX notes_key_title ON notes(key_title);
CREATE INDEX notes_key_path ON notes(key_path);
CREATE VIRTUAL TABLE fts_content USING fts5(title, content);
CREATE TABLE tags(note_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE INDEX tags_note ON tags(note_id);
CREATE INDEX tags_tag ON tags(tag COLLATE NOCASE);
CREATE TABLE links(source_id INTEGER NOT NULL, target_id INTEGER, target_path TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX links_source ON links(source_id);
CREATE INDEX links_target ON links(target_id);
CREATE INDEX links_target_text ON links(target COLLATE NOCASE);
";

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

struct Seen {
    rel: String,
    abs: PathBuf,
    size: i64,
    mtime: i64,
}

const ORPHAN_EXCLUDED: &str = "('dailynote', 'moc', 'dashboard', 'query')";

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
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;",
        )
        .map_err(db)?;
        let has_meta: bool = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        if has_meta {
            let found: Option<String> = conn
                .query_row(
                    "SELECT value FROM meta WHERE key='schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
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
        } else {
            Self::create(&conn).map_err(db)?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            db_path,
            conn,
        })
    }

    fn create(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(SCHEMA)?;
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

    fn walk(&self) -> Result<Vec<Seen>> {
        let mut out = Vec::new();
        let walker = ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .require_git(false)
            .git_global(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
            })
            .build();
        for entry in walker {
            let entry = entry?;
            if !entry.file_type().is_some_and(|t| t.is_file())
                || entry.path().extension().is_none_or(|e| e != "md")
            {
                continue;
            }
            let abs = entry.path().to_path_buf();
            let Ok(rel) = abs.strip_prefix(&self.root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let meta = entry.metadata()?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            out.push(Seen {
                rel,
                abs,
                size: meta.len() as i64,
                mtime,
            });
        }
        Ok(out)
    }

    /// Bring the index up to date: parse only notes whose size, mtime or hash changed; drop deleted
    /// notes. `progress(done, total)` is called as changed notes are parsed.
    pub fn refresh(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<RefreshReport> {
        let seen = self.walk()?;
        let mut report = RefreshReport {
            scanned: seen.len(),
            ..RefreshReport::default()
        };
        let mut known: HashMap<String, (i64, i64, i64, String)> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT path, id, size, mtime, hash FROM notes")
                .map_err(|e| self.db(e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                })
                .map_err(|e| self.db(e))?;
            for row in rows {
                let (path, v) = row.map_err(|e| self.db(e))?;
                known.insert(path, v);
            }
        }
        let changed: Vec<&Seen> = seen
            .iter()
            .filter(|s| {
                known
                    .get(&s.rel)
                    .is_none_or(|k| k.1 != s.size || k.2 != s.mtime)
            })
            .collect();
        let present: std::collections::HashSet<&str> =
            seen.iter().map(|s| s.rel.as_str()).collect();
        let removed: Vec<i64> = known
            .iter()
            .filter(|(p, _)| !present.contains(p.as_str()))
            .map(|(_, v)| v.0)
            .collect();
        report.unchanged = seen.len() - changed.len();
        if changed.is_empty() && removed.is_empty() {
            return Ok(report);
        }
        let db_path = self.db_path.display().to_string();
        let dbe = |source| VaultError::Db {
            path: db_path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(dbe)?;
        for id in &removed {
            delete_note(&tx, *id).map_err(dbe)?;
            tx.execute(
                "UPDATE links SET target_id = NULL, target_path = target WHERE target_id = ?1",
                [id],
            )
            .map_err(dbe)?;
        }
        report.removed = removed.len();
        let total = changed.len();
        for (i, s) in changed.iter().enumerate() {
            progress(i, total);
            let bytes = match std::fs::read(&s.abs) {
                Ok(b) => b,
                Err(e) => {
                    report.warnings.push(Warning {
                        path: s.rel.clone(),
                        line: None,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let hash = hex::encode(Sha256::digest(&bytes));
            let old = known.get(&s.rel);
            if let Some((id, _, _, old_hash)) = old
                && *old_hash == hash
            {
                tx.prepare_cached("UPDATE notes SET size = ?1, mtime = ?2 WHERE id = ?3")
                    .and_then(|mut st| st.execute(params![s.size, s.mtime, id]))
                    .map_err(dbe)?;
                report.unchanged += 1;
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let note = parse_note(&text);
            if let Some((line, message)) = &note.frontmatter_error {
                report.warnings.push(Warning {
                    path: s.rel.clone(),
                    line: Some(*line),
                    message: format!("malformed frontmatter, indexed from the body: {message}"),
                });
            }
            let title = Path::new(&s.rel)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let key_path = s.rel.strip_suffix(".md").unwrap_or(&s.rel).to_lowercase();
            let fm = serde_json::Value::Object(note.frontmatter.clone()).to_string();
            let id = match old {
                Some((id, ..)) => {
                    delete_note(&tx, *id).map_err(dbe)?;
                    report.updated += 1;
                    *id
                }
                None => {
                    report.added += 1;
                    tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM notes", [], |r| {
                        r.get(0)
                    })
                    .map_err(dbe)?
                }
            };
            tx.prepare_cached(
                "INSERT INTO notes(id, path, title, type, status, priority, created, modified, frontmatter,
                                   key_title, key_path, size, mtime, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                         coalesce(?8, date(?13 / 1000000000, 'unixepoch')), ?9, ?10, ?11, ?12, ?13, ?14)").and_then(|mut st| st.execute(
                params![
                    id,
                    s.rel,
                    title,
                    note.scalar("type"),
                    note.scalar("status"),
                    note.scalar("priority"),
                    note.scalar("created"),
                    note.scalar("modified"),
                    fm,
                    title.to_lowercase(),
                    key_path,
                    s.size,
                    s.mtime,
                    hash
                ],
            ))
            .map_err(dbe)?;
            tx.prepare_cached("INSERT INTO fts_content(rowid, title, content) VALUES (?1, ?2, ?3)")
                .and_then(|mut st| st.execute(params![id, title, note.body]))
                .map_err(dbe)?;
            for tag in &note.tags {
                tx.prepare_cached("INSERT INTO tags(note_id, tag) VALUES (?1, ?2)")
                    .and_then(|mut st| st.execute(params![id, tag]))
                    .map_err(dbe)?;
            }
            for link in &note.links {
                tx.prepare_cached(
                    "INSERT INTO links(source_id, target_id, target_path, target) VALUES (?1, NULL, ?2, ?2)").and_then(|mut st| st.execute(
                    params![id, link],
                ))
                .map_err(dbe)?;
            }
        }
        progress(total, total);
        if report.added + report.updated > 1000 {
            resolve_all(&tx).map_err(dbe)?;
        } else {
            // Small refresh: resolve only the changed notes' links, and the broken links that a
            // new note now satisfies.
            for s in &changed {
                let Some(id): Option<i64> = tx
                    .prepare_cached("SELECT id FROM notes WHERE path = ?1")
                    .and_then(|mut st| st.query_row([&s.rel], |r| r.get(0)).optional())
                    .map_err(dbe)?
                else {
                    continue;
                };
                tx.prepare_cached(RESOLVE_SOURCE)
                    .and_then(|mut st| st.execute([id]))
                    .map_err(dbe)?;
                if !known.contains_key(&s.rel) {
                    tx.prepare_cached(RESOLVE_TO_NEW)
                        .and_then(|mut st| st.execute([id]))
                        .map_err(dbe)?;
                }
            }
        }
        tx.commit().map_err(dbe)?;
        Ok(report)
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
                    wheres.push(
                        "EXISTS (SELECT 1 FROM tags t WHERE t.note_id = n.id AND (t.tag = ? COLLATE NOCASE OR lower(t.tag) LIKE lower(?) || '/%'))"
                            .into(),
                    );
                    args.push(t.clone().into());
                    args.push(t.clone().into());
                }
                Filter::Recent(days) => {
                    wheres.push("n.modified >= date('now', ?)".into());
                    args.push(format!("-{days} days").into());
                }
                Filter::Backlinks(name) => {
                    wheres.push(
                        "EXISTS (SELECT 1 FROM links l LEFT JOIN notes t ON t.id = l.target_id WHERE l.source_id = n.id
                          AND (lower(l.target) = lower(?) OR t.key_title = lower(?) OR t.key_path = lower(?)))"
                            .into(),
                    );
                    for _ in 0..3 {
                        args.push(name.clone().into());
                    }
                }
                Filter::Orphans => wheres.push(format!(
                    "NOT EXISTS (SELECT 1 FROM links l WHERE l.target_id = n.id AND l.source_id != n.id)
                     AND lower(coalesce(n.type, '')) NOT IN {ORPHAN_EXCLUDED}"
                )),
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
            orphans: one(&format!(
                "SELECT count(*) FROM notes n WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.target_id = n.id AND l.source_id != n.id)
                 AND lower(coalesce(n.type, '')) NOT IN {ORPHAN_EXCLUDED}"
            ))?,
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

/// Resolves a link by file name (Obsidian's rule, shortest path first), then by vault path.
const RESOLVE_SOURCE: &str = "UPDATE links SET target_id = coalesce(
    (SELECT id FROM notes WHERE key_title = lower(links.target) ORDER BY length(path) LIMIT 1),
    (SELECT id FROM notes WHERE key_path = lower(links.target) LIMIT 1)),
  target_path = coalesce(
    (SELECT path FROM notes WHERE key_title = lower(links.target) ORDER BY length(path) LIMIT 1),
    (SELECT path FROM notes WHERE key_path = lower(links.target) LIMIT 1), target)
  WHERE source_id = ?1";
const RESOLVE_TO_NEW: &str = "UPDATE links SET target_id = ?1,
    target_path = (SELECT path FROM notes WHERE id = ?1)
  WHERE target_id IS NULL AND (target = (SELECT title FROM notes WHERE id = ?1) COLLATE NOCASE
    OR target = (SELECT key_path FROM notes WHERE id = ?1) COLLATE NOCASE)";

fn resolve_all(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "UPDATE links SET target_id = coalesce(
            (SELECT id FROM notes WHERE key_title = lower(links.target) ORDER BY length(path) LIMIT 1),
            (SELECT id FROM notes WHERE key_path = lower(links.target) LIMIT 1))
         WHERE target_id IS NULL;
         UPDATE links SET target_path = (SELECT path FROM notes WHERE id = links.target_id)
         WHERE target_id IS NOT NULL AND target_path = target;",
    )
}
