//! Errors that decide behaviour and tell the user the exact fix.
//!
//! Each variant is one troubleshooting case of the Bedrock guide (or its
//! direct-API twin). `Display` writes what failed, why, and the fix, with the
//! request id, so the binary only has to print it.

use std::fmt;

use claude_protocol::Message;

/// Where the failed call went; used to fill in fixes.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub provider: &'static str,
    pub region: String,
    pub model_id: String,
    /// `aws`, `aws-us-gov`, `aws-cn`, … for ARNs in IAM snippets.
    pub partition: String,
    pub endpoint: String,
    /// The credential sources that were looked at, never their values.
    pub credential_sources: Vec<String>,
    /// The AWS profile in use and whether it is an SSO profile.
    pub profile: Option<String>,
    pub sso_profile: bool,
    /// A profile ID to use instead when the model needs one.
    pub suggested_profile: Option<String>,
    /// The newer model of the same tier, for legacy models.
    pub replacement: Option<String>,
    /// For unknown models: the closest known ID.
    pub suggestion: Option<String>,
    /// Claude Code's `awsAuthRefresh` command, when configured.
    pub auth_refresh: Option<String>,
    /// What was done about expired credentials before giving up.
    pub refresh_outcome: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeniedKind {
    /// "You don't have access to the model with the specified model ID."
    ModelAccess,
    /// An IAM policy (identity, SCP, boundary) does not allow the action.
    Iam,
    /// The AWS Marketplace subscription step was refused.
    Marketplace,
    /// Anthropic API 403.
    Permission,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnavailableKind {
    InvalidId,
    NotFound,
    OnDemandUnsupported,
    Legacy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsKind {
    NotFound,
    Expired,
    SignatureRejected,
    InvalidToken,
    /// Anthropic API 401.
    ApiKey,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    AccessDenied {
        kind: DeniedKind,
        message: String,
        request_id: Option<String>,
        ctx: Box<CallContext>,
    },
    ModelNotAvailable {
        kind: UnavailableKind,
        message: String,
        request_id: Option<String>,
        ctx: Box<CallContext>,
    },
    Throttled {
        message: String,
        request_id: Option<String>,
        attempts: u32,
        ctx: Box<CallContext>,
    },
    Credentials {
        kind: CredentialsKind,
        message: String,
        request_id: Option<String>,
        ctx: Box<CallContext>,
    },
    /// A server or network fault that stayed after every retry.
    Service {
        code: String,
        message: String,
        request_id: Option<String>,
        attempts: u32,
        ctx: Box<CallContext>,
    },
    /// The request itself was rejected (400 and similar).
    Invalid {
        code: String,
        message: String,
        request_id: Option<String>,
        ctx: Box<CallContext>,
    },
    /// The stream broke after the user had already seen part of the reply.
    Interrupted {
        code: String,
        message: String,
        request_id: Option<String>,
        partial: Box<Message>,
        ctx: Box<CallContext>,
    },
    /// Refused before sending: a budget is spent. Nothing was billed.
    BudgetExceeded {
        scope: BudgetScope,
        /// What was spent against which limit, and how to raise it.
        message: String,
    },
}

/// Which budget refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetScope {
    /// `budget.monthly_usd` with `budget.action = block`.
    Monthly,
    /// `--max-budget-usd` for one run.
    Run,
}

impl ProviderError {
    /// The process exit code documented in the README.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProviderError::Credentials { .. } => 3,
            ProviderError::AccessDenied { .. } => 4,
            ProviderError::ModelNotAvailable { .. } => 5,
            ProviderError::Throttled { .. } => 6,
            ProviderError::Service { .. } => 7,
            ProviderError::Invalid { .. } => 8,
            ProviderError::Interrupted { .. } => 9,
            ProviderError::BudgetExceeded {
                scope: BudgetScope::Monthly,
                ..
            } => 10,
            ProviderError::BudgetExceeded {
                scope: BudgetScope::Run,
                ..
            } => 11,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ProviderError::AccessDenied { request_id, .. }
            | ProviderError::ModelNotAvailable { request_id, .. }
            | ProviderError::Throttled { request_id, .. }
            | ProviderError::Credentials { request_id, .. }
            | ProviderError::Service { request_id, .. }
            | ProviderError::Invalid { request_id, .. }
            | ProviderError::Interrupted { request_id, .. } => request_id.as_deref(),
            ProviderError::BudgetExceeded { .. } => None,
        }
    }

    /// A stream that broke after content was shown: what arrived so far is
    /// kept as the partial reply.
    pub fn interrupted(
        code: String,
        message: String,
        request_id: Option<String>,
        asm: &claude_protocol::StreamAssembler,
        ctx: &CallContext,
    ) -> ProviderError {
        ProviderError::Interrupted {
            code,
            message,
            request_id,
            partial: Box::new(asm.message()),
            ctx: Box::new(ctx.clone()),
        }
    }

    /// Records how many attempts were made before giving up.
    pub fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            ProviderError::Throttled { attempts, .. } | ProviderError::Service { attempts, .. } => {
                *attempts = n
            }
            _ => {}
        }
        self
    }

    /// A short machine code, e.g. for stream-json and the ledger.
    pub fn code(&self) -> String {
        match self {
            ProviderError::AccessDenied { .. } => "access_denied".into(),
            ProviderError::ModelNotAvailable { .. } => "model_not_available".into(),
            ProviderError::Throttled { .. } => "throttled".into(),
            ProviderError::Credentials { .. } => "credentials".into(),
            ProviderError::Service { code, .. }
            | ProviderError::Invalid { code, .. }
            | ProviderError::Interrupted { code, .. } => code.clone(),
            ProviderError::BudgetExceeded {
                scope: BudgetScope::Monthly,
                ..
            } => "budget_exceeded".into(),
            ProviderError::BudgetExceeded {
                scope: BudgetScope::Run,
                ..
            } => "max_budget_usd".into(),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::BudgetExceeded { message, .. } => f.write_str(message),
            ProviderError::AccessDenied {
                kind, message, ctx, ..
            } => access_denied(f, *kind, message, ctx),
            ProviderError::ModelNotAvailable {
                kind, message, ctx, ..
            } => model_not_available(f, *kind, message, ctx),
            ProviderError::Throttled {
                message,
                attempts,
                ctx,
                ..
            } => throttled(f, message, *attempts, ctx),
            ProviderError::Credentials {
                kind, message, ctx, ..
            } => credentials(f, *kind, message, ctx),
            ProviderError::Service {
                code,
                message,
                attempts,
                ctx,
                ..
            } => {
                writeln!(
                    f,
                    "{} failed after {attempts} attempt{}: {code}: {message}",
                    service_name(ctx),
                    if *attempts == 1 { "" } else { "s" }
                )?;
                writeln!(
                    f,
                    "Why: the service or the network between you and {} kept failing.",
                    ctx.endpoint
                )?;
                write!(
                    f,
                    "Fix: try again shortly; raise `retry.max_attempts` (or CLAUDE_CODE_MAX_RETRIES) for flaky links; check HTTPS_PROXY and that {} is reachable.",
                    ctx.endpoint
                )
            }
            ProviderError::Invalid {
                code, message, ctx, ..
            } => {
                writeln!(
                    f,
                    "{} rejected the request: {code}: {message}",
                    service_name(ctx)
                )?;
                write!(
                    f,
                    "Fix: check the model's limits with `claude models` (max_tokens, context window, parameters it accepts); run the same command with `--dry-run` to see the exact body."
                )
            }
            ProviderError::Interrupted {
                code, message, ctx, ..
            } => {
                writeln!(
                    f,
                    "The reply from {} stopped part-way: {code}: {message}",
                    service_name(ctx)
                )?;
                write!(
                    f,
                    "What you saw is kept and marked incomplete. Fix: ask again (`claude --continue` resumes the conversation)."
                )
            }
        }?;
        if let Some(id) = self.request_id() {
            write!(f, "\nRequest ID: {id}")?;
        }
        Ok(())
    }
}

