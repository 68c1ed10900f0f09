//! The table of every key claude understands. Adding a key is adding a row:
//! loading, validation, `claude config set`, environment mapping, policy
//! locking and the help text all read this table.

use crate::error::ConfigError;
use crate::kind::{Kind, is_truthy};
use crate::secrets::is_secret_key;
use crate::value::{Origin, Value};

#[derive(Debug)]
pub(crate) struct KeySpec {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) default: Option<&'static str>,
    /// Highest priority first; the first variable that yields a value wins.
    pub(crate) env: &'static [EnvSource],
    pub(crate) description: &'static str,
}

#[derive(Debug)]
pub(crate) enum EnvSource {
    /// The variable's text is the value.
    Value(&'static str),
    /// A truthy variable stands for a fixed value; any other text means
    /// "not set", as in Claude Code.
    Switch {
        var: &'static str,
        sets: &'static str,
    },
}

/// Longest delay a retry may wait: anything above an hour is a typo for
/// seconds, not a deliberate setting.
const MAX_DELAY_MS: u64 = 3_600_000;

pub(crate) static KEYS: &[KeySpec] = &[
    KeySpec {
        name: "provider",
        kind: Kind::Provider,
        default: Some("anthropic"),
        env: &[
            EnvSource::Value("CLAUDE_PROVIDER"),
            EnvSource::Switch {
                var: "CLAUDE_CODE_USE_BEDROCK",
                sets: "bedrock",
            },
        ],
        description: "Which API serves model requests: bedrock (Amazon Bedrock) or anthropic.",
    },
    KeySpec {
        name: "model",
        kind: Kind::Text,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_MODEL")],
        description: "Main model: an alias (opus, sonnet, haiku), a model ID, an inference profile ID or an ARN.",
    },
    KeySpec {
        name: "bedrock.region",
        kind: Kind::Region,
        default: None,
        env: &[],
        description: "AWS region for Bedrock; when unset, AWS_REGION, AWS_DEFAULT_REGION, the profile, then us-east-1.",
    },
    KeySpec {
        name: "bedrock.profile",
        kind: Kind::Text,
        default: None,
        env: &[EnvSource::Value("AWS_PROFILE")],
        description: "AWS profile whose credentials sign Bedrock requests.",
    },
    KeySpec {
        name: "bedrock.endpoint_url",
        kind: Kind::Url,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_BEDROCK_BASE_URL")],
        description: "Bedrock endpoint override, e.g. a VPC endpoint or an LLM gateway.",
    },
    KeySpec {
        name: "bedrock.region_prefix",
        kind: Kind::Choice(&["us", "eu", "apac", "jp", "au", "us-gov", "global"]),
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_BEDROCK_REGION_PREFIX")],
        description: "Preferred cross-region inference profile prefix.",
    },
    KeySpec {
        name: "bedrock.models.opus",
        kind: Kind::Text,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_DEFAULT_OPUS_MODEL")],
        description: "Model ID, inference profile ID or ARN that the opus alias stands for.",
    },
    KeySpec {
        name: "bedrock.models.sonnet",
        kind: Kind::Text,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_DEFAULT_SONNET_MODEL")],
        description: "Model ID, inference profile ID or ARN that the sonnet alias stands for.",
    },
    KeySpec {
        name: "bedrock.models.haiku",
        kind: Kind::Text,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_DEFAULT_HAIKU_MODEL")],
        description: "Model ID, inference profile ID or ARN that the haiku alias (and background work) uses.",
    },
    KeySpec {
        name: "bedrock.guardrail.id",
        kind: Kind::Text,
        default: None,
        env: &[],
        description: "Amazon Bedrock guardrail ID or ARN applied to every model call.",
    },
    KeySpec {
        name: "bedrock.guardrail.version",
        kind: Kind::Text,
        default: None,
        env: &[],
        description: "Version of bedrock.guardrail.id: a number or DRAFT (default DRAFT).",
    },
    KeySpec {
        name: "bedrock.guardrail.trace",
        kind: Kind::Choice(&["enabled", "disabled", "enabled_full"]),
        default: None,
        env: &[],
        description: "Guardrail trace in replies: enabled, disabled or enabled_full.",
    },
    KeySpec {
        name: "bedrock.request_metadata",
        kind: Kind::Bool,
        default: None,
        env: &[],
        description: "Send the session ID, project and skill as requestMetadata, for filtering Bedrock's model-invocation logs (default true).",
    },
    KeySpec {
        name: "anthropic.base_url",
        kind: Kind::Url,
        default: None,
        env: &[EnvSource::Value("ANTHROPIC_BASE_URL")],
        description: "Anthropic API endpoint override, e.g. a corporate gateway.",
    },
    KeySpec {
        name: "anthropic.auth_header",
        kind: Kind::Choice(&["authorization", "x-api-key"]),
        default: None,
        env: &[],
        description: "Header that carries the Anthropic credential: x-api-key or authorization (Bearer).",
    },
    KeySpec {
        name: "anthropic.api_version",
        kind: Kind::Text,
        default: None,
        env: &[],
        description: "Value sent as the anthropic-version header.",
    },
    KeySpec {
        name: "budget.monthly_usd",
        kind: Kind::PositiveNumber,
        default: None,
        env: &[],
        description: "Monthly spending budget in US dollars; unset means no budget.",
    },
    KeySpec {
        name: "budget.alert_thresholds",
        kind: Kind::Percentages,
        default: Some("50,80,100"),
        env: &[],
        description: "Percentages of the monthly budget at which claude warns.",
    },
    KeySpec {
        name: "budget.action",
        kind: Kind::Choice(&["warn", "block"]),
        default: Some("warn"),
        env: &[],
        description: "What happens once the monthly budget is spent: warn, or block new requests.",
    },
    KeySpec {
        name: "retry.max_attempts",
        kind: Kind::Integer { min: 1, max: 100 },
        default: Some("10"),
        env: &[EnvSource::Value("CLAUDE_CODE_MAX_RETRIES")],
        description: "Attempts per request before giving up on throttling or transient errors.",
    },
    KeySpec {
        name: "retry.base_delay_ms",
        kind: Kind::Integer {
            min: 1,
            max: MAX_DELAY_MS,
        },
        default: Some("500"),
        env: &[],
        description: "First retry delay in milliseconds; later delays grow exponentially.",
    },
    KeySpec {
        name: "retry.max_delay_ms",
        kind: Kind::Integer {
            min: 1,
            max: MAX_DELAY_MS,
        },
        default: Some("20000"),
        env: &[],
        description: "Longest delay between retries in milliseconds.",
    },
    KeySpec {
        name: "prompt_caching",
        kind: Kind::Bool,
        default: Some("true"),
        env: &[EnvSource::Switch {
            var: "DISABLE_PROMPT_CACHING",
            sets: "false",
        }],
        description: "Mark the prompt for caching, which cuts cost and latency of long sessions.",
    },
    KeySpec {
        name: "vault.native_q",
        kind: Kind::Bool,
        default: Some("true"),
        env: &[],
        description: "Answer /q natively from the vault index (no model, no cost); false hands /q to the project's q skill.",
    },
    KeySpec {
        name: "pricing.overrides",
        kind: Kind::NumberTable {
            fields: &[
                "input",
                "output",
                "cache_write_5m",
                "cache_write_1h",
                "cache_read",
            ],
            required: &["input", "output"],
            example: r#"{"us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5}} (USD per million tokens)"#,
        },
        default: None,
        env: &[],
        description: "Prices that replace the built-in catalog's, per model ID as sent (base ID, profile ID or ARN), in USD per million tokens: input, output, and optionally cache_write_5m, cache_write_1h, cache_read.",
    },
    KeySpec {
        name: "audit.enabled",
        kind: Kind::Bool,
        default: Some("true"),
        env: &[],
        description: "Append one JSON line per model invocation and tool execution to audit.jsonl in the config directory.",
    },
    KeySpec {
        name: "audit.include_content",
        kind: Kind::Bool,
        default: Some("false"),
        env: &[],
        description: "Also write prompts, replies and tool inputs to the audit log (off: metadata only).",
    },
    KeySpec {
        name: "audit.max_bytes",
        kind: Kind::Integer {
            min: 4096,
            max: 1 << 40,
        },
        default: Some("10485760"),
        env: &[],
        description: "Size at which audit.jsonl is rotated to audit.jsonl.1 (five old files are kept).",
    },
    KeySpec {
        name: "audit.principal_lookup",
        kind: Kind::Bool,
        default: Some("true"),
        env: &[],
        description: "Ask STS GetCallerIdentity (free, no permission needed) once per run so audit lines name the AWS principal.",
    },
];

/// Below this similarity a suggestion is more confusing than helpful.
const SUGGESTION_THRESHOLD: f64 = 0.7;

pub fn key_names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|spec| spec.name)
}

