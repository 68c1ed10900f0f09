//! Model providers: the catalog, alias resolution, the retry policy, error
//! classification with fixes, and the Bedrock and Anthropic clients.
//!
//! Everything here returns typed values and errors; nothing prints. The
//! `Provider` trait is the only way the rest of the product reaches a model.

pub mod anthropic;
pub mod bedrock;
pub mod catalog;
pub mod error;
pub mod provider;
mod replay;
pub mod resolve;
pub mod retry;
mod suggest;

pub use error::{BudgetScope, CallContext, ProviderError};
pub use provider::{
    CallLabel, CallOptions, Completion, EventSink, Provider, ProviderEvent, RetryNotice,
};
pub use replay::message_events;
pub use suggest::did_you_mean;
