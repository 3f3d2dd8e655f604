//! Bad input for the extraction pipeline: every failure names what failed (table, column,
//! driver, target) and says whether retrying the task can help.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and the ODBC driver
//! `PostgreSQL Unicode` (Debian: odbc-postgresql).

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use config_schema::SourcePlatform;
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::extract::{
    extract, ExtractError, ExtractOptions, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::odbc::OdbcReadOptions;
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::source::postgres_native::{PgConnectParams, PgReadOptions};
use test_support::{pg_connect_params, postgres_client as pg_client};
use tokio_util::sync::CancellationToken;

fn params(port: u16, database: &str) -> PgConnectParams {
    PgConnectParams {
        port,
        password: Some("wrong-or-unneeded".into()),
        database: database.into(),
        connect_timeout: Duration::from_secs(5),
        ..pg_connect_params("extract-errors")
    }
}

fn native(port: u16, database: &str) -> SourceSpec {
    SourceSpec::PostgresNative {
        params: params(port, database),
        read: PgReadOptions::default(),
    }
}

fn odbc(driver: &str, port: u16, database: &str, read: OdbcReadOptions) -> SourceSpec {
    let settings = OdbcSettings {
        driver_name: driver.into(),
        host: Some("127.0.0.1".into()),
        port: Some(port),
        database: database.into(),
        username: Some("postgres".into()),
        password: Some("s3cret-value".into()),
        ..OdbcSettings::default()
    };
    SourceSpec::Odbc {
        connection_string: build_connection_string(
            SourcePlatform::Postgresql,
            &settings,
            &OdbcTuning::default(),
        ),
        read,
    }
}

/// A TCP port on 127.0.0.1 with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

struct PgSchema(String);

impl PgSchema {
    fn create(sql: &str) -> PgSchema {
        let name = format!("xerr_{}", uuid::Uuid::new_v4().simple());
        pg_client()
            .batch_execute(&format!(
                "CREATE SCHEMA {name}; {}",
                sql.replace("{s}", &name)
            ))
            .unwrap_or_else(|e| panic!("cannot create PostgreSQL schema {name}: {e}"));
        PgSchema(name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = pg_client().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

fn run(source: &SourceSpec, table: &str, select_sql: &str, fields: Vec<Field>) -> ExtractError {
    let dir = tempfile::tempdir().expect("tempdir");
    let request = ExtractRequest {
        select_sql: select_sql.into(),
        schema: Arc::new(Schema::new(fields)),
    };
    let options = ExtractOptions {
        table: table.into(),
        target_column_names: vec![],
        local_dir: dir.path().join("local"),
        parquet: ParquetOptions::default(),
    };
    let mut uploader = LocalDirUploader::new(dir.path().join("stage"));
    let error = extract(
        source,
        &request,
        &options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .expect_err("the extraction must fail");
    assert!(
        !format!("{error} {error:?}").contains("s3cret-value"),
        "a secret leaked: {error}"
    );
    error
}

fn id_field() -> Vec<Field> {
    vec![Field::new("id", DataType::Int32, false)]
}

#[test]
fn unreachable_source_is_retryable() {
    let port = closed_port();
    for source in [
        native(port, "postgres"),
        odbc(
            "PostgreSQL Unicode",
            port,
            "postgres",
            OdbcReadOptions::default(),
        ),
    ] {
        let error = run(&source, "public.t", "SELECT 1::int AS id", id_field());
        assert!(matches!(error, ExtractError::Unreachable { .. }), "{error}");
        assert!(error.is_retryable(), "{error}");
        assert!(
            error.to_string().contains(&port.to_string()) || error.to_string().contains("Port="),
            "{error}"
        );
    }
}

#[test]
fn rejected_login_is_not_retryable() {
    // Trust authentication accepts any password on this machine, so the rejection used here is
    // a database that does not exist: the server refuses the session the same way.
    let database = format!("missing_{}", uuid::Uuid::new_v4().simple());
    for source in [
        native(5432, &database),
        odbc(
            "PostgreSQL Unicode",
            5432,
            &database,
            OdbcReadOptions::default(),
        ),
    ] {
        let error = run(&source, "public.t", "SELECT 1::int AS id", id_field());
        assert!(
            matches!(error, ExtractError::Authentication { .. }),
            "{error}"
        );
        assert!(!error.is_retryable());
        assert!(error.to_string().contains(&database), "{error}");
    }
}

#[test]
fn missing_odbc_driver_names_the_driver() {
    let error = run(
        &odbc(
            "No Such ODBC Driver",
            5432,
            "postgres",
            OdbcReadOptions::default(),
        ),
        "public.t",
        "SELECT 1",
        id_field(),
    );
    assert!(
        matches!(error, ExtractError::MissingDriver { .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("No Such ODBC Driver"), "{error}");
}

#[test]
fn missing_table_names_the_table() {
    let table = format!("public.missing_{}", uuid::Uuid::new_v4().simple());
    let sql = format!("SELECT id FROM {table}");
    for source in [
        native(5432, "postgres"),
        odbc(
            "PostgreSQL Unicode",
            5432,
            "postgres",
            OdbcReadOptions::default(),
        ),
    ] {
        let error = run(&source, &table, &sql, id_field());
        assert!(
            matches!(error, ExtractError::MissingTable { .. }),
            "{error}"
        );
        assert!(!error.is_retryable());
        assert!(error.to_string().contains(&table), "{error}");
    }
}

#[test]
fn unsupported_column_type_names_table_and_column() {
    let schema = PgSchema::create(
        "CREATE TABLE {s}.t (id int, span interval); INSERT INTO {s}.t VALUES (1, '1 day');",
    );
    let table = format!("{}.t", schema.0);
    let sql = format!("SELECT id, span FROM {table}");
    let fields = vec![
        Field::new("id", DataType::Int32, true),
        Field::new("span", DataType::Utf8, true),
    ];
    let error = run(&native(5432, "postgres"), &table, &sql, fields);
    assert!(
        matches!(error, ExtractError::UnsupportedType { .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(
        message.contains("`span`") && message.contains(&table) && message.contains("interval"),
        "{message}"
    );

    // The ODBC path refuses Arrow types it cannot fill, naming the column too.
    let fields = vec![
        Field::new("id", DataType::Int32, true),
        Field::new("span", DataType::LargeUtf8, true),
    ];
    let error = run(
        &odbc(
            "PostgreSQL Unicode",
            5432,
            "postgres",
            OdbcReadOptions::default(),
        ),
        &table,
        &sql,
        fields,
    );
    assert!(
        matches!(error, ExtractError::UnsupportedType { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("`span`"), "{error}");
}

#[test]
fn values_the_target_cannot_hold_name_the_column() {
    let schema = PgSchema::create(
        "CREATE TABLE {s}.t (id int, d date, big text); \
         INSERT INTO {s}.t VALUES (1, 'infinity', repeat('x', 5000));",
    );
    let table = format!("{}.t", schema.0);
    let error = run(
        &native(5432, "postgres"),
        &table,
        &format!("SELECT id, d FROM {table}"),
        vec![
            Field::new("id", DataType::Int32, true),
            Field::new("d", DataType::Date32, true),
        ],
    );
    assert!(
        matches!(error, ExtractError::ValueNotRepresentable { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("`d`") && error.to_string().contains("infinity"),
        "{error}"
    );
    assert!(!error.is_retryable());

    // A text value above the worker's `max_value_bytes` fails loudly on every path, never
    // truncated: ODBC with the length probe (the value is measured before the fetch), ODBC
    // without it (the fetch buffer is the cap), and the native path.
    let fields = || {
        vec![
            Field::new("id", DataType::Int32, true),
            Field::new("big", DataType::Utf8, true),
        ]
    };
    let measured = OdbcReadOptions {
        max_value_bytes: 1024,
        ..OdbcReadOptions::for_platform(SourcePlatform::Postgresql)
    };
    let unmeasured = OdbcReadOptions {
        platform: None,
        ..measured
    };
    let native_capped = SourceSpec::PostgresNative {
        params: params(5432, "postgres"),
        read: PgReadOptions {
            max_value_bytes: 1024,
            ..PgReadOptions::default()
        },
    };
    for source in [
        odbc("PostgreSQL Unicode", 5432, "postgres", measured),
        odbc("PostgreSQL Unicode", 5432, "postgres", unmeasured),
        native_capped,
    ] {
        let error = run(
            &source,
            &table,
            &format!("SELECT id, big FROM {table}"),
            fields(),
        );
        assert!(
            matches!(error, ExtractError::ValueTooLong { limit: 1024, .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("`big`")
                && message.contains(&table)
                && message.contains("max_value_bytes"),
            "{message}"
        );
        assert!(!error.is_retryable());
    }
}

/// Values above Snowflake's VARCHAR (16,777,216 bytes) and BINARY (8,388,608 bytes) limits fail
/// the partition on both paths, naming the column and the limit, before anything is uploaded.
#[test]
fn values_beyond_snowflake_limits_fail_before_upload() {
    let schema = PgSchema::create(
        "CREATE TABLE {s}.t (id int, txt text, bin bytea);          INSERT INTO {s}.t VALUES (1, 'short', '\\x00'),            (2, repeat('x', 16777217), '\\x00'),            (3, 'short', decode(repeat('ab', 8388609), 'hex'));",
    );
    let table = format!("{}.t", schema.0);
    let pg_odbc = |read| odbc("PostgreSQL Unicode", 5432, "postgres", read);
    let sources = [
        native(5432, "postgres"),
        pg_odbc(OdbcReadOptions::for_platform(SourcePlatform::Postgresql)),
    ];
    for source in &sources {
        for (column, data_type, limit, id) in [
            ("txt", DataType::Utf8, "VARCHAR limit of 16777216", 2),
            ("bin", DataType::Binary, "BINARY limit of 8388608", 3),
        ] {
            let error = run(
                source,
                &table,
                &format!("SELECT id, {column} FROM {table} WHERE id IN (1, {id})"),
                vec![
                    Field::new("id", DataType::Int32, true),
                    Field::new(column, data_type, true),
                ],
            );
            assert!(
                matches!(error, ExtractError::BeyondSnowflakeLimit { .. }),
                "{error}"
            );
            let message = error.to_string();
            assert!(
                message.contains(&format!("`{column}`")) && message.contains(limit),
                "{message}"
            );
            assert!(!error.is_retryable());
        }
    }
}

#[test]
fn timestamps_need_microsecond_arrow_types() {
    let error = run(
        &native(5432, "postgres"),
        "public.t",
        "SELECT now()::timestamp AS ts",
        vec![Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        )],
    );
    assert!(
        matches!(error, ExtractError::UnsupportedType { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("`ts`"), "{error}");
}
