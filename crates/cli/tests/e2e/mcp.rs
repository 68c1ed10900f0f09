//! MCP servers end to end, behind the loopback Bedrock server: real servers
//! from npm (`@modelcontextprotocol/server-memory`, `server-everything`;
//! skipped with a notice when node or the npm registry is unavailable) and
//! the rmcp test server of `claude-test-support` for the failure cases.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer, ChildServer};
use serde_json::{Value, json};

use crate::common::{
    World, invocation_bodies as invocations, last_user_blocks, tool_names, tool_use,
};

const PACKAGES: [&str; 2] = [
    "@modelcontextprotocol/server-memory",
    "@modelcontextprotocol/server-everything",
];
/// The versions the tests were written against, so a new release cannot
/// change them under a clean checkout.
const VERSION: &str = "2026.8.31";

/// The npm servers, installed once per target directory (guarded by a file
/// lock across test processes); `None`, with a notice, without node or npm.
fn npm_servers() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-npm");
        std::fs::create_dir_all(&dir).ok()?;
        let lock = File::create(dir.join(".lock")).ok()?;
        lock.lock().ok()?;
        let ready = || {
            PACKAGES.iter().all(|p| {
                dir.join("node_modules")
                    .join(p)
                    .join("package.json")
                    .exists()
            })
        };
        if !ready() {
            let installed = std::process::Command::new("npm")
                // Offline, fail within a minute rather than npm's default minutes of retries.
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    "--fetch-retries=1",
                    "--fetch-timeout=30000",
                    "--prefix",
                ])
                .arg(&dir)
                .args(PACKAGES.map(|p| format!("{p}@{VERSION}")))
                .status()
                .is_ok_and(|s| s.success());
            if !installed || !ready() {
                eprintln!("notice: skipping MCP npm tests: `npm install` of {PACKAGES:?} failed");
                return None;
            }
        }
        Some(dir)
    })
    .clone()
}

fn server_js(dir: &Path, package: &str) -> String {
    dir.join("node_modules")
        .join(package)
        .join("dist/index.js")
        .display()
        .to_string()
}

/// server-everything over stdio.
fn everything_stdio(dir: &Path) -> Value {
    json!({"command": "node", "args": [server_js(dir, PACKAGES[1]), "stdio"]})
}

/// A world whose `~/.claude.json` defines these user-scope servers.
fn world(s: &BedrockServer, servers: Value) -> World {
    let w = World::bedrock(&s.url());
    w.write_abs(
        &w.claude_json(),
        &json!({"mcpServers": servers}).to_string(),
    );
    w
}

fn declared(s: &BedrockServer, n: usize) -> Vec<String> {
    tool_names(&invocations(s)[n])
}

/// Processes still running with this world's HOME: servers that outlived
/// their session.
fn leftovers(w: &World) -> Vec<String> {
    let needle = format!("HOME={}", w.home().display());
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(environ) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|v| v == needle.as_bytes()) {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
        }
    }
    found
}

#[test]
fn memory_server_remembers_across_turns_and_stops_with_the_session() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = world(
        &s,
        json!({"memory": {"command": "node", "args": [server_js(&dir, PACKAGES[0])]}}),
    );
    let store = w.root.path().join("memory.jsonl");
    w.set("MEMORY_FILE_PATH", store.display().to_string());
    s.push(tool_use(&[(
        "m1",
        "mcp__memory__create_entities",
        json!({"entities": [{"name": "Zanzibar", "entityType": "project", "observations": ["uses kafka"]}]}),
    )]));
    s.push(Reply::text("Stored."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "remember",
        "--allowedTools",
        "mcp__memory",
    ]);
    r.ok();
    assert!(declared(&s, 0).contains(&"mcp__memory__search_nodes".to_string()));
    assert!(
        last_user_blocks(&s, 1)[0].get("is_error").is_none(),
        "{:?}",
        last_user_blocks(&s, 1)
    );
    assert_eq!(leftovers(&w), Vec::<String>::new());

    s.push(tool_use(&[(
        "m2",
        "mcp__memory__search_nodes",
        json!({"query": "Zanzibar"}),
    )]));
    s.push(Reply::text("Found it."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "recall",
        "--continue",
        "--allowedTools",
        "mcp__memory",
    ]);
    r.ok();
    let found = last_user_blocks(&s, 3)[0]["content"].to_string();
    assert!(
        found.contains("Zanzibar") && found.contains("uses kafka"),
        "{found}"
    );
    assert_eq!(leftovers(&w), Vec::<String>::new());
    // The audit log names the server's tool, its decision and duration, not the content.
    let audit = std::fs::read_to_string(w.config_dir().join("audit.jsonl")).unwrap();
    let line = audit
        .lines()
        .find(|l| l.contains("mcp__memory__search_nodes"))
        .expect("an audit line for the MCP call");
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["decision"], "allow", "{line}");
    assert_eq!(v["mcp_server"], "memory", "{line}");
    assert_eq!(v["mcp_tool"], "search_nodes", "{line}");
    assert!(v["latency_ms"].is_u64(), "{line}");
    assert!(!audit.contains("uses kafka"), "{audit}");
}

