//! `/name args` and stacked `/a /b args`: which skills a line invokes, and
//! what each one sends once its placeholders are filled and its commands run.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::args::{Substitutions, expand};
use super::shell::{ShellError, run_dynamic_context};
use super::{Context, Skill, SkillSet};
use crate::permissions::Permissions;

/// Claude Code loads at most one skill plus five stacked ones per line.
const MAX_STACK: usize = 6;

/// One skill of an invocation, ready to run.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// The content with placeholders filled and commands' output in place.
    pub content: String,
    /// The skill's `model:` as written (an alias, an ID, `inherit`).
    pub model: Option<String>,
    pub context: Context,
    /// The subagent type for a forked skill.
    pub agent: Option<String>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
    pub hooks: Option<Value>,
    pub source: std::path::PathBuf,
}

/// What one line asks for: its skills in order, and the text it was typed as.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub line: String,
    pub arguments: String,
    pub steps: Vec<Step>,
}

impl Invocation {
    pub fn names(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("/{}", s.name))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("/{skill}: {source}")]
    Shell {
        skill: String,
        #[source]
        source: ShellError,
    },
}

/// The skills a line names, and the argument text after them. `None` when
/// the line does not start with a user-invocable skill.
pub fn parse_line<'a>(line: &str, set: &'a SkillSet) -> Option<(Vec<&'a Skill>, String)> {
    let mut rest = line.trim_start();
    let mut skills = Vec::new();
    while skills.len() < MAX_STACK {
        let Some(after_slash) = rest.strip_prefix('/') else {
            break;
        };
        let end = after_slash
            .find(char::is_whitespace)
            .unwrap_or(after_slash.len());
        let Some(skill) = set.get(&after_slash[..end]).filter(|s| s.user_invocable) else {
            break;
        };
        skills.push(skill);
        rest = after_slash[end..].trim_start();
    }
    (!skills.is_empty()).then(|| (skills, rest.trim_end().to_string()))
}

/// Where an invocation runs, for its placeholders and commands.
pub struct InvokeEnv<'a> {
    pub session_id: &'a str,
    pub project_dir: &'a Path,
    pub cwd: &'a Path,
    pub env: &'a HashMap<String, String>,
    /// The session's permissions, before the skill's own rules; without
    /// them (no tool loop) no command runs.
    pub permissions: Option<&'a Permissions>,
}

/// Fills each skill's placeholders and runs its dynamic context; the first
/// failing command aborts the whole invocation.
pub async fn prepare(
    line: &str,
    skills: &[&Skill],
    arguments: &str,
    at: &InvokeEnv<'_>,
) -> Result<Invocation, InvokeError> {
    let mut steps = Vec::with_capacity(skills.len());
    for skill in skills {
        let dir = skill.dir.display().to_string();
        let project = at.project_dir.display().to_string();
        let content = expand(
            &skill.body,
            &Substitutions {
                arguments,
                names: &skill.arguments,
                session_id: at.session_id,
                skill_dir: &dir,
                project_dir: &project,
            },
        );
        let permissions = at.permissions.map(|p| {
            p.scoped(
                &skill.allowed_tools,
                &skill.disallowed_tools,
                &skill.source.display().to_string(),
            )
            .0
        });
        let mut env = at.env.clone();
        env.insert("CLAUDE_PROJECT_DIR".into(), project.clone());
        let content = run_dynamic_context(&content, permissions.as_ref(), at.cwd, &env)
            .await
            .map_err(|source| InvokeError::Shell {
                skill: skill.name.clone(),
                source,
            })?;
        steps.push(Step {
            name: skill.name.clone(),
            content,
            model: skill.model.clone(),
            context: skill.context.clone(),
            agent: skill.agent.clone(),
            allowed_tools: skill.allowed_tools.clone(),
            disallowed_tools: skill.disallowed_tools.clone(),
            hooks: skill.hooks.clone(),
            source: skill.source.clone(),
        });
    }
    Ok(Invocation {
        line: line.to_string(),
        arguments: arguments.to_string(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(root: &Path) -> SkillSet {
        for (name, text) in [
            ("a", "---\nmodel: haiku\n---\nA with $ARGUMENTS\n"),
            ("b", "B body\n"),
            ("hidden", "---\nuser-invocable: false\n---\nH\n"),
        ] {
            let p = root.join(".claude/skills").join(name).join("SKILL.md");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        SkillSet::load(&root.join("home"), root)
    }

    #[test]
    fn stacked_skills_and_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let set = set(dir.path());
        let (skills, args) = parse_line("/a /b  fix \"the thing\" ", &set).unwrap();
        let names: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(args, "fix \"the thing\"");
        let (skills, args) = parse_line("/b /unknown x", &set).unwrap();
        assert_eq!(skills.len(), 1);
        assert_eq!(args, "/unknown x");
        assert!(parse_line("/nope", &set).is_none());
        assert!(parse_line("/hidden", &set).is_none());
        assert!(parse_line("plain text /a", &set).is_none());
    }
}
