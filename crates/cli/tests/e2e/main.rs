//! End-to-end tests: the real `claude` binary, a temporary HOME and config
//! directory, and loopback servers that speak the real wire formats.

// Tests print the notice when a shared fixture is absent.
#![allow(clippy::print_stderr)]

mod agent;
mod anthropic;
mod bedrock;
mod common;
mod config;
mod cost;
mod doctor;
mod dry_run;
mod enterprise;
mod hooks;
mod mcp;
mod mcp_config;
mod policy;
mod session;
mod skills;
mod subagents;
mod vault;
