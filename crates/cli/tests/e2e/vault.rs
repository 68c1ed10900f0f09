//! `claude vault …` and the native `/q`, on a copy of the architectkb fixture.

use std::path::Path;

use claude_test_support::{BedrockOptions, BedrockServer};

use crate::common::{World, copy_vault};

/// A world whose project is a copy of the fixture vault, or `None` when `../shared` is absent.
fn vault_world() -> Option<World> {
    let w = World::new();
    copy_vault(&w.cwd).then_some(w)
}

fn q_paths(w: &World, query: &str) -> Vec<String> {
    let run = w.run(&["vault", "q", query, "--json", "--limit", "100"]);
    run.ok();
    let mut v: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn index_then_query_type_and_status() {
    let Some(w) = vault_world() else { return };
    let run = w.run(&["vault", "index"]);
    run.ok();
    assert!(run.stdout().contains("vault.db"), "{}", run.stdout());
    assert!(w.cwd.join(".data/vault.db").exists());
    let run = w.run(&["vault", "q", "type:Adr status:proposed"]);
    run.ok();
    let rows = run.stdout().lines().filter(|l| l.contains(".md |")).count();
    assert_eq!(rows, 1, "{}", run.stdout());
    assert!(
        run.stdout()
            .contains("| ADR - Adopt GraphQL for API Layer |"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        q_paths(&w, "type:Adr status:proposed"),
        ["ADRs/ADR - Adopt GraphQL for API Layer.md"]
    );
    // Case-insensitive values: `ADR` and `Adr` notes both answer type:adr.
    let adrs = q_paths(&w, "type:adr");
    assert!(adrs.len() > 3, "{adrs:?}");
    assert_eq!(
        q_paths(&w, "type:Adr status:proposed technology/graphql"),
        ["ADRs/ADR - Adopt GraphQL for API Layer.md"]
    );
    assert!(q_paths(&w, "kafka").contains(&"System - Sample Data Integration Platform.md".into()));
    assert!(
        q_paths(&w, "backlinks:\"Project - API Gateway Modernisation\"")
            .contains(&"ADRs/ADR - Adopt GraphQL for API Layer.md".into())
    );
    // Stats and check answer as JSON.
    let stats = w.run(&["vault", "stats", "--json"]);
    stats.ok();
    assert!(stats.json()["notes"].as_i64().unwrap() > 100);
    let check = w.run(&["vault", "check", "--json"]);
    assert!(!check.json()["broken_links"].as_array().unwrap().is_empty());
}

#[test]
fn edits_new_and_deleted_notes_reach_the_next_query() {
    let Some(w) = vault_world() else { return };
    w.run(&["vault", "index"]).ok();
    w.write(
        "ADRs/ADR - Standardize on PostgreSQL.md",
        "---\ntype: Adr\nstatus: proposed\n---\nPostgres everywhere.\n",
    );
    w.write(
        "New Note.md",
        "---\ntype: Adr\nstatus: proposed\n---\nzyxwvu fresh words\n",
    );
    std::fs::remove_file(w.cwd.join("ADRs/ADR - Adopt GraphQL for API Layer.md")).unwrap();
    assert_eq!(
        q_paths(&w, "type:Adr status:proposed"),
        ["ADRs/ADR - Standardize on PostgreSQL.md", "New Note.md"]
    );
    assert_eq!(q_paths(&w, "zyxwvu"), ["New Note.md"]);
    // --no-refresh answers from the index as it is.
    w.write("Another.md", "---\ntype: Adr\nstatus: proposed\n---\nx\n");
    let run = w.run(&[
        "vault",
        "q",
        "type:Adr status:proposed",
        "--json",
        "--no-refresh",
    ]);
    assert_eq!(run.json().as_array().unwrap().len(), 2);
}

fn sqlite(db: &Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("-markdown")
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every statement of `.claude/skills/q/SKILL.md`, placeholders filled, runs unchanged.
#[test]
fn the_skill_sql_runs_on_the_index() {
    let Some(w) = vault_world() else { return };
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("skipping: sqlite3 CLI not installed");
        return;
    }
    w.run(&["vault", "index"]).ok();
    let skill = std::fs::read_to_string(w.cwd.join(".claude/skills/q/SKILL.md")).unwrap();
    let statements: Vec<&str> = skill
        .split("sqlite3 .data/vault.db -markdown \"")
        .skip(1)
        .map(|s| s.split("\"\n```").next().unwrap())
        .collect();
    assert_eq!(statements.len(), 6);
    let db = w.cwd.join(".data/vault.db");
    let fill = |s: &str| {
        s.replace("<search_terms>", "kafka")
            .replace("<Type>", "Adr")
            .replace("<tag>", "technology/graphql")
            .replace("<days>", "36500")
            .replace("<note_name>", "Project - API Gateway Modernisation")
    };
    let out: Vec<String> = statements.iter().map(|s| sqlite(&db, &fill(s))).collect();
    assert!(
        out[0].contains("System - Sample Data Integration Platform.md"),
        "{}",
        out[0]
    );
    assert!(
        out[0].contains("→Kafka←") || out[0].contains("→kafka←"),
        "{}",
        out[0]
    );
    assert!(
        out[1].contains("ADRs/ADR - Adopt GraphQL for API Layer.md"),
        "{}",
        out[1]
    );
    assert!(
        out[1].lines().all(|l| !l.contains("Templates/")),
        "{}",
        out[1]
    );
    assert!(
        out[2].contains("ADRs/ADR - Adopt GraphQL for API Layer.md"),
        "{}",
        out[2]
    );
    assert!(out[3].lines().count() > 20, "{}", out[3]);
    assert!(
        out[4].contains("ADRs/ADR - Adopt GraphQL for API Layer.md"),
        "{}",
        out[4]
    );
    assert!(
        !out[5].contains("Project - API Gateway Modernisation.md"),
        "{}",
        out[5]
    );
    assert!(out[5].lines().count() > 2, "{}", out[5]);
}

#[test]
fn print_mode_q_needs_no_model() {
    let Some(mut w) = vault_world() else { return };
    let server = BedrockServer::start(BedrockOptions::default());
    w.set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .set(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url())
        .set("CLAUDE_PROVIDER", "bedrock");
    let run = w.run(&["-p", "/q kafka"]);
    run.ok();
    assert!(
        run.stdout()
            .contains("System - Sample Data Integration Platform.md"),
        "{}",
        run.stdout()
    );
    assert!(
        server.requests().is_empty(),
        "no request may reach the model"
    );
    // The transcript records the prompt and the local answer.
    let projects = w.config_dir().join("projects");
    let mut found = false;
    for dir in std::fs::read_dir(&projects).unwrap().flatten() {
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let text = std::fs::read_to_string(f.path()).unwrap();
            found |= text.contains("native:/q") && text.contains("/q kafka");
        }
    }
    assert!(found, "transcript records /q");
    // vault.native_q = false hands /q back to the model.
    w.write(".claude/config.toml", "[vault]\nnative_q = false\n");
    let _ = w.run(&["-p", "/q kafka"]);
    assert!(!server.requests().is_empty());
}

#[test]
fn repl_q_needs_no_model_and_status_says_so() {
    let Some(mut w) = vault_world() else { return };
    let server = BedrockServer::start(BedrockOptions::default());
    w.set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .set(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .set("AWS_REGION", "us-east-1")
        .set("AWS_ENDPOINT_URL", server.url())
        .set("CLAUDE_PROVIDER", "bedrock")
        .set("NO_COLOR", "1")
        .set("TERM", "dumb");
    let mut p = rexpect::session::spawn_command(w.std_cmd(), Some(20_000)).unwrap();
    p.exp_string("Ctrl-D exits").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/q type:Adr status:proposed").unwrap();
    p.exp_string("ADR - Adopt GraphQL for API Layer |").unwrap();
    p.exp_string("1 note").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("/status").unwrap();
    p.exp_string("/q: native").unwrap();
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert!(
        server.requests().is_empty(),
        "no request may reach the model"
    );
}

/// Usage errors exit 2, as README's exit-code table says; no fixture needed.
#[test]
fn usage_errors_exit_2() {
    let w = World::new();
    let run = w.run(&["vault", "index", "no-such-vault"]);
    run.fails_with(2);
    assert!(
        run.stderr().contains("is not a directory"),
        "{}",
        run.stderr()
    );
    w.run(&["vault", "q", "\"unclosed"]).fails_with(2);
    w.run(&["vault", "q", "recent:x"]).fails_with(2);
    w.run(&["vault", "q"]).fails_with(2);
    // A bad query fails before any indexing: no index was created for it.
    assert!(!w.cwd.join(".data").exists());
}

/// Three `claude` processes on a new vault at once (two builds and a query, as from three
/// terminals): none fails, one builds, the others find the index up to date. No fixture needed.
#[test]
fn concurrent_processes_share_one_index() {
    let w = World::new();
    for i in 0..1500 {
        w.write(
            &format!("d{}/Note {i}.md", i % 10),
            &format!(
                "---\ntype: Adr\n---\nKafka {i}. [[Note {}]]\n{}\n",
                (i + 1) % 1500,
                "Streams and events. ".repeat(20)
            ),
        );
    }
    let spawn = |args: &[&str]| {
        w.std_cmd()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let runs = [
        spawn(&["vault", "index", "--json"]),
        spawn(&["vault", "index", "--json"]),
        spawn(&["vault", "q", "kafka", "--json", "--limit", "5"]),
    ];
    let outs: Vec<_> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut added: Vec<u64> = outs[..2]
        .iter()
        .map(|o| {
            let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            report["added"].as_u64().unwrap()
        })
        .collect();
    added.sort();
    assert_eq!(added, [0, 1500]);
    let hits: serde_json::Value = serde_json::from_slice(&outs[2].stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 5);
    let stats = w.run(&["vault", "stats", "--json"]);
    stats.ok();
    assert_eq!(stats.json()["notes"], 1500);
    assert_eq!(stats.json()["broken_links"], 0);
}
