//! Amazon Bedrock through the official AWS SDK for Rust: credentials and
//! region from `aws-config`, InvokeModel and InvokeModelWithResponseStream
//! from `aws-sdk-bedrockruntime`. The SDK's own retries are off; ours run in
//! `retry::with_retries` so every wait is announced once.

pub mod aws_files;
pub mod body;
mod classify;
pub mod control;
pub mod credentials;
mod headers;
pub mod profiles;
pub mod settings;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{ResponseStream, Trace};
use claude_protocol::{MessagesRequest, StreamAssembler, StreamEvent};
use futures_util::future::BoxFuture;

use crate::catalog::Catalog;
use crate::error::{CallContext, CredentialsKind, ProviderError};
use crate::provider::{
    CallOptions, Completion, EventSink, FailedAttempt, Provider, ProviderEvent, RetryNotice,
};
use crate::resolve::{prefix_for_region, split_profile_prefix};
use crate::retry::{Attempt, AttemptError, RetryPolicy, with_retries};
pub use settings::{AuthMode, BedrockSettings, Guardrail, SettingsInput, resolve_settings};

/// What a reply says when a guardrail blocked or masked it.
const GUARDRAIL_ACTION: &str = "amazon-bedrock-guardrailAction";
/// The stop reason a completion gets when a guardrail intervened (the
/// Converse API's name for it).
pub const GUARDRAIL_INTERVENED: &str = "guardrail_intervened";

pub struct BedrockProvider {
    /// Built again after a credential refresh, which drops the cached
    /// credentials and re-reads the chain.
    client: Mutex<Client>,
    settings: BedrockSettings,
    retry: RetryPolicy,
}

/// The runtime client for `settings`. Credentials are resolved lazily by
/// the SDK on the first call, so this does no network I/O.
async fn build_client(settings: &BedrockSettings) -> Client {
    let sdk = sdk_config(settings).await;
    let mut conf = aws_sdk_bedrockruntime::config::Builder::from(&sdk);
    if let Some(url) = &settings.endpoint_url {
        conf = conf.endpoint_url(url);
    }
    if settings.auth == AuthMode::None {
        conf = conf.allow_no_auth().auth_scheme_preference([
            aws_smithy_runtime_api::client::auth::AuthSchemeId::new("no_auth"),
        ]);
    }
    Client::from_conf(conf.build())
}

impl BedrockProvider {
    pub async fn new(settings: BedrockSettings, retry: RetryPolicy) -> Self {
        Self {
            client: Mutex::new(build_client(&settings).await),
            settings,
            retry,
        }
    }

    fn client(&self) -> Client {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// After an expired-credential answer: runs `awsAuthRefresh` when one
    /// is configured, then builds the client again from the chain (which
    /// drops the cached credentials). Says what it did, or why it failed.
    async fn refresh_credentials(&self) -> Result<String, String> {
        let done = match &self.settings.auth_refresh {
            Some(cmd) => {
                credentials::run_refresh(cmd).await?;
                format!("ran awsAuthRefresh `{cmd}` and reloaded them")
            }
            None => "reloaded them from the credential chain".to_string(),
        };
        let fresh = build_client(&self.settings).await;
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(done)
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
            auth_refresh: settings.auth_refresh.clone(),
            refresh_outcome: None,
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
    let cache = aws_config::identity::IdentityCache::lazy()
        .buffer_time(credentials::EXPIRY_MARGIN)
        .default_expiration(credentials::NO_EXPIRY_TTL)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .identity_cache(cache)
        .region(Region::new(settings.region.clone()))
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    if let Some(cmd) = &settings.credential_export {
        loader = loader.credentials_provider(credentials::ExportCommand::new(cmd));
    }
    if settings.auth == AuthMode::None {
        loader = loader.no_credentials();
    }
    let sdk = loader.load().await;
    match sdk.credentials_provider() {
        Some(chain) if settings.auth == AuthMode::Sigv4 => {
            let observed = credentials::Observed::wrap(chain, settings.credential_expiry.clone());
            sdk.into_builder().credentials_provider(observed).build()
        }
        _ => sdk,
    }
}

/// The `requestMetadata` JSON for a call (the `X-Amzn-Bedrock-Request-Metadata`
/// header). The invocation-log filters match keys and values of at most 256
/// characters from `[a-zA-Z0-9\s._:/=+$@-]`, so anything else becomes `_`.
pub fn request_metadata_json(pairs: &std::collections::BTreeMap<String, String>) -> Option<String> {
    if pairs.is_empty() {
        return None;
    }
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || " ._:/=+$@-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(256)
            .collect()
    };
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| (clean(k), serde_json::Value::String(clean(v))))
        .collect();
    serde_json::to_string(&map).ok()
}

