//! What a scripted Bedrock invocation answers, and how each answer goes on the wire for
//! InvokeModel (one JSON body) and InvokeModelWithResponseStream (event-stream frames).

use std::time::{Duration, Instant};

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::eventstream::{chunk_frame, exception_frame};
use crate::ids;
use crate::loopback::{Body, full, streamed};
use crate::messages::{self, Dialect, ToolCall, Usage};

/// Where Bedrock says a guardrail intervened.
const GUARDRAIL_ACTION: &str = "amazon-bedrock-guardrailAction";

/// Text of the reply sent when nothing is queued.
pub const DEFAULT_TEXT: &str = "Hello from loopback Bedrock.";

/// One scripted answer to one invocation (retries included: each attempt takes the next).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A text answer, `stop_reason` `end_turn`.
    Text {
        /// The full text; streamed as several `text_delta`s.
        text: String,
        /// Reported token counts.
        usage: Usage,
    },
    /// Optional text, then `tool_use` blocks streamed as `input_json_delta` pieces;
    /// `stop_reason` `tool_use`.
    ToolUse {
        /// Text before the tool calls.
        text: Option<String>,
        /// `(id, name, input)` for each call.
        tools: Vec<ToolCall>,
        /// Reported token counts.
        usage: Usage,
    },
    /// Raw Anthropic events, each wrapped in a chunk frame as-is (nothing added); folded
    /// into one Message for InvokeModel.
    Events(Vec<Value>),
    /// An HTTP error before any stream: `status`, `x-amzn-ErrorType: <shape>:…`, and
    /// `{"message":…}`.
    Error {
        /// HTTP status.
        status: u16,
        /// Error shape, e.g. `ThrottlingException`.
        shape: String,
        /// The `message` member.
        message: String,
    },
    /// HTTP 200, then an exception frame, before or after some text. InvokeModel answers
    /// the matching HTTP error instead.
    MidStreamException {
        /// Whether `message_start` and some text come first.
        after_content: bool,
        /// The union member, e.g. `throttlingException`.
        member: String,
        /// The `message` member.
        message: String,
    },
    /// A text answer with a pause before every frame (InvokeModel waits for all of them).
    Slow {
        /// Pause before each event.
        per_event: Duration,
        /// The text.
        text: String,
    },
    /// A guardrail intervened: `text` is its blocked message, sent as the reply with
    /// `"amazon-bedrock-guardrailAction": "INTERVENED"` in the final `message_stop` chunk
    /// (InvokeModelWithResponseStream) or at the top of the body (InvokeModel).
    GuardrailIntervened {
        /// The guardrail's blocked-input or blocked-output message.
        text: String,
    },
    /// Accepts the request and never answers, for cancellation tests.
    Hang,
}

impl Default for Reply {
    fn default() -> Self {
        Reply::text(DEFAULT_TEXT)
    }
}

