//! Conformance suite of the extraction pipeline, run per path: native PostgreSQL (binary COPY),
//! ODBC PostgreSQL (psqlODBC) and ODBC SQLite (SQLite3 driver).
//!
//! Every test creates its own PostgreSQL schema (or SQLite file), extracts through the real
//! pipeline into Parquet files in a temporary "stage" directory, reads the files back with the
//! parquet crate and compares every value with the source.
//!
//! PostgreSQL values are compared through a canonical text form: the source side renders each
//! column in SQL (`::text`, days since 1970, microseconds since 1970, hex for bytea) and the
//! Parquet side renders the Arrow value the same way, so no formatting library on either side
//! can hide a difference.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and the ODBC drivers
//! `PostgreSQL Unicode` and `SQLite3` (Debian: odbc-postgresql, libsqliteodbc).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use test_support::{pg_connect_params, postgres_client as pg_client, sqlite3};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchReader};
use arrow::compute::concat_batches;
use arrow::datatypes::{
    DataType, Date32Type, Field, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Schema,
    SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use config_schema::SourcePlatform;
use migration_core::plan::partition_plan::Partition;
use migration_core::source::catalog::{SourceColumn, TableRef};
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::dialect::{Dialect, ExtractionRequest, TypedColumn};
use migration_core::source::extract::{
    extract, ExtractOptions, ExtractOutcome, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::odbc::{OdbcReadOptions, OdbcText};
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::source::postgres_native::PgReadOptions;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio_util::sync::CancellationToken;

/// Tiny batches, so files really roll at the tiny target size of the tests.
fn native_source() -> SourceSpec {
    SourceSpec::PostgresNative {
        params: pg_connect_params("extract-conformance"),
        read: PgReadOptions {
            batch_rows: 1,
            batch_bytes: 1 << 20,
            ..PgReadOptions::default()
        },
    }
}

fn pg_odbc_source() -> SourceSpec {
    let settings = OdbcSettings {
        driver_name: "PostgreSQL Unicode".into(),
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        database: "postgres".into(),
        username: Some("postgres".into()),
        ..OdbcSettings::default()
    };
    SourceSpec::Odbc {
        connection_string: build_connection_string(
            SourcePlatform::Postgresql,
            &settings,
            &OdbcTuning::default(),
        ),
        read: OdbcReadOptions {
            max_rows_per_batch: 2,
            ..OdbcReadOptions::for_platform(SourcePlatform::Postgresql)
        },
    }
}

/// A schema that is dropped when the test ends.
struct PgSchema {
    name: String,
}

impl PgSchema {
    fn create(prefix: &str) -> PgSchema {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        pg_client()
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap_or_else(|e| panic!("cannot create PostgreSQL schema {name}: {e}"));
        PgSchema { name }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = pg_client().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// The conformance table: every supported type, with NULLs, limits, unicode and a 1 MB value.
const PG_TABLE: &str = r#"
CREATE TABLE {s}.conf (
  id integer PRIMARY KEY,
  b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
  n numeric(38,9), n18 numeric(18,4), nu numeric,
  t text, vc varchar(20), bp char(5),
  d date, ts timestamp(6), tstz timestamptz(6),
  ba bytea, j json, jb jsonb, u uuid
);
INSERT INTO {s}.conf (id) VALUES (1);  -- NULL in every column
INSERT INTO {s}.conf VALUES (2, true, -32768, -2147483648, -9223372036854775808, -3.4028235e38,
  -1.7976931348623157e308, -99999999999999999999999999999.999999999, -99999999999999.9999,
  -123456789012345678901234567890.123456789012, '', 'x', 'ab',
  '0001-01-01', '0001-01-01 00:00:00', '1969-12-31 23:59:59.999999+00',
  '\x00ff', '{"a": [1, 2]}', '{"b": 1}', '00000000-0000-0000-0000-000000000000');
INSERT INTO {s}.conf VALUES (3, false, 32767, 2147483647, 9223372036854775807, 3.4028235e38,
  1.7976931348623157e308, 99999999999999999999999999999.999999999, 99999999999999.9999,
  0.000000000000000000001, '𝄞 emoji 😀 日本語 ü', 'ünïcödé 😀', 'ü😀',
  '9999-12-31', '9999-12-31 23:59:59.999999', '2024-06-30 12:34:56.123456+02',
  '\xdeadbeef', '[]', '{"k": "v", "n": [1, 2.5]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
-- ROW 4
INSERT INTO {s}.conf VALUES (4, NULL, 0, 0, 0, 1.4e-45, 5e-324, 0.000000001, 0.0001, 0, $1, '', '',
  '1970-01-01', '1970-01-01 00:00:00.000001', '1970-01-01 00:00:00.000001+00',
  ''::bytea, 'null', 'null', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');
-- ROW 4
INSERT INTO {s}.conf (id, f4, f8, t) VALUES (5, 'NaN', 'Infinity', '😀'), (6, '-Infinity', '-Infinity', 'x');
INSERT INTO {s}.conf (id, f8, ba) VALUES (7, 'NaN', decode(repeat('00ff7f80', 262144), 'hex'));
CREATE TABLE {s}.empty (id integer PRIMARY KEY, name text);
"#;

/// About 1 MB of incompressible text with 4-byte characters (so files really roll).
fn big_text() -> String {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut text = String::with_capacity(1_000_000);
    while text.len() < 999_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!("{state:016x}"));
        if state.is_multiple_of(7) {
            text.push('😀');
        }
    }
    text
}

fn create_pg_table(schema: &PgSchema) {
    // Row 4 carries the 1 MB text as a parameter; rows after it make the files roll mid-table.
    let mut client = pg_client();
    let sql = PG_TABLE.replace("{s}", &schema.name);
    let parts: Vec<&str> = sql.split("-- ROW 4").collect();
    client
        .batch_execute(parts[0])
        .expect("create conformance table");
    client
        .execute(parts[1], &[&big_text()])
        .expect("row with 1 MB text");
    client.batch_execute(parts[2]).expect("remaining rows");
}

/// `(column, declared type, precision, scale)`: the catalog as the columns query reports it.
const PG_CATALOG: &[(&str, &str, Option<u32>, Option<i32>)] = &[
    ("id", "integer", Some(32), Some(0)),
    ("b", "boolean", None, None),
    ("i2", "smallint", Some(16), Some(0)),
    ("i4", "integer", Some(32), Some(0)),
    ("i8", "bigint", Some(64), Some(0)),
    ("f4", "real", Some(24), None),
    ("f8", "double precision", Some(53), None),
    ("n", "numeric", Some(38), Some(9)),
    ("n18", "numeric", Some(18), Some(4)),
    ("nu", "numeric", None, None),
    ("t", "text", None, None),
    ("vc", "character varying", None, None),
    ("bp", "character", None, None),
    ("d", "date", None, Some(0)),
    ("ts", "timestamp without time zone", None, Some(6)),
    ("tstz", "timestamp with time zone", None, Some(6)),
    ("ba", "bytea", None, None),
    ("j", "json", None, None),
    ("jb", "jsonb", None, None),
    ("u", "uuid", None, None),
];

/// Columns typed by the PostgreSQL dialect, the Arrow schema it chose, and its SELECT.
fn pg_request(schema: &str, table: &str, where_clause: Option<&str>) -> ExtractRequest {
    let table_ref = TableRef::parse("postgres", schema, table);
    let columns: Vec<TypedColumn> = PG_CATALOG
        .iter()
        .enumerate()
        .map(|(i, (name, data_type, precision, scale))| {
            let mut column = SourceColumn::new(*name, *data_type, i as u32 + 1);
            column.precision = *precision;
            column.scale = *scale;
            if *data_type == "character varying" {
                column.char_length = Some(20);
            }
            if *data_type == "character" {
                column.char_length = Some(5);
            }
            TypedColumn::classify(SourcePlatform::Postgresql, &table_ref, &column)
                .expect("supported type")
        })
        .collect();
    request_for(
        SourcePlatform::Postgresql,
        &table_ref,
        &columns,
        where_clause,
    )
}

fn request_for(
    platform: SourcePlatform,
    table_ref: &TableRef,
    columns: &[TypedColumn],
    where_clause: Option<&str>,
) -> ExtractRequest {
    let dialect = Dialect::new(platform);
    let partition = Partition::whole_table(0);
    let sql = dialect
        .extraction_query(&ExtractionRequest {
            table: table_ref,
            columns,
            keys: &[],
            partition: &partition,
            where_clause,
            watermark: None,
        })
        .expect("extraction query");
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(&c.name, c.column_type.arrow_type(), c.nullable))
        .collect();
    ExtractRequest {
        select_sql: sql,
        schema: Arc::new(Schema::new(fields)),
    }
}

fn options(
    dir: &Path,
    table: &str,
    target_names: Vec<String>,
    target_file_bytes: u64,
) -> ExtractOptions {
    ExtractOptions {
        table: table.into(),
        target_column_names: target_names,
        local_dir: dir.join("local"),
        parquet: ParquetOptions {
            target_file_bytes,
            ..ParquetOptions::default()
        },
    }
}

/// Runs one extraction into `dir/stage` and reads every file back as one batch.
fn run(
    source: &SourceSpec,
    request: &ExtractRequest,
    options: &ExtractOptions,
    dir: &Path,
) -> (ExtractOutcome, Option<RecordBatch>) {
    let stage = dir.join("stage");
    let _ = std::fs::remove_dir_all(&stage);
    let mut uploader = LocalDirUploader::new(&stage);
    let outcome = extract(
        source,
        request,
        options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .unwrap_or_else(|e| panic!("extraction of {} failed: {e}", options.table));
    let leftovers = std::fs::read_dir(&options.local_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0, "local files must be deleted after upload");
    (outcome, read_back(&stage))
}

fn read_back(stage: &Path) -> Option<RecordBatch> {
    let Ok(entries) = std::fs::read_dir(stage) else {
        return None;
    };
    let mut paths: Vec<_> = entries.map(|e| e.expect("dir entry").path()).collect();
    paths.sort();
    let mut batches = Vec::new();
    let mut schema: Option<SchemaRef> = None;
    for path in paths {
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&path).expect("open parquet"))
                .expect("valid parquet")
                .build()
                .expect("reader");
        schema = Some(reader.schema());
        for batch in reader {
            batches.push(batch.expect("batch"));
        }
    }
    let schema = schema?;
    Some(concat_batches(&schema, &batches).expect("concat"))
}

/// The SQL rendering of each column in the canonical text form (see the module docs).
fn pg_canonical_sql(column: &str, data_type: &DataType) -> String {
    match data_type {
        DataType::Date32 => format!("({column} - date '1970-01-01')::text"),
        DataType::Timestamp(_, None) => {
            format!("(extract(epoch from {column}) * 1000000)::numeric(30,0)::text")
        }
        DataType::Timestamp(_, Some(_)) => {
            format!("(extract(epoch from {column}) * 1000000)::numeric(30,0)::text")
        }
        DataType::Binary => format!("encode({column}, 'hex')"),
        // The type's own output function: `::text` would strip the padding of char(n).
        DataType::Utf8 => format!("CASE WHEN {column} IS NOT NULL THEN format('%s', {column}) END"),
        _ => format!("{column}::text"),
    }
}

/// The same canonical text from an Arrow value.
fn arrow_canonical(array: &ArrayRef, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float32 => {
            float_text(array.as_primitive::<Float32Type>().value(row) as f64, true)
        }
        DataType::Float64 => float_text(array.as_primitive::<Float64Type>().value(row), false),
        DataType::Decimal128(_, _) => array
            .as_primitive::<arrow::datatypes::Decimal128Type>()
            .value_as_string(row),
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::Binary => array
            .as_binary::<i32>()
            .value(row)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        DataType::Date32 => array.as_primitive::<Date32Type>().value(row).to_string(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => array
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .to_string(),
        other => panic!("no canonical form for {other}"),
    })
}

/// Floats compare by value: both sides parse to the same float (NaN and infinities by name).
fn float_text(value: f64, single: bool) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if single {
        format!("{:e}", value as f32)
    } else {
        format!("{value:e}")
    }
}

