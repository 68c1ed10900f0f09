//! `claude doctor`: the Bedrock guide's prerequisites and troubleshooting,
//! checked in order against the real account, each with its fix.

use std::net::IpAddr;
use std::time::Duration;

use claude_config::{Config, Origin, ProviderKind};
use claude_protocol::{Message, MessagesRequest, Usage};
use claude_providers::CallOptions;
use claude_providers::bedrock::control::{ControlPlane, FoundationModel, InferenceProfile};
use claude_providers::bedrock::{AuthMode, BedrockSettings, Guardrail, profiles};
use claude_providers::catalog::{ALIASES, Catalog};
use claude_providers::error::{CallContext, iam_snippet};
use claude_providers::resolve::{ResolveInput, Target, resolve, split_profile_prefix};
use serde::Serialize;

use crate::setup::{Runtime, alias_overrides, bedrock_settings};

/// Regions where Amazon Bedrock is offered (botocore's endpoint data).
pub const BEDROCK_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "eusc-de-east-1",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub summary: String,
    /// What to do, when something is not right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, summary: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            summary: summary.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    /// Copy-paste commands for private connectivity and audit, for the region.
    pub vpc_endpoint_command: String,
    pub cloudtrail_command: String,
}

impl Report {
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Ok)
    }

    /// 0 all ok, 1 warnings, 2 failures.
    pub fn exit_code(&self) -> i32 {
        match self.worst() {
            Status::Ok => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Make a 1-token test call per model (billed; its price is shown first).
    pub invoke: bool,
}

/// Progress reported while checks run (`--invoke` shows its price first).
pub type Notice<'a> = &'a mut (dyn FnMut(&str) + Send);

pub async fn run(cfg: &Config, opts: Options, notice: Notice<'_>) -> Report {
    let mut checks = Vec::new();
    let files: Vec<String> = cfg
        .files()
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    checks.push(Check::new(
        "Config files",
        Status::Ok,
        if files.is_empty() {
            "none found; defaults in effect".to_string()
        } else {
            format!("{} parsed: {}", files.len(), files.join(", "))
        },
    ));
    checks.extend(check_policy(cfg));

    let provider_origin = cfg
        .get("provider")
        .ok()
        .flatten()
        .map(|r| r.origin.to_string())
        .unwrap_or_else(|| "default".into());
    checks.push(match cfg.provider() {
        ProviderKind::Bedrock => Check::new(
            "Provider",
            Status::Ok,
            format!("bedrock ({provider_origin})"),
        ),
        ProviderKind::Anthropic => Check::new(
            "Provider",
            Status::Warn,
            format!("anthropic ({provider_origin}); the checks below are for Bedrock"),
        )
        .fix("claude config set provider bedrock   (or export CLAUDE_PROVIDER=bedrock)"),
    });

    let settings = bedrock_settings(cfg);
    let region = settings.region.clone();
    let region_check = check_region(&settings);
    let region_ok = region_check.status != Status::Fail;
    checks.push(region_check);

    // PrivateLink service names carry the partition's reversed DNS suffix.
    let service_prefix = if settings.partition == "aws-cn" {
        "cn.com.amazonaws"
    } else {
        "com.amazonaws"
    };
    let report = |checks| Report {
        checks,
        vpc_endpoint_command: format!(
            "aws ec2 create-vpc-endpoint --vpc-id vpc-xxx --service-name {service_prefix}.{region}.bedrock-runtime --vpc-endpoint-type Interface --region {region}"
        ),
        cloudtrail_command: format!(
            "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=EventSource,AttributeValue=bedrock.amazonaws.com"
        ),
    };
    if !region_ok {
        return report(checks);
    }

    let control = ControlPlane::new(&settings).await;
    let creds = control.credentials().await;
    let creds_ok = creds.is_ok();
    checks.push(match creds {
        Ok(c) => Check::new(
            "Credentials",
            Status::Ok,
            match c.expires {
                Some(e) => format!("{}; expire {e}", c.source),
                None => c.source,
            },
        ),
        Err(e) => {
            let ctx = claude_providers::bedrock::BedrockProvider::context_for(&settings, "");
            Check::new("Credentials", Status::Fail, format!("not found: {e}")).fix(format!(
                "Sources tried: {}.\naws configure   (writes ~/.aws/credentials), or export AWS_PROFILE=<profile>{}, or export AWS_BEARER_TOKEN_BEDROCK=…\nthen verify: aws sts get-caller-identity",
                ctx.credential_sources.join("; "),
                if ctx.sso_profile {
                    format!(", or aws sso login --profile {}", ctx.profile.as_deref().unwrap_or("default"))
                } else {
                    String::new()
                }
            ))
        }
    });

    if creds_ok && settings.auth == AuthMode::Sigv4 {
        checks.push(match control.caller_identity().await {
            Ok(id) => Check::new("Identity (STS)", Status::Ok, format!("account {}, {}", id.account, id.arn)),
            Err(e) => Check::new("Identity (STS)", Status::Fail, e.to_string())
                .fix("The credentials were found but AWS does not accept them: refresh them (aws sso login, new keys) and run `aws sts get-caller-identity`."),
        });
    } else if settings.auth != AuthMode::Sigv4 {
        checks.push(Check::new(
            "Identity (STS)",
            Status::Warn,
            "skipped: STS does not take Bedrock API keys or unsigned requests",
        ));
    }

    checks.push(check_endpoint(&settings).await);

    let runtime = Runtime::from_config(cfg).ok();
    if creds_ok {
        checks.extend(check_models(cfg, &settings, &control, runtime.as_ref(), opts, notice).await);
        if let Some(g) = &settings.guardrail {
            checks.push(check_guardrail(&control, g, &settings).await);
        }
    }

    checks.push(check_budget(cfg));
    checks.push(check_caching(cfg, runtime.as_ref()));
    report(checks)
}

/// The configured guardrail must exist at the configured version, or every
/// model call fails.
async fn check_guardrail(control: &ControlPlane, g: &Guardrail, s: &BedrockSettings) -> Check {
    let name = "Guardrail";
    match control.guardrail(&g.id, &g.version).await {
        Ok(info) if info.status.eq_ignore_ascii_case("READY") => Check::new(
            name,
            Status::Ok,
            format!(
                "{} version {} ({}) is READY; applied to every model call",
                g.id, g.version, info.name
            ),
        ),
        Ok(info) => Check::new(
            name,
            Status::Warn,
            format!("{} version {} is {}", g.id, g.version, info.status),
        )
        .fix("Wait until the guardrail is READY, or fix it in AWS Console → Amazon Bedrock → Guardrails."),
        Err(e) if e.is_access_denied() => Check::new(
            name,
            Status::Warn,
            format!("{} version {} not checked: {e}", g.id, g.version),
        )
        .fix("Allow bedrock:GetGuardrail for the doctor: `claude iam-policy --with-list` prints the policy."),
        Err(e) => Check::new(
            name,
            Status::Fail,
            format!(
                "{} version {} does not exist in {}: {e}",
                g.id, g.version, s.region
            ),
        )
        .fix(format!(
            "aws bedrock list-guardrails --region {}   lists the guardrails; then `claude config set bedrock.guardrail.id <id>` and `claude config set bedrock.guardrail.version <number or DRAFT>`. Until then every model call is refused.",
            s.region
        )),
    }
}

/// What the managed policy decides, and which lower-layer values it overrides.
fn check_policy(cfg: &Config) -> Option<Check> {
    let path = cfg.managed_policy()?;
    let mut decided: Vec<String> = cfg
        .entries()
        .iter()
        .filter(|r| matches!(r.origin, Origin::Managed(_)))
        .map(|r| format!("{} = {}", r.key, r.value))
        .collect();
    if let Some(models) = cfg.available_models().filter(|m| m.file == path) {
        decided.push(if models.value.is_empty() {
            "availableModels: the default model only".to_string()
        } else {
            format!("availableModels: {}", models.value.join(", "))
        });
    }
    let perms = cfg.permissions();
    if perms
        .disable_bypass_permissions_mode
        .as_ref()
        .is_some_and(|s| s.file == path)
    {
        decided.push("bypassPermissions mode disabled".to_string());
    }
    for (list, rules) in [
        ("deny", &perms.deny),
        ("ask", &perms.ask),
        ("allow", &perms.allow),
    ] {
        let n = rules.iter().filter(|r| r.file == path).count();
        if n > 0 {
            decided.push(format!("{n} {list} rule{}", if n == 1 { "" } else { "s" }));
        }
    }
    let summary = format!(
        "{}: {}",
        path.display(),
        if decided.is_empty() {
            "in effect; it sets none of claude's keys".to_string()
        } else {
            decided.join("; ")
        }
    );
    let overridden: Vec<String> = cfg
        .overridden_by_policy()
        .iter()
        .map(|o| format!("{} from {}", o.key, o.attempted))
        .collect();
    Some(if overridden.is_empty() {
        Check::new("Managed policy", Status::Ok, summary)
    } else {
        Check::new(
            "Managed policy",
            Status::Warn,
            format!("{summary}; ignored: {}", overridden.join(", ")),
        )
        .fix("The policy decides these keys: remove the other values (`claude config unset <key>` for config.toml), or ask your administrator to change the policy.")
    })
}

fn check_region(s: &BedrockSettings) -> Check {
    let fix = "claude config set bedrock.region us-east-1   (Claude is offered in us-east-1, us-west-2 and eu-west-1 among others)";
    if !claude_providers::bedrock::settings::is_region_shaped(&s.region) {
        return Check::new(
            "Region",
            Status::Fail,
            format!("`{}` is not a region", s.region),
        )
        .fix(fix);
    }
    if !BEDROCK_REGIONS.contains(&s.region.as_str()) {
        return Check::new(
            "Region",
            Status::Fail,
            format!(
                "{} ({}): Amazon Bedrock is not offered in this region",
                s.region, s.region_source
            ),
        )
        .fix(fix);
    }
    Check::new(
        "Region",
        Status::Ok,
        format!(
            "{} (from {}); Bedrock is offered there",
            s.region, s.region_source
        ),
    )
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

async fn check_endpoint(s: &BedrockSettings) -> Check {
    let url = &s.endpoint_display;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let default_port = if url.starts_with("http://") { 80 } else { 443 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => {
            (h.to_string(), p.parse().unwrap_or(default_port))
        }
        _ => (authority.to_string(), default_port),
    };
    let name = "Endpoint";
    let lookup = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await;
    let addrs: Vec<_> = match lookup {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => {
            return Check::new(name, Status::Fail, format!("{url} ({}): {host} does not resolve: {e}", s.endpoint_source))
                .fix("Check DNS and the endpoint URL; for a VPC interface endpoint, enable private DNS or use its vpce- hostname in bedrock.endpoint_url.");
        }
        Err(_) => {
            return Check::new(
                name,
                Status::Fail,
                format!("{url}: DNS lookup of {host} timed out"),
            )
            .fix("Check DNS, VPN and proxy settings.");
        }
    };
    let Some(first) = addrs.first().copied() else {
        return Check::new(name, Status::Fail, format!("{host} resolved to no address"));
    };
    let kind = if host.contains("vpce") {
        "a VPC interface endpoint"
    } else if first.ip().is_loopback() {
        "a local endpoint"
    } else if is_private(first.ip()) {
        "a private address (a VPC interface endpoint with private DNS, or a gateway)"
    } else {
        "a public endpoint (not a VPC endpoint)"
    };
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(first),
    )
    .await
    {
        Ok(Ok(_)) => Check::new(
            name,
            Status::Ok,
            format!(
                "{url} ({}) resolves to {} and accepts connections: {kind}",
                s.endpoint_source,
                first.ip()
            ),
        ),
        Ok(Err(e)) => Check::new(
            name,
            Status::Fail,
            format!(
                "{url} resolves to {} but refuses connections: {e}",
                first.ip()
            ),
        )
        .fix("Check security groups, the VPC endpoint's policy, HTTPS_PROXY and firewalls."),
        Err(_) => Check::new(
            name,
            Status::Fail,
            format!("{url}: connecting to {} timed out", first.ip()),
        )
        .fix("Check security groups, routes to the VPC endpoint, HTTPS_PROXY and firewalls."),
    }
}

/// Each alias plus the configured model, resolved as a call would resolve them.
pub(crate) fn models_to_check(
    cfg: &Config,
    settings: &BedrockSettings,
) -> Vec<(String, Result<String, String>)> {
    let overrides = alias_overrides(cfg, Target::Bedrock);
    let mut out: Vec<(String, Result<String, String>)> = Vec::new();
    let configured = cfg.str("model").map(str::to_string);
    let mut names: Vec<String> = ALIASES.iter().map(|a| a.to_string()).collect();
    if let Some(m) = &configured
        && !names.iter().any(|n| n.eq_ignore_ascii_case(m))
    {
        names.push(m.clone());
    }
    for name in names {
        let r = resolve(&ResolveInput {
            target: Target::Bedrock,
            requested: Some(&name),
            alias_overrides: overrides.clone(),
            region: &settings.region,
            region_prefix: cfg.str("bedrock.region_prefix"),
        });
        let label = if configured.as_deref() == Some(name.as_str())
            || (configured.is_none() && name == "sonnet")
        {
            format!("{name} (configured)")
        } else {
            name
        };
        out.push((label, r.map(|r| r.model_id).map_err(|e| e.to_string())));
    }
    out
}

async fn check_models(
    cfg: &Config,
    settings: &BedrockSettings,
    control: &ControlPlane,
    runtime: Option<&Runtime>,
    opts: Options,
    notice: Notice<'_>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let (models, profiles) = match (
        control.foundation_models().await,
        control.inference_profiles("SYSTEM_DEFINED").await,
    ) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => {
            let fix = if e.is_access_denied() {
                "Allow bedrock:ListFoundationModels and bedrock:ListInferenceProfiles for the doctor: `claude iam-policy --with-list` prints the policy."
            } else {
                "Check the region and network; `aws bedrock list-foundation-models --by-provider anthropic` should answer."
            };
            checks.push(
                Check::new(
                    "Models",
                    Status::Fail,
                    format!("could not list models: {e}"),
                )
                .fix(fix),
            );
            return checks;
        }
    };
    for (label, resolved) in models_to_check(cfg, settings) {
        let id = match resolved {
            Ok(id) => id,
            Err(e) => {
                checks.push(Check::new(format!("Model {label}"), Status::Fail, e));
                continue;
            }
        };
        checks.push(check_one_model(&label, &id, settings, control, &models, &profiles).await);
        if opts.invoke
            && let Some(rt) = runtime
        {
            checks.push(invoke_check(&label, &id, rt, notice).await);
        }
    }
    checks
}