#[test]
fn everything_server_text_structured_image_and_deny_rule() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"everything": everything_stdio(&dir)}));
    s.push(tool_use(&[
        (
            "e1",
            "mcp__everything__get-structured-content",
            json!({"location": "Chicago"}),
        ),
        ("e2", "mcp__everything__get-tiny-image", json!({})),
        (
            "e3",
            "mcp__everything__echo",
            json!({"message": "hello mcp"}),
        ),
    ]));
    s.push(Reply::text("Done."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "go",
        "--allowedTools",
        "mcp__everything__*",
        "--disallowedTools",
        "mcp__everything__get-sum",
    ]);
    r.ok();
    let tools = declared(&s, 0);
    assert!(
        tools.contains(&"mcp__everything__echo".to_string()),
        "{tools:?}"
    );
    assert!(
        !tools.contains(&"mcp__everything__get-sum".to_string()),
        "{tools:?}"
    );
    let out = last_user_blocks(&s, 1);
    assert!(
        out[0]["content"].to_string().contains("Light rain"),
        "{out:?}"
    );
    let image = out[1]["content"].as_array().expect("blocks");
    assert!(
        image
            .iter()
            .any(|b| b["type"] == "image" && b["source"]["media_type"] == "image/png"),
        "{image:?}"
    );
    assert!(
        out[2]["content"].to_string().contains("hello mcp"),
        "{out:?}"
    );
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

/// The rmcp test server (`crates/test-support/src/bin/mcp-test-server.rs`):
/// `cargo test --workspace` builds it beside `claude`; a narrower run builds
/// it here, into a directory of its own (the outer cargo holds the target
/// directory's lock).
fn test_server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let claude = Path::new(env!("CARGO_BIN_EXE_claude"));
        let beside = claude.with_file_name("mcp-test-server");
        if beside.exists() {
            return beside;
        }
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-test-server");
        eprintln!("notice: building mcp-test-server into {}", target.display());
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "claude-test-support",
                "--bin",
                "mcp-test-server",
                "--target-dir",
            ])
            .arg(&target)
            .status()
            .is_ok_and(|s| s.success());
        assert!(built, "cargo build of mcp-test-server failed");
        target.join("debug/mcp-test-server")
    })
    .clone()
}

/// A stdio server definition for the test server with these arguments.
fn test_server(args: &[&str]) -> Value {
    json!({"command": test_server_bin().display().to_string(), "args": args})
}

/// The test server over HTTP (`--http` streamable, `--sse` legacy), stopped when dropped.
/// The MCP test server over HTTP (`--http`, `--sse`): it prints its URL when it listens.
fn http_server(args: &[&str]) -> ChildServer {
    let mut cmd = std::process::Command::new(test_server_bin());
    cmd.args(args).stderr(std::process::Stdio::null());
    ChildServer::url_on_stdout(cmd)
}

