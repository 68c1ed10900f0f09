//! Model resolution: what the user typed → the exact model ID to send.
//!
//! A pure function over the catalog so that `--model`, `/model`, a skill's
//! `model:` and an agent's `model:` all resolve the same way, and so that a
//! dry run can explain the choice.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{ALIASES, Catalog, ModelInfo};
use crate::suggest::did_you_mean;

/// Cross-region inference-profile prefixes Bedrock knows.
pub const GEO_PREFIXES: [&str; 7] = ["us-gov", "us", "eu", "apac", "jp", "au", "global"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Bedrock,
    Anthropic,
}

impl Target {
    fn key(self) -> &'static str {
        match self {
            Target::Bedrock => "bedrock",
            Target::Anthropic => "anthropic",
        }
    }
}

/// Everything resolution depends on, gathered by the caller from config.
#[derive(Debug, Clone)]
pub struct ResolveInput<'a> {
    pub target: Target,
    /// What was asked for; `None` means the default model.
    pub requested: Option<&'a str>,
    /// Alias overrides (`bedrock.models.<alias>` / `ANTHROPIC_DEFAULT_*_MODEL`),
    /// with a label for where each came from.
    pub alias_overrides: BTreeMap<&'static str, (String, String)>,
    pub region: &'a str,
    /// `bedrock.region_prefix`: the only way to cross geography.
    pub region_prefix: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedModel {
    /// The ID as it goes on the wire.
    pub model_id: String,
    /// The catalog entry behind it, when known.
    #[serde(skip)]
    pub info: Option<&'static ModelInfo>,
    /// The base model ID, for pricing and reports.
    pub canonical: Option<String>,
    pub alias: Option<String>,
    /// The inference-profile prefix in the ID, if any.
    pub profile_prefix: Option<String>,
    /// One sentence on why this ID was chosen.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown model `{name}`{}. Use an alias (opus, sonnet, haiku), a full model ID, an inference-profile ID or an ARN; `claude models` lists what your region offers.", suggestion_suffix(.suggestion))]
    UnknownModel {
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "{model} has no `{prefix}.` inference profile, and it needs one in {region}. Available prefixes: {available}. Set one explicitly with `claude config set bedrock.region_prefix <prefix>` (note: `global` and other geographies route requests outside your region's geography)."
    )]
    NoProfileForGeography {
        model: String,
        prefix: String,
        region: String,
        available: String,
    },
    #[error(
        "model `{name}` is not allowed: availableModels in {file} permits {}. Choose one of those, or ask whoever manages that file to add it.",
        permitted(.allowed)
    )]
    NotAllowed {
        name: String,
        allowed: Vec<String>,
        file: String,
    },
}

fn permitted(allowed: &[String]) -> String {
    if allowed.is_empty() {
        "only the default model".to_string()
    } else {
        format!("only {}", allowed.join(", "))
    }
}

/// Whether `availableModels` permits `model`, matched on the resolved model
/// so that an alias override cannot bring in another model. Case is
/// ignored. An alias (`opus`, `sonnet`, `haiku`) permits every model of its
/// family. Any other entry permits the models whose name starts with it at
/// a word boundary, with or without `claude-`: `sonnet-4-5` and
/// `claude-sonnet-4-5` permit `claude-sonnet-4-5-20250929` on the direct
/// API and `us.anthropic.claude-sonnet-4-5-20250929-v1:0` on Bedrock; a full
/// model ID, inference-profile ID or ARN permits exactly that model.
pub fn allowed_by(model: &ResolvedModel, entries: &[String]) -> bool {
    let mut names = vec![model.model_id.to_ascii_lowercase()];
    if let Some(info) = model.info {
        names.push(info.id.to_ascii_lowercase());
        names.push(info.api_id.to_ascii_lowercase());
    }
    let bare: Vec<String> = names
        .iter()
        .map(|n| {
            let n = split_profile_prefix(n).map_or(n.as_str(), |(_, rest)| rest);
            n.strip_prefix("anthropic.").unwrap_or(n).to_string()
        })
        .collect();
    names.extend(bare);
    let family = match model.info {
        Some(info) => Some(info.tier.clone()),
        None => ALIASES
            .into_iter()
            .find(|a| {
                names
                    .iter()
                    .any(|n| n.split(['-', '.', ':', '/']).any(|word| word == *a))
            })
            .map(str::to_string),
    };
    entries.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        if ALIASES.contains(&entry.as_str()) {
            return family.as_deref() == Some(entry.as_str());
        }
        let claude = format!("claude-{entry}");
        names.iter().any(|name| {
            [entry.as_str(), claude.as_str()].into_iter().any(|e| {
                name.strip_prefix(e)
                    .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
            })
        })
    })
}

