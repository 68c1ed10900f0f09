//! `claude doctor`, `claude models` and `claude iam-policy` against the
//! loopback server's control-plane and STS routes.

use claude_test_support::bedrock::{ControlPlane, Reply};
use claude_test_support::{Auth, BedrockOptions, BedrockServer};
use serde_json::json;

use crate::common::World;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SPEC_MODELS: [(&str, &str); 3] = [
    ("anthropic.claude-3-opus-20240229-v1:0", "Claude 3 Opus"),
    (
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "Claude 3.5 Sonnet v2",
    ),
    ("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku"),
];

/// The control plane of a healthy us-east-1 account with the guide's models.
fn healthy_plane() -> ControlPlane {
    let mut plane = ControlPlane::for_region("us-east-1");
    plane.foundation_models = SPEC_MODELS
        .iter()
        .map(|(id, name)| ControlPlane::foundation_model("us-east-1", id, name, &["ON_DEMAND"]))
        .collect();
    plane
}

fn server(plane: ControlPlane) -> BedrockServer {
    BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
            region: "us-east-1".into(),
        },
        control_plane: plane,
        ..Default::default()
    })
}

fn world(server: &BedrockServer) -> World {
    let mut w = World::new();
    w.set("AWS_ACCESS_KEY_ID", KEY_ID)
        .set("AWS_SECRET_ACCESS_KEY", SECRET)
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url())
        .set("CLAUDE_PROVIDER", "bedrock");
    w.write_abs(
        &w.config_dir().join("config.toml"),
        "[budget]\nmonthly_usd = 100\n",
    );
    w
}

fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| {
            l.get(4..).is_some_and(|rest| rest.starts_with(name))
                || l.contains(&format!(" {name}:"))
        })
        .unwrap_or_else(|| panic!("no line for {name}:\n{out}"))
}

#[test]
fn a_healthy_setup_is_all_green() {
    let s = server(healthy_plane());
    let w = world(&s);
    let r = w.run(&["doctor"]);
    r.ok();
    let out = r.stdout();
    assert!(!out.contains('⚠') && !out.contains('✖'), "{out}");
    for name in [
        "Config files",
        "Provider",
        "Region",
        "Credentials",
        "Identity (STS)",
        "Endpoint",
        "Model opus",
        "Model sonnet",
        "Model haiku",
        "Budget",
        "Prompt caching",
    ] {
        assert!(line(&out, name).starts_with('✔'), "{name}:\n{out}");
    }
    assert!(line(&out, "Identity (STS)").contains("arn:aws:iam::123456789012:user/test"));
    assert!(line(&out, "Credentials").contains("environment (AWS_ACCESS_KEY_ID)"));
    assert!(out.contains(
        "--service-name com.amazonaws.us-east-1.bedrock-runtime --vpc-endpoint-type Interface"
    ));
    assert!(out.contains("aws cloudtrail lookup-events --region us-east-1"));
    // Control-plane calls only: nothing billed.
    assert!(s.requests().iter().all(|r| !r.path.contains("/invoke")));

    let j = w.run(&["doctor", "--json"]);
    j.ok();
    let v = j.json();
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{v}"
    );
}

