//! The `claude` binary: parse, load configuration, dispatch, map errors to
//! exit codes. Everything else lives in the library crates.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod audit_cmd;
mod budget_cmd;
mod complete;
mod config_cmd;
mod cost_cmd;
mod doctor_cmd;
mod load;
mod mcp_cmd;
mod pricing_cmd;
mod print;
mod render;
mod repl;
mod sessions;
mod skills_cmd;
mod vault_cmd;

use clap::Parser;

use args::{Cli, Command};

fn main() {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("claude: {}", error_text(&e));
            1
        }
    };
    std::process::exit(code);
}

/// An error and its causes on one line. The workspace's errors already name their cause in their
/// message ("vault database …: constraint failed"), which `{:#}` then printed a second time; a
/// cause is added only when the text so far does not say it (a library error whose message
/// leaves it out).
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// `claude -p … | head -1`: when the reader goes away, stop quietly with
/// exit 0 (as ripgrep does) instead of a panic about a broken pipe.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let opts = load::options(&cli.run)?;
    if let Some(Command::Config(cmd)) = cli.command {
        return Ok(config_cmd::run(cmd, &opts));
    }
    let cfg = match claude_config::Config::load(&opts) {
        Ok(cfg) => cfg,
        Err(e) if matches!(cli.command, Some(Command::Doctor { .. })) => {
            println!("✖ Config files: {e}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("claude: {e}");
            return Ok(2);
        }
    };
    if !matches!(cli.command, Some(Command::Doctor { .. }))
        && let Err(e) = load::enforce_policy(&cfg)
    {
        eprintln!("claude: {e}");
        return Ok(2);
    }
    load::apply_settings_env(&cfg);
    match cli.command {
        Some(Command::Doctor { json, invoke }) => doctor_cmd::doctor(&cfg, json, invoke),
        Some(Command::Models { json }) => doctor_cmd::models(&cfg, json),
        Some(Command::Sessions { json }) => sessions::list(&cfg, json),
        Some(Command::Cost(args)) => cost_cmd::run(&cfg, args),
        Some(Command::Pricing { model, json }) => pricing_cmd::run(&cfg, json, model.as_deref()),
        Some(Command::Budget(cmd)) => budget_cmd::run(&cfg, cmd),
        Some(Command::Audit(cmd)) => audit_cmd::run(&cfg, cmd),
        Some(Command::Vault(cmd)) => vault_cmd::run(&cfg, cmd),
        Some(Command::Skills(cmd)) => skills_cmd::run(&cfg, cmd),
        Some(Command::Mcp(cmd)) => mcp_cmd::run(&cfg, cmd),
        Some(Command::IamPolicy { with_list, bearer }) => {
            doctor_cmd::iam_policy(&cfg, with_list, bearer)
        }
        _ => print::run(&cli.run, &cfg),
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;

    /// An error whose message leaves its cause out.
    #[derive(Debug)]
    struct Quiet(std::io::Error);

    impl std::fmt::Display for Quiet {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer")
        }
    }

    impl std::error::Error for Quiet {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_names_each_cause_once() {
        // The workspace's errors say their cause in their message.
        let said = claude_vault::VaultError::Io {
            path: "/v/.data/vault.db.lock".into(),
            source: std::io::Error::other("Is a directory"),
        };
        let text = error_text(&anyhow::Error::new(said));
        assert_eq!(text.matches("Is a directory").count(), 1, "{text}");
        // A cause the message leaves out is added.
        let quiet = anyhow::Error::new(Quiet(std::io::Error::other("connection refused")));
        assert_eq!(error_text(&quiet), "outer: connection refused");
    }
}