fn suggestion_suffix(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// The inference-profile prefix that keeps traffic in `region`'s geography.
pub fn prefix_for_region(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "us-gov"
    } else if region.starts_with("us-") {
        "us"
    } else if region.starts_with("eu-") {
        "eu"
    } else if region.starts_with("ap-") {
        "apac"
    } else {
        "global"
    }
}

/// Splits `us.anthropic.x` into (`us`, `anthropic.x`).
pub fn split_profile_prefix(id: &str) -> Option<(&'static str, &str)> {
    GEO_PREFIXES.into_iter().find_map(|p| {
        id.strip_prefix(p)
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|rest| rest.starts_with("anthropic."))
            .map(|rest| (p, rest))
    })
}

/// The model an ARN points at, when its resource names one directly.
fn arn_model(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, id) = resource.split_once('/')?;
    match kind {
        "foundation-model" | "inference-profile" => Some(id),
        _ => None,
    }
}

pub fn resolve(input: &ResolveInput<'_>) -> Result<ResolvedModel, ResolveError> {
    let catalog = Catalog::builtin();
    let (requested, defaulted) = match input.requested.map(str::trim).filter(|s| !s.is_empty()) {
        Some(r) => (r, false),
        None => ("sonnet", true),
    };
    let lower = requested.to_ascii_lowercase();

    if let Some(alias) = ALIASES.into_iter().find(|a| *a == lower) {
        if let Some((id, origin)) = input.alias_overrides.get(alias) {
            let mut r = pass_through(catalog, input.target, id);
            r.alias = Some(alias.to_string());
            r.reason = format!("alias `{alias}` overridden by {origin}");
            return Ok(r);
        }
        let target_id = catalog
            .alias_target(input.target.key(), alias)
            .unwrap_or_default();
        let info = catalog.find(target_id);
        let mut r = match (input.target, info) {
            (Target::Bedrock, Some(info)) => bedrock_for_region(info, input)?,
            _ => pass_through(catalog, input.target, target_id),
        };
        r.alias = Some(alias.to_string());
        r.reason = format!(
            "{}alias `{alias}` → {}{}",
            if defaulted { "default model: " } else { "" },
            r.model_id,
            match &r.profile_prefix {
                Some(p) if info.is_some_and(|i| i.requires_profile) => format!(
                    " (on-demand needs an inference profile; `{p}.` keeps {} in its geography)",
                    input.region
                ),
                _ => String::new(),
            }
        );
        return Ok(r);
    }

    let looks_like_id = requested.starts_with("arn:")
        || requested.starts_with("anthropic.")
        || split_profile_prefix(requested).is_some()
        || requested.starts_with("claude-");
    if looks_like_id {
        if let (Target::Bedrock, Some(info)) = (input.target, catalog.find(requested))
            && info.api_id == requested
        {
            // An Anthropic API name on Bedrock: pick the ID or profile for the region.
            let mut r = bedrock_for_region(info, input)?;
            r.reason = format!(
                "`{requested}` is {}; on Bedrock in {} that is {}",
                info.name, input.region, r.model_id
            );
            return Ok(r);
        }
        return Ok(pass_through(catalog, input.target, requested));
    }
    Err(ResolveError::UnknownModel {
        name: requested.to_string(),
        suggestion: did_you_mean(requested, catalog.known_names()),
    })
}

/// Picks the base ID or the geography's profile for a catalog model.
fn bedrock_for_region(
    info: &'static ModelInfo,
    input: &ResolveInput<'_>,
) -> Result<ResolvedModel, ResolveError> {
    let mut r = ResolvedModel {
        model_id: info.id.clone(),
        info: Some(info),
        canonical: Some(info.id.clone()),
        alias: None,
        profile_prefix: None,
        reason: String::new(),
    };
    if !info.requires_profile && input.region_prefix.is_none() {
        return Ok(r);
    }
    let prefix = input
        .region_prefix
        .unwrap_or_else(|| prefix_for_region(input.region));
    if !info.profiles.iter().any(|p| p == prefix) {
        return Err(ResolveError::NoProfileForGeography {
            model: info.name.clone(),
            prefix: prefix.to_string(),
            region: input.region.to_string(),
            available: info.profiles.join(", "),
        });
    }
    r.model_id = format!("{prefix}.{}", info.id);
    r.profile_prefix = Some(prefix.to_string());
    Ok(r)
}

