//! `Bash`: runs a command with `bash -c` in the session's working directory,
//! in its own process group, so that a timeout or a cancelled call kills
//! everything it started. `cd` persists across calls.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use futures_util::future::BoxFuture;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::common::{self, Res};
use super::{Tool, ToolCtx, ToolOutput};

pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// Characters kept of each of stdout and stderr.
pub const MAX_OUTPUT_CHARS: usize = 30_000;
/// How long output is still read after the shell exits, for background
/// processes that keep the pipes open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

pub struct BashTool;

const DESCRIPTION: &str = "Executes a given bash command and returns its output.

The working directory persists between commands: a `cd` in one call applies to the next. Shell variables and functions do not persist.

Before executing the command:
- If the command will create new folders or files, first check with `ls` that the parent folder exists and is the right one.
- Always quote file paths that contain spaces with double quotes (e.g. cd \"path with spaces/file.txt\").

Usage notes:
- `command` is required. `timeout` is optional, in milliseconds: default 120000 (2 minutes), at most 600000 (10 minutes). On timeout the command and every process it started are killed.
- Write a clear, concise `description` of what the command does in 5-10 words, e.g. \"List files in current directory\".
- stdout and stderr are returned, each capped at 30000 characters (the start and the end are kept, with a note). Redirect long output to a file and search it with Grep or read parts of it with Read.
- A non-zero exit code is reported as an error, together with the output.
- There is no terminal and no input: never run interactive commands (editors, pagers, `git rebase -i`, prompts); pass flags that make commands non-interactive.
- Avoid `find`, `grep`, `cat`, `head`, `tail`, `sed`, `awk` or `echo` for reading and searching files: use Glob, Grep and Read, which are faster and cheaper. Use Edit and Write to change files.
- To run several commands: independent ones as separate Bash calls in one response; dependent ones in one call joined with `&&`. Prefer absolute paths to `cd`.
- Background processes (`cmd &`) keep running after the call only if their output is redirected (e.g. `nohup cmd > log 2>&1 &`).
- Git: never change git config, never force-push or run destructive commands (reset --hard, clean -f, branch -D) unless the user asks; never commit unless the user asks; never skip hooks (--no-verify).";

impl Tool for BashTool {
    fn name(&self) -> &'static str {
        "Bash"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command to execute"},
                "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
                "description": {"type": "string", "description": "Clear, concise description of what this command does in 5-10 words, in active voice. Examples: \"List files in current directory\", \"Show working tree status\", \"Install package dependencies\""}
            },
            "required": ["command"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        false
    }

    fn key_arg(&self, input: &Value) -> String {
        common::str_field(input, "command")
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(run(input, ctx).await) })
    }
}

/// Kills the process group when dropped, unless disarmed: this is what makes
/// a dropped call (Ctrl-C) leave nothing running.
struct GroupKill(Option<Pid>);

