//! The direct Anthropic Messages API: `POST {base_url}/v1/messages` over
//! reqwest (rustls, the system's trust store, `HTTPS_PROXY` honoured), the
//! SSE stream read by our own parser, errors classified to the same cases
//! and the same single retry loop as Bedrock.
//!
//! The credential goes only into a header marked sensitive; nothing here
//! logs headers, and no error or message carries the key.

mod classify;
pub mod headers;
pub mod settings;
pub mod sse;

use std::time::{Duration, Instant};

use bytes::Bytes;
use claude_protocol::{MessagesRequest, StreamAssembler, StreamEvent};
use futures_util::future::BoxFuture;
use http::HeaderMap;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::error::{CallContext, CredentialsKind, ProviderError};
use crate::provider::{CallOptions, Completion, EventSink, Provider, ProviderEvent};
use crate::retry::{Attempt, AttemptError, RetryPolicy, with_retries};
pub use settings::{AnthropicSettings, AuthHeader, AuthSource, Secret};
use sse::{Decoded, SseParser};

/// Error bodies are read up to this size; the rest is not needed.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct AnthropicProvider {
    client: Result<reqwest::Client, String>,
    headers: Result<HeaderMap, headers::HeaderError>,
    url: String,
    settings: AnthropicSettings,
    retry: RetryPolicy,
}

impl AnthropicProvider {
    /// Builds the HTTP client once (no network I/O). A client or header
    /// that cannot be built is reported by the first call, as a typed error.
    pub fn new(settings: AnthropicSettings, retry: RetryPolicy) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(settings.timeout)
            .build()
            .map_err(|e| crate::error::error_chain(&e));
        AnthropicProvider {
            client,
            headers: headers::base_headers(&settings),
            url: format!("{}/v1/messages", settings.base_url),
            settings,
            retry,
        }
    }

    pub fn settings(&self) -> &AnthropicSettings {
        &self.settings
    }

    /// The full URL calls go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn context(&self, model_id: &str) -> CallContext {
        let catalog = Catalog::builtin();
        let info = catalog.find(model_id).or_else(|| {
            catalog
                .models()
                .iter()
                .find(|m| undated(&m.api_id) == model_id)
        });
        let host = self
            .settings
            .base_url
            .split_once("://")
            .map_or(self.settings.base_url.as_str(), |(_, rest)| rest);
        let host = host.split('/').next().unwrap_or(host);
        let source = match self.settings.auth_source {
            Some(s) => format!(
                "{} (sent as {})",
                s.env_var(),
                self.settings.effective_auth_header().wire_form()
            ),
            None => "ANTHROPIC_AUTH_TOKEN / ANTHROPIC_API_KEY: not set".into(),
        };
        CallContext {
            provider: "anthropic",
            // Shown where Bedrock shows the region ("not offered in …").
            region: host.to_string(),
            model_id: model_id.to_string(),
            endpoint: self.settings.base_url.clone(),
            credential_sources: vec![source],
            replacement: info.and_then(|i| i.lifecycle.replacement.clone()),
            // The API takes dated names and their undated aliases
            // (`claude-sonnet-4-5`); offering both finds the closer one.
            suggestion: if info.is_none() {
                crate::did_you_mean(
                    model_id,
                    catalog
                        .models()
                        .iter()
                        .flat_map(|m| [m.api_id.as_str(), undated(&m.api_id)]),
                )
            } else {
                None
            },
            ..Default::default()
        }
    }
}

/// `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`; other names unchanged.
fn undated(api_id: &str) -> &str {
    match api_id.rsplit_once('-') {
        Some((base, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => api_id,
    }
}

/// The body: the request plus `model`, and `stream: true` when streaming.
pub fn request_body(request: &MessagesRequest, options: &CallOptions) -> Value {
    let mut body =
        serde_json::to_value(request).unwrap_or_else(|_| Value::Object(Default::default()));
    if let Value::Object(map) = &mut body {
        map.insert("model".into(), Value::String(options.model_id.clone()));
        if options.stream {
            map.insert("stream".into(), Value::Bool(true));
        }
    }
    body
}

impl Provider for AnthropicProvider {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let ctx = self.context(&options.model_id);
            let client = match &self.client {
                Ok(c) => c,
                Err(e) => {
                    return Err(ProviderError::Service {
                        code: "ClientInit".into(),
                        message: format!("could not set up the HTTPS client: {e}"),
                        request_id: None,
                        attempts: 0,
                        ctx: Box::new(ctx),
                    });
                }
            };
            let mut headers = match &self.headers {
                Ok(h) => h.clone(),
                Err(e) => {
                    return Err(ProviderError::Credentials {
                        kind: CredentialsKind::ApiKey,
                        message: e.0.clone(),
                        request_id: None,
                        ctx: Box::new(ctx),
                    });
                }
            };
            match headers::beta_header(&request.betas) {
                Ok(Some((name, value))) => {
                    headers.insert(name, value);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(ProviderError::Invalid {
                        code: "invalid_beta".into(),
                        message: e.0,
                        request_id: None,
                        ctx: Box::new(ctx),
                    });
                }
            }
            let body = serde_json::to_vec(&request_body(request, options)).unwrap_or_default();
            let attempt = AnthropicAttempt {
                client,
                url: &self.url,
                headers,
                body: Bytes::from(body),
                stream: options.stream,
                auth_note: self.settings.auth_note(),
                ctx,
            };
            with_retries(&attempt, &self.retry, sink).await
        })
    }
}