#[test]
fn a_server_that_never_answers_does_not_stop_the_session() {
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = world(&s, json!({"slow": test_server(&["--hang"])}));
    w.set("MCP_TIMEOUT", "1500");
    s.push(Reply::text("Hello."));
    let r = w.run(&["--model", "haiku", "-p", "hi"]);
    r.ok();
    assert_eq!(r.stdout().trim(), "Hello.");
    assert!(
        r.stderr().contains("`slow` is not available") && r.stderr().contains("MCP_TIMEOUT"),
        "{}",
        r.stderr()
    );
    assert!(!declared(&s, 0).iter().any(|t| t.starts_with("mcp__")));
    assert_eq!(leftovers(&w), Vec::<String>::new());

    // stream-json's init message lists each server and its status, as Claude Code's does.
    w.write_abs(
        &w.claude_json(),
        &json!({"mcpServers": {"slow": test_server(&["--hang"]), "t": test_server(&[])}})
            .to_string(),
    );
    s.push(Reply::text("Hello again."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "hi",
        "--output-format",
        "stream-json",
        "--verbose",
    ]);
    r.ok();
    let init: Value = serde_json::from_str(r.stdout().lines().next().unwrap()).unwrap();
    assert_eq!(init["subtype"], "init");
    let mut servers = init["mcp_servers"].as_array().unwrap().clone();
    servers.sort_by_key(|v| v["name"].as_str().unwrap().to_string());
    assert_eq!(
        servers,
        [
            json!({"name": "slow", "status": "failed"}),
            json!({"name": "t", "status": "connected"})
        ]
    );
    assert!(
        init["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("mcp__t__echo"))
    );
}

#[test]
fn a_crashed_server_is_restarted_once_and_big_output_is_cut() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"t": test_server(&[])}));
    s.push(tool_use(&[("c1", "mcp__t__pid", json!({}))]));
    s.push(tool_use(&[("c2", "mcp__t__boom", json!({}))]));
    s.push(tool_use(&[("c3", "mcp__t__pid", json!({}))]));
    s.push(tool_use(&[("c4", "mcp__t__big", json!({}))]));
    s.push(Reply::text("Done."));
    let r = w.run(&["--model", "haiku", "-p", "go", "--allowedTools", "mcp__t"]);
    r.ok();
    let first = last_user_blocks(&s, 1)[0]["content"].to_string();
    let crash = &last_user_blocks(&s, 2)[0];
    assert_eq!(crash["is_error"], true, "{crash}");
    assert!(
        crash["content"].to_string().contains("restarted"),
        "{crash}"
    );
    let second = last_user_blocks(&s, 3)[0]["content"].to_string();
    assert!(second.trim_matches('"').parse::<u32>().is_ok(), "{second}");
    assert_ne!(first, second, "a new process answers after the restart");
    let big = last_user_blocks(&s, 4)[0]["content"].to_string();
    assert!(big.len() < 120_000, "{}", big.len());
    assert!(
        big.contains("MAX_MCP_OUTPUT_TOKENS"),
        "{}",
        &big[big.len() - 300..]
    );
    // The server's stderr went to its log, not to the terminal.
    let log = std::fs::read_to_string(w.config_dir().join("mcp-logs/t.log")).unwrap();
    assert!(log.contains("starting") && log.contains("boom"), "{log}");
    assert!(!r.stderr().contains("starting"), "{}", r.stderr());
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn the_repl_asks_about_a_project_server_and_mcp_lists_the_servers() {
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = World::bedrock(&s.url());
    let good = test_server(&[]);
    let slow = test_server(&["--hang"]);
    w.write(
        ".mcp.json",
        &json!({"mcpServers": {"proj": good}}).to_string(),
    );
    w.write_abs(
        &w.claude_json(),
        &json!({"mcpServers": {"slow": slow}}).to_string(),
    );
    w.set("MCP_TIMEOUT", "1500");
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("MCP server `proj`").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/mcp").unwrap();
    p.exp_regex(r"proj\s+stdio\s+6 tools\s+connected").unwrap();
    p.exp_regex(r"slow\s+stdio\s+0 tools\s+failed: no answer within 1500 ms")
        .unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/context").unwrap();
    p.exp_string("of which MCP").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let local = std::fs::read_to_string(w.cwd.join(".claude/settings.local.json")).unwrap();
    assert!(
        local.contains("enabledMcpjsonServers") && local.contains("proj"),
        "{local}"
    );
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn a_server_prompt_is_a_slash_command() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"everything": everything_stdio(&dir)}));
    s.push(Reply::text("Sunny."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/mcp").unwrap();
    p.exp_string("/mcp__everything__args-prompt").unwrap();
    p.exp_string("> ").unwrap();
    // Tab completes the prompt's command as it does a skill's.
    p.send("/mcp__everything__args-pr\t").unwrap();
    p.send_line("Chicago IL").unwrap();
    p.exp_string("Sunny.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let sent = invocations(&s)[0]["messages"][0]["content"].to_string();
    assert!(sent.contains("What's weather in Chicago, IL?"), "{sent}");
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn a_server_that_changes_its_tools_is_listed_again_before_the_next_request() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"t": test_server(&[])}));
    s.push(tool_use(&[(
        "g1",
        "mcp__t__grow",
        json!({"name": "fresh"}),
    )]));
    s.push(tool_use(&[("g2", "mcp__t__fresh", json!({"text": "hi"}))]));
    s.push(Reply::text("Done."));
    let r = w.run(&["--model", "haiku", "-p", "go", "--allowedTools", "mcp__t"]);
    r.ok();
    // Six tools, two to a page: the client followed nextCursor.
    let first = declared(&s, 0);
    for t in ["echo", "pid", "big", "boom", "sleep", "grow"] {
        assert!(first.contains(&format!("mcp__t__{t}")), "{first:?}");
    }
    assert!(!first.contains(&"mcp__t__fresh".to_string()), "{first:?}");
    assert!(declared(&s, 1).contains(&"mcp__t__fresh".to_string()));
    let out = last_user_blocks(&s, 2)[0]["content"].to_string();
    assert!(out.contains("fresh: hi"), "{out}");
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn remote_servers_over_streamable_http_and_legacy_sse() {
    // A server that accepts the connection and never answers is given up
    // on within MCP_TIMEOUT, and the session goes on without it.
    for (flag, kind) in [("--http", "http"), ("--sse", "sse")] {
        let server = http_server(&[flag]);
        let s = BedrockServer::start(BedrockOptions::default());
        let w = world(&s, json!({"web": {"type": kind, "url": server.url}}));
        let list = w.run(&["mcp", "list"]);
        list.ok();
        assert!(
            list.stdout().contains(kind) && list.stdout().contains("✓ connected: mcp-test-server"),
            "{kind}: {}",
            list.stdout()
        );
        s.push(tool_use(&[
            (
                "h1",
                "mcp__web__echo",
                json!({"text": format!("over {kind}")}),
            ),
            ("h2", "mcp__web__grow", json!({"name": "later"})),
        ]));
        s.push(tool_use(&[("h3", "mcp__web__later", json!({"text": "x"}))]));
        s.push(Reply::text("Done."));
        let r = w.run(&["--model", "haiku", "-p", "go", "--allowedTools", "mcp__web"]);
        r.ok();
        let out = last_user_blocks(&s, 1);
        assert!(
            out[0]["content"]
                .to_string()
                .contains(&format!("over {kind}")),
            "{kind}: {out:?}"
        );
        // The tool the server added was announced over this transport.
        assert!(
            declared(&s, 1).contains(&"mcp__web__later".to_string()),
            "{kind}"
        );
        assert!(
            last_user_blocks(&s, 2)[0]["content"]
                .to_string()
                .contains("later: x"),
            "{kind}"
        );

        let silent = http_server(&[flag, "--hang"]);
        let mut w = world(&s, json!({"silent": {"type": kind, "url": silent.url}}));
        w.set("MCP_TIMEOUT", "1000");
        s.push(Reply::text("Hello."));
        let r = w.run(&["--model", "haiku", "-p", "hi"]);
        r.ok();
        assert!(
            r.stderr().contains("`silent` is not available") && r.stderr().contains("MCP_TIMEOUT"),
            "{kind}: {}",
            r.stderr()
        );
    }
}

