//! Layered configuration for `claude`, with the origin of every value.
//!
//! Sources, highest precedence first: the managed policy, command-line
//! flags, the environment (including the `env` blocks of Claude Code's
//! settings files), the project's `settings.local.json`, `config.toml` and
//! `settings.json`, the user's `config.toml` and `settings.json`, and the
//! built-in defaults. claude's own keys live in `config.toml`; Claude Code's
//! settings files are read so an existing Claude Code setup keeps working.
//!
//! This crate owns reading and writing those files and validating values.
//! It never prints and never looks at the real process environment, home
//! or working directory: all of that comes in through [`LoadOptions`].

mod config;
mod config_toml;
mod error;
mod file_io;
mod kind;
mod layer;
mod options;
mod paths;
mod permissions;
mod policy;
mod registry;
mod secrets;
mod settings;
mod value;
mod write;

pub use config::{Config, FileKind, LoadedFile};
pub use error::ConfigError;
pub use file_io::write_atomically;
pub use options::{FlagValue, LoadOptions, Scope};
pub use paths::{MANAGED_SETTINGS_DIR_VAR, managed_settings_file};
pub use permissions::{MergedPermissions, Sourced};
pub use policy::PolicyOverride;
pub use registry::{describe, key_names, validate};
pub use settings::{SettingsFile, SettingsScope};
pub use value::{Origin, ProviderKind, Resolved, Table, Value};
pub use write::{set_value, unset_value};
