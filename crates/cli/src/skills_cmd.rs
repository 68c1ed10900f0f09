//! `claude skills list|check`: the skills, commands and agents this project
//! loads, and every problem in their files. No model request, no tokens.

use std::path::Path;

use clap::Subcommand;
use claude_agent::Runtime;
use claude_agent::skills::{Context, Kind, Skill, SkillSet, Warning};
use claude_agent::subagents::load_agents;
use claude_config::Config;
use serde_json::json;

use crate::cost_cmd::table;

#[derive(Debug, Subcommand)]
pub enum SkillsCommand {
    /// Each skill and command: name, model and the model ID it resolves to here, context, source file, description.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Every warning in skill, command and agent files, with file and line (exit 1 when a skill cannot run).
    Check {
        #[arg(long)]
        json: bool,
    },
}

/// REPL commands that run instead of a skill of the same name there.
pub const BUILTIN_COMMANDS: [&str; 15] = [
    "help",
    "model",
    "cost",
    "status",
    "wipe",
    "clear",
    "compact",
    "permissions",
    "memory",
    "context",
    "tasks",
    "hooks",
    "skills",
    "exit",
    "quit",
];

pub fn run(cfg: &Config, cmd: SkillsCommand) -> anyhow::Result<i32> {
    let set = SkillSet::load(cfg.user_dir(), cfg.project_root());
    let runtime = Runtime::from_config(cfg).ok();
    match cmd {
        SkillsCommand::List { json } => {
            list(cfg, &set, runtime.as_ref(), json);
            Ok(0)
        }
        SkillsCommand::Check { json } => Ok(check(cfg, &set, runtime.as_ref(), json)),
    }
}

/// The model ID a skill's `model:` becomes under this configuration, or
/// why it cannot be used.
fn resolved(skill: &Skill, runtime: Option<&Runtime>) -> Result<String, String> {
    let Some(runtime) = runtime else {
        return Err("configuration does not load; see `claude doctor`".into());
    };
    match skill.model.as_deref().map(str::trim) {
        None | Some("") => Ok(runtime.model.model_id.clone()),
        Some(m) if m.eq_ignore_ascii_case("inherit") => Ok(runtime.model.model_id.clone()),
        Some(m) => runtime
            .resolve_model(m)
            .map(|r| r.model_id)
            .map_err(|e| e.to_string()),
    }
}

fn context_text(skill: &Skill) -> String {
    match (&skill.context, skill.context_raw.as_deref()) {
        (Context::Fork, _) => "fork".into(),
        (Context::Inline, Some(raw)) if raw != "inline" => format!("inline ({raw})"),
        (Context::Inline, _) => "inline".into(),
    }
}

/// A path relative to the project root, or with `~` for the home folder.
fn shown(path: &Path, cfg: &Config) -> String {
    if let Ok(rel) = path.strip_prefix(cfg.project_root()) {
        return rel.display().to_string();
    }
    if let Some(home) = cfg.env().get("HOME")
        && let Ok(rel) = path.strip_prefix(home)
    {
        return format!("~/{}", rel.display());
    }
    path.display().to_string()
}