fn normalize_float_text(text: &str, single: bool) -> String {
    match text {
        "NaN" | "Infinity" | "-Infinity" => text.to_string(),
        _ if single => format!("{:e}", text.parse::<f32>().expect("float4 text")),
        _ => format!("{:e}", text.parse::<f64>().expect("float8 text")),
    }
}

/// Compares every column of `batch` with the source rows (ordered by id), by canonical text.
fn assert_matches_pg(
    schema: &str,
    table: &str,
    request: &ExtractRequest,
    batch: &RecordBatch,
    where_clause: &str,
) {
    let mut client = pg_client();
    client
        .batch_execute("SET TIME ZONE 'UTC'; SET extra_float_digits = 3")
        .expect("session");
    let id_column = batch.column(0).as_primitive::<Int32Type>();
    let mut order: Vec<usize> = (0..batch.num_rows()).collect();
    order.sort_by_key(|&i| id_column.value(i));
    let expressions: Vec<String> = request
        .schema
        .fields()
        .iter()
        .map(|f| pg_canonical_sql(&format!("\"{}\"", f.name()), f.data_type()))
        .collect();
    let sql = format!(
        "SELECT {} FROM {schema}.{table} WHERE {where_clause} ORDER BY id",
        expressions.join(", ")
    );
    let rows = client.query(sql.as_str(), &[]).expect("source query");
    assert_eq!(rows.len(), batch.num_rows(), "row count");
    for (row, &index) in rows.iter().zip(&order) {
        for (column, field) in request.schema.fields().iter().enumerate() {
            let source: Option<String> = row.get(column);
            let parquet = arrow_canonical(batch.column(column), index);
            let (source, parquet) = match field.data_type() {
                DataType::Float32 => (source.map(|s| normalize_float_text(&s, true)), parquet),
                DataType::Float64 => (source.map(|s| normalize_float_text(&s, false)), parquet),
                _ => (source, parquet),
            };
            assert_eq!(
                parquet,
                source,
                "column `{}` of row id={} differs (parquet vs source)",
                field.name(),
                id_column.value(index)
            );
        }
    }
}

