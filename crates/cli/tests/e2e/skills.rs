//! Skills and commands end to end: the real binary against the loopback
//! Bedrock server, each skill on the model its frontmatter names.

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer};
use serde_json::Value;

use crate::common::{World, copy_vault, invocation_bodies, invocations, tool_use};

fn world(server: &BedrockServer) -> World {
    World::bedrock(&server.url())
}

/// The text of a request's last user message.
fn last_user_text(body: &Value) -> String {
    let last = body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user");
    match &last["content"] {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The model ID `--model <alias>` resolves to here, from a dry run.
fn model_id(w: &World, alias: &str) -> String {
    let r = w.run(&["--model", alias, "--dry-run", "-p", "x"]);
    r.ok();
    r.json()["model"]["model_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no model_id in {}", r.stdout()))
        .to_string()
}

/// Audit lines of model invocations.
fn audit_invocations(w: &World) -> Vec<Value> {
    let text = std::fs::read_to_string(w.config_dir().join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "model_invocation")
        .collect()
}

#[test]
fn a_haiku_skill_runs_on_haiku_and_the_session_keeps_its_model() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let haiku = model_id(&w, "haiku");
    let sonnet = model_id(&w, "sonnet");
    assert_ne!(haiku, sonnet);
    w.write(
        ".claude/skills/brief/SKILL.md",
        "---\ndescription: A short brief\nmodel: haiku\n---\nWrite a brief about $ARGUMENTS.\n",
    );
    s.push(Reply::text("The brief."));
    s.push(Reply::text("Back on the session model."));
    let first = w.run(&[
        "--model",
        "sonnet",
        "-p",
        "/brief the roadmap",
        "--output-format",
        "json",
    ]);
    first.ok();
    assert_eq!(first.json()["result"], "The brief.");
    w.run(&["-p", "--continue", "and then?"]).ok();
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].0, haiku, "the skill's request");
    assert_eq!(
        last_user_text(&reqs[0].1),
        "Write a brief about the roadmap."
    );
    assert_eq!(reqs[1].0, sonnet, "the session's next request");
    // The skill's turn is part of the conversation.
    assert_eq!(reqs[1].1["messages"].as_array().unwrap().len(), 3);
    // The books file the skill's request under the skill and its model.
    let audit = audit_invocations(&w);
    assert_eq!(audit[0]["skill"], "brief");
    assert_eq!(audit[0]["purpose"], "skill");
    assert_eq!(audit[0]["model_id"], haiku.as_str());
    assert!(audit[1]["skill"].is_null());
    let by_skill = w.run(&["cost", "skill", "--json"]);
    by_skill.ok();
    assert!(by_skill.stdout().contains("brief"), "{}", by_skill.stdout());
}

#[test]
fn arguments_are_substituted_or_appended() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/skills/fix/SKILL.md",
        "---\narguments: [issue, priority]\n---\nFix $issue ($priority): first $0, all: $ARGUMENTS[1] / $ARGUMENTS. Price \\$5. Session ${CLAUDE_SESSION_ID}.\n",
    );
    w.write(
        ".claude/commands/notes/meeting.md",
        "Create a meeting note from the arguments.\n",
    );
    w.run(&["-p", "/fix \"login page\" high"]).ok();
    w.run(&["-p", "/notes:meeting Design review with Jane Smith"])
        .ok();
    let reqs = invocations(&s);
    let fixed = last_user_text(&reqs[0].1);
    assert!(
        fixed.starts_with(
            "Fix login page (high): first login page, all: high / \"login page\" high. Price $5. Session "
        ),
        "{fixed}"
    );
    assert!(!fixed.contains("${CLAUDE_SESSION_ID}"), "{fixed}");
    assert!(!fixed.contains("ARGUMENTS:"), "{fixed}");
    assert_eq!(
        last_user_text(&reqs[1].1),
        "Create a meeting note from the arguments.\n\nARGUMENTS: Design review with Jane Smith"
    );
}

