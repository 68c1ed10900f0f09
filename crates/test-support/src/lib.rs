//! Loopback servers that speak Amazon Bedrock's and Anthropic's exact wire formats, for the
//! end-to-end tests that run the real `claude` binary against them, and helpers to find
//! the recorded captures those formats are checked against.
//!
//! Boundary: test-only code. It depends on no other crate of the workspace, so the servers
//! never share a misunderstanding with the client they test; they are held to the real
//! captures in `shared/fixtures` instead. Library code never prints.
//!
//! Each server runs on its own thread with its own tokio runtime, bound to 127.0.0.1:0, so
//! plain synchronous `#[test]` functions can use it:
//!
//! ```no_run
//! use claude_test_support::bedrock::{BedrockOptions, BedrockServer, Reply};
//!
//! let server = BedrockServer::start(BedrockOptions::default());
//! server.push(Reply::throttling());
//! server.push(Reply::text("second attempt"));
//! // … run `claude` with its Bedrock endpoint set to server.url() …
//! assert_eq!(server.requests().len(), 2);
//! ```

#![warn(missing_docs)]

pub mod anthropic;
pub mod bedrock;
mod child;
pub mod eventstream;
pub mod fixtures;
mod ids;
mod loopback;
mod messages;
pub mod sigv4;

pub use anthropic::{AnthropicOptions, AnthropicServer};
pub use bedrock::{Auth, BedrockOptions, BedrockServer};
pub use child::ChildServer;
pub use loopback::{Operation, RecordedRequest};
pub use messages::{ToolCall, Usage};
