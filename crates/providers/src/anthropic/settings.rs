//! Where a direct-API call goes and how it authenticates: base URL, the
//! header that carries the credential, the `anthropic-version`, and any
//! `ANTHROPIC_CUSTOM_HEADERS`. The credential itself is held in [`Secret`],
//! which never shows its value.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// What the current API documentation (official SDK 2.x) sends.
pub const CURRENT_API_VERSION: &str = "2026-10-21";
/// The version that goes with the older `x-api-key` form.
pub const LEGACY_API_VERSION: &str = "2023-06-01";
/// `API_TIMEOUT_MS` default, as in Claude Code.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The header that carries an `ANTHROPIC_API_KEY` (`anthropic.auth_header`).
/// An `ANTHROPIC_AUTH_TOKEN` always goes as `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthHeader {
    /// `Authorization: Bearer <key>`.
    #[default]
    Authorization,
    /// `x-api-key: <key>`.
    XApiKey,
}

impl AuthHeader {
    /// Parses the config value (`authorization` or `x-api-key`, any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "authorization" | "bearer" => Some(AuthHeader::Authorization),
            "x-api-key" => Some(AuthHeader::XApiKey),
            _ => None,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthHeader::Authorization => "authorization",
            AuthHeader::XApiKey => "x-api-key",
        }
    }

    /// How the header looks on the wire, for messages.
    pub fn wire_form(self) -> &'static str {
        match self {
            AuthHeader::Authorization => "Authorization: Bearer",
            AuthHeader::XApiKey => "x-api-key",
        }
    }
}

/// Which environment variable supplied the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSource {
    ApiKey,
    AuthToken,
}

impl AuthSource {
    pub fn env_var(self) -> &'static str {
        match self {
            AuthSource::ApiKey => "ANTHROPIC_API_KEY",
            AuthSource::AuthToken => "ANTHROPIC_AUTH_TOKEN",
        }
    }
}

impl Serialize for AuthSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.env_var())
    }
}

/// A credential. It has no `Display`, and `Debug` prints a placeholder, so
/// it cannot end up in a message or a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AnthropicSettings {
    /// Without a trailing slash; requests go to `{base_url}/v1/messages`.
    pub base_url: String,
    /// The header an `ANTHROPIC_API_KEY` goes in (as configured).
    pub auth_header: AuthHeader,
    pub api_version: String,
    #[serde(skip)]
    pub api_key: Option<Secret>,
    /// Where `api_key` came from; `None` when neither variable is set.
    pub auth_source: Option<AuthSource>,
    /// From `ANTHROPIC_CUSTOM_HEADERS`, in order. Values may be secrets, so
    /// only the names are serialised.
    #[serde(serialize_with = "names_only")]
    pub custom_headers: Vec<(String, String)>,
    /// Per-read timeout (`API_TIMEOUT_MS`, default 10 minutes).
    pub timeout: Duration,
    /// Things the user should hear about in `--verbose`: ignored header
    /// lines, both credentials set, an unknown `auth_header`.
    pub warnings: Vec<String>,
}

fn names_only<S: Serializer>(headers: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(headers.iter().map(|(n, _)| n))
}

impl Default for AnthropicSettings {
    fn default() -> Self {
        AnthropicSettings {
            base_url: DEFAULT_BASE_URL.into(),
            auth_header: AuthHeader::Authorization,
            api_version: CURRENT_API_VERSION.into(),
            api_key: None,
            auth_source: None,
            custom_headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            warnings: Vec::new(),
        }
    }
}

