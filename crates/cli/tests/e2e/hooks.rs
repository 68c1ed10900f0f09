//! Hooks and the status line end to end: settings files with real shell
//! hooks, the real binary, and the loopback Bedrock server scripting the
//! model's `tool_use` replies.

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer};
use serde_json::{Value, json};

use crate::common::{World, invocation_bodies as invocations, last_user_blocks, tool_use};

fn world(server: &BedrockServer) -> World {
    let mut w = World::bedrock(&server.url());
    w.set("TERM", "dumb");
    w
}

/// `.claude/settings.json` with these hooks.
fn hooks(w: &World, hooks: Value) {
    w.write(
        ".claude/settings.json",
        &json!({ "hooks": hooks }).to_string(),
    );
}

fn command(matcher: &str, command: &str) -> Value {
    json!([{"matcher": matcher, "hooks": [{"type": "command", "command": command}]}])
}

fn read_json(w: &World, rel: &str) -> Value {
    let text = std::fs::read_to_string(w.cwd.join(rel)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}: {text}"))
}

fn run(w: &World, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["--model", "haiku", "-p", "go", "--output-format", "json"];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn a_pre_tool_use_hook_that_exits_2_blocks_write() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    hooks(
        &w,
        json!({"PreToolUse": command(
            "Edit|Write",
            "cat > pre.json; echo 'Decisions/ is append-only: add a new ADR instead' >&2; exit 2"
        )}),
    );
    s.push(tool_use(&[(
        "w1",
        "Write",
        json!({"file_path": "Decisions/ADR-1.md", "content": "overwritten"}),
    )]));
    s.push(Reply::text("Understood."));
    // acceptEdits would allow the write: only the hook stops it.
    let r = run(&w, &["--permission-mode", "acceptEdits"]);
    r.ok();
    assert!(!w.cwd.join("Decisions/ADR-1.md").exists());
    let result = &last_user_blocks(&s, 1)[0];
    assert_eq!(result["tool_use_id"], "w1");
    assert_eq!(result["is_error"], true);
    let content = result["content"].to_string();
    assert!(
        content.contains("PreToolUse hook denied this Write call")
            && content.contains("Decisions/ is append-only"),
        "{content}"
    );
    assert_eq!(r.json()["permission_denials"][0]["tool_use_id"], "w1");
    let input = read_json(&w, "pre.json");
    assert_eq!(input["hook_event_name"], "PreToolUse");
    assert_eq!(input["tool_name"], "Write");
    assert_eq!(input["tool_use_id"], "w1");
    assert_eq!(input["tool_input"]["file_path"], "Decisions/ADR-1.md");
    assert_eq!(input["permission_mode"], "acceptEdits");
    assert!(
        input["session_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(
        input["transcript_path"]
            .as_str()
            .is_some_and(|p| p.ends_with(".jsonl")),
        "{input}"
    );
}

#[test]
fn a_pre_tool_use_hook_rewrites_the_input() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let answer = json!({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "allow",
        "permissionDecisionReason": "inbox notes are always fine",
        "updatedInput": {"file_path": "+Inbox/note.md", "content": "from the hook\n"}
    }});
    hooks(
        &w,
        // printf, not echo: dash's echo would turn the JSON's `\n` into a newline.
        json!({"PreToolUse": command("Write", &format!("printf '%s' '{answer}'"))}),
    );
    s.push(tool_use(&[(
        "w1",
        "Write",
        json!({"file_path": "note.md", "content": "from the model\n"}),
    )]));
    s.push(Reply::text("Saved."));
    // Print mode would deny a Write it has to ask about; the hook's allow answers.
    run(&w, &[]).ok();
    let result = &last_user_blocks(&s, 1)[0];
    assert!(result.get("is_error").is_none(), "{result}");
    assert_eq!(
        std::fs::read_to_string(w.cwd.join("+Inbox/note.md")).unwrap(),
        "from the hook\n"
    );
    assert!(!w.cwd.join("note.md").exists());
    assert!(
        result["content"].to_string().contains("note.md"),
        "{result}"
    );
}