fn service_name(ctx: &CallContext) -> String {
    match ctx.provider {
        "bedrock" => format!("Amazon Bedrock ({})", ctx.region),
        "anthropic" => "The Anthropic API".to_string(),
        other => other.to_string(),
    }
}

/// An error and its causes, `: `-joined: the useful part ("Connection
/// refused") sits in the source chain, and a Debug rendering would show
/// the user Rust internals. Carries no headers.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The IAM statement that would allow this call, filled in for the region
/// and model. Profiles also need every destination region's model.
pub fn iam_snippet(ctx: &CallContext) -> String {
    let partition = if ctx.partition.is_empty() {
        "aws"
    } else {
        &ctx.partition
    };
    let mut resources = Vec::new();
    let model = ctx.model_id.as_str();
    if model.starts_with("arn:") {
        resources.push(model.to_string());
    } else if let Some((_, base)) = crate::resolve::split_profile_prefix(model) {
        resources.push(format!(
            "arn:{partition}:bedrock:{}:*:inference-profile/{model}",
            ctx.region
        ));
        resources.push(format!(
            "arn:{partition}:bedrock:*::foundation-model/{base}"
        ));
    } else {
        resources.push(format!(
            "arn:{partition}:bedrock:{}::foundation-model/{model}",
            ctx.region
        ));
    }
    let statement = serde_json::json!({
        "Effect": "Allow",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        "Resource": resources,
    });
    serde_json::to_string_pretty(&statement).unwrap_or_default()
}

