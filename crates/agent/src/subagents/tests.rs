use std::path::{Path, PathBuf};

use super::defs::{AgentDef, builtin_agents, load_agents, parse_agent};
use crate::tools::Tool;
use crate::tools::agent::AgentTool;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn frontmatter_fields_are_read() {
    let text = "---\nname: reviewer\ndescription: Reviews designs for risk.\ntools: Read, Grep, Bash(git log *)\ndisallowedTools: [Write]\nmodel: haiku\npermissionMode: plan\nmaxTurns: 5\nhooks:\n  Stop:\n    - hooks:\n        - type: command\n          command: echo done\ncolor: blue\n---\n\nYou review designs.\n";
    let (def, warnings) = parse_agent(Path::new("/a/reviewer.md"), text);
    assert!(warnings.is_empty(), "{warnings:?}");
    let def = def.unwrap();
    assert_eq!(def.name, "reviewer");
    assert_eq!(def.description, "Reviews designs for risk.");
    assert_eq!(
        def.tools.as_deref(),
        Some(&["Read".to_string(), "Grep".into(), "Bash".into()][..])
    );
    assert_eq!(def.disallowed_tools, ["Write"]);
    assert_eq!(def.model.as_deref(), Some("haiku"));
    assert_eq!(def.permission_mode.as_deref(), Some("plan"));
    assert_eq!(def.max_turns, Some(5));
    assert_eq!(def.prompt, "You review designs.");
    assert!(def.hooks.unwrap()["Stop"].is_array());
    assert_eq!(def.source.as_deref(), Some(Path::new("/a/reviewer.md")));
}

#[test]
fn a_file_without_frontmatter_takes_name_and_description_from_its_text() {
    let text = "# Knowledge Linker Agent\n\n## Purpose\n\nAnalyse a note's content\nand suggest links.\n\n## Tools\n\nRead\n";
    let (def, warnings) = parse_agent(Path::new("/x/knowledge-linker.md"), text);
    let def = def.unwrap();
    assert_eq!(def.name, "knowledge-linker");
    assert_eq!(
        def.description,
        "Analyse a note's content and suggest links."
    );
    assert_eq!(def.prompt, text.trim());
    assert_eq!(def.tools, None);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("no frontmatter"),
        "{warnings:?}"
    );
    assert_eq!(warnings[0].path, Path::new("/x/knowledge-linker.md"));
}

#[test]
fn bad_yaml_and_bad_values_are_warnings_with_lines() {
    let (def, warnings) = parse_agent(
        Path::new("/x/broken.md"),
        "---\nname: broken\ndescription: [unclosed\nmodel: haiku\n---\nbody\n",
    );
    assert!(def.is_none());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].line.is_some_and(|l| (3..=5).contains(&l)));
    assert!(warnings[0].to_string().starts_with("/x/broken.md:"));

    let (def, warnings) = parse_agent(
        Path::new("/x/odd.md"),
        "---\nname: odd\ndescription: d\npermissionMode: yolo\nmaxTurns: many\ntools: \"*\"\n---\nbody\n",
    );
    let def = def.unwrap();
    assert_eq!(def.permission_mode, None);
    assert_eq!(def.max_turns, None);
    assert_eq!(def.tools, None, "`*` is every tool");
    let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(4), Some(5)], "{warnings:?}");
}

#[test]
fn project_agents_override_user_agents_and_built_ins_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("user");
    let project = tmp.path().join("project");
    write(
        &user,
        "agents/reviewer.md",
        "---\nname: reviewer\ndescription: user one\n---\nU\n",
    );
    write(
        &user,
        "agents/solo.md",
        "---\nname: solo\ndescription: only here\n---\nS\n",
    );
    write(
        &project,
        ".claude/agents/team/reviewer.md",
        "---\nname: reviewer\ndescription: project one\nmodel: haiku\n---\nP\n",
    );
    write(
        &project,
        ".claude/agents/broken.md",
        "---\nname: [\n---\nB\n",
    );
    write(&project, ".claude/agents/notes.txt", "not an agent");
    let (agents, warnings) = load_agents(&user, &project);
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["general-purpose", "Explore", "Plan", "reviewer", "solo"]
    );
    let reviewer = agents.iter().find(|a| a.name == "reviewer").unwrap();
    assert_eq!(reviewer.description, "project one");
    assert_eq!(reviewer.model.as_deref(), Some("haiku"));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].path.ends_with("broken.md"));
}

#[test]
fn built_ins_explore_and_plan_are_read_only_and_skip_memory() {
    let all = builtin_agents();
    let get = |n: &str| all.iter().find(|a| a.name == n).unwrap().clone();
    let gp = get("general-purpose");
    assert_eq!(gp.tools, None);
    assert!(!gp.skips_memory());
    let read_only: Vec<String> = crate::tools::builtin()
        .iter()
        .filter(|t| t.read_only())
        .map(|t| t.name().to_string())
        .collect();
    for name in ["Explore", "Plan"] {
        let d = get(name);
        assert!(d.skips_memory());
        for t in d.tools.unwrap() {
            assert!(read_only.contains(&t), "{name}: {t}");
        }
    }
    // A file that overrides a built-in name is the user's agent in full.
    let custom = AgentDef {
        source: Some(PathBuf::from("/p/Explore.md")),
        ..get("Explore")
    };
    assert!(!custom.skips_memory());
}

#[test]
fn the_agent_tool_lists_the_types_within_its_budget() {
    let mut agents = builtin_agents();
    for i in 0..100 {
        agents.push(AgentDef {
            name: format!("custom-{i:03}"),
            description: "x".repeat(1000),
            source: Some(PathBuf::from("/p")),
            ..builtin_agents().remove(0)
        });
    }
    let tool = AgentTool::new(&agents);
    let d = tool.description();
    assert!(d.contains("- general-purpose: ") && d.contains("- Explore: "));
    assert!(d.len() < 8_000, "{}", d.len());
    assert!(d.contains("more: "), "the rest are named");
    assert!(d.contains("custom-099"));
    assert_eq!(tool.name(), "Agent");
    assert!(tool.read_only());
    assert_eq!(
        tool.key_arg(&serde_json::json!({"subagent_type": "Explore", "description": "Find ADRs"})),
        "Explore: Find ADRs"
    );
}

/// Every agent of the ArchitectKB fixture loads: it has no frontmatter, so
/// its name is the file name and its description the first paragraph.
#[test]
fn every_fixture_agent_loads() {
    let shared = std::env::var_os("CLAUDE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let vault = shared.join("fixtures/architectkb");
    let dir = vault.join(".claude/agents");
    if !dir.is_dir() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: {} is absent", dir.display());
        }
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let (agents, warnings) = load_agents(empty.path(), &vault);
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    assert_eq!(warnings.len(), files.len(), "{warnings:#?}");
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy();
        let def = agents
            .iter()
            .find(|a| a.source.as_deref() == Some(f.as_path()))
            .unwrap_or_else(|| panic!("{} not loaded", f.display()));
        assert_eq!(def.name, stem);
        assert!(
            def.description.len() > 20 && !def.description.starts_with('#'),
            "{}: {}",
            def.name,
            def.description
        );
        assert!(def.prompt.starts_with('#'), "{}", def.name);
        assert!(
            warnings
                .iter()
                .any(|w| &w.path == f && w.message.contains("no frontmatter"))
        );
    }
    let linker = agents
        .iter()
        .find(|a| a.name == "knowledge-linker")
        .unwrap();
    assert!(
        linker.description.starts_with("Analyse a note's content"),
        "{}",
        linker.description
    );
}
