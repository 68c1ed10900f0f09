//! Amazon Bedrock through the official AWS SDK for Rust: credentials and
//! region from `aws-config`, InvokeModel and InvokeModelWithResponseStream
//! from `aws-sdk-bedrockruntime`. The SDK's own retries are off; ours run in
//! `retry::with_retries` so every wait is announced once.

pub mod aws_files;
pub mod body;
mod classify;
pub mod control;
mod headers;
pub mod settings;

use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::ResponseStream;
use claude_protocol::{MessagesRequest, StreamAssembler, StreamEvent};
use futures_util::future::BoxFuture;

use crate::catalog::Catalog;
use crate::error::{CallContext, ProviderError};
use crate::provider::{CallOptions, Completion, EventSink, Provider, ProviderEvent};
use crate::resolve::{prefix_for_region, split_profile_prefix};
use crate::retry::{Attempt, AttemptError, RetryPolicy, with_retries};
pub use settings::{AuthMode, BedrockSettings, SettingsInput, resolve_settings};

pub struct BedrockProvider {
    client: Client,
    settings: BedrockSettings,
    retry: RetryPolicy,
}

impl BedrockProvider {
    /// Builds the SDK client. Credentials are resolved lazily by the SDK on
    /// the first call, so this does no network I/O.
    pub async fn new(settings: BedrockSettings, retry: RetryPolicy) -> Self {
        let sdk = sdk_config(&settings).await;
        let mut conf = aws_sdk_bedrockruntime::config::Builder::from(&sdk);
        if let Some(url) = &settings.endpoint_url {
            conf = conf.endpoint_url(url);
        }
        if settings.auth == AuthMode::None {
            conf = conf.allow_no_auth().auth_scheme_preference([
                aws_smithy_runtime_api::client::auth::AuthSchemeId::new("no_auth"),
            ]);
        }
        Self {
            client: Client::from_conf(conf.build()),
            settings,
            retry,
        }
    }

    pub fn settings(&self) -> &BedrockSettings {
        &self.settings
    }

    fn context(&self, model_id: &str) -> CallContext {
        Self::context_for(&self.settings, model_id)
    }

    /// What an error about `model_id` needs to say, from the settings alone.
    pub fn context_for(settings: &BedrockSettings, model_id: &str) -> CallContext {
        let profile_name = settings.profile.clone().unwrap_or_else(|| "default".into());
        let info = aws_files::profile_info(&settings.env, &profile_name);
        let credential_sources = aws_files::credential_sources(&settings.env, &info);
        let sso_profile = info.sso;
        let catalog = Catalog::builtin();
        let base = split_profile_prefix(model_id).map_or(model_id, |(_, b)| b);
        let info = catalog.find(base);
        let suggested_profile = info.map(|i| {
            let wanted = prefix_for_region(&settings.region);
            let prefix = if i.profiles.iter().any(|p| p == wanted) {
                wanted
            } else {
                i.profiles.first().map_or("global", String::as_str)
            };
            format!("{prefix}.{}", i.id)
        });
        CallContext {
            provider: "bedrock",
            region: settings.region.clone(),
            model_id: model_id.to_string(),
            partition: settings.partition.clone(),
            endpoint: settings.endpoint_display.clone(),
            credential_sources,
            profile: settings.profile.clone(),
            sso_profile,
            suggested_profile,
            replacement: info.and_then(|i| i.lifecycle.replacement.clone()),
            suggestion: if info.is_none() {
                crate::did_you_mean(base, catalog.models().iter().map(|m| m.id.as_str()))
            } else {
                None
            },
        }
    }
}

/// The shared AWS SDK configuration: the user's region and profile, and no
/// SDK retries (ours announce themselves; the SDK's would multiply them).
pub async fn sdk_config(settings: &BedrockSettings) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    if settings.auth == AuthMode::None {
        loader = loader.no_credentials();
    }
    loader.load().await
}

impl Provider for BedrockProvider {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let body = serde_json::to_vec(&body::invoke_body(request)).unwrap_or_default();
            let attempt = BedrockAttempt {
                provider: self,
                model_id: &options.model_id,
                body: Blob::new(body),
                stream: options.stream,
                ctx: self.context(&options.model_id),
            };
            with_retries(&attempt, &self.retry, sink).await
        })
    }
}

