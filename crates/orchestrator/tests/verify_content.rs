//! `orchestrator verify`'s promise on the emulator: a table copied by the real pipeline
//! (analyze, extract to Parquet, PUT, COPY INTO) reads back from Snowflake with the checksum
//! its extraction reported. One SQLite table with the demo's column types and one PostgreSQL
//! table (native and ODBC paths) with the same types plus `timestamptz` and a bare `numeric`.
//!
//! On a mismatch the test names every column whose checksum differs, with the Arrow types of
//! both sides: the extract side from the Parquet files, the target side from the read-back.
//!
//! Needs the Snowflake emulator (started by test-support), PostgreSQL on 127.0.0.1:5432
//! (trust auth, user postgres), the ODBC drivers `SQLite3` and `PostgreSQL Unicode`, and the
//! sqlite3 command line tool.

mod support;

use std::path::Path;
use std::sync::Arc;
use test_support::sqlite3;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::Schema;
use config_schema::workflow::parse_workflow_value;
use config_schema::SourcePlatform;
use migration_core::load::{copy_into_sql, create_table_sql, TargetTable};
use migration_core::plan::TablePlan;
use migration_core::source::analyze::{analyze_table, plan_request};
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::content_checksum::ContentChecksum;
use migration_core::source::dialect::{Dialect, ExtractionRequest};
use migration_core::source::extract::{
    extract, ExtractOptions, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::odbc::{OdbcFetch, OdbcReadOptions};
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::source::postgres_native::{PgConnectParams, PgReadOptions};
use migration_core::validation::content::{read_back_sql, target_checksum};
use orchestrator::target_table::{column_sql_name, target_columns};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use support::Env;
use tokio_util::sync::CancellationToken;

/// The demo's column types (scripts/demo_data.py), with the values that stress them: integral
/// and fractional decimals, trailing zeros, negative values, NULLs, 4-byte characters,
/// microseconds, padding in CHAR.
const SQLITE_TABLE: &str = r#"
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email VARCHAR(120),
    country CHAR(2),
    price DECIMAL(10,2) NOT NULL,
    balance DECIMAL(12,2),
    amount DECIMAL(18,4),
    total DECIMAL(14,2),
    weight DOUBLE,
    flag BOOLEAN,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO items VALUES
    (1, 'Zoë 🦄', 'a@example.com', 'DE', '12.30', '-5000.00', '0.0001', '19.99', 1.5, 1, '2020-01-01 00:00:00.000001'),
    (2, 'Hiroshi 広志', NULL, NULL, '7.00', NULL, '123456.7800', '0.10', NULL, 0, '2024-02-29 23:59:59.999999'),
    (3, 'plain', 'c@example.com', 'J', '999.99', '12.05', '1.0000', '1000.00', 0.1, NULL, '2021-06-15 12:34:56.500000'),
    (4, '', NULL, 'US', '0.01', '0.00', NULL, '5.50', 39.999999999, 1, '2022-12-31 08:00:00');
"#;

/// The same types in PostgreSQL, plus `timestamptz`.
const POSTGRES_TABLE: &str = r#"
CREATE TABLE items (
    id integer PRIMARY KEY,
    name text NOT NULL,
    email varchar(120),
    country char(2),
    price numeric(10,2) NOT NULL,
    balance numeric(12,2),
    amount numeric(18,4),
    total numeric(14,2),
    weight double precision,
    flag boolean,
    created_at timestamp NOT NULL,
    changed_at timestamptz,
    ratio numeric
);
INSERT INTO items VALUES
    (1, 'Zoë 🦄', 'a@example.com', 'DE', 12.30, -5000.00, 0.0001, 19.99, 1.5, true, '2020-01-01 00:00:00.000001', '2020-01-01 00:00:00.000001+02', 1.50),
    (2, 'Hiroshi 広志', NULL, NULL, 7.00, NULL, 123456.7800, 0.10, NULL, false, '2024-02-29 23:59:59.999999', NULL, NULL),
    (3, 'plain', 'c@example.com', 'J', 999.99, 12.05, 1.0000, 1000.00, 0.1, NULL, '2021-06-15 12:34:56.5', '2021-06-15 12:34:56.5-07', -0.001),
    (4, '', NULL, 'US', 0.01, 0.00, NULL, 5.50, 39.999999999, true, '2022-12-31 08:00:00', '1969-12-31 23:59:59.999999+00', 100);
"#;

#[test]
fn a_sqlite_table_reads_back_with_its_extract_checksum() {
    let env = Env::fresh("verify_sqlite");
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = dir.path().join("source.sqlite");
    sqlite3(&database, SQLITE_TABLE);
    let source = sqlite_source(&database);
    let plan = analyze(&source, SourcePlatform::Sqlite, "main", "main");
    assert_round_trip(&env, &source, &plan, dir.path(), "SQLITE_ITEMS");
}

#[test]
fn a_postgres_table_reads_back_with_its_extract_checksum_natively_and_over_odbc() {
    let env = Env::fresh("verify_postgres");
    let schema = test_support::postgres();
    schema
        .client()
        .batch_execute(POSTGRES_TABLE)
        .expect("create the PostgreSQL table");
    for (source, target) in [
        (native_source(), "PG_NATIVE_ITEMS"),
        (pg_odbc_source(), "PG_ODBC_ITEMS"),
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let plan = analyze(
            &source,
            SourcePlatform::Postgresql,
            "postgres",
            &schema.schema,
        );
        assert_round_trip(&env, &source, &plan, dir.path(), target);
    }
}

/// Plans `items` like a worker does, from a workflow document partitioned by `id`.
fn analyze(
    source: &SourceSpec,
    platform: SourcePlatform,
    database: &str,
    schema: &str,
) -> TablePlan {
    let document = serde_json::json!({
        "tables": [{
            "source": {"databaseName": database, "schemaName": schema, "tableName": "items"},
            "target": {"databaseName": "T", "schemaName": "PUBLIC", "tableName": "items"},
            "columnNamesToPartitionBy": ["id"],
            "partitionSize": {"maxRowsPerPartition": 2}
        }]
    });
    let workflow = parse_workflow_value(&document, Some(platform)).expect("valid workflow");
    let (table, options) = plan_request(&workflow.tables[0]).expect("plan request");
    analyze_table(source, platform, table, options).expect("analyze the source table")
}

/// Extracts every partition, loads the files into `target` and compares the checksums; on a
/// mismatch, panics naming the columns that differ.
fn assert_round_trip(env: &Env, source: &SourceSpec, plan: &TablePlan, dir: &Path, target: &str) {
    let stage_dir = dir.join("stage");
    let mut extracted = ContentChecksum::default();
    for partition in &plan.partitions {
        extracted = extracted.combine(extract_partition(source, plan, partition, dir, &stage_dir));
    }

    let mut session = env.session();
    let table = TargetTable {
        database: env.database.name.clone(),
        schema: "PUBLIC".into(),
        table: target.into(),
    };
    let qualified = table.qualified().expect("target name");
    session
        .execute(
            &create_table_sql(&table, &target_columns(plan)).expect("DDL"),
            &[],
        )
        .expect("create the target table");
    let stage = format!("{}.PUBLIC.VERIFY_STAGE", env.database.name);
    session
        .execute(&format!("CREATE STAGE IF NOT EXISTS {stage}"), &[])
        .expect("create the stage");
    let folder = format!("@{stage}/{target}/");
    for file in parquet_files(&stage_dir) {
        session
            .put_file(&file, &folder)
            .expect("PUT a partition file");
    }
    session
        .query(&copy_into_sql(&qualified, &folder), &[])
        .expect("COPY INTO the target table");

    let columns: Vec<String> = plan
        .columns
        .iter()
        .map(|column| column_sql_name(&column.target_name))
        .collect();
    let (rows, target_sum) =
        target_checksum(&mut session, &qualified, &columns).expect("read the target back");
    assert_eq!(rows, 4, "{target}: rows in the target");
    if target_sum != extracted {
        let extracted_batches = read_parquet(&stage_dir);
        let target_batches = session
            .query(&read_back_sql(&qualified, &columns), &[])
            .expect("read the target back");
        panic!(
            "{target}: target checksum {target_sum} differs from the extract checksum \
             {extracted}; per column:\n{}",
            column_report(&columns, &extracted_batches, &target_batches)
        );
    }
}

fn extract_partition(
    source: &SourceSpec,
    plan: &TablePlan,
    partition: &migration_core::plan::partition_plan::Partition,
    dir: &Path,
    stage_dir: &Path,
) -> ContentChecksum {
    let columns = plan.source_columns();
    let select_sql = Dialect::new(plan.platform)
        .extraction_query(&ExtractionRequest {
            table: &plan.table,
            columns: &columns,
            keys: &plan.keys,
            partition,
            where_clause: plan.where_clause.as_deref(),
            watermark: None,
        })
        .expect("extraction query");
    let request = ExtractRequest {
        select_sql,
        schema: plan.extraction_schema(),
    };
    let options = ExtractOptions {
        table: plan.table.display_name(),
        target_column_names: plan.columns.iter().map(|c| c.target_name.clone()).collect(),
        local_dir: dir.join("local"),
        parquet: ParquetOptions {
            file_prefix: format!("part_{}", partition.index),
            ..ParquetOptions::default()
        },
    };
    std::fs::create_dir_all(&options.local_dir).expect("local directory");
    let mut uploader = LocalDirUploader::new(stage_dir);
    extract(
        source,
        &request,
        &options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .expect("extract a partition")
    .checksum
}

fn parquet_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("stage directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    files
}

fn read_parquet(dir: &Path) -> Vec<RecordBatch> {
    parquet_files(dir)
        .iter()
        .flat_map(|path| {
            let file = std::fs::File::open(path).expect("open parquet file");
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet reader")
                .build()
                .expect("parquet reader");
            reader
                .map(|batch| batch.expect("parquet batch"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One line per column: its name, both Arrow types and whether the column checksums agree.
fn column_report(columns: &[String], extracted: &[RecordBatch], target: &[RecordBatch]) -> String {
    let mut report = String::new();
    for (i, name) in columns.iter().enumerate() {
        let (extracted_type, extracted_sum) = column_checksum(extracted, i);
        let (target_type, target_sum) = column_checksum(target, i);
        let verdict = if extracted_sum == target_sum {
            "same"
        } else {
            "DIFFERS"
        };
        report.push_str(&format!(
            "  {name}: {verdict} (extracted {extracted_type}, target {target_type})\n"
        ));
    }
    report
}

fn column_checksum(batches: &[RecordBatch], index: usize) -> (String, ContentChecksum) {
    let mut sum = ContentChecksum::default();
    let mut data_type = String::from("?");
    for batch in batches {
        let column: ArrayRef = batch.column(index).clone();
        let field = batch.schema().field(index).clone();
        data_type = format!("{} {:?}", field.data_type(), field.metadata());
        let single = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![column])
            .expect("one-column batch");
        sum.add_batch(&single);
    }
    (data_type, sum)
}

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
            fetch: OdbcFetch::for_platform(SourcePlatform::Sqlite),
            ..OdbcReadOptions::default()
        },
    }
}

fn native_source() -> SourceSpec {
    SourceSpec::PostgresNative {
        params: PgConnectParams {
            host: "127.0.0.1".into(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            database: "postgres".into(),
            connect_timeout: std::time::Duration::from_secs(10),
            application_name: "verify-content-test".into(),
            tls: Default::default(),
        },
        read: PgReadOptions::default(),
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
            fetch: OdbcFetch::for_platform(SourcePlatform::Postgresql),
            ..OdbcReadOptions::default()
        },
    }
}