impl Reply {
    /// A text answer with input 12 and output 8 tokens.
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text {
            text: text.into(),
            usage: Usage::new(12, 8),
        }
    }

    /// An error reply with any status, shape and message.
    pub fn error(status: u16, shape: &str, message: impl Into<String>) -> Self {
        Reply::Error {
            status,
            shape: shape.to_owned(),
            message: message.into(),
        }
    }

    /// 429 ThrottlingException, as recorded.
    pub fn throttling() -> Self {
        Reply::error(
            429,
            "ThrottlingException",
            "Too many tokens, please wait before trying again.",
        )
    }

    /// 403 AccessDeniedException for a model the account has no access to.
    pub fn access_denied_model() -> Self {
        Reply::error(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    }

    /// 403 AccessDeniedException from IAM, e.g. action
    /// `bedrock:InvokeModelWithResponseStream` on a foundation-model or profile ARN.
    pub fn access_denied_iam(action: &str, resource: &str) -> Self {
        Reply::error(
            403,
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::123456789012:user/test is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
            ),
        )
    }

    /// 403 AccessDeniedException when the Marketplace subscription is missing.
    pub fn marketplace_denied() -> Self {
        Reply::error(
            403,
            "AccessDeniedException",
            "Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model. Refer to the Amazon Bedrock User Guide for further details. Your AWS Marketplace subscription for this model cannot be completed at this time. If you recently fixed this issue, try again after 15 minutes.",
        )
    }

    /// 400 ValidationException for an unknown model id, as recorded.
    pub fn invalid_model() -> Self {
        Reply::error(
            400,
            "ValidationException",
            "The provided model identifier is invalid.",
        )
    }

    /// 400 ValidationException for a model that needs an inference profile (note the
    /// U+2019 apostrophe Bedrock uses).
    pub fn on_demand_unsupported(model_id: &str) -> Self {
        Reply::error(
            400,
            "ValidationException",
            format!(
                "Invocation of model ID {model_id} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
            ),
        )
    }

    /// 404 ResourceNotFoundException for a Legacy model not used lately.
    pub fn legacy_model() -> Self {
        Reply::error(
            404,
            "ResourceNotFoundException",
            "Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in the last 15 days. Please upgrade to an active model on Amazon Bedrock",
        )
    }

    /// 500 InternalServerException.
    pub fn internal() -> Self {
        Reply::error(
            500,
            "InternalServerException",
            "The system encountered an unexpected error during processing. Try your request again.",
        )
    }

    /// 503 ServiceUnavailableException.
    pub fn unavailable() -> Self {
        Reply::error(
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
        )
    }

    /// 429 ModelNotReadyException (the SDKs retry it).
    pub fn model_not_ready() -> Self {
        Reply::error(
            429,
            "ModelNotReadyException",
            "Model is not ready for inference. Wait and try your request again.",
        )
    }

    /// 403 ExpiredTokenException for stale temporary credentials.
    pub fn expired_token() -> Self {
        Reply::error(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    }

    /// A guardrail intervention with the default blocked message of a new guardrail.
    pub fn guardrail_intervened() -> Self {
        Reply::GuardrailIntervened {
            text: "Sorry, the model cannot answer this question.".into(),
        }
    }

    /// A `throttlingException` frame after some text.
    pub fn mid_stream_throttling() -> Self {
        Reply::MidStreamException {
            after_content: true,
            member: "throttlingException".into(),
            message: "Too many tokens, please wait before trying again.".into(),
        }
    }

    /// Renders the reply for a request at `started`, for `model_id`.
    pub(crate) async fn respond(
        self,
        model_id: &str,
        streaming: bool,
        started: Instant,
    ) -> Response<Body> {
        let model = model_name(model_id);
        let mut plan = Plan {
            events: Vec::new(),
            metrics: None,
            delay: Duration::ZERO,
            exception: None,
            intervened: false,
        };
        match self {
            Reply::Text { text, usage } => plan.script(&model, Some(&text), &[], usage),
            Reply::ToolUse { text, tools, usage } => {
                plan.script(&model, text.as_deref(), &tools, usage)
            }
            Reply::Events(events) => plan.events = events,
            Reply::Error {
                status,
                shape,
                message,
            } => return error_response(status, &shape, &message),
            Reply::MidStreamException {
                after_content,
                member,
                message,
            } => {
                if after_content {
                    plan.events = vec![
                        messages::message_start(Dialect::Bedrock, &model, &Usage::new(12, 8)),
                        messages::text_block_start(0),
                        messages::text_delta(0, "Partial "),
                        messages::text_delta(0, "answer"),
                    ];
                }
                plan.exception = Some((member, message));
            }
            Reply::Slow { per_event, text } => {
                plan.script(&model, Some(&text), &[], Usage::new(12, 8));
                plan.delay = per_event;
            }
            Reply::GuardrailIntervened { text } => {
                plan.script(&model, Some(&text), &[], Usage::new(12, 8));
                plan.intervened = true;
            }
            Reply::Hang => std::future::pending().await,
        }
        if streaming {
            plan.stream(started)
        } else {
            plan.invoke(started).await
        }
    }
}

