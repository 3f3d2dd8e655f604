//! The tests every source backend runs, written once against [`Backend`]: what a backend must
//! provide (run SQL, read its catalog, run the probes and partition queries) and the facts that
//! differ per backend (which key columns to plan on, which rows change). The tests drive the
//! same sequence as the analyze and extract tasks: catalog, analysis, probes, plan, one query
//! per partition.

use config_schema::SourcePlatform;
use migration_core::plan::{
    build_table_plan, prepare_analysis, Analysis, KeyValue, PartitionSize, PlanError, PlanInput,
    Probes, TableOptions, TablePlan,
};
use migration_core::source::catalog::{SourceColumn, TableRef, TableStats};
use migration_core::source::dialect::{Dialect, ExtractionRequest};

/// What the catalog queries report about a table: its columns, its primary key, its size.
pub type Catalog = (Vec<SourceColumn>, Vec<String>, TableStats);

/// Rows inserted after planning, which the plan's edge partitions must catch.
#[derive(Debug, Clone)]
pub struct LateRows {
    /// The table's WHERE clause, planned with.
    pub where_clause: Option<&'static str>,
    /// Inserts rows with ids above 1000, keys below, above and outside (NULL) the observed range.
    pub insert: &'static str,
    /// The ids every partition together must return, in order.
    pub expected: Vec<i64>,
}

/// One source backend under test. A value is one test's database (or schema), dropped at the
/// end of the test.
pub trait Backend: Sized {
    const PLATFORM: SourcePlatform;
    /// Key column sets the partition test plans on: every kind the backend partitions by.
    const PARTITION_KEYS: &'static [&'static [&'static str]];
    /// Statements that change the session but not the data: the checksums must not move.
    const SAME_DATA_SESSION_CHANGES: &'static [&'static str];
    /// Updates rows [`Self::CHANGED_IDS`] of `keyed`, which are neighbours (one partition).
    const CHANGE_ROWS: &'static str;
    const CHANGED_IDS: &'static [i64];

    /// A fresh database with the table `keyed`: ids 1..=1000 and keys full of duplicates and
    /// NULLs.
    fn with_keyed_table() -> Self;
    /// Runs statements; panics naming the statement when they fail.
    fn execute(&mut self, sql: &str);
    /// A table of this test's database, named as a user writes it in a workflow.
    fn table(&self, name: &str) -> TableRef;
    /// Runs the dialect's catalog queries for `table`.
    fn catalog(&mut self, table: &TableRef) -> Catalog;
    /// Runs the analysis's probe queries (boundaries, and whichever others the backend needs).
    fn probes(&mut self, analysis: &Analysis) -> Probes;
    /// Runs an extraction query; the `id` of each row.
    fn ids(&mut self, sql: &str) -> Vec<i64>;
    /// Runs a checksum query: its row count and the rest of its one row as text.
    fn checksum(&mut self, sql: &str) -> (i64, Vec<Option<String>>);
    /// The late rows of [`rows_added_after_planning_and_null_keys_land_in_one_partition`].
    fn late_rows() -> LateRows;
    /// Where the backend's NULL ordering puts the late rows (`ids` per partition).
    fn assert_late_row_edges(ids: &[Vec<i64>]);
}

/// Instantiates every test of the suite for a backend, in the module that calls it.
macro_rules! dialect_test_suite {
    ($backend:ty) => {
        #[test]
        fn partitions_extract_every_row_exactly_once() {
            $crate::suite::partitions_extract_every_row_exactly_once::<$backend>();
        }

        #[test]
        fn rows_added_after_planning_and_null_keys_land_in_one_partition() {
            $crate::suite::rows_added_after_planning_and_null_keys_land_in_one_partition::<
                $backend,
            >();
        }

        #[test]
        fn where_clause_filters_every_partition() {
            $crate::suite::where_clause_filters_every_partition::<$backend>();
        }

        #[test]
        fn checksum_changes_only_for_the_partition_that_changed() {
            $crate::suite::checksum_changes_only_for_the_partition_that_changed::<$backend>();
        }
    };
}
pub(crate) use dialect_test_suite;

pub fn partitions_extract_every_row_exactly_once<B: Backend>() {
    let mut db = B::with_keyed_table();
    for keys in B::PARTITION_KEYS {
        let plan = plan(&mut db, keys, None);
        let ids = extract_ids(&mut db, &plan);
        assert_exactly_once(&ids, 1..=1000);
        let interior = ids[1..ids.len() - 1]
            .iter()
            .filter(|p| !p.is_empty())
            .count();
        assert!(
            interior >= 4,
            "keys {keys:?}: only {interior} non-empty interior partitions"
        );
    }
}

pub fn rows_added_after_planning_and_null_keys_land_in_one_partition<B: Backend>() {
    let mut db = B::with_keyed_table();
    let late = B::late_rows();
    let plan = plan(&mut db, &["k", "t"], late.where_clause);
    db.execute(late.insert);
    let ids = extract_ids(&mut db, &plan);
    assert_exactly_once(&ids, late.expected.into_iter());
    B::assert_late_row_edges(&ids);
}