fn assert_file_schema(batch: &RecordBatch, request: &ExtractRequest, target_names: &[String]) {
    for (i, field) in batch.schema().fields().iter().enumerate() {
        assert_eq!(
            field.name(),
            &target_names[i],
            "parquet field names are the target names"
        );
        assert_eq!(
            field.data_type(),
            request.schema.field(i).data_type(),
            "type of `{}`",
            field.name()
        );
    }
}

fn target_names(request: &ExtractRequest) -> Vec<String> {
    request
        .schema
        .fields()
        .iter()
        .map(|f| format!("T_{}", f.name().to_uppercase()))
        .collect()
}

fn conformance_pg(source: SourceSpec, prefix: &str) {
    let schema = PgSchema::create(prefix);
    create_pg_table(&schema);
    let dir = tempfile::tempdir().expect("tempdir");

    // Whole table, with files rolling at a tiny size.
    let request = pg_request(&schema.name, "conf", None);
    let names = target_names(&request);
    let opts = options(
        dir.path(),
        &format!("{}.conf", schema.name),
        names.clone(),
        64 * 1024,
    );
    let (outcome, batch) = run(&source, &request, &opts, dir.path());
    let batch = batch.expect("files were written");
    assert_eq!(outcome.rows, 7);
    assert!(
        outcome.files.len() >= 2,
        "1 MB values exceed the 64 KiB target: {:?}",
        outcome.files
    );
    assert_eq!(
        outcome.rows,
        outcome.files.iter().map(|f| f.rows).sum::<u64>()
    );
    assert_file_schema(&batch, &request, &names);
    assert_matches_pg(&schema.name, "conf", &request, &batch, "true");

    // The checksum does not depend on how files were split.
    let opts_one_file = options(
        dir.path(),
        &format!("{}.conf", schema.name),
        names.clone(),
        1 << 30,
    );
    let (one_file, _) = run(&source, &request, &opts_one_file, dir.path());
    assert_eq!(one_file.files.len(), 1);
    assert_eq!(one_file.checksum, outcome.checksum);

    // Single-row partitions.
    for id in 1..=7 {
        let predicate = format!("id = {id}");
        let request = pg_request(&schema.name, "conf", Some(&predicate));
        let (outcome, batch) = run(&source, &request, &opts_one_file, dir.path());
        assert_eq!(outcome.rows, 1, "partition {predicate}");
        assert_matches_pg(
            &schema.name,
            "conf",
            &request,
            &batch.expect("one file"),
            &predicate,
        );
    }

    // An empty table gives no files and zero rows.
    let table_ref = TableRef::parse("postgres", &schema.name, "empty");
    let columns: Vec<TypedColumn> = [("id", "integer", Some(32)), ("name", "text", None)]
        .iter()
        .enumerate()
        .map(|(i, (name, data_type, precision))| {
            let mut column = SourceColumn::new(*name, *data_type, i as u32 + 1);
            column.precision = *precision;
            column.scale = precision.map(|_| 0);
            TypedColumn::classify(SourcePlatform::Postgresql, &table_ref, &column)
                .expect("supported")
        })
        .collect();
    let request = request_for(SourcePlatform::Postgresql, &table_ref, &columns, None);
    let (outcome, batch) = run(
        &source,
        &request,
        &options(dir.path(), "empty", vec![], 1 << 20),
        dir.path(),
    );
    assert_eq!(outcome.rows, 0);
    assert!(outcome.files.is_empty());
    assert!(batch.is_none());
}

