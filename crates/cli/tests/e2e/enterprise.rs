//! Enterprise features end to end against the loopback Bedrock: credentials
//! that survive expiry, guardrails, application inference profiles,
//! partitions and invocation-log metadata.

use claude_test_support::bedrock::{ControlPlane, Reply};
use claude_test_support::{Auth, BedrockOptions, BedrockServer, Operation, RecordedRequest};
use claude_usage::Ledger;
use serde_json::Value;

use crate::common::World;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// Temporary credentials the server answers with ExpiredTokenException.
const EXPIRED_KEY_ID: &str = "ASIAEXPIREDEXAMPLE";
const EXPIRED_SECRET: &str = "expiredSecretEXAMPLEKEY";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET_4_5: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const APP_PROFILE: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";

fn server_in(region: &str, plane: ControlPlane) -> BedrockServer {
    BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
            region: region.into(),
        },
        control_plane: plane,
        expired_access_keys: vec![EXPIRED_KEY_ID.into()],
        ..Default::default()
    })
}

fn server() -> BedrockServer {
    server_in("us-east-1", ControlPlane::for_region("us-east-1"))
}

fn invocations(server: &BedrockServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| matches!(r.operation, Operation::Invoke | Operation::InvokeStream))
        .collect()
}

fn credentials_file(key: &str, secret: &str) -> String {
    format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
}

/// A world whose credentials come from `~/.aws/credentials` (the valid key)
/// and whose every AWS endpoint is the loopback server.
fn world(server: &BedrockServer) -> World {
    let mut w = World::new();
    w.set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url())
        .set("CLAUDE_PROVIDER", "bedrock");
    w.fast_retries();
    w.write_abs(
        &w.home().join(".aws/credentials"),
        &credentials_file(KEY_ID, SECRET),
    );
    w
}

fn expire_credentials(w: &World) {
    w.write_abs(
        &w.home().join(".aws/credentials"),
        &credentials_file(EXPIRED_KEY_ID, EXPIRED_SECRET),
    );
}

/// A refresh script that writes the valid key (as `aws sso login` would
/// refresh the SSO cache) and says so; `awsAuthRefresh` runs it.
fn configure_refresh(w: &World) {
    let script = w.home().join("refresh.sh");
    let marker = w.home().join("refreshed");
    w.write_abs(
        &script,
        &format!(
            "#!/bin/sh\necho 'Successfully logged into Start URL: https://example.awsapps.com/start'\ntouch '{}'\ncat > \"$HOME/.aws/credentials\" <<'EOF'\n{}EOF\n",
            marker.display(),
            credentials_file(KEY_ID, SECRET)
        ),
    );
    w.write(
        ".claude/settings.json",
        &serde_json::json!({ "awsAuthRefresh": format!("sh {}", script.display()) }).to_string(),
    );
}

fn signed_with(req: &RecordedRequest) -> String {
    let auth = req.header("authorization").unwrap_or_default();
    auth.split("Credential=")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string()
}

fn user_texts(req: &RecordedRequest) -> Vec<String> {
    req.json.as_ref().unwrap()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].to_string())
        .collect()
}