pub fn describe(key: &str) -> Option<&'static str> {
    find(key).map(|spec| spec.description)
}

/// Checks a value the way `claude config set` would, without writing it.
pub fn validate(key: &str, raw: &str) -> Result<Value, ConfigError> {
    parse(lookup(key)?, raw, None)
}

pub(crate) fn find(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|spec| spec.name == key)
}

/// Secret-looking keys are refused before anything else so that the error
/// never depends on (or reveals) whether such a key exists.
pub(crate) fn lookup(key: &str) -> Result<&'static KeySpec, ConfigError> {
    if is_secret_key(key) {
        return Err(ConfigError::SecretKey {
            key: key.to_owned(),
        });
    }
    find(key).ok_or_else(|| ConfigError::UnknownKey {
        key: key.to_owned(),
        suggestion: suggest(key).map(str::to_owned),
    })
}

/// A bare word is also compared with each key's last segment, so `region`
/// suggests `bedrock.region`.
fn suggest(key: &str) -> Option<&'static str> {
    let wanted = key.to_ascii_lowercase();
    let mut best: Option<(f64, &'static str)> = None;
    for spec in KEYS {
        let mut score = strsim::normalized_damerau_levenshtein(&wanted, spec.name);
        if !wanted.contains('.') {
            let last = spec.name.rsplit('.').next().unwrap_or(spec.name);
            score = score.max(strsim::normalized_damerau_levenshtein(&wanted, last));
        }
        if score >= SUGGESTION_THRESHOLD && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, spec.name));
        }
    }
    best.map(|(_, name)| name)
}

