//! `claude config set` / `unset`: edits of claude's own config files.

use std::path::PathBuf;

use crate::config_toml::{self, Spanned};
use crate::error::ConfigError;
use crate::file_io::write_atomically;
use crate::options::{LoadOptions, Scope};
use crate::paths::Paths;
use crate::policy;
use crate::registry;

/// Validates and stores `key = raw` in the scope's `config.toml`, returning
/// the file written. Only the paths and the policy are consulted, not the
/// whole configuration, so a broken setting elsewhere can still be fixed
/// with this command.
pub fn set_value(
    opts: &LoadOptions,
    scope: Scope,
    key: &str,
    raw: &str,
) -> Result<PathBuf, ConfigError> {
    let spec = registry::lookup(key)?;
    policy::ensure_unlocked(opts.managed_settings.as_deref(), spec.name)?;
    let value = registry::parse(spec, raw, None)?;
    let path = Paths::resolve(opts)?.config_file(scope);
    let spanned = match Spanned::read(&path)? {
        Some(spanned) => spanned,
        None => Spanned::parse(&path, String::new())?,
    };
    spanned.check_settable(&path, spec.name, spec.kind.is_table())?;
    let mut doc = spanned.into_mut();
    config_toml::set(&mut doc, spec.name, &value);
    write_atomically(&path, &doc.to_string())?;
    Ok(path)
}

