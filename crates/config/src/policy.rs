//! The managed policy: Claude Code's `managed-settings.json`, deployed by an
//! administrator. It may also set claude's own keys by dotted name
//! (`"bedrock.region": "eu-west-1"`). Its values sit above every other layer
//! and are reported when something tries to override them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{ConfigError, line_column};
use crate::layer::Layer;
use crate::permissions::Sourced;
use crate::registry;
use crate::settings::{SettingsFile, SettingsScope, json_kind, json_raw};
use crate::value::Origin;

/// A lower layer's value for a key that the policy decided differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOverride {
    pub key: &'static str,
    pub attempted: Origin,
    pub policy: PathBuf,
}

/// The keys the policy decides: its `env` block (read as an environment),
/// then its `model` and dotted keys, which win over its own `env`.
pub(crate) fn layer(file: &SettingsFile, text: &str) -> Result<Layer, ConfigError> {
    let origin = file.origin();
    let env: BTreeMap<String, String> = file.env()?.into_iter().collect();
    let mut layer = Layer::from_env(|var| env.get(var).map(|v| (v.clone(), origin.clone())))?;
    let mut explicit = Layer::new();
    for (name, value) in &file.json {
        if let Some(example) = group_example(name) {
            let message =
                format!("`{name}` is not a key; write claude keys in full, such as `{example}`");
            return Err(at_key(file, text, name, message));
        }
        if !name.contains('.') && registry::find(name).is_none() {
            continue; // one of Claude Code's own settings
        }
        explicit
            .put(name, json_raw(value), origin.clone())
            .map_err(|e| match e {
                ConfigError::UnknownKey { .. } | ConfigError::SecretKey { .. } => {
                    at_key(file, text, name, e.to_string())
                }
                other => other,
            })?;
    }
    layer.overlay(explicit);
    Ok(layer)
}

/// Refuses to write a key the policy decides: the write would have no effect.
pub(crate) fn ensure_unlocked(policy: Option<&Path>, key: &str) -> Result<(), ConfigError> {
    let Some(path) = policy else {
        return Ok(());
    };
    let Some((file, text)) = SettingsFile::read(path, SettingsScope::Managed)? else {
        return Ok(());
    };
    if layer(&file, &text)?.get(key).is_some() {
        return Err(ConfigError::PolicyLocked {
            key: key.to_owned(),
            policy: path.to_path_buf(),
        });
    }
    Ok(())
}

/// `availableModels` from the highest settings file that sets it, whole:
/// a managed list cannot be widened or replaced by any other file.
pub(crate) fn available_models(
    settings: &[SettingsFile],
) -> Result<Option<Sourced<Vec<String>>>, ConfigError> {
    let Some((file, value)) = settings
        .iter()
        .find_map(|f| f.json.get("availableModels").map(|v| (f, v)))
    else {
        return Ok(None);
    };
    let bad = |shown: &str| {
        file.invalid(
            "availableModels",
            shown,
            "expected a list of model names such as [\"sonnet\", \"haiku\"]",
        )
    };
    let Json::Array(items) = value else {
        return Err(bad(json_kind(value)));
    };
    let names = items
        .iter()
        .map(|item| match item {
            Json::String(name) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
            other => Err(bad(&other.to_string())),
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Sourced {
        value: names,
        file: file.path.clone(),
    }))
}

/// A nested `"bedrock": {...}` would otherwise be silently ignored as an
/// unknown Claude Code setting, leaving the policy unenforced.
fn group_example(name: &str) -> Option<&'static str> {
    let prefix = format!("{name}.");
    registry::key_names().find(|k| k.starts_with(&prefix))
}

