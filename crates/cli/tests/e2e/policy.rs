//! The managed policy (Claude Code's `managed-settings.json`) end to end: a
//! policy that pins the provider and region, limits the models and disables
//! bypassPermissions mode, against flags, environment variables, user files
//! and skills that try to override it. `CLAUDE_MANAGED_SETTINGS_DIR` puts
//! the policy in the test's own directory.

use std::path::PathBuf;

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer, Operation, Usage};
use serde_json::json;

use crate::common::{Run, World, invocation_bodies, invocations};

const POLICY: &str = r#"{
  "provider": "bedrock",
  "bedrock.region": "eu-west-1",
  "availableModels": ["sonnet", "haiku"],
  "permissions": {
    "disableBypassPermissionsMode": "disable",
    "deny": ["Bash(echo *)"]
  }
}"#;

/// A loopback world under `POLICY`.
fn world(server: &BedrockServer) -> (World, PathBuf) {
    let mut w = World::bedrock(&server.url());
    let dir = w.root.path().join("etc-claude-code");
    let policy = dir.join("managed-settings.json");
    w.write_abs(&policy, POLICY);
    w.set("CLAUDE_MANAGED_SETTINGS_DIR", dir.display().to_string());
    (w, policy)
}

fn dry(w: &World, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--dry-run", "-p", "hi"]);
    w.run(&all)
}

#[track_caller]
fn refused(r: &Run, needles: &[&str]) {
    r.fails_with(2);
    for needle in needles {
        assert!(
            r.stderr().contains(needle),
            "lacks {needle}:\n{}",
            r.stderr()
        );
    }
}

#[test]
fn flags_cannot_override_the_policy() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (w, policy) = world(&s);
    let policy = policy.display().to_string();

    let ok = dry(&w, &["--model", "haiku"]);
    ok.ok();
    let j = ok.json();
    assert_eq!(j["provider"], "bedrock");
    assert_eq!(j["region"], "eu-west-1");
    assert!(
        j["region_source"].as_str().unwrap().contains(&policy),
        "{j}"
    );
    // Repeating the policy's own value is not an override.
    dry(&w, &["--model", "haiku", "--region", "eu-west-1"]).ok();

    refused(
        &dry(&w, &["--model", "haiku", "--region", "us-west-2"]),
        &["--region is refused", "bedrock.region = eu-west-1", &policy],
    );
    refused(
        &dry(&w, &["--provider", "anthropic"]),
        &["--provider is refused", "provider = bedrock", &policy],
    );
    for model in ["opus", "anthropic.claude-3-opus-20240229-v1:0"] {
        refused(
            &dry(&w, &["--model", model]),
            &[
                &format!("model `{model}` is not allowed"),
                &format!("availableModels in {policy} permits only sonnet, haiku"),
            ],
        );
    }
    // Any model of an allowed family, by ID too.
    dry(&w, &["--model", "anthropic.claude-3-haiku-20240307-v1:0"]).ok();

    for bypass in [
        &["--dangerously-skip-permissions"][..],
        &["--permission-mode", "bypassPermissions"][..],
    ] {
        let mut args = vec!["--model", "haiku", "-p", "x"];
        args.extend(bypass);
        refused(
            &w.run(&args),
            &["bypassPermissions mode is disabled", &policy],
        );
    }
    assert_eq!(invocations(&s).len(), 0);
}

#[test]
fn environment_variables_cannot_override_the_policy() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (mut w, policy) = world(&s);
    let policy = policy.display().to_string();
    w.set("AWS_REGION", "us-west-2")
        .set("CLAUDE_PROVIDER", "anthropic");

    let r = dry(&w, &["--model", "haiku"]);
    r.ok();
    assert_eq!(r.json()["provider"], "bedrock");
    assert_eq!(r.json()["region"], "eu-west-1");
    assert!(
        r.stderr().contains(&format!(
            "warning: CLAUDE_PROVIDER is ignored: the managed policy {policy} sets provider = bedrock"
        )),
        "{}",
        r.stderr()
    );

    w.set("ANTHROPIC_MODEL", "opus");
    refused(
        &dry(&w, &[]),
        &[
            "model `opus` is not allowed",
            &format!("availableModels in {policy}"),
        ],
    );

    // A real call goes to the policy's region with an allowed model.
    w.set("ANTHROPIC_MODEL", "haiku");
    s.push(Reply::text("hello from eu-west-1"));
    let r = w.run(&["-p", "hi"]);
    r.ok();
    assert_eq!(r.stdout().trim(), "hello from eu-west-1");
    let req = s
        .requests()
        .into_iter()
        .find(|r| matches!(r.operation, Operation::Invoke | Operation::InvokeStream))
        .unwrap();
    let auth = req
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
    assert_eq!(
        req.model_id.as_deref(),
        Some("anthropic.claude-3-haiku-20240307-v1:0")
    );
}

