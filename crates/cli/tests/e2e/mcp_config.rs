//! `claude mcp add|add-json|get|list|remove` end to end: the files they
//! write (`~/.claude.json`, `.mcp.json`, `.claude/settings.local.json`), the
//! approval of project servers, the managed policy (`allowedMcpServers`,
//! `deniedMcpServers`, `managed-mcp.json` via `CLAUDE_MANAGED_SETTINGS_DIR`)
//! and secrets kept off the screen. No server runs: the stdio commands do
//! not exist, so `list`'s health check fails at once.

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use crate::common::World;

const MISSING: &str = "/nonexistent/mcp-server";

fn read(path: &PathBuf) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The managed directory, with `CLAUDE_MANAGED_SETTINGS_DIR` pointing at it.
fn managed(w: &mut World, settings: Json) -> PathBuf {
    let dir = w.root.path().join("etc-claude-code");
    w.write_abs(&dir.join("managed-settings.json"), &settings.to_string());
    w.set("CLAUDE_MANAGED_SETTINGS_DIR", dir.display().to_string());
    dir
}

#[test]
fn add_get_list_remove_in_each_scope() {
    let w = World::new();
    let root = w.cwd.display().to_string();
    w.write_abs(
        &w.claude_json(),
        r#"{"numStartups": 7, "projects": {"/elsewhere": {"x": 1}}}"#,
    );

    let out = w.run(&[
        "mcp",
        "add",
        "-e",
        "GITHUB_TOKEN=ghp_secret123",
        "gh",
        "--",
        MISSING,
        "-y",
        "--stdio",
    ]);
    out.ok();
    assert!(out.stdout().contains("to local config"), "{}", out.stdout());
    w.run(&[
        "mcp",
        "add",
        "--scope",
        "user",
        "--transport",
        "http",
        "-H",
        "Authorization: Bearer tok-very-secret",
        "-H",
        "X-Team: payments",
        "web",
        "http://127.0.0.1:9/mcp",
    ])
    .ok();
    let out = w.run(&[
        "mcp",
        "add-json",
        "shared",
        &json!({"command": MISSING}).to_string(),
        "-s",
        "project",
    ]);
    out.ok();
    assert!(
        out.stdout().contains("Approved it for you"),
        "{}",
        out.stdout()
    );

    let file = read(&w.claude_json());
    assert_eq!(file["numStartups"], 7);
    assert_eq!(file["projects"]["/elsewhere"], json!({"x": 1}));
    assert_eq!(
        file["projects"][&root]["mcpServers"]["gh"],
        json!({"type": "stdio", "command": MISSING, "args": ["-y", "--stdio"], "env": {"GITHUB_TOKEN": "ghp_secret123"}})
    );
    assert_eq!(file["mcpServers"]["web"]["headers"]["X-Team"], "payments");
    assert_eq!(
        read(&w.cwd.join(".mcp.json")),
        json!({"mcpServers": {"shared": {"type": "stdio", "command": MISSING}}})
    );
    assert_eq!(
        read(&w.cwd.join(".claude/settings.local.json")),
        json!({"enabledMcpjsonServers": ["shared"]})
    );

    let get = w.run(&["mcp", "get", "web"]);
    get.ok();
    let text = get.stdout();
    assert!(text.contains("Authorization: Bearer ****"), "{text}");
    assert!(
        text.contains("X-Team: payments") && text.contains("Scope: user config"),
        "{text}"
    );
    let get = w.run(&["mcp", "get", "gh"]);
    assert!(
        get.stdout().contains("GITHUB_TOKEN=****"),
        "{}",
        get.stdout()
    );

    let list = w.run(&["mcp", "list"]);
    list.ok();
    let text = list.stdout();
    for (name, scope, transport) in [
        ("gh", "local", "stdio"),
        ("shared", "project", "stdio"),
        ("web", "user", "http"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains(scope) && line.contains(transport) && line.contains("allowed"),
            "{line}"
        );
        assert!(line.contains('✗'), "the health check failed: {line}");
    }
    for secret in ["ghp_secret123", "tok-very-secret"] {
        assert!(
            !text.contains(secret) && !list.stderr().contains(secret),
            "{text}"
        );
    }

    w.run(&["mcp", "add", "gh", MISSING]).fails_with(2);
    let out = w.run(&["mcp", "remove", "gh"]);
    out.ok();
    assert!(
        out.stdout().contains("from local config"),
        "{}",
        out.stdout()
    );
    w.run(&["mcp", "remove", "gh"]).fails_with(1);
    w.run(&["mcp", "get", "gh"]).fails_with(1);
    w.run(&["mcp", "remove", "shared", "--scope", "project"])
        .ok();
    assert_eq!(read(&w.cwd.join(".mcp.json")), json!({"mcpServers": {}}));
    let file = read(&w.claude_json());
    assert_eq!(
        (
            file["numStartups"].clone(),
            file["projects"]["/elsewhere"].clone()
        ),
        (json!(7), json!({"x": 1}))
    );
}

