//! The shapes a configuration value can take, and how raw text becomes a
//! [`Value`]. Each failure reason shows a valid example so the user can
//! correct the value without looking anything up.

use std::collections::BTreeMap;

use crate::value::{ProviderKind, Table, Value};

#[derive(Debug)]
pub(crate) enum Kind {
    /// Reported as [`crate::ConfigError::UnknownProvider`] rather than as a
    /// generic invalid value, because it is the most common misconfiguration.
    Provider,
    Text,
    Choice(&'static [&'static str]),
    Region,
    Url,
    Integer {
        min: u64,
        max: u64,
    },
    PositiveNumber,
    /// Comma-separated percentages, e.g. budget alert thresholds.
    Percentages,
    Bool,
    /// Named rows of non-negative numbers, written as a TOML table (or
    /// JSON object) of tables: `{"row": {"field": 1.5}}`.
    NumberTable {
        /// The fields a row may have.
        fields: &'static [&'static str],
        /// The fields every row must have.
        required: &'static [&'static str],
        /// A valid example, shown when a value is rejected.
        example: &'static str,
    },
}

const TRUE_WORDS: [&str; 4] = ["true", "1", "yes", "on"];
const FALSE_WORDS: [&str; 4] = ["false", "0", "no", "off"];
const MAX_PERCENT: f64 = 1000.0;

/// The spelling Claude Code accepts for "on" in switch variables such as
/// `CLAUDE_CODE_USE_BEDROCK`.
pub(crate) fn is_truthy(raw: &str) -> bool {
    TRUE_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(raw.trim()))
}

impl Kind {
    /// Parses already-trimmed text; the error is the reason shown to the user.
    pub(crate) fn parse(&self, raw: &str) -> Result<Value, String> {
        match self {
            Kind::Provider => raw
                .parse::<ProviderKind>()
                .map(|p| Value::Str(p.as_str().to_owned()))
                .map_err(|_| "expected a known provider".to_owned()),
            Kind::Text => parse_text(raw),
            Kind::Choice(choices) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(raw))
                .map(|c| Value::Str((*c).to_owned()))
                .ok_or_else(|| format!("expected one of: {}", choices.join(", "))),
            Kind::Region => parse_region(raw),
            Kind::Url => parse_url(raw),
            Kind::Integer { min, max } => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (*min..=*max).contains(n))
                .map(Value::Int)
                .ok_or_else(|| format!("expected a whole number from {min} to {max}")),
            Kind::PositiveNumber => parse_positive(raw).map(Value::Num).ok_or_else(|| {
                "expected a number greater than 0, such as `500` or `1250.50`".to_owned()
            }),
            Kind::Percentages => parse_percentages(raw),
            Kind::Bool => parse_bool(raw),
            Kind::NumberTable {
                fields,
                required,
                example,
            } => parse_number_table(raw, fields, required)
                .map(Value::Table)
                .map_err(|reason| format!("{reason}; write it like {example}")),
        }
    }

    pub(crate) fn is_list(&self) -> bool {
        matches!(self, Kind::Percentages)
    }

    pub(crate) fn is_table(&self) -> bool {
        matches!(self, Kind::NumberTable { .. })
    }
}

fn parse_text(raw: &str) -> Result<Value, String> {
    if raw.is_empty() {
        return Err("the value must not be empty".to_owned());
    }
    if raw.chars().any(char::is_control) {
        return Err("the value must be a single line without control characters".to_owned());
    }
    Ok(Value::Str(raw.to_owned()))
}

/// AWS region names: a 2–4 letter area (`us`, `eusc`), one or more words,
/// and a number (`us-gov-west-1`, `ap-southeast-7`, `eusc-de-east-1`).
fn parse_region(raw: &str) -> Result<Value, String> {
    let parts: Vec<&str> = raw.split('-').collect();
    let is_word = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    let shaped = parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && parts[..parts.len() - 1].iter().all(is_word)
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if shaped {
        Ok(Value::Str(raw.to_owned()))
    } else {
        Err("expected an AWS region in lowercase with its number, such as `us-east-1` or `eu-west-2`".to_owned())
    }
}

