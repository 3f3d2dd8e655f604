//! Partition planning: table analysis results -> partition count -> boundary predicates.
//!
//! - [`partition_size`]: how many partitions (`partitionSize`: auto profiles, MB, rows);
//! - [`key_value`]: typed key values, the only form bounds take (JSON in PARTITION_METADATA and
//!   task payloads; the worker renders SQL from them, never runs SQL text from the queue);
//! - [`condition`]: lexicographic, NULL-aware range predicates as a tree (evaluated in Rust by
//!   the property tests, rendered to SQL by the dialects);
//! - [`partition_plan`]: boundary rows -> interior partitions plus two open edges;
//! - [`boundary_rows`]: the boundary query's Arrow result -> typed rows;
//! - [`table_plan`]: the pure core of the `analyze` task;
//! - [`target_predicate`]: a partition's range over the Snowflake target columns.

pub mod boundary_rows;
pub mod condition;
pub mod key_value;
pub mod partition_plan;
pub mod partition_size;
pub mod table_plan;
pub mod target_predicate;

pub use condition::{Bound, Condition, KeyOrder, NullOrder};
pub use key_value::KeyValue;
pub use partition_plan::{partitions_from_boundaries, BoundaryRow, Partition};
pub use partition_size::{partition_count, ExtractionStrategy, PartitionSize};
pub use table_plan::{
    build_table_plan, prepare_analysis, Analysis, NameMapping, PlanError, PlanInput, PlannedColumn,
    Probes, TableOptions, TablePlan, TypeMapping,
};

#[cfg(test)]
mod properties;
