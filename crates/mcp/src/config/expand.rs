//! `${VAR}` and `${VAR:-default}` in command, args, env, url and headers.

use std::collections::BTreeMap;

use super::ServerConfig;

/// The configuration with every variable replaced, or the names of the
/// variables that are unset and have no default (each once, in order).
pub(super) fn expand_config(
    config: &ServerConfig,
    env: &BTreeMap<String, String>,
) -> Result<ServerConfig, Vec<String>> {
    let mut missing = Vec::new();
    let mut x = |s: &String| expand(s, env, &mut missing);
    let map = |m: &BTreeMap<String, String>, x: &mut dyn FnMut(&String) -> String| {
        m.iter().map(|(k, v)| (k.clone(), x(v))).collect()
    };
    let expanded = match config {
        ServerConfig::Stdio { command, args, env } => ServerConfig::Stdio {
            command: x(command),
            args: args.iter().map(&mut x).collect(),
            env: map(env, &mut x),
        },
        ServerConfig::Http { url, headers } => ServerConfig::Http {
            url: x(url),
            headers: map(headers, &mut x),
        },
        ServerConfig::Sse { url, headers } => ServerConfig::Sse {
            url: x(url),
            headers: map(headers, &mut x),
        },
    };
    if missing.is_empty() {
        Ok(expanded)
    } else {
        Err(missing)
    }
}

/// Expands one string. `${VAR:-default}` takes the default when VAR is unset
/// or empty, as the shell does; an unset `${VAR}` stays as written and is
/// reported. Text that is not a well-formed reference is kept literally.
pub(super) fn expand(
    text: &str,
    env: &BTreeMap<String, String>,
    missing: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let body = &after[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_name(name) {
            out.push_str("${");
            rest = after;
            continue;
        }
        match (env.get(name), default) {
            (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
            (Some(value), _) => out.push_str(value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_owned());
                }
                out.push_str(&rest[start..start + 2 + end + 1]);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
