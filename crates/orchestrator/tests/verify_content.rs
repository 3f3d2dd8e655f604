//! `orchestrator verify`'s promise on the emulator, end to end: a table copied by the real
//! pipeline (analyze, extract to Parquet, PUT, COPY INTO) and registered as a completed
//! workflow is verified by `verify_workflow` — the command's own code — with "checksum
//! matches", and a target in which one value of any type differs is reported as CHECKSUM
//! DIFFERS.
//!
//! - every PostgreSQL type the project maps (numbers at their limits, floats, text, timestamps
//!   with and without zone, date, time, bytea, json/jsonb, uuid, boolean, NULLs), read natively
//!   and over ODBC; every SQLite type;
//! - the numbers table of issue 9 (numeric(38,x) and bare numeric extremes, bigint min/max,
//!   ±1e300, 5e-324, real, smallint);
//! - an independent reader: the canonical text the normaliser gives each value (of the Parquet
//!   files and of the read-back) equals what this file derives by its own rules from `psql`'s
//!   text output, so a bug shared by both sides of the checksum cannot hide;
//! - a target of several driver batches, checksummed batch by batch.
//!
//! On a mismatch a test names every column whose checksum differs, with the Arrow types of
//! both sides.
//!
//! Needs the Snowflake emulator (started by test-support), PostgreSQL on 127.0.0.1:5432
//! (trust auth, user postgres) with `psql` on the PATH, the ODBC drivers `SQLite3` and
//! `PostgreSQL Unicode`, and the sqlite3 command line tool.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::Schema;
use config_schema::workflow::parse_workflow_value;
use config_schema::SourcePlatform;
use migration_core::analyze::{analyze_table, plan_request};
use migration_core::load::{copy_files_sql, create_table_sql, CopyFiles, TargetTable};
use migration_core::metadata::MetadataNamesSql as _;
use migration_core::metadata::{self, DeployOptions};
use migration_core::plan::partition_plan::Partition;
use migration_core::plan::TablePlan;
use migration_core::snowflake::{Session, SqlValue};
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::content_checksum::{canonical_rows, ContentChecksum};
use migration_core::source::extract::{extract, ExtractOptions, LocalDirUploader, SourceSpec};
use migration_core::source::odbc::{OdbcFetch, OdbcReadOptions};
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::source::postgres_native::PgReadOptions;
use migration_core::validation::content::{
    mark_read_back, read_back_sql, target_checksum, ReadBackColumn,
};
use migration_core::workflow::AnalyzeResult;
use orchestrator::sql::Statements;
use orchestrator::target_table::{column_sql_name, load_columns, target_columns};
use orchestrator::verify::{render, verify_workflow};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use support::Env;
use test_support::sqlite3;
use tokio_util::sync::CancellationToken;

/// The demo's column types (scripts/demo_data.py) plus every other SQLite type the dialect
/// maps, with the values that stress them: integral and fractional decimals carried as text,
/// trailing zeros, negative values, NULLs, 4-byte characters, microseconds, padding in CHAR,
/// REAL extremes, bytes that are no UTF-8, untyped and JSON text. (SQLite itself stores a
/// DECIMAL text of more than 15 significant digits as a lossy REAL, so the decimals stay
/// within 15 digits.)
const SQLITE_TABLE: &str = r#"
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email VARCHAR(120),
    country CHAR(2),
    price DECIMAL(10,2) NOT NULL,
    balance DECIMAL(12,2),
    amount DECIMAL(18,4),
    total DECIMAL(38,10),
    weight DOUBLE,
    ratio REAL,
    flag BOOLEAN,
    created_at TIMESTAMP NOT NULL,
    born DATE,
    photo BLOB,
    doc JSON,
    anything
);
INSERT INTO items VALUES
    (1, 'Zoë 🦄', 'a@example.com', 'DE', '12.30', '-5000.00', '0.0001', '10000000000', 1.5, 1e300, 1, '2020-01-01 00:00:00.000001', '2024-02-29', X'00FF80', '{"b":1,"a":[1,2.50]}', 'free'),
    (2, 'Hiroshi 広志', NULL, NULL, '7.00', NULL, '123456.7800', '-123456.789', NULL, -1e300, 0, '2024-02-29 23:59:59.999999', '0001-01-01', X'', '[]', 42),
    (3, 'plain', 'c@example.com', 'J', '999.99', '12.05', '1.0000', '0.0000000001', 0.1, 5e-324, NULL, '2021-06-15 12:34:56.500000', '9999-12-31', NULL, NULL, NULL),
    (4, '', NULL, 'US', '0.01', '0.00', NULL, '99999999999999', 39.999999999, -0.0, 1, '2022-12-31 08:00:00', NULL, X'41', '"text"', 1.5);
