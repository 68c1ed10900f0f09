//! From configuration to a ready provider: which provider, which endpoint,
//! which model ID, and why.

use std::collections::BTreeMap;

use claude_config::{Config, Origin, ProviderKind, Sourced};
use claude_protocol::MessagesRequest;
use claude_providers::Provider;
use claude_providers::anthropic::{AnthropicProvider, AnthropicSettings};
use claude_providers::bedrock::{
    self, AuthMode, BedrockProvider, BedrockSettings, Guardrail, SettingsInput, profiles,
};
use claude_providers::catalog::ALIASES;
use claude_providers::resolve::{
    ResolveError, ResolveInput, ResolvedModel, Target, allowed_by, resolve,
};
use claude_providers::retry::RetryPolicy;
use serde_json::{Value, json};

/// Claude Code's default output cap for models it does not know.
const DEFAULT_MAX_OUTPUT: u32 = 32_000;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Model(#[from] ResolveError),
    #[error("CLAUDE_CODE_MAX_OUTPUT_TOKENS must be a positive whole number, got `{0}`")]
    MaxTokens(String),
}

/// Everything a model call needs, resolved once per session.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub provider: ProviderKind,
    pub provider_origin: String,
    pub model: ResolvedModel,
    pub requested_model: Option<String>,
    pub bedrock: Option<BedrockSettings>,
    pub anthropic: Option<AnthropicSettings>,
    pub retry: RetryPolicy,
    pub max_tokens: u32,
    /// `false` for `--no-stream`.
    pub stream: bool,
    /// Kept to resolve `/model` switches the same way as `--model`.
    alias_overrides: BTreeMap<&'static str, (String, String)>,
    region_prefix: Option<String>,
    /// `availableModels`: every model chosen after the start must be in it.
    available_models: Option<Sourced<Vec<String>>>,
    max_output_env: Option<u32>,
    /// `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`: the share of the window that triggers compaction.
    autocompact_pct: u64,
    /// Ledger, audit log and budget; [`Runtime::connect`] puts them around
    /// the provider when set.
    pub accounting: Option<crate::accounting::AccountingHandle>,
}

fn origin_of(cfg: &Config, key: &str) -> Option<(String, String)> {
    cfg.get(key)
        .ok()
        .flatten()
        .map(|r| (r.value.to_string(), r.origin.to_string()))
}