/// An explicit ID is sent as given; only the catalog entry is looked up.
/// On the direct API a Bedrock ID is translated to its API name, since the
/// API would reject it.
fn pass_through(catalog: &'static Catalog, target: Target, id: &str) -> ResolvedModel {
    let behind = crate::bedrock::profiles::resolved(id);
    let (prefix, base) = if let Some(model) = behind.as_deref() {
        (None, model)
    } else if id.starts_with("arn:") {
        match arn_model(id) {
            Some(m) => match split_profile_prefix(m) {
                Some((p, rest)) => (Some(p), rest),
                None => (None, m),
            },
            None => (None, id),
        }
    } else {
        match split_profile_prefix(id) {
            Some((p, rest)) => (Some(p), rest),
            None => (None, id),
        }
    };
    let info = catalog.find(base);
    let model_id = match (target, info) {
        (Target::Anthropic, Some(info)) => info.api_id.clone(),
        _ => id.to_string(),
    };
    let reason = match info {
        Some(i) if model_id == id => format!("explicit ID ({}), sent unchanged", i.name),
        Some(i) => format!(
            "`{id}` is {}; its {} ID is {model_id}",
            i.name,
            target.key()
        ),
        None => "explicit ID, not in the built-in catalog; sent unchanged".to_string(),
    };
    ResolvedModel {
        model_id,
        info,
        canonical: info.map(|i| i.id.clone()),
        alias: None,
        profile_prefix: prefix.map(str::to_string),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(target: Target, requested: Option<&'a str>, region: &'a str) -> ResolveInput<'a> {
        ResolveInput {
            target,
            requested,
            alias_overrides: BTreeMap::new(),
            region,
            region_prefix: None,
        }
    }

    fn id(target: Target, requested: &str, region: &str) -> String {
        resolve(&input(target, Some(requested), region))
            .unwrap()
            .model_id
    }

    #[test]
    fn available_models_match_families_prefixes_and_ids() {
        let allowed = |target, requested: &str, entries: &[&str]| {
            let mut input = input(target, Some(requested), "us-east-1");
            input.alias_overrides.insert(
                "sonnet",
                (
                    "anthropic.claude-opus-4-1-20250805-v1:0".into(),
                    "test".into(),
                ),
            );
            let model = resolve(&input).unwrap();
            let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
            allowed_by(&model, &entries)
        };
        let b = Target::Bedrock;
        assert!(allowed(b, "haiku", &["HAIKU"]));
        assert!(allowed(b, "claude-3-5-haiku-20241022", &["haiku"]));
        assert!(!allowed(b, "opus", &["sonnet", "haiku"]));
        assert!(
            !allowed(b, "sonnet", &["sonnet"]),
            "an override to another family is not that alias"
        );
        assert!(allowed(b, "sonnet", &["opus-4-1"]));
        let profile = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
        for entry in [
            "sonnet-4-5",
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ] {
            assert!(allowed(b, profile, &[entry]), "{entry}");
            assert!(
                allowed(Target::Anthropic, "claude-sonnet-4-5-20250929", &[entry]),
                "{entry}"
            );
        }
        assert!(allowed(b, profile, &[profile]));
        assert!(allowed(b, profile, &["sonnet-4"]), "every Sonnet 4.x");
        assert!(!allowed(b, profile, &["sonnet-5"]));
        assert!(!allowed(
            b,
            profile,
            &["eu.anthropic.claude-sonnet-4-5-20250929-v1:0"]
        ));
        assert!(!allowed(b, profile, &["claude-sonnet-4-5-2"]));
        let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";
        assert!(allowed(b, arn, &[arn]));
        assert!(!allowed(b, arn, &["sonnet", "opus", "haiku"]));
        assert!(!allowed(b, "haiku", &[]));
    }

    #[test]
    fn not_allowed_names_the_file_and_the_choices() {
        let err = ResolveError::NotAllowed {
            name: "opus".into(),
            allowed: vec!["sonnet".into(), "haiku".into()],
            file: "/etc/claude-code/managed-settings.json".into(),
        };
        assert_eq!(
            err.to_string(),
            "model `opus` is not allowed: availableModels in /etc/claude-code/managed-settings.json \
             permits only sonnet, haiku. Choose one of those, or ask whoever manages that file to add it."
        );
    }

    #[test]
    fn spec_aliases_resolve_to_the_spec_table() {
        for (alias, expected) in [
            ("opus", "anthropic.claude-3-opus-20240229-v1:0"),
            ("sonnet", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
            ("haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
            ("Haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
        ] {
            assert_eq!(id(Target::Bedrock, alias, "us-east-1"), expected);
        }
        assert_eq!(
            id(
                Target::Bedrock,
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "us-east-1"
            ),
            id(Target::Bedrock, "sonnet", "us-east-1")
        );
    }

    #[test]
    fn default_is_sonnet() {
        let r = resolve(&input(Target::Bedrock, None, "eu-west-1")).unwrap();
        assert_eq!(r.model_id, "anthropic.claude-3-5-sonnet-20241022-v2:0");
        assert!(r.reason.starts_with("default model"));
    }

    #[test]
    fn ids_profiles_and_arns_pass_through_unchanged() {
        for raw in [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "apac.anthropic.claude-3-haiku-20240307-v1:0",
            "jp.anthropic.claude-sonnet-4-6",
            "au.anthropic.claude-opus-4-7",
            "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-opus-5",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/xyz",
            "anthropic.claude-future-9",
        ] {
            assert_eq!(id(Target::Bedrock, raw, "us-east-1"), raw);
        }
        let r = resolve(&input(
            Target::Bedrock,
            Some("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "us-east-1",
        ))
        .unwrap();
        assert_eq!(
            r.canonical.as_deref(),
            Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        assert_eq!(r.profile_prefix.as_deref(), Some("us"));
    }

    #[test]
    fn profile_prefix_follows_the_region() {
        let mut inp = input(Target::Bedrock, Some("haiku"), "us-east-1");
        inp.alias_overrides.clear();
        // Point haiku at a model that needs a profile through the catalog by
        // resolving an API name, which goes through the same path.
        for (region, prefix) in [
            ("us-west-2", "us"),
            ("eu-central-1", "eu"),
            ("ap-southeast-2", "apac"),
            ("us-gov-west-1", "us-gov"),
            ("ca-central-1", "global"),
        ] {
            assert_eq!(prefix_for_region(region), prefix);
        }
        let info = Catalog::builtin()
            .find("anthropic.claude-haiku-4-5-20251001-v1:0")
            .unwrap();
        let r = bedrock_for_region(info, &input(Target::Bedrock, None, "eu-west-3")).unwrap();
        assert_eq!(r.model_id, "eu.anthropic.claude-haiku-4-5-20251001-v1:0");
    }

    #[test]
    fn never_crosses_geography_unless_asked() {
        let info = Catalog::builtin()
            .find("anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap();
        let err =
            bedrock_for_region(info, &input(Target::Bedrock, None, "ap-southeast-1")).unwrap_err();
        assert!(
            matches!(err, ResolveError::NoProfileForGeography { ref prefix, .. } if prefix == "apac")
        );
        let mut inp = input(Target::Bedrock, None, "ap-southeast-1");
        inp.region_prefix = Some("global");
        assert_eq!(
            bedrock_for_region(info, &inp).unwrap().model_id,
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
    }

    #[test]
    fn overrides_win_and_are_explained() {
        let mut inp = input(Target::Bedrock, Some("haiku"), "us-east-1");
        inp.alias_overrides.insert(
            "haiku",
            (
                "us.anthropic.claude-haiku-4-5-20251001-v1:0".into(),
                "env ANTHROPIC_DEFAULT_HAIKU_MODEL".into(),
            ),
        );
        let r = resolve(&inp).unwrap();
        assert_eq!(r.model_id, "us.anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(r.alias.as_deref(), Some("haiku"));
        assert!(r.reason.contains("ANTHROPIC_DEFAULT_HAIKU_MODEL"));
    }

    #[test]
    fn anthropic_target_uses_api_names() {
        assert_eq!(
            id(Target::Anthropic, "sonnet", "us-east-1"),
            "claude-sonnet-5"
        );
        assert_eq!(
            id(
                Target::Anthropic,
                "anthropic.claude-3-haiku-20240307-v1:0",
                "us-east-1"
            ),
            "claude-3-haiku-20240307"
        );
        assert_eq!(
            id(Target::Bedrock, "claude-3-haiku-20240307", "us-east-1"),
            "anthropic.claude-3-haiku-20240307-v1:0"
        );
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let err = resolve(&input(Target::Bedrock, Some("sonet"), "us-east-1")).unwrap_err();
        assert_eq!(
            err,
            ResolveError::UnknownModel {
                name: "sonet".into(),
                suggestion: Some("sonnet".into())
            }
        );
        assert!(err.to_string().contains("did you mean `sonnet`"));
    }
}