fn access_denied(
    f: &mut fmt::Formatter<'_>,
    kind: DeniedKind,
    message: &str,
    ctx: &CallContext,
) -> fmt::Result {
    let (code, who) = if ctx.provider == "bedrock" {
        ("AccessDeniedException", "AWS")
    } else {
        ("permission_error", "The API")
    };
    writeln!(
        f,
        "Access denied ({code}) calling {} with model {}.",
        service_name(ctx),
        ctx.model_id
    )?;
    writeln!(f, "{who} said: {message}")?;
    match kind {
        DeniedKind::ModelAccess => {
            writeln!(
                f,
                "Why: this account has not been granted access to the model in {}.",
                ctx.region
            )?;
            writeln!(f, "Fix:")?;
            writeln!(
                f,
                "  1. AWS Console → Amazon Bedrock → Model access ({}): request access to the Anthropic Claude model and wait for approval (usually automatic).",
                ctx.region
            )?;
            writeln!(f, "  2. Make sure your role may invoke it:")?;
            writeln!(f, "{}", indent(&iam_snippet(ctx), 5))?;
        }
        DeniedKind::Iam => {
            writeln!(
                f,
                "Why: an IAM policy (identity policy, permission boundary or SCP) does not allow this call."
            )?;
            writeln!(
                f,
                "Fix: add this statement to the policy of the role or user you run as (`aws sts get-caller-identity` shows which), or ask your administrator:"
            )?;
            writeln!(f, "{}", indent(&iam_snippet(ctx), 5))?;
            writeln!(
                f,
                "  An explicit deny in an SCP or permission boundary wins over any allow: ask your administrator if the statement is already there."
            )?;
        }
        DeniedKind::Marketplace => {
            writeln!(
                f,
                "Why: enabling this model needs an AWS Marketplace subscription, which your role may not create."
            )?;
            writeln!(
                f,
                "Fix: have an administrator enable the model once in AWS Console → Amazon Bedrock → Model access, or allow `aws-marketplace:ViewSubscriptions` and `aws-marketplace:Subscribe` (condition `aws:CalledViaLast = bedrock.amazonaws.com`) for your role."
            )?;
        }
        DeniedKind::Permission => {
            writeln!(
                f,
                "Why: the API key's workspace or organisation may not use this model or feature."
            )?;
            write!(
                f,
                "Fix: check the key's permissions in the Anthropic Console, or use another model with `--model`."
            )?;
        }
    }
    if kind != DeniedKind::Permission {
        let (regions, example) = match ctx.partition.as_str() {
            "aws-us-gov" => ("`us-gov-west-1` or `us-gov-east-1`", "us-gov-west-1"),
            "" | "aws" => ("`us-east-1`, `us-west-2` or `eu-west-1`", "us-east-1"),
            _ => ("a region of your partition that offers Bedrock", "<region>"),
        };
        write!(
            f,
            "Also check the region: Bedrock and Claude models are not offered everywhere; use {regions} (`claude config set bedrock.region {example}`)."
        )
    } else {
        Ok(())
    }
}