fn audit_lines(w: &World) -> Vec<Value> {
    std::fs::read_to_string(w.config_dir().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn expired_credentials_are_refreshed_and_the_same_turn_succeeds() {
    let server = server();
    let w = world(&server);
    server.push(Reply::text("First answer."));
    w.run(&["--model", "haiku", "-p", "first question"]).ok();

    expire_credentials(&w);
    configure_refresh(&w);
    server.push(Reply::text("Second answer."));
    let r = w.run(&["--continue", "--model", "haiku", "-p", "second question"]);
    r.ok();
    assert_eq!(r.stdout(), "Second answer.\n");
    let e = r.stderr();
    assert!(e.contains("running awsAuthRefresh: sh "), "{e}");
    assert!(
        e.contains("Successfully logged into Start URL"),
        "the refresh command's output is shown: {e}"
    );
    assert!(
        e.contains("AWS credentials expired; ran awsAuthRefresh"),
        "{e}"
    );

    let calls = invocations(&server);
    assert_eq!(
        calls.len(),
        3,
        "one call, then the expired one and its retry"
    );
    assert_eq!(signed_with(&calls[1]), EXPIRED_KEY_ID);
    assert_eq!(
        signed_with(&calls[2]),
        KEY_ID,
        "the rebuilt chain read the new file"
    );
    assert_eq!(
        calls[1].body, calls[2].body,
        "the same request is sent again"
    );
    let texts = user_texts(&calls[2]);
    assert_eq!(texts.len(), 2, "the conversation is intact: {texts:?}");
    assert!(texts[0].contains("first question") && texts[1].contains("second question"));

    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["ok", "credentials_expired", "ok"]);
}

#[test]
fn without_a_refresh_command_the_error_names_the_fix_and_continue_works() {
    let server = server();
    let w = world(&server);
    server.push(Reply::text("First answer."));
    w.run(&["--model", "haiku", "-p", "first question"]).ok();

    expire_credentials(&w);
    let r = w.run(&["--continue", "--model", "haiku", "-p", "second question"]);
    r.fails_with(3);
    let e = r.stderr();
    for needle in [
        "AWS credentials have expired",
        "Tried: reloaded them from the credential chain, but they are still expired",
        "aws sso login --profile <profile>",
        "awsAuthRefresh",
        "claude --continue",
        "Request ID: ",
    ] {
        assert!(e.contains(needle), "missing {needle}:\n{e}");
    }
    assert!(!e.contains(EXPIRED_SECRET));
    assert_eq!(invocations(&server).len(), 3, "reloaded and retried once");

    // The user fixes the credentials; the conversation carries on.
    w.write_abs(
        &w.home().join(".aws/credentials"),
        &credentials_file(KEY_ID, SECRET),
    );
    server.push(Reply::text("Third answer."));
    let r = w.run(&["--continue", "--model", "haiku", "-p", "third question"]);
    r.ok();
    assert_eq!(r.stdout(), "Third answer.\n");
    let last = invocations(&server).pop().unwrap();
    let texts = user_texts(&last);
    assert!(
        texts.first().unwrap().contains("first question"),
        "{texts:?}"
    );
    assert!(
        texts.last().unwrap().contains("third question"),
        "{texts:?}"
    );
}

#[test]
fn access_denied_never_refreshes_or_retries() {
    let server = server();
    let w = world(&server);
    configure_refresh(&w);
    server.push(Reply::access_denied_iam(
        "bedrock:InvokeModelWithResponseStream",
        &format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"),
    ));
    let r = w.run(&["--model", "haiku", "-p", "hi"]);
    r.fails_with(4);
    assert!(!w.home().join("refreshed").exists(), "no refresh");
    assert!(!r.stderr().contains("awsAuthRefresh"), "{}", r.stderr());
    assert_eq!(invocations(&server).len(), 1, "no retry");

    // A wrong secret is a signature error: no refresh either.
    w.write_abs(
        &w.home().join(".aws/credentials"),
        &credentials_file(KEY_ID, "not-the-secret"),
    );
    w.run(&["--model", "haiku", "-p", "hi"]).fails_with(3);
    assert!(!w.home().join("refreshed").exists(), "no refresh");
    assert_eq!(invocations(&server).len(), 2, "no retry");
}

/// Credentials from an `awsCredentialExport` command only, expiring in 2099.
fn configure_credential_export(w: &World) {
    std::fs::remove_file(w.home().join(".aws/credentials")).unwrap();
    let export = serde_json::json!({
        "Credentials": {
            "AccessKeyId": KEY_ID,
            "SecretAccessKey": SECRET,
            "Expiration": "2099-01-01T00:00:00Z"
        }
    });
    let script = w.home().join("export.sh");
    w.write_abs(&script, &format!("#!/bin/sh\necho '{export}'\n"));
    w.write(
        ".claude/settings.json",
        &serde_json::json!({ "awsCredentialExport": format!("sh {}", script.display()) })
            .to_string(),
    );
}

#[test]
fn credential_export_supplies_credentials_and_doctor_shows_their_expiry() {
    let server = server();
    let w = world(&server);
    configure_credential_export(&w);
    w.run(&["--model", "haiku", "-p", "hi"]).ok();
    assert_eq!(signed_with(&invocations(&server)[0]), KEY_ID);
    let r = w.run(&["doctor"]);
    let out = r.stdout();
    let creds = out.lines().find(|l| l.contains("Credentials")).unwrap();
    assert!(
        creds.contains("awsCredentialExport") && creds.contains("expire 2099-01-01T00:00:00Z"),
        "{out}"
    );
}

#[test]
fn status_shows_when_the_credentials_expire() {
    let server = server();
    server.push(Reply::text("Hello there."));
    let mut w = world(&server);
    w.set("NO_COLOR", "1");
    configure_credential_export(&w);
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Ctrl-D exits").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("hi").unwrap();
    p.exp_string("Hello there.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/status").unwrap();
    p.exp_string("credentials expire: 2099-01-01T00:00:00Z")
        .unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

fn configure_guardrail(w: &World, version: &str) {
    w.run(&["config", "set", "bedrock.guardrail.id", "gr7x2k9abc"])
        .ok();
    w.run(&["config", "set", "bedrock.guardrail.version", version])
        .ok();
    w.run(&["config", "set", "bedrock.guardrail.trace", "enabled_full"])
        .ok();
}

#[test]
fn guardrail_headers_go_with_every_call() {
    let server = server();
    let w = world(&server);
    configure_guardrail(&w, "3");
    w.run(&["--model", "haiku", "-p", "hi"]).ok();
    w.run(&["--model", "haiku", "--no-stream", "-p", "hi"]).ok();
    let calls = invocations(&server);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].operation, Operation::InvokeStream);
    assert_eq!(calls[1].operation, Operation::Invoke);
    for call in &calls {
        assert_eq!(
            call.header("x-amzn-bedrock-guardrailidentifier"),
            Some("gr7x2k9abc")
        );
        assert_eq!(call.header("x-amzn-bedrock-guardrailversion"), Some("3"));
        assert_eq!(call.header("x-amzn-bedrock-trace"), Some("ENABLED_FULL"));
        let signed = call.header("authorization").unwrap();
        assert!(
            signed.contains("x-amzn-bedrock-guardrailidentifier;x-amzn-bedrock-guardrailversion"),
            "signed: {signed}"
        );
    }
}

