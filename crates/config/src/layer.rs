//! Precedence: each source becomes a layer of validated values, and the
//! first layer holding a key decides it.

use std::collections::BTreeMap;

use crate::error::ConfigError;
use crate::policy::PolicyOverride;
use crate::registry::{self, KEYS, Raw};
use crate::value::{Origin, Resolved};

#[derive(Debug, Default)]
pub(crate) struct Layer(BTreeMap<&'static str, Resolved>);

impl Layer {
    pub(crate) fn new() -> Layer {
        Layer::default()
    }

    /// Validates before storing, so a bad value is reported against the
    /// source it came from even when a higher layer would shadow it.
    pub(crate) fn put(&mut self, key: &str, raw: Raw, origin: Origin) -> Result<(), ConfigError> {
        let spec = registry::lookup(key)?;
        let value = registry::parse_raw(spec, raw, origin.clone())?;
        self.0.insert(
            spec.name,
            Resolved {
                key: spec.name,
                value,
                origin,
            },
        );
        Ok(())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Resolved> {
        self.0.get(key)
    }

    /// The keys an environment sets, each with the variable it came from.
    pub(crate) fn from_env(
        lookup_var: impl Fn(&str) -> Option<(String, Origin)>,
    ) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        for spec in KEYS {
            if let Some((value, origin)) = registry::from_env(spec, &lookup_var)? {
                let key = spec.name;
                layer.0.insert(key, Resolved { key, value, origin });
            }
        }
        Ok(layer)
    }

    /// Replaces this layer's values with `other`'s where both have a key.
    pub(crate) fn overlay(&mut self, other: Layer) {
        self.0.extend(other.0);
    }
}

/// Picks each key's value from the highest layer (`layers[0]` first), falling
/// back to the registry default. A managed value that shadows a different
/// value from a lower layer is reported, since that user's setting is
/// silently ignored otherwise.
pub(crate) fn resolve(
    layers: &[Layer],
) -> Result<(Vec<Resolved>, Vec<PolicyOverride>), ConfigError> {
    let mut resolved = Vec::new();
    let mut overrides = Vec::new();
    for spec in KEYS {
        let mut found = layers.iter().filter_map(|layer| layer.get(spec.name));
        if let Some(winner) = found.next() {
            if let Origin::Managed(policy) = &winner.origin {
                overrides.extend(found.filter(|r| r.value != winner.value).map(|r| {
                    PolicyOverride {
                        key: spec.name,
                        attempted: r.origin.clone(),
                        policy: policy.clone(),
                    }
                }));
            }
            resolved.push(winner.clone());
        } else if let Some(default) = spec.default {
            resolved.push(Resolved {
                key: spec.name,
                value: registry::parse(spec, default, Some(Origin::Default))?,
                origin: Origin::Default,
            });
        }
    }
    Ok((resolved, overrides))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn text(s: &str) -> Raw {
        Raw::Text(s.to_owned())
    }

    #[test]
    fn highest_layer_wins_and_defaults_fill_in() {
        let mut high = Layer::new();
        high.put(
            "provider",
            text("bedrock"),
            Origin::Flag("--provider".into()),
        )
        .unwrap();
        let mut low = Layer::new();
        low.put(
            "provider",
            text("anthropic"),
            Origin::File("/u.toml".into()),
        )
        .unwrap();
        low.put("model", text("opus"), Origin::File("/u.toml".into()))
            .unwrap();
        let (resolved, overrides) = resolve(&[high, low]).unwrap();
        assert!(overrides.is_empty());
        let get = |k: &str| resolved.iter().find(|r| r.key == k).unwrap();
        assert_eq!(get("provider").origin, Origin::Flag("--provider".into()));
        assert_eq!(get("model").value, Value::Str("opus".into()));
        assert_eq!(get("retry.max_attempts").origin, Origin::Default);
        assert!(resolved.iter().all(|r| r.key != "bedrock.region"));
        let order: Vec<_> = resolved.iter().map(|r| r.key).collect();
        let registry_order: Vec<_> = registry::key_names()
            .filter(|k| order.contains(k))
            .collect();
        assert_eq!(order, registry_order);
    }

    #[test]
    fn managed_values_report_differing_attempts() {
        let policy = std::path::PathBuf::from("/etc/claude-code/managed-settings.json");
        let mut managed = Layer::new();
        managed
            .put(
                "bedrock.region",
                text("eu-west-1"),
                Origin::Managed(policy.clone()),
            )
            .unwrap();
        let mut flags = Layer::new();
        flags
            .put(
                "bedrock.region",
                text("us-west-2"),
                Origin::Flag("--region".into()),
            )
            .unwrap();
        let mut file = Layer::new();
        file.put(
            "bedrock.region",
            text("eu-west-1"),
            Origin::File("/u.toml".into()),
        )
        .unwrap();
        let (resolved, overrides) = resolve(&[managed, flags, file]).unwrap();
        let region = resolved.iter().find(|r| r.key == "bedrock.region").unwrap();
        assert_eq!(region.origin, Origin::Managed(policy.clone()));
        assert_eq!(
            overrides,
            [PolicyOverride {
                key: "bedrock.region",
                attempted: Origin::Flag("--region".into()),
                policy,
            }]
        );
    }

    #[test]
    fn put_rejects_unknown_secret_and_invalid() {
        let mut layer = Layer::new();
        let origin = Origin::File("/u.toml".into());
        assert!(matches!(
            layer.put("nope", text("x"), origin.clone()),
            Err(ConfigError::UnknownKey { .. })
        ));
        assert!(matches!(
            layer.put("aws.secret_access_key", text("x"), origin.clone()),
            Err(ConfigError::SecretKey { .. })
        ));
        assert!(matches!(
            layer.put("bedrock.region", text("mars"), origin),
            Err(ConfigError::InvalidValue { .. })
        ));
    }

    #[test]
    fn overlay_replaces_shared_keys() {
        let origin = Origin::Managed("/m.json".into());
        let mut base = Layer::new();
        base.put("model", text("haiku"), origin.clone()).unwrap();
        base.put("bedrock.profile", text("p"), origin.clone())
            .unwrap();
        let mut top = Layer::new();
        top.put("model", text("opus"), origin).unwrap();
        base.overlay(top);
        assert_eq!(base.get("model").unwrap().value, Value::Str("opus".into()));
        assert!(base.get("bedrock.profile").is_some());
    }
}
