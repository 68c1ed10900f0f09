//! Cost governance around every model request: the budget check before
//! sending, prompt-caching breakpoints, and after the reply (or the failure,
//! or a cancellation) one ledger row and one audit line per billed attempt.
//!
//! [`AccountingHandle::wrap`] puts all of it around any [`Provider`], so
//! whatever sends requests (a print-mode turn, the REPL, `/wipe` and
//! compaction summaries, subagents) is accounted the same way and cannot
//! forget to be. Budget refusals surface as
//! [`ProviderError::BudgetExceeded`]; threshold warnings and recording
//! problems wait in [`AccountingHandle::take_notices`] for the front end,
//! since nothing here prints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use claude_config::{Config, Origin};
use claude_protocol::{MessagesRequest, StreamEvent, Usage};
use claude_providers::bedrock::settings::BedrockSettings;
use claude_providers::bedrock::{AuthMode, GUARDRAIL_INTERVENED, profiles};
use claude_providers::catalog::{Catalog, ModelInfo};
use claude_providers::provider::FailedAttempt;
use claude_providers::resolve::{ResolvedModel, split_profile_prefix};
use claude_providers::{
    BudgetScope, CallLabel, CallOptions, Completion, EventSink, Provider, ProviderError,
    ProviderEvent,
};
use claude_usage::time::{Date, iso8601, now_ms};
use claude_usage::{
    Audit, AuditEntry, AuditEvent, Budget, Cost, Filter, GroupBy, Ledger, Pricing, Report,
    UsageError, UsageRecord, fmt_usd, nanos_to_usd, report, usd_to_nanos,
};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::caching::place_breakpoints;
use crate::setup::Runtime;

/// How long the audit log waits for STS to name the principal.
const PRINCIPAL_WAIT: Duration = Duration::from_secs(2);

/// Something the user should see, collected while requests run.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Spending reached an alert threshold of the monthly budget; given once
    /// per threshold and month across every claude process.
    ThresholdReached {
        threshold: f64,
        spent_usd: f64,
        limit_usd: f64,
        month: String,
        blocks: bool,
    },
    /// The model ID has no price; its requests are recorded without cost.
    Unpriced { model_id: String },
    /// A ledger row or audit line could not be written.
    NotRecorded { what: &'static str, error: String },
    /// A Bedrock guardrail blocked or masked a prompt or reply.
    GuardrailIntervened {
        id: String,
        version: String,
        model_id: String,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::ThresholdReached {
                threshold,
                spent_usd,
                limit_usd,
                month,
                blocks,
            } => {
                write!(
                    f,
                    "budget alert: {threshold}% of the {} monthly budget reached ({} spent in {month}, UTC).",
                    fmt_usd(*limit_usd),
                    fmt_usd(*spent_usd)
                )?;
                if *threshold >= 100.0 {
                    if *blocks {
                        write!(
                            f,
                            " New requests are refused (budget.action = block); raise the limit with `claude config set budget.monthly_usd <amount>`."
                        )?;
                    } else {
                        write!(
                            f,
                            " Requests continue (budget.action = warn); `claude cost` shows where it went."
                        )?;
                    }
                }
                Ok(())
            }
            Notice::Unpriced { model_id } => write!(
                f,
                "no price is known for `{model_id}`: its requests are recorded with tokens but no cost, and do not count toward the budget. Add one with `claude config set pricing.overrides '{{\"{model_id}\": {{\"input\": <USD per 1M>, \"output\": <USD per 1M>}}}}'`."
            ),
            Notice::GuardrailIntervened {
                id,
                version,
                model_id,
            } => write!(
                f,
                "guardrail {id} (version {version}) intervened in the call to {model_id}: what you see is the guardrail's message, not the model's. It is recorded in the audit log; rephrase the request or ask your administrator about the guardrail's policy."
            ),
            Notice::NotRecorded { what, error } => {
                write!(
                    f,
                    "WARNING: this request was billed but its {what} was not written: {error}"
                )
            }
        }
    }
}