async fn check_one_model(
    label: &str,
    id: &str,
    settings: &BedrockSettings,
    control: &ControlPlane,
    models: &[FoundationModel],
    profiles: &[InferenceProfile],
) -> Check {
    let name = format!("Model {label}");
    let ctx = CallContext {
        provider: "bedrock",
        region: settings.region.clone(),
        model_id: id.to_string(),
        partition: settings.partition.clone(),
        ..Default::default()
    };
    if profiles::is_application_profile(id) {
        return match control.inference_profile(id).await {
            Ok(p) => {
                let model = profiles::learn(id, &p);
                Check::new(
                    name,
                    Status::Ok,
                    format!(
                        "{id}: application inference profile `{}` ({}) → {}",
                        p.name,
                        p.status,
                        model.as_deref().unwrap_or("no model")
                    ),
                )
            }
            Err(e) => Check::new(name, Status::Fail, format!("{id}: {e}")).fix(format!(
                "`aws bedrock list-inference-profiles --type-equals APPLICATION --region {}` lists the account's application inference profiles; claude needs bedrock:GetInferenceProfile on it (`claude iam-policy`).",
                settings.region
            )),
        };
    }
    if id.starts_with("arn:") {
        return Check::new(name, Status::Ok, format!("{id}: an ARN, used as given"));
    }
    let (prefix, base) = match split_profile_prefix(id) {
        Some((p, b)) => (Some(p), b),
        None => (None, id),
    };
    let Some(fm) = models.iter().find(|m| m.id == base) else {
        return Check::new(name, Status::Fail, format!("{id}: {base} is not offered in {}", settings.region)).fix(format!(
            "aws bedrock list-foundation-models --by-provider anthropic --region {}   (or `claude models`) lists what is; point the alias elsewhere with `claude config set bedrock.models.<alias> <id>`.",
            settings.region
        ));
    };
    let mut notes = vec![fm.lifecycle.clone()];
    let mut status = Status::Ok;
    let mut fixes = Vec::new();
    if fm.lifecycle.eq_ignore_ascii_case("LEGACY") {
        status = Status::Warn;
        if let Some(eol) = &fm.end_of_life {
            notes.push(format!("end of life {eol}"));
        }
        let replacement = Catalog::builtin()
            .find(base)
            .and_then(|i| i.lifecycle.replacement.clone());
        fixes.push(match replacement {
            Some(r) => format!("Legacy model: move to {r}   (claude config set bedrock.models.<alias> {r}, with the inference-profile prefix for your region if it needs one)"),
            None => "Legacy model: move to an active model of the same tier.".to_string(),
        });
    }
    match prefix {
        Some(p) => {
            if profiles.iter().any(|pr| pr.id == id) {
                notes.push(format!("through the `{p}.` inference profile"));
            } else {
                status = Status::Fail;
                fixes.push(format!("The inference profile {id} does not exist in {}: `aws bedrock list-inference-profiles --region {}` lists those that do.", settings.region, settings.region));
            }
        }
        None if fm.needs_profile() => {
            status = Status::Fail;
            let suggestion = profiles
                .iter()
                .find(|p| split_profile_prefix(&p.id).is_some_and(|(_, b)| b == base))
                .map(|p| p.id.clone())
                .unwrap_or_else(|| format!("us.{base}"));
            fixes.push(format!(
                "{base} needs an inference profile for on-demand calls: use {suggestion}"
            ));
        }
        None => notes.push("on demand".into()),
    }
    match control.availability(base).await {
        Ok(a) if a.usable() => notes.push("access authorized".into()),
        Ok(a) => {
            status = Status::Fail;
            notes.push(format!(
                "access {} (entitlement {}, region {}{})",
                a.authorization.to_ascii_lowercase(),
                a.entitlement.to_ascii_lowercase(),
                a.region.to_ascii_lowercase(),
                a.agreement
                    .as_deref()
                    .map(|g| format!(", agreement {}", g.to_ascii_lowercase()))
                    .unwrap_or_default()
            ));
            fixes.push(format!(
                "AWS Console → Amazon Bedrock → Model access ({}): request access to this model. Your role also needs:\n{}",
                settings.region,
                iam_snippet(&ctx)
            ));
        }
        Err(e) if e.is_access_denied() => {
            status = status.max(Status::Warn);
            notes.push("access not checked (GetFoundationModelAvailability denied)".into());
        }
        Err(e) => {
            status = status.max(Status::Warn);
            notes.push(format!("access not checked: {e}"));
        }
    }
    let check = Check::new(name, status, format!("{id}: {}", notes.join(", ")));
    if fixes.is_empty() {
        check
    } else {
        check.fix(fixes.join("\n"))
    }
}

