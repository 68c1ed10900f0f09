//! Subagents: Claude Code's `Agent` tool (`Task` of old) and `context: fork`
//! skills run a task in a child conversation with its own model, tools and
//! permissions, and hand back its final text.
//!
//! [`defs`] finds the types (built-in `general-purpose`, `Explore` and
//! `Plan`, and the agent files of the user and the project); [`run`] runs
//! one: a [`SubagentHost`] per session starts children on the session's
//! provider, so every request goes through the same books, filed under
//! purpose `subagent` with the type and the parent session.

pub mod defs;
pub mod run;

pub use defs::{AgentDef, Warning, builtin_agents, load_agents, parse_agent};
pub use run::{SubagentError, SubagentHost, SubagentResult, SubagentTask};

#[cfg(test)]
mod tests;