#[test]
fn native_postgres_conformance() {
    conformance_pg(native_source(), "xconf_native");
}

#[test]
fn odbc_postgres_conformance() {
    conformance_pg(pg_odbc_source(), "xconf_odbc");
}

/// The same suite with text fetched as UTF-16 (`SQL_C_WCHAR`), the way SQL Server is read: the
/// wide columnar path must give exactly the values of the narrow one.
#[test]
fn odbc_postgres_conformance_with_wide_text() {
    conformance_pg(with_wide_text(pg_odbc_source()), "xconf_wide");
}

/// `source` with text fetched as UTF-16.
fn with_wide_text(source: SourceSpec) -> SourceSpec {
    match source {
        SourceSpec::Odbc {
            connection_string,
            read,
        } => SourceSpec::Odbc {
            connection_string,
            read: OdbcReadOptions {
                text: OdbcText::Wide,
                ..read
            },
        },
        native => native,
    }
}

#[test]
fn native_and_odbc_agree_on_the_checksum() {
    let schema = PgSchema::create("xconf_agree");
    create_pg_table(&schema);
    let dir = tempfile::tempdir().expect("tempdir");
    let request = pg_request(&schema.name, "conf", None);
    let opts = options(dir.path(), "conf", vec![], 1 << 30);
    let (native, _) = run(&native_source(), &request, &opts, dir.path());
    let (odbc, _) = run(&pg_odbc_source(), &request, &opts, dir.path());
    assert_eq!(native.rows, odbc.rows);
    assert_eq!(
        native.checksum, odbc.checksum,
        "both paths read the same values"
    );
}

