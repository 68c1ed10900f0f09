use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use claude_config::{Config, LoadOptions};
use serde_json::{Value as Json, json};

use super::*;

/// A home, a git project and a managed-settings directory of their own.
struct Fx {
    tmp: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Fx {
    fn new() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("home")).unwrap();
        fs::create_dir_all(tmp.path().join("proj/.git")).unwrap();
        let env = BTreeMap::from([(
            "HOME".to_owned(),
            tmp.path().join("home").display().to_string(),
        )]);
        Fx { tmp, env }
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("proj")
    }

    fn write(&self, rel: &str, json: Json) -> PathBuf {
        let path = self.tmp.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
        path
    }

    fn read(&self, rel: &str) -> Json {
        serde_json::from_str(&fs::read_to_string(self.tmp.path().join(rel)).unwrap()).unwrap()
    }

    fn cfg(&self) -> Config {
        Config::load(&LoadOptions {
            env: self.env.clone(),
            home: Some(self.tmp.path().join("home")),
            cwd: self.root(),
            flags: Vec::new(),
            managed_settings: Some(self.tmp.path().join("etc/managed-settings.json")),
        })
        .unwrap()
    }

    fn load(&self) -> (Vec<ServerEntry>, Vec<String>) {
        load_servers(&self.cfg())
    }

    fn entry(&self, name: &str) -> ServerEntry {
        let (entries, warnings) = self.load();
        entries
            .into_iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no {name}; warnings: {warnings:?}"))
    }

    fn policy(&self, json: Json) -> PathBuf {
        self.write("etc/managed-settings.json", json)
    }
}

fn stdio(command: &str, args: &[&str]) -> ServerConfig {
    ServerConfig::Stdio {
        command: command.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::new(),
    }
}

#[test]
fn parses_the_three_transports_and_skips_bad_entries_with_a_warning() {
    let fx = Fx::new();
    let mcp = fx.write(
        "proj/.mcp.json",
        json!({"mcpServers": {
            "plain": {"command": "npx", "args": ["-y", "pkg"], "env": {"A": "1"}},
            "typed": {"type": "stdio", "command": "srv"},
            "web": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"X": "y"}},
            "old": {"type": "sse", "url": "https://mcp.example.com/sse"},
            "odd": {"type": "websocket", "url": "wss://x"},
            "broken": {"args": ["no command"]}
        }}),
    );
    let (entries, warnings) = fx.load();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["old", "plain", "typed", "web"]);
    assert_eq!(entries[1].config.transport(), "stdio");
    assert_eq!(entries[3].config.transport(), "http");
    assert_eq!(entries[0].config.transport(), "sse");
    assert!(
        entries
            .iter()
            .all(|e| e.scope == Scope::Project && e.source == mcp)
    );
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`odd`") && w.contains("websocket"))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`broken`") && w.contains("command"))
    );
}

#[test]
fn malformed_files_are_warnings_naming_the_file() {
    let fx = Fx::new();
    fs::write(fx.root().join(".mcp.json"), "{\n  \"mcpServers\": {,\n}").unwrap();
    let (entries, warnings) = fx.load();
    assert!(entries.is_empty());
    assert!(warnings[0].contains(".mcp.json:2:"), "{warnings:?}");
}

#[test]
fn expands_variables_with_defaults_and_refuses_unset_ones() {
    let mut fx = Fx::new();
    fx.env.insert("TOKEN".into(), "s3cr3t".into());
    fx.env.insert("EMPTY".into(), String::new());
    fx.write(
        "home/.claude.json",
        json!({"mcpServers": {
            "web": {"type": "http", "url": "${BASE:-https://mcp.example.com}/mcp",
                     "headers": {"Authorization": "Bearer ${TOKEN}"}},
            "cmd": {"command": "${HOME}/bin/srv", "args": ["--x=${EMPTY:-d}", "$HOME", "${bad-name}"],
                    "env": {"K": "${TOKEN}"}},
            "gap": {"command": "srv", "args": ["${NOPE}", "${NOPE}", "${ALSO_NOPE}"]}
        }}),
    );
    let home = fx.env["HOME"].clone();
    assert_eq!(
        fx.entry("web").config,
        ServerConfig::Http {
            url: "https://mcp.example.com/mcp".into(),
            headers: BTreeMap::from([("Authorization".into(), "Bearer s3cr3t".into())]),
        }
    );
    assert_eq!(
        fx.entry("cmd").config,
        ServerConfig::Stdio {
            command: format!("{home}/bin/srv"),
            args: vec!["--x=d".into(), "$HOME".into(), "${bad-name}".into()],
            env: BTreeMap::from([("K".into(), "s3cr3t".into())]),
        }
    );
    let gap = fx.entry("gap");
    assert_eq!(
        gap.config,
        stdio("srv", &["${NOPE}", "${NOPE}", "${ALSO_NOPE}"])
    );
    assert!(
        matches!(&gap.admission, Admission::Invalid { reason } if reason.starts_with("${NOPE}, ${ALSO_NOPE} not set")),
        "{:?}",
        gap.admission
    );
    let (_, warnings) = fx.load();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`gap`") && w.contains("will not start")),
        "{warnings:?}"
    );
}

