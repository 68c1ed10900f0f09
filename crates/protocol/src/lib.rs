//! Anthropic Messages types shared by every provider.
//!
//! This crate owns the shapes that cross the provider boundary: the request
//! body, content blocks, the streaming events and token usage. It holds no
//! I/O and no policy, so Bedrock and the direct API can both speak it and the
//! rest of the product never needs to know which one answered.

mod content;
mod request;
mod stream;
mod usage;

pub use content::{CacheControl, ContentBlock, ImageSource, Message, MessageContent, Role};
pub use request::{MessagesRequest, SystemBlock, SystemPrompt, Thinking, Tool, ToolChoice};
pub use stream::{BlockDelta, MessageDeltaBody, MessageStart, StreamAssembler, StreamEvent};
pub use usage::{InvocationMetrics, Usage};