/// The SDK's trace setting for `bedrock.guardrail.trace`.
fn trace(g: &Guardrail) -> Option<Trace> {
    g.trace
        .as_deref()
        .map(|t| Trace::from(t.to_ascii_uppercase().as_str()))
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
            if profiles::is_application_profile(&options.model_id) {
                // Unresolved, the call still goes out; it is only not priced.
                let _ = profiles::resolve(&self.settings, &options.model_id).await;
            }
            let body = serde_json::to_vec(&body::invoke_body(request)).unwrap_or_default();
            let attempt = BedrockAttempt {
                provider: self,
                model_id: &options.model_id,
                body: Blob::new(body),
                stream: options.stream,
                ctx: self.context(&options.model_id),
                metadata: if self.settings.request_metadata {
                    request_metadata_json(&options.metadata)
                } else {
                    None
                },
            };
            let first = with_retries(&attempt, &self.retry, sink).await;
            let expired = match first {
                Err(
                    e @ ProviderError::Credentials {
                        kind: CredentialsKind::Expired,
                        ..
                    },
                ) if self.settings.auth == AuthMode::Sigv4 => e,
                other => return other,
            };
            let with_outcome = |result: Result<Completion, ProviderError>, outcome: String| {
                result.map_err(|e| match e {
                    ProviderError::Credentials {
                        kind: CredentialsKind::Expired,
                        message,
                        request_id,
                        mut ctx,
                    } => {
                        ctx.refresh_outcome = Some(outcome);
                        ProviderError::Credentials {
                            kind: CredentialsKind::Expired,
                            message,
                            request_id,
                            ctx,
                        }
                    }
                    other => other,
                })
            };
            match self.refresh_credentials().await {
                Err(why) => with_outcome(Err(expired), why),
                Ok(done) => {
                    sink(ProviderEvent::Retry(RetryNotice {
                        reason: format!("AWS credentials expired; {done}"),
                        wait: Duration::ZERO,
                        next_attempt: 2,
                        max_attempts: 2,
                        failed: FailedAttempt {
                            code: "credentials_expired".into(),
                            request_id: expired.request_id().map(str::to_string),
                        },
                    }));
                    let second = with_retries(&attempt, &self.retry, sink).await;
                    with_outcome(second, format!("{done}, but they are still expired"))
                }
            }
        })
    }
}

struct BedrockAttempt<'a> {
    provider: &'a BedrockProvider,
    model_id: &'a str,
    body: Blob,
    stream: bool,
    ctx: CallContext,
    /// `requestMetadata`, already JSON.
    metadata: Option<String>,
}

/// Whether a reply or stream chunk says a guardrail intervened.
fn intervened(json: &serde_json::Value) -> bool {
    json.get(GUARDRAIL_ACTION)
        .and_then(serde_json::Value::as_str)
        .is_some_and(|a| a.eq_ignore_ascii_case("INTERVENED"))
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
        let guardrail = self.provider.settings.guardrail.as_ref();
        let out = self
            .provider
            .client()
            .invoke_model_with_response_stream()
            .model_id(self.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(self.body.clone())
            .set_guardrail_identifier(guardrail.map(|g| g.id.clone()))
            .set_guardrail_version(guardrail.map(|g| g.version.clone()))
            .set_trace(guardrail.and_then(trace))
            .set_request_metadata(self.metadata.clone())
            .send()
            .await
            .map_err(|e| classify::sdk_error(e, &self.ctx))?;
        let request_id = out.request_id().map(str::to_string);
        let mut rx = out.body;
        let mut asm = StreamAssembler::default();
        let mut first_byte = None;
        let mut shown = false;
        let mut blocked = false;
        loop {
            let next = rx.recv().await;
            first_byte.get_or_insert_with(|| started.elapsed());
            let event = match next {
                Ok(Some(ResponseStream::Chunk(part))) => {
                    let bytes = part.bytes.map(Blob::into_inner).unwrap_or_default();
                    if bytes
                        .windows(GUARDRAIL_ACTION.len())
                        .any(|w| w == GUARDRAIL_ACTION.as_bytes())
                    {
                        blocked |= serde_json::from_slice(&bytes).is_ok_and(|v| intervened(&v));
                    }
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
            stop_reason: if blocked {
                Some(GUARDRAIL_INTERVENED.into())
            } else {
                asm.stop_reason.clone()
            },
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
        let guardrail = self.provider.settings.guardrail.as_ref();
        let out = self
            .provider
            .client()
            .invoke_model()
            .model_id(self.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(self.body.clone())
            .set_guardrail_identifier(guardrail.map(|g| g.id.clone()))
            .set_guardrail_version(guardrail.map(|g| g.version.clone()))
            .set_trace(guardrail.and_then(trace))
            .set_request_metadata(self.metadata.clone())
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
        let mut done = crate::replay::unary_completion(
            &reply,
            Some(captured.usage()),
            request_id,
            latency,
            sink,
        );
        if intervened(&reply) {
            done.stop_reason = Some(GUARDRAIL_INTERVENED.into());
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_metadata_is_json_bedrock_accepts() {
        let pairs = std::collections::BTreeMap::from([
            ("session_id".to_string(), "0b6c-42".to_string()),
            ("project".to_string(), "/home/ana/my repo".to_string()),
            ("skill".to_string(), "résumé<x>#1,2".to_string()),
        ]);
        let json = request_metadata_json(&pairs).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["session_id"], "0b6c-42");
        assert_eq!(v["project"], "/home/ana/my repo");
        assert_eq!(v["skill"], "r_sum__x__1_2");
        assert_eq!(request_metadata_json(&Default::default()), None);
    }

    #[test]
    fn interventions_are_read_from_replies_and_chunks() {
        assert!(intervened(
            &serde_json::json!({"type": "message_stop", "amazon-bedrock-guardrailAction": "INTERVENED"})
        ));
        assert!(!intervened(
            &serde_json::json!({"amazon-bedrock-guardrailAction": "NONE"})
        ));
        assert!(!intervened(&serde_json::json!({"type": "message_stop"})));
        let g = Guardrail {
            id: "gr1".into(),
            version: "DRAFT".into(),
            trace: Some("enabled_full".into()),
        };
        assert_eq!(trace(&g), Some(Trace::EnabledFull));
    }
}
