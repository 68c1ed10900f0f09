//! The compiled-in model catalog: what each Claude model on Bedrock and on
//! the direct API can do, which inference profiles exist, its lifecycle and
//! prices. Kept as a data file so updating a model is a one-line change.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// Prices in USD per million tokens, at the base (`global.` or in-region) rate.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    pub cache_write_5m: f64,
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
    pub cache_read: f64,
}

impl Prices {
    /// USD for one request's usage (5-minute cache writes).
    pub fn cost(&self, u: &claude_protocol::Usage) -> f64 {
        (u.input_tokens as f64 * self.input
            + u.output_tokens as f64 * self.output
            + u.cache_creation_input_tokens as f64 * self.cache_write_5m
            + u.cache_read_input_tokens as f64 * self.cache_read)
            / 1_000_000.0
    }

    fn scaled(&self, factor: f64) -> Prices {
        Prices {
            input: self.input * factor,
            output: self.output * factor,
            cache_write_5m: self.cache_write_5m * factor,
            cache_write_1h: self.cache_write_1h.map(|p| p * factor),
            cache_read: self.cache_read * factor,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Lifecycle {
    /// `ACTIVE` or `LEGACY`, as ListFoundationModels spells it.
    pub status: String,
    #[serde(default)]
    pub eol: Option<String>,
    /// The newer model of the same tier to move to.
    #[serde(default)]
    pub replacement: Option<String>,
}

/// How a model takes the `thinking` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkingSupport {
    Enabled,
    Adaptive,
    AdaptiveOnly,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelInfo {
    /// Base Bedrock model ID, e.g. `anthropic.claude-3-haiku-20240307-v1:0`.
    pub id: String,
    /// The Anthropic API name, e.g. `claude-3-haiku-20240307`.
    pub api_id: String,
    pub name: String,
    pub tier: String,
    pub generation: String,
    pub context_window: u64,
    pub max_output: u32,
    /// On-demand calls must go through an inference profile.
    pub requires_profile: bool,
    /// Geography prefixes with a system-defined inference profile.
    pub profiles: Vec<String>,
    pub lifecycle: Lifecycle,
    pub price: Prices,
    /// Extra share that geographic and in-region profiles cost over `global.`.
    #[serde(default)]
    pub geo_premium: f64,
    #[serde(default)]
    pub prefix_multipliers: BTreeMap<String, f64>,
    #[serde(default)]
    pub cache_min_tokens: Option<u32>,
    #[serde(default)]
    pub thinking: Option<ThinkingSupport>,
}

impl ModelInfo {
    /// Prices for a call through `prefix` (`None` = in-region base ID).
    pub fn prices_for(&self, prefix: Option<&str>) -> Prices {
        if let Some(m) = prefix.and_then(|p| self.prefix_multipliers.get(p)) {
            return self.price.scaled(*m);
        }
        match prefix {
            Some("global") => self.price,
            _ => self.price.scaled(1.0 + self.geo_premium),
        }
    }

    pub fn is_legacy(&self) -> bool {
        self.lifecycle.status.eq_ignore_ascii_case("LEGACY")
    }
}

#[derive(Debug, Deserialize)]
pub struct Catalog {
    aliases: BTreeMap<String, BTreeMap<String, String>>,
    models: Vec<ModelInfo>,
}

/// The three Claude Code model aliases.
pub const ALIASES: [&str; 3] = ["opus", "sonnet", "haiku"];

impl Catalog {
    /// The catalog built into the binary, parsed on first use.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            serde_json::from_str(include_str!("models.json"))
                .unwrap_or_else(|e| panic!("built-in models.json is invalid: {e}"))
        })
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// The default target of `alias` for a provider (`bedrock` or `anthropic`).
    pub fn alias_target(&self, provider: &str, alias: &str) -> Option<&str> {
        self.aliases.get(provider)?.get(alias).map(String::as_str)
    }

    /// Finds a model by base Bedrock ID or Anthropic API name.
    pub fn find(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id || m.api_id == id)
    }

    /// Every name a user could mean, for did-you-mean suggestions.
    pub fn known_names(&self) -> impl Iterator<Item = &str> {
        ALIASES.into_iter().chain(
            self.models
                .iter()
                .flat_map(|m| [m.id.as_str(), m.api_id.as_str()]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_aliases_point_at_models() {
        let c = Catalog::builtin();
        for provider in ["bedrock", "anthropic"] {
            for alias in ALIASES {
                let target = c.alias_target(provider, alias).unwrap();
                assert!(c.find(target).is_some(), "{provider}/{alias} → {target}");
            }
        }
    }

    #[test]
    fn spec_aliases_match_the_bedrock_guide_table() {
        let c = Catalog::builtin();
        assert_eq!(
            c.alias_target("bedrock", "opus"),
            Some("anthropic.claude-3-opus-20240229-v1:0")
        );
        assert_eq!(
            c.alias_target("bedrock", "sonnet"),
            Some("anthropic.claude-3-5-sonnet-20241022-v2:0")
        );
        assert_eq!(
            c.alias_target("bedrock", "haiku"),
            Some("anthropic.claude-3-haiku-20240307-v1:0")
        );
    }

    #[test]
    fn geo_profiles_cost_ten_percent_more_from_the_4_5_generation() {
        let m = Catalog::builtin()
            .find("anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap();
        assert_eq!(m.prices_for(Some("global")).input, 3.0);
        assert!((m.prices_for(Some("us")).input - 3.3).abs() < 1e-9);
        assert!((m.prices_for(Some("us-gov")).output - 18.0).abs() < 1e-9);
        let old = Catalog::builtin()
            .find("anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap();
        assert_eq!(old.prices_for(Some("us")).input, 0.25);
        let u = claude_protocol::Usage {
            input_tokens: 1000,
            output_tokens: 1000,
            ..Default::default()
        };
        // The spec's table: $0.00025 + $0.00125 per 1K tokens.
        assert!((old.prices_for(None).cost(&u) - 0.0015).abs() < 1e-12);
    }
}