impl AnthropicSettings {
    /// Settings from the environment plus the config values the caller
    /// resolved (`anthropic.base_url`, `anthropic.auth_header`,
    /// `anthropic.api_version`).
    ///
    /// `base_url` falls back to `ANTHROPIC_BASE_URL`, then the public API.
    /// The credential is `ANTHROPIC_AUTH_TOKEN` (always sent as a bearer
    /// token) or else `ANTHROPIC_API_KEY` (sent in `auth_header`), matching
    /// Claude Code's precedence. Without an explicit `api_version`, the
    /// `x-api-key` form gets `2023-06-01` and `authorization` `2026-10-21`.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        base_url: Option<String>,
        auth_header: Option<&str>,
        api_version: Option<&str>,
    ) -> Self {
        let mut warnings = Vec::new();
        let nonempty = |k: &str| {
            env.get(k)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };

        let base_url = base_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .or_else(|| nonempty("ANTHROPIC_BASE_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.into())
            .trim_end_matches('/')
            .to_string();

        let auth_header = match auth_header.map(|h| (h, AuthHeader::parse(h))) {
            None => AuthHeader::Authorization,
            Some((_, Some(h))) => h,
            Some((raw, None)) => {
                warnings.push(format!(
                    "anthropic.auth_header `{raw}` is not `authorization` or `x-api-key`; using authorization"
                ));
                AuthHeader::Authorization
            }
        };
        let api_version = api_version
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| match auth_header {
                AuthHeader::Authorization => CURRENT_API_VERSION.into(),
                AuthHeader::XApiKey => LEGACY_API_VERSION.into(),
            });

        let token = nonempty("ANTHROPIC_AUTH_TOKEN");
        let key = nonempty("ANTHROPIC_API_KEY");
        if token.is_some() && key.is_some() {
            warnings.push(
                "both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY are set; using ANTHROPIC_AUTH_TOKEN"
                    .into(),
            );
        }
        let (api_key, auth_source) = match (token, key) {
            (Some(t), _) => (Some(Secret(t)), Some(AuthSource::AuthToken)),
            (None, Some(k)) => (Some(Secret(k)), Some(AuthSource::ApiKey)),
            (None, None) => (None, None),
        };

        let custom_headers = match env.get("ANTHROPIC_CUSTOM_HEADERS") {
            Some(raw) => parse_custom_headers(raw, &mut warnings),
            None => Vec::new(),
        };

        let timeout = match nonempty("API_TIMEOUT_MS").map(|v| v.parse::<u64>()) {
            Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
            Some(_) => {
                warnings.push(
                    "API_TIMEOUT_MS is not a positive number of milliseconds; using 600000".into(),
                );
                DEFAULT_TIMEOUT
            }
            None => DEFAULT_TIMEOUT,
        };

        AnthropicSettings {
            base_url,
            auth_header,
            api_version,
            api_key,
            auth_source,
            custom_headers,
            timeout,
            warnings,
        }
    }

    /// The header the credential actually goes in: a token is always a
    /// bearer token, a key goes where `auth_header` says.
    pub fn effective_auth_header(&self) -> AuthHeader {
        match self.auth_source {
            Some(AuthSource::AuthToken) => AuthHeader::Authorization,
            _ => self.auth_header,
        }
    }

    /// One line for `--verbose`, e.g. `auth: Authorization: Bearer
    /// (ANTHROPIC_API_KEY), anthropic-version 2026-10-21`. Never the key,
    /// and only the names of custom headers.
    pub fn describe(&self) -> String {
        let auth = match self.auth_source {
            Some(src) => format!(
                "{} ({})",
                self.effective_auth_header().wire_form(),
                src.env_var()
            ),
            None => "none (neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set)".to_string(),
        };
        let mut line = format!("auth: {auth}, anthropic-version {}", self.api_version);
        if !self.custom_headers.is_empty() {
            let names: Vec<&str> = self
                .custom_headers
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            line.push_str(&format!(", custom headers: {}", names.join(", ")));
        }
        line
    }

    /// What the 401 fix should add: which variable went in which header.
    pub(crate) fn auth_note(&self) -> String {
        match self.auth_source {
            None => "no credential was sent: neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set".into(),
            Some(AuthSource::AuthToken) => {
                "ANTHROPIC_AUTH_TOKEN was sent as `Authorization: Bearer`".into()
            }
            Some(AuthSource::ApiKey) => match self.auth_header {
                AuthHeader::Authorization => "ANTHROPIC_API_KEY was sent as `Authorization: Bearer`; if your endpoint expects the older `x-api-key` header, run `claude config set anthropic.auth_header x-api-key`".into(),
                AuthHeader::XApiKey => "ANTHROPIC_API_KEY was sent as `x-api-key`; if your endpoint expects a bearer token, run `claude config set anthropic.auth_header authorization`".into(),
            },
        }
    }
}