impl GroupKill {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(ToolOutput::error(
            "Bash needs the Tokio runtime to run commands; this caller has none.",
        ));
    }
    let command = common::req_str(&input, "Bash", "command")?;
    if command.trim().is_empty() {
        return Err(ToolOutput::error("Bash: `command` is empty."));
    }
    let mut notes = Vec::new();
    let timeout_ms = match common::opt_u64(&input, "Bash", "timeout")? {
        None => DEFAULT_TIMEOUT_MS,
        Some(0) => {
            return Err(ToolOutput::error(
                "Bash: `timeout` must be a positive number of milliseconds (at most 600000).",
            ));
        }
        Some(t) if t > MAX_TIMEOUT_MS => {
            notes.push(format!(
                "(The timeout of {t} ms was lowered to the maximum, {MAX_TIMEOUT_MS} ms.)"
            ));
            MAX_TIMEOUT_MS
        }
        Some(t) => t,
    };

    let mut cwd = ctx.cwd();
    if !cwd.is_dir() {
        notes.push(format!(
            "(The working directory {} no longer exists; the command ran in {} instead.)",
            cwd.display(),
            ctx.project_root.display()
        ));
        cwd = ctx.project_root.clone();
        set_cwd(ctx, &cwd);
    }

    // The shell writes its final directory here on exit, whatever the exit path.
    let cwd_file = tempfile::Builder::new()
        .prefix("claude-bash-cwd-")
        .tempfile()
        .map_err(|e| ToolOutput::error(format!("Bash: could not create a temporary file: {e}.")))?;
    let script = format!(
        "trap 'pwd -P >| {} 2>/dev/null' EXIT; {command}",
        shell_quote(&cwd_file.path().to_string_lossy())
    );

    let mut child = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("CLAUDECODE", "1")
        .env("GIT_EDITOR", "true")
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ToolOutput::error(format!("Bash: could not start bash: {e}.")))?;
    let mut guard = GroupKill(child.id().map(|id| Pid::from_raw(id as i32)));

    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out = Capture::default();
    let mut err = Capture::default();

    let (status, timed_out) = {
        let reading = async {
            tokio::join!(
                read_into(stdout.as_mut(), &mut out),
                read_into(stderr.as_mut(), &mut err)
            )
        };
        tokio::pin!(reading);
        let deadline = tokio::time::sleep(Duration::from_millis(timeout_ms));
        tokio::pin!(deadline);
        let mut status: Option<ExitStatus> = None;
        let mut pipes_closed = false;
        let mut timed_out = false;
        loop {
            tokio::select! {
                st = child.wait(), if status.is_none() => {
                    match st {
                        Ok(st) => status = Some(st),
                        Err(e) => return Err(ToolOutput::error(format!("Bash: lost track of the command: {e}."))),
                    }
                    if pipes_closed {
                        break;
                    }
                    // Background processes may hold the pipes open: read a little longer, then stop.
                    deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_GRACE);
                }
                _ = &mut reading, if !pipes_closed => {
                    pipes_closed = true;
                    if status.is_some() {
                        break;
                    }
                }
                _ = &mut deadline => {
                    if status.is_none() {
                        timed_out = true;
                    }
                    break;
                }
            }
        }
        if timed_out {
            guard.kill();
            status = child.wait().await.ok();
            if !pipes_closed {
                let _ = tokio::time::timeout(DRAIN_GRACE, &mut reading).await;
            }
        }
        (status, timed_out)
    };
    // Finished normally: background processes it started are left to run.
    guard.disarm();

    if !timed_out && let Ok(dir) = std::fs::read_to_string(cwd_file.path()) {
        let dir = dir.trim_end_matches('\n');
        if !dir.is_empty() && Path::new(dir).is_dir() {
            set_cwd(ctx, Path::new(dir));
        }
    }

    let mut text = out.render("stdout");
    let err_text = err.render("stderr");
    if !err_text.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&err_text);
    }
    let mut text = text.trim_end_matches('\n').to_string();
    let (summary, is_error) = if timed_out {
        let msg = format!(
            "Command timed out after {} and was killed, with every process it started.",
            human_ms(timeout_ms)
        );
        push_line(&mut text, &msg);
        (format!("timed out after {}", human_ms(timeout_ms)), true)
    } else {
        match status {
            Some(st) => match (st.code(), st.signal()) {
                (Some(0), _) => ("exit code 0".to_string(), false),
                (Some(code), _) => {
                    push_line(&mut text, &format!("Exit code {code}"));
                    (format!("exit code {code}"), true)
                }
                (None, Some(sig)) => {
                    push_line(
                        &mut text,
                        &format!("The command was killed by signal {sig}."),
                    );
                    (format!("killed by signal {sig}"), true)
                }
                (None, None) => ("exited".to_string(), true),
            },
            None => ("exited".to_string(), true),
        }
    };
    for note in notes {
        push_line(&mut text, &note);
    }
    if text.is_empty() {
        text = "(no output)".to_string();
    }
    Ok(ToolOutput {
        content: Value::String(text),
        is_error,
        summary,
    })
}

fn set_cwd(ctx: &ToolCtx, dir: &Path) {
    if let Ok(mut c) = ctx.cwd.lock() {
        *c = dir.to_path_buf();
    }
}

fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn human_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        let s = ms / 1000;
        if s >= 60 && s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    } else {
        format!("{ms}ms")
    }
}

async fn read_into<R: AsyncRead + Unpin>(pipe: Option<&mut R>, cap: &mut Capture) {
    let Some(pipe) = pipe else {
        return;
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => cap.push(&buf[..n]),
        }
    }
}

/// Keeps the start and the end of a stream, never more than a bounded amount
/// of memory, however much the command prints.
#[derive(Default)]
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

const HEAD_CHARS: usize = MAX_OUTPUT_CHARS / 2;
const TAIL_CHARS: usize = MAX_OUTPUT_CHARS - HEAD_CHARS;
const HEAD_BYTES: usize = MAX_OUTPUT_CHARS * 4;
const TAIL_BYTES: usize = TAIL_CHARS * 4;

impl Capture {
    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let n = (HEAD_BYTES - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if bytes.is_empty() {
            return;
        }
        if bytes.len() >= TAIL_BYTES {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - TAIL_BYTES..]);
        } else {
            let overflow = (self.tail.len() + bytes.len()).saturating_sub(TAIL_BYTES);
            self.tail.drain(..overflow);
            self.tail.extend(bytes);
        }
    }

    fn render(&self, stream: &str) -> String {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let mut all = self.head.clone();
        all.extend(self.tail.iter());
        if kept == self.total {
            let s = String::from_utf8_lossy(&all);
            let n = s.chars().count();
            if n <= MAX_OUTPUT_CHARS {
                return s.into_owned();
            }
            return format!(
                "{}\n\n[... {} characters of {stream} omitted ({n} in all); redirect the output to a file and use Grep or Read on it to see everything ...]\n\n{}",
                common::take_chars(&s, HEAD_CHARS),
                n - HEAD_CHARS - TAIL_CHARS,
                common::last_chars(&s, TAIL_CHARS)
            );
        }
        let head = String::from_utf8_lossy(&self.head);
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let tail = String::from_utf8_lossy(&tail);
        format!(
            "{}\n\n[... {stream} was {} bytes in all; only the first {HEAD_CHARS} and last {TAIL_CHARS} characters are shown. Redirect the output to a file and use Grep or Read on it to see everything ...]\n\n{}",
            common::take_chars(&head, HEAD_CHARS),
            self.total,
            common::last_chars(&tail, TAIL_CHARS)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Instant;

    fn ctx(dir: &Path) -> ToolCtx {
        ToolCtx::new(dir.to_path_buf(), dir.to_path_buf(), "test".into())
    }

    fn text(o: &ToolOutput) -> &str {
        o.content.as_str().unwrap_or_default()
    }

    /// A process is gone when /proc has no entry for it or it is a zombie
    /// waiting for its (re)parent to reap it.
    fn gone(pid: i32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|state| state == "Z" || state == "X"),
        }
    }

    async fn wait_gone(pids: &[i32]) {
        let start = Instant::now();
        while !pids.iter().all(|&p| gone(p)) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "still running: {pids:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pids_in(path: &Path) -> Vec<i32> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    #[tokio::test]
    async fn captures_stdout_stderr_and_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = BashTool
            .call(json!({"command": "echo hello; echo oops >&2"}), &c)
            .await;
        assert!(!out.is_error, "{out:?}");
        assert_eq!(text(&out), "hello\noops");
        assert_eq!(out.summary, "exit code 0");
        let out = BashTool
            .call(
                json!({"command": "echo partial; exit 3", "description": "fail"}),
                &c,
            )
            .await;
        assert!(out.is_error);
        assert_eq!(out.summary, "exit code 3");
        assert_eq!(text(&out), "partial\nExit code 3");
        let out = BashTool.call(json!({"command": "true"}), &c).await;
        assert_eq!(text(&out), "(no output)");
        let out = BashTool.call(json!({"command": "  "}), &c).await;
        assert!(out.is_error);
        let out = BashTool
            .call(json!({"command": "true", "timeout": 0}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("timeout"));
    }

    #[tokio::test]
    async fn cd_persists_across_calls() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub dir")).unwrap();
        let c = ctx(dir.path());
        let out = BashTool
            .call(json!({"command": "cd 'sub dir' && echo moved"}), &c)
            .await;
        assert!(!out.is_error, "{out:?}");
        let sub = fs::canonicalize(dir.path().join("sub dir")).unwrap();
        assert_eq!(c.cwd(), sub);
        let out = BashTool.call(json!({"command": "pwd"}), &c).await;
        assert_eq!(text(&out), sub.display().to_string());
        // Even a failing command that changed directory first keeps the change.
        let out = BashTool
            .call(json!({"command": "cd .. && false"}), &c)
            .await;
        assert!(out.is_error);
        assert_eq!(c.cwd(), fs::canonicalize(dir.path()).unwrap());
        // A subshell's cd does not leak.
        BashTool
            .call(json!({"command": "(cd 'sub dir')"}), &c)
            .await;
        assert_eq!(c.cwd(), fs::canonicalize(dir.path()).unwrap());
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pids");
        let c = ctx(dir.path());
        let cmd = format!(
            "sleep 30 & echo $! > {p}; echo $$ >> {p}; echo started; sleep 31",
            p = pid_file.display()
        );
        let start = Instant::now();
        let out = BashTool
            .call(json!({"command": cmd, "timeout": 500}), &c)
            .await;
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(out.is_error);
        assert!(text(&out).starts_with("started\n"), "{out:?}");
        assert!(text(&out).contains("timed out after 500ms"));
        assert_eq!(out.summary, "timed out after 500ms");
        let pids = pids_in(&pid_file);
        assert_eq!(pids.len(), 2);
        wait_gone(&pids).await;
    }

    #[tokio::test]
    async fn dropping_the_call_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pids");
        let c = ctx(dir.path());
        let cmd = format!(
            "sleep 30 & echo $! >> {p}; sleep 30 & echo $! >> {p}; echo $$ >> {p}; wait",
            p = pid_file.display()
        );
        let mut call = BashTool.call(json!({"command": cmd}), &c);
        let start = Instant::now();
        while pids_in(&pid_file).len() < 3 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "command did not start"
            );
            tokio::select! {
                out = &mut call => panic!("finished early: {out:?}"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        let pids = pids_in(&pid_file);
        assert!(pids.iter().all(|&p| !gone(p)));
        drop(call);
        wait_gone(&pids).await;
    }

    #[tokio::test]
    async fn background_processes_do_not_hold_the_call() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let start = Instant::now();
        let out = BashTool
            .call(json!({"command": "sleep 3 & echo done"}), &c)
            .await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(text(&out), "done");
    }

    #[tokio::test]
    async fn long_output_is_capped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = BashTool
            .call(json!({"command": "seq 1 200000; seq 1 20 >&2"}), &c)
            .await;
        let t = text(&out);
        assert!(t.starts_with("1\n2\n3\n"));
        assert!(
            t.contains("stdout was 1288895 bytes in all"),
            "{}",
            &t[14_000..16_500]
        );
        assert!(t.contains("199999\n200000\n1\n2\n"));
        assert!(t.chars().count() < 2 * MAX_OUTPUT_CHARS);
        // Short of the byte limits, the cut is counted in characters.
        let out = BashTool
            .call(
                json!({"command": "head -c 40000 /dev/zero | tr '\\0' x"}),
                &c,
            )
            .await;
        assert!(text(&out).contains("[... 10000 characters of stdout omitted (40000 in all)"));
    }

    #[test]
    fn capture_keeps_head_and_tail() {
        let mut c = Capture::default();
        for _ in 0..100 {
            c.push(&[b'a'; 10_000]);
        }
        c.push(b"END");
        assert_eq!(c.head.len(), HEAD_BYTES);
        assert_eq!(c.tail.len(), TAIL_BYTES);
        assert!(c.render("stdout").ends_with("aaEND"));
        assert_eq!(human_ms(120_000), "2m");
        assert_eq!(human_ms(1500), "1500ms");
    }
}