#[test]
fn ctrl_c_cancels_a_long_mcp_call_and_the_server_is_told() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"t": test_server(&[])}));
    s.push(tool_use(&[("z", "mcp__t__sleep", json!({"ms": 60_000}))]));
    s.push(Reply::text("Stopped, as asked."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku", "--allowedTools", "mcp__t"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("wait a minute").unwrap();
    p.exp_string("mcp__t__sleep").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("what happened?").unwrap();
    p.exp_string("Stopped, as asked.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(last_user_blocks(&s, 1)[0]["is_error"], true);
    // The server received notifications/cancelled for the call.
    let log = std::fs::read_to_string(w.config_dir().join("mcp-logs/t.log")).unwrap();
    assert!(log.contains("sleep cancelled"), "{log}");
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn everything_server_long_running_operation_is_cancelled_with_ctrl_c() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"everything": everything_stdio(&dir)}));
    s.push(tool_use(&[(
        "l",
        "mcp__everything__trigger-long-running-operation",
        json!({"duration": 60, "steps": 60}),
    )]));
    s.push(Reply::text("Cancelled it."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku", "--allowedTools", "mcp__everything"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("> ").unwrap();
    let started = std::time::Instant::now();
    p.send_line("run the long operation").unwrap();
    p.exp_string("trigger-long-running-operation").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_string("> ").unwrap();
    assert!(
        started.elapsed().as_secs() < 30,
        "the call was not cut short"
    );
    p.send_line("and now?").unwrap();
    p.exp_string("Cancelled it.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(last_user_blocks(&s, 1)[0]["is_error"], true);
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

#[test]
fn the_vault_calls_memory_search_as_its_ambient_memory_rule_asks() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = World::bedrock(&s.url());
    if !crate::common::copy_vault(&w.cwd) {
        return;
    }
    // The project's own server file, approved in its local settings, as a
    // vault user would configure `memory`.
    w.write(
        ".mcp.json",
        &json!({"mcpServers": {"memory": {"command": "node", "args": [server_js(&dir, PACKAGES[0])]}}})
            .to_string(),
    );
    w.write(
        ".claude/settings.local.json",
        &json!({"enabledMcpjsonServers": ["memory"]}).to_string(),
    );
    let store = w.root.path().join("memory.jsonl");
    std::fs::write(
        &store,
        json!({"type": "entity", "name": "Convention-DailyNoteDateOnly", "entityType": "Convention", "observations": ["Daily notes are named by date only"]}).to_string() + "\n",
    )
    .unwrap();
    w.set("MEMORY_FILE_PATH", store.display().to_string());
    s.push(tool_use(&[(
        "m",
        "mcp__memory__search_nodes",
        json!({"query": "DailyNote"}),
    )]));
    s.push(Reply::text("Daily notes are named by date."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "how are daily notes named?",
        "--allowedTools",
        "mcp__memory__search_nodes",
    ]);
    r.ok();
    let first = &invocations(&s)[0];
    // The rule is in the system prompt and the tool it names is declared.
    assert!(
        first["system"]
            .to_string()
            .contains("mcp__memory__search_nodes"),
        "the ambient-memory rule is not in the system prompt"
    );
    assert!(declared(&s, 0).contains(&"mcp__memory__search_nodes".to_string()));
    let found = last_user_blocks(&s, 1)[0].to_string();
    assert!(found.contains("Convention-DailyNoteDateOnly"), "{found}");
    assert_eq!(leftovers(&w), Vec::<String>::new());
}

/// A free loopback port for a server that takes its port from `PORT`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `server-everything` over one of its HTTP transports, stopped when dropped.
fn everything_over(dir: &Path, transport: &str, path: &str) -> (ChildServer, Value) {
    use std::io::BufRead;
    let port = free_port();
    let mut child = std::process::Command::new("node")
        .args([server_js(dir, PACKAGES[1]).as_str(), transport])
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It says on stderr when it listens.
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains(&port.to_string()))),
        "server-everything {transport} did not start"
    );
    std::thread::spawn(move || lines.for_each(drop));
    let url = format!("http://127.0.0.1:{port}{path}");
    let kind = if transport == "sse" { "sse" } else { "http" };
    let config = json!({"type": kind, "url": url});
    (ChildServer::new(child, url), config)
}

