//! Server binaries run as child processes (the `loopback-bedrock` bench binary, the
//! `mcp-test-server` over HTTP, `server-everything`), stopped when the test lets go of them,
//! a failing assertion included.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// A server in a child process, killed and reaped when dropped.
pub struct ChildServer {
    child: Child,
    /// Where it listens.
    pub url: String,
}

impl ChildServer {
    /// Start `cmd`, a server that prints the URL it listens on as the first line of its
    /// standard output.
    pub fn url_on_stdout(mut cmd: Command) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let server = ChildServer {
            child,
            url: line.trim().to_string(),
        };
        assert!(
            server.url.starts_with("http://"),
            "{cmd:?} did not start: {line:?}"
        );
        server
    }

    /// A server already started, listening at `url`.
    pub fn new(child: Child, url: String) -> Self {
        ChildServer { child, url }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
