//! The shared vocabulary of partitions: typed key values, range predicates over key tuples,
//! and a partition (a range of key tuples).
//!
//! A leaf: the planner builds these values and the source dialects render them as SQL, so
//! they live below both `plan` and `source` (which then depend one way: `plan` uses the
//! dialects to build its probe queries, never the reverse).
//!
//! - [`key_value`]: typed key values, the only form bounds take (JSON in PARTITION_METADATA and
//!   task payloads; the worker renders SQL from them, never runs SQL text from the queue);
//! - [`condition`]: lexicographic, NULL-aware range predicates as a tree (evaluated in Rust by
//!   the property tests, rendered to SQL by the dialects);
//! - [`partition`]: one partition's range and its predicate.

pub mod condition;
pub mod key_value;
pub mod partition;
