//! From boundary rows to partitions.
//!
//! The boundary query (see `Dialect::boundary_query`) numbers the rows in key order and returns
//! the first row of each of N equal buckets plus the last row. Those key tuples are the cut
//! points `c1 <= c2 <= ... <= cm` (in the source's own order, which is the order the rows come
//! back in). Equal neighbours are merged, so a skewed key gives fewer partitions, never an
//! empty or overlapping one. The partitions are:
//!
//! ```text
//! 0        key <  c1                 (open lower edge: rows inserted below the observed range)
//! 1        c1 <= key < c2
//! ...
//! m-1      c(m-1) <= key <= cm       (the last interior bucket includes its upper cut)
//! m        key >  cm                 (open upper edge: rows above the observed range)
//! ```
//!
//! With a single distinct cut the one interior partition is `c1 <= key <= c1`. NULL keys sort
//! where the platform sorts them (first or last), so they fall in exactly one of these ranges,
//! usually an edge. A table without a partition key, or an empty table, is one partition without
//! a predicate.

use serde::{Deserialize, Serialize};

use crate::key_range::condition::Bound;
use crate::key_range::key_value::KeyValue;

pub use crate::key_range::partition::Partition;

/// One row of the boundary query: the row's number in key order and its key tuple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryRow {
    pub row_number: u64,
    pub values: Vec<KeyValue>,
}

/// Builds the partitions from the boundary rows (in the order the query returned them).
/// `total_rows` is the row count the boundary query was built with.
pub fn partitions_from_boundaries(rows: &[BoundaryRow], total_rows: u64) -> Vec<Partition> {
    let mut cuts: Vec<&BoundaryRow> = Vec::new();
    for row in rows {
        if cuts.last().is_none_or(|last| last.values != row.values) {
            cuts.push(row);
        }
    }
    let Some(first) = cuts.first() else {
        return vec![Partition::whole_table(total_rows)];
    };
    let last = cuts[cuts.len() - 1];
    // The last row (row number = total rows) is returned when the estimate was not too high.
    let last_row_number = rows.iter().map(|r| r.row_number).max().unwrap_or(0);

    let bound = |row: &BoundaryRow, inclusive: bool| Bound {
        values: row.values.clone(),
        inclusive,
    };
    let mut partitions = vec![Partition {
        index: 0,
        lower: None,
        upper: Some(bound(first, false)),
        estimated_rows: 0,
    }];
    if cuts.len() == 1 {
        partitions.push(Partition {
            index: 1,
            lower: Some(bound(first, true)),
            upper: Some(bound(first, true)),
            estimated_rows: last_row_number.saturating_sub(first.row_number) + 1,
        });
    } else {
        for (j, pair) in cuts.windows(2).enumerate() {
            let is_last = j + 2 == cuts.len();
            let estimated_rows = if is_last {
                last_row_number.saturating_sub(pair[0].row_number) + 1
            } else {
                pair[1].row_number.saturating_sub(pair[0].row_number)
            };
            partitions.push(Partition {
                index: (j + 1) as u32,
                lower: Some(bound(pair[0], true)),
                upper: Some(bound(pair[1], is_last)),
                estimated_rows,
            });
        }
    }
    partitions.push(Partition {
        index: partitions.len() as u32,
        lower: Some(bound(last, false)),
        upper: None,
        estimated_rows: 0,
    });
    partitions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::condition::{KeyOrder, NullOrder};

    fn row(n: u64, v: i64) -> BoundaryRow {
        BoundaryRow {
            row_number: n,
            values: vec![KeyValue::Int(v)],
        }
    }

    #[test]
    fn interior_buckets_plus_two_edges() {
        let rows = vec![row(1, 1), row(4, 40), row(7, 70), row(10, 100)];
        let parts = partitions_from_boundaries(&rows, 10);
        assert_eq!(parts.len(), 5);
        assert_eq!(
            parts.iter().map(|p| p.estimated_rows).collect::<Vec<_>>(),
            vec![0, 3, 3, 4, 0]
        );
        insta::assert_json_snapshot!(parts);
    }

    #[test]
    fn equal_cuts_merge_instead_of_making_empty_partitions() {
        let rows = vec![row(1, 5), row(3, 5), row(5, 5)];
        let parts = partitions_from_boundaries(&rows, 5);
        assert_eq!(parts.len(), 3);
        let keys = [KeyOrder {
            nulls: NullOrder::Last,
            nullable: false,
        }];
        let hits: Vec<_> = parts
            .iter()
            .map(|p| p.condition(&keys).eval(&[KeyValue::Int(5)]))
            .collect();
        assert_eq!(hits, vec![Some(false), Some(true), Some(false)]);
    }

    #[test]
    fn no_boundaries_is_one_unbounded_partition() {
        assert_eq!(
            partitions_from_boundaries(&[], 0),
            vec![Partition::whole_table(0)]
        );
    }
}