fn list(cfg: &Config, set: &SkillSet, runtime: Option<&Runtime>, as_json: bool) {
    if as_json {
        let items: Vec<_> = set
            .iter()
            .map(|s| {
                let model_id = resolved(s, runtime);
                json!({
                    "name": s.name,
                    "kind": match s.kind { Kind::Skill => "skill", Kind::Command => "command" },
                    "scope": s.scope.as_str(),
                    "source": s.source,
                    "model": s.model,
                    "model_id": model_id.as_ref().ok(),
                    "model_error": model_id.as_ref().err(),
                    "context": context_text(s),
                    "agent": s.agent,
                    "description": s.description,
                    "argument_hint": s.argument_hint,
                    "user_invocable": s.user_invocable,
                    "model_invocable": !s.disable_model_invocation,
                    "allowed_tools": s.allowed_tools,
                    "disallowed_tools": s.disallowed_tools,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return;
    }
    if set.is_empty() {
        println!(
            "No skills or commands: none in {} or {}.",
            shown(&cfg.project_root().join(".claude/skills"), cfg),
            cfg.user_dir().join("skills").display()
        );
        return;
    }
    let rows: Vec<Vec<String>> = set
        .iter()
        .map(|s| {
            let mut name = format!("/{}", s.name);
            if !s.user_invocable {
                name.push_str(" (model only)");
            }
            if s.disable_model_invocation {
                name.push_str(" (user only)");
            }
            let model = s.model.clone().unwrap_or_else(|| "inherit".into());
            let id = resolved(s, runtime).unwrap_or_else(|e| format!("error: {e}"));
            let mut description: String = s.description.chars().take(60).collect();
            if s.description.chars().count() > 60 {
                description.push('…');
            }
            vec![
                name,
                model,
                id,
                context_text(s),
                shown(&s.source, cfg),
                description,
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "Skill",
                "Model",
                "Model ID",
                "Context",
                "Source",
                "Description"
            ],
            &rows,
            &[]
        )
    );
    println!(
        "{} skills and commands ({} run as subagents).",
        set.len(),
        set.iter().filter(|s| s.context == Context::Fork).count()
    );
}

fn check(cfg: &Config, set: &SkillSet, runtime: Option<&Runtime>, as_json: bool) -> i32 {
    let (agents, agent_warnings) = load_agents(cfg.user_dir(), cfg.project_root());
    let mut warnings: Vec<Warning> = set.warnings.clone();
    warnings.extend(agent_warnings);
    for (lost, won) in &set.shadowed {
        warnings.push(Warning::new(
            lost,
            None,
            format!("not used: {} has the same name and wins", shown(won, cfg)),
        ));
    }
    for s in set.iter() {
        if BUILTIN_COMMANDS.contains(&s.name.as_str()) {
            warnings.push(Warning::new(
                &s.source,
                None,
                format!(
                    "`/{}` is also a built-in command: in the REPL the built-in runs; `claude -p /{}` and the Skill tool run this skill",
                    s.name, s.name
                ),
            ));
        }
    }
    let mut failures: Vec<Warning> = Vec::new();
    for s in set.iter() {
        if let Err(e) = resolved(s, runtime) {
            failures.push(Warning::new(
                &s.source,
                None,
                format!(
                    "`model: {}` cannot be used: {e}",
                    s.model.as_deref().unwrap_or("")
                ),
            ));
        }
        if s.context == Context::Fork {
            let agent = s.agent.as_deref().unwrap_or("general-purpose");
            if !agents.iter().any(|a| a.name == agent) {
                failures.push(Warning::new(
                    &s.source,
                    None,
                    format!("`agent: {agent}` is not a subagent type here"),
                ));
            }
        }
    }
    warnings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    if as_json {
        let item = |w: &Warning| json!({"file": w.path, "line": w.line, "message": w.message});
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "skills": set.len(),
                "agents": agents.len(),
                "warnings": warnings.iter().map(item).collect::<Vec<_>>(),
                "failures": failures.iter().map(item).collect::<Vec<_>>(),
            }))
            .unwrap_or_default()
        );
    } else {
        for w in &warnings {
            println!("warning: {}", display(w, cfg));
        }
        for f in &failures {
            println!("error: {}", display(f, cfg));
        }
        println!(
            "{} skills and commands, {} agents: {} warning{}, {} failure{}.",
            set.len(),
            agents.len(),
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" },
            failures.len(),
            if failures.len() == 1 { "" } else { "s" },
        );
    }
    i32::from(!failures.is_empty())
}

fn display(w: &Warning, cfg: &Config) -> String {
    match w.line {
        Some(line) => format!("{}:{line}: {}", shown(&w.path, cfg), w.message),
        None => format!("{}: {}", shown(&w.path, cfg), w.message),
    }
}
