//! The one error type of this crate. Every message is written for the person
//! at the terminal: what failed, why, and the exact next step.

use std::path::PathBuf;

use crate::value::{Origin, ProviderKind};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", unknown_key(.key, .suggestion.as_deref()))]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("{}", secret_key(.key))]
    SecretKey { key: String },
    #[error("invalid value `{value}` for `{key}`{}: {reason}.{}", from(.origin.as_ref()), fix(.origin.as_ref(), .key))]
    InvalidValue {
        key: String,
        value: String,
        reason: String,
        origin: Option<Origin>,
    },
    #[error("unknown provider `{value}`{}; valid providers: {}.{}", from(.origin.as_ref()), provider_names(), fix(.origin.as_ref(), "provider"))]
    UnknownProvider {
        value: String,
        origin: Option<Origin>,
    },
    #[error("cannot use {} (line {line}, column {column}): {}{} Edit the file to fix it; claude never overwrites a file it cannot parse.", .path.display(), .message, end_sentence(.message))]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot access {}: {source}. Check that the path exists and that you are allowed to read and write it.", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{key}` is locked by the managed policy {}, so it cannot be changed here. Ask your administrator to change the policy.", .policy.display())]
    PolicyLocked { key: String, policy: PathBuf },
}

fn unknown_key(key: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("unknown configuration key `{key}`: did you mean `{s}`?"),
        None => format!(
            "unknown configuration key `{key}`: claude's keys are {}; check the spelling.",
            crate::registry::key_groups().join(", ")
        ),
    }
}

fn secret_key(key: &str) -> String {
    let mut msg = format!(
        "refusing to use `{key}`: it would hold a secret, and claude never keeps credentials in its \
         configuration. For AWS, run `aws configure` (it stores keys in ~/.aws/credentials) or \
         `aws sso login`, then pick the profile with `claude config set bedrock.profile <name>`."
    );
    let lower = key.to_ascii_lowercase();
    if lower.contains("anthropic") || lower.contains("api") {
        msg.push_str(
            " For the Anthropic API, export the key as the ANTHROPIC_API_KEY environment variable.",
        );
    }
    msg
}

fn from(origin: Option<&Origin>) -> String {
    origin
        .map(|o| format!(" (from {})", o.source_label()))
        .unwrap_or_default()
}

fn fix(origin: Option<&Origin>, key: &str) -> String {
    origin
        .map(|o| format!(" {}", o.fix_hint(key)))
        .unwrap_or_default()
}

/// Messages embedded from other errors may already end a sentence.
fn end_sentence(message: &str) -> &'static str {
    if message.ends_with(['.', '?', '!']) {
        ""
    } else {
        "."
    }
}

fn provider_names() -> String {
    ProviderKind::ALL.map(ProviderKind::as_str).join(", ")
}

/// Turns a byte offset into the 1-based line and column editors show, for
/// parsers that only report spans.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_is_one_based() {
        let text = "a = 1\nbé = x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('x').unwrap()), (2, 6));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn unknown_key_suggests_or_lists_groups() {
        let with = ConfigError::UnknownKey {
            key: "bedrock.regoin".into(),
            suggestion: Some("bedrock.region".into()),
        };
        assert_eq!(
            with.to_string(),
            "unknown configuration key `bedrock.regoin`: did you mean `bedrock.region`?"
        );
        let without = ConfigError::UnknownKey {
            key: "zzz".into(),
            suggestion: None,
        };
        let msg = without.to_string();
        assert!(msg.contains("bedrock.*"), "{msg}");
        assert!(msg.len() < 250, "{msg}");
    }

    #[test]
    fn secret_key_points_to_aws_and_anthropic_env() {
        let aws = ConfigError::SecretKey {
            key: "aws_secret_access_key".into(),
        }
        .to_string();
        assert!(aws.contains("aws configure") && aws.contains("~/.aws/credentials"));
        assert!(!aws.contains("ANTHROPIC_API_KEY"));
        let anthropic = ConfigError::SecretKey {
            key: "anthropic.api_key".into(),
        }
        .to_string();
        assert!(anthropic.contains("ANTHROPIC_API_KEY"));
    }

    #[test]
    fn invalid_value_names_origin_and_fix() {
        let err = ConfigError::InvalidValue {
            key: "retry.max_attempts".into(),
            value: "abc".into(),
            reason: "expected a whole number from 1 to 100".into(),
            origin: Some(Origin::Env("CLAUDE_CODE_MAX_RETRIES".into())),
        };
        assert_eq!(
            err.to_string(),
            "invalid value `abc` for `retry.max_attempts` (from CLAUDE_CODE_MAX_RETRIES): expected a \
             whole number from 1 to 100. Set CLAUDE_CODE_MAX_RETRIES to a valid value, or unset it."
        );
        let bare = ConfigError::InvalidValue {
            key: "k".into(),
            value: "v".into(),
            reason: "r".into(),
            origin: None,
        };
        assert_eq!(bare.to_string(), "invalid value `v` for `k`: r.");
    }

    #[test]
    fn unknown_provider_message() {
        let err = ConfigError::UnknownProvider {
            value: "foo".into(),
            origin: Some(Origin::Env("CLAUDE_PROVIDER".into())),
        };
        assert!(err.to_string().starts_with(
            "unknown provider `foo` (from CLAUDE_PROVIDER); valid providers: anthropic, bedrock."
        ));
    }

    #[test]
    fn file_errors_name_the_file() {
        let parse = ConfigError::Parse {
            path: "/p/config.toml".into(),
            line: 3,
            column: 7,
            message: "expected `=`".into(),
        };
        assert!(
            parse
                .to_string()
                .starts_with("cannot use /p/config.toml (line 3, column 7): expected `=`. Edit")
        );
        let embedded = ConfigError::Parse {
            path: "/p/config.toml".into(),
            line: 1,
            column: 1,
            message: "did you mean `model`?".into(),
        };
        assert!(embedded.to_string().contains("`model`? Edit"), "{embedded}");
        let locked = ConfigError::PolicyLocked {
            key: "bedrock.region".into(),
            policy: "/etc/claude-code/managed-settings.json".into(),
        };
        assert!(
            locked
                .to_string()
                .contains("managed policy /etc/claude-code/managed-settings.json")
        );
        let io = ConfigError::Io {
            path: "/nope".into(),
            source: std::io::Error::other("boom"),
        };
        assert!(io.to_string().starts_with("cannot access /nope: boom."));
    }
}
