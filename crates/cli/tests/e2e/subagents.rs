//! Subagents end to end: the loopback server scripts the main agent's
//! `Agent` calls and each subagent's replies (routed by model ID, so
//! concurrent requests get their own whatever their order), and the tests
//! inspect the requests, the tool results, the ledger and stream-json.

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer};
use claude_usage::Ledger;
use serde_json::{Value, json};

use crate::common::{World, invocations, tool_names, tool_use};

const SONNET: &str = "anthropic.claude-3-5-sonnet-20241022-v2:0";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const OPUS: &str = "anthropic.claude-3-opus-20240229-v1:0";

fn world(server: &BedrockServer) -> World {
    World::bedrock(&server.url())
}

/// `(model ID from the path, body)` of every model invocation, in arrival order.
fn on(server: &BedrockServer, model: &str) -> Vec<Value> {
    invocations(server)
        .into_iter()
        .filter(|(m, _)| m == model)
        .map(|(_, b)| b)
        .collect()
}

/// The tool_result for `id` in the last message of a request.
fn tool_result(body: &Value, id: &str) -> Value {
    let last = body["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(last["role"], "user");
    last["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["tool_use_id"] == id)
        .unwrap_or_else(|| panic!("no tool_result for {id} in {last}"))
        .clone()
}

fn system_text(body: &Value) -> String {
    match &body["system"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const RESEARCHER: &str = "---\nname: researcher\ndescription: Finds decisions in the ADRs.\ntools: Read, Grep\nmodel: haiku\n---\nYou are RESEARCHER-BODY: find the decision and quote it.\n";

#[test]
fn an_agent_call_runs_a_custom_agent_on_its_own_model() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(".claude/agents/researcher.md", RESEARCHER);
    w.write("CLAUDE.md", "MEMORY-MARKER: British spelling.\n");
    w.write("adr/ADR-7.md", "# ADR-7\nWe chose Kafka.\n");
    s.push_for_model(
        SONNET,
        tool_use(&[(
            "agent1",
            "Agent",
            json!({"description": "Find the Kafka ADR", "prompt": "Which ADR chose Kafka? Look in adr/.", "subagent_type": "researcher"}),
        )]),
    );
    s.push_for_model(SONNET, Reply::text("The researcher says ADR-7."));
    s.push_for_model(
        HAIKU,
        tool_use(&[("r1", "Read", json!({"file_path": "adr/ADR-7.md"}))]),
    );
    s.push_for_model(HAIKU, Reply::text("ADR-7 chose Kafka."));

    let r = w.run(&[
        "--model",
        "sonnet",
        "-p",
        "PARENT-PROMPT: which ADR?",
        "--output-format",
        "json",
    ]);
    r.ok();
    let v = r.json();
    assert_eq!(v["result"], "The researcher says ADR-7.");
    let session_id = v["session_id"].as_str().unwrap().to_string();

    // The session stays on its model; the subagent's requests go to Haiku.
    let order: Vec<String> = invocations(&s).into_iter().map(|(m, _)| m).collect();
    assert_eq!(order, [SONNET, HAIKU, HAIKU, SONNET]);
    let main = on(&s, SONNET);
    let sub = on(&s, HAIKU);
    assert!(tool_names(&main[0]).contains(&"Agent".to_string()));
    let agent_decl = main[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Agent")
        .unwrap()
        .clone();
    let described = agent_decl["description"].as_str().unwrap();
    assert!(
        described.contains("- researcher: Finds decisions in the ADRs.")
            && described.contains("- Explore: ")
            && described.contains("- general-purpose: "),
        "{described}"
    );

    // No parent history: one user message, the task; its own tools and prompt, plus memory.
    let first = &sub[0]["messages"].as_array().unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].to_string().contains("Which ADR chose Kafka?"));
    assert!(!sub[0].to_string().contains("PARENT-PROMPT"));
    assert_eq!(tool_names(&sub[0]), ["Grep", "Read"]);
    let system = system_text(&sub[0]);
    assert!(system.contains("RESEARCHER-BODY"), "{system}");
    assert!(system.contains("MEMORY-MARKER"), "{system}");
    assert!(
        system.contains(HAIKU),
        "the environment names its model: {system}"
    );
    assert!(
        tool_result(&sub[1], "r1")["content"]
            .to_string()
            .contains("We chose Kafka.")
    );

    // The subagent's final text is the tool result.
    let result = tool_result(&main[1], "agent1");
    assert_eq!(result["content"], "ADR-7 chose Kafka.", "{result}");
    assert!(result.get("is_error").is_none());

    // Ledger: the subagent's rows carry its model, purpose, type and the parent session.
    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.session_id, session_id);
        if row.model_id == HAIKU {
            assert_eq!(row.purpose, "subagent");
            assert_eq!(row.agent_type.as_deref(), Some("researcher"));
            assert_eq!(row.alias.as_deref(), Some("haiku"));
        } else {
            assert_eq!(row.model_id, SONNET);
            assert_eq!(row.purpose, "main");
            assert_eq!(row.agent_type, None);
        }
    }
    assert_eq!(rows.iter().filter(|r| r.model_id == HAIKU).count(), 2);
}

