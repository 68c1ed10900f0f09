//! Durable session transcripts, in Claude Code's JSONL layout so usage tools
//! built for it can read ours.
//!
//! Write-ahead: the user turn is on disk before the request is sent, every
//! text delta is appended before it is shown, and the assistant turn is
//! written when it completes. A `kill -9` mid-reply therefore loses nothing
//! the user saw; on resume the deltas of an unfinished reply are folded back
//! into an incomplete assistant message.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use claude_protocol::{ContentBlock, Message, MessageContent, Role, Usage};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a session is bound to; the provider may never change within it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionMeta {
    pub session_id: String,
    pub provider: String,
    #[serde(default)]
    pub region: Option<String>,
    pub model: String,
    pub cwd: String,
    /// `print` or `repl`.
    #[serde(default)]
    pub entrypoint: String,
}

/// A session read back from disk.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    pub meta: SessionMeta,
    pub path: PathBuf,
    pub messages: Vec<Message>,
    /// Usage of every completed request, in order: (model, usage, cost).
    pub usage: Vec<(String, Usage, f64)>,
    /// The model in use when the transcript ends.
    pub last_model: String,
    pub last_uuid: Option<String>,
    /// An assistant reply that was cut off (killed or interrupted).
    pub had_incomplete_reply: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub path: PathBuf,
    pub modified: SystemTime,
    pub provider: String,
    pub model: String,
    pub turns: usize,
    pub first_prompt: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error(
        "no session `{id}` for this project (sessions live in {dir}); `claude sessions` lists them"
    )]
    NotFound { id: String, dir: PathBuf },
    #[error("no previous session in this project ({dir}); start one with `claude`")]
    NoSessions { dir: PathBuf },
    #[error("{path} is not a claude transcript (its first line has no session metadata)")]
    NotATranscript { path: PathBuf },
    #[error("could not read or write {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TranscriptError + '_ {
    move |source| TranscriptError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Claude Code's folder name for a project: the path with every
/// non-alphanumeric character replaced by `-`, long ones cut and hashed.
pub fn project_folder_name(cwd: &Path) -> String {
    let raw: String = cwd
        .display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if raw.len() <= 200 {
        return raw;
    }
    let hash = raw.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{}-{hash:016x}", &raw[..200])
}

pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[derive(Debug, Clone)]
pub struct TranscriptStore {
    root: PathBuf,
}

impl TranscriptStore {
    /// Transcripts live in `<config dir>/projects/<project folder>/`.
    pub fn new(user_dir: &Path) -> Self {
        Self {
            root: user_dir.join("projects"),
        }
    }

    pub fn project_dir(&self, cwd: &Path) -> PathBuf {
        self.root.join(project_folder_name(cwd))
    }

    pub fn create(&self, meta: SessionMeta) -> Result<Transcript, TranscriptError> {
        let dir = self.project_dir(Path::new(&meta.cwd));
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(format!("{}.jsonl", meta.session_id));
        let file = open_private(&path).map_err(io_err(&path))?;
        let mut t = Transcript {
            file,
            path,
            meta,
            last_uuid: None,
        };
        let line = json!({
            "type": "session_meta",
            "sessionId": t.meta.session_id,
            "version": VERSION,
            "timestamp": now_rfc3339(),
            "meta": t.meta,
        });
        t.write_line(&line)?;
        Ok(t)
    }

    /// Reopens a loaded session for appending.
    pub fn reopen(&self, loaded: &LoadedSession) -> Result<Transcript, TranscriptError> {
        let file = open_private(&loaded.path).map_err(io_err(&loaded.path))?;
        Ok(Transcript {
            file,
            path: loaded.path.clone(),
            meta: loaded.meta.clone(),
            last_uuid: loaded.last_uuid.clone(),
        })
    }

