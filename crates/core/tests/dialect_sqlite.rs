//! The SQLite dialect run for real through ODBC (driver `SQLite3` from Debian's libsqliteodbc)
//! on a temporary database file: catalog queries, the boundary query read through arrow-odbc
//! into typed boundaries, extraction queries of every partition (each row exactly once, also
//! rows inserted after planning and NULL keys), the checksum, and the Arrow types of the plan
//! read back through arrow-odbc.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_odbc::odbc_api::buffers::TextRowSet;
use arrow_odbc::odbc_api::{Connection, ConnectionOptions, Cursor, Environment, IntoParameter};
use arrow_odbc::OdbcReaderBuilder;
use config_schema::SourcePlatform;
use migration_core::plan::boundary_rows::boundary_rows_from_batch;
use migration_core::plan::{
    build_table_plan, prepare_analysis, PartitionSize, PlanInput, Probes, TableOptions, TablePlan,
};
use migration_core::source::catalog::{CatalogQuery, SourceColumn, TableRef, TableStats};
use migration_core::source::dialect::{
    source_column, CatalogColumnRow, Dialect, ExtractionRequest,
};

const PLATFORM: SourcePlatform = SourcePlatform::Sqlite;

fn environment() -> &'static Environment {
    static ENV: std::sync::OnceLock<Environment> = std::sync::OnceLock::new();
    ENV.get_or_init(|| Environment::new().expect("ODBC environment (is unixODBC installed?)"))
}

/// A fresh database file and a connection to it.
struct Database {
    _dir: tempfile::TempDir,
    connection: Connection<'static>,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("source.db");
        let connection = environment()
            .connect_with_connection_string(
                &format!("Driver={{SQLite3}};Database={};", path.display()),
                ConnectionOptions::default(),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open SQLite through the ODBC driver `SQLite3` ({e}); install it with: apt-get install libsqliteodbc unixodbc"
                )
            });
        Database {
            _dir: dir,
            connection,
        }
    }

    fn execute(&self, sql: &str) {
        self.connection
            .execute(sql, (), None)
            .unwrap_or_else(|e| panic!("statement failed: {e}\n{sql}"));
    }

    /// Every value as text (NULL as None).
    fn query_text(&self, sql: &str, params: &[String]) -> Vec<Vec<Option<String>>> {
        let params: Vec<_> = params.iter().map(|p| p.as_str().into_parameter()).collect();
        let mut cursor = self
            .connection
            .execute(sql, &params[..], None)
            .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
            .expect("a result set");
        let buffer = TextRowSet::for_cursor(500, &mut cursor, Some(4096)).expect("buffer");
        let mut block = cursor.bind_buffer(buffer).expect("bind");
        let mut rows = Vec::new();
        while let Some(batch) = block.fetch().expect("fetch") {
            for r in 0..batch.num_rows() {
                rows.push(
                    (0..batch.num_cols())
                        .map(|c| batch.at_as_str(c, r).expect("utf-8").map(str::to_string))
                        .collect(),
                );
            }
        }
        rows
    }

    fn catalog(&self, query: &CatalogQuery) -> Vec<Vec<Option<String>>> {
        self.query_text(&query.sql, &query.params)
    }

    /// Every batch of a query read through arrow-odbc with an explicit schema.
    fn query_arrow(&self, sql: &str, schema: Arc<Schema>) -> Vec<arrow::array::RecordBatch> {
        let cursor = self
            .connection
            .execute(sql, (), None)
            .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
            .expect("a result set");
        let reader = OdbcReaderBuilder::new()
            .with_schema(schema)
            .with_max_text_size(4096)
            .with_max_binary_size(4096)
            .build(cursor)
            .unwrap_or_else(|e| panic!("arrow-odbc reader: {e}\n{sql}"));
        reader
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("arrow-odbc read: {e}\n{sql}"))
    }
}

fn int(v: &Option<String>) -> i64 {
    v.as_deref().expect("not null").parse().expect("integer")
}