async fn invoke_check(label: &str, id: &str, rt: &Runtime, notice: Notice<'_>) -> Check {
    let name = format!("Test call {label}");
    let mut rt = rt.clone();
    let catalog_entry = split_profile_prefix(id).map_or(id, |(_, b)| b);
    let info = Catalog::builtin().find(catalog_entry);
    let request = MessagesRequest {
        max_tokens: 1,
        messages: vec![Message::user("Reply with one word.")],
        ..Default::default()
    };
    let estimate = Usage {
        input_tokens: 12,
        output_tokens: 1,
        ..Default::default()
    };
    let price = info.map(|i| {
        i.prices_for(split_profile_prefix(id).map(|(p, _)| p))
            .cost(&estimate)
    });
    notice(&format!(
        "Test call to {id}: about 12 input and 1 output token, {}",
        price.map_or("price unknown".to_string(), |p| format!("about ${p:.6}"))
    ));
    rt.model.model_id = id.to_string();
    let provider = rt.connect().await;
    let options = CallOptions {
        model_id: id.to_string(),
        stream: true,
        label: None,
        metadata: Default::default(),
    };
    let mut sink = |_| {};
    match provider.call(&request, &options, &mut sink).await {
        Ok(done) => {
            let cost = info.map(|i| {
                i.prices_for(split_profile_prefix(id).map(|(p, _)| p))
                    .cost(&done.usage)
            });
            Check::new(
                name,
                Status::Ok,
                format!(
                    "{id} answered in {} ms ({} in / {} out tokens{})",
                    done.latency.as_millis(),
                    done.usage.input_tokens,
                    done.usage.output_tokens,
                    cost.map(|c| format!(", ${c:.6}")).unwrap_or_default()
                ),
            )
        }
        Err(e) => Check::new(name, Status::Fail, format!("{id}: {}", e.code())).fix(e.to_string()),
    }
}

