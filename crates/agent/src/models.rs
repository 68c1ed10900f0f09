//! `claude models`: the region's Anthropic models from the control plane,
//! joined with the catalog's prices and the aliases that point at them.

use claude_config::Config;
use claude_providers::bedrock::control::{ControlError, ControlPlane};
use claude_providers::catalog::Catalog;
use claude_providers::resolve::split_profile_prefix;
use serde::Serialize;

use crate::doctor::models_to_check;
use crate::setup::bedrock_settings;

#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    pub id: String,
    pub name: String,
    pub lifecycle: String,
    pub end_of_life: Option<String>,
    pub streaming: Option<bool>,
    pub inference_types: Vec<String>,
    /// Inference-profile IDs in this region that contain the model.
    pub profiles: Vec<String>,
    /// Aliases that resolve to the model (or one of its profiles).
    pub aliases: Vec<String>,
    /// USD per 1K tokens at the base rate, from the catalog.
    pub input_per_1k: Option<f64>,
    pub output_per_1k: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationProfileRow {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub models: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub region: String,
    pub models: Vec<ModelRow>,
    pub application_profiles: Vec<ApplicationProfileRow>,
}

pub async fn list(cfg: &Config) -> Result<Listing, ControlError> {
    let settings = bedrock_settings(cfg);
    let control = ControlPlane::new(&settings).await;
    let fms = control.foundation_models().await?;
    let profiles = control.inference_profiles("SYSTEM_DEFINED").await?;
    // Application profiles need their own permission; their absence is not an error.
    let app_profiles = control
        .inference_profiles("APPLICATION")
        .await
        .unwrap_or_default();
    let resolved = models_to_check(cfg, &settings);
    let catalog = Catalog::builtin();
    let models = fms
        .into_iter()
        .map(|fm| {
            let in_profile: Vec<String> = profiles
                .iter()
                .filter(|p| split_profile_prefix(&p.id).is_some_and(|(_, b)| b == fm.id))
                .map(|p| p.id.clone())
                .collect();
            let aliases = resolved
                .iter()
                .filter_map(|(label, r)| {
                    let id = r.as_ref().ok()?;
                    let base = split_profile_prefix(id).map_or(id.as_str(), |(_, b)| b);
                    (base == fm.id).then(|| label.clone())
                })
                .collect();
            let price = catalog.find(&fm.id).map(|i| i.price);
            ModelRow {
                input_per_1k: price.map(|p| p.input / 1000.0),
                output_per_1k: price.map(|p| p.output / 1000.0),
                id: fm.id,
                name: fm.name,
                lifecycle: fm.lifecycle,
                end_of_life: fm.end_of_life,
                streaming: fm.streaming,
                inference_types: fm.inference_types,
                profiles: in_profile,
                aliases,
            }
        })
        .collect();
    Ok(Listing {
        region: settings.region,
        models,
        application_profiles: app_profiles
            .into_iter()
            .map(|p| ApplicationProfileRow {
                id: p.id,
                name: p.name,
                arn: p.arn,
                models: p.models,
            })
            .collect(),
    })
}
