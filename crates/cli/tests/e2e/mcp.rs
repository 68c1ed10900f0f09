//! MCP servers end to end: real servers from npm
//! (`@modelcontextprotocol/server-memory`, `server-everything`) and small
//! node servers for the failure cases, behind the loopback Bedrock server.
//! Skipped with a notice when node or the npm registry is unavailable.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer};
use serde_json::{Value, json};

use crate::common::{World, invocation_bodies as invocations, tool_use};

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

fn node() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("notice: skipping MCP test: node is not installed");
    }
    ok
}

fn server_js(dir: &Path, package: &str) -> String {
    dir.join("node_modules")
        .join(package)
        .join("dist/index.js")
        .display()
        .to_string()
}

/// A world whose `~/.claude.json` defines these user-scope servers.
fn world(s: &BedrockServer, servers: Value) -> World {
    let w = World::bedrock(&s.url());
    w.write_abs(
        &w.home().join(".claude.json"),
        &json!({"mcpServers": servers}).to_string(),
    );
    w
}

/// The tool_result blocks of request `n`.
fn results(s: &BedrockServer, n: usize) -> Vec<Value> {
    let reqs = invocations(s);
    let last = reqs[n]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    last["content"].as_array().unwrap().clone()
}

fn declared(s: &BedrockServer, n: usize) -> Vec<String> {
    invocations(s)[n]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
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
        results(&s, 1)[0].get("is_error").is_none(),
        "{:?}",
        results(&s, 1)
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
    let found = results(&s, 3)[0]["content"].to_string();
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
    assert!(v["latency_ms"].is_u64(), "{line}");
    assert!(!audit.contains("uses kafka"), "{audit}");
}

#[test]
fn everything_server_text_structured_image_and_deny_rule() {
    let Some(dir) = npm_servers() else { return };
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(
        &s,
        json!({"everything": {"command": "node", "args": [server_js(&dir, PACKAGES[1]), "stdio"]}}),
    );
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
    let out = results(&s, 1);
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

/// A raw JSON-RPC server: `hang` never answers; otherwise its tools are
/// `boom` (exits), `big` (1 MB of text) and `pid`.
const TEST_SERVER: &str = r#"
const mode = process.argv[2];
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined || mode === "hang") return;
  const ok = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  if (m.method === "initialize") {
    console.error("starting");
    ok({ protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "t", version: "1" } });
  } else if (m.method === "tools/list") {
    const schema = { type: "object", properties: {} };
    ok({ tools: ["boom", "big", "pid"].map((name) => ({ name, description: name, inputSchema: schema })) });
  } else if (m.method === "tools/call") {
    const n = m.params.name;
    if (n === "boom") { console.error("boom"); process.exit(1); }
    const text = n === "big" ? "x".repeat(1 << 20) : String(process.pid);
    ok({ content: [{ type: "text", text }] });
  } else send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "unknown" } });
});
"#;

fn test_server(w: &World, mode: &str) -> Value {
    let path = w.root.path().join("server.js");
    w.write_abs(&path, TEST_SERVER);
    json!({"command": "node", "args": [path.display().to_string(), mode]})
}

#[test]
fn a_server_that_never_answers_does_not_stop_the_session() {
    if !node() {
        return;
    }
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = World::bedrock(&s.url());
    let servers = json!({"slow": test_server(&w, "hang")});
    w.write_abs(
        &w.home().join(".claude.json"),
        &json!({"mcpServers": servers}).to_string(),
    );
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
}

#[test]
fn a_crashed_server_is_restarted_once_and_big_output_is_cut() {
    if !node() {
        return;
    }
    let s = BedrockServer::start(BedrockOptions::default());
    let w = World::bedrock(&s.url());
    let servers = json!({"t": test_server(&w, "serve")});
    w.write_abs(
        &w.home().join(".claude.json"),
        &json!({"mcpServers": servers}).to_string(),
    );
    s.push(tool_use(&[("c1", "mcp__t__pid", json!({}))]));
    s.push(tool_use(&[("c2", "mcp__t__boom", json!({}))]));
    s.push(tool_use(&[("c3", "mcp__t__pid", json!({}))]));
    s.push(tool_use(&[("c4", "mcp__t__big", json!({}))]));
    s.push(Reply::text("Done."));
    let r = w.run(&["--model", "haiku", "-p", "go", "--allowedTools", "mcp__t"]);
    r.ok();
    let first = results(&s, 1)[0]["content"].to_string();
    let crash = &results(&s, 2)[0];
    assert_eq!(crash["is_error"], true, "{crash}");
    assert!(
        crash["content"].to_string().contains("restarted"),
        "{crash}"
    );
    let second = results(&s, 3)[0]["content"].to_string();
    assert!(second.trim_matches('"').parse::<u32>().is_ok(), "{second}");
    assert_ne!(first, second, "a new process answers after the restart");
    let big = results(&s, 4)[0]["content"].to_string();
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
    if !node() {
        return;
    }
    let s = BedrockServer::start(BedrockOptions::default());
    let mut w = World::bedrock(&s.url());
    let good = test_server(&w, "serve");
    let mut slow = good.clone();
    slow["args"][1] = json!("hang");
    w.write(
        ".mcp.json",
        &json!({"mcpServers": {"proj": good}}).to_string(),
    );
    w.write_abs(
        &w.home().join(".claude.json"),
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
    p.exp_regex(r"proj\s+stdio\s+3 tools\s+connected").unwrap();
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
    let w = world(
        &s,
        json!({"everything": {"command": "node", "args": [server_js(&dir, PACKAGES[1]), "stdio"]}}),
    );
    s.push(Reply::text("Sunny."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/mcp").unwrap();
    p.exp_string("/mcp__everything__args-prompt").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/mcp__everything__args-prompt Chicago IL")
        .unwrap();
    p.exp_string("Sunny.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let sent = invocations(&s)[0]["messages"][0]["content"].to_string();
    assert!(sent.contains("What's weather in Chicago, IL?"), "{sent}");
    assert_eq!(leftovers(&w), Vec::<String>::new());
}
