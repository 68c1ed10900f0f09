//! Hooks loaded from real settings files through `claude_config::Config`
//! and fired with real commands.

use std::collections::BTreeMap;
use std::path::Path;

use claude_config::LoadOptions;
use serde_json::json;

use super::*;

struct Fixture {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    proj: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let f = Fixture {
            home: root.join("home"),
            proj: root.join("proj"),
            _tmp: tmp,
        };
        std::fs::create_dir_all(f.proj.join(".git")).unwrap();
        std::fs::create_dir_all(&f.home).unwrap();
        f
    }

    fn settings(&self, rel: &str, v: Value) -> &Self {
        let p = match rel.strip_prefix("~/") {
            Some(r) => self.home.join(r),
            None => self.proj.join(rel),
        };
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, v.to_string()).unwrap();
        self
    }

    fn config(&self) -> Config {
        Config::load(&LoadOptions {
            env: BTreeMap::from([
                ("HOME".to_string(), self.home.display().to_string()),
                (
                    "PATH".to_string(),
                    std::env::var("PATH").unwrap_or_default(),
                ),
            ]),
            home: Some(self.home.clone()),
            cwd: self.proj.clone(),
            ..LoadOptions::default()
        })
        .unwrap()
    }

    fn hooks(&self) -> Hooks {
        Hooks::from_config(&self.config())
    }

    fn input(&self) -> HookInput {
        HookInput {
            session_id: "s-1".into(),
            cwd: self.proj.clone(),
            ..HookInput::default()
        }
    }
}

fn group(matcher: &str, command: &str) -> Value {
    json!([{"matcher": matcher, "hooks": [{"type": "command", "command": command}]}])
}

#[test]
fn every_settings_file_merges_and_identical_handlers_run_once() {
    let f = Fixture::new();
    f.settings(
        ".claude/settings.json",
        json!({"hooks": {"PreToolUse": group("Write", "echo project")}}),
    )
    .settings(
        ".claude/settings.local.json",
        json!({"hooks": {"PreToolUse": group("Write", "echo project"), "Stop": group("", "echo local")}}),
    )
    .settings(
        "~/.claude/settings.json",
        json!({"hooks": {"PreToolUse": group("Edit|Write", "echo user")}}),
    );
    let list = f.hooks().list();
    let shown: Vec<(HookEvent, &str, &str)> = list
        .iter()
        .map(|l| (l.event, l.matcher.as_str(), l.command.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (HookEvent::PreToolUse, "Write", "echo project"),
            (HookEvent::Stop, "", "echo local"),
            (HookEvent::PreToolUse, "Edit|Write", "echo user"),
        ]
    );
    // The duplicate is credited to the higher-precedence file (local).
    assert!(list[0].source.ends_with("settings.local.json"), "{list:?}");
    assert_eq!(list[0].timeout_secs, 600);
}

#[test]
fn disable_all_hooks() {
    let f = Fixture::new();
    f.settings(
        ".claude/settings.json",
        json!({"hooks": {"Stop": group("", "echo x")}, "statusLine": {"type": "command", "command": "echo s"}}),
    );
    assert_eq!(f.hooks().list().len(), 1);
    assert!(StatusLine::from_config(&f.config()).unwrap().is_some());
    f.settings(
        ".claude/settings.local.json",
        json!({"disableAllHooks": true}),
    );
    assert!(f.hooks().list().is_empty());
    assert!(StatusLine::from_config(&f.config()).unwrap().is_none());
}

#[test]
fn a_malformed_file_warns_and_the_others_still_load() {
    let f = Fixture::new();
    f.settings(".claude/settings.json", json!({"hooks": {"Stop": "echo"}}))
        .settings(
            "~/.claude/settings.json",
            json!({"hooks": {"Stop": group("", "echo user")}}),
        );
    let hooks = f.hooks();
    assert_eq!(hooks.list().len(), 1);
    let w = hooks.warnings().join("\n");
    assert!(w.contains("settings.json: `Stop` must be a list"), "{w}");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn fire_runs_only_matching_handlers_with_the_event_json() {
    let f = Fixture::new();
    f.settings(
        ".claude/settings.json",
        json!({"hooks": {
            "PreToolUse": [
                {"matcher": "Write", "hooks": [{"type": "command", "command": "cat > write.json"}]},
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "touch bash-ran"}]},
            ],
            "UserPromptSubmit": [{"matcher": "ignored for this event", "hooks": [
                {"type": "command", "command": "echo \"dir=$CLAUDE_PROJECT_DIR\""},
                {"type": "command", "command": "echo second"}
            ]}]
        }}),
    );
    let hooks = f.hooks();
    let input = f
        .input()
        .with("tool_name", "Write")
        .with("tool_input", json!({"file_path": "a.md", "content": "x"}))
        .with("tool_use_id", "toolu_1");
    let o = rt().block_on(hooks.fire(HookEvent::PreToolUse, input));
    assert_eq!(o.ran, 1);
    assert!(!f.proj.join("bash-ran").exists());
    let sent: Value =
        serde_json::from_str(&std::fs::read_to_string(f.proj.join("write.json")).unwrap()).unwrap();
    assert_eq!(sent["hook_event_name"], "PreToolUse");
    assert_eq!(sent["session_id"], "s-1");
    assert_eq!(sent["cwd"], f.proj.display().to_string());
    assert_eq!(sent["tool_name"], "Write");
    assert_eq!(sent["tool_input"]["file_path"], "a.md");
    assert_eq!(sent["tool_use_id"], "toolu_1");

    let o = rt().block_on(hooks.fire(HookEvent::UserPromptSubmit, f.input().with("prompt", "hi")));
    assert_eq!(
        o.additional_context,
        [format!("dir={}", f.proj.display()), "second".to_string()]
    );
    // No handler for this event: nothing runs.
    assert_eq!(rt().block_on(hooks.fire(HookEvent::Stop, f.input())).ran, 0);
}