impl Runtime {
    pub fn from_config(cfg: &Config) -> Result<Runtime, SetupError> {
        let provider = cfg.provider();
        let provider_origin = cfg
            .get("provider")
            .ok()
            .flatten()
            .map(|r| r.origin.to_string())
            .unwrap_or_else(|| "default".into());
        let env = cfg.env().clone();
        let bedrock = (provider == ProviderKind::Bedrock).then(|| bedrock_settings(cfg));
        let requested_model = cfg.str("model").map(str::to_string);
        let (target, region) = match &bedrock {
            Some(b) => (Target::Bedrock, b.region.clone()),
            None => (Target::Anthropic, String::new()),
        };
        let overrides = alias_overrides(cfg, target);
        let region_prefix = cfg.str("bedrock.region_prefix").map(str::to_string);
        let model = resolve(&ResolveInput {
            target,
            requested: requested_model.as_deref(),
            alias_overrides: overrides.clone(),
            region: &region,
            region_prefix: region_prefix.as_deref(),
        })?;
        let available_models = cfg.available_models().cloned();
        // The default model and the policy's own `model` are always allowed.
        let chosen = cfg
            .get("model")
            .ok()
            .flatten()
            .filter(|r| !matches!(r.origin, Origin::Managed(_)));
        if let Some(chosen) = chosen {
            check_allowed(available_models.as_ref(), &chosen.value.to_string(), &model)?;
        }
        let max_output_env = match env
            .get("CLAUDE_CODE_MAX_OUTPUT_TOKENS")
            .filter(|v| !v.is_empty())
        {
            Some(raw) => Some(
                raw.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| SetupError::MaxTokens(raw.clone()))?,
            ),
            None => None,
        };
        let max_tokens = max_tokens_for(&model, max_output_env);
        let autocompact_pct = env
            .get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|p| (1..=100).contains(p))
            .unwrap_or(95);
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts: cfg
                .u64("retry.max_attempts")
                .map_or(defaults.max_attempts, |n| n as u32),
            base: cfg
                .u64("retry.base_delay_ms")
                .map_or(defaults.base, std::time::Duration::from_millis),
            cap: cfg
                .u64("retry.max_delay_ms")
                .map_or(defaults.cap, std::time::Duration::from_millis),
        };
        Ok(Runtime {
            provider,
            provider_origin,
            model,
            requested_model,
            anthropic: bedrock.is_none().then(|| {
                AnthropicSettings::from_env(
                    &env,
                    cfg.str("anthropic.base_url").map(str::to_string),
                    cfg.str("anthropic.auth_header"),
                    cfg.str("anthropic.api_version"),
                )
            }),
            bedrock,
            retry,
            max_tokens,
            stream: true,
            alias_overrides: overrides,
            region_prefix,
            available_models,
            max_output_env,
            autocompact_pct,
            accounting: None,
        })
    }

    fn target(&self) -> Target {
        if self.bedrock.is_some() {
            Target::Bedrock
        } else {
            Target::Anthropic
        }
    }

    /// Resolves a model the way `--model` does, for `/model`, resumes,
    /// skills and agents, refusing one that `availableModels` leaves out.
    pub fn resolve_model(&self, requested: &str) -> Result<ResolvedModel, ResolveError> {
        let region = self
            .bedrock
            .as_ref()
            .map(|b| b.region.clone())
            .unwrap_or_default();
        let model = resolve(&ResolveInput {
            target: self.target(),
            requested: Some(requested),
            alias_overrides: self.alias_overrides.clone(),
            region: &region,
            region_prefix: self.region_prefix.as_deref(),
        })?;
        check_allowed(self.available_models.as_ref(), requested, &model)?;
        Ok(model)
    }

    /// Switches to `model`, with its own output cap.
    pub fn use_model(&mut self, model: ResolvedModel) {
        self.max_tokens = max_tokens_for(&model, self.max_output_env);
        self.model = model;
    }

    /// USD for `usage` on the current model (catalog prices, by profile).
    pub fn cost(&self, usage: &claude_protocol::Usage) -> f64 {
        cost_on(&self.model, usage)
    }

    /// The output cap a request to `model` gets under this configuration.
    pub fn max_tokens_on(&self, model: &ResolvedModel) -> u32 {
        max_tokens_for(model, self.max_output_env)
    }

    /// Context tokens above which older turns are summarised before sending.
    pub fn auto_compact_threshold(&self) -> u64 {
        let window = self.model.info.map_or(200_000, |i| i.context_window);
        window.saturating_sub(u64::from(self.max_tokens)) * self.autocompact_pct / 100
    }

    /// Builds the provider. The only network I/O is resolving an
    /// application inference profile to its model, once per process, so
    /// caching and prices apply from the first request.
    pub async fn connect(&self) -> Box<dyn Provider> {
        if let Some(b) = &self.bedrock
            && profiles::is_application_profile(&self.model.model_id)
        {
            // Unresolved (no bedrock:GetInferenceProfile), calls still go out unpriced.
            let _ = profiles::resolve(b, &self.model.model_id).await;
        }
        let provider = self.connect_bare().await;
        match &self.accounting {
            Some(books) => books.wrap(provider),
            None => provider,
        }
    }

    /// After [`Runtime::connect`] resolved an application inference
    /// profile, its model's catalog entry applies: output cap, context
    /// window, caching and prices are the foundation model's behind it.
    pub fn settle_profile(&mut self) {
        if self.model.info.is_some() || !profiles::is_application_profile(&self.model.model_id) {
            return;
        }
        let id = self.model.model_id.clone();
        if let Ok(model) = self.resolve_model(&id)
            && model.info.is_some()
        {
            self.use_model(model);
        }
    }

    async fn connect_bare(&self) -> Box<dyn Provider> {
        match (&self.bedrock, &self.anthropic) {
            (Some(settings), _) => {
                Box::new(BedrockProvider::new(settings.clone(), self.retry).await)
            }
            (None, Some(settings)) => {
                Box::new(AnthropicProvider::new(settings.clone(), self.retry))
            }
            (None, None) => Box::new(AnthropicProvider::new(
                AnthropicSettings::default(),
                self.retry,
            )),
        }
    }

    /// Lines for `--verbose`: each decision and its source. Never a secret.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "provider: {} ({})",
            self.provider.as_str(),
            self.provider_origin
        )];
        if let Some(b) = &self.bedrock {
            lines.push(format!("region: {} (from {})", b.region, b.region_source));
            lines.push(format!(
                "endpoint: {} ({})",
                b.endpoint_display, b.endpoint_source
            ));
            lines.push(format!("auth: {}", auth_words(b)));
            if let Some(at) = b.credential_expiry.get() {
                lines.push(format!(
                    "credentials expire: {}",
                    bedrock::credentials::fmt_expiry(at)
                ));
            }
            if let Some(cmd) = &b.auth_refresh {
                lines.push(format!("awsAuthRefresh: {cmd}"));
            }
            if let Some(g) = &b.guardrail {
                lines.push(format!(
                    "guardrail: {} version {}{}",
                    g.id,
                    g.version,
                    g.trace
                        .as_deref()
                        .map(|t| format!(", trace {t}"))
                        .unwrap_or_default()
                ));
            }
            lines.push(format!(
                "request metadata: {}",
                if b.request_metadata {
                    "session, project and skill (bedrock.request_metadata)"
                } else {
                    "off (bedrock.request_metadata = false)"
                }
            ));
        }
        if let Some(a) = &self.anthropic {
            lines.push(format!("endpoint: {}/v1/messages", a.base_url));
            lines.push(a.describe());
            lines.extend(a.warnings.iter().map(|w| format!("warning: {w}")));
        }
        lines.push(format!(
            "model: {} ({})",
            self.model.model_id, self.model.reason
        ));
        if let Some(behind) = profiles::resolved(&self.model.model_id) {
            lines.push(format!("application inference profile → {behind}"));
        }
        lines.push(format!("max_tokens: {}", self.max_tokens));
        lines
    }

    /// What `--dry-run` prints: the call that would be made, sending nothing.
    pub fn dry_run(&self, request: &MessagesRequest, stream: bool) -> Value {
        let model = json!({
            "requested": self.requested_model,
            "model_id": self.model.model_id,
            "alias": self.model.alias,
            "canonical": self.model.canonical,
            "inference_profile_prefix": self.model.profile_prefix,
            "reason": self.model.reason,
        });
        match &self.bedrock {
            Some(b) => {
                let operation = if stream {
                    "invoke-with-response-stream"
                } else {
                    "invoke"
                };
                json!({
                    "provider": "bedrock",
                    "provider_source": self.provider_origin,
                    "region": b.region,
                    "region_source": b.region_source,
                    "endpoint": b.endpoint_display,
                    "endpoint_source": b.endpoint_source,
                    "auth": auth_words(b),
                    "operation": if stream { "InvokeModelWithResponseStream" } else { "InvokeModel" },
                    "path": format!("/model/{}/{operation}", encode_label(&self.model.model_id)),
                    "guardrail": b.guardrail,
                    "request_metadata": b.request_metadata,
                    "model": model,
                    "body": bedrock::body::invoke_body(request),
                })
            }
            None => {
                let settings = self.anthropic.clone().unwrap_or_default();
                let options = claude_providers::CallOptions {
                    model_id: self.model.model_id.clone(),
                    stream,
                    label: None,
                    metadata: Default::default(),
                };
                let mut headers = serde_json::Map::new();
                if let Ok(h) = claude_providers::anthropic::headers::base_headers(&settings) {
                    for (name, value) in &h {
                        let shown = if value.is_sensitive() {
                            "[redacted]".to_string()
                        } else {
                            value.to_str().unwrap_or_default().to_string()
                        };
                        headers.insert(name.to_string(), json!(shown));
                    }
                }
                if let Ok(Some((name, value))) =
                    claude_providers::anthropic::headers::beta_header(&request.betas)
                {
                    headers.insert(name.to_string(), json!(value.to_str().unwrap_or_default()));
                }
                json!({
                    "provider": "anthropic",
                    "provider_source": self.provider_origin,
                    "endpoint": format!("{}/v1/messages", settings.base_url),
                    "auth": settings.describe(),
                    "headers": headers,
                    "model": model,
                    "body": claude_providers::anthropic::request_body(request, &options),
                })
            }
        }
    }
}