/// Removes `key` from the scope's `config.toml`; the flag says whether it was
/// there. A file that did not hold the key is left untouched.
pub fn unset_value(
    opts: &LoadOptions,
    scope: Scope,
    key: &str,
) -> Result<(PathBuf, bool), ConfigError> {
    let spec = registry::lookup(key)?;
    let path = Paths::resolve(opts)?.config_file(scope);
    let Some(spanned) = Spanned::read(&path)? else {
        return Ok((path, false));
    };
    let mut doc = spanned.into_mut();
    let removed = config_toml::remove(&mut doc, spec.name);
    if removed {
        write_atomically(&path, &doc.to_string())?;
    }
    Ok((path, removed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn opts(root: &Path) -> LoadOptions {
        let project = root.join("project");
        fs::create_dir_all(project.join(".git")).unwrap();
        LoadOptions {
            home: Some(root.join("home")),
            cwd: project,
            ..LoadOptions::default()
        }
    }

    #[test]
    fn set_writes_user_and_project_files() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let user = set_value(&o, Scope::User, "bedrock.region", "us-east-1").unwrap();
        assert_eq!(user, tmp.path().join("home/.claude/config.toml"));
        assert_eq!(
            fs::read_to_string(&user).unwrap(),
            "[bedrock]\nregion = \"us-east-1\"\n"
        );
        let project = set_value(&o, Scope::Project, "bedrock.models.haiku", "h").unwrap();
        assert_eq!(project, tmp.path().join("project/.claude/config.toml"));
        assert_eq!(
            fs::read_to_string(&project).unwrap(),
            "[bedrock.models]\nhaiku = \"h\"\n"
        );
        set_value(&o, Scope::User, "budget.alert_thresholds", "50, 90").unwrap();
        set_value(&o, Scope::User, "prompt_caching", "off").unwrap();
        set_value(&o, Scope::User, "provider", "BEDROCK").unwrap();
        assert_eq!(
            fs::read_to_string(&user).unwrap(),
            "prompt_caching = false\nprovider = \"bedrock\"\n\n[bedrock]\nregion = \"us-east-1\"\n\n\
             [budget]\nalert_thresholds = [50, 90]\n"
        );
    }

    #[test]
    fn set_keeps_the_rest_of_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let path = tmp.path().join("home/.claude/config.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = "# team defaults\n[bedrock]\nprofile = \"dev\" # sso\n\n[future]\nkey = 1\n";
        fs::write(&path, text).unwrap();
        set_value(&o, Scope::User, "bedrock.region", "eu-west-1").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# team defaults\n[bedrock]\nprofile = \"dev\" # sso\nregion = \"eu-west-1\"\n\n[future]\nkey = 1\n"
        );
    }

    #[test]
    fn set_accepts_a_price_table_as_json() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let json = r#"{"anthropic.claude-3-haiku-20240307-v1:0": {"input": 0.2, "output": 1}}"#;
        let path = set_value(&o, Scope::User, "pricing.overrides", json).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[pricing.overrides.\"anthropic.claude-3-haiku-20240307-v1:0\"]\ninput = 0.2\noutput = 1\n"
        );
        set_value(
            &o,
            Scope::User,
            "pricing.overrides",
            r#"{"m": {"input": 1, "output": 2}}"#,
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[pricing.overrides.m]\ninput = 1\noutput = 2\n"
        );
        let err = set_value(&o, Scope::User, "pricing.overrides", "cheap").unwrap_err();
        assert!(err.to_string().contains("write it like"), "{err}");
    }

    #[test]
    fn set_rejects_bad_input_before_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let cases = [
            ("aws_secret_access_key", "x", "SecretKey"),
            ("anthropic.api_key", "sk-ant", "SecretKey"),
            ("bedrock.regoin", "us-east-1", "UnknownKey"),
            ("bedrock.region", "US-EAST-1", "InvalidValue"),
            ("provider", "vertex", "UnknownProvider"),
        ];
        for (key, raw, variant) in cases {
            let err = set_value(&o, Scope::User, key, raw).unwrap_err();
            assert!(format!("{err:?}").starts_with(variant), "{key}: {err:?}");
        }
        assert!(!tmp.path().join("home/.claude").exists());
    }

    #[test]
    fn malformed_file_is_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let path = tmp.path().join("project/.claude/config.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = "[bedrock\nregion = \"us-east-1\"\n";
        fs::write(&path, text).unwrap();
        match set_value(&o, Scope::Project, "bedrock.region", "eu-west-1") {
            Err(ConfigError::Parse {
                path: p, line: 1, ..
            }) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            unset_value(&o, Scope::Project, "bedrock.region"),
            Err(ConfigError::Parse { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), text);

        fs::write(&path, "bedrock = \"oops\"\n").unwrap();
        assert!(matches!(
            set_value(&o, Scope::Project, "bedrock.region", "eu-west-1"),
            Err(ConfigError::Parse { line: 1, .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "bedrock = \"oops\"\n");
    }

    #[test]
    fn policy_locked_keys_cannot_be_set() {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path());
        let policy = tmp.path().join("managed-settings.json");
        fs::write(&policy, r#"{"bedrock.region": "eu-west-1"}"#).unwrap();
        o.managed_settings = Some(policy.clone());
        match set_value(&o, Scope::User, "bedrock.region", "us-east-1") {
            Err(ConfigError::PolicyLocked { key, policy: p }) => {
                assert_eq!((key.as_str(), p), ("bedrock.region", policy));
            }
            other => panic!("{other:?}"),
        }
        set_value(&o, Scope::User, "model", "opus").unwrap();
    }

    #[test]
    fn unset_removes_key_and_empty_tables() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let (path, was_set) = unset_value(&o, Scope::User, "bedrock.region").unwrap();
        assert!(!was_set);
        assert!(!path.exists(), "unset must not create a file");

        set_value(&o, Scope::User, "bedrock.models.opus", "o").unwrap();
        set_value(&o, Scope::User, "model", "opus").unwrap();
        let before = fs::read_to_string(&path).unwrap();
        assert_eq!(
            unset_value(&o, Scope::User, "bedrock.region").unwrap(),
            (path.clone(), false)
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
        assert_eq!(
            unset_value(&o, Scope::User, "bedrock.models.opus").unwrap(),
            (path.clone(), true)
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "model = \"opus\"\n");
    }

    #[test]
    fn unset_checks_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        assert!(matches!(
            unset_value(&o, Scope::User, "password"),
            Err(ConfigError::SecretKey { .. })
        ));
        assert!(matches!(
            unset_value(&o, Scope::User, "regoin"),
            Err(ConfigError::UnknownKey { .. })
        ));
    }
}
