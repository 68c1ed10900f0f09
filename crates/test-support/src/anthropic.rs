//! A loopback Anthropic Messages API (`POST /v1/messages`), streaming SSE the way
//! api.anthropic.com does, quirks included: runs of spaces before the closing `}` of
//! `data:` lines, `{"type": "ping"}` with a space, and (optionally) event types a client
//! has never seen, which it must ignore.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::ids;
use crate::loopback::{Body, Loopback, Operation, RecordedRequest, full, lock, streamed};
use crate::messages::{self, Dialect, ToolCall, Usage};

/// Text of the reply sent when nothing is queued.
pub const DEFAULT_TEXT: &str = "Hello from loopback Anthropic.";

/// One scripted answer to one `POST /v1/messages` (retries included).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A text answer, `stop_reason` `end_turn`.
    Text {
        /// The full text; streamed as several `text_delta`s.
        text: String,
        /// Reported token counts.
        usage: Usage,
    },
    /// Optional text, then `tool_use` blocks; `stop_reason` `tool_use`.
    ToolUse {
        /// Text before the tool calls.
        text: Option<String>,
        /// `(id, name, input)` for each call.
        tools: Vec<ToolCall>,
        /// Reported token counts.
        usage: Usage,
    },
    /// Raw events, each sent as `event: <type>` with its JSON (padded like the real API);
    /// folded into one Message for non-streaming requests.
    Events(Vec<Value>),
    /// An HTTP error: `{"type":"error","error":{…},"request_id":…}`.
    Error {
        /// HTTP status.
        status: u16,
        /// `error.type`, e.g. `rate_limit_error`.
        error_type: String,
        /// `error.message`.
        message: String,
        /// The `retry-after` header, in seconds.
        retry_after: Option<String>,
    },
    /// HTTP 200, some text, then `event: error`. Non-streaming requests get the matching
    /// HTTP error instead.
    MidStreamError {
        /// `error.type`, e.g. `overloaded_error`.
        error_type: String,
        /// `error.message`.
        message: String,
    },
    /// A text answer with a pause before every event.
    Slow {
        /// Pause before each event.
        per_event: Duration,
        /// The text.
        text: String,
    },
    /// Accepts the request and never answers.
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

    /// An error with any status, type and message.
    pub fn error(status: u16, error_type: &str, message: impl Into<String>) -> Self {
        Reply::Error {
            status,
            error_type: error_type.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Reply::error(400, "invalid_request_error", message)
    }

    /// 401 `authentication_error`.
    pub fn authentication_error() -> Self {
        Reply::error(401, "authentication_error", "invalid x-api-key")
    }

    /// 403 `permission_error`.
    pub fn permission_error() -> Self {
        Reply::error(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        )
    }

    /// 404 `not_found_error` for an unknown model.
    pub fn not_found(model: &str) -> Self {
        Reply::error(404, "not_found_error", format!("model: {model}"))
    }

    /// 413 `request_too_large`.
    pub fn request_too_large() -> Self {
        Reply::error(
            413,
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        )
    }

    /// 429 `rate_limit_error` with `retry-after: <seconds>`.
    pub fn rate_limited(retry_after: &str) -> Self {
        Reply::Error {
            status: 429,
            error_type: "rate_limit_error".into(),
            message: "This request would exceed the rate limit for your organization. Please reduce the prompt length or the maximum tokens requested, or try again later.".into(),
            retry_after: Some(retry_after.to_owned()),
        }
    }

    /// 529 `overloaded_error`.
    pub fn overloaded() -> Self {
        Reply::error(529, "overloaded_error", "Overloaded")
    }

    /// 500 `api_error`.
    pub fn api_error() -> Self {
        Reply::error(500, "api_error", "Internal server error")
    }

    /// `event: error` with `overloaded_error` after some text.
    pub fn mid_stream_overloaded() -> Self {
        Reply::MidStreamError {
            error_type: "overloaded_error".into(),
            message: "Overloaded".into(),
        }
    }
}

/// Settings for [`AnthropicServer::start`].
#[derive(Debug, Clone, Default)]
pub struct AnthropicOptions {
    /// When set, require `x-api-key: <key>` or `Authorization: Bearer <key>`, else 401.
    pub api_key: Option<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Add an event of a type no client knows to every scripted stream.
    pub unknown_events: bool,
}

