//! The monthly budget: how much of it is spent, which alert thresholds that
//! crosses, whether a new request may start, and the same budget as AWS
//! Budgets JSON.

use claude_config::Config;
use serde::Serialize;
use serde_json::{Value, json};

use crate::UsageError;

/// What happens once the monthly budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetAction {
    Warn,
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// `budget.monthly_usd`; `None` means no budget.
    pub monthly_usd: Option<f64>,
    /// `budget.alert_thresholds`, percentages, ascending.
    pub thresholds: Vec<f64>,
    pub action: BudgetAction,
}

/// Where spending stands against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetStatus {
    pub limit_usd: f64,
    pub spent_usd: f64,
    pub percent: f64,
    pub remaining_usd: f64,
    pub action: BudgetAction,
}

/// The verdict for a request about to start.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BudgetCheck {
    /// Thresholds (percent) that spending has reached, ascending.
    pub crossed: Vec<f64>,
    /// `budget.action = block` and the budget is spent: refuse.
    pub blocked: bool,
}

/// US dollars as nano-dollars, rounded.
pub fn usd_to_nanos(usd: f64) -> i64 {
    (usd * crate::NANOS_PER_USD).round() as i64
}

impl Budget {
    pub fn from_config(cfg: &Config) -> Budget {
        let mut thresholds = cfg
            .list_f64("budget.alert_thresholds")
            .map_or_else(|| vec![50.0, 80.0, 100.0], <[f64]>::to_vec);
        thresholds.sort_by(f64::total_cmp);
        thresholds.dedup();
        Budget {
            monthly_usd: cfg.f64("budget.monthly_usd"),
            thresholds,
            action: match cfg.str("budget.action") {
                Some("block") => BudgetAction::Block,
                _ => BudgetAction::Warn,
            },
        }
    }

    pub fn status(&self, spent_nanos: i64) -> Option<BudgetStatus> {
        let limit = self.monthly_usd?;
        let spent = crate::nanos_to_usd(spent_nanos);
        Some(BudgetStatus {
            limit_usd: limit,
            spent_usd: spent,
            percent: spent / limit * 100.0,
            remaining_usd: (limit - spent).max(0.0),
            action: self.action,
        })
    }

    /// Compares this month's spending with the budget. Comparisons are in
    /// nano-dollars, so "100 % of $1" is reached at exactly $1.
    pub fn check(&self, spent_nanos: i64) -> BudgetCheck {
        let Some(limit) = self.monthly_usd else {
            return BudgetCheck::default();
        };
        let reached = |percent: f64| spent_nanos >= usd_to_nanos(limit * percent / 100.0);
        BudgetCheck {
            crossed: self
                .thresholds
                .iter()
                .copied()
                .filter(|t| reached(*t))
                .collect(),
            blocked: self.action == BudgetAction::Block && reached(100.0),
        }
    }

    /// The budget as `aws budgets create-budget --budget file://…` takes it,
    /// in the Bedrock guide's shape.
    pub fn aws_budget_json(&self, name: &str) -> Result<Value, UsageError> {
        let amount = self.monthly_usd.ok_or(UsageError::NoBudget)?;
        Ok(json!({
            "BudgetName": name,
            "BudgetLimit": {
                "Amount": amount_text(amount),
                "Unit": "USD",
            },
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
        }))
    }
}

/// AWS writes amounts as decimal strings: `100`, `250.5`.
pub fn amount_text(amount: f64) -> String {
    let text = format!("{amount:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: Option<f64>, action: BudgetAction) -> Budget {
        Budget {
            monthly_usd: limit,
            thresholds: vec![50.0, 80.0, 100.0],
            action,
        }
    }

    #[test]
    fn thresholds_and_blocking() {
        let b = budget(Some(1.0), BudgetAction::Block);
        assert_eq!(b.check(0), BudgetCheck::default());
        assert_eq!(b.check(499_999_999).crossed, Vec::<f64>::new());
        assert_eq!(b.check(500_000_000).crossed, [50.0]);
        let c = b.check(850_000_000);
        assert_eq!(
            (c.crossed.as_slice(), c.blocked),
            (&[50.0, 80.0][..], false)
        );
        let c = b.check(1_000_000_000);
        assert_eq!((c.crossed.len(), c.blocked), (3, true));
        assert!(
            !budget(Some(1.0), BudgetAction::Warn)
                .check(5_000_000_000)
                .blocked
        );
        assert_eq!(
            budget(None, BudgetAction::Block).check(i64::MAX),
            BudgetCheck::default()
        );
        let s = b.status(250_000_000).unwrap();
        assert_eq!((s.percent, s.remaining_usd), (25.0, 0.75));
    }

    #[test]
    fn aws_budget_json_is_the_guides_shape() {
        let json = budget(Some(100.0), BudgetAction::Warn)
            .aws_budget_json("Bedrock-Monthly")
            .unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&json).unwrap(),
            "{\n  \"BudgetName\": \"Bedrock-Monthly\",\n  \"BudgetLimit\": {\n    \"Amount\": \"100\",\n    \"Unit\": \"USD\"\n  },\n  \"BudgetType\": \"COST\",\n  \"TimeUnit\": \"MONTHLY\"\n}"
        );
        assert_eq!(amount_text(250.5), "250.5");
        assert_eq!(amount_text(1250.25), "1250.25");
        assert_eq!(amount_text(0.0001), "0.0001");
        assert!(matches!(
            budget(None, BudgetAction::Warn).aws_budget_json("x"),
            Err(UsageError::NoBudget)
        ));
    }
}