struct Plan {
    events: Vec<Value>,
    /// Set for scripted replies: a `message_stop` with invocation metrics ends the stream.
    metrics: Option<Usage>,
    delay: Duration,
    exception: Option<(String, String)>,
    /// Whether a guardrail intervened, which the final chunk or the body says.
    intervened: bool,
}

/// Tokio's timer rounds even a zero sleep up to its next 1 ms tick, which
/// would throttle a fast stream to 1,000 events a second.
async fn pause(delay: std::time::Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

impl Plan {
    fn script(&mut self, model: &str, text: Option<&str>, tools: &[ToolCall], usage: Usage) {
        self.events = messages::reply_events(Dialect::Bedrock, model, text, tools, &usage);
        self.metrics = Some(usage);
    }

    fn stream(self, started: Instant) -> Response<Body> {
        let body = streamed(move |sink| async move {
            let mut first_byte = None;
            let events = self.events.iter().map(Value::to_string);
            for event in events {
                pause(self.delay).await;
                first_byte.get_or_insert_with(|| millis(started));
                if !sink.send(chunk_frame(&event, ids::in_range(2, 61))).await {
                    return;
                }
            }
            if let Some(usage) = self.metrics {
                pause(self.delay).await;
                let first_byte = *first_byte.get_or_insert_with(|| millis(started));
                let mut stop = message_stop(&usage, millis(started), first_byte);
                if self.intervened {
                    stop[GUARDRAIL_ACTION] = "INTERVENED".into();
                }
                if !sink
                    .send(chunk_frame(&stop.to_string(), ids::in_range(2, 61)))
                    .await
                {
                    return;
                }
            }
            if let Some((member, message)) = self.exception {
                sink.send(exception_frame(&member, &message)).await;
            }
        });
        Response::builder()
            .header("content-type", "application/vnd.amazon.eventstream")
            .header("x-amzn-RequestId", ids::uuid())
            .header("X-Amzn-Bedrock-Content-Type", "application/json")
            .body(body)
            .expect("static response parts are valid")
    }

    async fn invoke(self, started: Instant) -> Response<Body> {
        if let Some((member, message)) = self.exception {
            let (status, shape) = stream_error_shape(&member);
            return error_response(status, &shape, &message);
        }
        tokio::time::sleep(self.delay * self.events.len() as u32).await;
        let mut message = messages::fold(&self.events);
        if self.intervened {
            message[GUARDRAIL_ACTION] = "INTERVENED".into();
        }
        let usage = messages::usage_of(&self.events);
        let mut response = Response::builder()
            .header("content-type", "application/json")
            .header("x-amzn-RequestId", ids::uuid())
            .header("X-Amzn-Bedrock-Invocation-Latency", millis(started))
            .header("X-Amzn-Bedrock-Output-Token-Count", usage.output)
            .header("X-Amzn-Bedrock-Input-Token-Count", usage.input);
        if usage.cache_read > 0 {
            response = response.header(
                "X-Amzn-Bedrock-Cache-Read-Input-Token-Count",
                usage.cache_read,
            );
        }
        if usage.cache_write > 0 {
            response = response.header(
                "X-Amzn-Bedrock-Cache-Write-Input-Token-Count",
                usage.cache_write,
            );
        }
        response
            .body(full(message.to_string()))
            .expect("static response parts are valid")
    }
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// The final chunk: Bedrock's billing view of the call.
fn message_stop(usage: &Usage, invocation_ms: u64, first_byte_ms: u64) -> Value {
    let mut metrics = json!({
        "inputTokenCount": usage.input,
        "outputTokenCount": usage.output,
        "invocationLatency": invocation_ms,
        "firstByteLatency": first_byte_ms,
    });
    if usage.cache_read > 0 {
        metrics["cacheReadInputTokenCount"] = usage.cache_read.into();
    }
    if usage.cache_write > 0 {
        metrics["cacheWriteInputTokenCount"] = usage.cache_write.into();
    }
    json!({ "type": "message_stop", "amazon-bedrock-invocationMetrics": metrics })
}

/// The HTTP status and shape InvokeModel uses for what the stream would report as `member`.
fn stream_error_shape(member: &str) -> (u16, String) {
    let status = match member {
        "throttlingException" => 429,
        "validationException" => 400,
        "modelTimeoutException" => 408,
        "modelStreamErrorException" => 424,
        "serviceUnavailableException" => 503,
        _ => 500,
    };
    let mut chars = member.chars();
    let shape = chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default();
    (status, shape)
}

/// A rest-json error as Bedrock sends it. Errors from AWS's authentication layer, which
/// sits in front of every service, carry coral's namespace rather than Bedrock's.
pub(crate) fn error_response(status: u16, shape: &str, message: &str) -> Response<Body> {
    let namespace = match shape {
        "ExpiredTokenException"
        | "IncompleteSignatureException"
        | "InvalidSignatureException"
        | "MissingAuthenticationTokenException"
        | "UnrecognizedClientException" => "com.amazon.coral.service",
        _ => "com.amazon.bedrock",
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-amzn-RequestId", ids::uuid())
        .header(
            "x-amzn-ErrorType",
            format!("{shape}:http://internal.amazon.com/coral/{namespace}/"),
        )
        .body(full(json!({ "message": message }).to_string()))
        .expect("static response parts are valid")
}

/// The `model` Bedrock reports in messages: the id without region prefix, provider, ARN
/// path or `-v1:0` suffix (`us.anthropic.claude-sonnet-4-5-20250929-v1:0` →
/// `claude-sonnet-4-5-20250929`).
pub(crate) fn model_name(model_id: &str) -> String {
    let id = model_id.rsplit('/').next().unwrap_or(model_id);
    let id = id
        .find("anthropic.")
        .map_or(id, |i| &id[i + "anthropic.".len()..]);
    let id = id.split(':').next().unwrap_or(id);
    match id.rfind("-v") {
        Some(i) if !id[i + 2..].is_empty() && id[i + 2..].bytes().all(|b| b.is_ascii_digit()) => {
            id[..i].to_owned()
        }
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_match_what_bedrock_reports() {
        for (id, name) in [
            (
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620",
            ),
            (
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "claude-sonnet-4-20250514",
            ),
            ("global.anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
            ("anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
            (
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
                "claude-haiku-4-5-20251001",
            ),
        ] {
            assert_eq!(model_name(id), name, "{id}");
        }
    }

    #[test]
    fn stream_members_map_to_http_shapes() {
        assert_eq!(
            stream_error_shape("throttlingException"),
            (429, "ThrottlingException".to_owned())
        );
        assert_eq!(
            stream_error_shape("modelStreamErrorException"),
            (424, "ModelStreamErrorException".to_owned())
        );
    }

    #[test]
    fn message_stop_adds_cache_counts_only_when_nonzero() {
        let plain = message_stop(&Usage::new(12, 100), 3592, 1019);
        assert_eq!(
            plain.to_string(),
            r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":100,"invocationLatency":3592,"firstByteLatency":1019}}"#
        );
        let cached = message_stop(
            &Usage {
                cache_read: 5,
                ..Usage::new(1, 2)
            },
            3,
            4,
        );
        assert_eq!(
            cached["amazon-bedrock-invocationMetrics"]["cacheReadInputTokenCount"],
            5
        );
        assert!(
            cached["amazon-bedrock-invocationMetrics"]
                .get("cacheWriteInputTokenCount")
                .is_none()
        );
    }
}