fn parse_url(raw: &str) -> Result<Value, String> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    match host {
        Some(h) if !h.is_empty() && !raw.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Ok(Value::Str(raw.to_owned()))
        }
        _ => Err(
            "expected an http:// or https:// URL, such as `https://bedrock-runtime.eu-west-1.amazonaws.com`"
                .to_owned(),
        ),
    }
}

fn parse_positive(raw: &str) -> Option<f64> {
    raw.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n > 0.0)
}

fn parse_percentages(raw: &str) -> Result<Value, String> {
    let reason = |item: &str| {
        format!(
            "`{item}` is not a percentage above 0 and at most {MAX_PERCENT}; write the list like `50,80,100`"
        )
    };
    raw.split(',')
        .map(str::trim)
        .map(|item| {
            parse_positive(item)
                .filter(|n| *n <= MAX_PERCENT)
                .ok_or_else(|| reason(item))
        })
        .collect::<Result<Vec<f64>, String>>()
        .map(Value::List)
}

/// JSON text (as `claude config set` takes it, and as tables from files are
/// handed over) into validated rows.
fn parse_number_table(raw: &str, fields: &[&str], required: &[&str]) -> Result<Table, String> {
    let json: serde_json::Value =
        serde_json::from_str(raw).map_err(|_| "expected a table (a JSON object)".to_owned())?;
    let serde_json::Value::Object(rows) = json else {
        return Err("expected a table (a JSON object)".to_owned());
    };
    let mut table = Table::new();
    for (name, row) in rows {
        if name.trim().is_empty() {
            return Err("a row name must not be empty".to_owned());
        }
        let serde_json::Value::Object(row) = row else {
            return Err(format!("`{name}` must be a table of numbers"));
        };
        let mut parsed = BTreeMap::new();
        for (field, value) in row {
            if !fields.contains(&field.as_str()) {
                return Err(format!(
                    "`{name}` has an unknown field `{field}` (known: {})",
                    fields.join(", ")
                ));
            }
            let number = match &value {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| format!("`{name}.{field}` must be a number of at least 0"))?;
            parsed.insert(field, number);
        }
        if let Some(missing) = required.iter().find(|f| !parsed.contains_key(**f)) {
            return Err(format!("`{name}` needs `{missing}`"));
        }
        table.insert(name, parsed);
    }
    Ok(table)
}

