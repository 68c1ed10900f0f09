//! The control-plane reads (`bedrock` endpoint) that a `doctor` makes, answered from
//! scriptable JSON in the shapes of botocore's `bedrock/2023-04-20` model.

use http::Response;
use serde_json::{Value, json};

use super::reply::error_response;
use crate::loopback::{Body, Operation, RecordedRequest, full};

const ACCOUNT: &str = "123456789012";
const CREATED: &str = "2025-01-01T00:00:00Z";

/// Who STS GetCallerIdentity says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:iam::123456789012:user/test` by default.
    pub arn: String,
    /// The unique id, e.g. `AIDA…`.
    pub user_id: String,
    /// The 12-digit account.
    pub account: String,
}

impl Default for CallerIdentity {
    fn default() -> Self {
        CallerIdentity {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/test"),
            user_id: "AIDAUH3H6EGKDO36JYJH3".into(),
            account: ACCOUNT.into(),
        }
    }
}

/// The data behind the control-plane and STS routes. Each list holds response objects as
/// AWS sends them, so a test can add odd values (unknown enum members, missing optional
/// fields) as easily as normal ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlPlane {
    /// `FoundationModelSummary` objects; ListFoundationModels filters these, and
    /// GetFoundationModel returns one as `modelDetails`.
    pub foundation_models: Vec<Value>,
    /// `InferenceProfileSummary` objects, listed and fetched by id or ARN.
    pub inference_profiles: Vec<Value>,
    /// GetFoundationModelAvailability bodies, by their `modelId`. A catalog model with no
    /// entry here is reported available and authorized.
    pub availability: Vec<Value>,
    /// GetGuardrail bodies, found by `guardrailId` or `guardrailArn`.
    pub guardrails: Vec<Value>,
    /// STS GetCallerIdentity.
    pub caller: CallerIdentity,
}

impl Default for ControlPlane {
    fn default() -> Self {
        ControlPlane::for_region("us-east-1")
    }
}

/// `(base model id, name, in-region on-demand?)` of the default catalog.
const CATALOG: &[(&str, &str, bool)] = &[
    (
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Claude 3 Haiku",
        true,
    ),
    (
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5",
        false,
    ),
    (
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "Claude Haiku 4.5",
        false,
    ),
    ("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6", false),
    ("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", false),
];

impl ControlPlane {
    /// A small realistic catalog for `region`: Claude 3 Haiku on demand, and newer models
    /// only through `us.` and `global.` profiles that route to us-east-1, us-east-2 and
    /// us-west-2.
    pub fn for_region(region: &str) -> Self {
        let foundation_models = CATALOG
            .iter()
            .map(|(id, name, on_demand)| {
                let kind = if *on_demand {
                    "ON_DEMAND"
                } else {
                    "INFERENCE_PROFILE"
                };
                ControlPlane::foundation_model(region, id, name, &[kind])
            })
            .collect();
        let (destinations, geo): (&[&str], (&str, &str)) = if region.starts_with("us-gov-") {
            (&["us-gov-west-1", "us-gov-east-1"], ("us-gov", "US-GOV"))
        } else {
            (&["us-east-1", "us-east-2", "us-west-2"], ("us", "US"))
        };
        let inference_profiles = CATALOG
            .iter()
            .filter(|(_, _, on_demand)| !on_demand)
            .flat_map(|(id, name, _)| {
                [geo, ("global", "Global")].map(|(prefix, label)| {
                    ControlPlane::inference_profile(
                        region,
                        &format!("{prefix}.{id}"),
                        &format!("{label} Anthropic {name}"),
                        destinations,
                    )
                })
            })
            .collect();
        ControlPlane {
            foundation_models,
            inference_profiles,
            availability: Vec::new(),
            guardrails: Vec::new(),
            caller: CallerIdentity::default(),
        }
    }

