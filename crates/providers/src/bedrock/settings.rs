//! Where a Bedrock call goes: region, profile, endpoint and auth mode, each
//! with the source that decided it, so `--verbose` and `--dry-run` can say why.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

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
    /// `bedrock.guardrail.*`: applied to every model call.
    pub guardrail: Option<Guardrail>,
    /// `bedrock.request_metadata`: send the session, project and skill as
    /// the call's `requestMetadata` for the model-invocation logs.
    pub request_metadata: bool,
    /// Claude Code's `awsAuthRefresh`: run when credentials have expired.
    pub auth_refresh: Option<String>,
    /// Claude Code's `awsCredentialExport`: prints credentials as JSON.
    pub credential_export: Option<String>,
    /// When the credentials in use expire, once a call has loaded them.
    #[serde(skip)]
    pub credential_expiry: ExpiryCell,
    #[serde(skip)]
    pub env: Env,
}

/// A guardrail applied to every InvokeModel call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guardrail {
    /// The guardrail's ID or ARN.
    pub id: String,
    /// A version number or `DRAFT`.
    pub version: String,
    /// `enabled`, `disabled` or `enabled_full`; `None` leaves Bedrock's default.
    pub trace: Option<String>,
}

/// Where the provider notes the expiry of the credentials it loaded, for
/// `/status`; shared by every clone of the settings.
#[derive(Debug, Clone, Default)]
pub struct ExpiryCell(Arc<Mutex<Option<SystemTime>>>);

impl ExpiryCell {
    pub fn set(&self, at: Option<SystemTime>) {
        if let Ok(mut e) = self.0.lock() {
            *e = at;
        }
    }

    pub fn get(&self) -> Option<SystemTime> {
        self.0.lock().ok().and_then(|e| *e)
    }
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

/// The AWS partition a region belongs to, for the ARNs claude writes. The
/// SDK's partition data (which decides endpoints) is not public API, so this
/// mirrors its region patterns: `us-gov-*`, `cn-*`, `us-iso-*`, `us-isob-*`,
/// `eu-isoe-*`, `us-isof-*`, `eusc-*`; everything else is `aws`.
pub fn partition_for(region: &str) -> &'static str {
    const TABLE: [(&str, &str); 7] = [
        ("us-gov-", "aws-us-gov"),
        ("cn-", "aws-cn"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
        ("eusc-", "aws-eusc"),
    ];
    TABLE
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// The Bedrock runtime endpoint the SDK's partition data gives `region`.
fn sdk_endpoint(region: &str) -> Option<String> {
    use aws_sdk_bedrockruntime::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    use futures_util::FutureExt;
    let params = Params::builder().region(region).build().ok()?;
    let resolver = DefaultResolver::new();
    let endpoint = resolver.resolve_endpoint(&params).now_or_never()?.ok()?;
    Some(endpoint.url().to_string())
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
    let endpoint_display = endpoint_url
        .clone()
        .or_else(|| sdk_endpoint(&region))
        .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"));

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
        guardrail: None,
        request_metadata: true,
        auth_refresh: None,
        credential_export: None,
        credential_expiry: ExpiryCell::default(),
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

    #[test]
    fn partitions_and_endpoints_follow_the_region() {
        for (region, partition, host) in [
            (
                "us-east-1",
                "aws",
                "bedrock-runtime.us-east-1.amazonaws.com",
            ),
            (
                "us-gov-west-1",
                "aws-us-gov",
                "bedrock-runtime.us-gov-west-1.amazonaws.com",
            ),
            (
                "cn-north-1",
                "aws-cn",
                "bedrock-runtime.cn-north-1.amazonaws.com.cn",
            ),
            (
                "us-iso-east-1",
                "aws-iso",
                "bedrock-runtime.us-iso-east-1.c2s.ic.gov",
            ),
        ] {
            let s = resolve_settings(SettingsInput {
                region_flag: Some(region.into()),
                ..Default::default()
            });
            assert_eq!(s.partition, partition, "{region}");
            assert_eq!(s.endpoint_display, format!("https://{host}"), "{region}");
        }
    }
}