#[test]
fn usage_errors_are_exit_2_and_echo_no_secret() {
    let w = World::new();
    let out = w.run(&["mcp", "add", "web", "https://mcp.example.com"]);
    out.fails_with(2);
    assert!(
        out.stderr().contains("--transport http"),
        "{}",
        out.stderr()
    );
    let out = w.run(&[
        "mcp",
        "add",
        "-t",
        "http",
        "-H",
        "Bearer-only-secret",
        "web",
        "https://x.example.com",
    ]);
    out.fails_with(2);
    assert!(
        !out.stderr().contains("Bearer-only-secret"),
        "{}",
        out.stderr()
    );
    w.run(&["mcp", "add", "-e", "NOEQUALS", "x", MISSING])
        .fails_with(2);
    w.run(&["mcp", "add", "bad name", MISSING]).fails_with(2);
    let out = w.run(&[
        "mcp",
        "add-json",
        "x",
        r#"{"type": "websocket", "url": "wss://x"}"#,
    ]);
    out.fails_with(2);
    assert!(out.stderr().contains("websocket"), "{}", out.stderr());
    w.run(&["mcp", "add-json", "x", "{not json"]).fails_with(2);
    assert!(!w.claude_json().exists());
}

#[test]
fn project_servers_wait_for_approval_and_unset_variables_stop_a_server() {
    let w = World::new();
    w.write(
        ".mcp.json",
        &json!({"mcpServers": {
            "team": {"command": MISSING},
            "keyed": {"type": "http", "url": "${MCP_BASE}/mcp"}
        }})
        .to_string(),
    );
    let list = w.run(&["mcp", "list"]);
    list.ok();
    let line = |name: &str| {
        list.stdout()
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{}", list.stdout()))
            .to_owned()
    };
    assert!(
        line("team").contains("needs approval") && line("team").contains("not started"),
        "{}",
        line("team")
    );
    assert!(
        line("keyed").contains("invalid: ${MCP_BASE} not set"),
        "{}",
        line("keyed")
    );
    assert!(
        list.stderr().contains("`keyed`") && list.stderr().contains("will not start"),
        "{}",
        list.stderr()
    );
    let get = w.run(&["mcp", "get", "team"]);
    assert!(
        get.stdout().contains("enabledMcpjsonServers"),
        "{}",
        get.stdout()
    );

    w.write(
        ".claude/settings.local.json",
        r#"{"disabledMcpjsonServers": ["team"]}"#,
    );
    assert!(
        w.run(&["mcp", "get", "team"])
            .stdout()
            .contains("Status: disabled")
    );
    w.write(
        ".claude/settings.local.json",
        r#"{"enabledMcpjsonServers": ["team"]}"#,
    );
    assert!(
        w.run(&["mcp", "get", "team"])
            .stdout()
            .contains("Status: allowed")
    );
}

