//! Credentials that survive expiry.
//!
//! * Claude Code's `awsCredentialExport`: a command that prints credentials
//!   as JSON, used as the SDK's credential provider.
//! * Claude Code's `awsAuthRefresh`: a command such as
//!   `aws sso login --profile X`, run when a call comes back expired.
//! * A wrapper around whatever provider the SDK chain built that notes when
//!   the credentials in use expire, for `/status`.
//!
//! After a refresh the provider builds its SDK client again from the chain,
//! which drops the cached credentials and re-reads `~/.aws/credentials`, the
//! SSO cache and `credential_process`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use serde_json::Value;

use super::settings::ExpiryCell;

/// Credentials are reused until this long before they expire (Claude Code's
/// rule for `awsCredentialExport`).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long credentials without an expiry are kept before the chain is asked again.
pub const NO_EXPIRY_TTL: Duration = Duration::from_secs(60 * 60);

fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

/// Runs `awsAuthRefresh`. Its output goes to the user (on stderr, so print
/// mode's stdout stays the reply); it gets no input.
pub async fn run_refresh(command: &str) -> Result<(), String> {
    let command = command.to_string();
    tokio::task::spawn_blocking(move || {
        let mut err = std::io::stderr();
        let _ = writeln!(
            err,
            "claude: AWS credentials have expired; running awsAuthRefresh: {command}"
        );
        let status = shell(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| format!("`{command}` could not be started: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{command}` failed ({status})"))
        }
    })
    .await
    .map_err(|e| format!("awsAuthRefresh did not finish: {e}"))?
}

/// Credentials from `awsCredentialExport`: the command runs when the SDK
/// first needs credentials and again once they are near expiry; its output
/// is never shown.
#[derive(Debug)]
pub struct ExportCommand {
    command: String,
}

impl ExportCommand {
    pub fn new(command: &str) -> Self {
        ExportCommand {
            command: command.to_string(),
        }
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let command = self.command.clone();
        let out = tokio::task::spawn_blocking(move || {
            shell(&command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output()
        })
        .await
        .map_err(CredentialsError::provider_error)?
        .map_err(|e| {
            CredentialsError::provider_error(format!(
                "awsCredentialExport `{}` could not be started: {e}",
                self.command
            ))
        })?;
        if !out.status.success() {
            return Err(CredentialsError::provider_error(format!(
                "awsCredentialExport `{}` failed ({}): {}",
                self.command,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        parse_export(&out.stdout).map_err(|e| {
            CredentialsError::provider_error(format!("awsCredentialExport `{}`: {e}", self.command))
        })
    }
}

impl ProvideCredentials for ExportCommand {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

/// Reads `{"Credentials":{"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}}`
/// or the flat form of `aws configure export-credentials --format process`.
/// The SDK's identity cache keeps them until [`EXPIRY_MARGIN`] before
/// `Expiration`, or for [`NO_EXPIRY_TTL`] without one.
pub fn parse_export(stdout: &[u8]) -> Result<Credentials, String> {
    let json: Value =
        serde_json::from_slice(stdout).map_err(|e| format!("its output is not JSON ({e})"))?;
    let creds = json.get("Credentials").unwrap_or(&json);
    let field = |name: &str| creds.get(name).and_then(Value::as_str).map(str::to_string);
    let (Some(key), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
        return Err("its output has no AccessKeyId and SecretAccessKey".into());
    };
    let expires = match field("Expiration") {
        Some(text) => Some(
            aws_smithy_types::DateTime::from_str(
                &text,
                aws_smithy_types::date_time::Format::DateTime,
            )
            .ok()
            .and_then(|d| SystemTime::try_from(d).ok())
            .ok_or_else(|| format!("its Expiration `{text}` is not an ISO 8601 time"))?,
        ),
        None => None,
    };
    Ok(Credentials::new(
        key,
        secret,
        field("SessionToken"),
        expires,
        "awsCredentialExport",
    ))
}

/// Passes credentials through and notes when they expire.
#[derive(Debug)]
pub struct Observed {
    inner: SharedCredentialsProvider,
    expiry: ExpiryCell,
}

impl Observed {
    pub fn wrap(inner: SharedCredentialsProvider, expiry: ExpiryCell) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Observed { inner, expiry })
    }
}

impl ProvideCredentials for Observed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let creds = self.inner.provide_credentials().await?;
            self.expiry.set(creds.expiry());
            Ok(creds)
        })
    }
}

/// An expiry as ISO 8601, for messages.
pub fn fmt_expiry(at: SystemTime) -> String {
    aws_smithy_types::DateTime::from(at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_export_forms_parse() {
        let nested = br#"{"Credentials":{"AccessKeyId":"AKID","SecretAccessKey":"S","SessionToken":"T","Expiration":"2030-01-01T00:10:00Z"}}"#;
        let c = parse_export(nested).unwrap();
        assert_eq!(c.access_key_id(), "AKID");
        assert_eq!(c.session_token(), Some("T"));
        assert_eq!(fmt_expiry(c.expiry().unwrap()), "2030-01-01T00:10:00Z");
        let flat = br#"{"Version":1,"AccessKeyId":"AKID2","SecretAccessKey":"S2"}"#;
        let c = parse_export(flat).unwrap();
        assert_eq!(c.access_key_id(), "AKID2");
        assert_eq!(c.expiry(), None);
        assert!(parse_export(b"nope").is_err());
        assert!(parse_export(br#"{"Credentials":{}}"#).is_err());
        assert!(
            parse_export(br#"{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"}"#)
                .is_err()
        );
    }
}
