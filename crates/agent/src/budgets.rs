//! `claude budget create`: the configured monthly budget as an AWS Budgets
//! cost budget, created with CreateBudget (`aws-sdk-budgets`) under the
//! same AWS credentials that call Bedrock.

use aws_sdk_budgets::config::Region;
use aws_sdk_budgets::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_budgets::types::{
    Budget as AwsBudget, BudgetType, ComparisonOperator, Notification, NotificationType,
    NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};
use claude_config::Config;
use claude_providers::bedrock::{self, SettingsInput};
use claude_usage::Budget;
use claude_usage::UsageError;

#[derive(Debug, thiserror::Error)]
pub enum BudgetsError {
    #[error(transparent)]
    NoBudget(#[from] UsageError),
    #[error(
        "`{0}` is not an AWS account id; give the 12-digit id, e.g. --account-id 123456789012 (`aws sts get-caller-identity` shows yours)"
    )]
    BadAccount(String),
    #[error(
        "a budget named `{name}` already exists in account {account}. Choose another name with --name, or change the existing one with `aws budgets update-budget` or in the Billing console."
    )]
    Duplicate { name: String, account: String },
    #[error(
        "AWS Budgets refused CreateBudget ({code}): {message}. The caller needs budgets:ModifyBudget on arn:aws:budgets::{account}:budget/{name} (and budgets:ViewBudget to see it).{request}"
    )]
    Denied {
        code: String,
        message: String,
        account: String,
        name: String,
        request: String,
    },
    #[error(
        "no usable AWS credentials for AWS Budgets: {0}. Run `aws configure` (or `aws sso login`), or set AWS_PROFILE; Bedrock API keys cannot call Budgets."
    )]
    Credentials(String),
    #[error("AWS Budgets CreateBudget failed ({code}): {message}{request}")]
    Service {
        code: String,
        message: String,
        request: String,
    },
}

/// What was created.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub name: String,
    pub account: String,
    pub amount: String,
    pub notifications: usize,
}

/// Creates the budget. With `emails`, each alert threshold
/// (`budget.alert_thresholds`) becomes an ACTUAL > threshold % notification
/// to those addresses.
pub async fn create_budget(
    cfg: &Config,
    account: &str,
    name: &str,
    emails: &[String],
) -> Result<Created, BudgetsError> {
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(BudgetsError::BadAccount(account.to_owned()));
    }
    let budget = Budget::from_config(cfg);
    let json = budget.aws_budget_json(name)?;
    let amount = json["BudgetLimit"]["Amount"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let settings = bedrock::resolve_settings(SettingsInput {
        region_flag: None,
        region_config: None,
        profile: cfg
            .get("bedrock.profile")
            .ok()
            .flatten()
            .map(|r| (r.value.to_string(), r.origin.to_string())),
        endpoint_config: None,
        env: cfg.env().clone(),
    });
    let sdk = bedrock::sdk_config(&settings).await;
    // Budgets is a global service, served from us-east-1 (cn-northwest-1 in China).
    let region = if settings.partition == "aws-cn" {
        "cn-northwest-1"
    } else {
        "us-east-1"
    };
    let client = aws_sdk_budgets::Client::from_conf(
        aws_sdk_budgets::config::Builder::from(&sdk)
            .region(Region::new(region))
            .build(),
    );
    let build_err = |e: aws_sdk_budgets::error::BuildError| BudgetsError::Service {
        code: "InvalidRequest".into(),
        message: e.to_string(),
        request: String::new(),
    };
    let aws_budget = AwsBudget::builder()
        .budget_name(name)
        .budget_limit(
            Spend::builder()
                .amount(&amount)
                .unit("USD")
                .build()
                .map_err(build_err)?,
        )
        .budget_type(BudgetType::Cost)
        .time_unit(TimeUnit::Monthly)
        .build()
        .map_err(build_err)?;
    let mut notifications = Vec::new();
    if !emails.is_empty() {
        for t in &budget.thresholds {
            let subscribers = emails
                .iter()
                .map(|e| {
                    Subscriber::builder()
                        .subscription_type(SubscriptionType::Email)
                        .address(e)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(build_err)?;
            notifications.push(
                NotificationWithSubscribers::builder()
                    .notification(
                        Notification::builder()
                            .notification_type(NotificationType::Actual)
                            .comparison_operator(ComparisonOperator::GreaterThan)
                            .threshold(*t)
                            .threshold_type(ThresholdType::Percentage)
                            .build()
                            .map_err(build_err)?,
                    )
                    .set_subscribers(Some(subscribers))
                    .build()
                    .map_err(build_err)?,
            );
        }
    }
    let count = notifications.len();
    client
        .create_budget()
        .account_id(account)
        .budget(aws_budget)
        .set_notifications_with_subscribers((!notifications.is_empty()).then_some(notifications))
        .send()
        .await
        .map_err(|e| classify(e, account, name))?;
    Ok(Created {
        name: name.to_owned(),
        account: account.to_owned(),
        amount,
        notifications: count,
    })
}

fn classify<E, R>(err: SdkError<E, R>, account: &str, name: &str) -> BudgetsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let SdkError::ServiceError(service) = &err else {
        let text = aws_smithy_text(&err);
        if text.contains("credential") || text.contains("Credential") {
            return BudgetsError::Credentials(text);
        }
        return BudgetsError::Service {
            code: "ConnectionError".into(),
            message: text,
            request: String::new(),
        };
    };
    let e = service.err();
    let code = e.code().unwrap_or("UnknownError").to_owned();
    let message = e.message().unwrap_or_default().to_owned();
    let request = e
        .meta()
        .extra("aws_request_id")
        .map(|r| format!(" Request ID: {r}"))
        .unwrap_or_default();
    match code.as_str() {
        "DuplicateRecordException" => BudgetsError::Duplicate {
            name: name.to_owned(),
            account: account.to_owned(),
        },
        "AccessDeniedException" => BudgetsError::Denied {
            code,
            message,
            account: account.to_owned(),
            name: name.to_owned(),
            request,
        },
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "MissingAuthenticationTokenException" => {
            BudgetsError::Credentials(format!("{code}: {message}"))
        }
        _ => BudgetsError::Service {
            code,
            message,
            request,
        },
    }
}

fn aws_smithy_text<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