#[test]
fn the_policy_refuses_servers_and_names_itself() {
    let mut w = World::new();
    let dir = managed(
        &mut w,
        json!({
            "allowedMcpServers": [{"serverName": "ok"}, {"serverUrl": "https://*.corp.example/*"}],
            "deniedMcpServers": [{"serverCommand": [MISSING, "--evil"]}]
        }),
    );
    let policy = dir.join("managed-settings.json").display().to_string();

    let out = w.run(&["mcp", "add", "ok", "--", MISSING, "--evil"]);
    out.fails_with(2);
    assert!(
        out.stderr().contains(&policy) && out.stderr().contains("deniedMcpServers"),
        "{}",
        out.stderr()
    );
    let out = w.run(&["mcp", "add", "other", MISSING]);
    out.fails_with(2);
    assert!(
        out.stderr()
            .contains("allowedMcpServers does not list its name"),
        "{}",
        out.stderr()
    );
    let out = w.run(&[
        "mcp",
        "add",
        "-t",
        "http",
        "web",
        "https://evil.example.com/",
    ]);
    out.fails_with(2);
    assert!(
        out.stderr().contains("does not list its URL"),
        "{}",
        out.stderr()
    );
    w.run(&["mcp", "add", "ok", MISSING]).ok();
    w.run(&[
        "mcp",
        "add",
        "-s",
        "user",
        "-t",
        "http",
        "web",
        "https://mcp.corp.example/v1",
    ])
    .ok();

    // Definitions written by hand meet the same policy.
    w.write_abs(
        &w.claude_json(),
        &json!({"mcpServers": {"sneaky": {"command": MISSING, "args": ["--evil"]}}}).to_string(),
    );
    let list = w.run(&["mcp", "list"]);
    list.ok();
    let sneaky = list
        .stdout()
        .lines()
        .find(|l| l.starts_with("sneaky"))
        .unwrap()
        .to_owned();
    assert!(
        sneaky.contains("refused by policy") && sneaky.contains("not started"),
        "{sneaky}"
    );
    let get = w.run(&["mcp", "get", "sneaky"]);
    assert!(
        get.stdout().contains(&policy) && get.stdout().contains("serverCommand"),
        "{}",
        get.stdout()
    );
}

#[test]
fn managed_mcp_json_is_the_only_server_set() {
    let mut w = World::new();
    let dir = managed(&mut w, json!({}));
    let managed_mcp = dir.join("managed-mcp.json");
    w.write_abs(
        &managed_mcp,
        &json!({"mcpServers": {"corp": {"command": MISSING}}}).to_string(),
    );
    w.write_abs(
        &w.claude_json(),
        &json!({"mcpServers": {"mine": {"command": MISSING}}}).to_string(),
    );

    let list = w.run(&["mcp", "list"]);
    list.ok();
    let text = list.stdout();
    let corp = text.lines().find(|l| l.starts_with("corp")).unwrap();
    assert!(
        corp.contains("managed") && corp.contains("allowed"),
        "{text}"
    );
    let mine = text.lines().find(|l| l.starts_with("mine")).unwrap();
    assert!(
        mine.contains("refused by policy") && mine.contains("managed-mcp.json"),
        "{text}"
    );

    let out = w.run(&["mcp", "add", "more", MISSING]);
    out.fails_with(2);
    assert!(
        out.stderr().contains(&managed_mcp.display().to_string()),
        "{}",
        out.stderr()
    );
    let out = w.run(&["mcp", "remove", "corp"]);
    out.fails_with(1);
}

#[test]
fn remove_asks_for_a_scope_when_the_name_is_in_several() {
    let w = World::new();
    w.run(&["mcp", "add", "twice", MISSING]).ok();
    w.run(&["mcp", "add", "-s", "user", "twice", MISSING]).ok();
    let out = w.run(&["mcp", "remove", "twice"]);
    out.fails_with(2);
    assert!(
        out.stderr().contains("local, user") && out.stderr().contains("--scope"),
        "{}",
        out.stderr()
    );
    w.run(&["mcp", "remove", "twice", "-s", "user"]).ok();
    w.run(&["mcp", "remove", "twice"]).ok();
    let out = w.run(&["mcp", "list"]);
    assert!(
        out.stdout().contains("No MCP servers configured"),
        "{}",
        out.stdout()
    );
}
