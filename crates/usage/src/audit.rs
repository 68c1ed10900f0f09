//! The audit log: `audit.jsonl` in the config directory, one JSON object per
//! line for each model invocation, tool execution and budget refusal.
//!
//! Lines carry metadata only (who, when, where, which model, request id,
//! tokens, cost, tool and decision) unless the caller adds content, which
//! claude does only with `audit.include_content = true`. The file is mode
//! 0600; past `max_bytes` it is renamed to `audit.jsonl.1` (older files
//! shift up to `.5`). Writers from several processes take a lock on
//! `audit.jsonl.lock` so rotation and appends never interleave.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::UsageError;
use crate::ledger::{private_dir, private_file};

pub const AUDIT_FILE: &str = "audit.jsonl";

/// Rotated files kept besides the live one.
const KEEP: u32 = 5;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    #[default]
    ModelInvocation,
    ToolExecution,
    /// A request refused before sending because of a budget.
    BudgetRefusal,
}

impl AuditEvent {
    pub fn parse(text: &str) -> Option<AuditEvent> {
        serde_json::from_value(Value::String(text.replace('-', "_"))).ok()
    }
}

/// One line of the log. Absent fields are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// UTC, `2026-07-24T18:23:43.123Z`.
    pub ts: String,
    pub event: AuditEvent,
    pub session_id: String,
    /// The AWS principal (STS GetCallerIdentity), when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub principal_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub canonical_model: Option<String>,
    /// The service's request id: search CloudTrail or Bedrock invocation
    /// logs for it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skill: Option<String>,
    /// The subagent type whose request this was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub agent_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_read_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_write_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool: Option<String>,
    /// An MCP tool's server and tool, from its name `mcp__<server>__<tool>`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mcp_server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mcp_tool: Option<String>,
    /// The permission decision for a tool: `allow`, `ask`, `deny`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Prompt, reply or tool input; only with `audit.include_content`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content: Option<Value>,
}

/// What `claude audit search` looks for; every set field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub event: Option<AuditEvent>,
    /// Substring of the model ID.
    pub model: Option<String>,
    pub tool: Option<String>,
    pub request_id: Option<String>,
    pub session: Option<String>,
    pub principal: Option<String>,
    /// Substring of the whole line.
    pub text: Option<String>,
}

impl AuditQuery {
    fn matches(&self, line: &str, e: &AuditEntry) -> bool {
        let ts = crate::time::parse_iso8601(&e.ts);
        let contains = |field: &Option<String>, want: &Option<String>| match want {
            None => true,
            Some(w) => field.as_deref().is_some_and(|f| f.contains(w.as_str())),
        };
        self.since_ms.is_none_or(|s| ts.is_some_and(|t| t >= s))
            && self.until_ms.is_none_or(|u| ts.is_some_and(|t| t < u))
            && self.event.is_none_or(|ev| ev == e.event)
            && contains(&e.model_id, &self.model)
            && self
                .tool
                .as_ref()
                .is_none_or(|t| e.tool.as_ref() == Some(t))
            && self
                .request_id
                .as_ref()
                .is_none_or(|r| e.request_id.as_ref() == Some(r))
            && self.session.as_ref().is_none_or(|s| &e.session_id == s)
            && contains(&e.principal_arn, &self.principal)
            && self.text.as_ref().is_none_or(|t| line.contains(t.as_str()))
    }
}

#[derive(Debug, Clone)]
pub struct Audit {
    path: PathBuf,
    max_bytes: u64,
}