struct AnthropicAttempt<'a> {
    client: &'a reqwest::Client,
    url: &'a str,
    headers: HeaderMap,
    body: Bytes,
    stream: bool,
    auth_note: String,
    ctx: CallContext,
}

impl Attempt for AnthropicAttempt<'_> {
    async fn attempt(
        &self,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        let started = Instant::now();
        let response = self
            .client
            .post(self.url)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| classify::transport_error(&e, &self.ctx))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = read_capped(response, ERROR_BODY_LIMIT).await;
            return Err(classify::classify_response(
                status.as_u16(),
                &headers,
                &body,
                self.url,
                &self.ctx,
                &self.auth_note,
            ));
        }
        if self.stream {
            self.streamed(response, started, sink).await
        } else {
            self.unary(response, started, sink).await
        }
    }
}

impl AnthropicAttempt<'_> {
    async fn streamed(
        &self,
        mut response: reqwest::Response,
        started: Instant,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        let request_id = classify::request_id(response.headers());
        let mut parser = SseParser::new();
        let mut asm = StreamAssembler::default();
        let mut first_byte = None;
        let mut shown = false;
        let mut stopped = false;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    let code = if e.is_timeout() {
                        "Timeout"
                    } else {
                        "StreamError"
                    };
                    let message = format!("the stream broke: {}", crate::error::error_chain(&e));
                    return Err(self.broken(shown, &asm, code, &message, request_id));
                }
            };
            first_byte.get_or_insert_with(|| started.elapsed());
            for raw in parser.push(&chunk) {
                let event = match sse::decode(&raw) {
                    Decoded::Event(event) => event,
                    Decoded::Ignore => continue,
                    Decoded::Malformed(message) => {
                        return Err(self.broken(
                            shown,
                            &asm,
                            "MalformedEvent",
                            &message,
                            request_id,
                        ));
                    }
                };
                if let StreamEvent::Error { error } = &event {
                    return Err(self.stream_error(shown, &asm, error, request_id));
                }
                stopped |= matches!(event, StreamEvent::MessageStop { .. });
                shown |= event.is_visible_content();
                asm.push(&event);
                sink(ProviderEvent::Stream(event));
            }
        }
        parser.finish();
        if !stopped && asm.stop_reason.is_none() {
            return Err(self.broken(
                shown,
                &asm,
                "StreamEnded",
                "the stream ended before the reply was complete",
                request_id,
            ));
        }
        Ok(Completion {
            message: asm.message(),
            stop_reason: asm.stop_reason.clone(),
            usage: asm.billed_usage(),
            request_id,
            latency: started.elapsed(),
            first_byte,
            attempts: 1,
            failed_attempts: Vec::new(),
        })
    }

    /// `event: error` inside the stream: retried (when its type is a
    /// transient one) only while nothing has been shown.
    fn stream_error(
        &self,
        shown: bool,
        asm: &StreamAssembler,
        error: &Value,
        header_request_id: Option<String>,
    ) -> AttemptError {
        let info = classify::ErrorInfo {
            status: None,
            error_type: error["type"].as_str().unwrap_or("error").to_string(),
            message: error["message"].as_str().unwrap_or_default().to_string(),
            request_id: header_request_id
                .or_else(|| error["request_id"].as_str().map(str::to_string)),
        };
        if shown {
            return AttemptError::Fatal(ProviderError::interrupted(
                info.error_type,
                info.message,
                info.request_id,
                asm,
                &self.ctx,
            ));
        }
        classify::classify(&info, &self.ctx, &self.auth_note)
    }

    /// A stream that broke on the wire: retried when nothing was shown yet,
    /// kept as an incomplete reply otherwise.
    fn broken(
        &self,
        shown: bool,
        asm: &StreamAssembler,
        code: &str,
        message: &str,
        request_id: Option<String>,
    ) -> AttemptError {
        if shown {
            return AttemptError::Fatal(ProviderError::interrupted(
                code.into(),
                message.into(),
                request_id,
                asm,
                &self.ctx,
            ));
        }
        AttemptError::Retryable {
            reason: format!("The Anthropic API stream broke ({code})"),
            hint: None,
            error: ProviderError::Service {
                code: code.into(),
                message: message.into(),
                request_id,
                attempts: 1,
                ctx: Box::new(self.ctx.clone()),
            },
        }
    }

    async fn unary(
        &self,
        response: reqwest::Response,
        started: Instant,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        let request_id = classify::request_id(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AttemptError::Retryable {
                reason: format!(
                    "The Anthropic API reply broke off ({})",
                    if e.is_timeout() {
                        "Timeout"
                    } else {
                        "StreamError"
                    }
                ),
                hint: None,
                error: ProviderError::Service {
                    code: "StreamError".into(),
                    message: format!(
                        "could not read the reply: {}",
                        crate::error::error_chain(&e)
                    ),
                    request_id: request_id.clone(),
                    attempts: 1,
                    ctx: Box::new(self.ctx.clone()),
                },
            })?;
        let latency = started.elapsed();
        let reply: Value = serde_json::from_slice(&bytes).map_err(|e| {
            AttemptError::Fatal(ProviderError::Service {
                code: "MalformedResponse".into(),
                message: format!("could not read the Messages reply: {e}"),
                request_id: request_id.clone(),
                attempts: 1,
                ctx: Box::new(self.ctx.clone()),
            })
        })?;
        Ok(crate::replay::unary_completion(
            &reply, None, request_id, latency, sink,
        ))
    }
}

