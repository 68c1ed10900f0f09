//! Direct-API errors → the troubleshooting cases, with retry decisions and
//! the server's wait hints.
//!
//! The error `type` in the body decides when it is known; the HTTP status
//! decides otherwise (a gateway's HTML 502 has no type). `x-should-retry`
//! overrides either way, as in the official SDKs.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use serde_json::Value;

use crate::error::{CallContext, CredentialsKind, DeniedKind, ProviderError, UnavailableKind};
use crate::retry::AttemptError;

/// The request id of a response: the `request-id` header.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    header(headers, "request-id").map(str::to_string)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The server's wait hint: `retry-after-ms`, then `retry-after` in seconds
/// (fractions allowed), then `retry-after` as an HTTP date. The retry loop
/// caps it.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let secs = |v: &str, scale: f64| {
        v.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| Duration::from_secs_f64((n / scale).min(86_400.0)))
    };
    if let Some(d) = header(headers, "retry-after-ms").and_then(|v| secs(v, 1000.0)) {
        return Some(d);
    }
    let v = header(headers, "retry-after")?;
    secs(v, 1.0).or_else(|| {
        httpdate::parse_http_date(v)
            .ok()
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    })
}

/// `x-should-retry: true|false`, when present.
pub fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match header(headers, "x-should-retry")?
        .to_ascii_lowercase()
        .as_str()
    {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// What the server said went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    /// `None` for errors inside the stream.
    pub status: Option<u16>,
    /// `error.type`, or one derived from the status.
    pub error_type: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// The `error.type` the API documents for a status.
fn type_for_status(status: u16) -> String {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        500 => "api_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        other => return format!("http_{other}"),
    }
    .to_string()
}