/// A running loopback Anthropic API; dropping it stops the server.
pub struct AnthropicServer {
    state: Arc<State>,
    loopback: Loopback,
}

struct State {
    opts: AnthropicOptions,
    requests: Mutex<Vec<RecordedRequest>>,
    replies: Mutex<VecDeque<Reply>>,
}

impl AnthropicServer {
    /// Binds 127.0.0.1 and serves on a background thread.
    ///
    /// # Panics
    /// If the port cannot be bound.
    pub fn start(opts: AnthropicOptions) -> AnthropicServer {
        let port = opts.port;
        let state = Arc::new(State {
            opts,
            requests: Mutex::new(Vec::new()),
            replies: Mutex::new(VecDeque::new()),
        });
        let handler_state = state.clone();
        let loopback = Loopback::start(
            port,
            Arc::new(move |req| Box::pin(handle(handler_state.clone(), req))),
        )
        .unwrap_or_else(|e| panic!("loopback Anthropic cannot bind 127.0.0.1:{port}: {e}"));
        AnthropicServer { state, loopback }
    }

    /// `http://127.0.0.1:PORT`, the base URL (requests go to `/v1/messages` under it).
    pub fn url(&self) -> String {
        self.loopback.url()
    }

    /// Every request received so far, rejected ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Queues a reply for the next valid request; with none queued it gets
    /// [`Reply::default`].
    pub fn push(&self, reply: Reply) {
        lock(&self.state.replies).push_back(reply);
    }
}

async fn handle(state: Arc<State>, req: Request<Bytes>) -> Response<Body> {
    let is_messages = req.method() == Method::POST && req.uri().path() == "/v1/messages";
    let operation = if is_messages {
        Operation::Messages
    } else {
        Operation::Other
    };
    let body: Option<Value> = serde_json::from_slice(req.body()).ok();
    let model = body
        .as_ref()
        .and_then(|b| b["model"].as_str())
        .map(str::to_owned);
    lock(&state.requests).push(RecordedRequest::new(&req, operation, model.clone()));
    if let Err(message) = authenticate(&state.opts, &req) {
        return error_response(401, "authentication_error", message, None);
    }
    if !is_messages {
        return error_response(404, "not_found_error", "Not Found", None);
    }
    let body = match validate(&req, body) {
        Ok(body) => body,
        Err(message) => return error_response(400, "invalid_request_error", &message, None),
    };
    let reply = lock(&state.replies).pop_front().unwrap_or_default();
    let streaming = body["stream"] == true;
    respond(
        reply,
        &model.unwrap_or_default(),
        streaming,
        state.opts.unknown_events,
    )
    .await
}

fn authenticate(opts: &AnthropicOptions, req: &Request<Bytes>) -> Result<(), &'static str> {
    let Some(key) = &opts.api_key else {
        return Ok(());
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let api_key = header("x-api-key");
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    match (api_key, bearer) {
        (None, None) => Err("x-api-key header is required"),
        _ if api_key == Some(key) || bearer == Some(key) => Ok(()),
        _ => Err("invalid x-api-key"),
    }
}

/// The direct API's checks on a Messages call, with its wording.
fn validate(req: &Request<Bytes>, body: Option<Value>) -> Result<Value, String> {
    if !req.headers().contains_key("anthropic-version") {
        return Err("anthropic-version: header is required".into());
    }
    let Some(body @ Value::Object(_)) = body else {
        return Err("There was an error parsing the body of your request.".into());
    };
    for key in ["model", "max_tokens", "messages"] {
        if body.get(key).is_none() {
            return Err(format!("{key}: Field required"));
        }
    }
    if body.get("anthropic_version").is_some() {
        return Err("anthropic_version: Extra inputs are not permitted".into());
    }
    Ok(body)
}