#[test]
fn session_start_and_user_prompt_submit_output_reaches_the_request() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let json_context = json!({"hookSpecificOutput": {
        "hookEventName": "UserPromptSubmit",
        "additionalContext": "Vault: ArchitectKB"
    }});
    hooks(
        &w,
        json!({
            "SessionStart": command("startup", "echo 'branch: main'"),
            "UserPromptSubmit": [{"hooks": [
                {"type": "command", "command": "cat > prompt.json; echo 'Today is hook-day.'"},
                {"type": "command", "command": format!("echo '{json_context}'")}
            ]}]
        }),
    );
    s.push(Reply::text("Hello."));
    run(&w, &[]).ok();
    let first = &invocations(&s)[0]["messages"][0];
    let text = first["content"].to_string();
    for needle in [
        "go",
        "branch: main",
        "Today is hook-day.",
        "Vault: ArchitectKB",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert_eq!(first["content"][0]["text"], "go", "the prompt comes first");
    let input = read_json(&w, "prompt.json");
    assert_eq!(input["hook_event_name"], "UserPromptSubmit");
    assert_eq!(input["prompt"], "go");
}

#[test]
fn a_user_prompt_submit_hook_that_exits_2_drops_the_prompt() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    hooks(
        &w,
        json!({"UserPromptSubmit": command("", "echo 'the prompt contains an AWS secret key' >&2; exit 2")}),
    );
    let r = run(&w, &[]);
    r.fails_with(1);
    assert!(invocations(&s).is_empty(), "nothing was sent");
    assert!(
        r.stderr().contains("the prompt contains an AWS secret key"),
        "{}",
        r.stderr()
    );
    assert_eq!(r.json()["error"]["code"], "hook_stopped");
}

#[test]
fn the_vaults_deprecated_shapes_are_honoured() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write("notes/a.md", "# A\n");
    hooks(
        &w,
        json!({
            // file-protection.py's answer.
            "PreToolUse": command("Edit|Write", r#"echo '{"decision": "block", "reason": "protected file"}'"#),
            // frontmatter-validator.py's answer.
            "PostToolUse": command("Read", r#"echo '{"additionalContext": "frontmatter: `created` is missing"}'"#)
        }),
    );
    s.push(tool_use(&[
        ("r1", "Read", json!({"file_path": "notes/a.md"})),
        (
            "e1",
            "Edit",
            json!({"file_path": "notes/a.md", "old_string": "# A", "new_string": "# B"}),
        ),
    ]));
    s.push(Reply::text("ok"));
    run(&w, &["--permission-mode", "acceptEdits"]).ok();
    assert_eq!(
        std::fs::read_to_string(w.cwd.join("notes/a.md")).unwrap(),
        "# A\n"
    );
    let results = last_user_blocks(&s, 1);
    let read = results[0]["content"].to_string();
    assert!(
        read.contains("# A") && read.contains("frontmatter: `created` is missing"),
        "{read}"
    );
    assert_eq!(results[1]["is_error"], true);
    assert!(
        results[1]["content"].to_string().contains("protected file"),
        "{results:?}"
    );
}

#[test]
fn a_stop_hook_makes_the_model_continue_once() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    // A well-written Stop hook: it lets the model stop when it already sent it back.
    let script = r#"input=$(cat); echo "$input" >> stops.jsonl
case "$input" in *'"stop_hook_active":true'*) exit 0 ;; esac
echo 'Run the link checker before you finish.' >&2; exit 2"#;
    w.write(".claude/hooks/stop.sh", script);
    hooks(&w, json!({"Stop": command("", "sh .claude/hooks/stop.sh")}));
    s.push(Reply::text("Done."));
    s.push(Reply::text("Links checked. Done."));
    let r = run(&w, &[]);
    r.ok();
    let v = r.json();
    assert_eq!(v["result"], "Links checked. Done.");
    assert_eq!(v["num_turns"], 2);
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 2);
    let feedback = last_user_blocks(&s, 1)[0]["text"].to_string();
    assert!(
        feedback.contains("Stop hook feedback") && feedback.contains("Run the link checker"),
        "{feedback}"
    );
    let fires: Vec<Value> = std::fs::read_to_string(w.cwd.join("stops.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(fires.len(), 2);
    assert_eq!(fires[0]["hook_event_name"], "Stop");
    assert_eq!(fires[0]["stop_hook_active"], false);
    assert_eq!(fires[0]["last_assistant_message"], "Done.");
    assert_eq!(fires[1]["stop_hook_active"], true);
}

#[test]
fn a_hook_that_times_out_never_loses_the_turn() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/settings.json",
        &json!({"hooks": {"UserPromptSubmit": [{"hooks": [
            {"type": "command", "command": "sleep 30", "timeout": 1}
        ]}]}})
        .to_string(),
    );
    s.push(Reply::text("Still here."));
    let r = run(&w, &[]);
    r.ok();
    assert_eq!(r.json()["result"], "Still here.");
    assert!(
        r.stderr()
            .contains("UserPromptSubmit hook `sleep 30` timed out after 1s"),
        "{}",
        r.stderr()
    );
}

