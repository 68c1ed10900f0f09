//! Reports over the ledger: totals grouped by day, month, session, model ID
//! (AWS Cost Explorer's "group by model ID", locally) or skill. Aggregation
//! runs in SQLite; these functions return rows and leave rendering to the
//! caller.

use rusqlite::params;
use serde::Serialize;

use crate::budget::{Budget, BudgetStatus};
use crate::time::{DAY_MS, Date};
use crate::{Ledger, UsageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Day,
    Month,
    Session,
    Model,
    Skill,
}

impl GroupBy {
    /// Days and months are grouped by UTC day number, which is far cheaper
    /// for SQLite than formatting a date per row; [`GroupBy::label`] turns
    /// the number into the day or month it stands for.
    fn key_sql(self) -> &'static str {
        match self {
            GroupBy::Day | GroupBy::Month => "CAST(ts_ms / 86400000 AS TEXT)",
            GroupBy::Session => "session_id",
            GroupBy::Model => "model_id",
            GroupBy::Skill => "COALESCE(skill, '(none)')",
        }
    }

    /// What `--breakdown` splits each row by.
    fn sub_sql(self) -> &'static str {
        match self {
            GroupBy::Model => "COALESCE(region, '(none)')",
            _ => "model_id",
        }
    }

    fn label(self, key: String) -> String {
        let day = || {
            key.parse::<i64>()
                .map(|d| Date::from_ms(d * crate::time::DAY_MS))
        };
        match (self, day()) {
            (GroupBy::Day, Ok(d)) => d.to_string(),
            (GroupBy::Month, Ok(d)) => d.month_key(),
            _ => key,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Day => "daily",
            GroupBy::Month => "monthly",
            GroupBy::Session => "session",
            GroupBy::Model => "model",
            GroupBy::Skill => "skill",
        }
    }
}

/// Which rows a report reads. Bounds are milliseconds, `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filter {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub session: Option<String>,
}

/// Sums over a set of ledger rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub requests: u64,
    /// Attempts that ended in an error (their tokens, if any, still count).
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub cost_nanos: i64,
    /// What the same tokens would cost with no prompt caching.
    pub uncached_cost_nanos: i64,
    /// Rows with no known price (not in `cost_nanos`).
    pub unpriced: u64,
}

impl Totals {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    pub fn saved_nanos(&self) -> i64 {
        self.uncached_cost_nanos - self.cost_nanos
    }

    fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.cost_nanos += o.cost_nanos;
        self.uncached_cost_nanos += o.uncached_cost_nanos;
        self.unpriced += o.unpriced;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The day, month, session id, model ID or skill.
    pub key: String,
    #[serde(flatten)]
    pub totals: Totals,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Sessions: the project they ran in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Model IDs: the base model behind a profile or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_model: Option<String>,
    /// With `--breakdown`: per model ID (per region for the model report).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub group: GroupBy,
    pub filter: Filter,
    pub rows: Vec<Row>,
    pub totals: Totals,
}