struct BedrockAttempt<'a> {
    provider: &'a BedrockProvider,
    model_id: &'a str,
    body: Blob,
    stream: bool,
    ctx: CallContext,
}

impl Attempt for BedrockAttempt<'_> {
    async fn attempt(
        &self,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        if self.stream {
            self.streamed(sink).await
        } else {
            self.unary(sink).await
        }
    }
}

impl BedrockAttempt<'_> {
    async fn streamed(
        &self,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        let started = Instant::now();
        let out = self
            .provider
            .client
            .invoke_model_with_response_stream()
            .model_id(self.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| classify::sdk_error(e, &self.ctx))?;
        let request_id = out.request_id().map(str::to_string);
        let mut rx = out.body;
        let mut asm = StreamAssembler::default();
        let mut first_byte = None;
        let mut shown = false;
        loop {
            let next = rx.recv().await;
            first_byte.get_or_insert_with(|| started.elapsed());
            let event = match next {
                Ok(Some(ResponseStream::Chunk(part))) => {
                    let bytes = part.bytes.map(Blob::into_inner).unwrap_or_default();
                    match serde_json::from_slice::<StreamEvent>(&bytes) {
                        Ok(ev) => ev,
                        Err(e) => {
                            return Err(self.broken(
                                shown,
                                &asm,
                                "MalformedEvent",
                                &format!("could not read a stream event: {e}"),
                                request_id.clone(),
                                true,
                            ));
                        }
                    }
                }
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(e) => {
                    let (code, message) = classify::stream_error_parts(&e);
                    let classified =
                        classify::classify(&code, &message, request_id.clone(), &self.ctx);
                    if shown {
                        return Err(AttemptError::Fatal(ProviderError::interrupted(
                            code, message, request_id, &asm, &self.ctx,
                        )));
                    }
                    return Err(classified);
                }
            };
            if let StreamEvent::Error { error } = &event {
                let code = error["type"].as_str().unwrap_or("error").to_string();
                let message = error["message"].as_str().unwrap_or_default().to_string();
                return Err(self.broken(shown, &asm, &code, &message, request_id, false));
            }
            shown |= event.is_visible_content();
            asm.push(&event);
            sink(ProviderEvent::Stream(event));
        }
        if asm.metrics.is_none() && asm.stop_reason.is_none() {
            return Err(self.broken(
                shown,
                &asm,
                "StreamEnded",
                "the stream ended before the reply was complete",
                request_id,
                true,
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

    /// A stream that broke: retried when nothing was shown yet, kept as an
    /// incomplete reply otherwise.
    fn broken(
        &self,
        shown: bool,
        asm: &StreamAssembler,
        code: &str,
        message: &str,
        request_id: Option<String>,
        transient: bool,
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
        let classified = classify::classify(code, message, request_id.clone(), &self.ctx);
        match classified {
            AttemptError::Fatal(ProviderError::Invalid { .. }) if transient => {
                AttemptError::Retryable {
                    reason: format!("The Bedrock stream broke ({code})"),
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
            other => other,
        }
    }

    async fn unary(
        &self,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> Result<Completion, AttemptError> {
        let started = Instant::now();
        let captured = Arc::new(headers::Captured::default());
        let out = self
            .provider
            .client
            .invoke_model()
            .model_id(self.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(self.body.clone())
            .customize()
            .interceptor(headers::CaptureHeaders(captured.clone()))
            .send()
            .await
            .map_err(|e| classify::sdk_error(e, &self.ctx))?;
        let latency = started.elapsed();
        let request_id = out.request_id().map(str::to_string);
        let reply: serde_json::Value = serde_json::from_slice(out.body.as_ref()).map_err(|e| {
            AttemptError::Fatal(ProviderError::Service {
                code: "MalformedResponse".into(),
                message: format!("could not read the InvokeModel reply: {e}"),
                request_id: request_id.clone(),
                attempts: 1,
                ctx: Box::new(self.ctx.clone()),
            })
        })?;
        Ok(crate::replay::unary_completion(
            &reply,
            Some(captured.usage()),
            request_id,
            latency,
            sink,
        ))
    }
}
