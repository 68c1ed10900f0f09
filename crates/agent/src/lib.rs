//! The conversation runtime.
//!
//! Turns the layered configuration into a provider and a resolved model,
//! and explains each choice (for `--verbose` and `--dry-run`). Later layers
//! (tools, permissions, hooks) plug in here; nothing in this crate prints.

pub mod accounting;
pub mod agentic;
pub mod budgets;
pub mod caching;
pub mod doctor;
pub mod frontmatter;
pub mod hooks;
pub mod iam;
pub mod memory;
pub mod models;
pub mod permissions;
pub mod session;
pub mod setup;
pub mod skills;
pub mod subagents;
pub mod tools;
pub mod transcript;

pub use setup::{Runtime, SetupError};
