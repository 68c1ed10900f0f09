//! SDK errors → the spec's troubleshooting cases.
//!
//! Bedrock names errors by shape (`ThrottlingException`) on HTTP errors and by
//! union member (`throttlingException`) inside the event stream, so codes are
//! compared without regard to the first letter's case.

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::error::ResponseStreamError;

use crate::error::{CallContext, CredentialsKind, DeniedKind, ProviderError, UnavailableKind};
use crate::retry::AttemptError;

fn same(code: &str, shape: &str) -> bool {
    code.eq_ignore_ascii_case(shape)
}

/// Maps an error code and message to what the retry loop and user need.
pub fn classify(
    code: &str,
    message: &str,
    request_id: Option<String>,
    ctx: &CallContext,
) -> AttemptError {
    let boxed = || Box::new(ctx.clone());
    let msg = message.to_string();
    let lower = message.to_ascii_lowercase();
    let retryable = |reason: String, error: ProviderError| AttemptError::Retryable {
        reason,
        hint: None,
        error,
    };
    if same(code, "ThrottlingException") {
        return retryable(
            format!("Bedrock is throttling ({code})"),
            ProviderError::Throttled {
                message: msg,
                request_id,
                attempts: 1,
                ctx: boxed(),
            },
        );
    }
    for (shape, what) in [
        ("ModelNotReadyException", "the model is not ready"),
        ("ServiceUnavailableException", "Bedrock is unavailable"),
        ("InternalServerException", "Bedrock had an internal error"),
        ("ModelTimeoutException", "the model timed out"),
    ] {
        if same(code, shape) {
            let mut reason = what.to_string();
            if let Some(first) = reason.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            return retryable(
                format!("{reason} ({code})"),
                ProviderError::Service {
                    code: code.into(),
                    message: msg,
                    request_id,
                    attempts: 1,
                    ctx: boxed(),
                },
            );
        }
    }
    let fatal = |e: ProviderError| AttemptError::Fatal(e);
    let creds = |kind| {
        fatal(ProviderError::Credentials {
            kind,
            message: msg.clone(),
            request_id: request_id.clone(),
            ctx: boxed(),
        })
    };
    if same(code, "ExpiredTokenException")
        || same(code, "ExpiredToken")
        || lower.contains("security token included in the request is expired")
    {
        return creds(CredentialsKind::Expired);
    }
    if same(code, "UnrecognizedClientException") || same(code, "InvalidClientTokenId") {
        return creds(CredentialsKind::InvalidToken);
    }
    if same(code, "InvalidSignatureException") || same(code, "SignatureDoesNotMatch") {
        return creds(CredentialsKind::SignatureRejected);
    }
    if same(code, "MissingAuthenticationTokenException")
        || lower.contains("missing authentication token")
    {
        return creds(CredentialsKind::NotFound);
    }
    let unavailable = |kind| {
        fatal(ProviderError::ModelNotAvailable {
            kind,
            message: msg.clone(),
            request_id: request_id.clone(),
            ctx: boxed(),
        })
    };
    if lower.contains("legacy")
        || lower.contains("end of its life")
        || lower.contains("end of life")
    {
        return unavailable(UnavailableKind::Legacy);
    }
    if same(code, "AccessDeniedException") {
        let kind = if lower.contains("aws-marketplace") || lower.contains("marketplace") {
            DeniedKind::Marketplace
        } else if lower.contains("don't have access to the model")
            || lower.contains("do not have access to the model")
        {
            DeniedKind::ModelAccess
        } else {
            DeniedKind::Iam
        };
        return fatal(ProviderError::AccessDenied {
            kind,
            message: msg,
            request_id,
            ctx: boxed(),
        });
    }
    if same(code, "ValidationException") {
        if lower.contains("model identifier is invalid") {
            return unavailable(UnavailableKind::InvalidId);
        }
        if lower.contains("on-demand throughput") {
            return unavailable(UnavailableKind::OnDemandUnsupported);
        }
    }
    if same(code, "ResourceNotFoundException") {
        return unavailable(UnavailableKind::NotFound);
    }
    if same(code, "ServiceQuotaExceededException") {
        return fatal(ProviderError::Throttled {
            message: msg,
            request_id,
            attempts: 1,
            ctx: boxed(),
        });
    }
    fatal(ProviderError::Invalid {
        code: code.into(),
        message: msg,
        request_id,
        ctx: boxed(),
    })
}

/// Whether a client-side failure is the credential chain finding nothing.
fn is_credentials_failure(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("credentials")
        && (t.contains("not loaded")
            || t.contains("no credentials")
            || t.contains("failed to load")
            || t.contains("could not find")
            || t.contains("provider was not enabled")
            || t.contains("identity"))
}

