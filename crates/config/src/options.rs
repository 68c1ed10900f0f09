//! What the caller hands in. The library never reads the process
//! environment, the home directory or the working directory itself, so a
//! test (or an embedding) controls everything from here.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The process environment.
    pub env: BTreeMap<String, String>,
    pub home: Option<PathBuf>,
    /// Absolute; the project root is searched for from here upwards.
    pub cwd: PathBuf,
    pub flags: Vec<FlagValue>,
    /// Claude Code's `managed-settings.json`; a missing file means no policy.
    pub managed_settings: Option<PathBuf>,
}

/// A command-line flag that sets a configuration key, e.g. `--region`
/// setting `bedrock.region`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValue {
    pub key: String,
    pub value: String,
    /// As typed, for origins and errors: `--provider`.
    pub flag: String,
}

/// Which of claude's own config files `set_value`/`unset_value` edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Project,
}