/// serde_json keeps no positions, so the key is located by its quoted name.
fn at_key(file: &SettingsFile, text: &str, name: &str, message: String) -> ConfigError {
    let offset = text.find(&format!("\"{name}\"")).unwrap_or(0);
    let (line, column) = line_column(text, offset);
    ConfigError::Parse {
        path: file.path.clone(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::fs;

    fn policy(text: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("managed-settings.json");
        fs::write(&path, text).unwrap();
        (tmp, path)
    }

    fn layer_of(text: &str) -> Result<Layer, ConfigError> {
        let (_tmp, path) = policy(text);
        let (file, text) = SettingsFile::read(&path, SettingsScope::Managed)
            .unwrap()
            .unwrap();
        layer(&file, &text)
    }

    #[test]
    fn dotted_keys_model_and_env_are_managed() {
        let layer = layer_of(
            r#"{
                "bedrock.region": "eu-west-1",
                "model": "sonnet",
                "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_MODEL": "haiku"},
                "budget.alert_thresholds": [50, 90],
                "prompt_caching": false,
                "availableModels": ["sonnet"]
            }"#,
        )
        .unwrap();
        let value = |k: &str| layer.get(k).unwrap().value.to_string();
        assert_eq!(value("bedrock.region"), "eu-west-1");
        assert_eq!(
            value("model"),
            "sonnet",
            "explicit model beats the policy's env"
        );
        assert_eq!(value("provider"), "bedrock");
        assert_eq!(value("budget.alert_thresholds"), "50,90");
        assert_eq!(
            layer.get("prompt_caching").unwrap().value,
            Value::Bool(false)
        );
        assert!(matches!(
            layer.get("provider").unwrap().origin,
            Origin::Managed(_)
        ));
        assert!(layer.get("availableModels").is_none());
    }

    #[test]
    fn unknown_dotted_key_has_position_and_suggestion() {
        let err = layer_of("{\n  \"bedrock.regoin\": \"eu-west-1\"\n}").unwrap_err();
        match &err {
            ConfigError::Parse {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!((*line, *column), (2, 3));
                assert!(
                    message.contains("did you mean `bedrock.region`"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_and_nested_keys_are_rejected() {
        let err = layer_of(r#"{"aws.secret_access_key": "AKIAXXXX"}"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("aws configure") && !msg.contains("AKIAXXXX"),
            "{msg}"
        );
        let err = layer_of(r#"{"bedrock": {"region": "eu-west-1"}}"#).unwrap_err();
        assert!(
            err.to_string().contains("such as `bedrock.region`"),
            "{err}"
        );
    }

    #[test]
    fn claude_code_keys_are_not_ours() {
        assert!(layer_of(r#"{"apiKeyHelper": "/bin/get-key", "hooks": {}}"#).is_ok());
    }

    #[test]
    fn bad_values_name_the_policy() {
        let err = layer_of(r#"{"bedrock.region": "EU-WEST-1"}"#).unwrap_err();
        assert!(err.to_string().contains("(from managed policy"), "{err}");
        let err = layer_of(r#"{"env": {"CLAUDE_PROVIDER": "vertex"}}"#).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::UnknownProvider {
                origin: Some(Origin::Managed(_)),
                ..
            }
        ));
    }

    #[test]
    fn available_models_come_whole_from_the_highest_file() {
        let read = |text: &str, scope| {
            let (tmp, path) = policy(text);
            let file = SettingsFile::read(&path, scope).unwrap().unwrap().0;
            (tmp, file)
        };
        let (_m, managed) = read(
            r#"{"availableModels": ["sonnet", " haiku "]}"#,
            SettingsScope::Managed,
        );
        let (_u, user) = read(
            r#"{"availableModels": ["opus"], "model": "opus"}"#,
            SettingsScope::User,
        );
        let (_e, empty) = read("{}", SettingsScope::Project);
        let found = available_models(&[managed.clone(), empty.clone(), user.clone()])
            .unwrap()
            .unwrap();
        assert_eq!(found.value, ["sonnet", "haiku"]);
        assert_eq!(found.file, managed.path);
        let found = available_models(&[empty.clone(), user.clone()])
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.value, found.file),
            (vec!["opus".to_owned()], user.path)
        );
        assert_eq!(available_models(&[empty]).unwrap(), None);

        for bad in [
            r#"{"availableModels": "sonnet"}"#,
            r#"{"availableModels": [""]}"#,
        ] {
            let (_b, file) = read(bad, SettingsScope::Managed);
            let err = available_models(&[file]).unwrap_err().to_string();
            assert!(
                err.contains("`availableModels` (from managed policy"),
                "{err}"
            );
        }
    }

    #[test]
    fn locks_only_what_the_policy_sets() {
        let (_tmp, path) = policy(r#"{"bedrock.region": "eu-west-1"}"#);
        let err = ensure_unlocked(Some(&path), "bedrock.region").unwrap_err();
        assert!(matches!(&err, ConfigError::PolicyLocked { policy, .. } if *policy == path));
        ensure_unlocked(Some(&path), "model").unwrap();
        ensure_unlocked(None, "bedrock.region").unwrap();
        ensure_unlocked(Some(&path.with_file_name("missing.json")), "bedrock.region").unwrap();
    }
}
