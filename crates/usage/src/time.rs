//! UTC calendar arithmetic for the ledger. Days and months are UTC, as in
//! AWS Cost Explorer and AWS Budgets, so local reports line up with the bill.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::UsageError;

pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A calendar day (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The UTC day that contains `ms`.
    pub fn from_ms(ms: i64) -> Date {
        let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
        Date { year, month, day }
    }

    /// `YYYY-MM-DD` or `YYYYMMDD`.
    pub fn parse(text: &str) -> Result<Date, UsageError> {
        let bad = || UsageError::BadDate {
            value: text.to_owned(),
        };
        let t = text.trim();
        let digits: String = t.chars().filter(|c| *c != '-').collect();
        let shaped = match t.len() {
            10 => t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-',
            8 => true,
            _ => false,
        };
        if !shaped || digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i64 = digits[0..4].parse().map_err(|_| bad())?;
        let month: u32 = digits[4..6].parse().map_err(|_| bad())?;
        let day: u32 = digits[6..8].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// Midnight UTC at the start of this day.
    pub fn start_ms(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY_MS
    }

    /// Midnight UTC at the end of this day.
    pub fn end_ms(self) -> i64 {
        self.start_ms() + DAY_MS
    }

    pub fn month_start(self) -> Date {
        Date { day: 1, ..self }
    }

    pub fn next_month_start(self) -> Date {
        if self.month == 12 {
            Date {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        } else {
            Date {
                month: self.month + 1,
                day: 1,
                ..self
            }
        }
    }

    /// `YYYY-MM`, the key of a monthly budget period.
    pub fn month_key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `2026-07-24T18:23:43.123Z`.
pub fn iso8601(ms: i64) -> String {
    let date = Date::from_ms(ms);
    let in_day = ms.rem_euclid(DAY_MS);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{date}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Milliseconds from an [`iso8601`] timestamp (the audit log's `ts`).
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once('T')?;
    let date = Date::parse(date).ok()?;
    let rest = rest.strip_suffix('Z')?;
    let (hms, milli) = rest.split_once('.').unwrap_or((rest, "0"));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let milli: i64 = format!("{milli:0<3}").get(..3)?.parse().ok()?;
    Some(date.start_ms() + h * 3_600_000 + m * 60_000 + s * 1000 + milli)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_centuries() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn dates_parse_and_bound_days() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(Date::parse("20240229").unwrap(), d);
        assert_eq!(d.end_ms() - d.start_ms(), DAY_MS);
        assert_eq!(Date::from_ms(d.start_ms()), d);
        assert_eq!(Date::from_ms(d.end_ms() - 1), d);
        assert_eq!(d.month_key(), "2024-02");
        assert_eq!(d.next_month_start().to_string(), "2024-03-01");
        assert_eq!(
            Date::parse("2024-12-31")
                .unwrap()
                .next_month_start()
                .to_string(),
            "2025-01-01"
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "24-01-01",
            "2024/01/01",
            "yesterday",
            "2024-1-1",
        ] {
            let err = Date::parse(bad).unwrap_err();
            assert!(err.to_string().contains("YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_utc_iso8601() {
        let ms =
            Date::parse("2026-07-24").unwrap().start_ms() + 18 * 3_600_000 + 23 * 60_000 + 43_123;
        assert_eq!(iso8601(ms), "2026-07-24T18:23:43.123Z");
        assert_eq!(parse_iso8601("2026-07-24T18:23:43.123Z"), Some(ms));
        assert_eq!(parse_iso8601("2026-07-24T18:23:43Z"), Some(ms - 123));
        assert_eq!(parse_iso8601("2026-07-24 18:23"), None);
    }
}