#[test]
fn handlers_of_one_event_run_concurrently() {
    let f = Fixture::new();
    // Each waits for the other's file: run one after the other, both would
    // time out; run together, both finish.
    let wait_for = |mine: &str, theirs: &str| {
        format!(
            "touch {mine}; i=0; while [ ! -e {theirs} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -e {theirs} ] && echo saw-{theirs}"
        )
    };
    f.settings(
        ".claude/settings.json",
        json!({"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": wait_for("a", "b")},
            {"type": "command", "command": wait_for("b", "a")}
        ]}]}}),
    );
    let o = rt().block_on(
        f.hooks()
            .fire(HookEvent::SessionStart, f.input().with("source", "startup")),
    );
    assert_eq!(o.additional_context, ["saw-b", "saw-a"], "{o:?}");
}

#[test]
fn scoped_and_registered_hooks() {
    let f = Fixture::new();
    f.settings(
        ".claude/settings.json",
        json!({"hooks": {"Stop": group("", "echo base")}}),
    );
    let base = f.hooks();
    let skill = json!({"PostToolUse": [{"matcher": "Write", "hooks": [
        {"type": "command", "command": "echo once", "once": true}
    ]}], "Stop": group("", "echo base")});
    let scoped = base.with_scoped(&skill, "skill daily").unwrap();
    assert_eq!(
        scoped.list().len(),
        2,
        "the identical Stop hook is not added twice"
    );
    assert_eq!(base.list().len(), 1, "the base set is unchanged");
    assert_eq!(scoped.list()[1].source, "skill daily");

    let shared = base.clone();
    assert_eq!(base.register(&skill, "skill daily").unwrap(), 1);
    assert_eq!(shared.list().len(), 2, "clones see registered hooks");
    let fire = |h: &Hooks| {
        rt().block_on(h.fire(HookEvent::PostToolUse, f.input().with("tool_name", "Write")))
    };
    assert_eq!(fire(&shared).ran, 1);
    assert_eq!(fire(&shared).ran, 0, "once: the second fire runs nothing");
    assert_eq!(shared.list().len(), 1);

    let err = base
        .with_scoped(&json!({"Stop": [{"hooks": "x"}]}), "agent reviewer")
        .unwrap_err();
    assert_eq!(err.origin, "agent reviewer");
}

#[test]
fn stdin_json_has_the_common_fields() {
    let input = HookInput {
        session_id: "abc".into(),
        transcript_path: Some(Path::new("/t/abc.jsonl").to_path_buf()),
        cwd: Path::new("/p").to_path_buf(),
        permission_mode: Some("default".into()),
        agent_id: None,
        agent_type: Some("Explore".into()),
        fields: Map::new(),
    }
    .with("stop_hook_active", true);
    assert_eq!(
        input.to_json(HookEvent::SubagentStop),
        json!({
            "session_id": "abc",
            "transcript_path": "/t/abc.jsonl",
            "cwd": "/p",
            "permission_mode": "default",
            "hook_event_name": "SubagentStop",
            "agent_type": "Explore",
            "stop_hook_active": true
        })
    );
}

#[test]
fn the_status_line_prints_its_first_line() {
    let f = Fixture::new();
    f.settings(
        ".claude/settings.json",
        json!({"statusLine": {"type": "command", "padding": 2,
            "command": "grep -o '\"session_id\":\"[^\"]*\"'; echo second line"}}),
    );
    let line = StatusLine::from_config(&f.config()).unwrap().unwrap();
    let out = rt().block_on(line.render(&json!({"session_id": "abc"})));
    assert_eq!(out.unwrap(), "  \"session_id\":\"abc\"");
    f.settings(
        ".claude/settings.json",
        json!({"statusLine": {"type": "static", "text": "x"}}),
    );
    assert!(
        StatusLine::from_config(&f.config())
            .unwrap_err()
            .contains("not supported")
    );
}
