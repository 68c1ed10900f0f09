//! The one seam between the conversation and the network.

use std::time::Duration;

use claude_protocol::{Message, MessagesRequest, StreamEvent, Usage};
use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::error::ProviderError;

/// What a provider tells its caller while a call is under way.
#[derive(Debug, Clone)]
pub enum ProviderEvent {
    /// A stream event, in order. Text deltas should reach the user at once.
    Stream(StreamEvent),
    /// The attempt failed before anything visible was shown and will be
    /// retried: consumers drop what they assembled from this attempt.
    Retry(RetryNotice),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
    /// Human words for the cause, e.g. "Bedrock is throttling (ThrottlingException)".
    pub reason: String,
    pub wait: Duration,
    /// The attempt about to start, 1-based.
    pub next_attempt: u32,
    pub max_attempts: u32,
    /// The attempt that failed, for the usage ledger and audit log.
    pub failed: FailedAttempt,
}

impl std::fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}. Retrying in {:.1} s (attempt {} of {})",
            self.reason,
            self.wait.as_secs_f64(),
            self.next_attempt,
            self.max_attempts
        )
    }
}

/// One call's parameters beyond the request body.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The model ID as it goes on the wire (already resolved).
    pub model_id: String,
    /// `false` uses the non-streaming operation (`--no-stream`).
    pub stream: bool,
    /// What the call is for, when it is not the session's main line: the
    /// books file it under this label instead of the process-wide one, so
    /// concurrent subagents and skills on other models are told apart.
    pub label: Option<CallLabel>,
    /// Key-value pairs for Bedrock's model-invocation logs (the call's
    /// `requestMetadata`): the session, the project and the skill. The books
    /// fill them in; empty sends none.
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// Who made a call: the session it belongs to, why, and the skill or
/// subagent type behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallLabel {
    /// `main`, `skill`, `subagent`, `compaction`, `wipe`, …
    pub purpose: String,
    /// The skill whose invocation made the call.
    pub skill: Option<String>,
    /// The subagent type (`general-purpose`, `Explore`, a custom agent's name).
    pub agent_type: Option<String>,
}

/// The finished call: the assistant message and what it cost to get it.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub message: Message,
    pub stop_reason: Option<String>,
    /// Tokens as billed (Bedrock's invocation metrics when present).
    pub usage: Usage,
    pub request_id: Option<String>,
    /// Wall time of the successful attempt.
    pub latency: Duration,
    /// Time to the first byte of the successful attempt, when measured.
    pub first_byte: Option<Duration>,
    /// Every attempt made, the successful one included.
    pub attempts: u32,
    /// Request IDs of attempts that failed and were retried, for the ledger.
    pub failed_attempts: Vec<FailedAttempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedAttempt {
    pub code: String,
    pub request_id: Option<String>,
}

/// Sink for events during a call; called on the caller's task.
pub type EventSink<'a> = &'a mut (dyn FnMut(ProviderEvent) + Send);

/// A streaming model call. Retries live inside the provider (one layer),
/// and every wait is announced through the sink.
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;

    fn call<'a>(
        &'a self,
        request: &'a MessagesRequest,
        options: &'a CallOptions,
        sink: EventSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}