#[test]
fn dynamic_context_runs_under_the_permission_rules() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/skills/status/SKILL.md",
        "---\nallowed-tools: Bash(echo *)\n---\nToday: !`echo sunny`.\n```!\necho block output\n```\nDone.\n",
    );
    w.write(
        ".claude/skills/risky/SKILL.md",
        "Files: !`rm -rf nothing-here`\n",
    );
    w.write(
        ".claude/skills/failing/SKILL.md",
        "---\nallowed-tools: Bash(false)\n---\nX !`false`\n",
    );
    w.run(&["-p", "/status"]).ok();
    let reqs = invocations(&s);
    assert_eq!(
        last_user_text(&reqs[0].1),
        "Today: sunny.\nblock output\nDone."
    );
    let refused = w.run(&["-p", "/risky"]);
    assert_eq!(refused.code(), 1, "{}", refused.stderr());
    assert!(
        refused.stderr().contains("rm -rf nothing-here"),
        "{}",
        refused.stderr()
    );
    assert!(
        refused.stderr().contains("allowed-tools"),
        "{}",
        refused.stderr()
    );
    let failed = w.run(&["-p", "/failing"]);
    assert_eq!(failed.code(), 1);
    assert!(
        failed.stderr().contains("exit code 1"),
        "{}",
        failed.stderr()
    );
    // Neither reached the model.
    assert_eq!(invocations(&s).len(), 1);
}

#[test]
fn a_forked_skill_runs_without_history_on_its_model() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let haiku = model_id(&w, "haiku");
    w.write(
        ".claude/skills/digest/SKILL.md",
        "---\ncontext: fork\nmodel: haiku\n---\nDigest the notes about $ARGUMENTS.\n",
    );
    s.push(Reply::text("Noted: the project is Alpha."));
    s.push(Reply::text("Digest: Alpha is on track."));
    w.run(&["--model", "sonnet", "-p", "remember: project Alpha"])
        .ok();
    let r = w.run(&[
        "-p",
        "--continue",
        "/digest Alpha",
        "--output-format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json()["result"], "Digest: Alpha is on track.");
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].0, haiku);
    let messages = reqs[1].1["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "no history: {messages:?}");
    assert_eq!(last_user_text(&reqs[1].1), "Digest the notes about Alpha.");
    let audit = audit_invocations(&w);
    assert_eq!(audit[1]["skill"], "digest");
    assert_eq!(audit[1]["purpose"], "subagent");
    assert_eq!(audit[1]["session_id"], audit[0]["session_id"]);
}

#[test]
fn skills_list_and_check_cost_no_tokens() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let haiku = model_id(&w, "haiku");
    w.write(
        ".claude/skills/daily/SKILL.md",
        "---\ncontext: fork\nmodel: haiku\nskill: daily\n---\nWrite today's note.\n",
    );
    w.write(
        ".claude/skills/broken/SKILL.md",
        "---\ndescription: [oops\n---\nStill here.\n",
    );
    let list = w.run(&["skills", "list", "--json"]);
    list.ok();
    let items = list.json();
    let daily = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "daily")
        .unwrap()
        .clone();
    assert_eq!(daily["model_id"], haiku.as_str());
    assert_eq!(daily["context"], "fork");
    let check = w.run(&["skills", "check"]);
    check.ok();
    let out = check.stdout();
    assert!(out.contains(".claude/skills/broken/SKILL.md:2:"), "{out}");
    assert!(
        out.contains(".claude/skills/daily/SKILL.md:4: unknown key `skill`"),
        "{out}"
    );
    assert!(out.contains("0 failures"), "{out}");
    w.write(
        ".claude/skills/bad-model/SKILL.md",
        "---\nmodel: nonsense-model\n---\nx\n",
    );
    w.run(&["skills", "check"]).fails_with(1);
    assert!(invocations(&s).is_empty());
}