/// Groups the ledger's rows that match `filter`.
///
/// Daily, monthly and model reports over whole UTC days read the per-day
/// totals; sessions, skills, a single session or partial days read the
/// request rows themselves. Both give the same figures.
pub fn report(
    ledger: &Ledger,
    group: GroupBy,
    filter: &Filter,
    breakdown: bool,
) -> Result<Report, UsageError> {
    let whole_days = |b: Option<i64>| b.is_none_or(|ms| ms.rem_euclid(DAY_MS) == 0);
    let rollup = matches!(group, GroupBy::Day | GroupBy::Month | GroupBy::Model)
        && filter.session.is_none()
        && whole_days(filter.since_ms)
        && whole_days(filter.until_ms);
    let sub = match (breakdown, group) {
        (false, _) => "''",
        (true, GroupBy::Model) if rollup => "CASE region WHEN '' THEN '(none)' ELSE region END",
        (true, _) => group.sub_sql(),
    };
    let sql = if rollup {
        let key = match group {
            GroupBy::Model => "model_id",
            _ => "CAST(day AS TEXT)",
        };
        format!(
            "SELECT {key} AS k, {sub} AS s, SUM(requests), SUM(errors),
                SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens),
                SUM(cost_nanos), SUM(uncached_cost_nanos), SUM(unpriced), MIN(first_ms), MAX(last_ms),
                NULL, MAX(canonical_model)
             FROM daily_totals
             WHERE day >= ?1 / 86400000 AND day < ?2 / 86400000 AND ?3 IS NULL
             GROUP BY k, s ORDER BY k, s"
        )
    } else {
        format!(
            "SELECT {key} AS k, {sub} AS s, COUNT(*), SUM(status <> 'ok'),
                SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens),
                COALESCE(SUM(cost_nanos), 0), COALESCE(SUM(uncached_cost_nanos), 0),
                SUM(cost_nanos IS NULL), MIN(ts_ms), MAX(ts_ms), MIN(project), MAX(canonical_model)
             FROM requests
             WHERE ts_ms >= ?1 AND ts_ms < ?2 AND (?3 IS NULL OR session_id = ?3)
             GROUP BY k, s ORDER BY k, s",
            key = group.key_sql(),
        )
    };
    let fail = |e| ledger.sql_error("run a report", e);
    let mut stmt = ledger.conn().prepare(&sql).map_err(fail)?;
    let mut found = stmt
        .query(params![
            filter.since_ms.unwrap_or(i64::MIN),
            filter.until_ms.unwrap_or(i64::MAX),
            filter.session,
        ])
        .map_err(fail)?;
    let mut rows: Vec<Row> = Vec::new();
    while let Some(r) = found.next().map_err(fail)? {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
        let part = Row {
            key: group.label(r.get(0).map_err(fail)?),
            totals: Totals {
                requests: n(2).map_err(fail)?,
                errors: n(3).map_err(fail)?,
                input_tokens: n(4).map_err(fail)?,
                output_tokens: n(5).map_err(fail)?,
                cache_read_tokens: n(6).map_err(fail)?,
                cache_write_tokens: n(7).map_err(fail)?,
                cost_nanos: r.get(8).map_err(fail)?,
                uncached_cost_nanos: r.get(9).map_err(fail)?,
                unpriced: n(10).map_err(fail)?,
            },
            first_ms: r.get(11).map_err(fail)?,
            last_ms: r.get(12).map_err(fail)?,
            project: (group == GroupBy::Session)
                .then(|| r.get(13))
                .transpose()
                .map_err(fail)?,
            canonical_model: if group == GroupBy::Model {
                r.get(14).map_err(fail)?
            } else {
                None
            },
            breakdown: Vec::new(),
        };
        let sub_key: String = r.get(1).map_err(fail)?;
        fold(&mut rows, part, breakdown.then_some(sub_key));
    }
    for r in &mut rows {
        r.breakdown.sort_by(|a, b| a.key.cmp(&b.key));
    }
    match group {
        GroupBy::Day | GroupBy::Month => {}
        GroupBy::Session => rows.sort_by_key(|r| (r.last_ms, r.key.clone())),
        GroupBy::Model | GroupBy::Skill => rows.sort_by(|a, b| {
            b.totals
                .cost_nanos
                .cmp(&a.totals.cost_nanos)
                .then(a.key.cmp(&b.key))
        }),
    }
    let mut totals = Totals::default();
    for r in &rows {
        totals.add(&r.totals);
    }
    Ok(Report {
        group,
        filter: filter.clone(),
        rows,
        totals,
    })
}

/// Adds a (key, sub-key) group to the rows, which arrive ordered by key (so
/// equal keys, such as the days of one month, are adjacent).
fn fold(rows: &mut Vec<Row>, part: Row, sub_key: Option<String>) {
    let child = sub_key.map(|key| Row {
        key,
        project: None,
        canonical_model: None,
        breakdown: Vec::new(),
        ..part.clone()
    });
    let Some(parent) = rows.last_mut().filter(|r| r.key == part.key) else {
        rows.push(Row {
            breakdown: child.into_iter().collect(),
            ..part
        });
        return;
    };
    parent.totals.add(&part.totals);
    parent.first_ms = parent.first_ms.min(part.first_ms);
    parent.last_ms = parent.last_ms.max(part.last_ms);
    parent.canonical_model = parent.canonical_model.take().or(part.canonical_model);
    if parent.project.is_none() {
        parent.project = part.project;
    }
    let Some(child) = child else {
        return;
    };
    match parent.breakdown.iter_mut().find(|c| c.key == child.key) {
        Some(c) => {
            c.totals.add(&child.totals);
            c.first_ms = c.first_ms.min(child.first_ms);
            c.last_ms = c.last_ms.max(child.last_ms);
        }
        None => parent.breakdown.push(child),
    }
}

/// `claude cost`: today, this month, and the month against the budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub today: String,
    pub month: String,
    pub today_totals: Totals,
    pub month_totals: Totals,
    pub budget: Option<BudgetStatus>,
}

pub fn summary(ledger: &Ledger, budget: &Budget, now_ms: i64) -> Result<Summary, UsageError> {
    let today = Date::from_ms(now_ms);
    let month = today.month_start();
    let day_report = report(
        ledger,
        GroupBy::Month,
        &Filter {
            since_ms: Some(today.start_ms()),
            until_ms: Some(today.end_ms()),
            session: None,
        },
        false,
    )?;
    let month_report = report(
        ledger,
        GroupBy::Month,
        &Filter {
            since_ms: Some(month.start_ms()),
            until_ms: Some(month.next_month_start().start_ms()),
            session: None,
        },
        false,
    )?;
    Ok(Summary {
        today: today.to_string(),
        month: today.month_key(),
        budget: budget.status(month_report.totals.cost_nanos),
        today_totals: day_report.totals,
        month_totals: month_report.totals,
    })
}