enum Lookup {
    Off,
    Pending(Box<BedrockSettings>),
    Running(tokio::task::JoinHandle<Option<String>>),
    Done(Option<String>),
}

/// The books of one process: ledger, audit log, prices, budget, and the
/// context each row is filed under.
pub struct Accounting {
    ledger: Ledger,
    audit: Option<Audit>,
    include_content: bool,
    caching: bool,
    pricing: Pricing,
    budget: Budget,
    raise_fix: String,
    run_cap_nanos: Option<i64>,
    run_cap_usd: Option<f64>,
    run_nanos: i64,
    session_id: String,
    project: String,
    provider: String,
    region: Option<String>,
    purpose: String,
    skill: Option<String>,
    aliases: BTreeMap<String, String>,
    /// `(id, version)` of the Bedrock guardrail on every call.
    guardrail: Option<(String, String)>,
    unpriced_told: BTreeSet<String>,
    notices: Vec<Notice>,
    lookup: Lookup,
}

/// Shared access to the process's [`Accounting`]; cheap to clone.
#[derive(Clone)]
pub struct AccountingHandle(Arc<Mutex<Accounting>>);

impl fmt::Debug for AccountingHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.lock();
        f.debug_struct("AccountingHandle")
            .field("ledger", &a.ledger.path())
            .field("session_id", &a.session_id)
            .finish_non_exhaustive()
    }
}

/// The request id, tokens and timing of one attempt, as the books need them.
struct Attempt<'a> {
    model_id: &'a str,
    usage: Usage,
    status: String,
    attempt: u32,
    request_id: Option<String>,
    latency: Option<Duration>,
    first_byte: Option<Duration>,
    content: Option<Value>,
    /// The call's own label; the process-wide purpose and skill when `None`.
    label: Option<&'a CallLabel>,
}

