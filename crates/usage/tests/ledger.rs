//! The ledger and its reports against real SQLite files.

use claude_usage::time::{DAY_MS, Date};
use claude_usage::{Filter, GroupBy, Ledger, SCHEMA_VERSION, UsageError, UsageRecord, report};

fn day(text: &str) -> i64 {
    Date::parse(text).unwrap().start_ms()
}

fn rec(
    ts_ms: i64,
    session: &str,
    model: &str,
    skill: Option<&str>,
    cost: Option<i64>,
) -> UsageRecord {
    UsageRecord {
        ts_ms,
        session_id: session.into(),
        project: format!("/work/{session}"),
        provider: "bedrock".into(),
        region: Some("us-east-1".into()),
        model_id: model.into(),
        canonical_model: model.split_once('.').map(|(_, b)| b.to_owned()),
        skill: skill.map(str::to_owned),
        purpose: "main".into(),
        input_tokens: 100,
        output_tokens: 10,
        cache_read_tokens: 1000,
        cache_write_tokens: 0,
        cost_nanos: cost,
        uncached_cost_nanos: cost.map(|c| c * 3),
        status: "ok".into(),
        attempt: 1,
        ..UsageRecord::default()
    }
}

#[test]
fn new_ledger_is_private_wal_and_current() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("config");
    let ledger = Ledger::open_in(&nested).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
    let r = rec(
        day("2026-07-01"),
        "s1",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        None,
        Some(5),
    );
    let id = ledger.record(&r).unwrap();
    assert_eq!(ledger.get(id).unwrap(), Some(r));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(ledger.path()), 0o600);
        assert_eq!(mode(&nested.join("usage.db-wal")), 0o600);
        assert_eq!(mode(&nested), 0o700);
    }
    // Header bytes 18 and 19 (file format versions) are 2 in WAL mode.
    let header = std::fs::read(ledger.path()).unwrap();
    assert_eq!((header[18], header[19]), (2, 2), "not in WAL mode");
}

#[test]
fn newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.db");
    drop(Ledger::open(&path).unwrap());
    set_user_version(&path, SCHEMA_VERSION + 7);
    let before = std::fs::read(&path).unwrap();
    match Ledger::open(&path) {
        Err(
            e @ UsageError::SchemaTooNew {
                found, supported, ..
            },
        ) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 7, SCHEMA_VERSION));
            assert!(e.to_string().contains("Upgrade claude"), "{e}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Writes `PRAGMA user_version` straight into the database header (offset
/// 60, big-endian), as a future claude would have left it.
fn set_user_version(path: &std::path::Path, v: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&v.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
}

#[test]
fn an_empty_file_is_migrated_from_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.db");
    std::fs::write(&path, b"").unwrap();
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
    ledger.record(&rec(0, "s", "m", None, Some(1))).unwrap();
}

#[test]
fn concurrent_writers_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.db");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let ledger = Ledger::open(&path).unwrap();
                for i in 0..100 {
                    ledger
                        .record(&rec(i, &format!("s{t}"), "m", None, Some(1)))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.all().unwrap().len(), 400);
    assert_eq!(ledger.spent_nanos(0, 100).unwrap(), 400);
}

#[test]
fn alerts_are_claimed_once_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open_in(dir.path()).unwrap();
    let b = Ledger::open_in(dir.path()).unwrap();
    assert!(a.claim_alert("2026-07", 50.0, 1).unwrap());
    assert!(!b.claim_alert("2026-07", 50.0, 2).unwrap());
    assert!(b.claim_alert("2026-07", 80.0, 2).unwrap());
    assert!(a.claim_alert("2026-08", 50.0, 3).unwrap());
}

fn seeded() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open_in(dir.path()).unwrap();
    let sonnet = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let mut failed = rec(day("2026-07-02") + 5, "s2", haiku, Some("adr"), Some(0));
    failed.status = "throttled".into();
    failed.attempt = 1;
    ledger
        .record_batch(&[
            rec(day("2026-06-30") + 1, "s1", sonnet, None, Some(1_000)),
            rec(day("2026-07-01") + 1, "s1", sonnet, None, Some(2_000)),
            rec(day("2026-07-01") + 2, "s1", haiku, Some("adr"), Some(30)),
            failed,
            rec(day("2026-07-02") + 6, "s2", haiku, Some("adr"), Some(40)),
            rec(
                day("2026-07-02") + 7,
                "s2",
                "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
                None,
                None,
            ),
        ])
        .unwrap();
    (dir, ledger)
}