fn catalog(db: &Database, table: &TableRef) -> (Vec<SourceColumn>, Vec<String>, TableStats) {
    let d = Dialect::new(PLATFORM);
    let columns = db
        .catalog(&d.columns_query(table))
        .into_iter()
        .map(|r| {
            source_column(
                PLATFORM,
                CatalogColumnRow {
                    column_name: r[0].clone().expect("name"),
                    data_type: r[1].clone().unwrap_or_default(),
                    numeric_precision: None,
                    numeric_scale: None,
                    char_length: None,
                    is_nullable: r[5].clone().expect("nullability"),
                    ordinal_position: int(&r[6]),
                },
            )
        })
        .collect();
    let pk = db
        .catalog(&d.primary_key_query(table))
        .into_iter()
        .map(|r| r[0].clone().expect("name"))
        .collect();
    let stats = &db.catalog(&d.stats_query(table))[0];
    (
        columns,
        pk,
        TableStats {
            row_count: int(&stats[0]) as u64,
            size_bytes: int(&stats[1]) as u64,
        },
    )
}

fn keyed_table(db: &Database) {
    db.execute(
        "CREATE TABLE keyed (
            id INTEGER PRIMARY KEY,
            k INTEGER,
            t TEXT,
            d DATE,
            ts DATETIME,
            amount DECIMAL(10,2),
            r REAL,
            b BLOB,
            flag BOOLEAN,
            v VARCHAR(20) NOT NULL
        )",
    );
    db.execute(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
         INSERT INTO keyed
         SELECT i,
                CASE WHEN i % 17 = 0 THEN NULL ELSE i % 50 END,
                CASE WHEN i % 13 = 0 THEN NULL ELSE 'v' || (i % 97) END,
                CASE WHEN i % 11 = 0 THEN NULL ELSE date('2024-01-01', '+' || (i % 200) || ' days') END,
                datetime('2024-01-01 00:00:00', '+' || (i % 300) || ' minutes'),
                (i % 123) / 8.0,
                i / 3.0,
                CAST('b' || i AS BLOB),
                i % 2,
                'x' || i
         FROM s",
    );
}

#[test]
fn catalog_queries_report_columns_keys_and_size() {
    let db = Database::new();
    keyed_table(&db);
    let table = TableRef::parse("main", "main", "KEYED");
    let (columns, pk, stats) = catalog(&db, &table);
    let summary: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "{} {} p={:?} s={:?} len={:?} null={} #{}",
                c.name, c.data_type, c.precision, c.scale, c.char_length, c.nullable, c.ordinal
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "id integer p=None s=None len=None null=true #1",
            "k integer p=None s=None len=None null=true #2",
            "t text p=None s=None len=None null=true #3",
            "d date p=None s=None len=None null=true #4",
            "ts datetime p=None s=None len=None null=true #5",
            "amount decimal p=Some(10) s=Some(2) len=None null=true #6",
            "r real p=None s=None len=None null=true #7",
            "b blob p=None s=None len=None null=true #8",
            "flag boolean p=None s=None len=None null=true #9",
            "v varchar p=None s=None len=Some(20) null=false #10",
        ]
    );
    assert_eq!(pk, vec!["id".to_string()]);
    assert_eq!(stats.row_count, 1000);
    assert!(stats.size_bytes > 0);
}

fn plan(db: &Database, keys: &[&str], where_clause: Option<&str>) -> TablePlan {
    let table = TableRef::parse("main", "main", "keyed");
    let (columns, primary_key, stats) = catalog(db, &table);
    let input = PlanInput {
        platform: PLATFORM,
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
    let analysis = prepare_analysis(&input).expect("analysis");
    let sql = analysis.boundary_query.expect("several partitions");
    let d = Dialect::new(PLATFORM);
    let mut fields = vec![Field::new("row_num", DataType::Int64, false)];
    fields.extend(
        analysis
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| Field::new(format!("key_{i}"), d.key_arrow_type(k), true)),
    );
    let mut rows = Vec::new();
    for batch in db.query_arrow(&sql, Arc::new(Schema::new(fields))) {
        rows.extend(boundary_rows_from_batch(&batch, &analysis.keys).expect("typed boundaries"));
    }
    assert!(rows.len() >= 2, "boundary rows {rows:?}");
    build_table_plan(
        &input,
        &Probes {
            boundary_rows: rows,
            ..Probes::default()
        },
    )
    .expect("plan")
}

