//! Effective values, the layer each one came from, and the provider choice.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::ConfigError;

/// A validated configuration value. Kept to a handful of shapes so that
/// every consumer can match on it without knowing the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(u64),
    Num(f64),
    Bool(bool),
    List(Vec<f64>),
    /// Named rows of named numbers, e.g. `pricing.overrides`: model ID →
    /// field → USD per million tokens.
    Table(Table),
}

/// The shape of [`Value::Table`].
pub type Table = BTreeMap<String, BTreeMap<String, f64>>;

/// Prints the value the way a user would type it on the command line, so
/// `/status` output can be pasted back into `claude config set`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                for (i, n) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{n}")?;
                }
                Ok(())
            }
            // JSON, the form `claude config set` accepts back.
            Value::Table(rows) => {
                let json: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .map(|(name, fields)| {
                        let fields = fields
                            .iter()
                            .map(|(k, n)| (k.clone(), json_number(*n)))
                            .collect();
                        (name.clone(), serde_json::Value::Object(fields))
                    })
                    .collect();
                write!(f, "{}", serde_json::Value::Object(json))
            }
        }
    }
}

/// Whole numbers without `.0`, as a person would write them.
fn json_number(n: f64) -> serde_json::Value {
    const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() < EXACT_INT {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Value::from(n)
    }
}

/// A key's effective value and the layer that supplied it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub key: &'static str,
    pub value: Value,
    pub origin: Origin,
}

/// Where an effective value (or environment variable) came from, so users in
/// locked-down environments can see which layer to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    Flag(String),
    Env(String),
    /// A variable supplied by the `env` block of a Claude Code settings file
    /// rather than by the process environment.
    SettingsEnv {
        var: String,
        file: PathBuf,
    },
    File(PathBuf),
    Managed(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::SettingsEnv { var, file } => {
                write!(f, "env {var} (from {})", file.display())
            }
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Managed(path) => write!(f, "managed {}", path.display()),
        }
    }
}

impl Origin {
    /// The thing a user would go and edit, as named inside error messages
    /// ("… (from CLAUDE_PROVIDER)").
    pub(crate) fn source_label(&self) -> String {
        match self {
            Origin::Default => "the built-in default".to_owned(),
            Origin::Flag(flag) => flag.clone(),
            Origin::Env(var) => var.clone(),
            Origin::SettingsEnv { var, file } => format!("{var} (env in {})", file.display()),
            Origin::File(path) => path.display().to_string(),
            Origin::Managed(path) => format!("managed policy {}", path.display()),
        }
    }

    /// The concrete next step for a bad value from this origin.
    pub(crate) fn fix_hint(&self, key: &str) -> String {
        match self {
            Origin::Default => {
                format!("The built-in default for `{key}` is invalid; please report this bug.")
            }
            Origin::Flag(flag) => format!("Pass a valid value to {flag}."),
            Origin::Env(var) => format!("Set {var} to a valid value, or unset it."),
            Origin::SettingsEnv { var, file } => format!(
                "Fix `{var}` in the `env` block of {}, or override it by exporting {var}.",
                file.display()
            ),
            Origin::File(path) => format!("Fix or remove `{key}` in {}.", path.display()),
            Origin::Managed(path) => format!(
                "`{key}` comes from the managed policy {}; ask your administrator to correct it.",
                path.display()
            ),
        }
    }
}

/// The API that serves model requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Anthropic,
    Bedrock,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 2] = [ProviderKind::Anthropic, ProviderKind::Bedrock];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Bedrock => "bedrock",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        ProviderKind::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ConfigError::UnknownProvider {
                value: s.to_owned(),
                origin: None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_display_as_typed() {
        assert_eq!(
            Value::List(vec![50.0, 80.0, 100.0]).to_string(),
            "50,80,100"
        );
        assert_eq!(Value::List(vec![12.5]).to_string(), "12.5");
        assert_eq!(Value::Num(250.0).to_string(), "250");
        assert_eq!(Value::Int(10).to_string(), "10");
        assert_eq!(Value::Bool(false).to_string(), "false");
        assert_eq!(Value::Str("eu-west-1".into()).to_string(), "eu-west-1");
        let table = Value::Table(BTreeMap::from([(
            "m".to_owned(),
            BTreeMap::from([("input".to_owned(), 3.0), ("output".to_owned(), 16.5)]),
        )]));
        assert_eq!(table.to_string(), r#"{"m":{"input":3,"output":16.5}}"#);
    }

    #[test]
    fn origins_display_for_status() {
        assert_eq!(Origin::Default.to_string(), "default");
        assert_eq!(
            Origin::Flag("--provider".into()).to_string(),
            "flag --provider"
        );
        assert_eq!(
            Origin::Env("CLAUDE_PROVIDER".into()).to_string(),
            "env CLAUDE_PROVIDER"
        );
        let settings_env = Origin::SettingsEnv {
            var: "ANTHROPIC_MODEL".into(),
            file: "/p/.claude/settings.json".into(),
        };
        assert_eq!(
            settings_env.to_string(),
            "env ANTHROPIC_MODEL (from /p/.claude/settings.json)"
        );
        assert_eq!(
            settings_env.source_label(),
            "ANTHROPIC_MODEL (env in /p/.claude/settings.json)"
        );
        assert_eq!(
            Origin::File("/p/.claude/config.toml".into()).to_string(),
            "/p/.claude/config.toml"
        );
        assert_eq!(
            Origin::Managed("/etc/claude-code/managed-settings.json".into()).to_string(),
            "managed /etc/claude-code/managed-settings.json"
        );
    }

    #[test]
    fn provider_parses_case_insensitively_and_lists_all() {
        assert_eq!(
            "Bedrock".parse::<ProviderKind>().unwrap(),
            ProviderKind::Bedrock
        );
        assert_eq!(
            " anthropic ".parse::<ProviderKind>().unwrap(),
            ProviderKind::Anthropic
        );
        assert_eq!(ProviderKind::Bedrock.to_string(), "bedrock");
        let names: Vec<_> = ProviderKind::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["anthropic", "bedrock"]);
    }

    #[test]
    fn unknown_provider_is_an_error_listing_valid_ones() {
        let err = "vertex".parse::<ProviderKind>().unwrap_err();
        assert!(
            matches!(err, ConfigError::UnknownProvider { ref value, origin: None } if value == "vertex")
        );
        assert!(
            err.to_string()
                .contains("valid providers: anthropic, bedrock")
        );
    }
}
