//! Sessions end to end: the REPL driven through a pseudo-terminal, print
//! mode's JSON, transcripts, --continue/--resume and the provider lock.

use std::time::Duration;

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer, Usage};
use rexpect::session::PtySession;

use crate::common::{World, invocation_bodies as invocations};

fn world(server: &BedrockServer) -> World {
    let mut w = World::bedrock(&server.url());
    w.set("TERM", "dumb");
    w
}

fn repl(w: &World, args: &[&str]) -> PtySession {
    let mut cmd = w.std_cmd();
    cmd.args(args);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Ctrl-D exits").unwrap();
    p
}

fn prompt(p: &mut PtySession, line: &str) {
    p.exp_string("> ").unwrap();
    p.send_line(line).unwrap();
}

fn exit(mut p: PtySession) {
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn two_turns_carry_the_conversation() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::text("First answer."));
    s.push(Reply::text("Second answer."));
    let w = world(&s);
    let mut p = repl(&w, &["--model", "haiku"]);
    prompt(&mut p, "first question");
    p.exp_string("First answer.").unwrap();
    prompt(&mut p, "second question");
    p.exp_string("Second answer.").unwrap();
    exit(p);
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 2);
    let msgs = reqs[1]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["content"], "first question");
    assert_eq!(msgs[1]["content"][0]["text"], "First answer.");
    assert_eq!(msgs[2]["content"], "second question");
}

#[test]
fn ctrl_c_cancels_the_reply_not_the_session() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::Slow {
        per_event: Duration::from_millis(300),
        text: "one two three four five six seven eight nine ten eleven twelve".into(),
    });
    s.push(Reply::text("After the interruption."));
    let w = world(&s);
    let mut p = repl(&w, &["--model", "haiku"]);
    prompt(&mut p, "long story");
    p.exp_string("one two").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    prompt(&mut p, "go on");
    p.exp_string("After the interruption.").unwrap();
    exit(p);
    let reqs = invocations(&s);
    let msgs = reqs[1]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let partial = msgs[1]["content"][0]["text"].as_str().unwrap();
    assert!(
        partial.starts_with("one two") && partial.contains("incomplete"),
        "{partial}"
    );
}

#[test]
fn model_switch_and_cost_follow_the_server_usage() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::Text {
        text: "on haiku".into(),
        usage: Usage {
            input: 1000,
            output: 2000,
            cache_read: 0,
            cache_write: 0,
        },
    });
    s.push(Reply::Text {
        text: "on opus".into(),
        usage: Usage {
            input: 3000,
            output: 500,
            cache_read: 0,
            cache_write: 0,
        },
    });
    let w = world(&s);
    let mut p = repl(&w, &["--model", "haiku"]);
    prompt(&mut p, "hi");
    p.exp_string("on haiku").unwrap();
    prompt(&mut p, "/model opus");
    p.exp_string("Model: anthropic.claude-3-opus-20240229-v1:0")
        .unwrap();
    prompt(&mut p, "hi again");
    p.exp_string("on opus").unwrap();
    prompt(&mut p, "/cost");
    // Haiku: 1000 × $0.25/M + 2000 × $1.25/M = $0.00275; Opus: 3000 × $15/M + 500 × $75/M = $0.0825.
    p.exp_string("anthropic.claude-3-haiku-20240307-v1:0")
        .unwrap();
    p.exp_string("$0.002750").unwrap();
    p.exp_string("anthropic.claude-3-opus-20240229-v1:0")
        .unwrap();
    p.exp_string("$0.082500").unwrap();
    p.exp_string("Total").unwrap();
    p.exp_string("$0.085250").unwrap();
    exit(p);
    let ids: Vec<_> = s
        .requests()
        .iter()
        .filter_map(|r| r.model_id.clone())
        .collect();
    assert_eq!(
        ids,
        [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-opus-20240229-v1:0"
        ]
    );
}

#[test]
fn wipe_leaves_only_the_summary() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::text("The capital is Paris."));
    s.push(Reply::text(
        "SUMMARY: user asked about the capital of France; answer Paris.",
    ));
    s.push(Reply::text("Fresh answer."));
    let w = world(&s);
    let mut p = repl(&w, &["--model", "haiku"]);
    prompt(&mut p, "capital of France?");
    p.exp_string("Paris.").unwrap();
    prompt(&mut p, "/wipe");
    p.exp_string("Context cleared").unwrap();
    prompt(&mut p, "what next?");
    p.exp_string("Fresh answer.").unwrap();
    exit(p);
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 3);
    let summary_req = reqs[1]["messages"].as_array().unwrap();
    assert!(
        summary_req
            .last()
            .unwrap()
            .to_string()
            .contains("handoff summary")
    );
    let after = reqs[2]["messages"].as_array().unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    let text = after[0].to_string();
    assert!(
        text.contains("SUMMARY: user asked") && text.contains("what next?"),
        "{text}"
    );
    assert!(!text.contains("capital of France?"), "{text}");
}

#[test]
fn unknown_commands_suggest_near_matches() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let mut p = repl(&w, &[]);
    prompt(&mut p, "/cots");
    p.exp_string("Did you mean /cost?").unwrap();
    prompt(&mut p, "/status");
    p.exp_string("region: us-east-1").unwrap();
    p.exp_string("context: ").unwrap();
    exit(p);
    assert!(invocations(&s).is_empty());
}