/// Reads at most `limit` bytes of a body; a failure mid-way keeps what came.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use claude_protocol::{ContentBlock, Message, Usage};
    use std::collections::BTreeMap;

    #[test]
    fn body_adds_model_and_stream_to_the_request() {
        let req = MessagesRequest {
            max_tokens: 16,
            messages: vec![Message::user("hi")],
            betas: vec!["b".into()],
            ..Default::default()
        };
        let opts = CallOptions {
            model_id: "claude-sonnet-4-5".into(),
            stream: true,
            label: None,
            metadata: Default::default(),
        };
        assert_eq!(
            request_body(&req, &opts),
            serde_json::json!({"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}], "model": "claude-sonnet-4-5", "stream": true})
        );
        let opts = CallOptions {
            stream: false,
            ..opts
        };
        assert!(request_body(&req, &opts).get("stream").is_none());
    }

    #[test]
    fn context_names_the_host_and_suggests_close_api_ids() {
        let env = BTreeMap::from([("ANTHROPIC_API_KEY".to_string(), "sk-ant-SECRET".to_string())]);
        let p = AnthropicProvider::new(
            AnthropicSettings::from_env(
                &env,
                Some("https://gw.example:8443/anthropic/".into()),
                None,
                None,
            ),
            RetryPolicy::default(),
        );
        assert_eq!(p.url(), "https://gw.example:8443/anthropic/v1/messages");
        let c = p.context("claude-sonet-4-5");
        assert_eq!(c.provider, "anthropic");
        assert_eq!(c.region, "gw.example:8443");
        assert_eq!(c.suggestion.as_deref(), Some("claude-sonnet-4-5"));
        assert!(!format!("{c:?}").contains("SECRET"));
        let known = Catalog::builtin().models()[0].api_id.clone();
        assert_eq!(p.context(&known).suggestion, None);
        assert_eq!(p.context("claude-sonnet-4-5").suggestion, None);
        assert_eq!(undated("claude-sonnet-4-5-20250929"), "claude-sonnet-4-5");
        assert_eq!(undated("claude-opus-4-6"), "claude-opus-4-6");
    }

    #[test]
    fn synthesized_events_assemble_to_the_reply() {
        let reply = serde_json::json!({
            "id": "msg_1", "model": "m", "stop_reason": "tool_use",
            "content": [{"type": "text", "text": "Let me check."},
                        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "a"}}],
            "usage": {"input_tokens": 10, "output_tokens": 20}
        });
        let blocks: Vec<ContentBlock> = serde_json::from_value(reply["content"].clone()).unwrap();
        let usage: Usage = serde_json::from_value(reply["usage"].clone()).unwrap();
        let mut asm = StreamAssembler::default();
        for e in crate::replay::synthesize_events(&reply, &blocks, &usage, Some("tool_use".into()))
        {
            asm.push(&e);
        }
        assert_eq!(asm.message(), Message::assistant(blocks));
        assert_eq!(asm.usage, usage);
        assert_eq!(asm.stop_reason.as_deref(), Some("tool_use"));
    }
}