fn parse_bool(raw: &str) -> Result<Value, String> {
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(raw));
    if is(&TRUE_WORDS) {
        Ok(Value::Bool(true))
    } else if is(&FALSE_WORDS) {
        Ok(Value::Bool(false))
    } else {
        Err("expected true or false (also accepted: 1/0, yes/no, on/off)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-7",
            "eusc-de-east-1",
            "eu-west-2",
        ] {
            assert_eq!(Kind::Region.parse(ok), Ok(Value::Str(ok.into())), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "us east 1",
            "us-east-1a",
            "u-east-1",
            "useastx-east-1",
            "us--1",
            "us-1",
            "-east-1",
            "us-east-",
            "",
        ] {
            let err = Kind::Region.parse(bad).unwrap_err();
            assert!(err.contains("us-east-1"), "{bad}: {err}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "http://localhost:8080/gw",
            "https://gw.example.com?x=1",
        ] {
            assert!(Kind::Url.parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "bedrock.example.com",
            "ftp://x",
            "https://",
            "https:///path",
            "https://a b",
            "",
        ] {
            assert!(
                Kind::Url.parse(bad).unwrap_err().contains("https://"),
                "{bad}"
            );
        }
    }

    #[test]
    fn integers_respect_range() {
        let kind = Kind::Integer { min: 1, max: 100 };
        assert_eq!(kind.parse("1"), Ok(Value::Int(1)));
        assert_eq!(kind.parse("100"), Ok(Value::Int(100)));
        for bad in ["0", "101", "-1", "1.5", "ten", ""] {
            assert_eq!(
                kind.parse(bad).unwrap_err(),
                "expected a whole number from 1 to 100",
                "{bad}"
            );
        }
    }

    #[test]
    fn positive_numbers() {
        assert_eq!(Kind::PositiveNumber.parse("500"), Ok(Value::Num(500.0)));
        assert_eq!(Kind::PositiveNumber.parse("12.5"), Ok(Value::Num(12.5)));
        for bad in ["0", "-3", "$500", "inf", "NaN", "abc", ""] {
            assert!(Kind::PositiveNumber.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(
            Kind::Percentages.parse("50, 80,100"),
            Ok(Value::List(vec![50.0, 80.0, 100.0]))
        );
        assert_eq!(
            Kind::Percentages.parse("1000"),
            Ok(Value::List(vec![1000.0]))
        );
        for bad in ["0", "50,,80", "1001", "-5", "fifty", "", "50;80"] {
            let err = Kind::Percentages.parse(bad).unwrap_err();
            assert!(err.contains("50,80,100"), "{bad}: {err}");
        }
    }

    #[test]
    fn bools() {
        for t in ["true", "TRUE", "1", "yes", "On"] {
            assert_eq!(Kind::Bool.parse(t), Ok(Value::Bool(true)), "{t}");
        }
        for f in ["false", "0", "No", "off"] {
            assert_eq!(Kind::Bool.parse(f), Ok(Value::Bool(false)), "{f}");
        }
        assert!(Kind::Bool.parse("maybe").is_err());
        assert!(is_truthy(" YES "));
        assert!(!is_truthy("0"));
        assert!(!is_truthy("banana"));
    }

    #[test]
    fn number_tables() {
        let kind = Kind::NumberTable {
            fields: &["input", "output", "cache_read"],
            required: &["input", "output"],
            example: "{\"m\": {\"input\": 1, \"output\": 2}}",
        };
        let Ok(Value::Table(t)) =
            kind.parse(r#"{"us.m": {"input": 3.3, "output": "16.5"}, "b": {"input": 0, "output": 1, "cache_read": 0.1}}"#)
        else {
            panic!("valid table rejected")
        };
        assert_eq!(t["us.m"]["input"], 3.3);
        assert_eq!(t["us.m"]["output"], 16.5);
        assert_eq!(t["b"]["cache_read"], 0.1);
        for (bad, needle) in [
            ("[1]", "a JSON object"),
            ("not json", "a JSON object"),
            (r#"{"m": 3}"#, "table of numbers"),
            (r#"{"m": {"input": 1}}"#, "needs `output`"),
            (r#"{"m": {"input": 1, "output": -2}}"#, "at least 0"),
            (
                r#"{"m": {"input": 1, "output": 2, "bogus": 1}}"#,
                "unknown field `bogus`",
            ),
            (r#"{"": {"input": 1, "output": 2}}"#, "must not be empty"),
        ] {
            let err = kind.parse(bad).unwrap_err();
            assert!(
                err.contains(needle) && err.contains("write it like"),
                "{bad}: {err}"
            );
        }
        assert!(kind.is_table() && !kind.is_list() && !Kind::Bool.is_table());
    }

    #[test]
    fn choices_normalise_case() {
        let kind = Kind::Choice(&["warn", "block"]);
        assert_eq!(kind.parse("BLOCK"), Ok(Value::Str("block".into())));
        assert_eq!(
            kind.parse("stop").unwrap_err(),
            "expected one of: warn, block"
        );
    }

    #[test]
    fn providers_are_canonicalised() {
        assert_eq!(
            Kind::Provider.parse("BEDROCK"),
            Ok(Value::Str("bedrock".into()))
        );
        assert!(Kind::Provider.parse("vertex").is_err());
    }

    #[test]
    fn text_rejects_empty_and_control_characters() {
        assert_eq!(Kind::Text.parse("opus"), Ok(Value::Str("opus".into())));
        assert!(Kind::Text.parse("").is_err());
        assert!(Kind::Text.parse("a\nb").is_err());
        assert!(Kind::Percentages.is_list());
        assert!(!Kind::Text.is_list());
    }
}
