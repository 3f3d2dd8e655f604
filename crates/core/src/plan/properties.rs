//! Property tests: for random keys (one to three columns, duplicates, NULLs), the boundary
//! query's selection simulated in Rust, then the plan's predicates evaluated with SQL's
//! three-valued logic, every row lands in exactly one partition: no overlap, no gap. Rows
//! outside the observed range (inserted after the analysis) are checked too.

use std::cmp::Ordering;

use proptest::prelude::*;

use super::condition::{KeyOrder, NullOrder};
use super::key_value::KeyValue;
use super::partition_plan::{partitions_from_boundaries, BoundaryRow};

/// The platform's total order on key tuples: lexicographic, NULL first or last per column.
fn tuple_cmp(a: &[KeyValue], b: &[KeyValue], nulls: NullOrder) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => match nulls {
                NullOrder::First => Ordering::Less,
                NullOrder::Last => Ordering::Greater,
            },
            (false, true) => match nulls {
                NullOrder::First => Ordering::Greater,
                NullOrder::Last => Ordering::Less,
            },
            (false, false) => x.sql_cmp(y).expect("same kinds"),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// What `sql/boundary.sql` returns: rows numbered in key order, the first row of each bucket
/// (`((r - 1) * buckets) % total < buckets`) and the last row, for r <= total (the catalog's
/// possibly wrong row count).
fn simulate_boundary_query(
    rows: &[Vec<KeyValue>],
    buckets: u64,
    total: u64,
    nulls: NullOrder,
) -> Vec<BoundaryRow> {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| tuple_cmp(a, b, nulls));
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, values)| (i as u64 + 1, values))
        .filter(|(r, _)| *r <= total && (((r - 1) * buckets) % total < buckets || *r == total))
        .map(|(row_number, values)| BoundaryRow { row_number, values })
        .collect()
}

fn value(kind: u8, raw: Option<u8>) -> KeyValue {
    match raw {
        None => KeyValue::Null,
        Some(v) if kind == 0 => KeyValue::Int(i64::from(v % 12) - 3),
        // Text with shared prefixes so byte order and prefixes matter.
        Some(v) => {
            KeyValue::Text(["", "a", "ab", "abc", "b", "ba", "z"][usize::from(v % 7)].into())
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    kinds: Vec<u8>,
    nullable: Vec<bool>,
    rows: Vec<Vec<KeyValue>>,
    extra_rows: Vec<Vec<KeyValue>>,
    buckets: u64,
    /// How far the catalog's row count is off (it is an estimate on most platforms).
    total_delta: i64,
    nulls: NullOrder,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3, any::<bool>())
        .prop_flat_map(|(width, nulls_last)| {
            let kinds = proptest::collection::vec(0u8..2, width);
            let nullable = proptest::collection::vec(any::<bool>(), width);
            (kinds, nullable, Just(nulls_last))
        })
        .prop_flat_map(|(kinds, nullable, nulls_last)| {
            let width = kinds.len();
            let cell = |nullable: bool| {
                if nullable {
                    proptest::option::weighted(0.8, any::<u8>()).boxed()
                } else {
                    any::<u8>().prop_map(Some).boxed()
                }
            };
            let row = nullable.iter().map(|n| cell(*n)).collect::<Vec<_>>();
            let rows = proptest::collection::vec(row.clone(), 0..60);
            let extra = proptest::collection::vec(row, 0..10);
            (
                Just(kinds),
                Just(nullable),
                rows,
                extra,
                1u64..12,
                -5i64..5,
                Just(nulls_last),
                Just(width),
            )
        })
        .prop_map(
            |(kinds, nullable, rows, extra, buckets, total_delta, nulls_last, _)| {
                let typed = |rows: Vec<Vec<Option<u8>>>| -> Vec<Vec<KeyValue>> {
                    rows.into_iter()
                        .map(|r| {
                            r.into_iter()
                                .zip(&kinds)
                                .map(|(v, k)| value(*k, v))
                                .collect()
                        })
                        .collect()
                };
                Case {
                    rows: typed(rows),
                    extra_rows: typed(extra),
                    kinds: kinds.clone(),
                    nullable,
                    buckets,
                    total_delta,
                    nulls: if nulls_last {
                        NullOrder::Last
                    } else {
                        NullOrder::First
                    },
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_row_is_in_exactly_one_partition(case in case()) {
        let total = (case.rows.len() as i64 + case.total_delta).max(1) as u64;
        let boundaries = simulate_boundary_query(&case.rows, case.buckets, total, case.nulls);
        let partitions = partitions_from_boundaries(&boundaries, total);
        let keys: Vec<KeyOrder> = case
            .nullable
            .iter()
            .map(|n| KeyOrder { nulls: case.nulls, nullable: *n })
            .collect();
        let conditions: Vec<_> = partitions.iter().map(|p| p.condition(&keys)).collect();
        prop_assert_eq!(case.kinds.len(), keys.len());
        for row in case.rows.iter().chain(&case.extra_rows) {
            let hits = conditions
                .iter()
                .filter(|c| c.eval(row) == Some(true))
                .count();
            prop_assert_eq!(hits, 1, "row {:?} in {} partitions of {:#?}", row, hits, partitions);
        }
        // Every boundary value itself (the duplicates most likely to fall between two ranges).
        for b in &boundaries {
            let hits = conditions.iter().filter(|c| c.eval(&b.values) == Some(true)).count();
            prop_assert_eq!(hits, 1, "boundary {:?}", b.values);
        }
    }

    #[test]
    fn partitions_are_numbered_in_order(case in case()) {
        let total = (case.rows.len() as u64).max(1);
        let boundaries = simulate_boundary_query(&case.rows, case.buckets, total, case.nulls);
        let partitions = partitions_from_boundaries(&boundaries, total);
        for (i, p) in partitions.iter().enumerate() {
            prop_assert_eq!(p.index as usize, i);
        }
        if !boundaries.is_empty() {
            prop_assert!(partitions.first().is_some_and(|p| p.lower.is_none()));
            prop_assert!(partitions.last().is_some_and(|p| p.upper.is_none()));
        }
    }
}