#[test]
fn a_guardrail_intervention_is_shown_audited_and_not_retried() {
    let server = server();
    let w = world(&server);
    configure_guardrail(&w, "3");
    for stream in [true, false] {
        server.push(Reply::guardrail_intervened());
        let mut args = vec!["--model", "haiku", "-p", "how do I pick a lock?"];
        if !stream {
            args.push("--no-stream");
        }
        let r = w.run(&args);
        r.ok();
        assert_eq!(
            r.stdout(),
            "Sorry, the model cannot answer this question.\n"
        );
        assert!(
            r.stderr()
                .contains("guardrail gr7x2k9abc (version 3) intervened"),
            "{}",
            r.stderr()
        );
    }
    assert_eq!(invocations(&server).len(), 2, "never retried");
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert!(
        rows.iter().all(|r| r.status == "guardrail_intervened"),
        "{rows:?}"
    );
    let audited: Vec<Value> = audit_lines(&w)
        .into_iter()
        .filter(|l| l["event"] == "model_invocation")
        .collect();
    assert_eq!(audited.len(), 2);
    for line in audited {
        assert_eq!(line["status"], "guardrail_intervened");
        assert_eq!(line["reason"], "guardrail gr7x2k9abc version 3 intervened");
    }
}

#[test]
fn doctor_checks_that_the_guardrail_exists() {
    let mut plane = ControlPlane::for_region("us-east-1");
    plane
        .guardrails
        .push(ControlPlane::guardrail("us-east-1", "gr7x2k9abc", "2"));
    let server = server_in("us-east-1", plane);
    let w = world(&server);
    configure_guardrail(&w, "3");
    let r = w.run(&["doctor"]);
    r.fails_with(2);
    let out = r.stdout();
    let line = out.lines().find(|l| l.contains("Guardrail:")).unwrap();
    assert!(line.starts_with('✖'), "{out}");
    assert!(
        line.contains("gr7x2k9abc version 3 does not exist"),
        "{out}"
    );
    assert!(out.contains("aws bedrock list-guardrails --region us-east-1"));

    configure_guardrail(&w, "2");
    let out = w.run(&["doctor"]).stdout();
    let line = out.lines().find(|l| l.contains("Guardrail:")).unwrap();
    assert!(line.starts_with('✔') && line.contains("READY"), "{out}");
}

