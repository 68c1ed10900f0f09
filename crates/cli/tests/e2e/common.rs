use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A hermetic world for one test: its own HOME, config dir and project dir,
/// and an environment that starts empty.
pub struct World {
    pub root: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl World {
    pub fn new() -> World {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let project = root.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(project.join(".git")).unwrap();
        let env = vec![
            ("HOME".into(), home.display().to_string()),
            (
                "CLAUDE_CONFIG_DIR".into(),
                root.path().join("config").display().to_string(),
            ),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            // Never wait on instance metadata from a test machine.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        World {
            root,
            env,
            cwd: project,
        }
    }

    /// A world whose AWS calls all go to the loopback Bedrock at `url`:
    /// static example keys, us-east-1, Bedrock as the provider, no colour,
    /// and fast retries.
    pub fn bedrock(url: &str) -> World {
        let mut w = World::new();
        w.set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .set(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            )
            .set("AWS_REGION", "us-east-1")
            .set("AWS_ENDPOINT_URL", url)
            .set("CLAUDE_PROVIDER", "bedrock")
            .set("NO_COLOR", "1");
        w.fast_retries();
        w
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.root.path().join("config")
    }

    /// Where this world's user and local MCP servers live: Claude Code's
    /// `~/.claude.json`, in the config dir because `CLAUDE_CONFIG_DIR` is set.
    pub fn claude_json(&self) -> PathBuf {
        self.config_dir().join(".claude.json")
    }

    pub fn set(&mut self, k: &str, v: impl AsRef<str>) -> &mut Self {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.into(), v.as_ref().into()));
        self
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = if rel.starts_with('/') {
            PathBuf::from(rel)
        } else {
            self.cwd.join(rel)
        };
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn write_abs(&self, path: &Path, content: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("claude").unwrap();
        c.env_clear().current_dir(&self.cwd);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.timeout(std::time::Duration::from_secs(60));
        c
    }

    /// The same command as a plain `std::process::Command`, for tests that
    /// need its pipes or a pseudo-terminal.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("claude"));
        c.env_clear().current_dir(&self.cwd);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd().args(args).output().unwrap())
    }

    /// Fast retries, so fault-injection tests take milliseconds.
    pub fn fast_retries(&self) {
        self.write_abs(
            &self.config_dir().join("config.toml"),
            "[retry]\nbase_delay_ms = 5\nmax_delay_ms = 20\n",
        );
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code(),
            0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// `(model ID in the path, body)` of every model invocation the loopback
/// Bedrock received, in order.
pub fn invocations(
    server: &claude_test_support::BedrockServer,
) -> Vec<(String, serde_json::Value)> {
    use claude_test_support::Operation;
    server
        .requests()
        .into_iter()
        .filter(|r| matches!(r.operation, Operation::Invoke | Operation::InvokeStream))
        .map(|r| (r.model_id.unwrap_or_default(), r.json.unwrap_or_default()))
        .collect()
}

/// The bodies of every model invocation, in order.
pub fn invocation_bodies(server: &claude_test_support::BedrockServer) -> Vec<serde_json::Value> {
    invocations(server)
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

/// The content blocks of the last message of model request `n`: a user
/// message (tool results, hook feedback), its text as one block when it is a string.
pub fn last_user_blocks(
    server: &claude_test_support::BedrockServer,
    n: usize,
) -> Vec<serde_json::Value> {
    let bodies = invocation_bodies(server);
    let last = bodies[n]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "user", "{last}");
    match &last["content"] {
        serde_json::Value::Array(blocks) => blocks.clone(),
        text => vec![serde_json::json!({"type": "text", "text": text})],
    }
}

/// The names of the tools a request body declares (none when it has no `tools`).
pub fn tool_names(body: &serde_json::Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A scripted reply with these `(id, tool, input)` calls (10 tokens in, 5 out).
pub fn tool_use(calls: &[(&str, &str, serde_json::Value)]) -> claude_test_support::bedrock::Reply {
    claude_test_support::bedrock::Reply::ToolUse {
        text: None,
        tools: calls
            .iter()
            .map(|(id, n, i)| (id.to_string(), n.to_string(), i.clone()))
            .collect(),
        usage: claude_test_support::Usage::new(10, 5),
    }
}

/// Copies the fixture vault (`../shared/fixtures/architectkb`) to `to`;
/// `false`, with a notice, when `../shared` is absent.
pub fn copy_vault(to: &Path) -> bool {
    let Some(fixture) = claude_test_support::fixtures::shared_file("fixtures/architectkb") else {
        eprintln!("skipping: ../shared not present");
        return false;
    };
    copy_dir(&fixture, to);
    true
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
