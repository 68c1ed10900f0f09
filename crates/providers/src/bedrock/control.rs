//! Bedrock's control plane and STS, for `claude doctor`, `claude models` and
//! `claude iam-policy`. These calls are free, so the doctor uses them instead
//! of billed probe invocations.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;

use super::aws_files;
use super::settings::{AuthMode, BedrockSettings};

#[derive(Debug, Clone, Serialize)]
pub struct FoundationModel {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub lifecycle: String,
    pub end_of_life: Option<String>,
    pub legacy_since: Option<String>,
    pub streaming: Option<bool>,
    pub inference_types: Vec<String>,
}

impl FoundationModel {
    /// Whether on-demand calls must go through an inference profile.
    pub fn needs_profile(&self) -> bool {
        !self.inference_types.iter().any(|t| t == "ON_DEMAND")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InferenceProfile {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub kind: String,
    pub status: String,
    /// Destination-region foundation-model ARNs.
    pub models: Vec<String>,
}

/// An [`InferenceProfile`] from ListInferenceProfiles' summary or from
/// GetInferenceProfile's output: two SDK types with the same accessors.
macro_rules! inference_profile {
    ($p:expr) => {{
        let p = $p;
        InferenceProfile {
            id: p.inference_profile_id().to_string(),
            name: p.inference_profile_name().to_string(),
            arn: p.inference_profile_arn().to_string(),
            kind: p.r#type().as_str().to_string(),
            status: p.status().as_str().to_string(),
            models: p
                .models()
                .iter()
                .filter_map(|m| m.model_arn().map(str::to_string))
                .collect(),
        }
    }};
}

#[derive(Debug, Clone, Serialize)]
pub struct Availability {
    pub authorization: String,
    pub entitlement: String,
    pub region: String,
    pub agreement: Option<String>,
    pub agreement_error: Option<String>,
}

impl Availability {
    pub fn usable(&self) -> bool {
        self.authorization == "AUTHORIZED"
            && self.entitlement == "AVAILABLE"
            && self.region == "AVAILABLE"
    }
}

/// What GetGuardrail says of a configured guardrail.
#[derive(Debug, Clone, Serialize)]
pub struct GuardrailInfo {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub version: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialInfo {
    /// Where the credentials came from, in words; never a value.
    pub source: String,
    pub expires: Option<String>,
}

/// A failed control-plane or STS call, with AWS's own code.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}{}", request_id.as_ref().map(|r| format!(" (request ID {r})")).unwrap_or_default())]
pub struct ControlError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ControlError {
    pub fn is_access_denied(&self) -> bool {
        self.code.contains("AccessDenied") || self.code.contains("UnauthorizedOperation")
    }

    fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        if let SdkError::ServiceError(s) = &err {
            let e = s.err();
            return ControlError {
                code: e.code().unwrap_or("UnknownError").to_string(),
                message: e.message().unwrap_or_default().to_string(),
                request_id: e.meta().extra("aws_request_id").map(str::to_string),
            };
        }
        let code = match &err {
            SdkError::TimeoutError(_) => "Timeout",
            SdkError::DispatchFailure(_) => "ConnectionError",
            _ => "RequestFailed",
        };
        ControlError {
            code: code.into(),
            message: crate::error::error_chain(&err),
            request_id: None,
        }
    }
}

fn fmt_time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

pub struct ControlPlane {
    sdk: SdkConfig,
    bedrock: aws_sdk_bedrock::Client,
    sts: aws_sdk_sts::Client,
    settings: BedrockSettings,
}

impl ControlPlane {
    pub async fn new(settings: &BedrockSettings) -> Self {
        let sdk = super::sdk_config(settings).await;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(15))
            .build();
        let bedrock = aws_sdk_bedrock::Client::from_conf(
            aws_sdk_bedrock::config::Builder::from(&sdk)
                .timeout_config(timeouts.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&sdk)
                .timeout_config(timeouts)
                .build(),
        );
        Self {
            sdk,
            bedrock,
            sts,
            settings: settings.clone(),
        }
    }

    /// Resolves credentials through the SDK chain, as a call would.
    pub async fn credentials(&self) -> Result<CredentialInfo, String> {
        let env = &self.settings.env;
        if self.settings.auth == AuthMode::BearerToken {
            return Ok(CredentialInfo {
                source: "Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)".into(),
                expires: None,
            });
        }
        let provider = self
            .sdk
            .credentials_provider()
            .ok_or_else(|| "no credential provider is configured".to_string())?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| crate::error::error_chain(&e))?;
        let set = |k: &str| env.get(k).is_some_and(|v| !v.is_empty());
        let profile_name = self
            .settings
            .profile
            .clone()
            .unwrap_or_else(|| "default".into());
        let info = aws_files::profile_info(env, &profile_name);
        let source = if let Some(cmd) = &self.settings.credential_export {
            format!("awsCredentialExport `{cmd}`")
        } else if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
            format!(
                "environment (AWS_ACCESS_KEY_ID{})",
                if set("AWS_SESSION_TOKEN") {
                    ", AWS_SESSION_TOKEN"
                } else {
                    ""
                }
            )
        } else if !info.found_in.is_empty() {
            let kind = if info.sso {
                "SSO"
            } else if info.has_role {
                "assume role"
            } else if info.has_process {
                "credential_process"
            } else {
                "access keys"
            };
            format!(
                "profile `{profile_name}` ({kind}) from {}",
                info.found_in.join(" and ")
            )
        } else if set("AWS_WEB_IDENTITY_TOKEN_FILE") {
            "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".into()
        } else if set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        {
            "container credentials endpoint".into()
        } else {
            "EC2 instance metadata (IMDS)".into()
        };
        let expires = creds.expiry().map(|t| {
            aws_smithy_types::DateTime::from(t)
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default()
        });
        Ok(CredentialInfo { source, expires })
    }

    pub async fn caller_identity(&self) -> Result<CallerIdentity, ControlError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(ControlError::from_sdk)?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

    /// Anthropic's foundation models in the region.
    pub async fn foundation_models(&self) -> Result<Vec<FoundationModel>, ControlError> {
        let out = self
            .bedrock
            .list_foundation_models()
            .by_provider("anthropic")
            .send()
            .await
            .map_err(ControlError::from_sdk)?;
        Ok(out
            .model_summaries()
            .iter()
            .map(|m| FoundationModel {
                id: m.model_id().to_string(),
                name: m.model_name().unwrap_or_default().to_string(),
                arn: m.model_arn().to_string(),
                lifecycle: m
                    .model_lifecycle()
                    .map(|l| l.status().as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                end_of_life: m
                    .model_lifecycle()
                    .and_then(|l| fmt_time(l.end_of_life_time())),
                legacy_since: m.model_lifecycle().and_then(|l| fmt_time(l.legacy_time())),
                streaming: m.response_streaming_supported(),
                inference_types: m
                    .inference_types_supported()
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect(),
            })
            .collect())
    }

    /// Every inference profile of `kind` (`SYSTEM_DEFINED` or `APPLICATION`), all pages.
    pub async fn inference_profiles(
        &self,
        kind: &str,
    ) -> Result<Vec<InferenceProfile>, ControlError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .bedrock
                .list_inference_profiles()
                .max_results(1000)
                .type_equals(kind.into())
                .set_next_token(next.take())
                .send()
                .await
                .map_err(ControlError::from_sdk)?;
            out.extend(
                page.inference_profile_summaries()
                    .iter()
                    .map(|p| inference_profile!(p)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// One inference profile, by ID or ARN (an application profile's ARN
    /// names no model; this says which models it routes to).
    pub async fn inference_profile(&self, id: &str) -> Result<InferenceProfile, ControlError> {
        let p = self
            .bedrock
            .get_inference_profile()
            .inference_profile_identifier(id)
            .send()
            .await
            .map_err(ControlError::from_sdk)?;
        Ok(inference_profile!(p))
    }

    /// The guardrail `id` at `version`, as GetGuardrail reports it.
    pub async fn guardrail(&self, id: &str, version: &str) -> Result<GuardrailInfo, ControlError> {
        let g = self
            .bedrock
            .get_guardrail()
            .guardrail_identifier(id)
            .guardrail_version(version)
            .send()
            .await
            .map_err(ControlError::from_sdk)?;
        Ok(GuardrailInfo {
            id: g.guardrail_id().to_string(),
            arn: g.guardrail_arn().to_string(),
            name: g.name().to_string(),
            version: g.version().to_string(),
            status: g.status().as_str().to_string(),
        })
    }

    pub async fn availability(&self, model_id: &str) -> Result<Availability, ControlError> {
        let out = self
            .bedrock
            .get_foundation_model_availability()
            .model_id(model_id)
            .send()
            .await
            .map_err(ControlError::from_sdk)?;
        Ok(Availability {
            authorization: out.authorization_status().as_str().to_string(),
            entitlement: out.entitlement_availability().as_str().to_string(),
            region: out.region_availability().as_str().to_string(),
            agreement: out
                .agreement_availability()
                .map(|a| a.status().as_str().to_string()),
            agreement_error: out
                .agreement_availability()
                .and_then(|a| a.error_message().map(str::to_string)),
        })
    }
}