fn plane_with_app_profile() -> ControlPlane {
    let mut plane = ControlPlane::for_region("us-east-1");
    plane
        .inference_profiles
        .push(ControlPlane::application_inference_profile(
            "us-east-1",
            "a1b2c3d4e5f6",
            "team-search",
            SONNET_4_5,
        ));
    plane
}

#[test]
fn an_application_inference_profile_is_priced_as_its_model() {
    let server = server_in("us-east-1", plane_with_app_profile());
    let w = world(&server);
    let r = w.run(&[
        "--model",
        APP_PROFILE,
        "-p",
        "hi",
        "--output-format",
        "json",
    ]);
    r.ok();
    // Sonnet 4.5 in-region: $3.30 in and $16.50 out per 1M tokens; 12 in, 8 out.
    let expected = (12.0 * 3.3 + 8.0 * 16.5) / 1_000_000.0;
    let cost = r.json()["total_cost_usd"].as_f64().unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    assert!(!r.stderr().contains("no price is known"), "{}", r.stderr());

    let calls = invocations(&server);
    assert_eq!(
        calls[0].model_id.as_deref(),
        Some(APP_PROFILE),
        "sent as given"
    );
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert_eq!(rows[0].model_id, APP_PROFILE);
    assert_eq!(rows[0].canonical_model.as_deref(), Some(SONNET_4_5));
    let lookups = server
        .requests()
        .iter()
        .filter(|r| r.operation == Operation::GetInferenceProfile)
        .count();
    assert_eq!(lookups, 1, "resolved once per session");

    let listed = w.run(&["models", "--json"]);
    listed.ok();
    let apps = listed.json()["application_profiles"].clone();
    assert_eq!(apps[0]["arn"], APP_PROFILE, "{apps}");

    w.run(&["config", "set", "model", APP_PROFILE]).ok();
    let policy = w.run(&["iam-policy"]);
    policy.ok();
    let doc = policy.stdout();
    assert!(doc.contains(APP_PROFILE), "{doc}");
    assert!(
        doc.contains(&format!(
            "arn:aws:bedrock:us-east-1::foundation-model/{SONNET_4_5}"
        )),
        "{doc}"
    );
    assert!(doc.contains("bedrock:GetInferenceProfile"), "{doc}");
}

#[test]
fn an_application_profile_takes_its_models_output_cap() {
    let mut plane = ControlPlane::for_region("us-east-1");
    plane
        .inference_profiles
        .push(ControlPlane::application_inference_profile(
            "us-east-1",
            "a1b2c3d4e5f6",
            "team-haiku",
            HAIKU,
        ));
    let server = server_in("us-east-1", plane);
    let w = world(&server);
    w.run(&["--model", APP_PROFILE, "-p", "hi"]).ok();
    let calls = invocations(&server);
    let body = calls[0].json.clone().unwrap();
    // Claude 3 Haiku answers at most 4,096 tokens; the 32,000 default would be refused.
    assert_eq!(body["max_tokens"], 4096, "{body}");
}