// ---------------------------------------------------------------------------------------------
// SQLite through its ODBC driver.
// ---------------------------------------------------------------------------------------------

fn sqlite_source(database: &Path) -> SourceSpec {
    let settings = OdbcSettings {
        driver_name: "SQLite3".into(),
        database: database.display().to_string(),
        ..OdbcSettings::default()
    };
    SourceSpec::Odbc {
        connection_string: build_connection_string(
            SourcePlatform::Sqlite,
            &settings,
            &OdbcTuning::default(),
        ),
        read: OdbcReadOptions {
            max_rows_per_batch: 2,
            ..OdbcReadOptions::for_platform(SourcePlatform::Sqlite)
        },
    }
}

/// SQLite stores REAL as a double but its ODBC driver hands it over through 15-digit text, and
/// SQLite 3.40's own 17-digit printf is inexact above about 1e100: the dialect selects an exact
/// text form (`sqlite_exact_real`) and the reader parses it back. Every double must survive,
/// the extremes of the range included.
const SQLITE_TABLE: &str = r#"
CREATE TABLE conf (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, bl BLOB, d DATE, ts TIMESTAMP, flag BOOLEAN);
INSERT INTO conf (id) VALUES (1);
INSERT INTO conf VALUES (2, -9223372036854775808, -1.5e300, '', x'00ff', '0001-01-01', '0001-01-01 00:00:00.000000', 1);
INSERT INTO conf VALUES (3, 9223372036854775807, 0.30000000000000004, '𝄞 emoji 😀 日本語 ü', x'deadbeef', '9999-12-31', '9999-12-31 23:59:59.999999', 0);
INSERT INTO conf VALUES (4, 0, 5e-324, CAST(readfile('{big}') AS TEXT), zeroblob(1000000), '1970-01-01', '1970-01-01 00:00:00.000001', NULL);
INSERT INTO conf (id, t) VALUES (5, 'last');
CREATE TABLE reals (id INTEGER PRIMARY KEY, r REAL);
INSERT INTO reals VALUES (1, 1.7976931348623157e308), (2, -1.7976931348623157e308),
  (3, 1e300), (4, -1e300), (5, 2.2250738585072014e-308), (6, -2.2250738585072014e-308),
  (7, 5e-324), (8, 0.1 + 0.2), (9, 1e90), (10, 9.999999999999999e89), (11, 8.98846567431158e307),
  (12, 1.2345678901234567e-300), (13, 123456789.12345678), (14, 1e999), (15, -1e999), (16, NULL),
  (17, 1.4523142177899403e308), (18, -1.1545580616824966e232);