impl AccountingHandle {
    /// Opens the ledger (and the audit log, unless `audit.enabled = false`)
    /// in the config directory. `max_budget_usd` caps this process's spend
    /// (`--max-budget-usd`).
    pub fn open(
        cfg: &Config,
        runtime: &Runtime,
        max_budget_usd: Option<f64>,
    ) -> Result<AccountingHandle, UsageError> {
        let dir = cfg.user_dir();
        let ledger = Ledger::open_in(dir)?;
        let audit_on = cfg.bool("audit.enabled") != Some(false);
        let audit = audit_on
            .then(|| Audit::new(dir, cfg.u64("audit.max_bytes").unwrap_or(10 * 1024 * 1024)));
        // Behind a custom Bedrock endpoint (a VPC endpoint, a gateway) STS
        // may be unreachable; ask it only when its endpoint is known.
        let sts_reachable = |b: &BedrockSettings| {
            b.endpoint_url.is_none()
                || ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
                    .iter()
                    .any(|v| cfg.env().get(*v).is_some_and(|u| !u.is_empty()))
        };
        let lookup = match &runtime.bedrock {
            Some(b)
                if audit_on
                    && cfg.bool("audit.principal_lookup") != Some(false)
                    && b.auth == AuthMode::Sigv4
                    && sts_reachable(b) =>
            {
                Lookup::Pending(Box::new(b.clone()))
            }
            _ => Lookup::Off,
        };
        let mut aliases = BTreeMap::new();
        if let Some(alias) = &runtime.model.alias {
            aliases.insert(runtime.model.model_id.clone(), alias.clone());
        }
        Ok(AccountingHandle(Arc::new(Mutex::new(Accounting {
            ledger,
            audit,
            include_content: cfg.bool("audit.include_content") == Some(true),
            caching: cfg.bool("prompt_caching") != Some(false),
            pricing: Pricing::from_config(cfg),
            budget: Budget::from_config(cfg),
            raise_fix: raise_fix(cfg),
            run_cap_nanos: max_budget_usd.map(usd_to_nanos),
            run_cap_usd: max_budget_usd,
            run_nanos: 0,
            session_id: String::new(),
            project: cfg.project_root().display().to_string(),
            provider: runtime.provider.as_str().to_owned(),
            region: runtime.bedrock.as_ref().map(|b| b.region.clone()),
            purpose: "main".into(),
            skill: None,
            aliases,
            guardrail: runtime
                .bedrock
                .as_ref()
                .and_then(|b| b.guardrail.as_ref())
                .map(|g| (g.id.clone(), g.version.clone())),
            unpriced_told: BTreeSet::new(),
            notices: Vec::new(),
            lookup,
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, Accounting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session rows are filed under; call again when it changes
    /// (`/wipe`, `/clear`).
    pub fn set_session(&self, session_id: &str) {
        self.lock().session_id = session_id.to_owned();
    }

    /// What the next requests are for (`main`, `subagent`, `compaction`,
    /// `wipe`, …) and the skill that made them, if any.
    pub fn set_purpose(&self, purpose: &str, skill: Option<&str>) {
        let mut a = self.lock();
        purpose.clone_into(&mut a.purpose);
        a.skill = skill.map(str::to_owned);
    }

    /// Remembers the alias behind a model ID, after `/model` and the like.
    pub fn note_model(&self, model: &ResolvedModel) {
        if let Some(alias) = &model.alias {
            self.lock()
                .aliases
                .insert(model.model_id.clone(), alias.clone());
        }
    }

    /// Warnings gathered since the last call, oldest first.
    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut self.lock().notices)
    }

    /// What this process has spent, in USD.
    pub fn run_cost_usd(&self) -> f64 {
        nanos_to_usd(self.lock().run_nanos)
    }

    /// Whether `--max-budget-usd` is reached.
    pub fn run_cap_reached(&self) -> bool {
        let a = self.lock();
        a.run_cap_nanos.is_some_and(|cap| a.run_nanos >= cap)
    }

    /// `/cost` for the current session: its ledger rows by model ID.
    pub fn session_report(&self) -> Result<Report, UsageError> {
        let a = self.lock();
        let filter = Filter {
            session: Some(a.session_id.clone()),
            ..Filter::default()
        };
        report(&a.ledger, GroupBy::Model, &filter, false)
    }

    /// One audit line for a tool execution: its permission decision
    /// (`allow`, `deny`), outcome and, for a call that ran, its duration
    /// (`latency_ms`). `input` is written only with
    /// `audit.include_content = true`. A line that cannot be written becomes
    /// a notice.
    pub fn record_tool(
        &self,
        tool: &str,
        decision: &str,
        outcome: Option<&str>,
        input: Option<&Value>,
        took: Option<std::time::Duration>,
    ) {
        let mut a = self.lock();
        let Some(audit) = &a.audit else {
            return;
        };
        let (mcp_server, mcp_tool) = tool
            .strip_prefix("mcp__")
            .and_then(|rest| rest.split_once("__"))
            .map(|(server, name)| (server.to_owned(), name.to_owned()))
            .unzip();
        let line = AuditEntry {
            ts: iso8601(now_ms()),
            event: AuditEvent::ToolExecution,
            mcp_server,
            mcp_tool,
            session_id: a.session_id.clone(),
            principal_arn: a.principal(),
            project: Some(a.project.clone()),
            tool: Some(tool.to_owned()),
            decision: Some(decision.to_owned()),
            reason: outcome.map(str::to_owned),
            content: input.filter(|_| a.include_content).cloned(),
            latency_ms: took.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            ..AuditEntry::default()
        };
        let written = audit.append(&line);
        if let Err(e) = written {
            a.notices.push(Notice::NotRecorded {
                what: "audit line",
                error: e.to_string(),
            });
        }
    }

    /// Puts budget checks, prompt caching, the ledger and the audit log
    /// around `inner`.
    pub fn wrap(&self, inner: Box<dyn Provider>) -> Box<dyn Provider> {
        Box::new(GovernedProvider {
            inner,
            handle: self.clone(),
        })
    }

    /// The checks before a request: `--max-budget-usd`, then the monthly
    /// budget (warning at thresholds, refusing when `budget.action = block`
    /// and it is spent).
    pub fn before_request(&self) -> Result<(), ProviderError> {
        let mut a = self.lock();
        a.start_lookup();
        a.check_budget()
    }

    /// The request as it should be sent: with caching breakpoints when
    /// caching is on and the model supports it; `None` if unchanged.
    pub fn prepare(&self, request: &MessagesRequest, model_id: &str) -> Option<MessagesRequest> {
        if !self.lock().caching {
            return None;
        }
        let mut cached = request.clone();
        let plan = place_breakpoints(&mut cached, catalog_model(model_id));
        (!plan.placed.is_empty()).then_some(cached)
    }

    /// The call's options with its `requestMetadata`: the session, the
    /// project and, while one runs, the skill.
    fn with_metadata(&self, options: &CallOptions) -> CallOptions {
        let a = self.lock();
        let mut options = options.clone();
        let skill = match &options.label {
            Some(l) => l.skill.clone(),
            None => a.skill.clone(),
        };
        let meta = &mut options.metadata;
        if !a.session_id.is_empty() {
            meta.entry("session_id".into())
                .or_insert_with(|| a.session_id.clone());
        }
        meta.entry("project".into())
            .or_insert_with(|| a.project.clone());
        if let Some(skill) = skill {
            meta.entry("skill".into()).or_insert(skill);
        }
        options
    }

    /// Waits (briefly) for the principal lookup started by the first request.
    async fn settle_principal(&self) {
        let running = {
            let mut a = self.lock();
            match std::mem::replace(&mut a.lookup, Lookup::Off) {
                Lookup::Running(h) => h,
                other => {
                    a.lookup = other;
                    return;
                }
            }
        };
        let arn = tokio::time::timeout(PRINCIPAL_WAIT, running)
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        self.lock().lookup = Lookup::Done(arn);
    }
}

impl Accounting {
    fn principal(&self) -> Option<String> {
        match &self.lookup {
            Lookup::Done(arn) => arn.clone(),
            _ => None,
        }
    }

    fn start_lookup(&mut self) {
        if !matches!(self.lookup, Lookup::Pending(_))
            || tokio::runtime::Handle::try_current().is_err()
        {
            return;
        }
        let Lookup::Pending(settings) = std::mem::replace(&mut self.lookup, Lookup::Off) else {
            return;
        };
        self.lookup = Lookup::Running(tokio::spawn(async move {
            let control = claude_providers::bedrock::control::ControlPlane::new(&settings).await;
            match tokio::time::timeout(PRINCIPAL_WAIT, control.caller_identity()).await {
                Ok(Ok(id)) if !id.arn.is_empty() => Some(id.arn),
                _ => None,
            }
        }));
    }

    fn month_bounds(now: i64) -> (String, i64, i64) {
        let month = Date::from_ms(now).month_start();
        (
            month.month_key(),
            month.start_ms(),
            month.next_month_start().start_ms(),
        )
    }

    fn check_budget(&mut self) -> Result<(), ProviderError> {
        if let (Some(cap), Some(cap_usd)) = (self.run_cap_nanos, self.run_cap_usd)
            && self.run_nanos >= cap
        {
            return Err(ProviderError::BudgetExceeded {
                scope: BudgetScope::Run,
                message: format!(
                    "This run reached --max-budget-usd {}: {} spent. The next request was not sent. Give a higher --max-budget-usd to let it go further.",
                    fmt_usd(cap_usd),
                    fmt_usd(nanos_to_usd(self.run_nanos))
                ),
            });
        }
        let Some(limit) = self.budget.monthly_usd else {
            return Ok(());
        };
        let now = now_ms();
        let (month, from, to) = Self::month_bounds(now);
        let spent = match self.ledger.spent_nanos(from, to) {
            Ok(s) => s,
            Err(e) if self.budget.action == claude_usage::BudgetAction::Block => {
                return Err(ProviderError::BudgetExceeded {
                    scope: BudgetScope::Monthly,
                    message: format!(
                        "The monthly budget cannot be checked, so the request was not sent (budget.action = block): {e}"
                    ),
                });
            }
            Err(e) => {
                self.notices.push(Notice::NotRecorded {
                    what: "budget check",
                    error: e.to_string(),
                });
                return Ok(());
            }
        };
        self.warn_thresholds(spent, &month, now);
        if !self.budget.check(spent).blocked {
            return Ok(());
        }
        let message = format!(
            "The monthly budget is spent: {} of {} in {month} (UTC), and budget.action = block refuses new requests. Nothing was sent.\n{}",
            fmt_usd(nanos_to_usd(spent)),
            fmt_usd(limit),
            self.raise_fix
        );
        if let Some(audit) = &self.audit {
            let line = AuditEntry {
                ts: iso8601(now),
                event: AuditEvent::BudgetRefusal,
                session_id: self.session_id.clone(),
                principal_arn: self.principal(),
                project: Some(self.project.clone()),
                provider: Some(self.provider.clone()),
                region: self.region.clone(),
                status: Some("budget_exceeded".into()),
                reason: Some(format!(
                    "spent {:.6} of {limit} USD in {month}",
                    nanos_to_usd(spent)
                )),
                ..AuditEntry::default()
            };
            if let Err(e) = audit.append(&line) {
                self.notices.push(Notice::NotRecorded {
                    what: "audit line",
                    error: e.to_string(),
                });
            }
        }
        Err(ProviderError::BudgetExceeded {
            scope: BudgetScope::Monthly,
            message,
        })
    }

    fn warn_thresholds(&mut self, spent: i64, month: &str, now: i64) {
        let Some(limit) = self.budget.monthly_usd else {
            return;
        };
        for threshold in self.budget.check(spent).crossed {
            match self.ledger.claim_alert(month, threshold, now) {
                Ok(true) => self.notices.push(Notice::ThresholdReached {
                    threshold,
                    spent_usd: nanos_to_usd(spent),
                    limit_usd: limit,
                    month: month.to_owned(),
                    blocks: self.budget.action == claude_usage::BudgetAction::Block,
                }),
                Ok(false) => {}
                Err(e) => self.notices.push(Notice::NotRecorded {
                    what: "budget alert",
                    error: e.to_string(),
                }),
            }
        }
    }

    /// One ledger row and one audit line.
    fn file(&mut self, at: Attempt<'_>) {
        let now = now_ms();
        let behind = profiles::resolved(at.model_id);
        let quote = self.pricing.quote(&self.provider, at.model_id).or_else(|| {
            behind
                .as_deref()
                .and_then(|m| self.pricing.quote(&self.provider, m))
        });
        let cost = quote.as_ref().map(|q| Cost::of(&q.prices, &at.usage));
        if quote.is_none()
            && at.usage.total() > 0
            && self.unpriced_told.insert(at.model_id.to_owned())
        {
            self.notices.push(Notice::Unpriced {
                model_id: at.model_id.to_owned(),
            });
        }
        let canonical = catalog_model(at.model_id)
            .map(|m| m.id.clone())
            .or_else(|| behind.clone());
        let record = UsageRecord {
            ts_ms: now,
            session_id: self.session_id.clone(),
            project: self.project.clone(),
            provider: self.provider.clone(),
            region: self.region.clone(),
            model_id: at.model_id.to_owned(),
            canonical_model: canonical.clone(),
            alias: self.aliases.get(at.model_id).cloned(),
            skill: match at.label {
                Some(l) => l.skill.clone(),
                None => self.skill.clone(),
            },
            purpose: at
                .label
                .map_or_else(|| self.purpose.clone(), |l| l.purpose.clone()),
            agent_type: at.label.and_then(|l| l.agent_type.clone()),
            input_tokens: at.usage.input_tokens,
            output_tokens: at.usage.output_tokens,
            cache_read_tokens: at.usage.cache_read_input_tokens,
            cache_write_tokens: at.usage.cache_creation_input_tokens,
            cost_nanos: cost.map(|c| c.nanos),
            uncached_cost_nanos: cost.map(|c| c.uncached_nanos),
            latency_ms: at.latency.map(|d| d.as_millis() as u64),
            first_byte_ms: at.first_byte.map(|d| d.as_millis() as u64),
            request_id: at.request_id.clone(),
            status: at.status.clone(),
            attempt: at.attempt,
        };
        self.run_nanos += record.cost_nanos.unwrap_or(0);
        if let Err(e) = self.ledger.record(&record) {
            self.notices.push(Notice::NotRecorded {
                what: "ledger row",
                error: e.to_string(),
            });
        }
        let Some(audit) = &self.audit else {
            return;
        };
        let reason = (record.status == GUARDRAIL_INTERVENED)
            .then_some(self.guardrail.as_ref())
            .flatten()
            .map(|(id, version)| format!("guardrail {id} version {version} intervened"));
        let line = AuditEntry {
            ts: iso8601(now),
            event: AuditEvent::ModelInvocation,
            session_id: record.session_id,
            principal_arn: self.principal(),
            project: Some(record.project),
            provider: Some(record.provider),
            region: record.region,
            model_id: Some(record.model_id),
            canonical_model: canonical,
            request_id: record.request_id,
            status: Some(record.status),
            attempt: Some(record.attempt),
            purpose: Some(record.purpose),
            skill: record.skill,
            agent_type: record.agent_type,
            input_tokens: Some(record.input_tokens),
            output_tokens: Some(record.output_tokens),
            cache_read_tokens: Some(record.cache_read_tokens),
            cache_write_tokens: Some(record.cache_write_tokens),
            cost_usd: record.cost_nanos.map(nanos_to_usd),
            latency_ms: record.latency_ms,
            content: at.content.filter(|_| self.include_content),
            reason,
            ..AuditEntry::default()
        };
        if let Err(e) = audit.append(&line) {
            self.notices.push(Notice::NotRecorded {
                what: "audit line",
                error: e.to_string(),
            });
        }
    }

    /// Files every attempt of one request, then re-checks the thresholds so
    /// the warning follows the request that crossed one.
    fn settle(
        &mut self,
        log: AttemptLog,
        model_id: &str,
        label: Option<&CallLabel>,
        outcome: Outcome<'_>,
    ) {
        let content = |response: Option<Value>| -> Option<Value> {
            self.include_content
                .then(|| json!({"request": log.request, "response": response}))
        };
        let retried = log.failed.len() as u32;
        let last = match outcome {
            Outcome::Done(done) => Attempt {
                model_id,
                usage: done.usage,
                status: if done.stop_reason.as_deref() == Some(GUARDRAIL_INTERVENED) {
                    if let Some((id, version)) = &self.guardrail {
                        self.notices.push(Notice::GuardrailIntervened {
                            id: id.clone(),
                            version: version.clone(),
                            model_id: model_id.to_owned(),
                        });
                    }
                    GUARDRAIL_INTERVENED.into()
                } else {
                    "ok".into()
                },
                attempt: done.attempts.max(retried + 1),
                request_id: done.request_id.clone(),
                latency: Some(done.latency),
                first_byte: done.first_byte,
                content: content(Some(json!(done.message))),
                label,
            },
            Outcome::Failed(e) => Attempt {
                model_id,
                usage: log.current,
                status: e.code(),
                attempt: retried + 1,
                request_id: e.request_id().map(str::to_owned),
                latency: Some(log.started.elapsed()),
                first_byte: None,
                content: content(None),
                label,
            },
            Outcome::Cancelled => Attempt {
                model_id,
                usage: log.current,
                status: "cancelled".into(),
                attempt: retried + 1,
                request_id: None,
                latency: Some(log.started.elapsed()),
                first_byte: None,
                content: content(None),
                label,
            },
        };
        for (i, (failed, usage)) in log.failed.into_iter().enumerate() {
            self.file(Attempt {
                model_id,
                usage,
                status: failed.code,
                attempt: i as u32 + 1,
                request_id: failed.request_id,
                latency: None,
                first_byte: None,
                content: None,
                label,
            });
        }
        self.file(last);
        if self.budget.monthly_usd.is_some() {
            let now = now_ms();
            let (month, from, to) = Self::month_bounds(now);
            match self.ledger.spent_nanos(from, to) {
                Ok(spent) => self.warn_thresholds(spent, &month, now),
                Err(e) => self.notices.push(Notice::NotRecorded {
                    what: "budget check",
                    error: e.to_string(),
                }),
            }
        }
    }
}

enum Outcome<'a> {
    Done(&'a Completion),
    Failed(&'a ProviderError),
    Cancelled,
}

/// What the stream showed of each attempt: tokens reported before an
/// attempt failed are billed, so they are kept per attempt.
struct AttemptLog {
    started: Instant,
    current: Usage,
    failed: Vec<(FailedAttempt, Usage)>,
    /// The request, kept only for `audit.include_content`.
    request: Option<Value>,
}

impl AttemptLog {
    fn observe(&mut self, ev: &ProviderEvent) {
        match ev {
            ProviderEvent::Stream(StreamEvent::MessageStart { message }) => {
                self.current.merge(&message.usage)
            }
            ProviderEvent::Stream(StreamEvent::MessageDelta { usage, .. }) => {
                self.current.merge(usage)
            }
            ProviderEvent::Stream(StreamEvent::MessageStop {
                invocation_metrics: Some(m),
            }) => {
                let mut billed = m.usage();
                if billed.cache_read_input_tokens == 0 {
                    billed.cache_read_input_tokens = self.current.cache_read_input_tokens;
                }
                if billed.cache_creation_input_tokens == 0 {
                    billed.cache_creation_input_tokens = self.current.cache_creation_input_tokens;
                }
                self.current = billed;
            }
            ProviderEvent::Retry(notice) => {
                let usage = std::mem::take(&mut self.current);
                self.failed.push((notice.failed.clone(), usage));
            }
            ProviderEvent::Stream(_) => {}
        }
    }
}

/// Files a request that was dropped mid-flight (Ctrl-C): what the stream
/// had reported is billed, so it is recorded as `cancelled`.
struct InFlight {
    handle: AccountingHandle,
    model_id: String,
    label: Option<CallLabel>,
    log: Option<AttemptLog>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            self.handle
                .lock()
                .settle(log, &self.model_id, self.label.as_ref(), Outcome::Cancelled);
        }
    }
}

struct GovernedProvider {
    inner: Box<dyn Provider>,
    handle: AccountingHandle,
}

impl Provider for GovernedProvider {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            self.handle.before_request()?;
            let options = &self.handle.with_metadata(options);
            let prepared = self.handle.prepare(request, &options.model_id);
            let request = prepared.as_ref().unwrap_or(request);
            let include = self.handle.lock().include_content;
            let mut flight = InFlight {
                handle: self.handle.clone(),
                model_id: options.model_id.clone(),
                label: options.label.clone(),
                log: Some(AttemptLog {
                    started: Instant::now(),
                    current: Usage::default(),
                    failed: Vec::new(),
                    request: include
                        .then(|| json!({"system": request.system, "messages": request.messages})),
                }),
            };
            let result = {
                let log = &mut flight.log;
                let mut forward = |ev: ProviderEvent| {
                    if let Some(log) = log.as_mut() {
                        log.observe(&ev);
                    }
                    sink(ev);
                };
                self.inner.call(request, options, &mut forward).await
            };
            self.handle.settle_principal().await;
            if let Some(log) = flight.log.take() {
                let outcome = match &result {
                    Ok(done) => Outcome::Done(done),
                    Err(e) => Outcome::Failed(e),
                };
                self.handle
                    .lock()
                    .settle(log, &options.model_id, options.label.as_ref(), outcome);
            }
            result
        })
    }
}