#[test]
fn local_beats_project_beats_user() {
    let fx = Fx::new();
    let root = fx.root().display().to_string();
    let claude_json = fx.write(
        "home/.claude.json",
        json!({
            "mcpServers": {"a": {"command": "user-a"}, "b": {"command": "user-b"}, "c": {"command": "user-c"}},
            "projects": {root: {"mcpServers": {"a": {"command": "local-a"}}}}
        }),
    );
    fx.write(
        "proj/.mcp.json",
        json!({"mcpServers": {"a": {"command": "project-a"}, "b": {"command": "project-b"}}}),
    );
    let (entries, _) = fx.load();
    let got: Vec<(&str, Scope, String)> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.scope, e.config.target()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", Scope::Local, "local-a".into()),
            ("b", Scope::Project, "project-b".into()),
            ("c", Scope::User, "user-c".into()),
        ]
    );
    assert_eq!(entries[0].source, claude_json);
    assert_eq!(entries[0].admission, Admission::Allowed);
    assert_eq!(entries[2].admission, Admission::Allowed);
}

#[test]
fn project_servers_need_approval_until_approved_or_disabled() {
    let fx = Fx::new();
    fx.write(
        "proj/.mcp.json",
        json!({"mcpServers": {"one": {"command": "a"}, "two": {"command": "b"}}}),
    );
    fx.write(
        "proj/.claude/settings.local.json",
        json!({"model": "haiku", "disabledMcpjsonServers": ["one"]}),
    );
    assert_eq!(fx.entry("one").admission, Admission::Disabled);
    assert_eq!(fx.entry("two").admission, Admission::NeedsApproval);

    let file = approve_project_server(&fx.root(), "one").unwrap();
    approve_project_server(&fx.root(), "one").unwrap();
    assert_eq!(file, fx.root().join(".claude/settings.local.json"));
    assert_eq!(
        fx.read("proj/.claude/settings.local.json"),
        json!({"model": "haiku", "enabledMcpjsonServers": ["one"]})
    );
    assert_eq!(fx.entry("one").admission, Admission::Allowed);

    disable_project_server(&fx.root(), "one").unwrap();
    assert_eq!(fx.entry("one").admission, Admission::Disabled);

    fx.write(
        "home/.claude/settings.json",
        json!({"enableAllProjectMcpServers": true}),
    );
    assert_eq!(fx.entry("two").admission, Admission::Allowed);
    assert_eq!(
        fx.entry("one").admission,
        Admission::Disabled,
        "a disable wins"
    );
}

fn admission(fx: &Fx, name: &str, config: Json) -> Admission {
    fx.write(
        "proj/.claude/settings.local.json",
        json!({"enableAllProjectMcpServers": true}),
    );
    fx.write("proj/.mcp.json", json!({"mcpServers": {name: config}}));
    fx.entry(name).admission
}

#[track_caller]
fn refused(a: Admission, needles: &[&str]) {
    let Admission::Refused { policy } = &a else {
        panic!("not refused: {a:?}");
    };
    for n in needles {
        assert!(policy.contains(n), "{policy} lacks {n}");
    }
}