    fn files(&self, cwd: &Path) -> Vec<(PathBuf, SystemTime)> {
        let dir = self.project_dir(cwd);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
            .collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.1));
        files
    }

    /// The most recently active session of this project.
    pub fn latest(&self, cwd: &Path) -> Result<LoadedSession, TranscriptError> {
        let files = self.files(cwd);
        let Some((path, _)) = files.first() else {
            return Err(TranscriptError::NoSessions {
                dir: self.project_dir(cwd),
            });
        };
        load(path)
    }

    pub fn open(&self, cwd: &Path, id: &str) -> Result<LoadedSession, TranscriptError> {
        let path = self.project_dir(cwd).join(format!("{id}.jsonl"));
        if !path.exists() {
            // A unique prefix is enough, as with git.
            let matches: Vec<_> = self
                .files(cwd)
                .into_iter()
                .filter(|(p, _)| {
                    p.file_stem()
                        .and_then(|s| s.to_str())
                        .is_some_and(|s| s.starts_with(id))
                })
                .collect();
            if let [(p, _)] = matches.as_slice() {
                return load(p);
            }
            return Err(TranscriptError::NotFound {
                id: id.to_string(),
                dir: self.project_dir(cwd),
            });
        }
        load(&path)
    }

    pub fn list(&self, cwd: &Path) -> Vec<SessionSummary> {
        self.files(cwd)
            .into_iter()
            .filter_map(|(path, modified)| {
                let s = load(&path).ok()?;
                let first_prompt = s
                    .messages
                    .iter()
                    .find(|m| m.role == Role::User)
                    .map(|m| m.content.text())
                    .unwrap_or_default();
                Some(SessionSummary {
                    session_id: s.meta.session_id,
                    path,
                    modified,
                    provider: s.meta.provider,
                    model: s.last_model,
                    turns: s.messages.iter().filter(|m| m.role == Role::User).count(),
                    first_prompt,
                })
            })
            .collect()
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// An open transcript being appended to.
#[derive(Debug)]
pub struct Transcript {
    file: File,
    path: PathBuf,
    meta: SessionMeta,
    last_uuid: Option<String>,
}

/// Details of a completed assistant turn for its transcript line.
pub struct AssistantRecord<'a> {
    pub message: &'a Message,
    pub model: &'a str,
    pub message_id: &'a str,
    pub stop_reason: Option<&'a str>,
    pub usage: &'a Usage,
    pub cost_usd: f64,
    pub request_id: Option<&'a str>,
    pub incomplete: bool,
}

impl Transcript {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    fn write_line(&mut self, line: &Value) -> Result<(), TranscriptError> {
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        // One write per line: O_APPEND keeps lines whole even if a crash
        // interrupts the process between two of them.
        self.file
            .write_all(text.as_bytes())
            .map_err(io_err(&self.path))
    }