/// USD for `usage` on `model` (catalog prices, by profile); 0 when unpriced.
pub fn cost_on(model: &ResolvedModel, usage: &claude_protocol::Usage) -> f64 {
    model
        .info
        .or_else(|| crate::accounting::catalog_model(&model.model_id))
        .map(|i| i.prices_for(model.profile_prefix.as_deref()).cost(usage))
        .unwrap_or(0.0)
}

/// Refuses `model` (asked for as `requested`) when `availableModels` leaves it out.
fn check_allowed(
    available: Option<&Sourced<Vec<String>>>,
    requested: &str,
    model: &ResolvedModel,
) -> Result<(), ResolveError> {
    match available {
        Some(list) if !allowed_by(model, &list.value) => Err(ResolveError::NotAllowed {
            name: requested.to_string(),
            allowed: list.value.clone(),
            file: list.file.display().to_string(),
        }),
        _ => Ok(()),
    }
}

fn max_tokens_for(model: &ResolvedModel, env: Option<u32>) -> u32 {
    let model_max = model.info.map(|i| i.max_output);
    match env {
        Some(n) => model_max.map_or(n, |m| n.min(m)),
        None => model_max.map_or(DEFAULT_MAX_OUTPUT, |m| m.min(DEFAULT_MAX_OUTPUT)),
    }
}

