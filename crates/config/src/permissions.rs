//! Permission rules merged across settings files. Lists merge (every file's
//! rules apply); the scalar settings come from the highest file that has
//! them. Each entry keeps its file so `/permissions` and denials can say
//! where a rule lives.

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::error::ConfigError;
use crate::settings::{SettingsFile, json_kind};

const MODES: [&str; 6] = [
    "default",
    "acceptEdits",
    "plan",
    "auto",
    "dontAsk",
    "bypassPermissions",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub file: PathBuf,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergedPermissions {
    pub allow: Vec<Sourced<String>>,
    pub ask: Vec<Sourced<String>>,
    pub deny: Vec<Sourced<String>>,
    pub additional_directories: Vec<Sourced<String>>,
    pub default_mode: Option<Sourced<String>>,
    /// Claude Code's only accepted value is `"disable"`.
    pub disable_bypass_permissions_mode: Option<Sourced<String>>,
}

impl MergedPermissions {
    /// `files` are in precedence order, highest first.
    pub(crate) fn merge(files: &[SettingsFile]) -> Result<MergedPermissions, ConfigError> {
        let mut merged = MergedPermissions::default();
        for file in files {
            // Also accepted at the top level, where policies often put it.
            if let Some(value) = file.json.get("disableBypassPermissionsMode") {
                let value = one_of(file, "disableBypassPermissionsMode", value, &["disable"])?;
                merged.disable_bypass_permissions_mode.get_or_insert(value);
            }
            let Some(perms) = file.json.get("permissions") else {
                continue;
            };
            let Json::Object(perms) = perms else {
                return Err(file.invalid(
                    "permissions",
                    json_kind(perms),
                    "expected an object with allow, ask and deny lists",
                ));
            };
            let lists = [
                ("allow", &mut merged.allow),
                ("ask", &mut merged.ask),
                ("deny", &mut merged.deny),
                ("additionalDirectories", &mut merged.additional_directories),
            ];
            for (name, list) in lists {
                if let Some(value) = perms.get(name) {
                    list.extend(string_list(file, name, value)?);
                }
            }
            let scalars = [
                ("defaultMode", &mut merged.default_mode, &MODES[..]),
                (
                    "disableBypassPermissionsMode",
                    &mut merged.disable_bypass_permissions_mode,
                    &["disable"][..],
                ),
            ];
            for (name, slot, allowed) in scalars {
                if let Some(value) = perms.get(name) {
                    let value = one_of(file, name, value, allowed)?;
                    slot.get_or_insert(value);
                }
            }
        }
        Ok(merged)
    }
}

fn string_list(
    file: &SettingsFile,
    name: &str,
    value: &Json,
) -> Result<Vec<Sourced<String>>, ConfigError> {
    let bad = |shown: &str| {
        file.invalid(
            &format!("permissions.{name}"),
            shown,
            "expected a list of strings such as [\"Bash(npm run *)\"]",
        )
    };
    let Json::Array(items) = value else {
        return Err(bad(json_kind(value)));
    };
    items
        .iter()
        .map(|item| match item {
            Json::String(rule) => Ok(Sourced {
                value: rule.clone(),
                file: file.path.clone(),
            }),
            other => Err(bad(&other.to_string())),
        })
        .collect()
}

fn one_of(
    file: &SettingsFile,
    name: &str,
    value: &Json,
    allowed: &[&str],
) -> Result<Sourced<String>, ConfigError> {
    match value {
        Json::String(s) if allowed.contains(&s.as_str()) => Ok(Sourced {
            value: s.clone(),
            file: file.path.clone(),
        }),
        other => Err(file.invalid(
            &format!("permissions.{name}"),
            &other.to_string(),
            &format!("expected one of: {}", allowed.join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SettingsScope;
    use serde_json::json;

    fn file(path: &str, json: Json) -> SettingsFile {
        let Json::Object(json) = json else { panic!() };
        SettingsFile {
            path: path.into(),
            scope: SettingsScope::Project,
            json,
        }
    }

    fn rules(list: &[Sourced<String>]) -> Vec<(&str, &str)> {
        list.iter()
            .map(|r| (r.value.as_str(), r.file.to_str().unwrap()))
            .collect()
    }

    #[test]
    fn lists_merge_and_scalars_take_the_highest() {
        let local = file(
            "/p/.claude/settings.local.json",
            json!({"permissions": {"allow": ["WebSearch"], "defaultMode": "acceptEdits"}}),
        );
        let project = file(
            "/p/.claude/settings.json",
            json!({"permissions": {
                "allow": ["Bash(npm run *)"],
                "deny": ["Read(./.env)"],
                "ask": ["Bash(git push *)"],
                "additionalDirectories": ["../docs"],
                "defaultMode": "plan",
                "disableBypassPermissionsMode": "disable"
            }}),
        );
        let user = file("/u/settings.json", json!({"model": "opus"}));
        let merged = MergedPermissions::merge(&[local, project, user]).unwrap();
        assert_eq!(
            rules(&merged.allow),
            [
                ("WebSearch", "/p/.claude/settings.local.json"),
                ("Bash(npm run *)", "/p/.claude/settings.json"),
            ]
        );
        assert_eq!(
            rules(&merged.deny),
            [("Read(./.env)", "/p/.claude/settings.json")]
        );
        assert_eq!(
            rules(&merged.ask),
            [("Bash(git push *)", "/p/.claude/settings.json")]
        );
        assert_eq!(
            rules(&merged.additional_directories),
            [("../docs", "/p/.claude/settings.json")]
        );
        let mode = merged.default_mode.unwrap();
        assert_eq!(
            (mode.value.as_str(), mode.file.to_str().unwrap()),
            ("acceptEdits", "/p/.claude/settings.local.json")
        );
        assert_eq!(
            merged.disable_bypass_permissions_mode.unwrap().value,
            "disable"
        );
    }

    #[test]
    fn disable_bypass_is_also_read_at_the_top_level() {
        let managed = file(
            "/etc/m.json",
            json!({"disableBypassPermissionsMode": "disable"}),
        );
        let merged = MergedPermissions::merge(&[managed]).unwrap();
        assert_eq!(
            merged.disable_bypass_permissions_mode.unwrap().file,
            PathBuf::from("/etc/m.json")
        );
        let bad = file("/etc/m.json", json!({"disableBypassPermissionsMode": true}));
        assert!(MergedPermissions::merge(&[bad]).is_err());
    }

    #[test]
    fn no_permissions_is_empty() {
        let merged = MergedPermissions::merge(&[file("/a", json!({}))]).unwrap();
        assert_eq!(merged, MergedPermissions::default());
    }

    #[test]
    fn bad_shapes_name_the_file_and_key() {
        let cases = [
            (json!({"permissions": []}), "`permissions`"),
            (
                json!({"permissions": {"allow": "Bash"}}),
                "`permissions.allow`",
            ),
            (json!({"permissions": {"deny": [1]}}), "`permissions.deny`"),
            (
                json!({"permissions": {"additionalDirectories": [null]}}),
                "`permissions.additionalDirectories`",
            ),
            (
                json!({"permissions": {"defaultMode": "yolo"}}),
                "`permissions.defaultMode`",
            ),
            (
                json!({"permissions": {"defaultMode": 3}}),
                "`permissions.defaultMode`",
            ),
            (
                json!({"permissions": {"disableBypassPermissionsMode": true}}),
                "`permissions.disableBypassPermissionsMode`",
            ),
        ];
        for (json, key) in cases {
            let err =
                MergedPermissions::merge(&[file("/p/settings.json", json.clone())]).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(key) && msg.contains("/p/settings.json"),
                "{json}: {msg}"
            );
        }
    }
}
