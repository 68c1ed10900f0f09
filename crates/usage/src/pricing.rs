//! What a request costs: the built-in catalog's prices for the model ID as
//! sent (inference-profile prefix and all), unless `pricing.overrides` has a
//! row for that exact ID.

use std::collections::BTreeMap;

use claude_config::{Config, Table};
use claude_protocol::Usage;
use claude_providers::catalog::{Catalog, ModelInfo, Prices};
use claude_providers::resolve::split_profile_prefix;
use serde::Serialize;

/// Where a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The catalog compiled into claude.
    Catalog,
    /// `pricing.overrides`.
    Override,
}

/// The prices that apply to one model ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub prices: Prices,
    pub source: PriceSource,
}

/// One request's cost in nano-dollars, and what it would have cost with
/// every cached token billed as plain input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Cost {
    pub nanos: i64,
    pub uncached_nanos: i64,
}

impl Cost {
    /// Prices × tokens, rounded once to the nano-dollar. Cache writes are
    /// billed at the 5-minute rate, the only TTL claude asks for.
    pub fn of(prices: &Prices, u: &Usage) -> Cost {
        // USD per million tokens is nano-dollars per thousandth of a token.
        let n = |tokens: u64, per_mtok: f64| tokens as f64 * per_mtok * 1000.0;
        let billed = n(u.input_tokens, prices.input)
            + n(u.output_tokens, prices.output)
            + n(u.cache_creation_input_tokens, prices.cache_write_5m)
            + n(u.cache_read_input_tokens, prices.cache_read);
        let uncached = n(
            u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens,
            prices.input,
        ) + n(u.output_tokens, prices.output);
        Cost {
            nanos: billed.round() as i64,
            uncached_nanos: uncached.round() as i64,
        }
    }

    /// Money prompt caching saved (negative while a cache is only written).
    pub fn saved_nanos(&self) -> i64 {
        self.uncached_nanos - self.nanos
    }
}

/// One row of `claude pricing`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    pub model_id: String,
    pub name: String,
    #[serde(serialize_with = "serialize_prices")]
    pub prices: Prices,
    pub source: PriceSource,
}

fn serialize_prices<S: serde::Serializer>(p: &Prices, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(5))?;
    m.serialize_entry("input", &p.input)?;
    m.serialize_entry("output", &p.output)?;
    m.serialize_entry("cache_write_5m", &p.cache_write_5m)?;
    m.serialize_entry("cache_write_1h", &p.cache_write_1h)?;
    m.serialize_entry("cache_read", &p.cache_read)?;
    m.end()
}

/// The price table in use: the catalog with `pricing.overrides` on top.
#[derive(Debug, Clone, Default)]
pub struct Pricing {
    overrides: BTreeMap<String, Prices>,
}

impl Pricing {
    /// The compiled-in catalog alone.
    pub fn builtin() -> Pricing {
        Pricing::default()
    }

    pub fn from_config(cfg: &Config) -> Pricing {
        cfg.table("pricing.overrides")
            .map(Pricing::with_overrides)
            .unwrap_or_default()
    }

    /// Rows keyed by model ID, in USD per million tokens. Cache prices left
    /// out follow Bedrock's ratios to input: write 5 min 1.25×, write 1 h 2×,
    /// read 0.1×.
    pub fn with_overrides(table: &Table) -> Pricing {
        let overrides = table
            .iter()
            .map(|(id, f)| {
                let input = f.get("input").copied().unwrap_or(0.0);
                let prices = Prices {
                    input,
                    output: f.get("output").copied().unwrap_or(0.0),
                    cache_write_5m: f.get("cache_write_5m").copied().unwrap_or(input * 1.25),
                    cache_write_1h: Some(f.get("cache_write_1h").copied().unwrap_or(input * 2.0)),
                    cache_read: f.get("cache_read").copied().unwrap_or(input * 0.1),
                };
                (id.clone(), prices)
            })
            .collect();
        Pricing { overrides }
    }

