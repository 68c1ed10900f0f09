//! `--dry-run`: the model resolution and request of the spec's examples.

use crate::common::World;

fn dry(w: &World, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--dry-run", "-p", "hi"]);
    let r = w.run(&all);
    r.ok();
    r.json()
}

#[test]
fn spec_model_table_and_aliases_resolve_as_written() {
    let w = World::new();
    for (model, id) in [
        ("sonnet", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("opus", "anthropic.claude-3-opus-20240229-v1:0"),
        ("haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
        (
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
        ),
        (
            "anthropic.claude-3-opus-20240229-v1:0",
            "anthropic.claude-3-opus-20240229-v1:0",
        ),
        (
            "anthropic.claude-3-sonnet-20240229-v1:0",
            "anthropic.claude-3-sonnet-20240229-v1:0",
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
        ),
    ] {
        let j = dry(&w, &["--provider", "bedrock", "--model", model]);
        assert_eq!(j["model"]["model_id"], id, "{model}");
        assert_eq!(j["provider"], "bedrock");
    }
    let a = dry(&w, &["--provider", "bedrock", "--model", "sonnet"]);
    let b = dry(
        &w,
        &[
            "--provider",
            "bedrock",
            "--model",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
        ],
    );
    assert_eq!(a["model"]["model_id"], b["model"]["model_id"]);
    assert_eq!(a["body"], b["body"]);
}

#[test]
fn dry_run_shows_region_source_endpoint_and_a_bedrock_body() {
    let mut w = World::new();
    w.set("AWS_REGION", "eu-west-1");
    let j = dry(&w, &["--provider", "bedrock", "--model", "haiku"]);
    assert_eq!(j["region"], "eu-west-1");
    assert_eq!(j["region_source"], "env AWS_REGION");
    assert_eq!(
        j["endpoint"],
        "https://bedrock-runtime.eu-west-1.amazonaws.com"
    );
    assert_eq!(j["operation"], "InvokeModelWithResponseStream");
    assert_eq!(
        j["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream"
    );
    assert_eq!(j["body"]["anthropic_version"], "bedrock-2023-05-31");
    assert_eq!(j["body"]["max_tokens"], 4096);
    assert!(j["body"].get("model").is_none() && j["body"].get("stream").is_none());
    let j = dry(&w, &["--provider", "bedrock", "--region", "us-west-2"]);
    assert_eq!(j["region_source"], "flag --region");
    assert_eq!(
        j["model"]["model_id"],
        "anthropic.claude-3-5-sonnet-20241022-v2:0"
    );
    assert!(
        j["model"]["reason"]
            .as_str()
            .unwrap()
            .contains("default model")
    );
}

#[test]
fn profiles_follow_the_region_and_overrides_apply() {
    let mut w = World::new();
    w.set("CLAUDE_PROVIDER", "bedrock");
    w.set("AWS_REGION", "eu-central-1");
    w.set(
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    );
    let j = dry(&w, &["--model", "haiku"]);
    assert_eq!(
        j["model"]["model_id"],
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    assert!(
        j["model"]["reason"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_DEFAULT_HAIKU_MODEL")
    );
    let j = dry(&w, &["--model", "claude-sonnet-4-5-20250929"]);
    assert_eq!(
        j["model"]["model_id"],
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    w.set(
        "ANTHROPIC_MODEL",
        "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc123",
    );
    let j = dry(&w, &[]);
    assert_eq!(
        j["model"]["model_id"],
        "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc123"
    );
    assert_eq!(
        j["path"],
        "/model/arn%3Aaws%3Abedrock%3Aeu-central-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/invoke-with-response-stream"
    );
}

#[test]
fn unknown_models_get_did_you_mean() {
    let w = World::new();
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "sonet",
        "-p",
        "hi",
        "--dry-run",
    ]);
    r.fails_with(2);
    assert!(
        r.stderr().contains("did you mean `sonnet`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn anthropic_dry_run_never_shows_a_key() {
    let mut w = World::new();
    w.set("ANTHROPIC_API_KEY", "sk-ant-test-secret-123");
    let r = w.run(&[
        "--provider",
        "anthropic",
        "--model",
        "haiku",
        "-p",
        "hi",
        "--dry-run",
    ]);
    r.ok();
    assert!(
        !r.stdout().contains("sk-ant-test-secret-123")
            && !r.stderr().contains("sk-ant-test-secret-123")
    );
    let j = r.json();
    assert_eq!(j["provider"], "anthropic");
    assert_eq!(j["body"]["model"], "claude-haiku-4-5-20251001");
    assert_eq!(j["body"]["stream"], true);
}