#[test]
fn policy_matches_names_commands_and_url_wildcards() {
    let fx = Fx::new();
    let path = fx.policy(json!({"allowedMcpServers": [
        {"serverName": "github"},
        {"serverCommand": ["npx", "-y", "@acme/mcp"]},
        {"serverUrl": "https://*.acme.com/*"}
    ]}));
    let path = path.display().to_string();
    let ok = Admission::Allowed;
    assert_eq!(
        admission(
            &fx,
            "x",
            json!({"command": "npx", "args": ["-y", "@acme/mcp"]})
        ),
        ok
    );
    refused(
        admission(
            &fx,
            "x",
            json!({"command": "npx", "args": ["-y", "@acme/mcp", "--more"]}),
        ),
        &[&path, "allowedMcpServers does not list its command"],
    );
    // Command entries exist, so a stdio server's name alone is not enough.
    refused(
        admission(&fx, "github", json!({"command": "gh-mcp"})),
        &["its command"],
    );
    assert_eq!(
        admission(
            &fx,
            "x",
            json!({"type": "http", "url": "https://mcp.acme.com/v1"})
        ),
        ok
    );
    refused(
        admission(
            &fx,
            "github",
            json!({"type": "sse", "url": "https://acme.com/v1"}),
        ),
        &["does not list its URL"],
    );

    fx.policy(json!({"allowedMcpServers": [{"serverName": "github"}]}));
    assert_eq!(admission(&fx, "github", json!({"command": "anything"})), ok);
    assert_eq!(
        admission(&fx, "github", json!({"type": "http", "url": "https://x"})),
        ok
    );
    refused(
        admission(&fx, "other", json!({"command": "a"})),
        &["does not list its name"],
    );
}

