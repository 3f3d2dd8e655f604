//! Partition planning: table analysis results -> partition count -> boundary predicates.
//!
//! The planner depends on the source dialects (for its probe queries) and on
//! [`crate::key_range`] (key values, conditions, partitions), never the reverse; the I/O that
//! feeds it is [`crate::analyze`].
//!
//! - [`partition_size`]: how many partitions (`partitionSize`: auto profiles, MB, rows);
//! - [`key_value`], [`condition`]: re-exported from [`crate::key_range`];
//! - [`partition_plan`]: boundary rows -> interior partitions plus two open edges;
//! - [`boundary_rows`]: the boundary query's Arrow result -> typed rows;
//! - [`table_plan`]: the pure core of the `analyze` task;
//! - [`target_predicate`]: a partition's range over the Snowflake target columns.

pub mod boundary_rows;
pub mod partition_plan;
pub mod partition_size;
pub mod table_plan;
pub mod target_predicate;

// The key vocabulary lives in a leaf module (the dialects render it); re-exported so the paths
// `plan::key_value` and `plan::condition` keep working.
pub use crate::key_range::condition::{Bound, Condition, KeyOrder, NullOrder};
pub use crate::key_range::key_value::KeyValue;
pub use crate::key_range::{condition, key_value};
pub use partition_plan::{partitions_from_boundaries, BoundaryRow, Partition};
pub use partition_size::{partition_count, ExtractionStrategy, PartitionSize};
pub use table_plan::{
    build_table_plan, prepare_analysis, Analysis, NameMapping, PlanError, PlanInput, PlannedColumn,
    Probes, TableOptions, TablePlan, TypeMapping,
};

#[cfg(test)]
mod properties;
