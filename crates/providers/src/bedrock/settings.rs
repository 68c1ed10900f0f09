//! Where a Bedrock call goes: region, profile, endpoint and auth mode, each
//! with the source that decided it, so `--verbose` and `--dry-run` can say why.

use serde::Serialize;

use super::aws_files::{self, Env};

/// Inputs gathered by the caller from flags and config.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub region_flag: Option<String>,
    /// `bedrock.region` and where it came from.
    pub region_config: Option<(String, String)>,
    /// `bedrock.profile` / `AWS_PROFILE` and where it came from.
    pub profile: Option<(String, String)>,
    /// `bedrock.endpoint_url` / `ANTHROPIC_BEDROCK_BASE_URL` and where it came from.
    pub endpoint_config: Option<(String, String)>,
    pub env: Env,
}

#[derive(Debug, Clone, Serialize)]
pub struct BedrockSettings {
    pub region: String,
    pub region_source: String,
    pub profile: Option<String>,
    pub profile_source: Option<String>,
    /// The runtime endpoint; `None` leaves it to the SDK's partition data.
    pub endpoint_url: Option<String>,
    pub endpoint_source: String,
    /// The endpoint as it will be reached, for messages.
    pub endpoint_display: String,
    pub auth: AuthMode,
    pub partition: String,
    #[serde(skip)]
    pub env: Env,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// SigV4 with credentials from the AWS SDK chain.
    Sigv4,
    /// `AWS_BEARER_TOKEN_BEDROCK`, sent as `Authorization: Bearer`.
    BearerToken,
    /// `CLAUDE_CODE_SKIP_BEDROCK_AUTH`: a gateway signs for us.
    None,
}

/// Whether `s` is shaped like an AWS region (`us-east-1`, `us-gov-west-1`).
pub fn is_region_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() >= 2
        && parts
            .iter()
            .take(parts.len() - 1)
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The AWS partition a region belongs to.
pub fn partition_for(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

fn truthy(env: &Env, key: &str) -> bool {
    env.get(key).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

pub fn resolve_settings(input: SettingsInput) -> BedrockSettings {
    let env = input.env;
    let (profile, profile_source) = match input.profile {
        Some((p, src)) => (Some(p), Some(src)),
        None => (None, None),
    };
    let profile_name = profile.clone().unwrap_or_else(|| "default".into());

    let mut candidates: Vec<(Option<String>, String)> =
        vec![(input.region_flag, "flag --region".into())];
    if let Some((r, src)) = input.region_config {
        candidates.push((Some(r), src));
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        candidates.push((env.get(var).cloned(), format!("env {var}")));
    }
    let info = aws_files::profile_info(&env, &profile_name);
    let profile_src = format!(
        "profile `{profile_name}` in {}",
        info.found_in.first().cloned().unwrap_or_default()
    );
    candidates.push((info.region, profile_src));
    let (region, region_source) = candidates
        .into_iter()
        .find_map(|(v, src)| {
            v.filter(|v| is_region_shaped(v.trim()))
                .map(|v| (v.trim().to_string(), src))
        })
        .unwrap_or_else(|| ("us-east-1".into(), "default".into()));

    let nonempty = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let (endpoint_url, endpoint_source) = match input.endpoint_config {
        Some((url, src)) => (Some(url), src),
        None => match nonempty("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") {
            Some(url) => (Some(url), "env AWS_ENDPOINT_URL_BEDROCK_RUNTIME".into()),
            None => match nonempty("AWS_ENDPOINT_URL") {
                Some(url) => (Some(url), "env AWS_ENDPOINT_URL".into()),
                None => (None, "AWS partition data".into()),
            },
        },
    };
    let partition = partition_for(&region);
    let suffix = if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let endpoint_display = endpoint_url
        .clone()
        .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.{suffix}"));

    let auth = if truthy(&env, "CLAUDE_CODE_SKIP_BEDROCK_AUTH") {
        AuthMode::None
    } else if nonempty("AWS_BEARER_TOKEN_BEDROCK").is_some() {
        AuthMode::BearerToken
    } else {
        AuthMode::Sigv4
    };

    BedrockSettings {
        region,
        region_source,
        profile,
        profile_source,
        endpoint_url,
        endpoint_source,
        endpoint_display,
        auth,
        partition: partition.to_string(),
        env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-7",
            "eusc-de-east-1",
        ] {
            assert!(is_region_shaped(ok), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "us east 1",
            "us.east.1",
            "",
            "1-2-3",
        ] {
            assert!(!is_region_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn region_precedence_flag_config_env_profile_default() {
        let base = SettingsInput {
            env: env(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "eu-west-2"),
            ]),
            ..Default::default()
        };
        let s = resolve_settings(base.clone());
        assert_eq!(
            (s.region.as_str(), s.region_source.as_str()),
            ("eu-west-1", "env AWS_REGION")
        );

        let mut with_config = base;
        with_config.region_config = Some(("us-west-2".into(), "/u/config.toml".into()));
        assert_eq!(resolve_settings(with_config.clone()).region, "us-west-2");

        with_config.region_flag = Some("ap-south-1".into());
        let s = resolve_settings(with_config);
        assert_eq!(
            (s.region.as_str(), s.region_source.as_str()),
            ("ap-south-1", "flag --region")
        );

        let s = resolve_settings(SettingsInput {
            env: env(&[("AWS_REGION", "not/a region")]),
            ..Default::default()
        });
        assert_eq!(
            (s.region.as_str(), s.region_source.as_str()),
            ("us-east-1", "default")
        );
    }

    #[test]
    fn endpoint_and_auth_modes() {
        let s = resolve_settings(SettingsInput {
            env: env(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                ("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-x"),
            ]),
            ..Default::default()
        });
        assert_eq!(s.endpoint_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(s.endpoint_source, "env AWS_ENDPOINT_URL");
        assert_eq!(s.auth, AuthMode::BearerToken);

        let s = resolve_settings(SettingsInput {
            env: env(&[("CLAUDE_CODE_SKIP_BEDROCK_AUTH", "1")]),
            endpoint_config: Some((
                "https://gw.example".into(),
                "env ANTHROPIC_BEDROCK_BASE_URL".into(),
            )),
            region_flag: Some("us-gov-west-1".into()),
            ..Default::default()
        });
        assert_eq!(s.auth, AuthMode::None);
        assert_eq!(s.endpoint_display, "https://gw.example");
        assert_eq!(s.partition, "aws-us-gov");
    }
}
