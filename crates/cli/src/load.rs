//! Gathering the process's inputs for the configuration library.

use std::collections::BTreeMap;
use std::path::PathBuf;

use claude_config::{Config, FlagValue, LoadOptions};

use crate::args::RunArgs;

/// Claude Code's managed policy file on this platform.
fn managed_settings_path() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/ClaudeCode/managed-settings.json")
    } else {
        PathBuf::from("/etc/claude-code/managed-settings.json")
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
    Ok(LoadOptions {
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
        home: std::env::home_dir(),
        cwd: std::env::current_dir()?,
        flags,
        managed_settings: Some(managed_settings_path()),
    })
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