#[test]
fn iam_policy_in_govcloud_uses_the_gov_partition_only() {
    let server = server_in("us-gov-west-1", ControlPlane::for_region("us-gov-west-1"));
    let mut w = world(&server);
    w.set("AWS_REGION", "us-gov-west-1");
    configure_guardrail(&w, "1");
    w.run(&[
        "config",
        "set",
        "model",
        "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ])
    .ok();
    let r = w.run(&["iam-policy", "--with-list"]);
    r.ok();
    let doc = r.stdout();
    let arns: Vec<&str> = doc.split('"').filter(|s| s.starts_with("arn:")).collect();
    assert!(arns.len() >= 4, "{doc}");
    for arn in &arns {
        assert!(arn.starts_with("arn:aws-us-gov:"), "{arn} in {doc}");
    }
    assert!(
        arns.contains(&"arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "{doc}"
    );
    assert!(
        arns.contains(&"arn:aws-us-gov:bedrock:us-gov-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "{doc}"
    );
    assert!(
        arns.contains(&"arn:aws-us-gov:bedrock:us-gov-west-1:*:guardrail/gr7x2k9abc"),
        "{doc}"
    );

    // Errors are partition-correct too.
    server.push(Reply::access_denied_model());
    let r = w.run(&["--model", "haiku", "-p", "hi"]);
    r.fails_with(4);
    let e = r.stderr();
    assert!(
        e.contains(&format!(
            "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/{HAIKU}"
        )),
        "{e}"
    );
    assert!(!e.contains("arn:aws:"), "{e}");
    assert!(e.contains("`us-gov-west-1` or `us-gov-east-1`"), "{e}");
}

fn metadata(req: &RecordedRequest) -> Option<Value> {
    req.header("x-amzn-bedrock-request-metadata")
        .map(|m| serde_json::from_str(m).unwrap())
}

#[test]
fn request_metadata_goes_with_every_call_unless_turned_off() {
    let server = server();
    let w = world(&server);
    let first = w.run(&["--model", "haiku", "-p", "hi", "--output-format", "json"]);
    first.ok();
    let session = first.json()["session_id"].as_str().unwrap().to_string();
    w.run(&[
        "--continue",
        "--model",
        "haiku",
        "--no-stream",
        "-p",
        "again",
    ])
    .ok();
    let calls = invocations(&server);
    assert_eq!(calls.len(), 2);
    for call in &calls {
        let m = metadata(call).expect("requestMetadata on every call");
        assert_eq!(m["session_id"], session.as_str(), "{m}");
        assert!(m["project"].as_str().unwrap().ends_with("project"), "{m}");
        assert!(m.get("skill").is_none(), "no skill ran: {m}");
    }

    // While a skill runs, inline or forked, its name goes with the calls.
    w.write(
        ".claude/skills/brief/SKILL.md",
        "---\nmodel: haiku\n---\nWrite a brief.\n",
    );
    w.write(
        ".claude/skills/digest/SKILL.md",
        "---\ncontext: fork\n---\nDigest the notes.\n",
    );
    w.run(&["-p", "/brief"]).ok();
    w.run(&["-p", "/digest"]).ok();
    let calls = invocations(&server);
    for call in &calls[2..] {
        let m = metadata(call).expect("requestMetadata on skill calls");
        assert!(m["skill"] == "brief" || m["skill"] == "digest", "{m}");
    }
    assert_eq!(calls.len(), 4);

    w.run(&["config", "set", "bedrock.request_metadata", "false"])
        .ok();
    w.run(&["--model", "haiku", "-p", "hi"]).ok();
    assert!(metadata(invocations(&server).last().unwrap()).is_none());
}