/// A short map of the key space (`bedrock.*`, …) for errors without a close
/// suggestion.
pub(crate) fn key_groups() -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for spec in KEYS {
        let group = match spec.name.split_once('.') {
            Some((top, _)) => format!("{top}.*"),
            None => spec.name.to_owned(),
        };
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

pub(crate) fn parse(
    spec: &KeySpec,
    raw: &str,
    origin: Option<Origin>,
) -> Result<Value, ConfigError> {
    let trimmed = raw.trim();
    spec.kind.parse(trimmed).map_err(|reason| match spec.kind {
        Kind::Provider => ConfigError::UnknownProvider {
            value: trimmed.to_owned(),
            origin,
        },
        _ => ConfigError::InvalidValue {
            key: spec.name.to_owned(),
            value: trimmed.to_owned(),
            reason,
            origin,
        },
    })
}

/// A value as found in a structured file, before validation.
pub(crate) enum Raw {
    Text(String),
    List(Vec<String>),
    /// A table or object, as JSON; only table keys accept it. `shown` is how
    /// the file spells it.
    Table {
        json: serde_json::Value,
        shown: String,
        what: &'static str,
    },
    /// Null or another shape no key accepts; `shown` is how the file spells
    /// it.
    Unsupported {
        shown: String,
        what: &'static str,
    },
}

pub(crate) fn parse_raw(spec: &KeySpec, raw: Raw, origin: Origin) -> Result<Value, ConfigError> {
    let invalid = |value: String, reason: String| ConfigError::InvalidValue {
        key: spec.name.to_owned(),
        value,
        reason,
        origin: Some(origin.clone()),
    };
    match raw {
        Raw::Text(text) => parse(spec, &text, Some(origin)),
        Raw::List(items) if spec.kind.is_list() => parse(spec, &items.join(","), Some(origin)),
        Raw::List(items) => Err(invalid(
            format!("[{}]", items.join(", ")),
            "expected a single value, not a list".to_owned(),
        )),
        Raw::Table { json, .. } if spec.kind.is_table() => {
            parse(spec, &json.to_string(), Some(origin))
        }
        Raw::Table { shown, what, .. } => Err(invalid(
            shown,
            format!("expected a single value, not {what}"),
        )),
        Raw::Unsupported { shown, what } => Err(invalid(
            shown,
            format!("expected a single value, not {what}"),
        )),
    }
}

/// The value `key` takes from an environment, if any of its variables is
/// set. Every variable is validated, not just the winner, so a typo in a
/// shadowed variable still surfaces.
pub(crate) fn from_env(
    spec: &KeySpec,
    lookup_var: impl Fn(&str) -> Option<(String, Origin)>,
) -> Result<Option<(Value, Origin)>, ConfigError> {
    let mut found = None;
    for source in spec.env {
        let (var, sets) = match source {
            EnvSource::Value(var) => (*var, None),
            EnvSource::Switch { var, sets } => (*var, Some(*sets)),
        };
        let Some((text, origin)) = lookup_var(var).filter(|(t, _)| !t.trim().is_empty()) else {
            continue;
        };
        let raw = match sets {
            None => text,
            Some(fixed) if is_truthy(&text) => fixed.to_owned(),
            Some(_) => continue,
        };
        let value = parse(spec, &raw, Some(origin.clone()))?;
        found.get_or_insert((value, origin));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn defaults_are_valid() {
        for spec in KEYS {
            if let Some(default) = spec.default {
                parse(spec, default, Some(Origin::Default)).unwrap();
            }
        }
    }

    #[test]
    fn names_are_unique_and_described() {
        let names: Vec<_> = key_names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for name in names {
            assert!(!describe(name).unwrap().is_empty());
            assert!(!is_secret_key(name), "{name} looks like a secret");
        }
        assert_eq!(describe("nope"), None);
    }

    #[test]
    fn required_keys_exist() {
        for key in [
            "provider",
            "model",
            "bedrock.region",
            "bedrock.profile",
            "bedrock.endpoint_url",
            "bedrock.region_prefix",
            "bedrock.models.opus",
            "bedrock.models.sonnet",
            "bedrock.models.haiku",
            "anthropic.base_url",
            "anthropic.auth_header",
            "anthropic.api_version",
            "budget.monthly_usd",
            "budget.alert_thresholds",
            "budget.action",
            "retry.max_attempts",
            "retry.base_delay_ms",
            "retry.max_delay_ms",
            "prompt_caching",
            "pricing.overrides",
            "audit.include_content",
        ] {
            assert!(find(key).is_some(), "{key}");
        }
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let cases = [
            ("bedrock.regoin", Some("bedrock.region")),
            ("region", Some("bedrock.region")),
            ("provder", Some("provider")),
            ("retry.max_attempt", Some("retry.max_attempts")),
            ("zzzzzz", None),
        ];
        for (key, want) in cases {
            match lookup(key) {
                Err(ConfigError::UnknownKey { key: k, suggestion }) => {
                    assert_eq!(k, key);
                    assert_eq!(suggestion.as_deref(), want, "{key}");
                }
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_are_refused_before_unknown() {
        for key in [
            "aws_secret_access_key",
            "bedrock.access_key_id",
            "anthropic.api_key",
            "token",
        ] {
            assert!(
                matches!(lookup(key), Err(ConfigError::SecretKey { .. })),
                "{key}"
            );
            assert!(matches!(
                validate(key, "AKIASECRET"),
                Err(ConfigError::SecretKey { .. })
            ));
            let msg = validate(key, "AKIASECRET").unwrap_err().to_string();
            assert!(!msg.contains("AKIASECRET"), "{msg}");
        }
    }

    #[test]
    fn validate_checks_each_kind() {
        assert_eq!(
            validate("provider", "Bedrock").unwrap(),
            Value::Str("bedrock".into())
        );
        assert_eq!(
            validate("budget.alert_thresholds", "50,80,100").unwrap(),
            Value::List(vec![50.0, 80.0, 100.0])
        );
        assert_eq!(
            validate("retry.max_attempts", " 5 ").unwrap(),
            Value::Int(5)
        );
        assert_eq!(
            validate("prompt_caching", "off").unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            validate("budget.monthly_usd", "250").unwrap(),
            Value::Num(250.0)
        );
        assert!(matches!(
            validate("provider", "foo"),
            Err(ConfigError::UnknownProvider { origin: None, .. })
        ));
        match validate("bedrock.region", "us-east") {
            Err(ConfigError::InvalidValue {
                key,
                value,
                reason,
                origin: None,
            }) => {
                assert_eq!(
                    (key.as_str(), value.as_str()),
                    ("bedrock.region", "us-east")
                );
                assert!(reason.contains("us-east-1"));
            }
            other => panic!("{other:?}"),
        }
        assert!(validate("retry.max_attempts", "101").is_err());
        assert!(validate("retry.base_delay_ms", "0").is_err());
        assert!(validate("retry.max_delay_ms", "3600001").is_err());
        assert!(validate("bedrock.region_prefix", "mars").is_err());
        assert_eq!(
            validate("bedrock.region_prefix", "us-gov").unwrap(),
            Value::Str("us-gov".into())
        );
        assert!(validate("anthropic.auth_header", "cookie").is_err());
        assert!(validate("budget.action", "explode").is_err());
        assert!(validate("model", "  ").is_err());
        assert!(matches!(
            validate("bedrock.regoin", "x"),
            Err(ConfigError::UnknownKey { .. })
        ));
    }

    #[test]
    fn structured_values() {
        let origin = Origin::File("/c.toml".into());
        let spec = find("budget.alert_thresholds").unwrap();
        assert_eq!(
            parse_raw(
                spec,
                Raw::List(vec!["50".into(), "90".into()]),
                origin.clone()
            )
            .unwrap(),
            Value::List(vec![50.0, 90.0])
        );
        let region = find("bedrock.region").unwrap();
        let err =
            parse_raw(region, Raw::List(vec!["us-east-1".into()]), origin.clone()).unwrap_err();
        assert!(err.to_string().contains("not a list"), "{err}");
        let err = parse_raw(
            region,
            Raw::Unsupported {
                shown: "{}".into(),
                what: "a table",
            },
            origin,
        )
        .unwrap_err();
        assert!(
            matches!(
                &err,
                ConfigError::InvalidValue {
                    origin: Some(Origin::File(_)),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("not a table"));
        let overrides = find("pricing.overrides").unwrap();
        let json = serde_json::json!({"m": {"input": 1, "output": 2}});
        assert_eq!(
            parse_raw(
                overrides,
                Raw::Table {
                    json,
                    shown: "{…}".into(),
                    what: "a table",
                },
                Origin::Default
            )
            .unwrap()
            .to_string(),
            r#"{"m":{"input":1,"output":2}}"#
        );
        let err = parse_raw(overrides, Raw::Text("3".into()), Origin::Default).unwrap_err();
        assert!(err.to_string().contains("write it like"), "{err}");
    }

    fn env_of<'a>(
        vars: &'a BTreeMap<&str, &str>,
    ) -> impl Fn(&str) -> Option<(String, Origin)> + 'a {
        |var| {
            vars.get(var)
                .map(|v| ((*v).to_owned(), Origin::Env(var.to_owned())))
        }
    }

    #[test]
    fn provider_from_environment() {
        let spec = find("provider").unwrap();
        type Case = (
            &'static [(&'static str, &'static str)],
            Option<&'static str>,
        );
        let cases: [Case; 6] = [
            (&[("CLAUDE_CODE_USE_BEDROCK", "1")], Some("bedrock")),
            (&[("CLAUDE_CODE_USE_BEDROCK", "TRUE")], Some("bedrock")),
            (&[("CLAUDE_CODE_USE_BEDROCK", "0")], None),
            (&[("CLAUDE_CODE_USE_BEDROCK", "")], None),
            (
                &[
                    ("CLAUDE_PROVIDER", "anthropic"),
                    ("CLAUDE_CODE_USE_BEDROCK", "yes"),
                ],
                Some("anthropic"),
            ),
            (&[("CLAUDE_PROVIDER", "  ")], None),
        ];
        for (vars, want) in cases {
            let vars: BTreeMap<_, _> = vars.iter().copied().collect();
            let got = from_env(spec, env_of(&vars)).unwrap();
            assert_eq!(got.map(|(v, _)| v.to_string()).as_deref(), want, "{vars:?}");
        }
        let vars = BTreeMap::from([("CLAUDE_PROVIDER", "foo")]);
        let err = from_env(spec, env_of(&vars)).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "unknown provider `foo` (from CLAUDE_PROVIDER); valid providers: anthropic, bedrock"
            ),
            "{err}"
        );
    }

    #[test]
    fn switch_variables_and_origins() {
        let spec = find("prompt_caching").unwrap();
        let vars = BTreeMap::from([("DISABLE_PROMPT_CACHING", "on")]);
        let (value, origin) = from_env(spec, env_of(&vars)).unwrap().unwrap();
        assert_eq!(value, Value::Bool(false));
        assert_eq!(origin, Origin::Env("DISABLE_PROMPT_CACHING".into()));
        let vars = BTreeMap::from([("DISABLE_PROMPT_CACHING", "0")]);
        assert_eq!(from_env(spec, env_of(&vars)).unwrap(), None);
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let spec = find("retry.max_attempts").unwrap();
        let vars = BTreeMap::from([("CLAUDE_CODE_MAX_RETRIES", "lots")]);
        let err = from_env(spec, env_of(&vars)).unwrap_err();
        assert!(
            err.to_string().contains("(from CLAUDE_CODE_MAX_RETRIES)"),
            "{err}"
        );
    }

    #[test]
    fn key_groups_are_short() {
        let groups = key_groups();
        assert_eq!(groups[..3], ["provider", "model", "bedrock.*"]);
        assert!(groups.contains(&"prompt_caching".to_owned()));
    }
}