#[test]
fn everything_server_over_streamable_http_and_legacy_sse() {
    let Some(dir) = npm_servers() else { return };
    for (transport, path) in [("streamableHttp", "/mcp"), ("sse", "/sse")] {
        let (_server, config) = everything_over(&dir, transport, path);
        let s = BedrockServer::start(BedrockOptions::default());
        let w = world(&s, json!({"everything": config}));
        s.push(tool_use(&[(
            "e",
            "mcp__everything__echo",
            json!({"message": format!("hello over {transport}")}),
        )]));
        s.push(Reply::text("Done."));
        let r = w.run(&[
            "--model",
            "haiku",
            "-p",
            "go",
            "--allowedTools",
            "mcp__everything",
        ]);
        r.ok();
        let out = last_user_blocks(&s, 1)[0]["content"].to_string();
        assert!(
            out.contains(&format!("hello over {transport}")),
            "{transport}: {out}"
        );
    }
}

#[test]
fn a_call_beyond_mcp_tool_timeout_is_cut_off_and_cancelled() {
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = world(&s, json!({"t": test_server(&[])}));
    w.set("MCP_TOOL_TIMEOUT", "500");
    s.push(tool_use(&[("z", "mcp__t__sleep", json!({"ms": 30_000}))]));
    s.push(tool_use(&[(
        "e",
        "mcp__t__echo",
        json!({"text": "still here"}),
    )]));
    s.push(Reply::text("Done."));
    let started = std::time::Instant::now();
    let r = w.run(&["--model", "haiku", "-p", "go", "--allowedTools", "mcp__t"]);
    r.ok();
    assert!(started.elapsed().as_secs() < 20);
    let timed_out = &last_user_blocks(&s, 1)[0];
    assert_eq!(timed_out["is_error"], true, "{timed_out}");
    assert!(
        timed_out["content"]
            .to_string()
            .contains("MCP_TOOL_TIMEOUT"),
        "{timed_out}"
    );
    // The server was told, and still serves the next call.
    assert!(
        last_user_blocks(&s, 2)[0]["content"]
            .to_string()
            .contains("still here")
    );
    let log = std::fs::read_to_string(w.config_dir().join("mcp-logs/t.log")).unwrap();
    assert!(log.contains("sleep cancelled"), "{log}");
}

