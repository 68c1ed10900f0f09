//! Application inference profiles: an ARN that names no model. Each one is
//! resolved once per process with GetInferenceProfile to the foundation
//! model behind it, and remembered, so the catalog's limits, caching,
//! thinking support and prices apply to it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::control::{ControlError, ControlPlane, InferenceProfile};
use super::settings::BedrockSettings;

fn cache() -> &'static Mutex<HashMap<String, String>> {
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// Whether `id` is an application-inference-profile ARN.
pub fn is_application_profile(id: &str) -> bool {
    id.starts_with("arn:") && id.contains(":application-inference-profile/")
}

/// The foundation model an application profile was resolved to, if it was.
pub fn resolved(arn: &str) -> Option<String> {
    cache().lock().ok()?.get(arn).cloned()
}

/// Records what `arn` routes to.
pub fn remember(arn: &str, model_id: &str) {
    if let Ok(mut c) = cache().lock() {
        c.insert(arn.to_string(), model_id.to_string());
    }
}

/// The model ID in a foundation-model ARN.
pub fn model_in_arn(arn: &str) -> Option<&str> {
    arn.split_once(":foundation-model/").map(|(_, id)| id)
}

/// Resolves `arn` with GetInferenceProfile unless it already was; returns
/// the foundation model ID.
pub async fn resolve(settings: &BedrockSettings, arn: &str) -> Result<String, ControlError> {
    if let Some(model) = resolved(arn) {
        return Ok(model);
    }
    let profile = ControlPlane::new(settings)
        .await
        .inference_profile(arn)
        .await?;
    learn(arn, &profile).ok_or_else(|| ControlError {
        code: "NoModel".into(),
        message: format!("the inference profile {arn} names no foundation model"),
        request_id: None,
    })
}

/// Remembers the foundation model a fetched profile routes to, and returns it.
pub fn learn(arn: &str, profile: &InferenceProfile) -> Option<String> {
    let model = profile.models.iter().find_map(|m| model_in_arn(m))?;
    remember(arn, model);
    Some(model.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_application_profiles_and_model_arns() {
        assert!(is_application_profile(
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/abc"
        ));
        assert!(!is_application_profile(
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.x"
        ));
        assert_eq!(
            model_in_arn("arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-x"),
            Some("anthropic.claude-x")
        );
        remember("arn:test:application-inference-profile/t", "anthropic.m");
        assert_eq!(
            resolved("arn:test:application-inference-profile/t").as_deref(),
            Some("anthropic.m")
        );
    }
}