    /// The prices for `model_id` as sent to `provider` (`bedrock` or
    /// `anthropic`); `None` when neither the overrides nor the catalog know
    /// it (an application inference profile, a new model).
    pub fn quote(&self, provider: &str, model_id: &str) -> Option<Quote> {
        let over = |id: &str| {
            self.overrides.get(id).map(|p| Quote {
                prices: *p,
                source: PriceSource::Override,
            })
        };
        if let Some(q) = over(model_id) {
            return Some(q);
        }
        let inner = arn_resource(model_id);
        if let Some(q) = inner.and_then(over) {
            return Some(q);
        }
        let id = inner.unwrap_or(model_id);
        let catalog = Catalog::builtin();
        let prices = if provider == "anthropic" {
            // The direct API charges the base (global) price.
            catalog.find(id)?.price
        } else {
            match split_profile_prefix(id) {
                Some((prefix, base)) => catalog.find(base)?.prices_for(Some(prefix)),
                None => catalog.find(id)?.prices_for(None),
            }
        };
        Some(Quote {
            prices,
            source: PriceSource::Catalog,
        })
    }

    /// Every row a user can look up: for Bedrock each catalog model's base ID
    /// and each inference profile, for the direct API each API name; then
    /// override rows for IDs the catalog lacks.
    pub fn table(&self, provider: &str) -> Vec<PriceRow> {
        let catalog = Catalog::builtin();
        let mut rows = Vec::new();
        for m in catalog.models() {
            for id in row_ids(m, provider) {
                if let Some(q) = self.quote(provider, &id) {
                    rows.push(PriceRow {
                        model_id: id,
                        name: m.name.clone(),
                        prices: q.prices,
                        source: q.source,
                    });
                }
            }
        }
        for (id, prices) in &self.overrides {
            if !rows.iter().any(|r| &r.model_id == id) {
                rows.push(PriceRow {
                    model_id: id.clone(),
                    name: "(pricing.overrides)".into(),
                    prices: *prices,
                    source: PriceSource::Override,
                });
            }
        }
        rows
    }
}

fn row_ids(m: &ModelInfo, provider: &str) -> Vec<String> {
    if provider == "anthropic" {
        return vec![m.api_id.clone()];
    }
    std::iter::once(m.id.clone())
        .chain(m.profiles.iter().map(|p| format!("{p}.{}", m.id)))
        .collect()
}