#[test]
fn resources_are_listed_and_read_through_the_resource_tools() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s, json!({"t": test_server(&[])}));
    s.push(tool_use(&[
        ("r1", "ListMcpResourcesTool", json!({})),
        (
            "r2",
            "ReadMcpResourceTool",
            json!({"server": "t", "uri": "test://notes/hello"}),
        ),
        (
            "r3",
            "ReadMcpResourceTool",
            json!({"server": "t", "uri": "test://notes/missing"}),
        ),
    ]));
    s.push(Reply::text("Read."));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "read",
        "--allowedTools",
        "ListMcpResourcesTool,ReadMcpResourceTool",
    ]);
    r.ok();
    let tools = declared(&s, 0);
    assert!(
        tools.contains(&"ListMcpResourcesTool".to_string()),
        "{tools:?}"
    );
    let out = last_user_blocks(&s, 1);
    let listed = out[0]["content"].to_string();
    assert!(
        listed.contains("test://notes/hello")
            && listed.contains("text/markdown")
            && listed.contains("\\\"server\\\":\\\"t\\\""),
        "{listed}"
    );
    assert!(
        out[1]["content"]
            .to_string()
            .contains("A resource from mcp-test-server"),
        "{:?}",
        out[1]
    );
    assert_eq!(out[2]["is_error"], true, "{:?}", out[2]);
    assert!(
        out[2]["content"].to_string().contains("missing"),
        "{:?}",
        out[2]
    );
}