    fn common(&self, kind: &str, uuid: &str) -> serde_json::Map<String, Value> {
        let v = json!({
            "parentUuid": self.last_uuid,
            "isSidechain": false,
            "userType": "external",
            "cwd": self.meta.cwd,
            "sessionId": self.meta.session_id,
            "version": VERSION,
            "type": kind,
            "uuid": uuid,
            "timestamp": now_rfc3339(),
        });
        match v {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    /// Writes the user turn; returns its uuid.
    pub fn user(&mut self, message: &Message) -> Result<String, TranscriptError> {
        let uuid = new_uuid();
        let mut line = self.common("user", &uuid);
        line.insert("message".into(), json!(message));
        self.write_line(&Value::Object(line))?;
        self.last_uuid = Some(uuid.clone());
        Ok(uuid)
    }

    /// Appends streamed text of the reply `uuid` before it is shown.
    pub fn delta(&mut self, uuid: &str, text: &str) -> Result<(), TranscriptError> {
        self.write_line(&json!({"type": "assistant_delta", "uuid": uuid, "sessionId": self.meta.session_id, "text": text}))
    }

    pub fn assistant(
        &mut self,
        uuid: &str,
        rec: &AssistantRecord<'_>,
    ) -> Result<(), TranscriptError> {
        let mut line = self.common("assistant", uuid);
        let content = match &rec.message.content {
            MessageContent::Blocks(b) => json!(b),
            MessageContent::Text(t) => json!([{"type": "text", "text": t}]),
        };
        line.insert(
            "message".into(),
            json!({
                "id": rec.message_id,
                "type": "message",
                "role": "assistant",
                "model": rec.model,
                "content": content,
                "stop_reason": rec.stop_reason,
                "usage": rec.usage,
            }),
        );
        line.insert("requestId".into(), json!(rec.request_id));
        line.insert("costUSD".into(), json!(rec.cost_usd));
        if rec.incomplete {
            line.insert("isIncomplete".into(), json!(true));
        }
        self.write_line(&Value::Object(line))?;
        self.last_uuid = Some(uuid.to_string());
        Ok(())
    }

    /// Marks that the conversation before this point was replaced by `summary`.
    pub fn compact_boundary(&mut self, summary: &str) -> Result<(), TranscriptError> {
        let uuid = new_uuid();
        let mut line = self.common("system", &uuid);
        line.insert("subtype".into(), json!("compact_boundary"));
        line.insert("content".into(), json!("Conversation compacted"));
        line.insert("compactSummary".into(), json!(summary));
        self.write_line(&Value::Object(line))?;
        self.last_uuid = Some(uuid);
        Ok(())
    }

    /// Records a model switch so a resumed session continues on it.
    pub fn model_switch(&mut self, model: &str) -> Result<(), TranscriptError> {
        self.write_line(&json!({"type": "model_switch", "sessionId": self.meta.session_id, "model": model, "timestamp": now_rfc3339()}))
    }
}

/// The message a compaction summary becomes at the start of the context.
pub fn summary_message(summary: &str) -> Message {
    Message::user(format!(
        "This session continues from earlier work. Handoff summary of the conversation so far:\n\n{summary}"
    ))
}

pub fn load(path: &Path) -> Result<LoadedSession, TranscriptError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut meta: Option<SessionMeta> = None;
    let mut messages: Vec<Message> = Vec::new();
    let mut usage = Vec::new();
    let mut last_uuid = None;
    let mut last_model = String::new();
    // Deltas of replies that never got their final line, in order.
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut pending_order: Vec<String> = Vec::new();
    for line in BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        // A torn last line from a crash is skipped, not fatal.
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match v["type"].as_str().unwrap_or_default() {
            "session_meta" => {
                meta = serde_json::from_value(v["meta"].clone()).ok();
                if let Some(m) = &meta {
                    last_model.clone_from(&m.model);
                }
            }
            "model_switch" => {
                if let Some(m) = v["model"].as_str() {
                    last_model = m.to_string();
                }
            }
            "user" => {
                flush_pending(&mut pending, &mut pending_order, &mut messages);
                if let Ok(m) = serde_json::from_value::<Message>(v["message"].clone()) {
                    messages.push(m);
                }
                last_uuid = v["uuid"].as_str().map(str::to_string);
            }
            "assistant_delta" => {
                let uuid = v["uuid"].as_str().unwrap_or_default().to_string();
                if !pending.contains_key(&uuid) {
                    pending_order.push(uuid.clone());
                }
                pending
                    .entry(uuid)
                    .or_default()
                    .push_str(v["text"].as_str().unwrap_or_default());
            }
            "assistant" => {
                let uuid = v["uuid"].as_str().unwrap_or_default().to_string();
                pending.remove(&uuid);
                pending_order.retain(|u| *u != uuid);
                let blocks: Vec<ContentBlock> =
                    serde_json::from_value(v["message"]["content"].clone()).unwrap_or_default();
                messages.push(Message::assistant(blocks));
                let model = v["message"]["model"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let u: Usage =
                    serde_json::from_value(v["message"]["usage"].clone()).unwrap_or_default();
                usage.push((model, u, v["costUSD"].as_f64().unwrap_or(0.0)));
                last_uuid = Some(uuid);
            }
            "system" if v["subtype"] == "compact_boundary" => {
                flush_pending(&mut pending, &mut pending_order, &mut messages);
                messages = vec![summary_message(
                    v["compactSummary"].as_str().unwrap_or_default(),
                )];
                last_uuid = v["uuid"].as_str().map(str::to_string);
            }
            _ => {}
        }
    }
    let had_incomplete_reply =
        !pending_order.is_empty() || messages.last().is_some_and(|m| m.role == Role::User);
    flush_pending(&mut pending, &mut pending_order, &mut messages);
    let meta = meta.ok_or_else(|| TranscriptError::NotATranscript {
        path: path.to_path_buf(),
    })?;
    Ok(LoadedSession {
        meta,
        path: path.to_path_buf(),
        messages,
        usage,
        last_model,
        last_uuid,
        had_incomplete_reply,
    })
}

/// Turns the deltas of unfinished replies into incomplete assistant messages.
fn flush_pending(
    pending: &mut HashMap<String, String>,
    order: &mut Vec<String>,
    messages: &mut Vec<Message>,
) {
    for uuid in order.drain(..) {
        if let Some(text) = pending.remove(&uuid)
            && !text.is_empty()
        {
            messages.push(Message::assistant(vec![ContentBlock::text(format!(
                "{text}\n\n[reply incomplete: interrupted]"
            ))]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(dir: &Path) -> SessionMeta {
        SessionMeta {
            session_id: new_uuid(),
            provider: "bedrock".into(),
            region: Some("us-east-1".into()),
            model: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            cwd: dir.display().to_string(),
            entrypoint: "repl".into(),
        }
    }

    #[test]
    fn folder_names_follow_claude_code() {
        assert_eq!(
            project_folder_name(Path::new("/home/a/my.vault")),
            "-home-a-my-vault"
        );
        let long = format!("/{}", "x".repeat(300));
        assert!(project_folder_name(Path::new(&long)).len() < 230);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
    }

    #[test]
    fn round_trips_turns_and_recovers_an_unfinished_reply() {
        let dir = tempfile::tempdir().unwrap();
        let store = TranscriptStore::new(dir.path());
        let m = meta(dir.path());
        let mut t = store.create(m.clone()).unwrap();
        t.user(&Message::user("first")).unwrap();
        let a = new_uuid();
        t.delta(&a, "Hel").unwrap();
        t.delta(&a, "lo").unwrap();
        t.assistant(
            &a,
            &AssistantRecord {
                message: &Message::assistant(vec![ContentBlock::text("Hello")]),
                model: "m1",
                message_id: "msg_1",
                stop_reason: Some("end_turn"),
                usage: &Usage {
                    input_tokens: 3,
                    output_tokens: 2,
                    ..Default::default()
                },
                cost_usd: 0.5,
                request_id: Some("r1"),
                incomplete: false,
            },
        )
        .unwrap();
        t.user(&Message::user("second")).unwrap();
        let b = new_uuid();
        t.delta(&b, "Partial ans").unwrap();
        drop(t);
        let loaded = store.latest(dir.path()).unwrap();
        assert_eq!(loaded.meta, m);
        assert_eq!(loaded.messages.len(), 4);
        assert_eq!(loaded.messages[1].content.text(), "Hello");
        assert!(loaded.messages[3].content.text().starts_with("Partial ans"));
        assert!(loaded.had_incomplete_reply);
        assert_eq!(loaded.usage.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&loaded.path)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Prefix lookup.
        let id = &m.session_id[..8];
        assert_eq!(
            store.open(dir.path(), id).unwrap().meta.session_id,
            m.session_id
        );
        assert_eq!(store.list(dir.path()).len(), 1);
    }

    #[test]
    fn compaction_replaces_earlier_messages() {
        let dir = tempfile::tempdir().unwrap();
        let store = TranscriptStore::new(dir.path());
        let mut t = store.create(meta(dir.path())).unwrap();
        t.user(&Message::user("a")).unwrap();
        t.compact_boundary("we talked about a").unwrap();
        t.user(&Message::user("b")).unwrap();
        let loaded = load(t.path()).unwrap();
        assert_eq!(loaded.messages.len(), 2);
        assert!(
            loaded.messages[0]
                .content
                .text()
                .contains("we talked about a")
        );
    }
}
