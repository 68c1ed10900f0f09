//! Running one `command` handler: `sh -c` (or the exec form) in the project
//! root, in its own process group, with the event's JSON on stdin and its
//! output captured, killed with everything it started on timeout.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Characters kept of a handler's stdout and of its stderr, as Claude Code.
pub const MAX_OUTPUT_CHARS: usize = 10_000;
/// How long output is still read after the handler exits, for background
/// processes that keep its pipes open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    /// A shell command line, or the program of the exec form.
    pub command: String,
    /// The exec form: the program runs with these arguments and no shell.
    pub args: Option<Vec<String>>,
    /// `bash` instead of `sh` when the handler says `shell: "bash"`.
    pub bash: bool,
}

impl Command {
    /// How the command reads in `/hooks` and in messages.
    pub fn display(&self) -> String {
        match &self.args {
            Some(args) if !args.is_empty() => format!("{} {}", self.command, args.join(" ")),
            _ => self.command.clone(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Killed,
    TimedOut(u64),
    NotStarted(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
}

/// Kills the process group when dropped, unless disarmed: a dropped fire
/// (Ctrl-C) or a timeout leaves nothing running.
struct GroupKill(Option<Pid>);

impl Drop for GroupKill {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

pub async fn run(
    cmd: &Command,
    stdin: &[u8],
    cwd: &Path,
    env: &[(String, String)],
    timeout_secs: u64,
) -> Run {
    let mut command = match &cmd.args {
        Some(args) => {
            let mut c = tokio::process::Command::new(&cmd.command);
            c.args(args);
            c
        }
        None => {
            let mut c = tokio::process::Command::new(if cmd.bash { "bash" } else { "sh" });
            c.arg("-c").arg(&cmd.command);
            c
        }
    };
    command
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CLAUDE_PROJECT_DIR", cwd)
        .env("CLAUDECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (k, _) in env.iter().filter(|(k, _)| k.starts_with("OTEL_")) {
        command.env_remove(k);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Run {
                status: Status::NotStarted(e.to_string()),
                stdout: String::new(),
                stderr: String::new(),
            };
        }
    };
    let mut guard = GroupKill(child.id().map(|id| Pid::from_raw(id as i32)));
    let mut input = child.stdin.take();
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut status: Option<ExitStatus> = None;
    let mut timed_out = false;
    {
        let io = async {
            let write = async {
                if let Some(mut pipe) = input.take() {
                    // A handler that never reads its input is fine.
                    let _ = pipe.write_all(stdin).await;
                }
            };
            tokio::join!(
                write,
                read_capped(out_pipe.as_mut(), &mut out),
                read_capped(err_pipe.as_mut(), &mut err)
            )
        };
        tokio::pin!(io);
        let deadline = tokio::time::sleep(Duration::from_secs(timeout_secs));
        tokio::pin!(deadline);
        let mut io_done = false;
        loop {
            tokio::select! {
                st = child.wait(), if status.is_none() => {
                    status = st.ok();
                    if io_done || status.is_none() {
                        break;
                    }
                    deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_GRACE);
                }
                _ = &mut io, if !io_done => {
                    io_done = true;
                    if status.is_some() {
                        break;
                    }
                }
                () = &mut deadline => {
                    timed_out = status.is_none();
                    break;
                }
            }
        }
    }
    if timed_out {
        drop(guard);
        let _ = child.wait().await;
    } else {
        // Finished: whatever it left running in the background may go on.
        guard.0 = None;
    }
    let status = match status {
        _ if timed_out => Status::TimedOut(timeout_secs),
        Some(st) => st.code().map_or(Status::Killed, Status::Exited),
        None => Status::Killed,
    };
    Run {
        status,
        stdout: cap(&out),
        stderr: cap(&err),
    }
}

async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<&mut R>, into: &mut Vec<u8>) {
    let Some(pipe) = pipe else {
        return;
    };
    let mut buf = [0u8; 8192];
    // Bytes beyond the cap are read and dropped so the handler never blocks.
    let limit = MAX_OUTPUT_CHARS * 4;
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let room = limit.saturating_sub(into.len());
                into.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

fn cap(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX_OUTPUT_CHARS) {
        Some((i, _)) => format!("{}\n[output truncated]", &text[..i]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(command: &str) -> Command {
        Command {
            command: command.into(),
            args: None,
            bash: false,
        }
    }

    #[tokio::test]
    async fn stdin_env_cwd_and_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![("HOOK_TEST_VAR".to_string(), "from-settings".to_string())];
        let r = run(
            &sh("cat; echo \" $HOOK_TEST_VAR $CLAUDE_PROJECT_DIR $(pwd)\"; echo oops >&2; exit 3"),
            b"{\"a\":1}",
            dir.path(),
            &env,
            10,
        )
        .await;
        assert_eq!(r.status, Status::Exited(3));
        let root = dir.path().display().to_string();
        assert!(
            r.stdout.starts_with("{\"a\":1} from-settings"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.matches(root.as_str()).count() >= 1, "{}", r.stdout);
        assert_eq!(r.stderr, "oops\n");
    }

    #[tokio::test]
    async fn exec_form_takes_no_shell() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = Command {
            command: "echo".into(),
            args: Some(vec!["$HOME".into(), "a b".into()]),
            bash: false,
        };
        let r = run(&cmd, b"", dir.path(), &[], 10).await;
        assert_eq!(r.stdout, "$HOME a b\n");
        assert_eq!(cmd.display(), "echo $HOME a b");
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let r = run(
            &sh(&format!("sleep 30 & echo $! > {}; wait", pidfile.display())),
            b"",
            dir.path(),
            &[],
            1,
        )
        .await;
        assert_eq!(r.status, Status::TimedOut(1));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        // The kill is sent; wait until the background child is gone (or a zombie).
        let alive = || {
            std::fs::read_to_string(&stat)
                .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| !r.starts_with('Z')))
        };
        for _ in 0..100 {
            if !alive() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!alive(), "the background child outlived the timeout");
    }

    #[tokio::test]
    async fn output_is_capped_and_a_missing_program_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(&sh("yes x | head -c 50000"), b"", dir.path(), &[], 10).await;
        assert!(r.stdout.ends_with("[output truncated]"));
        assert!(r.stdout.len() < MAX_OUTPUT_CHARS + 100);
        let missing = Command {
            command: "/nonexistent/hook".into(),
            args: Some(Vec::new()),
            bash: false,
        };
        let r = run(&missing, b"", dir.path(), &[], 10).await;
        assert!(matches!(r.status, Status::NotStarted(_)), "{r:?}");
    }
}