"#;

/// The demo's types in PostgreSQL, plus `timestamptz` and a bare `numeric`.
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

/// The numbers table of issue 9: every value identical in source and target, which
/// `orchestrator verify` reported as CHECKSUM DIFFERS. `n_bare` is a bare `numeric` (carried as
/// its text, loaded into `NUMBER(38,9)`): its integral values of 10^10 and more need more than
/// 64 bits once scaled, which the old checksum hashed differently from the same value read as
/// text. `n38_0` stays within 64 bits: the emulator stores `NUMBER(38,0)` as BIGINT, so a
/// larger value fails its COPY (the normaliser's own tests cover 38 digits at scale 0).
const NUMBERS_TABLE: &str = r#"
CREATE TABLE numbers (
    id integer PRIMARY KEY,
    n38_0 numeric(38,0),
    n38_10 numeric(38,10),
    n20_5 numeric(20,5),
    n_bare numeric,
    big bigint,
    dbl double precision,
    r real,
    s smallint
);
INSERT INTO numbers VALUES
    (1, 999999999999999999, 9999999999999999999999999999.9999999999, 999999999999999.99999, 10000000000, 9223372036854775807, 1e300, 3.4028235e38, 32767),
    (2, -999999999999999999, -9999999999999999999999999999.9999999999, -999999999999999.99999, -12345678901234567890.123456789, -9223372036854775808, -1e300, -3.4028235e38, -32768),
    (3, 0, 0.0000000001, -0.00001, 0.000000001, 0, 5e-324, 1.17549435e-38, 0),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (5, 1, -0.0000000001, 0.00001, 99999999999999999999999999999, 1, -5e-324, -1.17549435e-38, 1);
"#;

