//! The Bedrock provider end to end, against the loopback Bedrock server.

use claude_test_support::bedrock::Reply;
use claude_test_support::{Auth, BedrockOptions, BedrockServer, Operation};

use crate::common::World;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn sigv4_server() -> BedrockServer {
    BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
            region: "us-east-1".into(),
        },
        ..Default::default()
    })
}

/// The model invocations the server saw; the audit log's STS
/// GetCallerIdentity, which goes to the same endpoint, is not one.
fn invocations(server: &BedrockServer) -> Vec<claude_test_support::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| matches!(r.operation, Operation::Invoke | Operation::InvokeStream))
        .collect()
}

/// A world whose AWS credentials come from the environment and whose
/// Bedrock endpoint is the loopback server.
fn world(server: &BedrockServer) -> World {
    let mut w = World::new();
    w.set("AWS_ACCESS_KEY_ID", KEY_ID)
        .set("AWS_SECRET_ACCESS_KEY", SECRET)
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url());
    w.fast_retries();
    w
}

#[test]
fn streams_a_reply_with_the_pinned_body() {
    let server = sigv4_server();
    server.push(Reply::text("Hello from Bedrock, streamed."));
    let w = world(&server);
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hello"]);
    r.ok();
    assert_eq!(r.stdout(), "Hello from Bedrock, streamed.\n");
    let reqs = invocations(&server);
    assert_eq!(reqs.len(), 1, "exactly one HTTP request");
    let req = &reqs[0];
    assert_eq!(req.operation, Operation::InvokeStream);
    assert_eq!(
        req.model_id.as_deref(),
        Some("anthropic.claude-3-haiku-20240307-v1:0")
    );
    let body = req.json.clone().unwrap();
    assert_eq!(body["anthropic_version"], "bedrock-2023-05-31");
    assert_eq!(body["messages"][0]["content"], "hello");
    assert!(body.get("model").is_none() && body.get("stream").is_none());
    assert!(
        req.header("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    );
}

#[test]
fn no_stream_uses_invoke_model() {
    let server = sigv4_server();
    server.push(Reply::text("Hello, all at once."));
    let w = world(&server);
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "haiku",
        "--no-stream",
        "-p",
        "hello",
        "--output-format",
        "json",
    ]);
    r.ok();
    let j = r.json();
    assert_eq!(j["result"], "Hello, all at once.");
    assert_eq!(j["usage"]["input_tokens"], 12);
    assert_eq!(j["usage"]["output_tokens"], 8);
    assert!(j["request_id"].as_str().is_some());
    assert_eq!(invocations(&server)[0].operation, Operation::Invoke);
}

#[test]
fn spec_session_commands_work_in_print_mode() {
    let server = sigv4_server();
    let mut w = world(&server);
    for args in [
        vec!["--provider", "bedrock", "-p", "hi"],
        vec!["--provider", "bedrock", "--model", "haiku", "-p", "hi"],
        vec!["--provider", "bedrock", "--model", "sonnet", "-p", "hi"],
        vec!["--provider", "bedrock", "--model", "opus", "-p", "hi"],
        vec![
            "--provider",
            "bedrock",
            "--model",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "-p",
            "hi",
        ],
    ] {
        let r = w.run(&args);
        r.ok();
        assert!(
            r.stdout().contains("Hello from loopback Bedrock."),
            "{args:?}: {}",
            r.stdout()
        );
    }
    w.set("CLAUDE_PROVIDER", "bedrock");
    w.run(&["-p", "hi"]).ok();
    let ids: Vec<_> = invocations(&server)
        .iter()
        .map(|r| r.model_id.clone().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-opus-20240229-v1:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
        ]
    );
}