/// Where a Bedrock call would go under this configuration: region,
/// profile, endpoint and auth, each with its source. Shared by the runtime
/// and `claude doctor`, which checks Bedrock whatever the provider.
pub fn bedrock_settings(cfg: &Config) -> BedrockSettings {
    let mut s = bedrock::resolve_settings(SettingsInput {
        region_flag: None,
        region_config: origin_of(cfg, "bedrock.region"),
        profile: origin_of(cfg, "bedrock.profile"),
        endpoint_config: origin_of(cfg, "bedrock.endpoint_url"),
        env: cfg.env().clone(),
    });
    s.guardrail = cfg.str("bedrock.guardrail.id").map(|id| Guardrail {
        id: id.to_string(),
        version: cfg
            .str("bedrock.guardrail.version")
            .unwrap_or("DRAFT")
            .to_string(),
        trace: cfg.str("bedrock.guardrail.trace").map(str::to_string),
    });
    s.request_metadata = cfg.bool("bedrock.request_metadata") != Some(false);
    s.auth_refresh = settings_command(cfg, "awsAuthRefresh");
    s.credential_export = settings_command(cfg, "awsCredentialExport");
    s
}

/// A command from Claude Code's settings files (`awsAuthRefresh`,
/// `awsCredentialExport`), from the file of highest precedence that has it.
fn settings_command(cfg: &Config, key: &str) -> Option<String> {
    cfg.settings_files().iter().find_map(|f| {
        f.json
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    })
}

