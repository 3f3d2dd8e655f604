//! The session against a real Snowflake account: what the emulator cannot prove (real
//! NUMBER(38) values beyond int64 in decimal128, encrypted PUT to a cloud stage, COPY load
//! history, real lock waits, real error codes).
//!
//! Ignored by default (`cargo test -p migration-core --test snowflake_session_live --
//! --ignored` runs it), so it never shows as passed without an account. It needs
//! `SNOWFLAKE_TEST_CONNECTION`, the name of a connection in
//! `$SNOWFLAKE_HOME/connections.toml` (default `~/.snowflake/connections.toml`) whose role may
//! create a database. Everything happens in a fresh database `DMO_SESSION_TEST_<random>`, which
//! is dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use migration_core::snowflake::{ConnectParams, ErrorKind, Session};
use test_support::{live_connect_params, live_connection_name};

fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
#[ignore = "needs a Snowflake account: SNOWFLAKE_TEST_CONNECTION"]
fn session_features_on_a_real_account() {
    let connection = live_connection_name("the session against Snowflake");
    let mut params = live_connect_params(&connection);
    let mut admin = Session::connect(&params).expect("connect to Snowflake");
    let database = format!("DMO_SESSION_TEST_{}", uuid::Uuid::new_v4().simple()).to_uppercase();
    admin
        .execute(&format!("CREATE DATABASE {database}"), &[])
        .expect("create the test database");
    params.database = Some(database.clone());
    params.schema = Some("PUBLIC".to_owned());
    let outcome = std::panic::catch_unwind(|| exercise(&params));
    admin
        .execute(&format!("DROP DATABASE IF EXISTS {database}"), &[])
        .expect("drop the test database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn exercise(params: &ConnectParams) {
    let mut session = Session::connect(params).expect("connect to the test database");

    // decimal128 straight from Snowflake: values beyond int64, alone in the result.
    let rows = session
        .query_rows(
            "SELECT 99999999999999999999999999999999999999::NUMBER(38,0) AS BIG \
             UNION ALL SELECT NULL ORDER BY 1",
            &[],
        )
        .expect("NUMBER(38,0) beyond int64");
    assert_eq!(
        rows,
        vec![
            vec![text("99999999999999999999999999999999999999")],
            vec![None]
        ]
    );

    // Encrypted PUT to an internal stage, COPY, and the load history making a repeat a no-op.
    session
        .execute("CREATE TABLE TARGET (ID NUMBER(38,0), NAME VARCHAR)", &[])
        .expect("create table");
    session
        .execute(
            "CREATE STAGE LANDING ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')",
            &[],
        )
        .expect("create stage");
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("part_0.parquet");
    write_parquet(&file);
    let location = format!(
        "@{}.PUBLIC.LANDING/wf/1/",
        params.database.as_deref().unwrap_or_default()
    );
    let put = session.put_file(&file, &location).expect("put");
    assert!(
        put.status == "UPLOADED" || put.status == "SKIPPED",
        "{put:?}"
    );
    let copy = format!(
        "COPY INTO TARGET FROM {location} FILE_FORMAT = (TYPE = PARQUET) \
         MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    );
    session.query(&copy, &[]).expect("first copy");
    session.query(&copy, &[]).expect("repeated copy");
    let count = session
        .query_rows("SELECT COUNT(*) FROM TARGET", &[])
        .expect("count");
    assert_eq!(
        count,
        vec![vec![text("2")]],
        "the repeated COPY loaded nothing"
    );

    // Real error codes: an unknown table is a compilation error, not retryable.
    let error = session
        .query("SELECT * FROM NO_SUCH_TABLE", &[])
        .expect_err("unknown table");
    assert_eq!(error.kind(), ErrorKind::Compilation, "{error:?}");
    assert!(!error.is_retryable());

    // A real lock wait: the second writer waits for the first transaction.
    session
        .execute("INSERT INTO TARGET VALUES (9, 'x')", &[])
        .expect("row");
    let mut second = Session::connect(params).expect("second session");
    session.execute("BEGIN", &[]).expect("begin");
    session
        .execute("UPDATE TARGET SET NAME = 'first' WHERE ID = 9", &[])
        .expect("first update");
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let result = second.execute("UPDATE TARGET SET NAME = 'second' WHERE ID = 9", &[]);
        (result, started.elapsed())
    });
    std::thread::sleep(Duration::from_secs(2));
    session.execute("COMMIT", &[]).expect("commit");
    let (result, waited) = waiter.join().expect("waiter");
    assert_eq!(result.expect("second update after the wait"), 1);
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
}

fn write_parquet(path: &std::path::Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec!["a", "b"])),
        ],
    )
    .expect("batch");
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}