#[test]
fn missing_credentials_fail_with_guidance() {
    let s = server(healthy_plane());
    let mut w = World::new();
    w.set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", s.url());
    let r = w.run(&["doctor"]);
    r.fails_with(2);
    let out = r.stdout();
    let creds = line(&out, "Credentials");
    assert!(creds.starts_with('✖'), "{out}");
    for needle in [
        "aws configure",
        "AWS_ACCESS_KEY_ID",
        "aws sts get-caller-identity",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
}

#[test]
fn a_model_without_access_fails_with_the_iam_snippet() {
    let mut plane = healthy_plane();
    plane.availability = vec![ControlPlane::model_availability(
        "anthropic.claude-3-haiku-20240307-v1:0",
        false,
    )];
    let s = server(plane);
    let w = world(&s);
    let r = w.run(&["doctor"]);
    r.fails_with(2);
    let out = r.stdout();
    assert!(line(&out, "Model haiku").starts_with('✖'), "{out}");
    assert!(out.contains("Model access"), "{out}");
    assert!(
        out.contains("\"bedrock:InvokeModelWithResponseStream\""),
        "{out}"
    );
    assert!(
        out.contains(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        ),
        "{out}"
    );
    assert!(line(&out, "Model opus").starts_with('✔'));

    // --invoke shows the price first and reports the real call's denial.
    s.push(Reply::text("ok"));
    s.push(Reply::text("ok"));
    s.push(Reply::access_denied_model());
    let r = w.run(&["doctor", "--invoke"]);
    r.fails_with(2);
    assert!(r.stderr().contains("Test call to anthropic.claude-3-haiku-20240307-v1:0: about 12 input and 1 output token, about $"), "{}", r.stderr());
    let out = r.stdout();
    assert!(line(&out, "Test call haiku").starts_with('✖'), "{out}");
    assert!(out.contains("bedrock:InvokeModel"), "{out}");
}

#[test]
fn a_legacy_model_warns_with_its_replacement() {
    let mut plane = healthy_plane();
    plane.foundation_models[2]["modelLifecycle"] =
        json!({"status": "LEGACY", "endOfLifeTime": "2026-09-10T00:00:00Z"});
    let s = server(plane);
    let w = world(&s);
    let r = w.run(&["doctor"]);
    r.fails_with(1);
    let out = r.stdout();
    let haiku = line(&out, "Model haiku");
    assert!(
        haiku.starts_with('⚠') && haiku.contains("LEGACY") && haiku.contains("2026-09-10"),
        "{out}"
    );
    assert!(
        out.contains("anthropic.claude-haiku-4-5-20251001-v1:0"),
        "{out}"
    );
}

#[test]
fn an_unknown_region_fails() {
    let s = server(healthy_plane());
    let mut w = world(&s);
    w.set("AWS_REGION", "xx-nowhere-9");
    let r = w.run(&["doctor"]);
    r.fails_with(2);
    let out = r.stdout();
    assert!(
        line(&out, "Region").starts_with('✖') && out.contains("not offered"),
        "{out}"
    );
    assert!(out.contains("claude config set bedrock.region us-east-1"));
}

#[test]
fn iam_policy_for_the_spec_aliases_in_us_east_1() {
    let w = World::new();
    let r = w.run(&["--region", "us-east-1", "iam-policy"]);
    r.ok();
    assert_eq!(
        r.json(),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "InvokeClaudeModels",
                "Effect": "Allow",
                "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                "Resource": [
                    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0",
                    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0"
                ]
            }]
        })
    );
    let r = w.run(&[
        "--region",
        "us-east-1",
        "iam-policy",
        "--with-list",
        "--bearer",
    ]);
    r.ok();
    let v = r.json();
    let actions: Vec<String> = v["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
        })
        .collect();
    for a in [
        "bedrock:ListFoundationModels",
        "bedrock:ListInferenceProfiles",
        "bedrock:GetInferenceProfile",
        "bedrock:CallWithBearerToken",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing: {v}");
    }
}

#[test]
fn iam_policy_adds_profile_destinations() {
    let s = server(ControlPlane::for_region("us-east-1"));
    let mut w = world(&s);
    w.set(
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    );
    let r = w.run(&["iam-policy"]);
    r.ok();
    let res = r.json()["Statement"][0]["Resource"].clone();
    let res: Vec<&str> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(res.contains(&"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"), "{res:?}");
    for region in ["us-east-1", "us-east-2", "us-west-2"] {
        let arn = format!(
            "arn:aws:bedrock:{region}::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert!(res.contains(&arn.as_str()), "{res:?}");
    }
}

#[test]
fn models_lists_the_region_with_aliases_and_prices() {
    let s = server(healthy_plane());
    let w = world(&s);
    let r = w.run(&["models"]);
    r.ok();
    let out = r.stdout();
    let haiku = out
        .lines()
        .find(|l| l.starts_with("anthropic.claude-3-haiku-20240307-v1:0"))
        .unwrap();
    assert!(
        haiku.contains("haiku")
            && haiku.contains("0.00025")
            && haiku.contains("0.00125")
            && haiku.contains("ON_DEMAND"),
        "{out}"
    );
    let j = w.run(&["models", "--json"]);
    j.ok();
    let v = j.json();
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["models"].as_array().unwrap().len(), 3);
}
