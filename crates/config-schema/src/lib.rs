//! Configuration model: the data-migration workflow JSON, the data-validation JSON, the worker
//! TOML and Snowflake connection profiles. Raw serde structs mirror the files; `validate`
//! functions turn them into checked domain types and collect every problem at once.
//!
//! This crate does no I/O: callers read files and environment variables and pass text in.

pub mod platform;

pub use platform::SourcePlatform;
