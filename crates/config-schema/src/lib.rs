//! Configuration model: the data-migration workflow JSON, the data-validation JSON, the worker
//! TOML and Snowflake connection profiles. Raw serde structs mirror the files; `validate`
//! functions turn them into checked domain types and collect every problem at once.
//!
//! This crate does no I/O: callers read files and environment variables and pass text in.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod connection_profile;
mod document;
pub mod identifier;
pub mod json_schema;
pub mod metadata_names;
pub mod platform;
pub mod problem;
mod schema_check;
pub mod secret;
pub mod snowflake_type;
pub mod validation;
pub mod where_clause;
pub mod worker;
pub mod workflow;

pub use document::ConfigError;
pub use platform::SourcePlatform;
pub use problem::{Checked, Note, Problem, Problems};
pub use secret::{Secret, SecretError, SecretSource};
