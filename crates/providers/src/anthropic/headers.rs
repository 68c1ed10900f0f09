//! The request headers of a direct-API call. The credential's header value
//! is marked sensitive, and nothing here is ever logged.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::settings::{AnthropicSettings, AuthHeader};

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");

/// Why the fixed headers could not be built. Names the variable, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError(pub String);

/// The headers every call carries: content type, accept, user agent,
/// `anthropic-version`, the credential, then `ANTHROPIC_CUSTOM_HEADERS`
/// (which replace a header of the same name).
pub fn base_headers(settings: &AnthropicSettings) -> Result<HeaderMap, HeaderError> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("claude-bedrock/", env!("CARGO_PKG_VERSION"))),
    );
    let version = HeaderValue::from_str(&settings.api_version).map_err(|_| {
        HeaderError(
            "anthropic.api_version contains characters that cannot be sent in an HTTP header"
                .into(),
        )
    })?;
    h.insert(ANTHROPIC_VERSION, version);
    if let (Some(key), Some(source)) = (&settings.api_key, settings.auth_source) {
        let (name, text) = match settings.effective_auth_header() {
            AuthHeader::Authorization => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            AuthHeader::XApiKey => (X_API_KEY, key.expose().to_string()),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            HeaderError(format!(
                "{} contains characters that cannot be sent in an HTTP header (a stray newline or quote?)",
                source.env_var()
            ))
        })?;
        value.set_sensitive(true);
        h.insert(name, value);
    }
    for (name, value) in &settings.custom_headers {
        // Validated when parsed; skip defensively if a caller built them by hand.
        if let (Ok(n), Ok(mut v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            v.set_sensitive(true);
            h.insert(n, v);
        }
    }
    Ok(h)
}

/// `anthropic-beta: a,b` for the request's betas; `None` when there are none.
pub fn beta_header(betas: &[String]) -> Result<Option<(HeaderName, HeaderValue)>, HeaderError> {
    if betas.is_empty() {
        return Ok(None);
    }
    let joined = betas
        .iter()
        .map(|b| b.trim())
        .filter(|b| !b.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    if joined.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(&joined)
        .map(|v| Some((ANTHROPIC_BETA, v)))
        .map_err(|_| {
            HeaderError(format!(
                "the beta names `{joined}` cannot be sent as an HTTP header"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(pairs: &[(&str, &str)], auth_header: Option<&str>) -> AnthropicSettings {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AnthropicSettings::from_env(&env, None, auth_header, None)
    }

    fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
        h.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn bearer_mode_sends_authorization_and_the_current_version() {
        let h = base_headers(&settings(&[("ANTHROPIC_API_KEY", "sk-ant-1")], None)).unwrap();
        assert_eq!(get(&h, "authorization"), Some("Bearer sk-ant-1"));
        assert!(h.get("authorization").unwrap().is_sensitive());
        assert_eq!(get(&h, "x-api-key"), None);
        assert_eq!(get(&h, "anthropic-version"), Some("2026-10-21"));
        assert_eq!(get(&h, "content-type"), Some("application/json"));
    }

    #[test]
    fn x_api_key_mode_sends_the_key_header_and_the_older_version() {
        let h = base_headers(&settings(
            &[("ANTHROPIC_API_KEY", "sk-ant-1")],
            Some("x-api-key"),
        ))
        .unwrap();
        assert_eq!(get(&h, "x-api-key"), Some("sk-ant-1"));
        assert!(h.get("x-api-key").unwrap().is_sensitive());
        assert_eq!(get(&h, "authorization"), None);
        assert_eq!(get(&h, "anthropic-version"), Some("2023-06-01"));
    }

    #[test]
    fn a_token_is_a_bearer_token_even_in_x_api_key_mode() {
        let h = base_headers(&settings(
            &[("ANTHROPIC_AUTH_TOKEN", "tok")],
            Some("x-api-key"),
        ))
        .unwrap();
        assert_eq!(get(&h, "authorization"), Some("Bearer tok"));
        assert_eq!(get(&h, "x-api-key"), None);
    }

    #[test]
    fn no_credential_sends_no_auth_header() {
        let h = base_headers(&settings(&[], None)).unwrap();
        assert!(h.get("authorization").is_none() && h.get("x-api-key").is_none());
    }

    #[test]
    fn custom_headers_are_added_and_replace_same_names() {
        let h = base_headers(&settings(
            &[
                ("ANTHROPIC_API_KEY", "k"),
                (
                    "ANTHROPIC_CUSTOM_HEADERS",
                    "X-Team: core\nanthropic-version: 2099-01-01",
                ),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(get(&h, "x-team"), Some("core"));
        assert_eq!(h.get_all("anthropic-version").iter().count(), 1);
        assert_eq!(get(&h, "anthropic-version"), Some("2099-01-01"));
    }

    #[test]
    fn a_key_with_a_newline_is_refused_without_echoing_it() {
        let mut s = settings(&[("ANTHROPIC_API_KEY", "k")], None);
        s.api_key = Some(super::super::settings::Secret::new("sk-ant-BAD\nVALUE"));
        let err = base_headers(&s).unwrap_err();
        assert!(
            err.0.contains("ANTHROPIC_API_KEY") && !err.0.contains("BAD"),
            "{err:?}"
        );
    }

    #[test]
    fn betas_are_comma_joined() {
        assert_eq!(beta_header(&[]).unwrap(), None);
        let (name, value) = beta_header(&["a-2025".into(), "b-2026".into()])
            .unwrap()
            .unwrap();
        assert_eq!(name.as_str(), "anthropic-beta");
        assert_eq!(value.to_str().unwrap(), "a-2025,b-2026");
        assert!(beta_header(&["bad\nbeta".into()]).is_err());
    }
}