/// Alias overrides for a target, with where each came from: Bedrock reads
/// `bedrock.models.<alias>` (fed by `ANTHROPIC_DEFAULT_*_MODEL`), the direct
/// API reads the environment variables alone.
pub fn alias_overrides(cfg: &Config, target: Target) -> BTreeMap<&'static str, (String, String)> {
    let mut out = BTreeMap::new();
    for alias in ALIASES {
        let found = match target {
            Target::Bedrock => origin_of(cfg, &format!("bedrock.models.{alias}")),
            Target::Anthropic => {
                let var = format!("ANTHROPIC_DEFAULT_{}_MODEL", alias.to_ascii_uppercase());
                cfg.env()
                    .get(&var)
                    .map(|v| (v.clone(), format!("env {var}")))
            }
        };
        if let Some(v) = found {
            out.insert(alias, v);
        }
    }
    out
}

fn auth_words(b: &BedrockSettings) -> String {
    match b.auth {
        AuthMode::BearerToken => {
            "Bedrock API key (AWS_BEARER_TOKEN_BEDROCK), sent as Authorization: Bearer".into()
        }
        AuthMode::None => {
            "unsigned requests (CLAUDE_CODE_SKIP_BEDROCK_AUTH): the gateway signs".into()
        }
        AuthMode::Sigv4 => match (&b.profile, &b.profile_source) {
            (Some(p), Some(src)) => {
                format!("SigV4, AWS SDK credential chain with profile `{p}` ({src})")
            }
            _ => "SigV4, AWS SDK default credential chain".into(),
        },
    }
}

/// Percent-encodes a URI label as the AWS SDKs do (`:` → `%3A`, `/` → `%2F`).
fn encode_label(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claude_config::{FlagValue, LoadOptions};

    /// A runtime under a managed policy that allows sonnet and haiku.
    fn under_policy(model_flag: Option<&str>) -> Result<Runtime, SetupError> {
        let tmp = tempfile::tempdir().unwrap();
        let policy = tmp.path().join("managed-settings.json");
        std::fs::write(
            &policy,
            r#"{"provider": "bedrock", "bedrock.region": "us-east-1", "availableModels": ["sonnet", "haiku"]}"#,
        )
        .unwrap();
        let cfg = Config::load(&LoadOptions {
            home: Some(tmp.path().to_path_buf()),
            cwd: tmp.path().to_path_buf(),
            managed_settings: Some(policy),
            flags: model_flag
                .map(|m| FlagValue {
                    key: "model".into(),
                    value: m.into(),
                    flag: "--model".into(),
                })
                .into_iter()
                .collect(),
            ..LoadOptions::default()
        })
        .unwrap();
        Runtime::from_config(&cfg)
    }

    #[test]
    fn available_models_hold_for_every_way_of_choosing_a_model() {
        let rt = under_policy(None).expect("the default model is always allowed");
        assert!(rt.resolve_model("haiku").is_ok());
        assert!(
            rt.resolve_model("anthropic.claude-3-5-sonnet-20241022-v2:0")
                .is_ok()
        );
        match rt.resolve_model("opus") {
            Err(ResolveError::NotAllowed {
                name,
                allowed,
                file,
            }) => {
                assert_eq!((name.as_str(), allowed.len()), ("opus", 2));
                assert!(file.ends_with("managed-settings.json"), "{file}");
            }
            other => panic!("{other:?}"),
        }
        assert!(under_policy(Some("haiku")).is_ok());
        let err = under_policy(Some("opus")).unwrap_err();
        assert!(
            err.to_string().contains("model `opus` is not allowed"),
            "{err}"
        );
    }

    #[test]
    fn labels_are_encoded_like_the_sdk() {
        assert_eq!(
            encode_label("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
        );
        assert_eq!(
            encode_label(
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
            ),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123"
        );
    }
}
