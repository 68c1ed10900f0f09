//! claude's own `config.toml`: reading it as a layer, and editing it in
//! place with toml_edit so comments, ordering and unrelated keys survive.
//! Dotted keys are stored as nested tables (`[bedrock]` / `region = ...`).

use std::ops::Range;
use std::path::Path;

use toml_edit::{Document, DocumentMut, InlineTable, Item, Table, TableLike};

use crate::error::{ConfigError, line_column};
use crate::file_io::read_optional;
use crate::layer::Layer;
use crate::registry::{self, Raw};
use crate::value::{Origin, Value};

/// A parsed file that still knows where each key was written.
pub(crate) struct Spanned {
    text: String,
    doc: Document<String>,
}

impl Spanned {
    /// `Ok(None)` when the file does not exist.
    pub(crate) fn read(path: &Path) -> Result<Option<Spanned>, ConfigError> {
        read_optional(path)?
            .map(|text| Spanned::parse(path, text))
            .transpose()
    }

    pub(crate) fn parse(path: &Path, text: String) -> Result<Spanned, ConfigError> {
        match Document::parse(text.clone()) {
            Ok(doc) => Ok(Spanned { text, doc }),
            Err(e) => Err(parse_error(
                path,
                &text,
                e.span(),
                e.message().trim_end_matches('\n').to_owned(),
            )),
        }
    }

