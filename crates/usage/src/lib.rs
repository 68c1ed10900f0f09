//! Cost governance for `claude`.
//!
//! This crate owns what a model call costs and the records kept of it: the
//! price of each model (the compiled-in catalog, replaced row by row by
//! `pricing.overrides`), the usage ledger (one SQLite row per billed request,
//! WAL mode, safe for several processes at once, versioned schema), the
//! reports read from it (by day, month, session, model and skill), the
//! monthly budget and its thresholds, and the JSONL audit log. It depends on
//! the protocol types, the configuration and the provider catalog, never on
//! the network or the terminal: nothing here prints, and every failure is a
//! [`UsageError`] that says what to do next.

mod audit;
mod budget;
mod error;
mod ledger;
mod pricing;
mod report;
pub mod time;

pub use audit::{AUDIT_FILE, Audit, AuditEntry, AuditEvent, AuditQuery};
pub use budget::{Budget, BudgetAction, BudgetCheck, BudgetStatus, amount_text, usd_to_nanos};
pub use error::UsageError;
pub use ledger::{LEDGER_FILE, Ledger, SCHEMA_VERSION, UsageRecord};
pub use pricing::{Cost, PriceRow, PriceSource, Pricing, Quote};
pub use report::{Filter, GroupBy, Report, Row, Summary, Totals, report, summary};

/// Nano-dollars (10⁻⁹ USD): the ledger's unit, exact in integer sums.
pub const NANOS_PER_USD: f64 = 1e9;

/// `$12.34`, with more decimals under a cent so that no amount shows as
/// `$0.00`: `$0.0042`, `$0.000013`.
pub fn fmt_usd(usd: f64) -> String {
    let sign = if usd < 0.0 { "-" } else { "" };
    let v = usd.abs();
    if v == 0.0 || v >= 0.01 {
        format!("{sign}${v:.2}")
    } else {
        let text = format!("{v:.9}");
        let text = text.trim_end_matches('0');
        // Keep two significant digits past the leading zeros.
        let digits = text.trim_start_matches("0.").trim_start_matches('0').len();
        let cut = text.len() - digits.saturating_sub(2);
        format!("{sign}${}", &text[..cut])
    }
}

/// Nano-dollars as US dollars.
pub fn nanos_to_usd(nanos: i64) -> f64 {
    nanos as f64 / NANOS_PER_USD
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_never_rounds_to_zero() {
        use super::fmt_usd;
        assert_eq!(fmt_usd(0.0), "$0.00");
        assert_eq!(fmt_usd(12.345), "$12.35");
        assert_eq!(fmt_usd(0.6), "$0.60");
        assert_eq!(fmt_usd(0.0042), "$0.0042");
        assert_eq!(fmt_usd(0.0003406), "$0.00034");
        assert_eq!(fmt_usd(0.0001), "$0.0001");
        assert_eq!(fmt_usd(-0.5), "-$0.50");
    }
}
