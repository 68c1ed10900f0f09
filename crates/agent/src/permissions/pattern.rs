//! The text patterns inside rules: Bash-style wildcards (also used for
//! `Skill(…)`, `Agent(…)` and `Tool(param:value)`) and WebFetch domains.

/// A wildcard pattern where `*` matches any run of characters, spaces
/// included, and `\*` is a literal star. Whitespace runs count as one space.
///
/// Two endings are special, as in Claude Code:
/// - a trailing ` *` means "followed by a word boundary": `ls *` matches
///   `ls` and `ls -la` but not `lsof`;
/// - the legacy trailing `:*` means the same (`git status:*` ≡ `git status *`).
///   A `:*` anywhere else is an ordinary `:` and `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    pieces: Vec<Piece>,
    /// Set when the pattern ends with a word-boundary ` *`: the same pattern
    /// without it, which matches the bare command.
    bare: Option<Vec<Piece>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Star,
}

impl Wildcard {
    pub(crate) fn new(pattern: &str) -> Wildcard {
        let normalised = collapse_whitespace(pattern);
        let body = match normalised.strip_suffix(":*") {
            Some(prefix) => format!("{prefix} *"),
            None => normalised,
        };
        let pieces = pieces(&body);
        let bare = match pieces.as_slice() {
            [.., Piece::Lit(lit), Piece::Star] if lit.ends_with(' ') => {
                let mut bare = pieces[..pieces.len() - 1].to_vec();
                if let Some(Piece::Lit(lit)) = bare.last_mut() {
                    lit.pop();
                    if lit.is_empty() {
                        bare.pop();
                    }
                }
                Some(bare)
            }
            _ => None,
        };
        Wildcard { pieces, bare }
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        let text = collapse_whitespace(text);
        matches(&self.pieces, &text) || self.bare.as_ref().is_some_and(|b| matches(b, &text))
    }
}

/// Trims and turns every run of whitespace into one space.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pieces(pattern: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'*') => {
                lit.push('*');
                chars.next();
            }
            '*' => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                if out.last() != Some(&Piece::Star) {
                    out.push(Piece::Star);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Wildcard matching with backtracking to the last star only: O(pattern ×
/// text), so a long command line cannot make a many-star rule slow.
fn matches(pieces: &[Piece], text: &str) -> bool {
    let pattern: Vec<Option<char>> = pieces
        .iter()
        .flat_map(|piece| match piece {
            Piece::Lit(lit) => lit.chars().map(Some).collect::<Vec<_>>(),
            Piece::Star => vec![None],
        })
        .collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Some(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(None) => {
                last_star = Some((p, t));
                p += 1;
            }
            _ => match last_star {
                Some((star, from)) => {
                    p = star + 1;
                    t = from + 1;
                    last_star = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(Option::is_none)
}

/// `WebFetch(domain:…)`: `example.com` is that host only; `*.example.com` is
/// any subdomain of it (at any depth) but not `example.com` itself, as in
/// Claude Code since 2.1.172; `*` is every host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Domain {
    Any,
    Exact(String),
    SubdomainsOf(String),
}

impl Domain {
    pub(crate) fn new(spec: &str) -> Domain {
        let spec = spec.trim().trim_end_matches('.').to_ascii_lowercase();
        if spec == "*" {
            Domain::Any
        } else if let Some(parent) = spec.strip_prefix("*.") {
            Domain::SubdomainsOf(parent.to_string())
        } else {
            Domain::Exact(spec)
        }
    }

    pub(crate) fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self {
            Domain::Any => true,
            Domain::Exact(d) => host == *d,
            Domain::SubdomainsOf(d) => host
                .strip_suffix(d.as_str())
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        }
    }
}

/// The host of a URL as a browser would see it (WHATWG parsing, so tricks
/// such as `http://evil.com\@good.com` resolve to `evil.com`).
pub(crate) fn url_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    match parsed.host()? {
        url::Host::Domain(d) => Some(d.to_string()),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("npm run *", "npm run build", true),
            ("npm run *", "npm run", true),
            ("npm run *", "npm runner", false),
            ("npm run *", "npm test", false),
            ("ls *", "ls", true),
            ("ls *", "ls -la", true),
            ("ls *", "lsof", false),
            ("ls*", "lsof", true),
            ("ls*", "ls -la", true),
            ("git status*", "git status --porcelain", true),
            ("git status*", "git stash", false),
            ("git * main", "git checkout main", true),
            ("git * main", "git push origin main", true),
            ("git * main", "git checkout dev", false),
            ("* --version", "node --version", true),
            ("git status:*", "git status", true),
            ("git status:*", "git status -s", true),
            ("git status:*", "git statusx", false),
            ("a:*b", "a:xb", true),
            ("*aa", "aaa", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*é*", "café au lait", true),
            ("echo \\*", "echo *", true),
            ("echo \\*", "echo hi", false),
            ("npm  run   *", "npm run  x", true),
            ("*", "anything at all", true),
            ("exact cmd", "exact cmd", true),
            ("exact cmd", "exact cmd --more", false),
            ("python3 scripts/*", "python3 scripts/x.py --flag", true),
            ("python3 scripts/*", "python3 other/x.py", false),
        ];
        let long = format!("{}b", "a ".repeat(20_000));
        assert!(!Wildcard::new("* * * * * * * * c").matches(&long));
        for (pattern, text, want) in cases {
            assert_eq!(
                Wildcard::new(pattern).matches(text),
                *want,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    #[test]
    fn domains() {
        let cases: &[(&str, &str, bool)] = &[
            ("example.com", "example.com", true),
            ("example.com", "EXAMPLE.com.", true),
            ("example.com", "www.example.com", false),
            ("example.com", "badexample.com", false),
            ("*.example.com", "www.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "badexample.com", false),
            ("*", "anything.org", true),
        ];
        for (spec, host, want) in cases {
            assert_eq!(Domain::new(spec).matches(host), *want, "{spec} vs {host}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("https://Docs.Example.com/a?b").as_deref(),
            Some("docs.example.com")
        );
        assert_eq!(
            url_host("http://evil.com\\@good.com/").as_deref(),
            Some("evil.com")
        );
        assert_eq!(
            url_host("https://user@good.com:8443/x").as_deref(),
            Some("good.com")
        );
        assert_eq!(url_host("not a url"), None);
    }
}