CREATE TABLE empty (id INTEGER PRIMARY KEY, name TEXT);
"#;

/// The values of `reals`, in id order, as Rust reads them (NULL as `None`).
const SQLITE_REALS: &[Option<f64>] = &[
    Some(f64::MAX),
    Some(f64::MIN),
    Some(1e300),
    Some(-1e300),
    Some(f64::MIN_POSITIVE),
    Some(-f64::MIN_POSITIVE),
    Some(5e-324),
    Some(0.30000000000000004),
    Some(1e90),
    Some(9.999999999999999e89),
    Some(8.98846567431158e307),
    Some(1.2345678901234567e-300),
    Some(123456789.12345678),
    Some(f64::INFINITY),
    Some(f64::NEG_INFINITY),
    None,
    Some(1.4523142177899403e308),
    Some(-1.1545580616824966e232),
];

/// The SQLite dialect's columns, Arrow schema and SELECT for `table` with the declared types.
fn sqlite_request(
    table: &str,
    declared: &[(&str, &str)],
    where_clause: Option<&str>,
) -> ExtractRequest {
    let table_ref = TableRef::parse("main", "main", table);
    let columns: Vec<TypedColumn> = declared
        .iter()
        .enumerate()
        .map(|(i, (name, declared_type))| {
            let mut column = SourceColumn::new(*name, *declared_type, i as u32 + 1);
            column.nullable = *name != "id";
            TypedColumn::classify(SourcePlatform::Sqlite, &table_ref, &column)
                .expect("supported type")
        })
        .collect();
    request_for(SourcePlatform::Sqlite, &table_ref, &columns, where_clause)
}

const SQLITE_CONF_COLUMNS: &[(&str, &str)] = &[
    ("id", "integer"),
    ("i", "integer"),
    ("r", "real"),
    ("t", "text"),
    ("bl", "blob"),
    ("d", "date"),
    ("ts", "timestamp"),
    ("flag", "boolean"),
];