#[test]
fn deny_wins_and_an_empty_allowlist_allows_nothing() {
    let fx = Fx::new();
    let path = fx.policy(json!({
        "allowedMcpServers": [{"serverName": "github"}, {"serverName": "web"}],
        "deniedMcpServers": [{"serverName": "github"}, {"serverUrl": "http://*"}]
    }));
    refused(
        admission(&fx, "github", json!({"command": "gh"})),
        &[
            &path.display().to_string(),
            r#"deniedMcpServers {"serverName":"github"}"#,
        ],
    );
    refused(
        admission(
            &fx,
            "web",
            json!({"type": "http", "url": "http://plain.example.com/"}),
        ),
        &[r#"{"serverUrl":"http://*"}"#],
    );
    assert_eq!(
        admission(
            &fx,
            "web",
            json!({"type": "http", "url": "https://tls.example.com/"})
        ),
        Admission::Allowed
    );

    fx.policy(json!({"deniedMcpServers": [{"serverCommand": ["rm", "-rf"]}]}));
    assert_eq!(
        admission(&fx, "any", json!({"command": "rm"})),
        Admission::Allowed
    );
    refused(
        admission(&fx, "any", json!({"command": "rm", "args": ["-rf"]})),
        &["serverCommand"],
    );

    fx.policy(json!({"allowedMcpServers": []}));
    refused(
        admission(&fx, "any", json!({"command": "a"})),
        &["allowedMcpServers is empty"],
    );

    fx.policy(json!({"allowedMcpServers": [{"serverName": 7}]}));
    refused(
        admission(&fx, "any", json!({"command": "a"})),
        &["is empty"],
    );
    let (_, warnings) = fx.load();
    assert!(
        warnings.iter().any(|w| w.contains("`allowedMcpServers`")),
        "{warnings:?}"
    );
}

#[test]
fn managed_mcp_json_is_the_whole_server_set() {
    let fx = Fx::new();
    let managed = fx.write(
        "etc/managed-mcp.json",
        json!({"mcpServers": {"corp": {"type": "http", "url": "https://mcp.corp.example/"}}}),
    );
    fx.write(
        "home/.claude.json",
        json!({"mcpServers": {"mine": {"command": "x"}}}),
    );
    let corp = fx.entry("corp");
    assert_eq!(
        (corp.scope, corp.admission),
        (Scope::Managed, Admission::Allowed)
    );
    assert_eq!(corp.source, managed);
    refused(
        fx.entry("mine").admission,
        &[
            &managed.display().to_string(),
            "the only MCP servers allowed",
        ],
    );
    let err = add_server(&fx.cfg(), Scope::User, "more", &stdio("y", &[])).unwrap_err();
    assert!(matches!(err, McpConfigError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("managed-mcp.json"), "{err}");

    // The deny list still applies to the administrator's own servers.
    fx.policy(json!({"deniedMcpServers": [{"serverName": "corp"}]}));
    refused(fx.entry("corp").admission, &["deniedMcpServers"]);
}

#[test]
fn add_and_remove_keep_every_other_key() {
    let fx = Fx::new();
    let root = fx.root().display().to_string();
    fx.write(
        "home/.claude.json",
        json!({"numStartups": 42, "projects": {root.clone(): {"allowedTools": ["Bash"]}, "/other": {"x": 1}}}),
    );
    let cfg = fx.cfg();
    let web = ServerConfig::Http {
        url: "https://mcp.example.com".into(),
        headers: BTreeMap::from([("Authorization".into(), "Bearer ${TOKEN}".into())]),
    };
    let file = add_server(&cfg, Scope::Local, "web", &web).unwrap();
    assert_eq!(file, fx.tmp.path().join("home/.claude.json"));
    add_server(&cfg, Scope::User, "srv", &stdio("npx", &["-y", "pkg"])).unwrap();
    add_server(&cfg, Scope::Project, "srv", &stdio("p", &[])).unwrap();
    assert_eq!(
        fx.read("home/.claude.json"),
        json!({
            "numStartups": 42,
            "projects": {
                root.clone(): {"allowedTools": ["Bash"], "mcpServers": {"web": {
                    "type": "http", "url": "https://mcp.example.com",
                    "headers": {"Authorization": "Bearer ${TOKEN}"}}}},
                "/other": {"x": 1}
            },
            "mcpServers": {"srv": {"type": "stdio", "command": "npx", "args": ["-y", "pkg"]}}
        })
    );
    assert_eq!(
        fx.read("proj/.mcp.json"),
        json!({"mcpServers": {"srv": {"type": "stdio", "command": "p"}}})
    );

    let err = add_server(&cfg, Scope::User, "srv", &stdio("z", &[])).unwrap_err();
    assert!(
        matches!(
            err,
            McpConfigError::Exists {
                scope: Scope::User,
                ..
            }
        ),
        "{err}"
    );
    let err = add_server(&cfg, Scope::User, "bad name", &stdio("z", &[])).unwrap_err();
    assert!(matches!(err, McpConfigError::Invalid { .. }), "{err}");

    let err = remove_server(&cfg, "srv", None).unwrap_err();
    assert!(err.to_string().contains("project, user"), "{err}");
    assert_eq!(
        remove_server(&cfg, "srv", Some(Scope::User)).unwrap().0,
        Scope::User
    );
    assert_eq!(remove_server(&cfg, "srv", None).unwrap().0, Scope::Project);
    assert_eq!(remove_server(&cfg, "web", None).unwrap().0, Scope::Local);
    assert!(matches!(
        remove_server(&cfg, "web", None).unwrap_err(),
        McpConfigError::NotFound { .. }
    ));
    let after = fx.read("home/.claude.json");
    assert_eq!(after["numStartups"], 42);
    assert_eq!(after["projects"][&root]["allowedTools"], json!(["Bash"]));
    assert_eq!(after["projects"]["/other"], json!({"x": 1}));
}

#[test]
fn a_malformed_claude_json_is_never_overwritten() {
    let fx = Fx::new();
    let path = fx.tmp.path().join("home/.claude.json");
    fs::write(&path, "{ \"numStartups\": 4").unwrap();
    let err = add_server(&fx.cfg(), Scope::User, "a", &stdio("x", &[])).unwrap_err();
    assert!(matches!(err, McpConfigError::Parse { .. }), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "{ \"numStartups\": 4");
}

#[test]
fn a_server_the_policy_refuses_cannot_be_added() {
    let mut fx = Fx::new();
    fx.env.insert("CMD".into(), "evil".into());
    let path = fx.policy(json!({"deniedMcpServers": [{"serverCommand": ["evil"]}]}));
    let err = add_server(&fx.cfg(), Scope::Project, "x", &stdio("${CMD}", &[])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("serverCommand"),
        "{msg}"
    );
    assert!(!fx.root().join(".mcp.json").exists());
}

#[test]
fn parse_server_accepts_claude_code_shapes() {
    assert_eq!(
        parse_server(&json!({"command": "x"})).unwrap(),
        stdio("x", &[])
    );
    assert!(
        parse_server(&json!({"type": "http"}))
            .unwrap_err()
            .contains("url")
    );
    assert!(parse_server(&json!("npx")).is_err());
    assert!(parse_server(&json!({"type": 1, "url": "u"})).is_err());
}

#[test]
fn masks_secrets_but_not_plain_values() {
    assert_eq!(
        masked_header("Authorization", "Bearer abc.def"),
        "Bearer ****"
    );
    assert_eq!(masked_header("X-API-Key", "k"), "****");
    assert_eq!(masked_header("X-Team", "payments"), "payments");
    assert_eq!(masked_header("X-Trace", "a1b2c3d4e5f6a7b8c9d0e1"), "****");
    assert_eq!(masked_env("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_x"), "****");
    assert_eq!(masked_env("PATH", "/usr/bin"), "/usr/bin");
    assert_eq!(masked_env("LOG_LEVEL", "debug"), "debug");
    assert_eq!(masked_env("ANYTHING", "sk-ant-api03-xyz"), "****");
    assert_eq!(
        masked_url("https://u:pw@mcp.example.com/x?token=abc&team=a"),
        "https://u:****@mcp.example.com/x?token=****&team=a"
    );
    assert_eq!(
        stdio("srv", &["--api-key=abc", "--port=8080", "ghp_abcdef"]).target(),
        "srv --api-key=**** --port=8080 ****"
    );
}

#[test]
fn no_home_means_no_user_or_local_servers_and_a_clear_error() {
    let mut fx = Fx::new();
    fx.env.remove("HOME");
    let cfg = fx.cfg();
    assert!(claude_json_path(&cfg).is_none());
    let err = add_server(&cfg, Scope::User, "a", &stdio("x", &[])).unwrap_err();
    assert!(err.to_string().contains("HOME"), "{err}");
    assert!(add_server(&cfg, Scope::Managed, "a", &stdio("x", &[])).is_err());
    assert_eq!(mcp_json_path(&cfg), fx.root().join(".mcp.json"));
}

#[test]
fn claude_config_dir_holds_its_own_claude_json() {
    let mut fx = Fx::new();
    assert_eq!(
        claude_json_path(&fx.cfg()),
        Some(fx.tmp.path().join("home/.claude.json"))
    );
    fx.env.insert(
        "CLAUDE_CONFIG_DIR".into(),
        fx.tmp.path().join("alt").display().to_string(),
    );
    let cfg = fx.cfg();
    assert_eq!(
        claude_json_path(&cfg),
        Some(fx.tmp.path().join("alt/.claude.json"))
    );
    add_server(&cfg, Scope::User, "a", &stdio("x", &[])).unwrap();
    assert!(fx.read("alt/.claude.json")["mcpServers"]["a"].is_object());
    assert!(!fx.tmp.path().join("home/.claude.json").exists());
}

#[test]
fn a_remote_server_needs_an_http_or_https_url() {
    let mut fx = Fx::new();
    let http = |url: &str| ServerConfig::Http {
        url: url.into(),
        headers: BTreeMap::new(),
    };
    let sse = |url: &str| ServerConfig::Sse {
        url: url.into(),
        headers: BTreeMap::new(),
    };
    for bad in [
        http("not-a-url"),
        sse("ftp://x.example.com/sse"),
        http("/mcp"),
    ] {
        let err = add_server(&fx.cfg(), Scope::User, "bad", &bad).unwrap_err();
        assert!(
            matches!(&err, McpConfigError::Invalid { message, .. } if message.contains("URL")),
            "{err}"
        );
    }
    assert!(!fx.tmp.path().join("home/.claude.json").exists());
    // A variable is checked once it is set: unset, the entry is kept for later.
    add_server(&fx.cfg(), Scope::User, "later", &http("${DOCS_URL}")).unwrap();
    fx.env.insert("DOCS_URL".into(), "mcp.example.com".into());
    let (entries, _) = load_servers(&fx.cfg());
    let later = entries.iter().find(|e| e.name == "later").unwrap();
    assert!(
        matches!(&later.admission, Admission::Invalid { reason } if reason.contains("not an http:// or https:// URL")),
        "{:?}",
        later.admission
    );
    add_server(
        &fx.cfg(),
        Scope::User,
        "ok",
        &sse("https://mcp.example.com/sse"),
    )
    .unwrap();
    add_server(
        &fx.cfg(),
        Scope::User,
        "local",
        &http("http://127.0.0.1:8080/mcp"),
    )
    .unwrap();
}
