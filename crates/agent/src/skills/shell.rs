//! Dynamic context: `` !`cmd` `` and ```` ```! ```` blocks in a skill run
//! before its content is sent, and their output takes their place. They run
//! only when the permission rules (with the skill's `allowed-tools`) allow
//! the command outright: nothing here ever asks, and anything not allowed,
//! or failing, aborts the whole invocation with the reason.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::permissions::{Decision, Permissions};

/// How long one command may take.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Output kept from one command.
const MAX_OUTPUT: usize = 30_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error(
        "the command `{command}` is not allowed to run without asking ({reason}); allow it in the skill's `allowed-tools` (e.g. `Bash({command})`) or with a permissions.allow rule"
    )]
    NotAllowed { command: String, reason: String },
    #[error("the command `{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("the command `{command}` could not be started: {error}")]
    Spawn { command: String, error: String },
    #[error("the command `{command}` did not finish within {} s", TIMEOUT.as_secs())]
    Timeout { command: String },
}

enum Part<'a> {
    Text(&'a str),
    Command(&'a str),
}

/// The content with each command replaced by its output. Commands run one
/// by one, in order, in `cwd`.
pub async fn run_dynamic_context(
    content: &str,
    permissions: Option<&Permissions>,
    cwd: &Path,
    env: &HashMap<String, String>,
) -> Result<String, ShellError> {
    let parts = split(content);
    if !parts.iter().any(|p| matches!(p, Part::Command(_))) {
        return Ok(content.to_string());
    }
    let mut out = String::with_capacity(content.len());
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Command(command) => {
                let command = command.trim();
                let Some(permissions) = permissions else {
                    return Err(ShellError::NotAllowed {
                        command: command.into(),
                        reason: "this session has no tool permissions".into(),
                    });
                };
                match permissions.decide("Bash", &json!({ "command": command }), false, cwd) {
                    Decision::Allow { .. } => {}
                    Decision::Deny { reason, .. } => {
                        return Err(ShellError::NotAllowed {
                            command: command.into(),
                            reason,
                        });
                    }
                    Decision::Ask { .. } => {
                        return Err(ShellError::NotAllowed {
                            command: command.into(),
                            reason: "the permission rules would ask".into(),
                        });
                    }
                }
                out.push_str(run(command, cwd, env).await?.trim_end());
            }
        }
    }
    Ok(out)
}

/// Splits the content into text, inline `` !`cmd` `` and fenced ```` ```! ```` blocks.
fn split(content: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut literal = 0;
    let mut i = 0;
    let bytes = content.as_bytes();
    let at_line_start = |i: usize| i == 0 || bytes[i - 1] == b'\n';
    while i < bytes.len() {
        if at_line_start(i) && content[i..].starts_with("```!") {
            let body_start = content[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            let close = content[body_start..]
                .match_indices("```")
                .map(|(n, _)| body_start + n)
                .find(|&n| at_line_start(n));
            if let Some(close) = close {
                parts.push(Part::Text(&content[literal..i]));
                parts.push(Part::Command(&content[body_start..close]));
                let after = content[close..]
                    .find('\n')
                    .map_or(bytes.len(), |n| close + n);
                i = after;
                literal = i;
                continue;
            }
        }
        if bytes[i] == b'!'
            && bytes.get(i + 1) == Some(&b'`')
            // Only at a word's start: `!!` and `x!` in prose are not commands.
            && (i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'(')
            && let Some(end) = content[i + 2..].find('`')
            && !content[i + 2..i + 2 + end].contains('\n')
            && end > 0
        {
            parts.push(Part::Text(&content[literal..i]));
            parts.push(Part::Command(&content[i + 2..i + 2 + end]));
            i += 3 + end;
            literal = i;
            continue;
        }
        i += 1;
    }
    parts.push(Part::Text(&content[literal..]));
    parts
}

async fn run(
    command: &str,
    cwd: &Path,
    env: &HashMap<String, String>,
) -> Result<String, ShellError> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| ShellError::Spawn {
        command: command.into(),
        error: e.to_string(),
    })?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let work = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (_, _, status) = tokio::join!(
            stdout.read_to_end(&mut out),
            stderr.read_to_end(&mut err),
            child.wait()
        );
        (out, err, status)
    };
    let Ok((out, err, status)) = tokio::time::timeout(TIMEOUT, work).await else {
        return Err(ShellError::Timeout {
            command: command.into(),
        });
    };
    let status = status.map_err(|e| ShellError::Spawn {
        command: command.into(),
        error: e.to_string(),
    })?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&err).trim().to_string();
        return Err(ShellError::Failed {
            command: command.into(),
            status: status
                .code()
                .map_or_else(|| "killed by a signal".into(), |c| format!("exit code {c}")),
            stderr: if stderr.is_empty() {
                "no error output".into()
            } else {
                stderr
            },
        });
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if text.len() > MAX_OUTPUT {
        let mut cut = MAX_OUTPUT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[output truncated]");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(content: &str) -> Vec<String> {
        split(content)
            .into_iter()
            .filter_map(|p| match p {
                Part::Command(c) => Some(c.to_string()),
                Part::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn finds_inline_and_block_commands() {
        assert_eq!(
            commands(
                "Branch: !`git branch --show-current`. Not `code` or a!`x`.\n```!\ndate +%F\necho hi\n```\nend"
            ),
            ["git branch --show-current", "date +%F\necho hi\n"]
        );
        assert!(commands("```bash\n!`not at`\n```").len() == 1);
        assert!(commands("no commands, just `code` and ! marks").is_empty());
        assert!(commands("Never use `!!` (double-bang) in `node -e` strings").is_empty());
    }
}