#[test]
fn access_denied_gives_the_iam_fix_and_request_id() {
    let server = sigv4_server();
    server.push(Reply::access_denied_model());
    let w = world(&server);
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(4);
    let e = r.stderr();
    for needle in [
        "AccessDeniedException",
        "You don't have access to the model",
        "Model access",
        "bedrock:InvokeModelWithResponseStream",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "us-east-1`, `us-west-2` or `eu-west-1",
        "Request ID: ",
    ] {
        assert!(e.contains(needle), "missing {needle}:\n{e}");
    }
    assert_eq!(
        invocations(&server).len(),
        1,
        "access denied is never retried"
    );

    server.push(Reply::marketplace_denied());
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(4);
    assert!(
        r.stderr().contains("aws-marketplace:Subscribe"),
        "{}",
        r.stderr()
    );
}

#[test]
fn model_not_available_cases() {
    let server = sigv4_server();
    let w = world(&server);
    server.push(Reply::invalid_model());
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "anthropic.claude-3-haiku-20240307-v9:0",
        "-p",
        "hi",
    ]);
    r.fails_with(5);
    assert!(
        r.stderr()
            .contains("aws bedrock list-foundation-models --by-provider anthropic"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr()
            .contains("Did you mean `anthropic.claude-3-haiku-20240307-v1:0`"),
        "{}",
        r.stderr()
    );

    server.push(Reply::on_demand_unsupported(
        "anthropic.claude-sonnet-4-20250514-v1:0",
    ));
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "-p",
        "hi",
    ]);
    r.fails_with(5);
    assert!(
        r.stderr()
            .contains("`us.anthropic.claude-sonnet-4-20250514-v1:0`"),
        "{}",
        r.stderr()
    );

    server.push(Reply::legacy_model());
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(5);
    assert!(
        r.stderr()
            .contains("anthropic.claude-haiku-4-5-20251001-v1:0"),
        "{}",
        r.stderr()
    );
}

#[test]
fn throttling_is_retried_and_announced_then_explained() {
    let server = sigv4_server();
    for _ in 0..3 {
        server.push(Reply::throttling());
    }
    server.push(Reply::text("finally"));
    let w = world(&server);
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.ok();
    assert_eq!(r.stdout(), "finally\n");
    let e = r.stderr();
    assert_eq!(
        e.matches("Bedrock is throttling (ThrottlingException). Retrying in")
            .count(),
        3,
        "{e}"
    );
    for n in 2..=4 {
        assert!(e.contains(&format!("(attempt {n} of 10)")), "{e}");
    }
    assert_eq!(invocations(&server).len(), 4);

    let mut w = world(&server);
    w.set("CLAUDE_CODE_MAX_RETRIES", "2");
    server.push(Reply::throttling());
    server.push(Reply::throttling());
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(6);
    for needle in [
        "Service Quotas",
        "tokens per minute",
        "max_tokens",
        "provisioned throughput",
        "Request ID: ",
    ] {
        assert!(
            r.stderr().contains(needle),
            "missing {needle}:\n{}",
            r.stderr()
        );
    }
}

#[test]
fn mid_stream_exception_before_content_is_retried() {
    let server = sigv4_server();
    server.push(Reply::MidStreamException {
        after_content: false,
        member: "throttlingException".into(),
        message: "Too many tokens, please wait before trying again.".into(),
    });
    server.push(Reply::text("recovered"));
    let w = world(&server);
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.ok();
    assert_eq!(r.stdout(), "recovered\n");
    assert!(r.stderr().contains("throttling"), "{}", r.stderr());
}

#[test]
fn mid_stream_exception_after_content_keeps_the_partial_reply() {
    let server = sigv4_server();
    server.push(Reply::MidStreamException {
        after_content: true,
        member: "internalServerException".into(),
        message: "boom".into(),
    });
    let w = world(&server);
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(9);
    assert!(!r.stdout().is_empty(), "the partial reply stays on stdout");
    assert!(
        r.stderr().contains("incomplete") && r.stderr().contains("internalServerException"),
        "{}",
        r.stderr()
    );
    assert_eq!(
        invocations(&server).len(),
        1,
        "content was shown: no silent retry"
    );
}