fn sqlite_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("i", DataType::Int64, true),
        Field::new("r", DataType::Float64, true),
        Field::new("t", DataType::Utf8, true),
        Field::new("bl", DataType::Binary, true),
        Field::new("d", DataType::Date32, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("flag", DataType::Boolean, true),
    ]))
}

#[test]
fn odbc_sqlite_conformance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("conformance.sqlite");
    let big_file = dir.path().join("big.txt");
    std::fs::write(&big_file, big_text()).expect("write big text");
    sqlite3(
        &database,
        &SQLITE_TABLE.replace("{big}", &big_file.display().to_string()),
    );
    // Narrow, and wide as SQL Server is read (row by row here: SQLite's driver).
    for source in [
        sqlite_source(&database),
        with_wide_text(sqlite_source(&database)),
    ] {
        sqlite_conformance(&source, dir.path());
    }
}

fn sqlite_conformance(source: &SourceSpec, dir: &Path) {
    let source = source.clone();
    let request = sqlite_request("conf", SQLITE_CONF_COLUMNS, None);
    assert_eq!(request.schema, sqlite_schema(), "the dialect's types");
    let names: Vec<String> = request
        .schema
        .fields()
        .iter()
        .map(|f| f.name().to_uppercase())
        .collect();
    let opts = options(dir, "main.conf", names.clone(), 64 * 1024);
    let (outcome, batch) = run(&source, &request, &opts, dir);
    let batch = batch.expect("files");
    assert_eq!(outcome.rows, 5);
    assert!(outcome.files.len() >= 2, "{:?}", outcome.files);
    assert_file_schema(&batch, &request, &names);

    let expected: Vec<Vec<Option<String>>> = vec![
        vec![Some("1".into()), None, None, None, None, None, None, None],
        vec![
            Some("2".into()),
            Some(i64::MIN.to_string()),
            Some(float_text(-1.5e300, false)),
            Some(String::new()),
            Some("00ff".into()),
            Some("-719162".into()),
            Some((-62_135_596_800_000_000i64).to_string()),
            Some("true".into()),
        ],
        vec![
            Some("3".into()),
            Some(i64::MAX.to_string()),
            Some(float_text(0.30000000000000004, false)),
            Some("𝄞 emoji 😀 日本語 ü".into()),
            Some("deadbeef".into()),
            Some("2932896".into()),
            Some(253_402_300_799_999_999i64.to_string()),
            Some("false".into()),
        ],
        vec![
            Some("4".into()),
            Some("0".into()),
            Some(float_text(5e-324, false)),
            Some(big_text()),
            Some("00".repeat(1_000_000)),
            Some("0".into()),
            Some("1".into()),
            None,
        ],
        vec![
            Some("5".into()),
            None,
            None,
            Some("last".into()),
            None,
            None,
            None,
            None,
        ],
    ];
    for (row, expected_row) in expected.iter().enumerate() {
        for (column, expected_value) in expected_row.iter().enumerate() {
            let actual = arrow_canonical(batch.column(column), row);
            assert_eq!(
                actual
                    .as_ref()
                    .map(|s| s.chars().take(80).collect::<String>()),
                expected_value
                    .as_ref()
                    .map(|s| s.chars().take(80).collect::<String>()),
                "column `{}` row {row}",
                request.schema.field(column).name()
            );
            assert_eq!(
                actual.map(|s| s.len()),
                expected_value.as_ref().map(|s| s.len()),
                "length of `{}`",
                request.schema.field(column).name()
            );
        }
    }

    // Single-row partitions and an empty table.
    for id in 1..=5 {
        let request = sqlite_request("conf", SQLITE_CONF_COLUMNS, Some(&format!("id = {id}")));
        let (outcome, _) = run(&source, &request, &opts, dir);
        assert_eq!(outcome.rows, 1);
    }
    let empty = ExtractRequest {
        select_sql: "SELECT id, name FROM empty".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ])),
    };
    let (outcome, batch) = run(
        &source,
        &empty,
        &options(dir, "main.empty", vec![], 1 << 20),
        dir,
    );
    assert_eq!(outcome.rows, 0);
    assert!(batch.is_none());
}

