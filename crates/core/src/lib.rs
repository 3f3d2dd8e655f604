//! All domain logic of the migration orchestrator. Each concern is one module; the binaries
//! (`orchestrator`, `worker`) are thin shells over this crate.
//!
//! Dependencies point one way: binaries -> this crate -> `config-schema`.

pub mod decimal;
pub mod load;
pub mod metadata;
pub mod plan;
pub mod queue;
pub mod snowflake;
pub mod source;
pub mod validation;
pub mod workflow;