async fn respond(
    reply: Reply,
    model: &str,
    streaming: bool,
    unknown_events: bool,
) -> Response<Body> {
    let (mut events, delay, error) = match reply {
        Reply::Text { text, usage } => (
            script(model, Some(&text), &[], &usage),
            Duration::ZERO,
            None,
        ),
        Reply::ToolUse { text, tools, usage } => (
            script(model, text.as_deref(), &tools, &usage),
            Duration::ZERO,
            None,
        ),
        Reply::Events(events) => (events, Duration::ZERO, None),
        Reply::Error {
            status,
            error_type,
            message,
            retry_after,
        } => return error_response(status, &error_type, &message, retry_after.as_deref()),
        Reply::MidStreamError {
            error_type,
            message,
        } => {
            let events = vec![
                messages::message_start(Dialect::Anthropic, model, &Usage::new(12, 8)),
                messages::text_block_start(0),
                json!({"type": "ping"}),
                messages::text_delta(0, "Partial "),
                messages::text_delta(0, "answer"),
            ];
            (events, Duration::ZERO, Some((error_type, message)))
        }
        Reply::Slow { per_event, text } => (
            script(model, Some(&text), &[], &Usage::new(12, 8)),
            per_event,
            None,
        ),
        Reply::Hang => std::future::pending().await,
    };
    if !streaming {
        if let Some((error_type, message)) = error {
            return error_response(status_for(&error_type), &error_type, &message, None);
        }
        tokio::time::sleep(delay * events.len() as u32).await;
        return json_response(
            StatusCode::OK,
            &ids::request_id(),
            messages::fold(&events).to_string(),
        );
    }
    if unknown_events && error.is_none() {
        events.insert(
            events.len().min(3),
            json!({"type": "loopback_unknown_event", "note": "clients must ignore unknown event types"}),
        );
    }
    let body = streamed(move |sink| async move {
        for event in &events {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !sink.send(sse(event)).await {
                return;
            }
        }
        if let Some((error_type, message)) = error {
            let data = format!(
                r#"{{"type": "error", "error": {{"type": {}, "message": {}}}}}"#,
                Value::from(error_type),
                Value::from(message)
            );
            sink.send(format!("event: error\ndata: {data}\n\n")).await;
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("request-id", ids::request_id())
        .body(body)
        .expect("static response parts are valid")
}

/// A scripted stream as the real API orders it: a ping after the first block starts,
/// and `message_stop` last.
fn script(model: &str, text: Option<&str>, tools: &[ToolCall], usage: &Usage) -> Vec<Value> {
    let mut events = messages::reply_events(Dialect::Anthropic, model, text, tools, usage);
    events.insert(events.len().min(2), json!({"type": "ping"}));
    events.push(json!({"type": "message_stop"}));
    events
}

/// One SSE event. `data` is compact JSON with 1–15 spaces before its final `}`, as
/// recorded; ping is the literal the API sends.
fn sse(event: &Value) -> String {
    let kind = event["type"].as_str().unwrap_or("message");
    let data = if kind == "ping" {
        r#"{"type": "ping"}"#.to_owned()
    } else {
        let mut json = event.to_string();
        if json.ends_with('}') {
            json.insert_str(json.len() - 1, &" ".repeat(ids::in_range(1, 15)));
        }
        json
    };
    format!("event: {kind}\ndata: {data}\n\n")
}

fn status_for(error_type: &str) -> u16 {
    match error_type {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "conflict_error" => 409,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    }
}

fn error_response(
    status: u16,
    error_type: &str,
    message: &str,
    retry_after: Option<&str>,
) -> Response<Body> {
    let request_id = ids::request_id();
    let body = json!({
        "type": "error",
        "error": { "type": error_type, "message": message },
        "request_id": request_id,
    });
    let mut response = json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &request_id,
        body.to_string(),
    );
    let headers = response.headers_mut();
    if status == 429 {
        headers.insert("x-should-retry", http::HeaderValue::from_static("true"));
    }
    if let Some(value) = retry_after.and_then(|v| http::HeaderValue::from_str(v).ok()) {
        headers.insert("retry-after", value);
    }
    response
}

fn json_response(status: StatusCode, request_id: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", request_id)
        .body(full(body))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_pads_data_like_the_real_api() {
        let line = sse(&json!({"type": "message_stop"}));
        assert!(line.starts_with("event: message_stop\ndata: {\"type\":\"message_stop\" "));
        assert!(line.ends_with(" }\n\n"));
        assert_eq!(
            sse(&json!({"type": "ping"})),
            "event: ping\ndata: {\"type\": \"ping\"}\n\n"
        );
    }

    #[test]
    fn scripted_stream_has_ping_after_first_block_and_stop_last() {
        let events = script("claude-x", Some("Hi"), &[], &Usage::new(1, 2));
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(events[0]["message"]["model"], "claude-x");
        assert!(
            events[0]["message"]["id"]
                .as_str()
                .unwrap()
                .starts_with("msg_01")
        );
    }
}