fn check_budget(cfg: &Config) -> Check {
    let Some(limit) = cfg.f64("budget.monthly_usd") else {
        return Check::new("Budget", Status::Warn, "no monthly budget set")
            .fix("claude config set budget.monthly_usd 100");
    };
    let action = cfg.str("budget.action").unwrap_or("warn");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    // The ledger may not exist yet on a new machine: nothing spent.
    let status = claude_usage::Ledger::open_in(cfg.user_dir())
        .ok()
        .and_then(|ledger| {
            claude_usage::summary(&ledger, &claude_usage::Budget::from_config(cfg), now_ms).ok()
        })
        .and_then(|s| s.budget);
    match status {
        Some(b) if b.spent_usd >= b.limit_usd => Check::new(
            "Budget",
            if action == "block" {
                Status::Fail
            } else {
                Status::Warn
            },
            format!(
                "${:.2} of ${limit:.2} spent this month ({:.0}%), action {action}",
                b.spent_usd, b.percent
            ),
        )
        .fix(
            "Raise the limit: claude config set budget.monthly_usd <amount>   (see `claude cost`)",
        ),
        Some(b) => Check::new(
            "Budget",
            Status::Ok,
            format!(
                "${:.2} of ${limit:.2} spent this month ({:.0}%), action {action}",
                b.spent_usd, b.percent
            ),
        ),
        None => Check::new(
            "Budget",
            Status::Ok,
            format!("${limit:.2} a month, action {action}"),
        ),
    }
}

fn check_caching(cfg: &Config, runtime: Option<&Runtime>) -> Check {
    if cfg.bool("prompt_caching") == Some(false) {
        return Check::new(
            "Prompt caching",
            Status::Warn,
            "turned off (prompt_caching = false or DISABLE_PROMPT_CACHING)",
        )
        .fix("claude config set prompt_caching true");
    }
    let Some(rt) = runtime else {
        return Check::new(
            "Prompt caching",
            Status::Warn,
            "unknown: the configured model does not resolve",
        );
    };
    match rt
        .model
        .info
        .and_then(|i| i.cache_min_tokens.map(|m| (i, m)))
    {
        Some((i, min)) => Check::new(
            "Prompt caching",
            Status::Ok,
            format!(
                "available for {} (at least {min} tokens per cached prefix); may not be offered in every region",
                i.name
            ),
        ),
        // Not an error: the model simply bills every prompt token in full.
        None => Check::new(
            "Prompt caching",
            Status::Ok,
            format!(
                "not offered for {}; Claude 3.7 and 4.x models cache repeated context at a tenth of the input price",
                rt.model.model_id
            ),
        ),
    }
}
