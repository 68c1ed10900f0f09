//! The command line, as clap structs.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// claude: a Claude Code-compatible terminal agent whose first-class backend
/// is Amazon Bedrock, in your own AWS account.
#[derive(Debug, Parser)]
#[command(name = "claude", version, long_about = None)]
#[command(
    after_help = "Examples:\n  claude --provider bedrock --model haiku -p \"Summarise this ADR\"\n  claude config set provider bedrock\n  claude config set bedrock.region us-east-1\n  CLAUDE_PROVIDER=bedrock claude -p hello --dry-run\n\nExit codes: 0 ok, 1 unexpected error, 2 usage or configuration error, 3 credentials, 4 access denied, 5 model not available, 6 throttled after all retries, 7 service or network failure after retries, 8 request rejected, 9 reply incomplete, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags for a model call (print mode) that also shape configuration.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// The prompt. With -p and no prompt, it is read from standard input.
    pub prompt: Option<String>,

    /// Print mode: answer one prompt and exit.
    #[arg(short = 'p', long = "print")]
    pub print: bool,

    /// Model provider: bedrock or anthropic (env CLAUDE_PROVIDER; CLAUDE_CODE_USE_BEDROCK=1 selects bedrock).
    #[arg(long, value_name = "PROVIDER", global = true)]
    pub provider: Option<String>,

    /// Model alias (opus, sonnet, haiku), model ID, inference-profile ID or ARN (env ANTHROPIC_MODEL).
    #[arg(long, value_name = "MODEL", global = true)]
    pub model: Option<String>,

    /// AWS region for Bedrock; beats bedrock.region, AWS_REGION and AWS_DEFAULT_REGION.
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,

    /// Print, as JSON, what would be sent (provider, region, endpoint, model ID and why, body); send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Explain each decision (provider, region, endpoint, auth, model) on standard error.
    #[arg(long, global = true)]
    pub verbose: bool,

    /// Use the non-streaming call (Bedrock InvokeModel) instead of streaming.
    #[arg(long)]
    pub no_stream: bool,

    /// Output format in print mode.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,

    /// With stream-json: also emit each stream event (token deltas) as it arrives.
    #[arg(long)]
    pub include_partial_messages: bool,

    /// Continue the most recent session in this directory.
    #[arg(short = 'c', long = "continue", conflicts_with = "resume")]
    pub continue_session: bool,

    /// Resume a session by id (or a unique prefix of it); without an id, choose from a list.
    #[arg(short = 'r', long, value_name = "SESSION_ID", num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,

    /// The most agentic turns (model requests) one prompt may take in print mode.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_turns: Option<u32>,

    /// Do not write a transcript for this session.
    #[arg(long)]
    pub no_session_persistence: bool,

    /// Permission rules to allow without asking, e.g. "Bash(git status:*)" "Edit".
    #[arg(long = "allowedTools", alias = "allowed-tools", value_name = "RULES", num_args = 1.., value_delimiter = ',')]
    pub allowed_tools: Vec<String>,

    /// Permission rules to deny, e.g. "Bash(rm *)" "WebFetch".
    #[arg(long = "disallowedTools", alias = "disallowed-tools", value_name = "RULES", num_args = 1.., value_delimiter = ',')]
    pub disallowed_tools: Vec<String>,

    /// Permission mode: default, acceptEdits, plan or bypassPermissions.
    #[arg(long, value_name = "MODE")]
    pub permission_mode: Option<String>,

    /// Allow every tool call except those denied by rules (bypassPermissions mode).
    #[arg(long)]
    pub dangerously_skip_permissions: bool,

    /// Extra directories the tools may read (and, in acceptEdits, edit) without asking.
    #[arg(long = "add-dir", value_name = "DIR", num_args = 1..)]
    pub add_dir: Vec<std::path::PathBuf>,

    /// Print mode: stop at this many US dollars for this run (result subtype error_max_budget_usd, exit 11).
    #[arg(long, value_name = "USD", value_parser = positive_usd)]
    pub max_budget_usd: Option<f64>,
}

fn positive_usd(s: &str) -> Result<f64, String> {
    s.trim()
        .trim_start_matches('$')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| format!("`{s}` is not an amount above 0, such as 5 or 0.50"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// The reply's text, streamed.
    #[default]
    Text,
    /// One JSON object with the result, usage and cost.
    Json,
    /// One JSON event per line as the reply streams, then the result.
    StreamJson,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read and change configuration (user file by default, or the project's).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check everything between this machine and Claude on Bedrock, with a fix for each problem (exit 0 ok, 1 warnings, 2 failures).
    Doctor {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Also make a 1-token test call per model (billed; the price is shown first).
        #[arg(long)]
        invoke: bool,
    },
    /// List the region's Anthropic models: lifecycle, streaming, inference types, profiles, aliases and prices.
    Models {
        #[arg(long)]
        json: bool,
    },
    /// List this project's sessions, newest first.
    Sessions {
        #[arg(long)]
        json: bool,
    },
    /// Print the least-privilege IAM policy for the configured region and models.
    IamPolicy {
        /// Add ListFoundationModels, ListInferenceProfiles, GetInferenceProfile and GetFoundationModelAvailability for `claude doctor`.
        #[arg(long)]
        with_list: bool,
        /// Add bedrock:CallWithBearerToken for Bedrock API keys.
        #[arg(long)]
        bearer: bool,
    },
    /// Spending: today, this month and the budget; or a report (daily, monthly, session, model, skill).
    Cost(crate::cost_cmd::CostArgs),
    /// The price table in use (built-in catalog and pricing.overrides), per 1M and per 1K tokens.
    Pricing {
        /// Only model IDs or names containing this text.
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The monthly budget as AWS Budgets JSON, or created in AWS.
    #[command(subcommand)]
    Budget(crate::budget_cmd::BudgetCommand),
    /// Read the audit log (model invocations, tool executions, budget refusals).
    #[command(subcommand)]
    Audit(crate::audit_cmd::AuditCommand),
    /// The vault index (.data/vault.db): build it, query it (/q), stats and checks.
    #[command(subcommand)]
    Vault(crate::vault_cmd::VaultCommand),
    /// Skills and commands (.claude/skills, .claude/commands) and agents: list them, check their files.
    #[command(subcommand)]
    Skills(crate::skills_cmd::SkillsCommand),
    /// MCP servers (.mcp.json, ~/.claude.json, managed policy): add, add-json, get, list, remove.
    #[command(subcommand)]
    Mcp(crate::mcp_cmd::McpCommand),
}

#[derive(Debug, Args, Clone, Copy)]
pub struct ScopeArgs {
    /// The user config file (the default): $CLAUDE_CONFIG_DIR/config.toml or ~/.claude/config.toml.
    #[arg(long, conflicts_with = "project")]
    pub global: bool,
    /// The project's file: .claude/config.toml at the project root.
    #[arg(long)]
    pub project: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set KEY to VALUE, validated; secrets are refused.
    Set {
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Print KEY's effective value (exit 1 when it is not set).
    Get {
        key: String,
        /// Also print where the value came from.
        #[arg(long)]
        show_origin: bool,
    },
    /// Remove KEY from the chosen file.
    Unset {
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// List every effective value.
    List {
        /// Show where each value came from: flag, environment variable, file path or default.
        #[arg(long)]
        show_origin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every key with its description.
    Keys,
}