impl Audit {
    /// The log in `dir` (the config directory), rotated past `max_bytes`.
    pub fn new(dir: &Path, max_bytes: u64) -> Audit {
        Audit {
            path: dir.join(AUDIT_FILE),
            max_bytes,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(std::io::Error) -> UsageError + '_ {
        |source| UsageError::AuditIo {
            path: self.path.clone(),
            source,
        }
    }

    fn rotated(&self, n: u32) -> PathBuf {
        self.rotated_name(&n.to_string())
    }

    /// Appends one line, rotating first when it would pass `max_bytes`.
    pub fn append(&self, entry: &AuditEntry) -> Result<(), UsageError> {
        let mut line = serde_json::to_string(entry).map_err(|e| self.err()(e.into()))?;
        line.push('\n');
        if let Some(dir) = self.path.parent() {
            private_dir(dir).map_err(self.err())?;
        }
        let lock_path = self.rotated_name("lock");
        private_file(&lock_path).map_err(self.err())?;
        let lock = File::open(&lock_path).map_err(self.err())?;
        lock.lock().map_err(self.err())?;
        let size = fs::metadata(&self.path).map_or(0, |m| m.len());
        if size > 0 && size + line.len() as u64 > self.max_bytes {
            self.rotate().map_err(self.err())?;
        }
        private_file(&self.path).map_err(self.err())?;
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(self.err())?;
        file.write_all(line.as_bytes()).map_err(self.err())?;
        lock.unlock().map_err(self.err())
    }

    fn rotated_name(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{suffix}"));
        PathBuf::from(name)
    }

    fn rotate(&self) -> std::io::Result<()> {
        for n in (1..KEEP).rev() {
            let from = self.rotated(n);
            if from.exists() {
                fs::rename(&from, self.rotated(n + 1))?;
            }
        }
        fs::rename(&self.path, self.rotated(1))
    }

    /// The log's files that exist, oldest first.
    pub fn files(&self) -> Vec<PathBuf> {
        (1..=KEEP)
            .rev()
            .map(|n| self.rotated(n))
            .chain(std::iter::once(self.path.clone()))
            .filter(|p| p.exists())
            .collect()
    }

    /// Every line, oldest first.
    pub fn lines(&self) -> Result<Vec<String>, UsageError> {
        let mut out = Vec::new();
        for path in self.files() {
            let io = |source| UsageError::AuditIo {
                path: path.clone(),
                source,
            };
            let file = File::open(&path).map_err(io)?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(io)?;
                if !line.trim().is_empty() {
                    out.push(line);
                }
            }
        }
        Ok(out)
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Result<Vec<String>, UsageError> {
        let mut lines = self.lines()?;
        let skip = lines.len().saturating_sub(n);
        Ok(lines.split_off(skip))
    }

    /// Lines matching `q`, oldest first. Lines that are not audit entries
    /// (damaged by hand) match only a pure text search.
    pub fn search(&self, q: &AuditQuery) -> Result<Vec<String>, UsageError> {
        let text_only = AuditQuery {
            text: q.text.clone(),
            ..AuditQuery::default()
        };
        Ok(self
            .lines()?
            .into_iter()
            .filter(|line| match serde_json::from_str::<AuditEntry>(line) {
                Ok(e) => q.matches(line, &e),
                Err(_) => {
                    *q == text_only && q.text.as_ref().is_some_and(|t| line.contains(t.as_str()))
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u32) -> AuditEntry {
        AuditEntry {
            ts: format!("2026-07-0{}T10:00:00.000Z", 1 + i % 9),
            session_id: "s1".into(),
            model_id: Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0".into()),
            request_id: Some(format!("req-{i}")),
            input_tokens: Some(10),
            ..AuditEntry::default()
        }
    }

    #[test]
    fn appends_rotates_and_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path(), 600);
        for i in 0..40 {
            audit.append(&entry(i)).unwrap();
        }
        let files = audit.files();
        assert_eq!(files.len(), 6, "live file and five rotated: {files:?}");
        for f in &files {
            assert!(fs::metadata(f).unwrap().len() <= 600, "{f:?}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600);
            }
        }
        let lines = audit.lines().unwrap();
        let ids: Vec<u32> = lines
            .iter()
            .map(|l| serde_json::from_str::<AuditEntry>(l).unwrap())
            .map(|e| e.request_id.unwrap()[4..].parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
        assert_eq!(*ids.last().unwrap(), 39);
        assert_eq!(audit.tail(2).unwrap(), lines[lines.len() - 2..]);
    }

    #[test]
    fn lines_leave_out_absent_fields() {
        let line = serde_json::to_string(&AuditEntry {
            ts: "t".into(),
            event: AuditEvent::ToolExecution,
            session_id: "s".into(),
            tool: Some("Bash".into()),
            decision: Some("deny".into()),
            ..AuditEntry::default()
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"ts":"t","event":"tool_execution","session_id":"s","tool":"Bash","decision":"deny"}"#
        );
    }

    #[test]
    fn search_filters_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path(), 1 << 20);
        for i in 0..5 {
            audit.append(&entry(i)).unwrap();
        }
        audit
            .append(&AuditEntry {
                ts: "2026-07-09T00:00:00.000Z".into(),
                event: AuditEvent::ToolExecution,
                session_id: "s2".into(),
                tool: Some("Read".into()),
                decision: Some("allow".into()),
                ..AuditEntry::default()
            })
            .unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(audit.path())
            .unwrap()
            .write_all(b"not json req-3\n")
            .unwrap();
        let q = |q: AuditQuery| audit.search(&q).unwrap().len();
        assert_eq!(q(AuditQuery::default()), 6);
        assert_eq!(
            q(AuditQuery {
                request_id: Some("req-3".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            q(AuditQuery {
                text: Some("req-3".into()),
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            q(AuditQuery {
                tool: Some("Read".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            q(AuditQuery {
                event: AuditEvent::parse("tool-execution"),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            q(AuditQuery {
                model: Some("sonnet-4-5".into()),
                ..Default::default()
            }),
            5
        );
        assert_eq!(
            q(AuditQuery {
                session: Some("s2".into()),
                ..Default::default()
            }),
            1
        );
        let since = crate::time::Date::parse("2026-07-03").unwrap().start_ms();
        assert_eq!(
            q(AuditQuery {
                since_ms: Some(since),
                ..Default::default()
            }),
            4
        );
    }
}