/// Every PostgreSQL type the project maps, at its limits, with NULLs. NaN and infinities are
/// refused at analyze; dates stay within Snowflake's years 1 to 9999.
const EVERY_TYPE_TABLE: &str = r#"
CREATE TABLE every_type (
    id integer PRIMARY KEY,
    n38_0 numeric(38,0),
    n38_10 numeric(38,10),
    n20_5 numeric(20,5),
    n_bare numeric,
    big bigint,
    i integer,
    s smallint,
    dbl double precision,
    r real,
    b boolean,
    t text,
    vc varchar(20),
    ch char(3),
    ts timestamp,
    tstz timestamptz,
    d date,
    tm time,
    bin bytea,
    jb jsonb,
    js json,
    u uuid
);
INSERT INTO every_type VALUES
    (1, 999999999999999999, 9999999999999999999999999999.9999999999, 999999999999999.99999,
     10000000000, 9223372036854775807, 2147483647, 32767, 1e300, 3.4028235e38, true,
     E'Zoë 🦄 "quoted" back\\slash, tab\tand newline\n', '', 'ab',
     '9999-12-31 23:59:59.999999', '2020-01-01 00:00:00.000001+02', '9999-12-31',
     '23:59:59.999999', '\x00ff80',
     '{"b": 1, "a": [1, 2.50, "x"], "c": {"z": null, "y": 1e3}}',
     '{"b": 1, "a": [1, 2.50], "u": "\u00e9"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
    (2, -999999999999999999, -9999999999999999999999999999.9999999999, -999999999999999.99999,
     -0.000000001, -9223372036854775808, -2147483648, -32768, -1e300, -1.17549435e-38, false,
     '', NULL, 'x', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01',
     '00:00:00', '\x', '[]', '"str"', '00000000-0000-0000-0000-000000000000'),
    (3, 0, 0.0000000001, 0.00001, 12345678901234567890.123456789, 0, 0, 0, 5e-324,
     1.17549435e-38, NULL, 'plain', 'varchar', 'abc', '1970-01-01 00:00:00',
     '1969-12-31 23:59:59.999999+00', '1970-01-01', '12:00:00.5', '\x41',
     '{"nested": {"deep": [{"k": "v"}]}, "num": -0.0, "big": 123456789012345678901234567890}',
     '[1, 2.0, 3e0]', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"#;

/// For one row (`ID = 1`) of [`EVERY_TYPE_TABLE`]'s target: a different value of each column,
/// in Snowflake SQL.
const EVERY_TYPE_CHANGES: &[(&str, &str)] = &[
    ("ID", "5"),
    ("N38_0", "999999999999999998"),
    ("N38_10", "9999999999999999999999999999.9999999998"),
    ("N20_5", "999999999999999.99998"),
    ("N_BARE", "10000000001"),
    ("BIG", "9223372036854775806"),
    ("I", "2147483646"),
    ("S", "32766"),
    ("DBL", "1e299"),
    ("R", "3.4e38"),
    ("B", "FALSE"),
    ("T", "'Zoe'"),
    ("VC", "' '"),
    ("CH", "'ab!'"),
    ("TS", "'9999-12-31 23:59:59.999998'::TIMESTAMP_NTZ"),
    ("TSTZ", "'2019-12-31 22:00:00.000002'::TIMESTAMP_TZ"),
    ("D", "'9999-12-30'::DATE"),
    ("TM", "'23:59:59.999998'::TIME"),
    ("BIN", "TO_BINARY('00ff81', 'HEX')"),
    (
        "JB",
        r#"PARSE_JSON('{"a": [1, 2.51, "x"], "b": 1, "c": {"y": 1000, "z": null}}')"#,
    ),
    ("JS", r#"PARSE_JSON('{"a": [1, 2.5], "b": 1, "u": "e"}')"#),
    ("U", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'"),
];

#[test]
fn a_sqlite_table_with_every_type_verifies_and_each_changed_value_is_caught() {
    let env = Env::fresh("verify_sqlite");
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = dir.path().join("source.sqlite");
    sqlite3(&database, SQLITE_TABLE);
    let source = sqlite_source(&database);
    let plan = analyze(&source, SourcePlatform::Sqlite, "main", "main", "items", 2);
    let loaded = load(&env, &source, &plan, dir.path(), "SQLITE_ITEMS");
    assert_eq!(loaded.rows(), 4);
    let mut session = env.session();
    let workflow = register_completed_workflow(&env, &mut session, &[&loaded]);
    assert_verified(&mut session, &env, workflow, &[&loaded]);
    let changes: &[(&str, &str)] = &[
        ("ID", "5"),
        ("NAME", "'Zoe 🦄'"),
        ("EMAIL", "'b@example.com'"),
        ("COUNTRY", "'DF'"),
        ("PRICE", "12.31"),
        ("BALANCE", "-5000.01"),
        ("AMOUNT", "0.0002"),
        ("TOTAL", "10000000001"),
        ("WEIGHT", "1.5000000000000002"),
        ("RATIO", "1e299"),
        ("FLAG", "FALSE"),
        ("CREATED_AT", "'2020-01-01 00:00:00.000002'::TIMESTAMP_NTZ"),
        ("BORN", "'2024-02-28'::DATE"),
        ("PHOTO", "TO_BINARY('00ff81', 'HEX')"),
        ("DOC", r#"'{"a":[1,2.50],"b":1}'"#),
        ("ANYTHING", "'fre'"),
    ];
    assert_each_change_is_caught(&mut session, &env, workflow, &loaded, changes);
}

#[test]
fn the_demo_types_in_postgresql_verify_natively_and_over_odbc() {
    let env = Env::fresh("verify_postgres");
    let schema = test_support::postgres();
    schema
        .client()
        .batch_execute(POSTGRES_TABLE)
        .expect("create the PostgreSQL table");
    let mut tables = Vec::new();
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
            "items",
            2,
        );
        tables.push(load(&env, &source, &plan, dir.path(), target));
    }
    let mut session = env.session();
    let tables: Vec<&Loaded> = tables.iter().collect();
    let workflow = register_completed_workflow(&env, &mut session, &tables);
    assert_verified(&mut session, &env, workflow, &tables);
}

#[test]
fn the_numbers_table_of_issue_9_verifies_natively_and_over_odbc() {
    let env = Env::fresh("verify_numbers");
    let schema = test_support::postgres();
    schema
        .client()
        .batch_execute(NUMBERS_TABLE)
        .expect("create the PostgreSQL table");
    let mut tables = Vec::new();
    for (source, target) in [
        (native_source(), "PG_NATIVE_NUMBERS"),
        (pg_odbc_source(), "PG_ODBC_NUMBERS"),
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let plan = analyze(
            &source,
            SourcePlatform::Postgresql,
            "postgres",
            &schema.schema,
            "numbers",
            2,
        );
        let n_bare = plan
            .columns
            .iter()
            .find(|c| c.target_name == "N_BARE")
            .expect("the bare numeric column");
        assert_eq!(n_bare.snowflake_type, "NUMBER(38,9)");
        tables.push(load(&env, &source, &plan, dir.path(), target));
    }
    let mut session = env.session();
    let tables: Vec<&Loaded> = tables.iter().collect();
    let workflow = register_completed_workflow(&env, &mut session, &tables);
    assert_verified(&mut session, &env, workflow, &tables);
}

#[test]
fn every_postgres_type_verifies_natively_and_over_odbc_and_each_changed_value_is_caught() {
    let env = Env::fresh("verify_every_type");
    let schema = test_support::postgres();
    schema
        .client()
        .batch_execute(EVERY_TYPE_TABLE)
        .expect("create the PostgreSQL table");
    let expected = psql_canonical_rows(&schema.schema);
    let mut session = env.session();
    for (source, target) in [
        (native_source(), "PG_NATIVE_EVERY_TYPE"),
        (pg_odbc_source(), "PG_ODBC_EVERY_TYPE"),
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let plan = analyze(
            &source,
            SourcePlatform::Postgresql,
            "postgres",
            &schema.schema,
            "every_type",
            2,
        );
        let loaded = load(&env, &source, &plan, dir.path(), target);
        // The independent reader: both sides of the checksum against psql's own text.
        let columns = loaded.read_back_columns();
        let extracted = read_parquet(&loaded.stage_dir)
            .iter()
            .map(|batch| mark_read_back(batch, &columns).expect("mark the extracted batch"))
            .collect::<Vec<_>>();
        assert_canonical_rows_match_psql(&format!("{target} (Parquet)"), &extracted, &expected);
        let read_back = session
            .query(&read_back_sql(&loaded.qualified, &columns), &[])
            .expect("read the target back")
            .iter()
            .map(|batch| mark_read_back(batch, &columns).expect("mark the read-back"))
            .collect::<Vec<_>>();
        assert_canonical_rows_match_psql(&format!("{target} (read back)"), &read_back, &expected);

        let workflow = register_completed_workflow(&env, &mut session, &[&loaded]);
        assert_verified(&mut session, &env, workflow, &[&loaded]);
        assert_each_change_is_caught(&mut session, &env, workflow, &loaded, EVERY_TYPE_CHANGES);
    }
}

#[test]
fn verify_reads_a_target_of_many_batches_one_batch_at_a_time() {
    let env = Env::fresh("verify_streaming");
    let schema = test_support::postgres();
    schema
        .client()
        .batch_execute(
            "CREATE TABLE wide AS
             SELECT i AS id, md5(i::text) AS digest, (i * 0.5)::numeric(12,1) AS half,
                    TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 second' AS happened
             FROM generate_series(1, 600000) AS i;
             ALTER TABLE wide ADD PRIMARY KEY (id);
             ANALYZE wide;",
        )
        .expect("create the PostgreSQL table");
    let source = native_source();
    let dir = tempfile::tempdir().expect("temporary directory");
    let plan = analyze(
        &source,
        SourcePlatform::Postgresql,
        "postgres",
        &schema.schema,
        "wide",
        200_000,
    );
    let loaded = load(&env, &source, &plan, dir.path(), "PG_WIDE");
    assert_eq!(loaded.rows(), 600_000);
    let mut session = env.session();
    let read_back = target_checksum(&mut session, &loaded.qualified, &loaded.read_back_columns())
        .expect("read the target back");
    assert_eq!(read_back.rows, 600_000);
    assert_eq!(read_back.checksum, loaded.extracted_checksum());
    assert!(
        read_back.batches >= 4 && read_back.largest_batch_rows < 200_000,
        "the driver delivered {} batches of at most {} rows: the table must span several",
        read_back.batches,
        read_back.largest_batch_rows
    );
    let workflow = register_completed_workflow(&env, &mut session, &[&loaded]);
    assert_verified(&mut session, &env, workflow, &[&loaded]);
}

/// A table loaded through the real pipeline.
struct Loaded {
    plan: TablePlan,
    /// The fully qualified target table, as SQL.
    qualified: String,
    /// Per partition: (partition number, rows extracted, checksum reported).
    partitions: Vec<(u32, u64, ContentChecksum)>,
    /// Where the Parquet files of every partition were staged locally.
    stage_dir: PathBuf,
    _dir: PathBuf,
}

impl Loaded {
    fn rows(&self) -> u64 {
        self.partitions.iter().map(|(_, rows, _)| rows).sum()
    }

    fn extracted_checksum(&self) -> ContentChecksum {
        self.partitions
            .iter()
            .fold(ContentChecksum::default(), |sum, (_, _, c)| sum.combine(*c))
    }

    fn read_back_columns(&self) -> Vec<ReadBackColumn> {
        self.plan
            .columns
            .iter()
            .map(|column| ReadBackColumn {
                sql_name: column_sql_name(&column.target_name),
                snowflake_type: column.snowflake_type.clone(),
            })
            .collect()
    }
}

/// Plans `table` like a worker does, from a workflow document partitioned by `id`.
fn analyze(
    source: &SourceSpec,
    platform: SourcePlatform,
    database: &str,
    schema: &str,
    table: &str,
    max_rows_per_partition: u64,
) -> TablePlan {
    let document = serde_json::json!({
        "tables": [{
            "source": {"databaseName": database, "schemaName": schema, "tableName": table},
            "target": {"databaseName": "T", "schemaName": "PUBLIC", "tableName": table},
            "columnNamesToPartitionBy": ["id"],
            "partitionSize": {"maxRowsPerPartition": max_rows_per_partition}
        }]
    });
    let workflow = parse_workflow_value(&document, Some(platform)).expect("valid workflow");
    let (table, options) = plan_request(&workflow.tables[0]).expect("plan request");
    analyze_table(source, platform, table, options).expect("analyze the source table")
}

/// Extracts every partition, creates `target` and COPYs the files into it, as the worker and
/// the orchestrator do.
fn load(env: &Env, source: &SourceSpec, plan: &TablePlan, dir: &Path, target: &str) -> Loaded {
    let stage_dir = dir.join("stage");
    let partitions = plan
        .partitions
        .iter()
        .map(|partition| {
            let (rows, checksum) = extract_partition(source, plan, partition, dir, &stage_dir);
            (partition.index, rows, checksum)
        })
        .collect();

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
    let files = parquet_files(&stage_dir);
    for file in &files {
        session
            .put_file(file, &folder)
            .expect("PUT a partition file");
    }
    // The orchestrator's own COPY: the listed files, the deployed Parquet file format, and the
    // PARSE_JSON transformation for semi-structured columns.
    let options = DeployOptions {
        procedures: false,
        ..DeployOptions::default()
    };
    metadata::deploy(&mut session, &env.names, &options).expect("deploy the metadata");
    let names: Vec<String> = files
        .iter()
        .map(|file| {
            file.file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let file_format = format!("{}.PARQUET_FILE_FORMAT", env.names.migration_schema_sql());
    let copy = copy_files_sql(&CopyFiles {
        table: &qualified,
        columns: &load_columns(plan),
        stage_folder: &folder,
        files: &names,
        file_format: &file_format,
    })
    .expect("the COPY statement");
    session
        .query(&copy, &[])
        .expect("COPY INTO the target table");
    Loaded {
        plan: plan.clone(),
        qualified,
        partitions,
        stage_dir,
        _dir: dir.to_path_buf(),
    }
}

fn extract_partition(
    source: &SourceSpec,
    plan: &TablePlan,
    partition: &Partition,
    dir: &Path,
    stage_dir: &Path,
) -> (u64, ContentChecksum) {
    let request =
        migration_core::workflow::extract_request(plan, partition).expect("extraction query");
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
    let outcome = extract(
        source,
        &request,
        &options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .expect("extract a partition");
    (outcome.rows, outcome.checksum)
}

/// Writes the metadata a completed workflow leaves for `tables` (the metadata is deployed:
/// [`load`] did it for their COPY): one TABLE_METADATA row each, with the analysis, and one
/// completed PARTITION_METADATA row per extracted partition with its rows and checksum. The
/// workflow id.
fn register_completed_workflow(env: &Env, session: &mut Session, tables: &[&Loaded]) -> i64 {
    let workflow_id: i64 = rand_id();
    for (i, table) in tables.iter().enumerate() {
        let source_identifier = format!("{}#{i}", table.plan.table.display_name());
        let analysis = AnalyzeResult {
            plan: table.plan.clone(),
        }
        .to_json()
        .to_string();
        session
            .execute(
                &format!(
                    "INSERT INTO {} (WORKFLOW_ID, SOURCE_IDENTIFIER, TARGET_IDENTIFIER, ANALYSIS, \
                     HAS_BEEN_ANALYZED, CREATED_AT) \
                     SELECT ?, ?, ?, PARSE_JSON(?), TRUE, CURRENT_TIMESTAMP()",
                    env.object("TABLE_METADATA")
                ),
                &[
                    SqlValue::Int(workflow_id),
                    SqlValue::Text(source_identifier.clone()),
                    SqlValue::Text(table.qualified.clone()),
                    SqlValue::Text(analysis),
                ],
            )
            .expect("insert TABLE_METADATA");
        let table_id = support::scalar(
            session,
            &format!(
                "SELECT ID FROM {} WHERE WORKFLOW_ID = {workflow_id} AND SOURCE_IDENTIFIER = '{source_identifier}'",
                env.object("TABLE_METADATA")
            ),
        )
        .expect("the table's id");
        for (number, rows, checksum) in &table.partitions {
            session
                .execute(
                    &format!(
                        "INSERT INTO {} (WORKFLOW_ID, TABLE_ID, PARTITION_NUMBER, STATUS, \
                         ROWS_EXTRACTED, CHECKSUM, CREATED_AT) \
                         SELECT ?, ?, ?, 'COMPLETED', ?, ?, CURRENT_TIMESTAMP()",
                        env.object("PARTITION_METADATA")
                    ),
                    &[
                        SqlValue::Int(workflow_id),
                        SqlValue::Int(table_id.parse().expect("a numeric id")),
                        SqlValue::Int((*number).into()),
                        SqlValue::Int(i64::try_from(*rows).expect("rows fit i64")),
                        SqlValue::Text(checksum.to_string()),
                    ],
                )
                .expect("insert PARTITION_METADATA");
        }
    }
    workflow_id
}

fn rand_id() -> i64 {
    let uuid = uuid::Uuid::new_v4();
    i64::from_le_bytes(uuid.as_bytes()[..8].try_into().expect("8 bytes")).rem_euclid(1 << 40)
}

/// `orchestrator verify`'s report for the workflow.
fn verify_report(session: &mut Session, env: &Env, workflow_id: i64) -> String {
    let verdicts = verify_workflow(session, &Statements::new(&env.names), workflow_id)
        .expect("verify the workflow");
    render(&verdicts)
}

/// The report proves every table; on a mismatch, panics naming the columns that differ.
fn assert_verified(session: &mut Session, env: &Env, workflow_id: i64, tables: &[&Loaded]) {
    let report = verify_report(session, env, workflow_id);
    let all = tables.len();
    if report.contains(&format!("{all} of {all} table(s) verified")) {
        for line in report.lines().take(all) {
            assert!(line.ends_with("checksum matches"), "{report}");
        }
        return;
    }
    let mut details = String::new();
    for table in tables {
        let columns = table.read_back_columns();
        let extracted = read_parquet(&table.stage_dir);
        let target = session
            .query(&read_back_sql(&table.qualified, &columns), &[])
            .expect("read the target back");
        details.push_str(&format!(
            "{}:\n{}",
            table.qualified,
            column_report(&columns, &extracted, &target)
        ));
    }
    panic!("orchestrator verify did not prove the copy:\n{report}\nper column:\n{details}");
}

/// For each (column, new value): inside a transaction that is rolled back, the target's row
/// `ID = 1` gets the new value, and verify must report CHECKSUM DIFFERS with equal counts.
fn assert_each_change_is_caught(
    session: &mut Session,
    env: &Env,
    workflow_id: i64,
    table: &Loaded,
    changes: &[(&str, &str)],
) {
    let planned: Vec<&str> = table
        .plan
        .columns
        .iter()
        .map(|c| c.target_name.as_str())
        .collect();
    let changed: Vec<&str> = changes.iter().map(|(column, _)| *column).collect();
    assert_eq!(changed, planned, "one change per column, in column order");
    for (column, value) in changes {
        session.execute("BEGIN", &[]).expect("BEGIN");
        let updated = session
            .execute(
                &format!(
                    "UPDATE {} SET {column} = {value} WHERE ID = 1",
                    table.qualified
                ),
                &[],
            )
            .unwrap_or_else(|error| panic!("change {column} to {value}: {error}"));
        assert_eq!(updated, 1, "{column}: one row changed");
        let report = verify_report(session, env, workflow_id);
        session.execute("ROLLBACK", &[]).expect("ROLLBACK");
        let line = report.lines().next().unwrap_or_default();
        assert!(
            line.contains("CHECKSUM DIFFERS") && !line.contains("ROW COUNTS DIFFER"),
            "{column} = {value} went unnoticed:\n{report}"
        );
    }
    let report = verify_report(session, env, workflow_id);
    assert!(report.contains("1 of 1 table(s) verified"), "{report}");
}

// ---- the independent reader -------------------------------------------------------------

/// Field separator and NULL marker for psql's unaligned output; text values contain tabs and
/// newlines, so neither is used.
const PSQL_FIELD: &str = "\u{1f}";
const PSQL_RECORD: &str = "\u{1e}";
const PSQL_NULL: &str = "\u{2205}";

/// How this file reads each column of [`EVERY_TYPE_TABLE`] from psql's text.
#[derive(Debug, Clone, Copy)]
enum PsqlText {
    Exact,
    Float,
    Boolean,
    Text,
    Timestamp,
    TimestampUtc,
    Date,
    Time,
    Bytea,
    Json,
}

/// The columns in table order, with how psql's text of each is read (`real` is selected as
/// `float8`, the double Snowflake's FLOAT holds).
const EVERY_TYPE_PSQL: &[(&str, PsqlText)] = &[
    ("id", PsqlText::Exact),
    ("n38_0", PsqlText::Exact),
    ("n38_10", PsqlText::Exact),
    ("n20_5", PsqlText::Exact),
    ("n_bare", PsqlText::Exact),
    ("big", PsqlText::Exact),
    ("i", PsqlText::Exact),
    ("s", PsqlText::Exact),
    ("dbl", PsqlText::Float),
    ("r::float8", PsqlText::Float),
    ("b", PsqlText::Boolean),
    ("t", PsqlText::Text),
    ("vc", PsqlText::Text),
    ("ch", PsqlText::Text),
    ("ts", PsqlText::Timestamp),
    ("tstz", PsqlText::TimestampUtc),
    ("d", PsqlText::Date),
    ("tm", PsqlText::Time),
    ("bin", PsqlText::Bytea),
    ("jb", PsqlText::Json),
    ("js", PsqlText::Json),
    ("u", PsqlText::Text),
];

/// One expected value: the canonical text, or for JSON the parsed document.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    Text(String),
    Json(serde_json::Value),
}

/// psql's text output of [`EVERY_TYPE_TABLE`] (session time zone UTC), ordered by id, turned
/// into the normaliser's canonical text by this file's own rules.
fn psql_canonical_rows(schema: &str) -> Vec<Vec<Option<Expected>>> {
    let select = EVERY_TYPE_PSQL
        .iter()
        .map(|(expression, _)| *expression)
        .collect::<Vec<_>>()
        .join(", ");
    let output = std::process::Command::new("psql")
        .args([
            "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
        ])
        .args(["-F", PSQL_FIELD, "-R", PSQL_RECORD, "-P"])
        .arg(format!("null={PSQL_NULL}"))
        .args(["-c", "SET TIME ZONE 'UTC'", "-c"])
        .arg(format!("SELECT {select} FROM {schema}.every_type ORDER BY id"))
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run psql ({error}): install postgresql-client (apt-get install postgresql-client)")
        });
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("psql prints UTF-8");
    text.trim_end_matches('\n')
        .split(PSQL_RECORD)
        .filter(|record| !record.is_empty())
        .map(|record| {
            let fields: Vec<&str> = record.split(PSQL_FIELD).collect();
            assert_eq!(
                fields.len(),
                EVERY_TYPE_PSQL.len(),
                "psql record {record:?}"
            );
            fields
                .iter()
                .zip(EVERY_TYPE_PSQL)
                .map(|(field, (_, reading))| {
                    (*field != PSQL_NULL).then(|| expected_value(field, *reading))
                })
                .collect()
        })
        .collect()
}

fn expected_value(text: &str, reading: PsqlText) -> Expected {
    let canonical = match reading {
        PsqlText::Exact => format!("n:{}", exact_number(text)),
        PsqlText::Float => format!("f:{}", float_in_exponent_form(text)),
        PsqlText::Boolean => match text {
            "t" => "b:true".to_owned(),
            "f" => "b:false".to_owned(),
            other => panic!("psql boolean {other:?}"),
        },
        PsqlText::Text => format!("s:{text}"),
        PsqlText::Timestamp => format!("l:{}", text.replacen(' ', "T", 1)),
        PsqlText::TimestampUtc => {
            let local = text
                .strip_suffix("+00")
                .unwrap_or_else(|| panic!("psql timestamptz in UTC {text:?}"));
            format!("z:{}Z", local.replacen(' ', "T", 1))
        }
        PsqlText::Date => format!("d:{text}"),
        PsqlText::Time => format!("t:{text}"),
        PsqlText::Bytea => format!(
            "x:{}",
            text.strip_prefix("\\x")
                .unwrap_or_else(|| panic!("psql bytea {text:?}"))
        ),
        PsqlText::Json => {
            return Expected::Json(serde_json::from_str(text).expect("psql prints JSON"))
        }
    };
    Expected::Text(canonical)
}

/// PostgreSQL prints exact numbers positionally; only trailing fractional zeros are not part
/// of the value.
fn exact_number(text: &str) -> String {
    if !text.contains('.') {
        return text.to_owned();
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// PostgreSQL prints a double with its shortest round-trip digits (`1e+300`, `5e-324`,
/// `0.1`, `3.4028234663852886e+38`); the same digits as `d[.ddd]e<exponent>`.
fn float_in_exponent_form(text: &str) -> String {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().expect("exponent")),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let leading = digits.bytes().take_while(|&b| b == b'0').count();
    let significant = digits[leading..].trim_end_matches('0');
    if significant.is_empty() {
        return "0e0".to_owned();
    }
    let point = whole.len() as i64 - leading as i64 - 1 + exponent;
    let sign = if negative { "-" } else { "" };
    let (first, rest) = significant.split_at(1);
    if rest.is_empty() {
        format!("{sign}{first}e{point}")
    } else {
        format!("{sign}{first}.{rest}e{point}")
    }
}

/// JSON compared as values: same structure, same strings, numbers equal as doubles.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}

/// The normaliser's canonical rows of `batches` (sorted by id) equal psql's.
fn assert_canonical_rows_match_psql(
    what: &str,
    batches: &[RecordBatch],
    expected: &[Vec<Option<Expected>>],
) {
    let mut rows: Vec<Vec<Option<String>>> = batches.iter().flat_map(canonical_rows).collect();
    let id = |row: &Vec<Option<String>>| -> i64 {
        row[0]
            .as_deref()
            .and_then(|text| text.strip_prefix("n:"))
            .and_then(|text| text.parse().ok())
            .expect("an integer id")
    };
    rows.sort_by_key(id);
    assert_eq!(rows.len(), expected.len(), "{what}: rows");
    for (row, expected_row) in rows.iter().zip(expected) {
        for ((value, expected), (column, _)) in row.iter().zip(expected_row).zip(EVERY_TYPE_PSQL) {
            let agrees = match (value, expected) {
                (None, None) => true,
                (Some(value), Some(Expected::Text(text))) => value == text,
                (Some(value), Some(Expected::Json(document))) => value
                    .strip_prefix("j:")
                    .and_then(|json| serde_json::from_str(json).ok())
                    .is_some_and(|parsed| same_json(&parsed, document)),
                _ => false,
            };
            assert!(
                agrees,
                "{what}: row {}, column {column}: the normaliser says {value:?}, psql {expected:?}",
                id(row)
            );
        }
    }
}

// ---- helpers ------------------------------------------------------------------------------

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
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

/// One line per column: its name, both Arrow types and whether the column checksums agree
/// (both sides marked from the plan, as verify marks them).
fn column_report(
    columns: &[ReadBackColumn],
    extracted: &[RecordBatch],
    target: &[RecordBatch],
) -> String {
    let mut report = String::new();
    for (i, column) in columns.iter().enumerate() {
        let (extracted_type, extracted_sum) = column_checksum(extracted, i, column);
        let (target_type, target_sum) = column_checksum(target, i, column);
        let verdict = if extracted_sum == target_sum {
            "same"
        } else {
            "DIFFERS"
        };
        report.push_str(&format!(
            "  {}: {verdict} (extracted {extracted_type}, target {target_type})\n",
            column.sql_name
        ));
    }
    report
}

fn column_checksum(
    batches: &[RecordBatch],
    index: usize,
    column: &ReadBackColumn,
) -> (String, ContentChecksum) {
    let mut sum = ContentChecksum::default();
    let mut data_type = String::from("?");
    for batch in batches {
        let array: ArrayRef = batch.column(index).clone();
        let field = batch.schema().field(index).clone();
        data_type = field.data_type().to_string();
        let single = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![array])
            .expect("one-column batch");
        let marked = mark_read_back(&single, std::slice::from_ref(column)).expect("marked");
        sum.add_batch(&marked);
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
        params: test_support::pg_connect_params("verify-content-test"),
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
