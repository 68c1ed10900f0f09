//! `claude iam-policy`: the Bedrock guide's least-privilege policy, filled in
//! for the configured region and models.

use std::collections::BTreeSet;

use claude_config::Config;
use claude_providers::bedrock::control::{ControlPlane, InferenceProfile};
use claude_providers::bedrock::profiles;
use claude_providers::resolve::split_profile_prefix;
use serde_json::{Value, json};

use crate::doctor::models_to_check;
use crate::setup::bedrock_settings;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Add the read-only calls `claude doctor` and `claude models` make.
    pub with_list: bool,
    /// Add `bedrock:CallWithBearerToken` for Bedrock API keys.
    pub bearer: bool,
}

pub struct Policy {
    pub document: Value,
    /// Things the user should know, e.g. that destination regions were not
    /// looked up and a wildcard region stands in.
    pub notes: Vec<String>,
}

pub async fn policy(cfg: &Config, opts: Options) -> Policy {
    let settings = bedrock_settings(cfg);
    let partition = settings.partition.clone();
    let region = settings.region.clone();
    let mut notes = Vec::new();
    let ids: Vec<String> = models_to_check(cfg, &settings)
        .into_iter()
        .filter_map(|(label, r)| match r {
            Ok(id) => Some(id),
            Err(e) => {
                notes.push(format!("{label} skipped: {e}"));
                None
            }
        })
        .collect();

    let needs_profiles = ids.iter().any(|id| split_profile_prefix(id).is_some());
    let control = ControlPlane::new(&settings).await;
    let system_profiles: Option<Vec<InferenceProfile>> = if needs_profiles {
        match control.inference_profiles("SYSTEM_DEFINED").await {
            Ok(p) => Some(p),
            Err(e) => {
                notes.push(format!(
                    "could not list inference profiles ({e}); destination regions are a wildcard"
                ));
                None
            }
        }
    } else {
        None
    };

    let mut resources = BTreeSet::new();
    let mut app_profiles = BTreeSet::new();
    for id in &ids {
        if profiles::is_application_profile(id) {
            // Invoking it needs the profile and every model it routes to.
            resources.insert(id.clone());
            app_profiles.insert(id.clone());
            match control.inference_profile(id).await {
                Ok(p) => resources.extend(p.models),
                Err(e) => {
                    notes.push(format!(
                        "could not read the application inference profile {id} ({e}); its models are a wildcard"
                    ));
                    resources.insert(format!("arn:{partition}:bedrock:*::foundation-model/*"));
                }
            }
            continue;
        }
        if id.starts_with("arn:") {
            resources.insert(id.clone());
            continue;
        }
        match split_profile_prefix(id) {
            None => {
                resources.insert(format!(
                    "arn:{partition}:bedrock:{region}::foundation-model/{id}"
                ));
            }
            Some((_, base)) => {
                let found = system_profiles
                    .as_ref()
                    .and_then(|ps| ps.iter().find(|p| p.id == *id));
                match found {
                    Some(p) => {
                        resources.insert(p.arn.clone());
                        resources.extend(p.models.iter().cloned());
                    }
                    None => {
                        resources.insert(format!(
                            "arn:{partition}:bedrock:{region}:*:inference-profile/{id}"
                        ));
                        resources.insert(format!(
                            "arn:{partition}:bedrock:*::foundation-model/{base}"
                        ));
                    }
                }
            }
        }
    }

    let mut statements = vec![json!({
        "Sid": "InvokeClaudeModels",
        "Effect": "Allow",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        "Resource": resources.into_iter().collect::<Vec<_>>(),
    })];
    if !app_profiles.is_empty() {
        // claude resolves the profile to its model once per session.
        statements.push(json!({
            "Sid": "ResolveApplicationInferenceProfiles",
            "Effect": "Allow",
            "Action": ["bedrock:GetInferenceProfile"],
            "Resource": app_profiles.into_iter().collect::<Vec<_>>(),
        }));
    }
    if let Some(g) = &settings.guardrail {
        let arn = if g.id.starts_with("arn:") {
            g.id.clone()
        } else {
            format!("arn:{partition}:bedrock:{region}:*:guardrail/{}", g.id)
        };
        let mut actions = vec!["bedrock:ApplyGuardrail"];
        if opts.with_list {
            actions.push("bedrock:GetGuardrail");
        }
        statements.push(json!({
            "Sid": "ApplyConfiguredGuardrail",
            "Effect": "Allow",
            "Action": actions,
            "Resource": [arn],
        }));
    }
    if opts.with_list {
        statements.push(json!({
            "Sid": "ClaudeDoctorReadOnly",
            "Effect": "Allow",
            "Action": [
                "bedrock:ListFoundationModels",
                "bedrock:ListInferenceProfiles",
                "bedrock:GetInferenceProfile",
                "bedrock:GetFoundationModelAvailability"
            ],
            "Resource": "*",
        }));
    }
    if opts.bearer {
        statements.push(json!({
            "Sid": "BedrockApiKeys",
            "Effect": "Allow",
            "Action": ["bedrock:CallWithBearerToken"],
            "Resource": "*",
        }));
    }
    Policy {
        document: json!({ "Version": "2012-10-17", "Statement": statements }),
        notes,
    }
}