#[test]
fn user_files_cannot_override_the_policy() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (w, policy) = world(&s);
    let shown = policy.display().to_string();
    let user_config = w.config_dir().join("config.toml");
    w.write_abs(
        &user_config,
        "provider = \"bedrock\"\n[bedrock]\nregion = \"us-west-2\"\n",
    );
    // A user's own availableModels cannot widen the policy's.
    w.write_abs(
        &w.config_dir().join("settings.json"),
        r#"{"availableModels": ["opus"], "permissions": {"defaultMode": "bypassPermissions"}}"#,
    );

    refused(
        &w.run(&["config", "set", "bedrock.region", "us-east-1"]),
        &["`bedrock.region` is locked by the managed policy", &shown],
    );
    refused(
        &w.run(&["config", "set", "--project", "provider", "anthropic"]),
        &["`provider` is locked by the managed policy", &shown],
    );
    let file = std::fs::read_to_string(&user_config).unwrap();
    assert!(
        file.contains("us-west-2") && !file.contains("us-east-1"),
        "{file}"
    );

    let list = w.run(&["config", "list", "--show-origin"]);
    list.ok();
    let out = list.stdout();
    let line = |key: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key}:\n{out}"))
            .to_string()
    };
    let region = line("bedrock.region");
    assert!(
        region.contains("eu-west-1")
            && region.contains(&format!("managed {shown}"))
            && region.contains(&format!("(overrides {})", user_config.display())),
        "{region}"
    );
    // The same value in the user file is not an override.
    assert_eq!(
        line("provider").split_whitespace().collect::<Vec<_>>(),
        ["provider", "bedrock", "managed", shown.as_str()]
    );
    let get = w.run(&["config", "get", "bedrock.region", "--show-origin"]);
    get.ok();
    assert_eq!(
        get.stdout().trim(),
        format!(
            "eu-west-1\tmanaged {shown} (overrides {})",
            user_config.display()
        )
    );
    let json = w.run(&["config", "list", "--json"]);
    json.ok();
    assert_eq!(
        json.json()["bedrock.region"]["overrides"],
        json!([user_config.display().to_string()])
    );

    refused(
        &dry(&w, &["--model", "opus"]),
        &[&format!("availableModels in {shown}")],
    );
    refused(
        &w.run(&["--model", "haiku", "-p", "x"]),
        &["bypassPermissions mode is disabled", &shown],
    );
}

#[test]
fn the_policys_deny_rules_hold_against_allow_rules_and_flags() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (w, policy) = world(&s);
    w.write(
        ".claude/settings.local.json",
        r#"{"permissions": {"allow": ["Bash(echo *)"], "defaultMode": "acceptEdits"}}"#,
    );
    s.push(Reply::ToolUse {
        text: None,
        tools: vec![(
            "e".into(),
            "Bash".into(),
            json!({"command": "echo hi > said.txt"}),
        )],
        usage: Usage {
            input: 10,
            output: 5,
            cache_read: 0,
            cache_write: 0,
        },
    });
    s.push(Reply::text("denied"));
    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "say hi",
        "--allowedTools",
        "Bash(echo *)",
        "--output-format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json()["permission_denials"][0]["tool_use_id"], "e");
    assert!(!w.cwd.join("said.txt").exists());
    // The model is told which rule, from which file, refused the call.
    let told = invocation_bodies(&s)[1].to_string();
    assert!(
        told.contains(&format!(
            "denied by the rule `Bash(echo *)` from {}",
            policy.display()
        )),
        "{told}"
    );
}

#[test]
fn a_skill_cannot_use_a_model_outside_the_policy() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (w, policy) = world(&s);
    w.write(
        ".claude/skills/big/SKILL.md",
        "---\ndescription: Think hard\nmodel: opus\n---\nThink about $ARGUMENTS.\n",
    );
    let r = w.run(&["--model", "haiku", "-p", "/big the roadmap"]);
    assert_ne!(r.code(), 0, "{}", r.stderr());
    assert!(
        r.stderr().contains("model `opus` is not allowed")
            && r.stderr().contains(&policy.display().to_string()),
        "{}",
        r.stderr()
    );
    assert_eq!(invocations(&s).len(), 0);
}

#[test]
fn doctor_reports_the_policy_and_what_it_overrides() {
    let s = BedrockServer::start(BedrockOptions::default());
    let (w, policy) = world(&s);
    let shown = policy.display().to_string();
    let r = w.run(&["doctor"]);
    let out = r.stdout();
    let line = out
        .lines()
        .find(|l| l.contains("Managed policy:"))
        .unwrap_or_else(|| panic!("no policy line:\n{out}"));
    assert!(line.starts_with('✔'), "{line}");
    for needle in [
        shown.as_str(),
        "provider = bedrock",
        "bedrock.region = eu-west-1",
        "availableModels: sonnet, haiku",
        "bypassPermissions mode disabled",
        "1 deny rule",
    ] {
        assert!(line.contains(needle), "lacks {needle}: {line}");
    }
    assert!(
        out.lines()
            .any(|l| l.contains("Region:") && l.contains("eu-west-1")),
        "{out}"
    );

    let user_config = w.config_dir().join("config.toml");
    w.write_abs(&user_config, "[bedrock]\nregion = \"us-west-2\"\n");
    let j = w.run(&["doctor", "--json"]).json();
    let check = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Managed policy")
        .unwrap_or_else(|| panic!("{j}"))
        .clone();
    assert_eq!(check["status"], "warn", "{check}");
    assert!(
        check["summary"].as_str().unwrap().contains(&format!(
            "ignored: bedrock.region from {}",
            user_config.display()
        )),
        "{check}"
    );
    assert!(
        check["fix"]
            .as_str()
            .unwrap()
            .contains("claude config unset")
    );
}
