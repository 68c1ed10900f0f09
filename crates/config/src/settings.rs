//! Claude Code's `settings.json` family. claude reads them so that a project
//! set up for Claude Code behaves the same here; only `model`, `env` and
//! `permissions` are interpreted now, and every other key is kept raw for
//! the features that will need it (hooks, status line, ...).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::error::ConfigError;
use crate::file_io::read_optional;
use crate::layer::Layer;
use crate::registry::Raw;
use crate::value::Origin;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsScope {
    Managed,
    Local,
    Project,
    User,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsFile {
    pub path: PathBuf,
    pub scope: SettingsScope,
    pub json: Map<String, Json>,
}

impl SettingsFile {
    /// Returns the text too, for locating keys in later error messages.
    pub(crate) fn read(
        path: &Path,
        scope: SettingsScope,
    ) -> Result<Option<(SettingsFile, String)>, ConfigError> {
        let Some(text) = read_optional(path)? else {
            return Ok(None);
        };
        let parse_error = |line, column, message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        // Claude Code treats an empty file as `{}`; so do we.
        let json = if text.trim().is_empty() {
            Json::Object(Map::new())
        } else {
            serde_json::from_str(&text).map_err(|e| {
                let message = e.to_string();
                let position = format!(" at line {} column {}", e.line(), e.column());
                let message = message.strip_suffix(&position).unwrap_or(&message);
                parse_error(e.line(), e.column(), message.to_owned())
            })?
        };
        let Json::Object(json) = json else {
            return Err(parse_error(
                1,
                1,
                "settings must be a JSON object".to_owned(),
            ));
        };
        let file = SettingsFile {
            path: path.to_path_buf(),
            scope,
            json,
        };
        Ok(Some((file, text)))
    }

    pub(crate) fn origin(&self) -> Origin {
        match self.scope {
            SettingsScope::Managed => Origin::Managed(self.path.clone()),
            _ => Origin::File(self.path.clone()),
        }
    }

    /// The `model` setting, the only configuration key a settings file sets
    /// directly (its `env` block feeds keys through the environment layer).
    pub(crate) fn layer(&self) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        if let Some(model) = self.json.get("model") {
            layer.put("model", json_raw(model), self.origin())?;
        }
        Ok(layer)
    }

    /// The `env` block. Numbers and booleans are accepted as their text,
    /// since hand-written settings often say `"CLAUDE_CODE_USE_BEDROCK": 1`.
    pub(crate) fn env(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let Some(env) = self.json.get("env") else {
            return Ok(Vec::new());
        };
        let Json::Object(vars) = env else {
            return Err(self.invalid(
                "env",
                json_kind(env),
                "expected an object mapping variable names to string values",
            ));
        };
        vars.iter()
            .map(|(var, value)| match value {
                Json::String(s) => Ok((var.clone(), s.clone())),
                Json::Number(_) | Json::Bool(_) => Ok((var.clone(), value.to_string())),
                // The value is not echoed: env blocks routinely hold credentials.
                _ => Err(self.invalid(
                    &format!("env.{var}"),
                    json_kind(value),
                    "environment values must be strings",
                )),
            })
            .collect()
    }

    pub(crate) fn invalid(&self, key: &str, value: &str, reason: &str) -> ConfigError {
        ConfigError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
            origin: Some(self.origin()),
        }
    }
}

/// Describes a JSON value by its type, for errors that must not echo it.
pub(crate) fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "(null)",
        Json::Bool(_) => "(a boolean)",
        Json::Number(_) => "(a number)",
        Json::String(_) => "(a string)",
        Json::Array(_) => "(an array)",
        Json::Object(_) => "(an object)",
    }
}

pub(crate) fn json_raw(value: &Json) -> Raw {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Json::Array(items) => Raw::List(items.iter().map(text).collect()),
        Json::Object(_) => Raw::Table {
            json: value.clone(),
            shown: value.to_string(),
            what: "an object",
        },
        Json::Null => Raw::Unsupported {
            shown: "null".to_owned(),
            what: "null",
        },
        scalar => Raw::Text(text(scalar)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::fs;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        fs::write(&path, text).unwrap();
        (tmp, path)
    }

    fn read(text: &str) -> Result<SettingsFile, ConfigError> {
        let (_tmp, path) = write(text);
        SettingsFile::read(&path, SettingsScope::Project).map(|f| f.unwrap().0)
    }

    #[test]
    fn missing_file_is_none_and_empty_file_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = SettingsFile::read(&tmp.path().join("settings.json"), SettingsScope::User);
        assert!(missing.unwrap().is_none());
        assert!(read("  \n").unwrap().json.is_empty());
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        match read("{\n  \"model\": \"opus\",\n  oops\n}") {
            Err(ConfigError::Parse {
                line,
                column,
                path,
                message,
            }) => {
                assert_eq!((line, column), (3, 3));
                assert_eq!(message, "key must be a string");
                assert!(path.ends_with("settings.json"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_object_is_a_parse_error() {
        let err = read("[1, 2]").unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Parse {
                    line: 1,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn keeps_unknown_keys_raw() {
        let file = read(r#"{"hooks": {"Stop": []}, "statusLine": {"type": "command"}}"#).unwrap();
        assert!(file.json["hooks"]["Stop"].is_array());
        assert_eq!(file.json["statusLine"]["type"], "command");
    }

    #[test]
    fn model_is_validated_with_file_origin() {
        let file = read(r#"{"model": "opus"}"#).unwrap();
        let layer = file.layer().unwrap();
        let model = layer.get("model").unwrap();
        assert_eq!(model.value, Value::Str("opus".into()));
        assert_eq!(model.origin, Origin::File(file.path));

        let err = read(r#"{"model": ""}"#).unwrap().layer().unwrap_err();
        assert!(err.to_string().contains("settings.json"), "{err}");
        let err = read(r#"{"model": {"id": 1}}"#)
            .unwrap()
            .layer()
            .unwrap_err();
        assert!(err.to_string().contains("not an object"), "{err}");
        let err = read(r#"{"model": null}"#).unwrap().layer().unwrap_err();
        assert!(err.to_string().contains("not null"), "{err}");
    }

    #[test]
    fn env_block() {
        let file =
            read(r#"{"env": {"AWS_PROFILE": "dev", "CLAUDE_CODE_USE_BEDROCK": 1, "X": true}}"#)
                .unwrap();
        assert_eq!(
            file.env().unwrap(),
            [
                ("AWS_PROFILE".to_owned(), "dev".to_owned()),
                ("CLAUDE_CODE_USE_BEDROCK".to_owned(), "1".to_owned()),
                ("X".to_owned(), "true".to_owned()),
            ]
        );
        assert!(read("{}").unwrap().env().unwrap().is_empty());
    }

    #[test]
    fn bad_env_blocks_name_file_and_never_echo_values() {
        let err = read(r#"{"env": ["AWS_PROFILE=dev"]}"#)
            .unwrap()
            .env()
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`env`") && msg.contains("settings.json"),
            "{msg}"
        );
        assert!(!msg.contains("AWS_PROFILE=dev"), "{msg}");

        let err = read(r#"{"env": {"AWS_SECRET_ACCESS_KEY": ["hunter2"]}}"#)
            .unwrap()
            .env()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("env.AWS_SECRET_ACCESS_KEY"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn managed_scope_has_managed_origin() {
        let (_tmp, path) = write("{}");
        let (file, _) = SettingsFile::read(&path, SettingsScope::Managed)
            .unwrap()
            .unwrap();
        assert_eq!(file.origin(), Origin::Managed(path));
    }
}