pub fn where_clause_filters_every_partition<B: Backend>() {
    let mut db = B::with_keyed_table();
    let plan = plan(&mut db, &["k"], Some("id % 2 = 0"));
    let ids = extract_ids(&mut db, &plan);
    assert_exactly_once(&ids, (2..=1000).step_by(2));
}

pub fn checksum_changes_only_for_the_partition_that_changed<B: Backend>() {
    let mut db = B::with_keyed_table();
    let plan = plan(&mut db, &["id"], None);
    let before = checksums(&mut db, &plan);
    assert_eq!(before.iter().map(|c| c.0).sum::<i64>(), 1000);
    for statement in B::SAME_DATA_SESSION_CHANGES {
        db.execute(statement);
        assert_eq!(checksums(&mut db, &plan), before, "after `{statement}`");
    }
    db.execute(B::CHANGE_ROWS);
    let after = checksums(&mut db, &plan);
    let changed: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    assert_eq!(changed.len(), 1, "changed partitions {changed:?}");
    let d = Dialect::new(B::PLATFORM);
    let p = &plan.partitions[changed[0]];
    let in_range = |id: i64| {
        p.condition(&d.key_orders(&plan.keys))
            .eval(&[KeyValue::Int(id)])
            == Some(true)
    };
    assert!(
        B::CHANGED_IDS.iter().all(|&id| in_range(id)),
        "partition {} holds {:?}",
        changed[0],
        B::CHANGED_IDS
    );
}

/// The plan of `keyed` partitioned by `keys`, about 90 rows per partition.
pub fn plan<B: Backend>(db: &mut B, keys: &[&str], where_clause: Option<&str>) -> TablePlan {
    try_plan(db, keys, where_clause).expect("plan")
}

/// The analyze task's sequence: catalog, analysis, the probe queries, the plan.
pub fn try_plan<B: Backend>(
    db: &mut B,
    keys: &[&str],
    where_clause: Option<&str>,
) -> Result<TablePlan, PlanError> {
    let table = db.table("keyed");
    let (columns, primary_key, stats) = db.catalog(&table);
    let input = PlanInput {
        platform: B::PLATFORM,
        table,
        columns,
        primary_key,
        stats,
        options: TableOptions {
            partition_columns: keys.iter().map(|k| k.to_string()).collect(),
            partition_size: PartitionSize::MaxRowsPerPartition(90),
            where_clause: where_clause.map(str::to_string),
            ..TableOptions::default()
        },
    };
    let analysis = prepare_analysis(&input)?;
    assert!(
        analysis.partition_count >= 12,
        "{}",
        analysis.partition_count
    );
    let probes = db.probes(&analysis);
    assert!(
        probes.boundary_rows.len() >= 2,
        "boundary rows {:?}",
        probes.boundary_rows
    );
    build_table_plan(&input, &probes)
}

/// The analysis's boundary query (a plan of `keyed` always has several partitions).
pub fn boundary_query(analysis: &Analysis) -> &str {
    analysis
        .boundary_query
        .as_deref()
        .expect("several partitions")
}

/// The extraction query of partition `index` with `where_clause` in place of the plan's.
pub fn extraction_query(plan: &TablePlan, index: usize, where_clause: Option<&str>) -> String {
    let d = Dialect::new(plan.platform);
    let columns = plan.source_columns();
    d.extraction_query(&ExtractionRequest {
        table: &plan.table,
        columns: &columns,
        keys: &plan.keys,
        partition: &plan.partitions[index],
        where_clause,
        watermark: None,
    })
    .expect("extraction query")
}

/// Runs every partition's extraction query; the ids per partition.
pub fn extract_ids<B: Backend>(db: &mut B, plan: &TablePlan) -> Vec<Vec<i64>> {
    (0..plan.partitions.len())
        .map(|index| {
            let sql = extraction_query(plan, index, plan.where_clause.as_deref());
            db.ids(&sql)
        })
        .collect()
}

/// Every partition's checksum row.
fn checksums<B: Backend>(db: &mut B, plan: &TablePlan) -> Vec<(i64, Vec<Option<String>>)> {
    let d = Dialect::new(B::PLATFORM);
    let columns = plan.source_columns();
    plan.partitions
        .iter()
        .map(|p| {
            let sql = d
                .checksum_query(&ExtractionRequest {
                    table: &plan.table,
                    columns: &columns,
                    keys: &plan.keys,
                    partition: p,
                    where_clause: None,
                    watermark: None,
                })
                .expect("checksum query");
            db.checksum(&sql)
        })
        .collect()
}

pub fn assert_exactly_once(per_partition: &[Vec<i64>], expected: impl Iterator<Item = i64>) {
    let mut all: Vec<i64> = per_partition.iter().flatten().copied().collect();
    all.sort_unstable();
    let expected: Vec<i64> = expected.collect();
    assert_eq!(
        all,
        expected,
        "rows per partition: {:?}",
        per_partition.iter().map(Vec::len).collect::<Vec<_>>()
    );
}
