//! Model Context Protocol servers, as Claude Code configures and runs them.
//!
//! `config` reads and writes the server definitions (`.mcp.json`,
//! `~/.claude.json`, the managed policy) and decides which servers may run;
//! the client side starts them and turns their tools into the agent's.

pub mod client;
pub mod config;
pub mod manager;
pub mod sse;
pub mod tools;