#[test]
fn continue_and_resume_restore_the_conversation() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::text("Noted: the project is Alpha."));
    s.push(Reply::text("It is Alpha."));
    s.push(Reply::text("Still Alpha."));
    let w = world(&s);
    let first = w.run(&["-p", "remember: project Alpha", "--output-format", "json"]);
    first.ok();
    let id = first.json()["session_id"].as_str().unwrap().to_string();
    w.run(&["-p", "--continue", "which project?"]).ok();
    let reqs = invocations(&s);
    assert_eq!(reqs[1]["messages"].as_array().unwrap().len(), 3);

    let mut p = repl(&w, &["--resume", &id[..8]]);
    prompt(&mut p, "and now?");
    p.exp_string("Still Alpha.").unwrap();
    exit(p);
    let reqs = invocations(&s);
    assert_eq!(reqs[2]["messages"].as_array().unwrap().len(), 5);

    let list = w.run(&["sessions"]);
    list.ok();
    assert!(list.stdout().contains(&id), "{}", list.stdout());
}

#[test]
fn a_session_keeps_its_provider() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.run(&["-p", "hello"]).ok();
    let r = w.run(&["--provider", "anthropic", "-p", "--continue", "hi"]);
    r.fails_with(2);
    assert!(
        r.stderr().contains("cannot switch providers mid-session"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("claude --provider anthropic"),
        "{}",
        r.stderr()
    );
}

#[test]
fn kill_9_mid_stream_loses_nothing_shown() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::Slow {
        per_event: Duration::from_millis(300),
        text: "alpha beta gamma delta epsilon zeta eta theta iota kappa".into(),
    });
    s.push(Reply::text("Resumed fine."));
    let w = world(&s);
    let mut child = w
        .std_cmd()
        .args(["-p", "tell me"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    while !String::from_utf8_lossy(&seen).contains("gamma") {
        use std::io::Read;
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let shown = String::from_utf8_lossy(&seen).to_string();
    let r = w.run(&["-p", "--continue", "continue please"]);
    r.ok();
    assert!(r.stdout().contains("Resumed fine."));
    let reqs = invocations(&s);
    let msgs = reqs[1]["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["content"], "tell me");
    let kept = msgs[1]["content"][0]["text"].as_str().unwrap();
    assert!(
        kept.starts_with(shown.trim_end()),
        "kept {kept:?}, shown {shown:?}"
    );
}

#[test]
fn print_json_follows_the_documented_schema() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::Text {
        text: "Schema check.".into(),
        usage: Usage {
            input: 100,
            output: 10,
            cache_read: 0,
            cache_write: 0,
        },
    });
    let w = world(&s);
    let r = w.run(&["--model", "haiku", "-p", "hi", "--output-format", "json"]);
    r.ok();
    let v = r.json();
    assert_eq!(v["type"], "result");
    assert_eq!(v["subtype"], "success");
    assert_eq!(v["is_error"], false);
    assert_eq!(v["result"], "Schema check.");
    assert_eq!(v["num_turns"], 1);
    assert!(v["session_id"].as_str().unwrap().len() == 36);
    assert!(v["duration_ms"].is_u64());
    assert_eq!(v["usage"]["input_tokens"], 100);
    assert_eq!(v["usage"]["output_tokens"], 10);
    let expected = 100.0 * 0.25 / 1e6 + 10.0 * 1.25 / 1e6;
    assert!(
        (v["total_cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{v}"
    );

    let r = w.run(&[
        "--model",
        "haiku",
        "-p",
        "hi",
        "--output-format",
        "stream-json",
        "--include-partial-messages",
    ]);
    r.ok();
    let lines: Vec<serde_json::Value> = r
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["subtype"], "init");
    assert!(lines.iter().any(|l| l["type"] == "stream_event"));
    assert!(lines.iter().any(|l| l["type"] == "assistant"));
    assert_eq!(lines.last().unwrap()["type"], "result");
}

#[test]
fn older_turns_are_summarised_before_the_window_overflows() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::text("First answer."));
    s.push(Reply::text("SUMMARY-OF-EARLIER-TURNS"));
    s.push(Reply::text("Second answer."));
    let mut w = world(&s);
    // 1% of Claude 3 Haiku's window: about 1,959 tokens.
    w.set("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "1");
    let long = "lorem ipsum ".repeat(1000);
    w.run(&["--model", "haiku", "-p", &long]).ok();
    let r = w.run(&["--model", "haiku", "-p", "--continue", "and now?"]);
    r.ok();
    assert!(
        r.stderr().contains("older turns were summarised"),
        "{}",
        r.stderr()
    );
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 3);
    let last = reqs[2]["messages"].as_array().unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    let text = last[0].to_string();
    assert!(
        text.contains("SUMMARY-OF-EARLIER-TURNS")
            && text.contains("and now?")
            && !text.contains("lorem"),
        "{text}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    let s = BedrockServer::start(BedrockOptions::default());
    s.push(Reply::text("line one\nline two\n"));
    let w = world(&s);
    let mut child = w
        .std_cmd()
        .args(["-p", "hi", "--output-format", "stream-json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the reply arrives: every write then fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