/// The catalog entry behind a model ID as sent: base ID, API name,
/// inference-profile ID, or a profile or foundation-model ARN.
pub fn catalog_model(model_id: &str) -> Option<&'static ModelInfo> {
    if let Some(behind) = profiles::resolved(model_id) {
        return Catalog::builtin().find(&behind);
    }
    let id = model_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.splitn(5, ':').nth(4))
        .and_then(|res| res.split_once('/'))
        .filter(|(kind, _)| matches!(*kind, "foundation-model" | "inference-profile"))
        .map_or(model_id, |(_, id)| id);
    let base = split_profile_prefix(id).map_or(id, |(_, b)| b);
    Catalog::builtin().find(base)
}

/// How to raise the monthly limit, from where it is set.
fn raise_fix(cfg: &Config) -> String {
    let origin = cfg
        .get("budget.monthly_usd")
        .ok()
        .flatten()
        .map(|r| r.origin.clone());
    match origin {
        Some(Origin::Managed(path)) => format!(
            "The limit is set by the managed policy {}; ask your administrator to raise budget.monthly_usd.",
            path.display()
        ),
        Some(Origin::File(path)) => format!(
            "To raise the limit: claude config set budget.monthly_usd <amount>{} (now set in {}). To keep working with warnings only: claude config set budget.action warn.",
            if path.starts_with(cfg.project_root()) { " --project" } else { "" },
            path.display()
        ),
        _ => "To raise the limit: claude config set budget.monthly_usd <amount>. To keep working with warnings only: claude config set budget.action warn.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_model_sees_through_profiles_and_arns() {
        for id in [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5-20250929",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        ] {
            assert_eq!(
                catalog_model(id).map(|m| m.id.as_str()),
                Some("anthropic.claude-sonnet-4-5-20250929-v1:0"),
                "{id}"
            );
        }
        assert!(
            catalog_model("arn:aws:bedrock:us-east-1:1:application-inference-profile/x").is_none()
        );
    }

    #[test]
    fn attempts_keep_what_each_stream_reported() {
        let mut log = AttemptLog {
            started: Instant::now(),
            current: Usage::default(),
            failed: Vec::new(),
            request: None,
        };
        let start = |input| {
            ProviderEvent::Stream(StreamEvent::MessageStart {
                message: claude_protocol::MessageStart {
                    usage: Usage {
                        input_tokens: input,
                        ..Usage::default()
                    },
                    ..Default::default()
                },
            })
        };
        log.observe(&start(12));
        log.observe(&ProviderEvent::Retry(claude_providers::RetryNotice {
            reason: "broke".into(),
            wait: Duration::ZERO,
            next_attempt: 2,
            max_attempts: 3,
            failed: FailedAttempt {
                code: "ModelStreamErrorException".into(),
                request_id: Some("r1".into()),
            },
        }));
        log.observe(&start(13));
        assert_eq!(log.failed.len(), 1);
        assert_eq!(log.failed[0].1.input_tokens, 12);
        assert_eq!(log.current.input_tokens, 13);
    }

    #[test]
    fn notices_say_what_to_do() {
        let n = Notice::ThresholdReached {
            threshold: 100.0,
            spent_usd: 10.5,
            limit_usd: 10.0,
            month: "2026-07".into(),
            blocks: true,
        };
        let text = n.to_string();
        assert!(
            text.contains("100% of the $10.00 monthly budget")
                && text.contains("budget.monthly_usd"),
            "{text}"
        );
        let u = Notice::Unpriced {
            model_id: "arn:x".into(),
        }
        .to_string();
        assert!(
            u.contains("pricing.overrides") && u.contains("arn:x"),
            "{u}"
        );
    }
}
