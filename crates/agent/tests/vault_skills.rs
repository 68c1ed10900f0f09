//! Every skill and command of the ArchitectKB fixture loads, with the
//! frontmatter variants the reference counts (§5.4). Skipped with a notice
//! when `../shared` is absent.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use claude_agent::skills::{Context, SkillSet};

fn vault() -> Option<PathBuf> {
    let shared = std::env::var_os("CLAUDE_SHARED_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let vault = shared.join("fixtures/architectkb");
    if vault.is_dir() {
        Some(vault)
    } else {
        println!("skipping: ../shared not present");
        None
    }
}

#[test]
fn all_98_skills_load_with_their_frontmatter() {
    let Some(vault) = vault() else { return };
    let home = tempfile::tempdir().unwrap();
    let set = SkillSet::load(home.path(), &vault);
    assert_eq!(set.len(), 98, "{:?}", set.warnings);
    let forks = set.iter().filter(|s| s.context == Context::Fork).count();
    assert_eq!(forks, 74);
    let raw = |v: &str| {
        set.iter()
            .filter(|s| s.context_raw.as_deref() == Some(v))
            .count()
    };
    assert_eq!(
        (raw("orchestrate"), raw("current"), raw("normal")),
        (2, 2, 1)
    );
    let models = |m: &str| set.iter().filter(|s| s.model.as_deref() == Some(m)).count();
    assert_eq!(
        (models("opus"), models("haiku"), models("sonnet")),
        (19, 16, 9)
    );
    // `arguments` as a list of objects takes each item's name.
    let with_args: Vec<_> = set.iter().filter(|s| !s.arguments.is_empty()).collect();
    assert_eq!(with_args.len(), 6);
    assert!(
        with_args
            .iter()
            .all(|s| s.arguments.iter().all(|a| !a.contains('{')))
    );
    assert_eq!(set.iter().filter(|s| s.disable_model_invocation).count(), 1);
    assert_eq!(set.iter().filter(|s| !s.user_invocable).count(), 1);
    assert_eq!(set.iter().filter(|s| s.hooks.is_some()).count(), 1);
    for name in ["daily", "meeting", "q", "summarize", "wipe"] {
        assert!(set.get(name).is_some(), "{name}");
    }
    assert_eq!(set.get("daily").unwrap().model.as_deref(), Some("haiku"));
    assert_eq!(set.get("q").unwrap().context, Context::Inline);
    // Every skill has something to show in a list.
    for s in set.iter() {
        assert!(!s.description.is_empty(), "{} has no description", s.name);
    }
    // Warnings name a file and, for frontmatter keys, a line.
    assert!(set.warnings.iter().all(|w| w.path.starts_with(&vault)));
}
