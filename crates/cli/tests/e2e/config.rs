//! `claude config` and the layering behind it.

use crate::common::World;

#[test]
fn version_and_help_document_the_surface() {
    let w = World::new();
    let v = w.run(&["--version"]);
    v.ok();
    assert!(v.stdout().starts_with("claude "));
    let h = w.run(&["--help"]);
    h.ok();
    // What the tool is, not how its source is laid out (the crate's description).
    assert!(
        h.stdout()
            .starts_with("claude: a Claude Code-compatible terminal agent"),
        "{}",
        h.stdout()
    );
    for needle in [
        "--provider",
        "--model",
        "--region",
        "--dry-run",
        "--print",
        "--no-stream",
        "config",
        "Exit codes",
    ] {
        assert!(
            h.stdout().contains(needle),
            "help lacks {needle}:\n{}",
            h.stdout()
        );
    }
    let h = w.run(&["config", "--help"]);
    for needle in ["set", "get", "unset", "list"] {
        assert!(h.stdout().contains(needle));
    }
}

#[test]
fn spec_configuration_commands_work_as_written() {
    let w = World::new();
    w.run(&["config", "set", "provider", "bedrock"]).ok();
    w.run(&["config", "set", "bedrock.region", "us-east-1"])
        .ok();
    let file = std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap();
    assert!(file.contains("provider = \"bedrock\""), "{file}");
    assert!(
        file.contains("[bedrock]") && file.contains("region = \"us-east-1\""),
        "{file}"
    );
    let g = w.run(&["config", "get", "provider"]);
    g.ok();
    assert_eq!(g.stdout().trim(), "bedrock");
    let l = w.run(&["config", "list", "--show-origin"]);
    l.ok();
    let line = l
        .stdout()
        .lines()
        .find(|l| l.starts_with("bedrock.region"))
        .unwrap()
        .to_string();
    assert!(
        line.contains("us-east-1") && line.contains("config.toml"),
        "{line}"
    );
}

#[test]
fn provider_precedence_flag_env_project_user_default() {
    let mut w = World::new();
    let origin = |w: &World, extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["config", "get", "provider", "--show-origin"]);
        let r = w.run(&args);
        r.ok();
        r.stdout().trim().to_string()
    };
    assert_eq!(origin(&w, &[]), "anthropic\tdefault");
    w.run(&["config", "set", "provider", "bedrock"]).ok();
    assert!(origin(&w, &[]).starts_with("bedrock\t"));
    w.run(&["config", "set", "--project", "provider", "anthropic"])
        .ok();
    let o = origin(&w, &[]);
    assert!(
        o.starts_with("anthropic\t") && o.contains(".claude/config.toml"),
        "{o}"
    );
    w.set("CLAUDE_CODE_USE_BEDROCK", "1");
    assert_eq!(origin(&w, &[]), "bedrock\tenv CLAUDE_CODE_USE_BEDROCK");
    w.set("CLAUDE_PROVIDER", "anthropic");
    assert_eq!(origin(&w, &[]), "anthropic\tenv CLAUDE_PROVIDER");
    assert_eq!(
        origin(&w, &["--provider", "bedrock"]),
        "bedrock\tflag --provider"
    );
}

#[test]
fn unknown_provider_is_refused_with_the_valid_ones() {
    let mut w = World::new();
    let r = w.run(&["--provider", "azure", "-p", "hi"]);
    r.fails_with(2);
    assert!(
        r.stderr().contains("azure") && r.stderr().contains("anthropic, bedrock"),
        "{}",
        r.stderr()
    );
    w.set("CLAUDE_PROVIDER", "vertex");
    let r = w.run(&["-p", "hi"]);
    r.fails_with(2);
    assert!(r.stderr().contains("CLAUDE_PROVIDER"), "{}", r.stderr());
    let r = w.run(&["config", "set", "provider", "openai"]);
    r.fails_with(2);
    assert!(r.stderr().contains("anthropic, bedrock"), "{}", r.stderr());
}

