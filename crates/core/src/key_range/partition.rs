//! A partition of a table: one range of key tuples, and the predicate that selects it. The
//! planner produces partitions ([`crate::plan::partition_plan`]); the dialects render their
//! predicates.

use serde::{Deserialize, Serialize};

use super::condition::{Bound, Condition, KeyOrder};

/// One partition of a table: a range of key tuples. `lower`/`upper` absent means open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// Position in the plan, 0-based; the partition number in PARTITION_METADATA and stage paths.
    pub index: u32,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    /// Rows seen in this range by the boundary query (edges: 0); an estimate for progress views.
    pub estimated_rows: u64,
}

impl Partition {
    /// The whole table: used when there is no key or nothing to split.
    pub fn whole_table(estimated_rows: u64) -> Partition {
        Partition {
            index: 0,
            lower: None,
            upper: None,
            estimated_rows,
        }
    }

    /// The predicate selecting this partition's rows.
    pub fn condition(&self, keys: &[KeyOrder]) -> Condition {
        Condition::range(self.lower.as_ref(), self.upper.as_ref(), keys)
    }
}
