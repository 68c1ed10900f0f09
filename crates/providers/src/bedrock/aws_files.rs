//! Just enough of `~/.aws/config` and `~/.aws/credentials` to explain the
//! setup to the user: the profile's region, whether it is an SSO profile, and
//! which credential sources exist. Credentials themselves are resolved by the
//! AWS SDK; nothing here reads or keeps a secret value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment the AWS SDK will see, as a plain map for testability.
pub type Env = BTreeMap<String, String>;

fn home(env: &Env) -> Option<PathBuf> {
    env.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

pub fn config_path(env: &Env) -> Option<PathBuf> {
    env.get("AWS_CONFIG_FILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws/config")))
}

pub fn credentials_path(env: &Env) -> Option<PathBuf> {
    env.get("AWS_SHARED_CREDENTIALS_FILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws/credentials")))
}

/// The keys of one profile section (values of secret keys are dropped).
fn profile_keys(path: &Path, profile: &str, config_file: bool) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let wanted: Vec<String> = if config_file && profile != "default" {
        vec![format!("profile {profile}")]
    } else {
        vec![profile.to_string(), format!("profile {profile}")]
    };
    let mut in_section = false;
    let mut found = false;
    let mut keys = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = wanted.iter().any(|w| w == name.trim());
            found |= in_section;
            continue;
        }
        if in_section && let Some((k, v)) = line.split_once('=') {
            let k = k.trim().to_ascii_lowercase();
            let secret = k.contains("secret") || k.contains("token");
            let v = if secret {
                String::new()
            } else {
                v.trim().to_string()
            };
            keys.insert(k, v);
        }
    }
    found.then_some(keys)
}

/// What the profile files say about one profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileInfo {
    pub name: String,
    pub region: Option<String>,
    pub sso: bool,
    /// Where the profile was found, e.g. "credentials file /home/u/.aws/credentials".
    pub found_in: Vec<String>,
    pub has_static_keys: bool,
    pub has_role: bool,
    pub has_process: bool,
}

pub fn profile_info(env: &Env, profile: &str) -> ProfileInfo {
    let mut info = ProfileInfo {
        name: profile.to_string(),
        ..Default::default()
    };
    let files = [
        (credentials_path(env), false, "credentials file"),
        (config_path(env), true, "config file"),
    ];
    for (path, is_config, label) in files {
        let Some(path) = path else { continue };
        let Some(keys) = profile_keys(&path, profile, is_config) else {
            continue;
        };
        info.found_in.push(format!("{label} {}", path.display()));
        if info.region.is_none() {
            info.region = keys.get("region").cloned().filter(|r| !r.is_empty());
        }
        info.sso |= keys.keys().any(|k| k.starts_with("sso_"));
        info.has_static_keys |= keys.contains_key("aws_access_key_id");
        info.has_role |= keys.contains_key("role_arn");
        info.has_process |= keys.contains_key("credential_process");
    }
    info
}

/// The credential sources the SDK chain will look at, in its order, described
/// for an error message. Never includes a value.
pub fn credential_sources(env: &Env, profile: &ProfileInfo) -> Vec<String> {
    let set = |k: &str| env.get(k).is_some_and(|v| !v.is_empty());
    let mut out = Vec::new();
    if set("AWS_BEARER_TOKEN_BEDROCK") {
        out.push("Bedrock API key: AWS_BEARER_TOKEN_BEDROCK is set".to_string());
    } else {
        out.push("Bedrock API key: AWS_BEARER_TOKEN_BEDROCK not set".to_string());
    }
    out.push(
        match (set("AWS_ACCESS_KEY_ID"), set("AWS_SECRET_ACCESS_KEY")) {
            (true, true) => {
                "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set".into()
            }
            (true, false) => {
                "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into()
            }
            (false, true) => {
                "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into()
            }
            (false, false) => {
                "environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY not set".into()
            }
        },
    );
    let files = [credentials_path(env), config_path(env)]
        .into_iter()
        .flatten()
        .map(|p| {
            let state = if p.exists() { "" } else { " (missing)" };
            format!("{}{state}", p.display())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let what = if profile.found_in.is_empty() {
        "not found".to_string()
    } else if profile.sso {
        "SSO profile".to_string()
    } else if profile.has_static_keys {
        "access keys".to_string()
    } else if profile.has_role {
        "assume-role profile".to_string()
    } else if profile.has_process {
        "credential_process".to_string()
    } else {
        "no credentials in it".to_string()
    };
    out.push(format!("profile `{}` in {files}: {what}", profile.name));
    if set("AWS_WEB_IDENTITY_TOKEN_FILE") {
        out.push("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set".into());
    }
    if set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || set("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        out.push("container credentials endpoint".into());
    }
    if env
        .get("AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        out.push("EC2 instance metadata (IMDS): disabled by AWS_EC2_METADATA_DISABLED".into());
    } else {
        out.push("EC2 instance metadata (IMDS)".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_region_and_sso_without_keeping_secrets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            "[bedrock-profile]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = supersecret\nregion = us-east-1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("config"),
            "[default]\nregion = eu-west-1\n[profile corp]\nsso_start_url = https://x\nsso_region = eu-west-1\nregion = eu-central-1\n",
        )
        .unwrap();
        let env: Env = [
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("credentials"),
            ),
            ("AWS_CONFIG_FILE", dir.path().join("config")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.display().to_string()))
        .collect();
        let p = profile_info(&env, "bedrock-profile");
        assert_eq!(p.region.as_deref(), Some("us-east-1"));
        assert!(p.has_static_keys && !p.sso);
        let corp = profile_info(&env, "corp");
        assert!(corp.sso);
        assert_eq!(corp.region.as_deref(), Some("eu-central-1"));
        assert_eq!(
            profile_info(&env, "default").region.as_deref(),
            Some("eu-west-1")
        );
        let sources = credential_sources(&env, &p).join("\n");
        assert!(!sources.contains("supersecret") && !sources.contains("AKIAEXAMPLE"));
        assert!(sources.contains("profile `bedrock-profile`"));
    }
}