/// Reads an error response body: the API's JSON error envelope, or the
/// start of whatever a proxy sent instead.
pub fn parse_error_body(status: u16, headers: &HeaderMap, body: &[u8], url: &str) -> ErrorInfo {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let error = json.as_ref().map(|v| &v["error"]);
    let error_type = error
        .and_then(|e| e["type"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| type_for_status(status));
    let mut message = match error.and_then(|e| e["message"].as_str()) {
        Some(m) => m.to_string(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut snippet: String = text.chars().take(300).collect();
            if snippet.len() < text.len() {
                snippet.push('…');
            }
            if snippet.is_empty() {
                format!("HTTP {status} from {url} with an empty body")
            } else {
                format!("HTTP {status} from {url}: {snippet}")
            }
        }
    };
    if let Some(code) = error.and_then(|e| e["details"]["error_code"].as_str()) {
        message.push_str(&format!(" ({code})"));
    }
    let request_id = request_id(headers).or_else(|| {
        json.as_ref()
            .and_then(|v| v["request_id"].as_str())
            .map(str::to_string)
    });
    ErrorInfo {
        status: Some(status),
        error_type,
        message,
        request_id,
    }
}

/// Classifies an HTTP error response, applying the wait hint and
/// `x-should-retry`.
pub fn classify_response(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    url: &str,
    ctx: &CallContext,
    auth_note: &str,
) -> AttemptError {
    let info = parse_error_body(status, headers, body, url);
    let hint = retry_after(headers, SystemTime::now());
    let classified = classify(&info, ctx, auth_note);
    match (should_retry(headers), classified) {
        (Some(false), AttemptError::Retryable { error, .. }) => AttemptError::Fatal(error),
        (Some(true), AttemptError::Fatal(error)) => AttemptError::Retryable {
            reason: format!("The Anthropic API asked for a retry ({})", info.error_type),
            hint,
            error,
        },
        (_, AttemptError::Retryable { reason, error, .. }) => AttemptError::Retryable {
            reason,
            hint,
            error,
        },
        (_, fatal) => fatal,
    }
}

/// Maps an error to the retry decision and the user's troubleshooting case.
pub fn classify(info: &ErrorInfo, ctx: &CallContext, auth_note: &str) -> AttemptError {
    let boxed = || Box::new(ctx.clone());
    let t = info.error_type.as_str();
    let status = info.status.unwrap_or(0);
    let request_id = info.request_id.clone();
    let message = info.message.clone();
    let is = |ty: &str, code: u16| t == ty || (status == code && !is_known_type(t));
    let retry = |reason: String, error: ProviderError| AttemptError::Retryable {
        reason,
        hint: None,
        error,
    };
    let service = |message: String| ProviderError::Service {
        code: t.to_string(),
        message,
        request_id: request_id.clone(),
        attempts: 1,
        ctx: boxed(),
    };

    if is("authentication_error", 401) {
        return AttemptError::Fatal(ProviderError::Credentials {
            kind: CredentialsKind::ApiKey,
            message: format!("{message} ({auth_note})"),
            request_id,
            ctx: boxed(),
        });
    }
    if is("permission_error", 403) || is("billing_error", 402) {
        return AttemptError::Fatal(ProviderError::AccessDenied {
            kind: DeniedKind::Permission,
            message,
            request_id,
            ctx: boxed(),
        });
    }
    if is("not_found_error", 404) {
        return AttemptError::Fatal(ProviderError::ModelNotAvailable {
            kind: UnavailableKind::NotFound,
            message,
            request_id,
            ctx: boxed(),
        });
    }
    if is("request_too_large", 413) {
        return AttemptError::Fatal(ProviderError::Invalid {
            code: "request_too_large".into(),
            message: format!(
                "the request exceeds the Messages API's 32 MB limit ({message}). Use `/wipe` to shrink the conversation, or attach fewer or smaller files"
            ),
            request_id,
            ctx: boxed(),
        });
    }
    if is("rate_limit_error", 429) {
        return retry(
            format!("The Anthropic API is rate limiting ({t})"),
            ProviderError::Throttled {
                message,
                request_id,
                attempts: 1,
                ctx: boxed(),
            },
        );
    }
    if is("overloaded_error", 529) {
        return retry(
            format!("The Anthropic API is overloaded ({t})"),
            service(message),
        );
    }
    if is("api_error", 500) {
        return retry(
            format!("The Anthropic API had an internal error ({t})"),
            service(message),
        );
    }
    if is("timeout_error", 504) {
        return retry(
            format!("The Anthropic API timed out ({t})"),
            service(message),
        );
    }
    if is("conflict_error", 409) {
        return retry(
            format!("The Anthropic API reported a conflict ({t})"),
            service(message),
        );
    }
    if status == 408 || status >= 500 {
        return retry(
            format!("The Anthropic API is unavailable (HTTP {status})"),
            service(message),
        );
    }
    AttemptError::Fatal(ProviderError::Invalid {
        code: t.to_string(),
        message,
        request_id,
        ctx: boxed(),
    })
}

fn is_known_type(t: &str) -> bool {
    matches!(
        t,
        "invalid_request_error"
            | "authentication_error"
            | "billing_error"
            | "permission_error"
            | "not_found_error"
            | "conflict_error"
            | "request_too_large"
            | "rate_limit_error"
            | "api_error"
            | "timeout_error"
            | "overloaded_error"
    )
}

/// A failure before any response: connection refused, DNS, TLS, timeouts.
/// Always worth another try, except a request that could not be built.
pub fn transport_error(err: &reqwest::Error, ctx: &CallContext) -> AttemptError {
    let detail = crate::error::error_chain(err);
    if err.is_builder() {
        return AttemptError::Fatal(ProviderError::Invalid {
            code: "RequestNotBuilt".into(),
            message: detail,
            request_id: None,
            ctx: Box::new(ctx.clone()),
        });
    }
    let (code, reason) = if err.is_timeout() {
        (
            "Timeout",
            format!("The request to {} timed out", ctx.endpoint),
        )
    } else if err.is_connect() {
        (
            "ConnectionError",
            format!("Could not reach {}", ctx.endpoint),
        )
    } else {
        (
            "ConnectionError",
            format!("The connection to {} failed", ctx.endpoint),
        )
    };
    AttemptError::Retryable {
        reason: reason.clone(),
        hint: None,
        error: ProviderError::Service {
            code: code.into(),
            message: format!("{reason}: {detail}"),
            request_id: None,
            attempts: 1,
            ctx: Box::new(ctx.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ctx() -> CallContext {
        CallContext {
            provider: "anthropic",
            region: "api.anthropic.com".into(),
            endpoint: "https://api.anthropic.com".into(),
            model_id: "claude-sonet-4-5".into(),
            suggestion: Some("claude-sonnet-4-5".into()),
            ..Default::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn body(ty: &str, msg: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": "error",
            "error": {"type": ty, "message": msg},
            "request_id": "req_body"
        }))
        .unwrap()
    }

    fn run(status: u16, h: &[(&'static str, &str)], b: &[u8]) -> AttemptError {
        classify_response(
            status,
            &headers(h),
            b,
            "https://api.anthropic.com/v1/messages",
            &ctx(),
            "NOTE",
        )
    }

    fn summary(a: &AttemptError) -> String {
        match a {
            AttemptError::Retryable {
                error,
                hint,
                reason,
            } => {
                format!("retry:{}:{hint:?}:{reason}", error.code())
            }
            AttemptError::Fatal(e) => format!(
                "fatal:{}",
                match e {
                    ProviderError::AccessDenied { kind, .. } => format!("{kind:?}"),
                    ProviderError::ModelNotAvailable { kind, .. } => format!("{kind:?}"),
                    ProviderError::Credentials { kind, .. } => format!("{kind:?}"),
                    other => other.code(),
                }
            ),
        }
    }

    #[test]
    fn retry_after_prefers_ms_then_seconds_then_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(1500)));
        let h = headers(&[("retry-after-ms", "soon"), ("retry-after", "2.5")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(2500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        let h = headers(&[("retry-after", &date)]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "tomorrow")]), now),
            None
        );
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses_and_types_classify_as_their_cases() {
        assert_eq!(
            summary(&run(
                401,
                &[],
                &body("authentication_error", "invalid x-api-key")
            )),
            "fatal:ApiKey"
        );
        assert_eq!(
            summary(&run(403, &[], &body("permission_error", "no"))),
            "fatal:Permission"
        );
        assert_eq!(
            summary(&run(
                402,
                &[],
                &body("billing_error", "credit balance too low")
            )),
            "fatal:Permission"
        );
        assert_eq!(
            summary(&run(
                404,
                &[],
                &body("not_found_error", "model: claude-sonet-4-5")
            )),
            "fatal:NotFound"
        );
        assert_eq!(
            summary(&run(
                400,
                &[],
                &body("invalid_request_error", "max_tokens: too big")
            )),
            "fatal:invalid_request_error"
        );
        assert_eq!(
            summary(&run(
                413,
                &[],
                &body(
                    "request_too_large",
                    "Request exceeds the maximum allowed number of bytes."
                )
            )),
            "fatal:request_too_large"
        );
        assert_eq!(
            summary(&run(
                429,
                &[("retry-after", "1")],
                &body("rate_limit_error", "slow down")
            )),
            "retry:throttled:Some(1s):The Anthropic API is rate limiting (rate_limit_error)"
        );
        assert_eq!(
            summary(&run(529, &[], &body("overloaded_error", "Overloaded"))),
            "retry:overloaded_error:None:The Anthropic API is overloaded (overloaded_error)"
        );
        assert_eq!(
            summary(&run(500, &[], &body("api_error", "x"))),
            "retry:api_error:None:The Anthropic API had an internal error (api_error)"
        );
        assert_eq!(
            summary(&run(504, &[], b"")),
            "retry:timeout_error:None:The Anthropic API timed out (timeout_error)"
        );
        assert_eq!(
            summary(&run(502, &[], b"<html>Bad gateway</html>")),
            "retry:http_502:None:The Anthropic API is unavailable (HTTP 502)"
        );
        assert_eq!(summary(&run(422, &[], b"nope")), "fatal:http_422");
    }

    #[test]
    fn x_should_retry_overrides_both_ways() {
        assert_eq!(
            summary(&run(
                529,
                &[("x-should-retry", "false")],
                &body("overloaded_error", "o")
            )),
            "fatal:overloaded_error"
        );
        assert_eq!(
            summary(&run(
                400,
                &[("x-should-retry", "true"), ("retry-after-ms", "20")],
                &body("invalid_request_error", "flaky")
            )),
            "retry:invalid_request_error:Some(20ms):The Anthropic API asked for a retry (invalid_request_error)"
        );
    }

    #[test]
    fn request_id_comes_from_the_header_else_the_body() {
        let a = run(
            400,
            &[("request-id", "req_hdr")],
            &body("invalid_request_error", "x"),
        );
        let AttemptError::Fatal(e) = a else { panic!() };
        assert_eq!(e.request_id(), Some("req_hdr"));
        let AttemptError::Fatal(e) = run(400, &[], &body("invalid_request_error", "x")) else {
            panic!()
        };
        assert_eq!(e.request_id(), Some("req_body"));
        assert!(e.to_string().ends_with("Request ID: req_body"));
    }

    #[test]
    fn messages_explain_the_fix() {
        let AttemptError::Fatal(e) = run(
            401,
            &[("request-id", "req_1")],
            &body("authentication_error", "invalid x-api-key"),
        ) else {
            panic!()
        };
        let s = e.to_string();
        assert!(
            s.contains("ANTHROPIC_API_KEY") && s.contains("invalid x-api-key (NOTE)"),
            "{s}"
        );
        let AttemptError::Fatal(e) = run(
            404,
            &[],
            &body("not_found_error", "model: claude-sonet-4-5"),
        ) else {
            panic!()
        };
        assert!(
            e.to_string().contains("Did you mean `claude-sonnet-4-5`?"),
            "{e}"
        );
        let AttemptError::Fatal(e) = run(413, &[], b"") else {
            panic!()
        };
        let s = e.to_string();
        assert!(s.contains("32 MB") && s.contains("/wipe"), "{s}");
        let AttemptError::Fatal(e) = run(
            400,
            &[],
            &body(
                "invalid_request_error",
                "messages: text content blocks must be non-empty",
            ),
        ) else {
            panic!()
        };
        assert!(
            e.to_string()
                .contains("messages: text content blocks must be non-empty")
        );
    }

    #[test]
    fn spend_limit_details_are_kept() {
        let b = br#"{"type":"error","error":{"type":"rate_limit_error","message":"limit","details":{"error_code":"enforced_spend_limit_reached"}}}"#;
        let info = parse_error_body(429, &HeaderMap::new(), b, "u");
        assert_eq!(info.message, "limit (enforced_spend_limit_reached)");
    }

    #[test]
    fn stream_errors_classify_by_type() {
        let info = |t: &str| ErrorInfo {
            status: None,
            error_type: t.into(),
            message: "m".into(),
            request_id: None,
        };
        for t in ["overloaded_error", "api_error", "rate_limit_error"] {
            assert!(
                matches!(
                    classify(&info(t), &ctx(), ""),
                    AttemptError::Retryable { .. }
                ),
                "{t}"
            );
        }
        assert!(matches!(
            classify(&info("invalid_request_error"), &ctx(), ""),
            AttemptError::Fatal(ProviderError::Invalid { .. })
        ));
    }
}