#[test]
fn credentials_not_found_lists_sources_never_secrets() {
    let server = sigv4_server();
    let mut w = World::new();
    w.set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url());
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(3);
    let e = r.stderr();
    for needle in [
        "credentials not found",
        "AWS_ACCESS_KEY_ID",
        ".aws/credentials",
        "aws configure",
        "aws sts get-caller-identity",
    ] {
        assert!(e.contains(needle), "missing {needle}:\n{e}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn wrong_secret_is_a_signature_error() {
    let server = sigv4_server();
    let mut w = world(&server);
    w.set("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.fails_with(3);
    assert!(r.stderr().contains("signature"), "{}", r.stderr());
    assert!(!r.stderr().contains("not-the-secret"));
}

#[test]
fn credentials_from_a_profile_file_and_aws_profile() {
    let server = sigv4_server();
    let w0 = World::new();
    let creds = w0.home().join("creds");
    w0.write_abs(
        &creds,
        &format!("[bedrock-profile]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\nregion = us-east-1\n"),
    );
    let missing = w0.home().join("nonexistent");
    let mut w = w0;
    w.set("AWS_SHARED_CREDENTIALS_FILE", creds.display().to_string())
        .set("AWS_CONFIG_FILE", missing.display().to_string())
        .set("AWS_ENDPOINT_URL", server.url())
        .set("AWS_PROFILE", "bedrock-profile");
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "haiku",
        "-p",
        "hi",
        "--verbose",
    ]);
    r.ok();
    assert!(
        r.stderr()
            .contains("region: us-east-1 (from profile `bedrock-profile`"),
        "{}",
        r.stderr()
    );

    // The same profile chosen through config instead of AWS_PROFILE.
    w.env.retain(|(k, _)| k != "AWS_PROFILE");
    w.run(&["config", "set", "bedrock.profile", "bedrock-profile"])
        .ok();
    w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"])
        .ok();

    // And the default ~/.aws/credentials location.
    let w2 = World::new();
    w2.write_abs(
        &w2.home().join(".aws/credentials"),
        &format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
    );
    let mut w2 = w2;
    w2.set("AWS_ENDPOINT_URL", server.url());
    w2.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"])
        .ok();
    assert_eq!(invocations(&server).len(), 3);
}

#[test]
fn session_tokens_are_sent() {
    let server = BedrockServer::start(BedrockOptions {
        auth: Auth::SigV4 {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
            region: "us-east-1".into(),
        },
        ..Default::default()
    });
    let mut w = world(&server);
    w.set("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN");
    w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"])
        .ok();
}

#[test]
fn bearer_token_is_sent_as_authorization_bearer() {
    let server = BedrockServer::start(BedrockOptions {
        auth: Auth::Bearer("bedrock-api-key-EXAMPLE".into()),
        ..Default::default()
    });
    let mut w = World::new();
    w.set("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-EXAMPLE")
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url());
    let r = w.run(&[
        "--provider",
        "bedrock",
        "--model",
        "haiku",
        "-p",
        "hi",
        "--verbose",
    ]);
    r.ok();
    assert!(
        r.stderr().contains("AWS_BEARER_TOKEN_BEDROCK"),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains("bedrock-api-key-EXAMPLE"));
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer bedrock-api-key-EXAMPLE")
    );
}

#[test]
fn custom_endpoints_and_unsigned_gateways() {
    let server = sigv4_server();
    let mut w = world(&server);
    w.env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    w.run(&["config", "set", "bedrock.endpoint_url", &server.url()])
        .ok();
    w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"])
        .ok();
    w.run(&["config", "unset", "bedrock.endpoint_url"]).ok();
    w.set("ANTHROPIC_BEDROCK_BASE_URL", server.url());
    w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"])
        .ok();
    assert_eq!(server.requests().len(), 2);

    let gateway = BedrockServer::start(BedrockOptions {
        auth: Auth::Unsigned,
        ..Default::default()
    });
    let mut w = World::new();
    w.set("CLAUDE_CODE_SKIP_BEDROCK_AUTH", "1")
        .set("ANTHROPIC_BEDROCK_BASE_URL", gateway.url());
    let r = w.run(&["--provider", "bedrock", "--model", "haiku", "-p", "hi"]);
    r.ok();
    assert!(gateway.requests()[0].header("authorization").is_none());
}