    /// Every key in the file, validated, with the file as origin. Unknown
    /// and secret-looking keys are errors at their position: a typo that
    /// was silently ignored would leave the user wondering why a setting
    /// has no effect.
    pub(crate) fn layer(&self, path: &Path) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        self.collect(path, self.doc.as_table(), "", &mut layer)?;
        Ok(layer)
    }

    fn collect(
        &self,
        path: &Path,
        table: &dyn TableLike,
        prefix: &str,
        layer: &mut Layer,
    ) -> Result<(), ConfigError> {
        for (name, item) in table.iter() {
            let key = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            };
            if registry::find(&key).is_none()
                && let Some(sub) = item.as_table_like()
            {
                self.collect(path, sub, &key, layer)?;
                continue;
            }
            let span = table.key(name).and_then(|k| k.span());
            layer
                .put(&key, toml_raw(item), Origin::File(path.to_path_buf()))
                .map_err(|e| match e {
                    ConfigError::UnknownKey { .. } | ConfigError::SecretKey { .. } => {
                        parse_error(path, &self.text, span, e.to_string())
                    }
                    other => other,
                })?;
        }
        Ok(())
    }

    /// Makes sure `key` can be stored as nested tables: no segment on the
    /// way may already hold a plain value, and the key itself may not be a
    /// table. Done on the spanned document so the error can point at the
    /// conflicting line.
    pub(crate) fn check_settable(
        &self,
        path: &Path,
        key: &str,
        leaf_is_table: bool,
    ) -> Result<(), ConfigError> {
        let segments: Vec<&str> = key.split('.').collect();
        let mut table: &dyn TableLike = self.doc.as_table();
        for (i, segment) in segments.iter().enumerate() {
            let Some((found, item)) = table.get_key_value(segment) else {
                return Ok(());
            };
            let so_far = segments[..=i].join(".");
            let is_leaf = i == segments.len() - 1;
            match (is_leaf, item.as_table_like()) {
                (true, Some(_)) if leaf_is_table => return Ok(()),
                (true, Some(_)) => {
                    let message =
                        format!("`{so_far}` is a table here, but it must be a single value");
                    return Err(parse_error(path, &self.text, found.span(), message));
                }
                (true, None) => return Ok(()),
                (false, Some(sub)) => table = sub,
                (false, None) => {
                    let message =
                        format!("`{so_far}` holds a value, so `{key}` cannot be stored under it");
                    return Err(parse_error(path, &self.text, found.span(), message));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn into_mut(self) -> DocumentMut {
        self.doc.into_mut()
    }
}

fn parse_error(
    path: &Path,
    text: &str,
    span: Option<Range<usize>>,
    message: String,
) -> ConfigError {
    let (line, column) = line_column(text, span.map_or(0, |s| s.start));
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn toml_raw(item: &Item) -> Raw {
    use toml_edit::Value as V;
    let scalar = |v: &V| match v {
        V::String(s) => s.value().clone(),
        V::Integer(i) => i.value().to_string(),
        V::Float(f) => f.value().to_string(),
        V::Boolean(b) => b.value().to_string(),
        other => other.to_string().trim().to_owned(),
    };
    match item {
        Item::Value(V::Array(items)) => Raw::List(items.iter().map(scalar).collect()),
        Item::Value(V::InlineTable(t)) => Raw::Table {
            json: item_json(item),
            shown: t.to_string().trim().to_owned(),
            what: "a table",
        },
        Item::Value(v) => Raw::Text(scalar(v)),
        Item::Table(_) => Raw::Table {
            json: item_json(item),
            shown: "[…]".to_owned(),
            what: "a table",
        },
        Item::ArrayOfTables(_) | Item::None => Raw::Unsupported {
            shown: "[…]".to_owned(),
            what: "a table",
        },
    }
}

/// A TOML item as JSON, for keys whose value is a table.
fn item_json(item: &Item) -> serde_json::Value {
    use serde_json::Value as J;
    use toml_edit::Value as V;
    fn value(v: &V) -> J {
        match v {
            V::String(s) => J::String(s.value().clone()),
            V::Integer(i) => J::from(*i.value()),
            V::Float(f) => J::from(*f.value()),
            V::Boolean(b) => J::Bool(*b.value()),
            V::Datetime(d) => J::String(d.value().to_string()),
            V::Array(items) => J::Array(items.iter().map(value).collect()),
            V::InlineTable(t) => {
                J::Object(t.iter().map(|(k, v)| (k.to_owned(), value(v))).collect())
            }
        }
    }
    match item {
        Item::Value(v) => value(v),
        Item::Table(t) => J::Object(
            t.iter()
                .map(|(k, i)| (k.to_owned(), item_json(i)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => J::Array(
            a.iter()
                .map(|t| {
                    J::Object(
                        t.iter()
                            .map(|(k, i)| (k.to_owned(), item_json(i)))
                            .collect(),
                    )
                })
                .collect(),
        ),
        Item::None => J::Null,
    }
}

/// Stores `value` at the dotted `key`, creating tables in the style of the
/// surrounding file: `[section]` headers normally, dotted keys inside dotted
/// tables, inline tables inside inline tables. An existing value keeps its
/// trailing comment. The caller has run [`Spanned::check_settable`].
pub(crate) fn set(doc: &mut DocumentMut, key: &str, value: &Value) {
    let segments: Vec<&str> = key.split('.').collect();
    set_in(doc.as_item_mut(), &segments, toml_item(value));
    if segments.len() == 1 {
        separate_first_header(doc);
    }
}

/// A top-level value added to a file that begins with a `[table]` header
/// would otherwise sit flush against that header.
fn separate_first_header(doc: &mut DocumentMut) {
    if let Some(table) = first_header(doc.as_table_mut()) {
        let flush = table
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .is_none_or(str::is_empty);
        if flush {
            table.decor_mut().set_prefix("\n");
        }
    }
}

/// The table whose `[header]` comes first in the file.
fn first_header(table: &mut Table) -> Option<&mut Table> {
    let mut first: Option<&mut Table> = None;
    for (_, item) in table.iter_mut() {
        let Some(child) = item.as_table_mut() else {
            continue;
        };
        let candidate = if child.is_implicit() || child.is_dotted() {
            first_header(child)
        } else {
            Some(child)
        };
        let order = |t: &Table| t.position().unwrap_or(isize::MAX);
        if let Some(c) = candidate
            && first.as_deref().is_none_or(|f| order(c) < order(f))
        {
            first = Some(c);
        }
    }
    first
}

fn set_in(item: &mut Item, segments: &[&str], value: Item) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let child_template = match item {
        Item::Value(toml_edit::Value::InlineTable(_)) => {
            Item::Value(toml_edit::Value::InlineTable(InlineTable::new()))
        }
        Item::Table(t) if t.is_dotted() => {
            let mut t = Table::new();
            t.set_dotted(true);
            Item::Table(t)
        }
        _ => {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        }
    };
    let Some(table) = item.as_table_like_mut() else {
        return;
    };
    if rest.is_empty() {
        match (table.get_mut(first).and_then(Item::as_value_mut), value) {
            (Some(existing), Item::Value(value)) => {
                let decor = existing.decor().clone();
                *existing = value;
                *existing.decor_mut() = decor;
            }
            (_, value) => {
                table.insert(first, value);
            }
        }
    } else {
        let child = table.entry(first).or_insert(child_template);
        set_in(child, rest, value);
    }
}

/// Removes the dotted `key` and any tables it leaves empty; `false` when
/// the key was not there.
pub(crate) fn remove(doc: &mut DocumentMut, key: &str) -> bool {
    let segments: Vec<&str> = key.split('.').collect();
    remove_in(doc.as_table_mut(), &segments)
}

fn remove_in(table: &mut dyn TableLike, segments: &[&str]) -> bool {
    match segments {
        [] => false,
        [leaf] => table.remove(leaf).is_some(),
        [first, rest @ ..] => {
            let Some(child) = table.get_mut(first).and_then(Item::as_table_like_mut) else {
                return false;
            };
            let removed = remove_in(child, rest);
            if removed && child.is_empty() {
                table.remove(first);
            }
            removed
        }
    }
}

/// A table value becomes `[key."row"]` sections (its inline form is kept for
/// values nested in inline tables), anything else a plain value.
fn toml_item(value: &Value) -> Item {
    let Value::Table(rows) = value else {
        return Item::Value(toml_value(value));
    };
    let mut outer = Table::new();
    outer.set_implicit(true);
    for (name, fields) in rows {
        let mut row = Table::new();
        for (field, n) in fields {
            row.insert(field, Item::Value(number(*n)));
        }
        outer.insert(name, Item::Table(row));
    }
    Item::Table(outer)
}

fn toml_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::Str(s) => s.as_str().into(),
        Value::Int(n) => i64::try_from(*n).map_or_else(|_| number(*n as f64), Into::into),
        Value::Num(n) => number(*n),
        Value::Bool(b) => (*b).into(),
        Value::List(items) => items
            .iter()
            .map(|n| number(*n))
            .collect::<toml_edit::Array>()
            .into(),
        Value::Table(rows) => {
            let mut outer = InlineTable::new();
            for (name, fields) in rows {
                let row: InlineTable = fields
                    .iter()
                    .map(|(k, n)| (k.as_str(), number(*n)))
                    .collect();
                outer.insert(name, toml_edit::Value::InlineTable(row));
            }
            toml_edit::Value::InlineTable(outer)
        }
    }
}

/// Whole numbers are written without `.0`, as a person would write them.
fn number(n: f64) -> toml_edit::Value {
    const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() < EXACT_INT {
        (n as i64).into()
    } else {
        n.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn path() -> PathBuf {
        PathBuf::from("/p/.claude/config.toml")
    }

    fn layer(text: &str) -> Result<Layer, ConfigError> {
        Spanned::parse(&path(), text.to_owned())?.layer(&path())
    }

    fn edited(text: &str, edit: impl FnOnce(&mut DocumentMut)) -> String {
        let mut doc = Spanned::parse(&path(), text.to_owned()).unwrap().into_mut();
        edit(&mut doc);
        doc.to_string()
    }

    #[test]
    fn reads_tables_dotted_keys_and_inline_tables() {
        let layer = layer(
            "provider = \"bedrock\"\nanthropic.base_url = \"https://gw\"\nretry = { max_attempts = 3 }\n\
             [bedrock]\nregion = \"eu-west-1\"\nprofile = \"dev\"\n[bedrock.models]\nhaiku = \"h\"\n\
             [budget]\nmonthly_usd = 250.5\nalert_thresholds = [50, 75.5]\n\
             [empty]\n",
        );
        let layer = layer.unwrap_or_else(|e| panic!("{e}"));
        let value = |k: &str| layer.get(k).unwrap().value.clone();
        assert_eq!(value("provider"), Value::Str("bedrock".into()));
        assert_eq!(value("bedrock.profile"), Value::Str("dev".into()));
        assert_eq!(value("anthropic.base_url"), Value::Str("https://gw".into()));
        assert_eq!(value("bedrock.region"), Value::Str("eu-west-1".into()));
        assert_eq!(value("bedrock.models.haiku"), Value::Str("h".into()));
        assert_eq!(value("retry.max_attempts"), Value::Int(3));
        assert_eq!(value("budget.monthly_usd"), Value::Num(250.5));
        assert_eq!(
            value("budget.alert_thresholds"),
            Value::List(vec![50.0, 75.5])
        );
        assert_eq!(
            layer.get("bedrock.region").unwrap().origin,
            Origin::File(path())
        );
    }

    #[test]
    fn typed_and_string_forms_both_load() {
        let layer = layer("prompt_caching = false\nbudget.alert_thresholds = \"50,80\"\nretry.max_attempts = \"4\"").unwrap();
        assert_eq!(
            layer.get("prompt_caching").unwrap().value,
            Value::Bool(false)
        );
        assert_eq!(
            layer.get("budget.alert_thresholds").unwrap().value,
            Value::List(vec![50.0, 80.0])
        );
        assert_eq!(
            layer.get("retry.max_attempts").unwrap().value,
            Value::Int(4)
        );
    }

    #[test]
    fn malformed_toml_reports_line_and_column() {
        match layer("provider = \"bedrock\"\n[bedrock\nregion = 1\n") {
            Err(ConfigError::Parse {
                line,
                column,
                path: p,
                ..
            }) => {
                assert_eq!(p, path());
                assert_eq!(line, 2);
                assert!(column >= 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_key_in_file_points_at_it() {
        match layer("[bedrock]\nregion = \"us-east-1\"\n  regoin = \"us-east-1\"\n") {
            Err(ConfigError::Parse {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!((line, column), (3, 3));
                assert!(
                    message.contains("did you mean `bedrock.region`"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_in_file_is_refused_without_echoing() {
        let err = layer("[aws]\nsecret_access_key = \"wJalrXUtnFEMI\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                ConfigError::Parse {
                    line: 2,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            msg.contains("aws configure") && !msg.contains("wJalrXUtnFEMI"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_name_file_and_key() {
        for text in [
            "[bedrock]\nregion = \"us-east\"",
            "bedrock.region = [\"us-east-1\"]",
            "bedrock.region = { a = 1 }",
            "[bedrock.region]\na = 1",
            "[[bedrock.region]]\na = 1",
            "retry.max_attempts = -1",
            "prompt_caching = \"perhaps\"",
            "budget.alert_thresholds = [\"x\"]",
            "model = 1979-05-27",
        ] {
            let result = layer(text);
            match &result {
                Err(ConfigError::InvalidValue {
                    origin: Some(Origin::File(p)),
                    key,
                    ..
                }) => {
                    assert_eq!(*p, path());
                    let msg = result.as_ref().err().unwrap().to_string();
                    assert!(
                        msg.contains(key.as_str()) && msg.contains("config.toml"),
                        "{msg}"
                    );
                }
                Ok(l) if text.starts_with("model") => assert!(l.get("model").is_some()),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            layer("provider = \"vertex\""),
            Err(ConfigError::UnknownProvider {
                origin: Some(Origin::File(_)),
                ..
            })
        ));
    }

    #[test]
    fn set_creates_nested_tables() {
        let out = edited("", |doc| {
            set(doc, "bedrock.region", &Value::Str("us-east-1".into()));
            set(doc, "bedrock.models.haiku", &Value::Str("h".into()));
            set(doc, "provider", &Value::Str("bedrock".into()));
            set(doc, "retry.max_attempts", &Value::Int(5));
            set(doc, "budget.monthly_usd", &Value::Num(250.0));
            set(
                doc,
                "budget.alert_thresholds",
                &Value::List(vec![50.0, 80.5]),
            );
            set(doc, "prompt_caching", &Value::Bool(false));
        });
        assert_eq!(
            out,
            "provider = \"bedrock\"\nprompt_caching = false\n\n[bedrock]\nregion = \"us-east-1\"\n\n\
             [bedrock.models]\nhaiku = \"h\"\n\n[retry]\nmax_attempts = 5\n\n\
             [budget]\nmonthly_usd = 250\nalert_thresholds = [50, 80.5]\n"
        );
    }

    #[test]
    fn set_keeps_comments_order_and_style() {
        let text = "# mine\nprovider = \"anthropic\" # was here\n\n[bedrock]\n# the region\nregion = \"us-east-1\"\nprofile = \"p\"\n\n[other]\nx = 1\n";
        let out = edited(text, |doc| {
            set(doc, "bedrock.region", &Value::Str("eu-west-1".into()))
        });
        assert_eq!(out, text.replace("us-east-1", "eu-west-1"));
        let out = edited(text, |doc| {
            set(doc, "provider", &Value::Str("bedrock".into()))
        });
        assert_eq!(out, text.replace("\"anthropic\"", "\"bedrock\""));

        let dotted = "bedrock.region = \"us-east-1\"\n";
        let out = edited(dotted, |doc| {
            set(doc, "bedrock.models.opus", &Value::Str("o".into()))
        });
        assert_eq!(
            out,
            "bedrock.region = \"us-east-1\"\nbedrock.models.opus = \"o\"\n"
        );

        let inline = "bedrock = { region = \"us-east-1\" }\n";
        let out = edited(inline, |doc| {
            set(doc, "bedrock.models.opus", &Value::Str("o".into()))
        });
        assert_eq!(
            out,
            "bedrock = { region = \"us-east-1\" , models = { opus = \"o\" } }\n"
        );
    }

    #[test]
    fn top_level_values_stay_apart_from_the_first_header() {
        let out = edited(
            "[bedrock.models]\nhaiku = \"h\"\n[retry]\nmax_attempts = 3\n",
            |doc| {
                set(doc, "model", &Value::Str("opus".into()));
            },
        );
        assert_eq!(
            out,
            "model = \"opus\"\n\n[bedrock.models]\nhaiku = \"h\"\n[retry]\nmax_attempts = 3\n"
        );
        let commented = "# note\n[retry]\nmax_attempts = 3\n";
        let out = edited(commented, |doc| {
            set(doc, "model", &Value::Str("opus".into()))
        });
        assert_eq!(out, format!("model = \"opus\"\n{commented}"));
        let out = edited("model = \"a\"\n", |doc| {
            set(doc, "provider", &Value::Str("bedrock".into()))
        });
        assert_eq!(out, "model = \"a\"\nprovider = \"bedrock\"\n");
    }

    #[test]
    fn price_tables_load_from_sections_and_inline_tables() {
        let text = "[pricing.overrides.\"us.anthropic.claude-sonnet-4-5-20250929-v1:0\"]\ninput = 3.3\noutput = 16.5\n\n\
                    [pricing.overrides.\"arn:aws:bedrock:us-east-1:1:application-inference-profile/x\"]\ninput = 1\noutput = 5\ncache_read = 0.1\n";
        let loaded = layer(text).unwrap_or_else(|e| panic!("{e}"));
        let Value::Table(rows) = &loaded.get("pricing.overrides").unwrap().value else {
            panic!("not a table")
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows["us.anthropic.claude-sonnet-4-5-20250929-v1:0"]["output"],
            16.5
        );
        let inline = layer_of("pricing.overrides = { m = { input = 1, output = \"2\" } }\n");
        assert_eq!(inline.to_string(), r#"{"m":{"input":1,"output":2}}"#);
        let err = layer("[pricing.overrides.m]\ninput = 1\n").unwrap_err();
        assert!(err.to_string().contains("needs `output`"), "{err}");
    }

    fn layer_of(text: &str) -> Value {
        layer(text)
            .unwrap()
            .get("pricing.overrides")
            .unwrap()
            .value
            .clone()
    }

    #[test]
    fn price_tables_are_written_as_sections_and_replaced_whole() {
        let rows = |n: f64| {
            Value::Table(
                [(
                    "us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned(),
                    [("input".to_owned(), n), ("output".to_owned(), 16.5)].into(),
                )]
                .into(),
            )
        };
        let out = edited("[budget]\nmonthly_usd = 100\n", |doc| {
            set(doc, "pricing.overrides", &rows(3.3))
        });
        assert_eq!(
            out,
            "[budget]\nmonthly_usd = 100\n\n[pricing.overrides.\"us.anthropic.claude-sonnet-4-5-20250929-v1:0\"]\ninput = 3.3\noutput = 16.5\n"
        );
        let spanned = Spanned::parse(&path(), out.clone()).unwrap();
        spanned
            .check_settable(&path(), "pricing.overrides", true)
            .unwrap();
        assert!(
            spanned
                .check_settable(&path(), "pricing.overrides", false)
                .is_err()
        );
        let again = edited(&out, |doc| set(doc, "pricing.overrides", &rows(3.0)));
        assert_eq!(layer_of(&again), rows(3.0));
        assert_eq!(again.matches("[pricing.overrides").count(), 1, "{again}");
    }

    #[test]
    fn check_settable_finds_conflicts() {
        let spanned = Spanned::parse(
            &path(),
            "bedrock = \"x\"\n[budget.action]\na = 1\n".to_owned(),
        )
        .unwrap();
        match spanned.check_settable(&path(), "bedrock.region", false) {
            Err(ConfigError::Parse {
                line: 1,
                column: 1,
                message,
                ..
            }) => {
                assert!(message.contains("`bedrock` holds a value"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match spanned.check_settable(&path(), "budget.action", false) {
            Err(ConfigError::Parse {
                line: 2, message, ..
            }) => {
                assert!(message.contains("is a table"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        spanned
            .check_settable(&path(), "retry.max_attempts", false)
            .unwrap();
        spanned
            .check_settable(&path(), "budget.monthly_usd", false)
            .unwrap();
    }

    #[test]
    fn remove_prunes_empty_tables() {
        let text = "provider = \"bedrock\"\n\n[bedrock.models]\nhaiku = \"h\"\n\n[retry]\nmax_attempts = 3\nbase_delay_ms = 100\n";
        let mut removed = false;
        let out = edited(text, |doc| removed = remove(doc, "bedrock.models.haiku"));
        assert!(removed);
        assert_eq!(
            out,
            "provider = \"bedrock\"\n\n[retry]\nmax_attempts = 3\nbase_delay_ms = 100\n"
        );
        let out = edited(text, |doc| removed = remove(doc, "retry.max_attempts"));
        assert!(removed);
        assert!(out.contains("[retry]\nbase_delay_ms = 100"), "{out}");
        let out = edited(text, |doc| removed = remove(doc, "bedrock.region"));
        assert!(!removed);
        assert_eq!(out, text);
        let _ = edited("bedrock = \"x\"", |doc| {
            removed = remove(doc, "bedrock.region")
        });
        assert!(!removed);
    }
}