#[test]
fn bad_keys_and_values_are_refused() {
    let w = World::new();
    let r = w.run(&["config", "set", "bedrock.regoin", "us-east-1"]);
    r.fails_with(2);
    assert!(r.stderr().contains("bedrock.region"), "{}", r.stderr());
    for key in [
        "aws_secret_access_key",
        "bedrock.access_key_id",
        "anthropic.api_key",
        "token",
    ] {
        let r = w.run(&["config", "set", key, "s3cr3t-value"]);
        r.fails_with(2);
        assert!(
            r.stderr().contains("aws configure"),
            "{key}: {}",
            r.stderr()
        );
        assert!(!r.stderr().contains("s3cr3t-value"));
    }
    for (key, bad) in [
        ("bedrock.region", "us-east"),
        ("budget.monthly_usd", "-5"),
        ("budget.action", "explode"),
        ("retry.max_attempts", "0"),
    ] {
        let r = w.run(&["config", "set", key, bad]);
        r.fails_with(2);
        assert!(r.stderr().contains(key), "{key}: {}", r.stderr());
    }
    assert!(!w.config_dir().join("config.toml").exists());
}

#[test]
fn malformed_files_name_file_line_and_column_and_are_never_overwritten() {
    let w = World::new();
    let path = w.config_dir().join("config.toml");
    let broken = "provider = \"bedrock\"\n[bedrock\nregion = 1\n";
    w.write_abs(&path, broken);
    let r = w.run(&["config", "set", "model", "haiku"]);
    r.fails_with(2);
    assert!(
        r.stderr().contains("config.toml") && r.stderr().contains("line 2"),
        "{}",
        r.stderr()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let r = w.run(&["-p", "hi", "--dry-run"]);
    r.fails_with(2);

    let w = World::new();
    w.write(
        ".claude/settings.json",
        "{\n  \"model\": \"haiku\",\n  \"env\": {\n}\n,}",
    );
    let r = w.run(&["config", "list"]);
    r.fails_with(2);
    assert!(
        r.stderr().contains("settings.json") && r.stderr().contains("line"),
        "{}",
        r.stderr()
    );
}

#[test]
fn writes_keep_the_rest_of_the_file() {
    let w = World::new();
    let path = w.config_dir().join("config.toml");
    w.write_abs(
        &path,
        "model = \"haiku\" # fast\n\n# my budget\n[budget]\nmonthly_usd = 100 # USD\n",
    );
    w.run(&["config", "set", "bedrock.region", "eu-west-1"])
        .ok();
    w.run(&["config", "unset", "model"]).ok();
    let s = std::fs::read_to_string(&path).unwrap();
    assert!(
        s.contains("# my budget")
            && s.contains("monthly_usd = 100 # USD")
            && s.contains("eu-west-1"),
        "{s}"
    );
    assert!(!s.contains("haiku"), "{s}");
}

#[test]
fn claude_code_settings_env_and_model_join_the_layers() {
    let w = World::new();
    w.write(
        ".claude/settings.json",
        r#"{"model": "opus", "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1"}}"#,
    );
    let r = w.run(&["config", "list", "--show-origin"]);
    r.ok();
    let out = r.stdout();
    let provider = out.lines().find(|l| l.starts_with("provider")).unwrap();
    assert!(
        provider.contains("bedrock") && provider.contains("settings.json"),
        "{provider}"
    );
    let model = out.lines().find(|l| l.starts_with("model")).unwrap();
    assert!(
        model.contains("opus") && model.contains("settings.json"),
        "{model}"
    );
    // The env block reaches the Bedrock region resolution too.
    let d = w.run(&["-p", "hi", "--dry-run"]);
    d.ok();
    let j = d.json();
    assert_eq!(j["region"], "eu-west-1");
    assert_eq!(
        j["model"]["model_id"],
        "anthropic.claude-3-opus-20240229-v1:0"
    );
}
