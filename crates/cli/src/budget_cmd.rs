//! `claude budget`: the monthly budget as AWS Budgets JSON, or created in
//! the account with AWS Budgets.

use std::path::PathBuf;

use clap::Subcommand;
use claude_config::Config;
use claude_usage::Budget;

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Print the monthly budget as AWS Budgets JSON, for `aws budgets create-budget --budget file://…`.
    Export {
        /// The budget's name in AWS.
        #[arg(long, default_value = "Bedrock-Monthly")]
        name: String,
        /// Write to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create the monthly budget in an AWS account with AWS Budgets (needs budgets:ModifyBudget).
    Create {
        /// The 12-digit AWS account id.
        #[arg(long, value_name = "ID")]
        account_id: String,
        /// The budget's name in AWS.
        #[arg(long, default_value = "Bedrock-Monthly")]
        name: String,
        /// Email an alert at each of budget.alert_thresholds (repeatable).
        #[arg(long = "notify-email", value_name = "ADDRESS")]
        notify_email: Vec<String>,
    },
}

pub fn run(cfg: &Config, cmd: BudgetCommand) -> anyhow::Result<i32> {
    match cmd {
        BudgetCommand::Export { name, output } => {
            let json = match Budget::from_config(cfg).aws_budget_json(&name) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("claude: {e}");
                    return Ok(2);
                }
            };
            let text = serde_json::to_string_pretty(&json)? + "\n";
            match output {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, &text) {
                        eprintln!("claude: cannot write {}: {e}", path.display());
                        return Ok(1);
                    }
                    eprintln!(
                        "claude: wrote {}. Create it with: aws budgets create-budget --account-id <id> --budget file://{}",
                        path.display(),
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(0)
        }
        BudgetCommand::Create {
            account_id,
            name,
            notify_email,
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            match rt.block_on(claude_agent::budgets::create_budget(
                cfg,
                &account_id,
                &name,
                &notify_email,
            )) {
                Ok(created) => {
                    println!(
                        "Created AWS budget `{}` in account {}: ${} a month (COST, MONTHLY){}.",
                        created.name,
                        created.account,
                        created.amount,
                        if created.notifications > 0 {
                            format!(", with {} email alert(s)", created.notifications)
                        } else {
                            String::new()
                        }
                    );
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("claude: {e}");
                    Ok(match e {
                        claude_agent::budgets::BudgetsError::NoBudget(_)
                        | claude_agent::budgets::BudgetsError::BadAccount(_) => 2,
                        claude_agent::budgets::BudgetsError::Credentials(_) => 3,
                        claude_agent::budgets::BudgetsError::Denied { .. } => 4,
                        _ => 1,
                    })
                }
            }
        }
    }
}