#[test]
fn the_vault_runs_each_skill_on_its_model() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    if !copy_vault(&w.cwd) {
        return;
    }
    let haiku = model_id(&w, "haiku");
    let sonnet = model_id(&w, "sonnet");
    let check = w.run(&["skills", "check", "--json"]);
    check.ok();
    let report = check.json();
    assert_eq!(report["skills"], 98, "{report}");
    assert!(
        report["failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert!(!report["warnings"].as_array().unwrap().is_empty());
    assert!(report["agents"].as_u64().unwrap() > 3, "{report}");

    w.write(".claude/config.toml", "[vault]\nnative_q = false\n");
    let cases = [
        ("/daily", &haiku),
        (
            "/meeting Design review with Jane Smith for Project Alpha",
            &haiku,
        ),
        ("/q kafka", &haiku),
        ("/summarize", &sonnet),
        ("/wipe", &sonnet),
    ];
    for (line, expected) in cases {
        let before = invocations(&s).len();
        let r = w.run(&["--model", "sonnet", "-p", line]);
        r.ok();
        let reqs = invocations(&s);
        assert!(reqs.len() > before, "{line}: no request");
        assert_eq!(&reqs[before].0, expected, "{line}");
        if line.starts_with("/meeting") {
            assert!(
                last_user_text(&reqs[before].1)
                    .ends_with("ARGUMENTS: Design review with Jane Smith for Project Alpha"),
                "{line}"
            );
        }
    }
}

#[test]
fn the_model_invokes_skills_through_the_skill_tool() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/skills/adr/SKILL.md",
        "---\ndescription: Write an Architecture Decision Record\n---\nWrite an ADR titled $ARGUMENTS.\n",
    );
    w.write(
        ".claude/skills/commit/SKILL.md",
        "---\ndescription: Commit the work\ndisable-model-invocation: true\n---\nCommit.\n",
    );
    s.push(tool_use(&[
        (
            "s1",
            "Skill",
            serde_json::json!({"skill": "adr", "args": "Adopt GraphQL"}),
        ),
        ("s2", "Skill", serde_json::json!({"skill": "commit"})),
    ]));
    s.push(Reply::text("ADR written."));
    w.run(&["-p", "write an ADR for GraphQL", "--allowedTools", "Skill"])
        .ok();
    let reqs = invocations(&s);
    let tools: Vec<&str> = reqs[0].1["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"Skill"), "{tools:?}");
    let skill_tool = reqs[0].1["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Skill")
        .unwrap()
        .clone();
    let description = skill_tool["description"].as_str().unwrap();
    assert!(
        description.contains("- adr: Write an Architecture Decision Record"),
        "{description}"
    );
    assert!(!description.contains("commit"), "{description}");
    let results = reqs[1].1["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    let first = results[0]["content"].as_str().unwrap();
    assert!(
        first.contains("Write an ADR titled Adopt GraphQL."),
        "{first}"
    );
    assert_eq!(results[1]["is_error"], true);
    assert!(
        results[1]["content"]
            .as_str()
            .unwrap()
            .contains("only be invoked by the user")
    );
}

#[test]
fn the_repl_completes_and_runs_a_skill_on_its_model() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    let haiku = model_id(&w, "haiku");
    let sonnet = model_id(&w, "sonnet");
    w.write(
        ".claude/skills/brief/SKILL.md",
        "---\ndescription: A short brief\nmodel: haiku\n---\nWrite a brief about $ARGUMENTS.\n",
    );
    s.push(Reply::text("The brief is ready."));
    let mut cmd = w.std_cmd();
    cmd.args(["--model", "sonnet"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Ctrl-D exits").unwrap();
    p.exp_string("> ").unwrap();
    // Tab completes `/bri` to `/brief `; the request below shows the line it made.
    p.send("/bri\t").unwrap();
    p.send_line("the plan").unwrap();
    p.exp_string("The brief is ready.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/model").unwrap();
    p.exp_string(&format!("Model: {sonnet}")).unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let reqs = invocations(&s);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].0, haiku);
    assert_eq!(last_user_text(&reqs[0].1), "Write a brief about the plan.");
}

#[test]
fn a_skill_the_model_invokes_grants_its_allowed_tools_for_that_turn_only() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/skills/greet/SKILL.md",
        "---\ndescription: Greets\nallowed-tools: Bash(echo *)\n---\nRun `echo hello`.\n",
    );
    let call = |id: &str, name: &str, input: Value| tool_use(&[(id, name, input)]);
    s.push(call("s1", "Skill", serde_json::json!({"skill": "greet"})));
    s.push(call(
        "b1",
        "Bash",
        serde_json::json!({"command": "echo hello"}),
    ));
    s.push(Reply::text("Greeted."));
    s.push(call(
        "b2",
        "Bash",
        serde_json::json!({"command": "echo again"}),
    ));
    s.push(Reply::text("Not allowed now."));
    w.run(&["-p", "greet me", "--allowedTools", "Skill"]).ok();
    w.run(&["-p", "--continue", "once more", "--allowedTools", "Skill"])
        .ok();
    let reqs = invocation_bodies(&s);
    let result =
        |n: usize| reqs[n]["messages"].as_array().unwrap().last().unwrap()["content"][0].clone();
    assert_ne!(result(2)["is_error"], true, "{}", result(2));
    assert_eq!(result(2)["content"], "hello", "{}", result(2));
    assert_eq!(result(4)["is_error"], true, "{}", result(4));
}
