//! The status line: `statusLine: {type: "command", command, padding}` from
//! the settings. The command reads the session as JSON on stdin; the first
//! line it prints is shown under the conversation, before the prompt.

use std::path::PathBuf;

use claude_config::Config;
use serde_json::Value;

use super::run::{self, Command, Status};

/// How long the command may take before the line is left out.
const TIMEOUT_SECS: u64 = 5;

#[derive(Debug, Clone)]
pub struct StatusLine {
    command: Command,
    padding: usize,
    /// The settings file it came from, for messages.
    pub source: PathBuf,
    project_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl StatusLine {
    /// The highest-precedence settings file's `statusLine`, when it is a
    /// `command` one; `disableAllHooks` turns it off, as in Claude Code.
    /// The error says why a configured status line is not used.
    pub fn from_config(cfg: &Config) -> Result<Option<StatusLine>, String> {
        let files = cfg.settings_files();
        if files
            .iter()
            .any(|f| f.json.get("disableAllHooks") == Some(&Value::Bool(true)))
        {
            return Ok(None);
        }
        let Some(file) = files.iter().find(|f| f.json.contains_key("statusLine")) else {
            return Ok(None);
        };
        let spec = &file.json["statusLine"];
        let at = file.path.display();
        let kind = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("command");
        if kind != "command" {
            return Err(format!(
                "{at}: statusLine of type `{kind}` is not supported (only `command`); no status line is shown"
            ));
        }
        let Some(command) = spec.get("command").and_then(Value::as_str) else {
            return Err(format!(
                "{at}: statusLine needs a `command` string; no status line is shown"
            ));
        };
        Ok(Some(StatusLine {
            command: Command {
                command: command.to_string(),
                args: None,
                bash: false,
            },
            padding: spec
                .get("padding")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .min(40) as usize,
            source: file.path.clone(),
            project_dir: cfg.project_root().to_path_buf(),
            env: cfg
                .env()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }))
    }

    /// Runs the command with `session` on stdin: its first line, padded, or
    /// why there is none.
    pub async fn render(&self, session: &Value) -> Result<String, String> {
        let out = run::run(
            &self.command,
            session.to_string().as_bytes(),
            &self.project_dir,
            &self.env,
            TIMEOUT_SECS,
        )
        .await;
        match out.status {
            Status::Exited(0) => Ok(format!(
                "{}{}",
                " ".repeat(self.padding),
                out.stdout.lines().next().unwrap_or("").trim_end()
            )),
            Status::Exited(code) => Err(format!(
                "the status line command failed (exit {code}): {}",
                out.stderr.trim()
            )),
            Status::TimedOut(s) => Err(format!(
                "the status line command took longer than {s}s and was stopped"
            )),
            Status::Killed => Err("the status line command was killed".into()),
            Status::NotStarted(e) => Err(format!("the status line command could not start: {e}")),
        }
    }
}
