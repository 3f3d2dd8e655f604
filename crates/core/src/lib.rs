//! All domain logic of the migration orchestrator. Each concern is one module; the binaries
//! (`orchestrator`, `worker`) are thin shells over this crate.
//!
//! Dependencies point one way: binaries -> this crate -> `config-schema`.

pub mod analyze;
pub mod daemon;
pub mod decimal;
pub mod key_range;
pub mod lease;
pub mod load;
pub mod metadata;
pub mod metadata_names;
pub mod plan;
pub mod queue;
pub mod snowflake;
pub mod source;
pub mod sql_executor;
pub mod sql_script;
pub mod validation;
pub mod workflow;