fn extract_ids(db: &Database, plan: &TablePlan) -> Vec<Vec<i64>> {
    let d = Dialect::new(PLATFORM);
    let columns = plan.source_columns();
    plan.partitions
        .iter()
        .map(|p| {
            let sql = d
                .extraction_query(&ExtractionRequest {
                    table: &plan.table,
                    columns: &columns,
                    keys: &plan.keys,
                    partition: p,
                    where_clause: plan.where_clause.as_deref(),
                    watermark: None,
                })
                .expect("extraction query");
            db.query_text(&sql, &[])
                .iter()
                .map(|r| int(&r[0]))
                .collect()
        })
        .collect()
}

fn assert_exactly_once(per_partition: &[Vec<i64>], expected: impl Iterator<Item = i64>) {
    let mut all: Vec<i64> = per_partition.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        expected.collect::<Vec<_>>(),
        "rows per partition: {:?}",
        per_partition.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

#[test]
fn partitions_extract_every_row_exactly_once() {
    let db = Database::new();
    keyed_table(&db);
    for keys in [
        &["k"][..],
        &["t"],
        &["d"],
        &["ts"],
        &["amount"],
        &["t", "k"],
        &["d", "t", "k"],
    ] {
        let plan = plan(&db, keys, None);
        let ids = extract_ids(&db, &plan);
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

#[test]
fn rows_added_after_planning_and_null_keys_land_in_one_partition() {
    let db = Database::new();
    keyed_table(&db);
    let plan = plan(&db, &["k", "t"], Some("v <> 'x7'"));
    db.execute(
        "INSERT INTO keyed (id, k, t, v) VALUES
            (1001, -5, 'a', 'new'), (1002, 10000, NULL, 'new'), (1003, NULL, NULL, 'new'),
            (1004, NULL, 'zzz', 'new')",
    );
    let ids = extract_ids(&db, &plan);
    assert_exactly_once(&ids, (1..=1004).filter(|&i| i != 7));
    // NULL sorts first in SQLite: NULL keys below the observed range go to the lower edge; a key
    // above the range goes to the upper edge.
    assert!(
        ids.last().expect("edge").contains(&1002),
        "upper edge {:?}",
        ids.last()
    );
}

#[test]
fn checksum_changes_only_for_the_partition_that_changed() {
    let db = Database::new();
    keyed_table(&db);
    let plan = plan(&db, &["id"], None);
    let d = Dialect::new(PLATFORM);
    let columns = plan.source_columns();
    let checksums = || -> Vec<Vec<Option<String>>> {
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
                db.query_text(&sql, &[]).remove(0)
            })
            .collect()
    };
    let before = checksums();
    assert_eq!(before.iter().map(|c| int(&c[0])).sum::<i64>(), 1000);
    db.execute("UPDATE keyed SET t = 'longer text than before' WHERE id = 510");
    let after = checksums();
    let changed: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    assert_eq!(changed.len(), 1, "changed partitions {changed:?}");
}

#[test]
fn extracted_values_have_the_planned_arrow_types() {
    let db = Database::new();
    keyed_table(&db);
    let plan = plan(&db, &["id"], None);
    let schema = plan.arrow_schema();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect();
    assert_eq!(
        types,
        vec![
            "ID Int64",
            "K Int64",
            "T Utf8",
            "D Date32",
            "TS Timestamp(µs)",
            "AMOUNT Utf8",
            "R Float64",
            "B Binary",
            "FLAG Boolean",
            "V Utf8",
        ]
    );
    let d = Dialect::new(PLATFORM);
    let columns = plan.source_columns();
    let sql = d
        .extraction_query(&ExtractionRequest {
            table: &plan.table,
            columns: &columns,
            keys: &plan.keys,
            partition: &plan.partitions[1],
            where_clause: Some("id = 3"),
            watermark: None,
        })
        .expect("query");
    let batches = db.query_arrow(&sql, schema);
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 1);
    let date = batch
        .column(3)
        .as_primitive::<arrow::datatypes::Date32Type>()
        .value(0);
    // 2024-01-01 + 3 days = 19726 days after 1970-01-01.
    assert_eq!(date, 19_726);
    let ts = batch
        .column(4)
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
        .value(0);
    assert_eq!(ts, (19_723 * 86_400 + 3 * 60) * 1_000_000);
    assert_eq!(batch.column(5).as_string::<i32>().value(0), "0.375");
    assert!(batch.column(8).as_boolean().value(0));
    assert!(!batch.column(0).is_null(0));
}