#[test]
fn two_agent_calls_in_one_reply_run_concurrently() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(
        ".claude/agents/auditor.md",
        "---\nname: auditor\ndescription: Audits.\nmodel: opus\n---\nYou audit.\n",
    );
    s.push_for_model(
        SONNET,
        tool_use(&[
            (
                "a",
                "Agent",
                json!({"description": "Explore notes", "prompt": "List the notes.", "subagent_type": "Explore", "model": "haiku"}),
            ),
            (
                "b",
                "Agent",
                json!({"description": "Audit notes", "prompt": "Audit the notes.", "subagent_type": "auditor"}),
            ),
        ]),
    );
    s.push_for_model(SONNET, Reply::text("Both are back."));
    // Each reply is held until the parent's request and both subagents' have
    // arrived: run one after the other, the first would wait for ever.
    s.push_for_model_after(HAIKU, 3, Reply::text("EXPLORE-RESULT"));
    s.push_for_model_after(OPUS, 3, Reply::text("AUDIT-RESULT"));

    let r = w.run(&["--model", "sonnet", "-p", "go", "--output-format", "json"]);
    r.ok();
    assert_eq!(r.json()["result"], "Both are back.");
    let main = on(&s, SONNET);
    assert_eq!(main.len(), 2);
    assert_eq!(tool_result(&main[1], "a")["content"], "EXPLORE-RESULT");
    assert_eq!(tool_result(&main[1], "b")["content"], "AUDIT-RESULT");
    // Explore is read-only; the custom agent has every tool but Agent.
    let explore = &on(&s, HAIKU)[0];
    let tools = tool_names(explore);
    assert!(tools.contains(&"Read".to_string()) && tools.contains(&"Grep".to_string()));
    for t in ["Write", "Edit", "Bash", "Agent", "AskUserQuestion"] {
        assert!(
            !tools.contains(&t.to_string()),
            "Explore has {t}: {tools:?}"
        );
    }
    let auditor = tool_names(&on(&s, OPUS)[0]);
    assert!(auditor.contains(&"Write".to_string()) && auditor.contains(&"Bash".to_string()));
    assert!(!auditor.contains(&"Agent".to_string()), "{auditor:?}");

    let rows = Ledger::open_in(&w.config_dir()).unwrap().all().unwrap();
    let types: Vec<(String, Option<String>)> = rows
        .iter()
        .filter(|r| r.purpose == "subagent")
        .map(|r| (r.model_id.clone(), r.agent_type.clone()))
        .collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&(HAIKU.into(), Some("Explore".into()))));
    assert!(types.contains(&(OPUS.into(), Some("auditor".into()))));
}

#[test]
fn stream_json_marks_subagent_messages_with_the_agent_call() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    w.write(".claude/agents/researcher.md", RESEARCHER);
    w.write("adr/ADR-7.md", "# ADR-7\nWe chose Kafka.\n");
    // `Task` is the Agent tool's old name.
    s.push_for_model(
        SONNET,
        tool_use(&[(
            "toolu_agent",
            "Task",
            json!({"description": "Find it", "prompt": "Find the Kafka ADR.", "subagent_type": "researcher"}),
        )]),
    );
    s.push_for_model(SONNET, Reply::text("Done: ADR-7."));
    s.push_for_model(
        HAIKU,
        tool_use(&[(
            "r1",
            "Grep",
            json!({"pattern": "Kafka", "output_mode": "files_with_matches"}),
        )]),
    );
    s.push_for_model(HAIKU, Reply::text("ADR-7."));

    let r = w.run(&[
        "--model",
        "sonnet",
        "-p",
        "find it",
        "--output-format",
        "stream-json",
    ]);
    r.ok();
    let lines: Vec<Value> = r
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["subtype"], "init");
    assert_eq!(lines.last().unwrap()["type"], "result");
    let messages: Vec<(&str, &Value, String)> = lines
        .iter()
        .filter(|l| l["type"] == "assistant" || l["type"] == "user")
        .map(|l| {
            (
                l["type"].as_str().unwrap(),
                &l["parent_tool_use_id"],
                l["message"]["content"].to_string(),
            )
        })
        .collect();
    let shape: Vec<(&str, Value)> = messages
        .iter()
        .map(|(t, p, _)| (*t, (*p).clone()))
        .collect();
    let sub = json!("toolu_agent");
    assert_eq!(
        shape,
        [
            ("assistant", Value::Null),
            ("user", sub.clone()),
            ("assistant", sub.clone()),
            ("user", sub.clone()),
            ("assistant", sub),
            ("user", Value::Null),
            ("assistant", Value::Null),
        ],
        "{}",
        r.stdout()
    );
    assert!(messages[1].2.contains("Find the Kafka ADR."));
    assert!(messages[3].2.contains("ADR-7.md"), "{}", messages[3].2);
    assert!(messages[5].2.contains("toolu_agent") && messages[5].2.contains("ADR-7."));
    assert!(messages[6].2.contains("Done: ADR-7."));
    let session = lines[0]["session_id"].clone();
    assert!(
        lines
            .iter()
            .filter(|l| l["type"] == "assistant" || l["type"] == "user")
            .all(|l| l["session_id"] == session)
    );
}

#[test]
fn an_unknown_subagent_type_is_an_error_the_model_can_act_on() {
    let s = BedrockServer::start(BedrockOptions::default());
    let w = world(&s);
    s.push(tool_use(&[(
        "x",
        "Agent",
        json!({"description": "d", "prompt": "p", "subagent_type": "nobody"}),
    )]));
    s.push(Reply::text("ok"));
    let r = w.run(&["--model", "sonnet", "-p", "go", "--output-format", "json"]);
    r.ok();
    let main = on(&s, SONNET);
    assert_eq!(main.len(), 2, "no subagent request was made");
    let result = tool_result(&main[1], "x");
    assert_eq!(result["is_error"], true);
    let text = result["content"].to_string();
    assert!(
        text.contains("nobody") && text.contains("general-purpose, Explore, Plan"),
        "{text}"
    );
}
