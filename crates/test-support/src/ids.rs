//! Identifiers shaped like the real services' (`msg_bdrk_01…`, `req_011C…`, UUIDs), so a
//! client that validates or logs them sees realistic values. Not cryptographic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A splitmix64 step over a process-wide counter seeded by the clock: distinct per call.
pub(crate) fn next_u64() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = nanos.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value in `low..=high`.
pub(crate) fn in_range(low: usize, high: usize) -> usize {
    low + (next_u64() % (high - low + 1) as u64) as usize
}

fn base62(len: usize) -> String {
    (0..len)
        .map(|_| char::from(BASE62[(next_u64() % 62) as usize]))
        .collect()
}

/// `prefix` + `01` + 22 base62 characters, the shape of message and tool-use ids.
pub(crate) fn anthropic_id(prefix: &str) -> String {
    format!("{prefix}01{}", base62(22))
}

/// The direct API's `request-id`, e.g. `req_011CSHoEeqs5C35K2UUqR7Fy`.
pub(crate) fn request_id() -> String {
    format!("req_011C{}", base62(20))
}

/// A version-4-shaped UUID, as in `x-amzn-RequestId`.
pub(crate) fn uuid() -> String {
    let hi = next_u64();
    let lo = next_u64();
    let hex = format!("{hi:016x}{lo:016x}");
    format!(
        "{}-{}-4{}-{}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        ["8", "9", "a", "b"][(lo >> 62) as usize],
        &hex[17..20],
        &hex[20..32]
    )
}
