//! Recognises keys that would hold credentials. Config files get committed,
//! synced and pasted into tickets; refusing such keys outright (before even
//! checking whether they exist) keeps a secret from ever being written or
//! echoed back.

/// Word sequences that mark a credential. Matched on whole words so that
/// harmless names such as `max_tokens` are not caught by `token`.
const SECRET_WORDS: &[&[&str]] = &[
    &["access", "key"],
    &["accesskey"],
    &["secret"],
    &["token"],
    &["password"],
    &["api", "key"],
    &["apikey"],
    &["credential"],
    &["credentials"],
    &["private", "key"],
    &["privatekey"],
    &["bearer"],
];

/// True when a secret word sequence ends in the key's last segment: the last
/// segment names what the value is, while earlier segments only group it.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let segments: Vec<&str> = key.split('.').collect();
    let last = segments.len() - 1;
    let words: Vec<(String, bool)> = segments
        .iter()
        .enumerate()
        .flat_map(|(i, segment)| {
            split_words(segment)
                .into_iter()
                .map(move |w| (w, i == last))
        })
        .collect();
    SECRET_WORDS.iter().any(|pattern| {
        words.windows(pattern.len()).any(|window| {
            window.last().is_some_and(|(_, in_last)| *in_last)
                && window.iter().zip(pattern.iter()).all(|((w, _), p)| w == p)
        })
    })
}

/// Splits on `_`, `-` and camelCase boundaries, lowercased.
fn split_words(segment: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in segment.chars() {
        if c == '_' || c == '-' {
            words.push(std::mem::take(&mut current));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.push(current);
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_credential_shaped_keys() {
        for key in [
            "aws_secret_access_key",
            "aws_access_key_id",
            "bedrock.access_key_id",
            "bedrock.accessKeyId",
            "anthropic.api_key",
            "anthropic.apikey",
            "anthropic.api-key",
            "anthropic.apiKey",
            "anthropic.api.key",
            "token",
            "TOKEN",
            "bedrock.session_token",
            "aws.SESSION-TOKEN",
            "proxy.password",
            "credentials",
            "aws.credential",
            "tls.private_key",
            "bedrock.bearer",
            "secret",
            "vault.client_secret",
        ] {
            assert!(is_secret_key(key), "{key} should be refused");
        }
    }

    #[test]
    fn allows_ordinary_keys() {
        for key in [
            "bedrock.region",
            "bedrock.profile",
            "budget.max_tokens",
            "token.budget",
            "keyboard",
            "anthropic.auth_header",
            "secretary",
            "",
        ] {
            assert!(!is_secret_key(key), "{key} should be allowed");
        }
    }
}
