//! End-to-end tests: the real `claude` binary, a temporary HOME and config
//! directory, and loopback servers that speak the real wire formats.

mod agent;
mod bedrock;
mod common;
mod config;
mod cost;
mod doctor;
mod dry_run;
mod session;
