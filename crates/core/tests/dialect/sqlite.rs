//! The SQLite backend of the dialect suite, through ODBC (driver `SQLite3`) on a temporary
//! database file: the boundary query is read through arrow-odbc into typed boundaries, as the
//! worker reads it. Only here: the catalog of SQLite's declared types and the Arrow types of
//! the plan read back through arrow-odbc.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_odbc::odbc_api::buffers::TextRowSet;
use arrow_odbc::odbc_api::{Connection, ConnectionOptions, Cursor, Environment, IntoParameter};
use arrow_odbc::OdbcReaderBuilder;
use config_schema::SourcePlatform;
use migration_core::plan::boundary_rows::boundary_rows_from_batch;
use migration_core::plan::{Analysis, Probes};
use migration_core::source::catalog::{CatalogQuery, TableRef, TableStats};
use migration_core::source::dialect::{source_column, CatalogColumnRow, Dialect};

use crate::suite::{
    boundary_query, dialect_test_suite, extraction_query, plan, Backend, Catalog, LateRows,
};

const PLATFORM: SourcePlatform = SourcePlatform::Sqlite;

dialect_test_suite!(Database);

#[test]
fn catalog_queries_report_columns_keys_and_size() {
    let mut db = Database::with_keyed_table();
    let table = TableRef::parse("main", "main", "KEYED");
    let (columns, pk, stats) = db.catalog(&table);
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

#[test]
fn extracted_values_have_the_planned_arrow_types() {
    let mut db = Database::with_keyed_table();
    let plan = plan(&mut db, &["id"], None);
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
    let sql = extraction_query(&plan, 1, Some("id = 3"));
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

fn environment() -> &'static Environment {
    static ENV: std::sync::OnceLock<Environment> = std::sync::OnceLock::new();
    ENV.get_or_init(|| Environment::new().expect("ODBC environment (is unixODBC installed?)"))
}

/// A fresh database file and a connection to it.
pub struct Database {
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

    fn run_catalog(&self, query: &CatalogQuery) -> Vec<Vec<Option<String>>> {
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

impl Backend for Database {
    const PLATFORM: SourcePlatform = PLATFORM;
    const PARTITION_KEYS: &'static [&'static [&'static str]] = &[
        &["k"],
        &["t"],
        &["d"],
        &["ts"],
        &["amount"],
        &["t", "k"],
        &["d", "t", "k"],
    ];
    const SAME_DATA_SESSION_CHANGES: &'static [&'static str] = &[];
    const CHANGE_ROWS: &'static str =
        "UPDATE keyed SET t = 'longer text than before' WHERE id = 510";
    const CHANGED_IDS: &'static [i64] = &[510];

    fn with_keyed_table() -> Database {
        let mut db = Database::new();
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
        db
    }

    fn execute(&mut self, sql: &str) {
        self.connection
            .execute(sql, (), None)
            .unwrap_or_else(|e| panic!("statement failed: {e}\n{sql}"));
    }

    fn table(&self, name: &str) -> TableRef {
        TableRef::parse("main", "main", name)
    }

    fn catalog(&mut self, table: &TableRef) -> Catalog {
        let d = Dialect::new(PLATFORM);
        let columns = self
            .run_catalog(&d.columns_query(table))
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
        let pk = self
            .run_catalog(&d.primary_key_query(table))
            .into_iter()
            .map(|r| r[0].clone().expect("name"))
            .collect();
        let stats = &self.run_catalog(&d.stats_query(table))[0];
        (
            columns,
            pk,
            TableStats {
                row_count: int(&stats[0]) as u64,
                size_bytes: int(&stats[1]) as u64,
            },
        )
    }

    /// The boundary rows only, read through arrow-odbc with the key types the dialect decides.
    fn probes(&mut self, analysis: &Analysis) -> Probes {
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
        for batch in self.query_arrow(boundary_query(analysis), Arc::new(Schema::new(fields))) {
            rows.extend(
                boundary_rows_from_batch(&batch, &analysis.keys).expect("typed boundaries"),
            );
        }
        Probes {
            boundary_rows: rows,
            ..Probes::default()
        }
    }

    fn ids(&mut self, sql: &str) -> Vec<i64> {
        self.query_text(sql, &[])
            .iter()
            .map(|r| int(&r[0]))
            .collect()
    }

    fn checksum(&mut self, sql: &str) -> (i64, Vec<Option<String>>) {
        let mut row = self.query_text(sql, &[]).remove(0);
        let rows = int(&row.remove(0));
        (rows, row)
    }

    fn late_rows() -> LateRows {
        LateRows {
            where_clause: Some("v <> 'x7'"),
            insert: "INSERT INTO keyed (id, k, t, v) VALUES
                (1001, -5, 'a', 'new'), (1002, 10000, NULL, 'new'), (1003, NULL, NULL, 'new'),
                (1004, NULL, 'zzz', 'new')",
            expected: (1..=1004).filter(|&i| i != 7).collect(),
        }
    }

    fn assert_late_row_edges(ids: &[Vec<i64>]) {
        // NULL sorts first in SQLite: NULL keys below the observed range go to the lower edge; a
        // key above the range goes to the upper edge.
        assert!(
            ids.last().expect("edge").contains(&1002),
            "upper edge {:?}",
            ids.last()
        );
    }
}
