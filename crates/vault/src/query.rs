//! The `/q` query syntax.

/// One filter of a `/q` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Field(&'static str, String),
    Tag(String),
    Recent(u32),
    Backlinks(String),
    Orphans,
    BrokenLinks,
}

/// A parsed `/q` query: filters plus an FTS5 expression for the free text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// The FTS5 MATCH expression, when there is free text.
    pub text: Option<String>,
}

fn tokens(input: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unclosed quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').to_string()
}

/// A free-text word as an FTS5 term: quoted, keeping a trailing `*` as a prefix search.
fn fts_term(word: &str) -> String {
    let (core, star) = match word.strip_suffix('*') {
        Some(c) => (c, "*"),
        None => (word, ""),
    };
    let core = core.trim_matches('"').replace('"', "");
    format!("\"{core}\"{star}")
}

/// Parse the `/q` syntax.
pub fn parse_query(input: &str) -> Result<Query, crate::VaultError> {
    let toks = tokens(input).map_err(crate::VaultError::Query)?;
    let mut q = Query::default();
    let mut text: Vec<String> = Vec::new();
    for tok in toks {
        let lower = tok.to_ascii_lowercase();
        if !tok.starts_with('"')
            && let Some((key, value)) = tok.split_once(':')
        {
            let value = unquote(value);
            let key = key.to_ascii_lowercase();
            let filter = match key.as_str() {
                "type" => Some(Filter::Field("type", value)),
                "status" => Some(Filter::Field("status", value)),
                "priority" => Some(Filter::Field("priority", value)),
                "tag" => Some(Filter::Tag(value.trim_start_matches('#').to_string())),
                "backlinks" => Some(Filter::Backlinks(value)),
                "recent" => Some(Filter::Recent(value.parse().map_err(|_| {
                    crate::VaultError::Query(format!("recent:{value} needs a number of days"))
                })?)),
                _ => None,
            };
            if let Some(f) = filter {
                if matches!(&f, Filter::Field(_, v) | Filter::Tag(v) | Filter::Backlinks(v) if v.is_empty())
                {
                    return Err(crate::VaultError::Query(format!("{key}: needs a value")));
                }
                q.filters.push(f);
                continue;
            }
        }
        match lower.as_str() {
            "recent" => q.filters.push(Filter::Recent(7)),
            "orphans" => q.filters.push(Filter::Orphans),
            "broken-links" => q.filters.push(Filter::BrokenLinks),
            "and" | "or" | "not" if !text.is_empty() => text.push(tok.to_ascii_uppercase()),
            _ if tok.starts_with('#') && tok.len() > 1 => {
                q.filters.push(Filter::Tag(tok[1..].into()))
            }
            _ if !tok.starts_with('"') && tok.contains('/') => q.filters.push(Filter::Tag(tok)),
            _ => text.push(fts_term(&tok)),
        }
    }
    while text
        .last()
        .is_some_and(|t| matches!(t.as_str(), "AND" | "OR" | "NOT"))
    {
        text.pop();
    }
    if !text.is_empty() {
        q.text = Some(text.join(" "));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_text() {
        let q = parse_query("type:Adr status:proposed technology/aws").unwrap();
        assert_eq!(
            q.filters,
            [
                Filter::Field("type", "Adr".into()),
                Filter::Field("status", "proposed".into()),
                Filter::Tag("technology/aws".into())
            ]
        );
        assert_eq!(q.text, None);
        let q = parse_query("\"event driven\" OR kafka architect* recent:30 orphans").unwrap();
        assert_eq!(
            q.text.as_deref(),
            Some("\"event driven\" OR \"kafka\" \"architect\"*")
        );
        assert_eq!(q.filters, [Filter::Recent(30), Filter::Orphans]);
        let q = parse_query("backlinks:\"Project - Your Project\" recent broken-links tag:#a/b")
            .unwrap();
        assert_eq!(
            q.filters,
            [
                Filter::Backlinks("Project - Your Project".into()),
                Filter::Recent(7),
                Filter::BrokenLinks,
                Filter::Tag("a/b".into())
            ]
        );
    }

    #[test]
    fn errors() {
        assert!(parse_query("\"open").is_err());
        assert!(parse_query("recent:x").is_err());
        assert!(parse_query("type:").is_err());
        assert_eq!(
            parse_query("kafka AND").unwrap().text.as_deref(),
            Some("\"kafka\"")
        );
    }
}