/// The model or system profile an ARN names directly; `None` for other
/// ARNs (application inference profiles, provisioned models) and non-ARNs.
fn arn_resource(id: &str) -> Option<&str> {
    let resource = id.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let (kind, rest) = resource.split_once('/')?;
    matches!(kind, "foundation-model" | "inference-profile").then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_input_tokens: cache_read,
            cache_creation_input_tokens: cache_write,
        }
    }

    fn nanos(provider: &str, id: &str, u: &Usage) -> i64 {
        Cost::of(&Pricing::builtin().quote(provider, id).unwrap().prices, u).nanos
    }

    #[test]
    fn spec_table_per_1k_tokens() {
        // Bedrock guide: 3.5 Sonnet $0.003/$0.015, 3 Opus $0.015/$0.075,
        // 3 Haiku $0.00025/$0.00125 per 1K input/output tokens.
        let k = usage(1000, 1000, 0, 0);
        assert_eq!(
            nanos("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", &k),
            18_000_000
        );
        assert_eq!(
            nanos("bedrock", "anthropic.claude-3-opus-20240229-v1:0", &k),
            90_000_000
        );
        assert_eq!(
            nanos("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", &k),
            1_500_000
        );
    }

    #[test]
    fn geo_profiles_cost_ten_percent_more_than_global_from_4_5() {
        let u = usage(1000, 500, 2000, 3000);
        // global: 1000×3 + 500×15 + 2000×0.3 + 3000×3.75 = 22 350 µ$ per M → 0.02235 $
        assert_eq!(
            nanos(
                "bedrock",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u
            ),
            22_350_000
        );
        // eu./us.: ×1.1 = 0.024585 $
        assert_eq!(
            nanos(
                "bedrock",
                "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u
            ),
            24_585_000
        );
        assert_eq!(
            nanos(
                "bedrock",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u
            ),
            24_585_000
        );
        // us-gov: ×1.2
        assert_eq!(
            nanos(
                "bedrock",
                "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u
            ),
            26_820_000
        );
        // Profile ARNs price like their profile; the direct API at base price.
        assert_eq!(
            nanos(
                "bedrock",
                "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u
            ),
            24_585_000
        );
        assert_eq!(
            nanos("anthropic", "claude-sonnet-4-5-20250929", &u),
            22_350_000
        );
    }

    #[test]
    fn savings_compare_with_cached_tokens_billed_as_input() {
        let p = Pricing::builtin()
            .quote(
                "bedrock",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            )
            .unwrap()
            .prices;
        let read = Cost::of(&p, &usage(100, 0, 10_000, 0));
        // uncached 10 100 × 3 = 30 300; billed 100×3 + 10 000×0.3 = 3 300 (×1000 nano per M)
        assert_eq!((read.uncached_nanos, read.nanos), (30_300_000, 3_300_000));
        assert_eq!(read.saved_nanos(), 27_000_000);
        let write = Cost::of(&p, &usage(0, 0, 0, 1000));
        assert_eq!(write.saved_nanos(), -750_000);
    }

    #[test]
    fn overrides_replace_exact_rows_and_price_unknown_ids() {
        let table: Table = [
            (
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned(),
                [("input".to_owned(), 2.0), ("output".to_owned(), 10.0)].into(),
            ),
            (
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
                    .to_owned(),
                [
                    ("input".to_owned(), 1.0),
                    ("output".to_owned(), 5.0),
                    ("cache_read".to_owned(), 0.05),
                ]
                .into(),
            ),
        ]
        .into();
        let pricing = Pricing::with_overrides(&table);
        let q = pricing
            .quote("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap();
        assert_eq!(q.source, PriceSource::Override);
        assert_eq!((q.prices.cache_write_5m, q.prices.cache_read), (2.5, 0.2));
        assert_eq!(q.prices.cache_write_1h, Some(4.0));
        // Other rows of the same model keep the catalog's price.
        let eu = pricing
            .quote("bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap();
        assert_eq!(eu.source, PriceSource::Catalog);
        let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";
        assert_eq!(Pricing::builtin().quote("bedrock", app), None);
        assert_eq!(
            pricing.quote("bedrock", app).unwrap().prices.cache_read,
            0.05
        );
        let rows = pricing.table("bedrock");
        assert!(
            rows.iter()
                .any(|r| r.model_id == app && r.source == PriceSource::Override)
        );
        let us = rows
            .iter()
            .find(|r| r.model_id == "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap();
        assert_eq!((us.prices.input, us.source), (2.0, PriceSource::Override));
    }

    #[test]
    fn table_lists_base_ids_and_every_profile() {
        let rows = Pricing::builtin().table("bedrock");
        let ids: Vec<_> = rows.iter().map(|r| r.model_id.as_str()).collect();
        assert!(ids.contains(&"anthropic.claude-3-haiku-20240307-v1:0"));
        assert!(ids.contains(&"apac.anthropic.claude-3-haiku-20240307-v1:0"));
        assert!(ids.contains(&"jp.anthropic.claude-sonnet-4-6"));
        let api = Pricing::builtin().table("anthropic");
        assert!(
            api.iter()
                .any(|r| r.model_id == "claude-opus-5" && r.prices.input == 5.0)
        );
        assert!(
            Pricing::builtin()
                .quote("bedrock", "anthropic.claude-future-9")
                .is_none()
        );
    }
}