fn model_not_available(
    f: &mut fmt::Formatter<'_>,
    kind: UnavailableKind,
    message: &str,
    ctx: &CallContext,
) -> fmt::Result {
    if ctx.provider == "bedrock" {
        writeln!(
            f,
            "Model not available: {} in {}.",
            ctx.model_id, ctx.region
        )?;
    } else {
        writeln!(
            f,
            "Model not available: {} on {}.",
            ctx.model_id, ctx.endpoint
        )?;
    }
    writeln!(f, "{} said: {message}", service_name(ctx))?;
    match kind {
        UnavailableKind::OnDemandUnsupported => {
            writeln!(
                f,
                "Why: this model can only be called on demand through an inference profile."
            )?;
            match &ctx.suggested_profile {
                Some(p) => writeln!(
                    f,
                    "Fix: use the inference profile `{p}`: `claude --model {p}` (or `claude config set model {p}`)."
                )?,
                None => writeln!(
                    f,
                    "Fix: use the model's inference-profile ID (its ID prefixed with `us.`, `eu.`, `apac.` or `global.`); `aws bedrock list-inference-profiles --region {}` lists them.",
                    ctx.region
                )?,
            }
        }
        UnavailableKind::Legacy => {
            writeln!(
                f,
                "Why: the model is marked Legacy (or past its end of life) and this account has not used it recently."
            )?;
            match &ctx.replacement {
                Some(r) => writeln!(
                    f,
                    "Fix: move to the newer model of the same tier: `claude --model {r}` (or set `bedrock.models.<alias>`)."
                )?,
                None => writeln!(f, "Fix: move to an active model of the same tier.")?,
            }
        }
        UnavailableKind::InvalidId | UnavailableKind::NotFound => {
            writeln!(
                f,
                "Why: the ID is misspelt, the model is not offered in {}, or access has not been requested.",
                ctx.region
            )?;
            if let Some(s) = &ctx.suggestion {
                writeln!(f, "Did you mean `{s}`?")?;
            }
            writeln!(f, "Fix:")?;
            if ctx.provider == "bedrock" {
                writeln!(
                    f,
                    "  1. Check the model ID: `aws bedrock list-foundation-models --by-provider anthropic --region {}` (or `claude models`).",
                    ctx.region
                )?;
                writeln!(
                    f,
                    "  2. Request model access: AWS Console → Bedrock → Model access → Request access."
                )?;
                write!(
                    f,
                    "  3. Verify the region offers the model: not all models are available in all regions."
                )?;
                return Ok(());
            }
            write!(
                f,
                "  Use an alias (opus, sonnet, haiku) or a current model name."
            )?;
            return Ok(());
        }
    }
    write!(
        f,
        "List what your region offers: `aws bedrock list-foundation-models --by-provider anthropic --region {}`.",
        ctx.region
    )
}

fn throttled(
    f: &mut fmt::Formatter<'_>,
    message: &str,
    attempts: u32,
    ctx: &CallContext,
) -> fmt::Result {
    let code = if ctx.provider == "bedrock" {
        "ThrottlingException"
    } else {
        "rate_limit_error"
    };
    writeln!(
        f,
        "{} is still throttling after {attempts} attempts ({code}): {message}",
        service_name(ctx)
    )?;
    writeln!(
        f,
        "Why: your account's quota for {} is used up for now.",
        ctx.model_id
    )?;
    writeln!(f, "Fix:")?;
    if ctx.provider == "bedrock" {
        writeln!(
            f,
            "  1. Request a quota increase: Service Quotas → Amazon Bedrock → \"tokens per minute\" (and \"requests per minute\") for this model in {}.",
            ctx.region
        )?;
        writeln!(
            f,
            "  2. Ask for fewer tokens per call: a smaller `max_tokens` (CLAUDE_CODE_MAX_OUTPUT_TOKENS), or `/wipe` to shrink the context."
        )?;
        writeln!(
            f,
            "  3. A cross-region inference profile (`us.`, `eu.`, `global.`) spreads load over more capacity."
        )?;
        write!(
            f,
            "  4. For sustained volume, buy provisioned throughput: AWS Console → Bedrock → Provisioned throughput."
        )
    } else {
        write!(
            f,
            "  Wait and retry, lower `max_tokens`, or raise your rate limits in the Anthropic Console."
        )
    }
}

