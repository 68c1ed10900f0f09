//! Retry policy as data: one layer owns retries (ours; the SDK's own retry
//! is switched off) so attempts are never multiplied and every wait is shown.

use std::time::Duration;

use rand::Rng;

use crate::error::ProviderError;
use crate::provider::{Completion, FailedAttempt, ProviderEvent, RetryNotice};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter: uniform in [0, min(cap, base·2^n)].
    /// `attempt` is the 1-based attempt that just failed.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        if ceiling.is_zero() {
            return ceiling;
        }
        let ms = rand::rng().random_range(0..=ceiling.as_millis() as u64);
        Duration::from_millis(ms)
    }

    fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// The wait before the next attempt: the server's hint when it gave one
    /// (capped), else the jittered backoff.
    pub fn wait(&self, attempt: u32, server_hint: Option<Duration>) -> Duration {
        match server_hint {
            Some(hint) => hint.min(self.cap.max(Duration::from_secs(60))),
            None => self.delay(attempt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_and_stays_within_it() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
        };
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(3), Duration::from_millis(400));
        assert_eq!(p.ceiling(9), Duration::from_millis(1000));
        for attempt in 1..12 {
            assert!(p.delay(attempt) <= p.ceiling(attempt));
        }
    }

    #[test]
    fn server_hint_wins() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
    }
}

/// How one attempt failed, as the retry loop needs to know it.
#[derive(Debug)]
pub enum AttemptError {
    /// Worth another try: the error to report if none is left.
    Retryable {
        /// Human words for the announcement, e.g. "Bedrock is throttling (ThrottlingException)".
        reason: String,
        /// The server's own wait hint (`retry-after`).
        hint: Option<Duration>,
        error: ProviderError,
    },
    Fatal(ProviderError),
}

/// One attempt of a model call.
pub trait Attempt {
    fn attempt(
        &self,
        sink: &mut (dyn FnMut(ProviderEvent) + Send),
    ) -> impl Future<Output = Result<Completion, AttemptError>> + Send;
}

/// Runs attempts until one succeeds, a fatal error, or the policy's limit,
/// announcing each wait through the sink.
pub async fn with_retries<A: Attempt + Sync>(
    attempt: &A,
    policy: &RetryPolicy,
    sink: &mut (dyn FnMut(ProviderEvent) + Send),
) -> Result<Completion, ProviderError> {
    let max = policy.max_attempts.max(1);
    let mut failed = Vec::new();
    let mut n = 1;
    loop {
        match attempt.attempt(sink).await {
            Ok(mut done) => {
                done.attempts = n;
                done.failed_attempts = failed;
                return Ok(done);
            }
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Retryable {
                reason,
                hint,
                error,
            }) => {
                let this = FailedAttempt {
                    code: error.code(),
                    request_id: error.request_id().map(str::to_string),
                };
                failed.push(this.clone());
                if n >= max {
                    return Err(error.with_attempts(n));
                }
                let wait = policy.wait(n, hint);
                n += 1;
                sink(ProviderEvent::Retry(RetryNotice {
                    reason,
                    wait,
                    next_attempt: n,
                    max_attempts: max,
                    failed: this,
                }));
                tokio::time::sleep(wait).await;
            }
        }
    }
}