/// Parses `ANTHROPIC_CUSTOM_HEADERS`: one `Name: Value` per line. Lines that
/// are blank are skipped; lines that are not a valid header are skipped
/// with a warning that names the line number, never the value.
pub fn parse_custom_headers(raw: &str, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line.split_once(':').and_then(|(name, value)| {
            let name = name.trim();
            let value = value.trim();
            let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(value).is_ok();
            valid.then(|| (name.to_string(), value.to_string()))
        });
        match parsed {
            Some(h) => out.push(h),
            None => warnings.push(format!(
                "ANTHROPIC_CUSTOM_HEADERS line {} is not `Name: Value`; ignored",
                i + 1
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_to_bearer_and_the_current_version() {
        let s = AnthropicSettings::from_env(
            &env(&[("ANTHROPIC_API_KEY", "sk-ant-xyz")]),
            None,
            None,
            None,
        );
        assert_eq!(s.base_url, "https://api.anthropic.com");
        assert_eq!(s.auth_header, AuthHeader::Authorization);
        assert_eq!(s.api_version, "2026-10-21");
        assert_eq!(s.auth_source, Some(AuthSource::ApiKey));
        assert_eq!(
            s.describe(),
            "auth: Authorization: Bearer (ANTHROPIC_API_KEY), anthropic-version 2026-10-21"
        );
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn x_api_key_defaults_to_the_older_version_unless_one_is_given() {
        let e = env(&[("ANTHROPIC_API_KEY", "k")]);
        let s = AnthropicSettings::from_env(&e, None, Some("X-Api-Key"), None);
        assert_eq!(s.auth_header, AuthHeader::XApiKey);
        assert_eq!(s.api_version, "2023-06-01");
        assert_eq!(
            s.describe(),
            "auth: x-api-key (ANTHROPIC_API_KEY), anthropic-version 2023-06-01"
        );
        let s = AnthropicSettings::from_env(&e, None, Some("x-api-key"), Some("2026-10-21"));
        assert_eq!(s.api_version, "2026-10-21");
        let s = AnthropicSettings::from_env(&e, None, Some("authorization"), Some("2023-06-01"));
        assert_eq!(s.api_version, "2023-06-01");
    }

    #[test]
    fn auth_token_wins_and_is_always_a_bearer_token() {
        let e = env(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_AUTH_TOKEN", "t")]);
        let s = AnthropicSettings::from_env(&e, None, Some("x-api-key"), None);
        assert_eq!(s.auth_source, Some(AuthSource::AuthToken));
        assert_eq!(s.api_key.as_ref().map(Secret::expose), Some("t"));
        assert_eq!(s.effective_auth_header(), AuthHeader::Authorization);
        assert!(
            s.describe()
                .starts_with("auth: Authorization: Bearer (ANTHROPIC_AUTH_TOKEN)")
        );
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn base_url_comes_from_the_caller_then_the_environment() {
        let e = env(&[("ANTHROPIC_BASE_URL", "https://gw.example/anthropic/")]);
        let s = AnthropicSettings::from_env(&e, None, None, None);
        assert_eq!(s.base_url, "https://gw.example/anthropic");
        let s = AnthropicSettings::from_env(&e, Some("http://127.0.0.1:9/".into()), None, None);
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        let s =
            AnthropicSettings::from_env(&env(&[("ANTHROPIC_BASE_URL", "  ")]), None, None, None);
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
    }

    #[test]
    fn the_key_never_shows_in_debug_describe_or_json() {
        let s = AnthropicSettings::from_env(
            &env(&[
                ("ANTHROPIC_API_KEY", "sk-ant-SECRETVALUE"),
                ("ANTHROPIC_CUSTOM_HEADERS", "X-Gateway-Token: HEADERSECRET"),
            ]),
            None,
            None,
            None,
        );
        for text in [
            format!("{s:?}"),
            s.describe(),
            serde_json::to_string(&s).unwrap(),
            s.auth_note(),
        ] {
            assert!(!text.contains("SECRETVALUE"), "{text}");
        }
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            !json.contains("HEADERSECRET") && json.contains("X-Gateway-Token"),
            "{json}"
        );
        assert!(s.describe().ends_with("custom headers: X-Gateway-Token"));
    }

    #[test]
    fn no_credential_is_described_as_such() {
        let s = AnthropicSettings::from_env(&env(&[("ANTHROPIC_API_KEY", "")]), None, None, None);
        assert!(s.api_key.is_none() && s.auth_source.is_none());
        assert!(
            s.describe()
                .contains("neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN")
        );
    }

    #[test]
    fn custom_headers_parse_name_value_lines() {
        let mut w = Vec::new();
        let h = parse_custom_headers(
            "X-Amzn-Bedrock-GuardrailIdentifier: gr-1\r\n\nX-Amzn-Bedrock-GuardrailVersion:2\nbroken line\nBad Name: x\nX-Url: http://a:b/c\n",
            &mut w,
        );
        assert_eq!(
            h,
            vec![
                ("X-Amzn-Bedrock-GuardrailIdentifier".into(), "gr-1".into()),
                ("X-Amzn-Bedrock-GuardrailVersion".into(), "2".into()),
                ("X-Url".into(), "http://a:b/c".into()),
            ]
        );
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("line 4"));
    }

    #[test]
    fn unknown_auth_header_and_bad_timeout_warn() {
        let s = AnthropicSettings::from_env(
            &env(&[("API_TIMEOUT_MS", "soon")]),
            None,
            Some("cookie"),
            None,
        );
        assert_eq!(s.auth_header, AuthHeader::Authorization);
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert_eq!(s.warnings.len(), 2);
        let s = AnthropicSettings::from_env(&env(&[("API_TIMEOUT_MS", "1500")]), None, None, None);
        assert_eq!(s.timeout, Duration::from_millis(1500));
    }
}