fn credentials(
    f: &mut fmt::Formatter<'_>,
    kind: CredentialsKind,
    message: &str,
    ctx: &CallContext,
) -> fmt::Result {
    match kind {
        CredentialsKind::NotFound => writeln!(f, "AWS credentials not found: {message}")?,
        CredentialsKind::Expired => writeln!(f, "AWS credentials have expired: {message}")?,
        CredentialsKind::SignatureRejected => {
            writeln!(f, "AWS rejected the request signature: {message}")?
        }
        CredentialsKind::InvalidToken => {
            writeln!(f, "AWS does not recognise these credentials: {message}")?
        }
        CredentialsKind::ApiKey => {
            writeln!(
                f,
                "The Anthropic API rejected the credentials (401 authentication_error): {message}"
            )?;
            return write!(
                f,
                "Fix: set a valid key: `export ANTHROPIC_API_KEY=sk-ant-…` (or ANTHROPIC_AUTH_TOKEN for a bearer token). Keys are created in the Anthropic Console → API keys; `claude config` never stores them."
            );
        }
    }
    if !ctx.credential_sources.is_empty() {
        writeln!(f, "Sources tried, in order:")?;
        for s in &ctx.credential_sources {
            writeln!(f, "  - {s}")?;
        }
    }
    writeln!(f, "Fix:")?;
    if ctx.sso_profile {
        let p = ctx.profile.as_deref().unwrap_or("default");
        writeln!(
            f,
            "  - This is an SSO profile: `aws sso login --profile {p}`"
        )?;
    }
    match kind {
        CredentialsKind::SignatureRejected => {
            writeln!(
                f,
                "  - The secret access key does not match the access key id: re-run `aws configure` or fix `~/.aws/credentials`."
            )?;
            writeln!(
                f,
                "  - Check the system clock (SigV4 allows 5 minutes of skew)."
            )?;
        }
        CredentialsKind::Expired => {
            if let Some(outcome) = &ctx.refresh_outcome {
                writeln!(f, "  - Tried: {outcome}.")?;
            }
            match (&ctx.auth_refresh, ctx.sso_profile) {
                (Some(cmd), _) => writeln!(f, "  - Run the refresh yourself: `{cmd}`")?,
                (None, true) => {}
                (None, false) => writeln!(
                    f,
                    "  - Refresh them (`aws sso login --profile <profile>`, your SAML tool, or new keys in ~/.aws/credentials), or set `awsAuthRefresh` (e.g. \"aws sso login --profile <profile>\") in .claude/settings.json to have claude run the refresh for you."
                )?,
            }
            writeln!(
                f,
                "  - Then carry on where you were: `claude --continue` (the conversation is kept)."
            )?;
        }
        _ => {
            writeln!(
                f,
                "  - Check environment variables: `echo $AWS_ACCESS_KEY_ID` and `echo $AWS_REGION`."
            )?;
            writeln!(
                f,
                "  - Configure credentials: `aws configure` (writes ~/.aws/credentials), or `export AWS_PROFILE=<profile>`."
            )?;
            writeln!(
                f,
                "  - Or use a Bedrock API key: `export AWS_BEARER_TOKEN_BEDROCK=…`."
            )?;
        }
    }
    write!(f, "  - Verify: `aws sts get-caller-identity`")
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Box<CallContext> {
        Box::new(CallContext {
            provider: "bedrock",
            region: "eu-west-1".into(),
            model_id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            partition: "aws".into(),
            endpoint: "https://bedrock-runtime.eu-west-1.amazonaws.com".into(),
            ..Default::default()
        })
    }

    #[test]
    fn iam_snippet_names_the_real_region_and_model() {
        let s = iam_snippet(&ctx());
        assert!(s.contains(
            "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        ));
        let mut c = ctx();
        c.model_id = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0".into();
        let s = iam_snippet(&c);
        assert!(s.contains("inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0"));
        assert!(s.contains(
            "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        ));
    }

    #[test]
    fn access_denied_message_has_fix_and_request_id() {
        let e = ProviderError::AccessDenied {
            kind: DeniedKind::ModelAccess,
            message: "You don't have access to the model with the specified model ID.".into(),
            request_id: Some("req-1".into()),
            ctx: ctx(),
        };
        let s = e.to_string();
        assert!(s.contains("Model access"));
        assert!(s.contains("bedrock:InvokeModelWithResponseStream"));
        assert!(s.ends_with("Request ID: req-1"));
        assert_eq!(e.exit_code(), 4);
    }

    #[test]
    fn credentials_message_lists_sources_and_sso_login() {
        let mut c = ctx();
        c.credential_sources = vec!["environment: AWS_ACCESS_KEY_ID not set".into()];
        c.profile = Some("corp".into());
        c.sso_profile = true;
        let e = ProviderError::Credentials {
            kind: CredentialsKind::NotFound,
            message: "no credentials".into(),
            request_id: None,
            ctx: c,
        };
        let s = e.to_string();
        assert!(s.contains("AWS_ACCESS_KEY_ID not set"));
        assert!(s.contains("aws sso login --profile corp"));
        assert!(s.contains("aws sts get-caller-identity"));
    }
}