    /// A `FoundationModelSummary` for an Anthropic text model; `inference_types` may hold
    /// `INFERENCE_PROFILE`, which Bedrock sends though botocore's enum lacks it.
    pub fn foundation_model(
        region: &str,
        model_id: &str,
        name: &str,
        inference_types: &[&str],
    ) -> Value {
        json!({
            "modelArn": format!("arn:{}:bedrock:{region}::foundation-model/{model_id}", partition(region)),
            "modelId": model_id,
            "modelName": name,
            "providerName": "Anthropic",
            "inputModalities": ["TEXT", "IMAGE"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": true,
            "customizationsSupported": [],
            "inferenceTypesSupported": inference_types,
            "modelLifecycle": { "status": "ACTIVE" },
        })
    }

    /// A system-defined `InferenceProfileSummary` whose id is `<geo>.<base model id>`,
    /// routing to the base model in each destination region.
    pub fn inference_profile(
        region: &str,
        profile_id: &str,
        name: &str,
        destinations: &[&str],
    ) -> Value {
        let base = profile_id.split_once('.').map_or(profile_id, |(_, b)| b);
        let models: Vec<Value> = destinations
            .iter()
            .map(|r| json!({ "modelArn": format!("arn:{}:bedrock:{r}::foundation-model/{base}", partition(r)) }))
            .collect();
        json!({
            "inferenceProfileName": name,
            "description": format!("Routes requests to {name} in {}.", destinations.join(", ")),
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "inferenceProfileArn": format!("arn:{}:bedrock:{region}:{ACCOUNT}:inference-profile/{profile_id}", partition(region)),
            "models": models,
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        })
    }

    /// An `APPLICATION` inference profile (created from a foundation model for cost
    /// tracking) whose ARN names no model; `profile_id` is its random id.
    pub fn application_inference_profile(
        region: &str,
        profile_id: &str,
        name: &str,
        model_id: &str,
    ) -> Value {
        let partition = partition(region);
        json!({
            "inferenceProfileName": name,
            "description": format!("Application profile for {model_id}."),
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "inferenceProfileArn": format!("arn:{partition}:bedrock:{region}:{ACCOUNT}:application-inference-profile/{profile_id}"),
            "models": [{ "modelArn": format!("arn:{partition}:bedrock:{region}::foundation-model/{model_id}") }],
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": "APPLICATION",
        })
    }

    /// A GetFoundationModelAvailability body; `authorized` false is the state of an
    /// account that has not been granted the model.
    pub fn model_availability(model_id: &str, authorized: bool) -> Value {
        let (agreement, authorization, entitlement) = if authorized {
            ("AVAILABLE", "AUTHORIZED", "AVAILABLE")
        } else {
            ("NOT_AVAILABLE", "NOT_AUTHORIZED", "NOT_AVAILABLE")
        };
        json!({
            "modelId": model_id,
            "agreementAvailability": { "status": agreement },
            "authorizationStatus": authorization,
            "entitlementAvailability": entitlement,
            "regionAvailability": "AVAILABLE",
        })
    }

    /// A READY GetGuardrail body.
    pub fn guardrail(region: &str, guardrail_id: &str, version: &str) -> Value {
        json!({
            "name": format!("guardrail-{guardrail_id}"),
            "guardrailId": guardrail_id,
            "guardrailArn": format!("arn:{}:bedrock:{region}:{ACCOUNT}:guardrail/{guardrail_id}", partition(region)),
            "version": version,
            "status": "READY",
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "blockedInputMessaging": "Sorry, the model cannot answer this question.",
            "blockedOutputsMessaging": "Sorry, the model cannot answer this question.",
        })
    }

    pub(super) fn respond(
        &self,
        operation: Operation,
        resource: &str,
        req: &RecordedRequest,
    ) -> Response<Body> {
        let query = parse_query(req.query.as_deref().unwrap_or_default());
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        match operation {
            Operation::ListFoundationModels => {
                let matches = |m: &&Value| {
                    param("byProvider").is_none_or(|p| {
                        m["providerName"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(p))
                    }) && param("byInferenceType")
                        .is_none_or(|t| contains(&m["inferenceTypesSupported"], t))
                        && param("byOutputModality")
                            .is_none_or(|t| contains(&m["outputModalities"], t))
                        && param("byCustomizationType")
                            .is_none_or(|t| contains(&m["customizationsSupported"], t))
                };
                let summaries: Vec<&Value> =
                    self.foundation_models.iter().filter(matches).collect();
                ok(json!({ "modelSummaries": summaries }))
            }
            Operation::GetFoundationModel => {
                match find(&self.foundation_models, resource, &["modelId", "modelArn"]) {
                    Some(model) => ok(json!({ "modelDetails": model })),
                    None => not_found(&format!("Could not find model {resource}.")),
                }
            }
            Operation::ListInferenceProfiles => {
                let wanted: Vec<&Value> = self
                    .inference_profiles
                    .iter()
                    .filter(|p| param("type").is_none_or(|t| p["type"] == t))
                    .collect();
                let start: usize = param("nextToken").and_then(|t| t.parse().ok()).unwrap_or(0);
                let size: usize = param("maxResults")
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(1000);
                let page: Vec<&Value> = wanted.iter().skip(start).take(size).copied().collect();
                let mut body = json!({ "inferenceProfileSummaries": page });
                if start + size < wanted.len() {
                    body["nextToken"] = (start + size).to_string().into();
                }
                ok(body)
            }
            Operation::GetInferenceProfile => {
                match find(
                    &self.inference_profiles,
                    resource,
                    &["inferenceProfileId", "inferenceProfileArn"],
                ) {
                    Some(profile) => ok(profile.clone()),
                    None => not_found(&format!("Inference profile {resource} not found.")),
                }
            }
            Operation::GetFoundationModelAvailability => {
                if let Some(entry) = find(&self.availability, resource, &["modelId"]) {
                    ok(entry.clone())
                } else if find(&self.foundation_models, resource, &["modelId"]).is_some() {
                    ok(ControlPlane::model_availability(resource, true))
                } else {
                    not_found(&format!("Could not find model {resource}."))
                }
            }
            Operation::GetGuardrail => {
                let version = param("guardrailVersion");
                let found = self.guardrails.iter().find(|g| {
                    (g["guardrailId"] == resource || g["guardrailArn"] == resource)
                        && version.is_none_or(|v| g["version"] == v)
                });
                match found {
                    Some(guardrail) => ok(guardrail.clone()),
                    None => not_found(&format!(
                        "The guardrail {resource}{} was not found.",
                        version.map(|v| format!(" version {v}")).unwrap_or_default()
                    )),
                }
            }
            _ => not_found("The requested operation is not recognized by the service."),
        }
    }
}

/// The AWS partition of `region`, for the ARNs the server writes.
fn partition(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

fn find<'a>(items: &'a [Value], id: &str, keys: &[&str]) -> Option<&'a Value> {
    items
        .iter()
        .find(|item| keys.iter().any(|k| item[*k] == id))
}

fn contains(list: &Value, wanted: &str) -> bool {
    list.as_array()
        .is_some_and(|items| items.iter().any(|v| v == wanted))
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                crate::sigv4::percent_decode(k),
                crate::sigv4::percent_decode(v),
            )
        })
        .collect()
}

fn ok(body: Value) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/json")
        .header("x-amzn-RequestId", crate::ids::uuid())
        .body(full(body.to_string()))
        .expect("static response parts are valid")
}

fn not_found(message: &str) -> Response<Body> {
    error_response(404, "ResourceNotFoundException", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_routes_new_models_through_profiles() {
        let cp = ControlPlane::default();
        let sonnet = find(
            &cp.foundation_models,
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            &["modelId"],
        )
        .unwrap();
        assert_eq!(
            sonnet["inferenceTypesSupported"],
            json!(["INFERENCE_PROFILE"])
        );
        let profile = find(
            &cp.inference_profiles,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            &["inferenceProfileId"],
        )
        .unwrap();
        assert_eq!(
            profile["models"][2]["modelArn"],
            "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            profile["inferenceProfileArn"],
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
    }
}