#[test]
fn daily_and_monthly_reports_sum_exactly() {
    let (_dir, ledger) = seeded();
    let daily = report(&ledger, GroupBy::Day, &Filter::default(), false).unwrap();
    let keys: Vec<_> = daily.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["2026-06-30", "2026-07-01", "2026-07-02"]);
    assert_eq!(daily.rows[1].totals.cost_nanos, 2_030);
    assert_eq!(daily.rows[2].totals.requests, 3);
    assert_eq!(daily.rows[2].totals.errors, 1);
    assert_eq!(daily.rows[2].totals.unpriced, 1);
    assert_eq!(daily.totals.cost_nanos, 3_070);
    assert_eq!(daily.totals.saved_nanos(), 6_140);
    assert_eq!(daily.totals.cache_read_tokens, 6_000);

    let monthly = report(&ledger, GroupBy::Month, &Filter::default(), true).unwrap();
    assert_eq!(monthly.rows.len(), 2);
    let july = &monthly.rows[1];
    assert_eq!(
        (july.key.as_str(), july.totals.cost_nanos),
        ("2026-07", 2_070)
    );
    let models: Vec<_> = july
        .breakdown
        .iter()
        .map(|r| (r.key.as_str(), r.totals.requests))
        .collect();
    assert_eq!(
        models,
        [
            ("anthropic.claude-3-haiku-20240307-v1:0", 3),
            (
                "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
                1
            ),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1),
        ]
    );
    let summed: i64 = july.breakdown.iter().map(|r| r.totals.cost_nanos).sum();
    assert_eq!(summed, july.totals.cost_nanos);

    let july_only = Filter {
        since_ms: Some(day("2026-07-01")),
        until_ms: Some(day("2026-07-01") + DAY_MS),
        session: None,
    };
    let r = report(&ledger, GroupBy::Day, &july_only, false).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.totals.cost_nanos, 2_030);
}

#[test]
fn session_model_and_skill_reports() {
    let (_dir, ledger) = seeded();
    let sessions = report(&ledger, GroupBy::Session, &Filter::default(), false).unwrap();
    let s: Vec<_> = sessions
        .rows
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.project.as_deref().unwrap(),
                r.totals.cost_nanos,
            )
        })
        .collect();
    assert_eq!(s, [("s1", "/work/s1", 3_030), ("s2", "/work/s2", 40)]);

    let models = report(&ledger, GroupBy::Model, &Filter::default(), true).unwrap();
    assert_eq!(
        models.rows[0].key,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    assert_eq!(
        models.rows[0].canonical_model.as_deref(),
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    assert_eq!(models.rows[0].breakdown[0].key, "us-east-1");
    assert_eq!(models.rows.last().unwrap().totals.unpriced, 1);

    let skills = report(&ledger, GroupBy::Skill, &Filter::default(), false).unwrap();
    let k: Vec<_> = skills
        .rows
        .iter()
        .map(|r| (r.key.as_str(), r.totals.cost_nanos))
        .collect();
    assert_eq!(k, [("(none)", 3_000), ("adr", 70)]);

    let one = Filter {
        session: Some("s2".into()),
        ..Filter::default()
    };
    let r = report(&ledger, GroupBy::Model, &one, false).unwrap();
    assert_eq!(r.totals.requests, 3);
}

#[test]
fn a_hundred_thousand_rows_report_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open_in(dir.path()).unwrap();
    let start = day("2026-01-01");
    let rows: Vec<_> = (0..100_000)
        .map(|i| {
            rec(
                start + i * 150_000,
                &format!("s{}", i / 50),
                "m",
                None,
                Some(7),
            )
        })
        .collect();
    ledger.record_batch(&rows).unwrap();
    let t = std::time::Instant::now();
    let r = report(&ledger, GroupBy::Month, &Filter::default(), false).unwrap();
    let took = t.elapsed();
    assert_eq!(r.totals.requests, 100_000);
    assert_eq!(r.totals.cost_nanos, 700_000);
    // The bench holds the real target (100 ms, release build); this only
    // catches an accidental full-table blow-up in debug builds.
    assert!(took.as_secs() < 5, "{took:?}");
}

#[test]
fn per_day_totals_agree_with_the_request_rows() {
    let (_dir, ledger) = seeded();
    for group in [GroupBy::Day, GroupBy::Month, GroupBy::Model] {
        for breakdown in [false, true] {
            // Whole days read the per-day totals; a bound 1 ms off a day reads the rows.
            let whole = Filter {
                since_ms: Some(day("2026-06-01")),
                ..Filter::default()
            };
            let partial = Filter {
                since_ms: Some(day("2026-06-01") + 1),
                ..Filter::default()
            };
            let a = report(&ledger, group, &whole, breakdown).unwrap();
            let b = report(&ledger, group, &partial, breakdown).unwrap();
            assert_eq!(a.rows, b.rows, "{group:?} breakdown {breakdown}");
            assert_eq!(a.totals, b.totals);
            assert_eq!(a.totals.requests, 6);
        }
    }
}

#[test]
fn migrating_from_version_one_backfills_the_per_day_totals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.db");
    {
        let ledger = Ledger::open(&path).unwrap();
        for i in 0..3 {
            ledger
                .record(&rec(day("2026-07-01") + i, "s", "m", None, Some(10)))
                .unwrap();
        }
    }
    // Turn the file back into a version-1 ledger, as an older claude left it.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER requests_daily_totals; DROP TABLE daily_totals;
         ALTER TABLE requests DROP COLUMN agent_type; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
    let monthly = report(&ledger, GroupBy::Month, &Filter::default(), false).unwrap();
    assert_eq!(
        (monthly.totals.requests, monthly.totals.cost_nanos),
        (3, 30)
    );
    ledger
        .record(&rec(day("2026-07-02"), "s", "m", None, Some(5)))
        .unwrap();
    let monthly = report(&ledger, GroupBy::Month, &Filter::default(), false).unwrap();
    assert_eq!(
        (monthly.totals.requests, monthly.totals.cost_nanos),
        (4, 35)
    );
}