#[test]
fn odbc_sqlite_reals_keep_every_digit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("reals.sqlite");
    sqlite3(&database, &SQLITE_TABLE.replace("{big}", "/dev/null"));
    let source = sqlite_source(&database);
    let request = sqlite_request("reals", &[("id", "integer"), ("r", "real")], None);
    let opts = options(
        dir.path(),
        "main.reals",
        vec!["ID".into(), "R".into()],
        1 << 20,
    );
    let (outcome, batch) = run(&source, &request, &opts, dir.path());
    let batch = batch.expect("files");
    assert_eq!(outcome.rows as usize, SQLITE_REALS.len());
    let ids = batch.column(0).as_primitive::<Int64Type>();
    let reals = batch.column(1).as_primitive::<Float64Type>();
    let mut by_id: Vec<(i64, Option<f64>)> = (0..batch.num_rows())
        .map(|row| {
            (
                ids.value(row),
                (!reals.is_null(row)).then(|| reals.value(row)),
            )
        })
        .collect();
    by_id.sort_by_key(|(id, _)| *id);
    for ((id, actual), expected) in by_id.iter().zip(SQLITE_REALS) {
        assert_eq!(
            actual.map(f64::to_bits),
            expected.map(f64::to_bits),
            "reals row {id}: {actual:?} != {expected:?}"
        );
    }
}

/// Unbounded `text` and `bytea` over ODBC: values far above the old fixed 1 MiB fetch buffer
/// arrive whole, next to short ones, through buffers sized from the measured longest value.
#[test]
fn odbc_postgres_long_text_and_bytea_arrive_whole() {
    let schema = PgSchema::create("odbc_long");
    let mut client = pg_client();
    client
        .batch_execute(&format!(
            "CREATE TABLE {s}.long (id int PRIMARY KEY, t text, b bytea);
             INSERT INTO {s}.long VALUES (1, 'short', '\\x01'), (2, NULL, NULL),
               (3, repeat('ab😀', 500000), decode(repeat('00ff', 1500000), 'hex')),
               (4, '', ''::bytea);",
            s = schema.name
        ))
        .expect("long values");
    let dir = tempfile::tempdir().expect("tempdir");
    let table_ref = TableRef::parse("postgres", &schema.name, "long");
    let columns: Vec<TypedColumn> = [("id", "integer"), ("t", "text"), ("b", "bytea")]
        .iter()
        .enumerate()
        .map(|(i, (name, data_type))| {
            TypedColumn::classify(
                SourcePlatform::Postgresql,
                &table_ref,
                &SourceColumn::new(*name, *data_type, i as u32 + 1),
            )
            .expect("supported")
        })
        .collect();
    let request = request_for(SourcePlatform::Postgresql, &table_ref, &columns, None);
    let opts = options(dir.path(), "postgres.odbc_long.long", vec![], 1 << 20);
    let (outcome, batch) = run(&pg_odbc_source(), &request, &opts, dir.path());
    assert_eq!(outcome.rows, 4);
    let batch = batch.expect("files");
    let mut rows: Vec<(i32, Option<usize>, Option<usize>)> = (0..batch.num_rows())
        .map(|row| {
            let t = batch.column(1).as_string::<i32>();
            let b = batch.column(2).as_binary::<i32>();
            (
                batch.column(0).as_primitive::<Int32Type>().value(row),
                (!t.is_null(row)).then(|| t.value(row).len()),
                (!b.is_null(row)).then(|| b.value(row).len()),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (1, Some(5), Some(1)),
            (2, None, None),
            (3, Some(3_000_000), Some(3_000_000)),
            (4, Some(0), Some(0)),
        ]
    );
    let t = batch.column(1).as_string::<i32>();
    let long = (0..batch.num_rows())
        .find(|&row| !t.is_null(row) && t.value(row).len() > 5)
        .expect("the long row");
    assert_eq!(t.value(long), "ab😀".repeat(500_000));
}