#[test]
fn the_status_line_shows_before_the_prompt_and_hooks_are_listed() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/settings.json",
        &json!({
            "statusLine": {"type": "command",
                "command": "printf 'STATUS '; grep -o '\"display_name\":\"[^\"]*\"'; echo ignored"},
            "hooks": {"PostToolUse": command("Edit|Write", "python3 .claude/hooks/format.py")}
        })
        .to_string(),
    );
    s.push(Reply::text("First answer."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "haiku"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Ctrl-D exits").unwrap();
    p.exp_string("STATUS \"display_name\":\"Claude 3 Haiku\"")
        .unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("hello").unwrap();
    p.exp_string("First answer.").unwrap();
    // Refreshed after the turn.
    p.exp_string("STATUS \"display_name\"").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/hooks").unwrap();
    p.exp_string("PostToolUse").unwrap();
    p.exp_string("Edit|Write").unwrap();
    p.exp_string("python3 .claude/hooks/format.py").unwrap();
    p.exp_string("settings.json").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn user_prompt_submit_sees_a_skill_as_typed_and_can_stop_it_before_it_runs() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/skills/brief/SKILL.md",
        "---\nallowed-tools: Bash(touch *)\n---\nRan: !`touch ran.txt`\nWrite a brief about $ARGUMENTS.\n",
    );
    hooks(
        &w,
        json!({"UserPromptSubmit": [{"hooks": [{"type": "command",
            "command": "cat > prompt.json; echo 'Context for the brief.'"}]}]}),
    );
    s.push(Reply::text("Brief."));
    w.run(&["-p", "/brief the plan"]).ok();
    assert_eq!(read_json(&w, "prompt.json")["prompt"], "/brief the plan");
    let first = invocations(&s)[0]["messages"][0]["content"].to_string();
    assert!(first.contains("Write a brief about the plan."), "{first}");
    assert!(first.contains("Context for the brief."), "{first}");

    std::fs::remove_file(w.cwd.join("ran.txt")).unwrap();
    hooks(
        &w,
        json!({"UserPromptSubmit": [{"hooks": [{"type": "command",
            "command": "echo 'no briefs today' >&2; exit 2"}]}]}),
    );
    let r = w.run(&["-p", "/brief the plan"]);
    assert_ne!(r.code(), 0);
    assert!(r.stderr().contains("no briefs today"), "{}", r.stderr());
    assert!(
        !w.cwd.join("ran.txt").exists(),
        "the skill's command must not run"
    );
    assert_eq!(invocations(&s).len(), 1);
}