/// Classifies an error from `send()`.
pub fn sdk_error<E, R>(err: SdkError<E, R>, ctx: &CallContext) -> AttemptError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_bedrockruntime::operation::RequestId;
    if let SdkError::ServiceError(service) = &err {
        let e = service.err();
        let code = e.code().unwrap_or("UnknownError").to_string();
        let message = e.message().unwrap_or_default().to_string();
        let request_id = e.meta().request_id().map(str::to_string);
        return classify(&code, &message, request_id, ctx);
    }
    let text = crate::error::error_chain(&err);
    let lower = text.to_ascii_lowercase();
    if lower.contains("expired") && (lower.contains("token") || lower.contains("credentials")) {
        // An expired SSO token or export-command credentials, found before sending.
        return AttemptError::Fatal(ProviderError::Credentials {
            kind: CredentialsKind::Expired,
            message: text,
            request_id: None,
            ctx: Box::new(ctx.clone()),
        });
    }
    if is_credentials_failure(&text) {
        return AttemptError::Fatal(ProviderError::Credentials {
            kind: CredentialsKind::NotFound,
            message: "no credentials were found by the AWS SDK credential chain".into(),
            request_id: None,
            ctx: Box::new(ctx.clone()),
        });
    }
    let (code, reason) = match &err {
        SdkError::TimeoutError(_) => (
            "Timeout",
            format!("The request to {} timed out", ctx.endpoint),
        ),
        SdkError::DispatchFailure(_) => (
            "ConnectionError",
            format!("Could not reach {}", ctx.endpoint),
        ),
        SdkError::ResponseError(_) => (
            "ResponseError",
            "Bedrock sent a response that could not be read".to_string(),
        ),
        _ => {
            return AttemptError::Fatal(ProviderError::Invalid {
                code: "RequestNotBuilt".into(),
                message: text,
                request_id: None,
                ctx: Box::new(ctx.clone()),
            });
        }
    };
    AttemptError::Retryable {
        reason: reason.clone(),
        hint: None,
        error: ProviderError::Service {
            code: code.into(),
            message: format!("{reason}: {text}"),
            request_id: None,
            attempts: 1,
            ctx: Box::new(ctx.clone()),
        },
    }
}

/// The code and message of an error that arrived inside the event stream.
/// Modeled stream exceptions carry no code in their metadata, so the code
/// is the union member that arrived.
pub fn stream_error_parts<R: std::fmt::Debug + 'static>(
    err: &SdkError<ResponseStreamError, R>,
) -> (String, String) {
    let SdkError::ServiceError(s) = err else {
        return ("StreamError".to_string(), crate::error::error_chain(err));
    };
    let e = s.err();
    let code = match e {
        ResponseStreamError::InternalServerException(_) => "internalServerException",
        ResponseStreamError::ModelStreamErrorException(_) => "modelStreamErrorException",
        ResponseStreamError::ValidationException(_) => "validationException",
        ResponseStreamError::ThrottlingException(_) => "throttlingException",
        ResponseStreamError::ModelTimeoutException(_) => "modelTimeoutException",
        ResponseStreamError::ServiceUnavailableException(_) => "serviceUnavailableException",
        other => other.code().unwrap_or("StreamError"),
    };
    (
        code.to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CallContext {
        CallContext {
            provider: "bedrock",
            region: "us-east-1".into(),
            model_id: "anthropic.claude-sonnet-4-20250514-v1:0".into(),
            ..Default::default()
        }
    }

    fn kind(code: &str, msg: &str) -> String {
        match classify(code, msg, Some("rid".into()), &ctx()) {
            AttemptError::Retryable { error, .. } => format!("retry:{}", error.code()),
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
    fn the_spec_error_messages_classify_as_their_cases() {
        assert_eq!(
            kind(
                "ThrottlingException",
                "Too many tokens, please wait before trying again."
            ),
            "retry:throttled"
        );
        assert_eq!(kind("throttlingException", "x"), "retry:throttled");
        assert_eq!(
            kind("internalServerException", "x"),
            "retry:internalServerException"
        );
        assert_eq!(
            kind("ModelNotReadyException", "x"),
            "retry:ModelNotReadyException"
        );
        assert_eq!(
            kind(
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID."
            ),
            "fatal:ModelAccess"
        );
        assert_eq!(
            kind(
                "AccessDeniedException",
                "User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:InvokeModel"
            ),
            "fatal:Iam"
        );
        assert_eq!(
            kind(
                "AccessDeniedException",
                "Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model."
            ),
            "fatal:Marketplace"
        );
        assert_eq!(
            kind(
                "ValidationException",
                "The provided model identifier is invalid."
            ),
            "fatal:InvalidId"
        );
        assert_eq!(
            kind(
                "ValidationException",
                "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
            ),
            "fatal:OnDemandUnsupported"
        );
        assert_eq!(
            kind(
                "ResourceNotFoundException",
                "Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in the last 15 days. Please upgrade to an active model on Amazon Bedrock"
            ),
            "fatal:Legacy"
        );
        assert_eq!(
            kind(
                "ExpiredTokenException",
                "The security token included in the request is expired"
            ),
            "fatal:Expired"
        );
        assert_eq!(
            kind(
                "UnrecognizedClientException",
                "The security token included in the request is invalid."
            ),
            "fatal:InvalidToken"
        );
        assert_eq!(
            kind(
                "InvalidSignatureException",
                "The request signature we calculated does not match"
            ),
            "fatal:SignatureRejected"
        );
        assert_eq!(
            kind(
                "ValidationException",
                "Malformed input request: extraneous key [stream] is not permitted"
            ),
            "fatal:ValidationException"
        );
    }

    #[test]
    fn connection_failures_read_as_text_not_rust_debug() {
        use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        use aws_smithy_runtime_api::http::Response;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err: SdkError<InvokeModelError, Response> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let AttemptError::Retryable { error, .. } = sdk_error(err, &ctx()) else {
            panic!("connection errors are retried")
        };
        let text = error.to_string();
        assert!(text.contains("Connection refused"), "{text}");
        assert!(
            !text.contains("DispatchFailure {") && !text.contains("ConnectorError {"),
            "{text}"
        );
    }
}
