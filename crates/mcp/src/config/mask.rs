//! Showing server definitions without their secrets: `claude mcp get` and
//! `list` print headers, environment values, URLs and arguments through these.

const MASK: &str = "****";

/// Name fragments that mark a credential (compared lowercased).
const SECRET_NAMES: &[&str] = &[
    "auth",
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "pwd",
    "cookie",
    "credential",
    "session",
    "signature",
    "bearer",
];

/// Prefixes of well-known credential formats.
const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "ASIA",
    "eyJ",
];

fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "pat" || SECRET_NAMES.iter().any(|s| word.contains(s)))
}

/// A long unbroken mix of letters and digits, or a known token format.
fn secret_value(value: &str) -> bool {
    let value = value.trim();
    SECRET_PREFIXES.iter().any(|p| value.starts_with(p))
        || (value.len() >= 20
            && !value.contains(char::is_whitespace)
            && !value.contains('/')
            && value.chars().any(|c| c.is_ascii_digit())
            && value.chars().any(|c| c.is_ascii_alphabetic()))
}

/// `Authorization: Bearer abc` → `Bearer ****`: an auth scheme stays
/// visible, the credential does not.
pub fn masked_header(name: &str, value: &str) -> String {
    if !secret_name(name) && !secret_value(value) {
        return value.to_owned();
    }
    match value.trim().split_once(' ') {
        Some((scheme, _)) if scheme.chars().all(|c| c.is_ascii_alphabetic()) => {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_owned(),
    }
}

/// An environment value, masked when its name or shape says credential.
pub fn masked_env(name: &str, value: &str) -> String {
    if secret_name(name) || secret_value(value) {
        MASK.to_owned()
    } else {
        value.to_owned()
    }
}

/// A URL with its password and secret-looking query values masked.
pub fn masked_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:{MASK}@{host}"),
                    None => format!("{}@{host}", masked_arg(userinfo)),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((k, v)) => format!("{k}={}", masked_env(k, v)),
                None => param.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// A command-line argument: `--api-key=abc` and bare tokens are masked.
pub(crate) fn masked_arg(arg: &str) -> String {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with('-') || secret_name(flag) => {
            format!("{flag}={}", masked_env(flag, value))
        }
        _ if secret_value(arg) => MASK.to_owned(),
        _ => arg.to_owned(),
    }
}
