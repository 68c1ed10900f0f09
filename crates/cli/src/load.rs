//! Gathering the process's inputs for the configuration library.

use std::collections::BTreeMap;
use std::path::PathBuf;

use claude_config::{Config, FlagValue, LoadOptions, Origin};

use crate::args::RunArgs;

/// The directory of Claude Code's managed policy on this platform.
fn managed_settings_dir() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/ClaudeCode")
    } else {
        PathBuf::from("/etc/claude-code")
    }
}

pub fn options(run: &RunArgs) -> anyhow::Result<LoadOptions> {
    let mut flags = Vec::new();
    let mut flag = |key: &str, value: &Option<String>, name: &str| {
        if let Some(v) = value {
            flags.push(FlagValue {
                key: key.into(),
                value: v.clone(),
                flag: name.into(),
            });
        }
    };
    flag("provider", &run.provider, "--provider");
    flag("model", &run.model, "--model");
    flag("bedrock.region", &run.region, "--region");
    let env = std::env::vars().collect::<BTreeMap<_, _>>();
    let cwd = std::env::current_dir()?;
    let managed = claude_config::managed_settings_file(&managed_settings_dir(), &env, &cwd);
    Ok(LoadOptions {
        env,
        home: std::env::home_dir(),
        cwd,
        flags,
        managed_settings: Some(managed),
    })
}

/// Holds a run to the managed policy. A flag the policy overrides is
/// refused, since the run would not do what was asked; an environment
/// variable it overrides is ignored with a warning, since such variables
/// are often set for other tools too. Both messages name the policy file.
pub fn enforce_policy(cfg: &Config) -> Result<(), String> {
    for o in cfg.overridden_by_policy() {
        let value = cfg
            .get(o.key)
            .ok()
            .flatten()
            .map(|r| r.value.to_string())
            .unwrap_or_default();
        let decided = format!(
            "the managed policy {} sets {} = {value}",
            o.policy.display(),
            o.key
        );
        match &o.attempted {
            Origin::Flag(flag) => {
                return Err(format!(
                    "{flag} is refused: {decided}. Run without {flag}, or ask your administrator to change the policy."
                ));
            }
            Origin::Env(var) => eprintln!("claude: warning: {var} is ignored: {decided}."),
            _ => {}
        }
    }
    Ok(())
}

/// Makes the `env` blocks of Claude Code settings files real environment
/// variables, as Claude Code does, so the AWS SDK and child processes see
/// them. Variables already set in the process win.
#[allow(unsafe_code)]
pub fn apply_settings_env(cfg: &Config) {
    for (k, v) in cfg.env() {
        if std::env::var_os(k).is_none() {
            // SAFETY: called from `main` before the async runtime or any
            // other thread exists, so nothing reads the environment concurrently.
            unsafe { std::env::set_var(k, v) };
        }
    }
}
