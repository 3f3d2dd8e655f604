//! The Snowflake session against the local emulator (a real Snowflake-protocol peer for the
//! ADBC Go driver). Each test gets its own database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use migration_core::snowflake::{
    Auth, ConnectParams, ErrorKind, Session, SessionTimeouts, SnowflakeError, SqlValue,
};
use test_support::{Emulator, TestDatabase};

fn open(prefix: &str) -> (TestDatabase, Session) {
    let database = Emulator::start().database(prefix);
    let session = Session::connect(&database.connect_params()).expect("connect to the emulator");
    (database, session)
}

fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn connects_and_selects() {
    let (_database, mut session) = open("connect");
    let rows = session
        .query_rows("SELECT 1 AS ONE, 'a' AS A", &[])
        .expect("select");
    assert_eq!(rows, vec![vec![text("1"), text("a")]]);
}

#[test]
fn ddl_and_dml_with_bound_parameters() {
    let (_database, mut session) = open("dml");
    session
        .execute(
            "CREATE TABLE ITEMS (ID NUMBER(38,0), NAME VARCHAR, ACTIVE BOOLEAN, SCORE FLOAT)",
            &[],
        )
        .expect("create table");
    let inserted = session
        .execute(
            "INSERT INTO ITEMS (ID, NAME, ACTIVE, SCORE) VALUES (?, ?, ?, ?)",
            &[
                SqlValue::Int(1),
                SqlValue::from("first"),
                SqlValue::Bool(true),
                SqlValue::Float(1.5),
            ],
        )
        .expect("insert with binds");
    assert_eq!(inserted, 1);
    session
        .execute(
            "INSERT INTO ITEMS (ID, NAME, ACTIVE, SCORE) VALUES (?, ?, ?, ?)",
            &[
                SqlValue::Int(2),
                SqlValue::Null,
                SqlValue::Bool(false),
                SqlValue::Null,
            ],
        )
        .expect("insert NULLs");
    let updated = session
        .execute(
            "UPDATE ITEMS SET NAME = ? WHERE ID >= ?",
            &[SqlValue::from("renamed"), SqlValue::Int(2)],
        )
        .expect("update");
    assert_eq!(updated, 1);
    let rows = session
        .query_rows(
            "SELECT ID, NAME, ACTIVE FROM ITEMS WHERE ACTIVE = ? OR ID = ? ORDER BY ID",
            &[SqlValue::Bool(true), SqlValue::Int(2)],
        )
        .expect("select with binds");
    assert_eq!(
        rows,
        vec![
            vec![text("1"), text("first"), text("true")],
            vec![text("2"), text("renamed"), text("false")],
        ]
    );
}

#[test]
fn query_types_read_back_with_nulls() {
    let (_database, mut session) = open("types");
    session
        .execute(
            "CREATE TABLE TYPED (I INTEGER, D NUMBER(12,2), TS TIMESTAMP_NTZ, T VARCHAR, B BOOLEAN)",
            &[],
        )
        .expect("create table");
    session
        .execute(
            "INSERT INTO TYPED VALUES (1, 12.34, '2024-01-01 10:00:00', 'x', TRUE), (2, NULL, NULL, NULL, NULL)",
            &[],
        )
        .expect("insert");
    let batches = session
        .query("SELECT I, D, TS, T, B FROM TYPED ORDER BY I", &[])
        .expect("select");
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("one schema");
    let types: Vec<DataType> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert!(matches!(types[1], DataType::Decimal128(12, 2)), "{types:?}");
    assert!(
        matches!(types[2], DataType::Timestamp(_, None)),
        "{types:?}"
    );
    assert_eq!(types[3], DataType::Utf8);
    assert_eq!(types[4], DataType::Boolean);

    let rows = session
        .query_rows("SELECT I, D, TS, T, B FROM TYPED ORDER BY I", &[])
        .expect("rows");
    assert_eq!(
        rows[0],
        vec![
            text("1"),
            text("12.34"),
            text("2024-01-01T10:00:00"),
            text("x"),
            text("true")
        ]
    );
    // A NULL timestamp is NULL, not 1970-01-01 (fixed by the emulator layer).
    assert_eq!(rows[1], vec![text("2"), None, None, None, None]);
    assert!(batch.column(2).is_null(1));
}

#[test]
fn number_38_column_alone_reads_back() {
    let (_database, mut session) = open("dec128");
    session
        .execute("CREATE TABLE AMOUNTS (AMT NUMBER(38,10))", &[])
        .expect("create table");
    // 123456789012.5 with scale 10 is beyond int64 unscaled, so it travels as decimal128,
    // whose buffers the Go driver may hand over only 8-byte aligned.
    session
        .execute(
            "INSERT INTO AMOUNTS VALUES (123456789012.5), (0.0000000001), (NULL)",
            &[],
        )
        .expect("insert");
    let batches = session
        .query("SELECT AMT FROM AMOUNTS ORDER BY AMT", &[])
        .expect("select decimal only");
    let schema = batches[0].schema();
    assert!(
        matches!(schema.field(0).data_type(), DataType::Decimal128(38, 10)),
        "{schema:?}"
    );
    let rows = session
        .query_rows("SELECT AMT FROM AMOUNTS ORDER BY AMT", &[])
        .expect("rows");
    assert_eq!(
        rows,
        vec![
            vec![text("0.0000000001")],
            vec![text("123456789012.5000000000")],
            vec![None]
        ]
    );
}

#[test]
fn number_38_0_beyond_int64_reads_back_exactly() {
    let (_database, mut session) = open("num38");
    // The same query as the live test against a real account.
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
    session
        .execute("CREATE TABLE BIG (ID INT, N NUMBER(38,0))", &[])
        .expect("create table");
    session
        .execute(
            "INSERT INTO BIG VALUES (1, -10000000000000000000000000000000000000), \
             (2, 99999999999999999999999999999999999999), (3, 7)",
            &[],
        )
        .expect("insert 38-digit values");
    let rows = session
        .query_rows("SELECT ID, N FROM BIG ORDER BY ID", &[])
        .expect("select");
    assert_eq!(
        rows,
        vec![
            vec![text("1"), text("-10000000000000000000000000000000000000")],
            vec![text("2"), text("99999999999999999999999999999999999999")],
            vec![text("3"), text("7")],
        ]
    );
    let rows = session
        .query_rows("SELECT SUM(N), SUM(ID) FROM BIG WHERE ID <> 2", &[])
        .expect("sum");
    assert_eq!(
        rows,
        vec![vec![
            text("-9999999999999999999999999999999999993"),
            text("4")
        ]]
    );
}

fn write_parquet(path: &std::path::Path, ids: &[i64]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let names: Vec<String> = ids.iter().map(|id| format!("row {id}")).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names)),
        ],
    )
    .expect("batch");
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

fn copy_statuses(session: &mut Session, sql: &str) -> Vec<String> {
    let batches = session.query(sql, &[]).expect("copy into");
    let mut statuses = Vec::new();
    for batch in &batches {
        let index = batch
            .schema()
            .index_of("status")
            .expect("COPY reports a status column");
        let column = arrow::compute::cast(batch.column(index), &DataType::Utf8).expect("text");
        statuses.extend(
            column
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned()),
        );
    }
    statuses
}

fn count(session: &mut Session, table: &str) -> String {
    let rows = session
        .query_rows(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .expect("count");
    rows[0][0].clone().expect("a count is never NULL")
}

#[test]
fn put_parquet_then_copy_is_exactly_once() {
    let (database, mut session) = open("copy");
    session
        .execute("CREATE TABLE TARGET (ID NUMBER(38,0), NAME VARCHAR)", &[])
        .expect("create table");
    session
        .execute("CREATE STAGE LANDING", &[])
        .expect("create stage");
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("part_0.parquet");
    write_parquet(&file, &[1, 2, 3]);

    let location = format!("@{}.PUBLIC.LANDING/workflows/1/partition_0/", database.name);
    let outcome = session.put_file(&file, &location).expect("put");
    assert_eq!(outcome.status, "UPLOADED");
    assert_eq!(outcome.target, "part_0.parquet");
    // A retried upload overwrites harmlessly.
    session.put_file(&file, &location).expect("put again");
    let listed = session
        .query_rows("LIST @LANDING", &[])
        .expect("list stage");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0][0].as_deref(),
        Some("landing/workflows/1/partition_0/part_0.parquet")
    );

    let copy = format!(
        "COPY INTO TARGET FROM {location}\n FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    );
    assert_eq!(copy_statuses(&mut session, &copy), ["LOADED"]);
    assert_eq!(count(&mut session, "TARGET"), "3");
    // COPY's load history makes the repeat a no-op: this is what exactly-once loading rests on.
    // Snowflake answers it with one row saying so (skipped files are not listed).
    assert_eq!(
        copy_statuses(&mut session, &copy),
        ["Copy executed with 0 files processed."]
    );
    assert_eq!(count(&mut session, "TARGET"), "3");
    let rows = session
        .query_rows("SELECT ID, NAME FROM TARGET ORDER BY ID", &[])
        .expect("rows");
    assert_eq!(rows[2], vec![text("3"), text("row 3")]);
}

#[test]
fn transaction_rolls_back_on_error_and_commits_on_success() {
    let (_database, mut session) = open("tx");
    session
        .execute("CREATE TABLE LEDGER (ID INTEGER)", &[])
        .expect("create table");
    let failed: Result<(), SnowflakeError> = session.transaction(|s| {
        s.execute("INSERT INTO LEDGER VALUES (1)", &[])?;
        s.execute("INSERT INTO NO_SUCH_TABLE VALUES (1)", &[])?;
        Ok(())
    });
    assert!(failed.is_err());
    assert_eq!(
        count(&mut session, "LEDGER"),
        "0",
        "the first insert was rolled back"
    );

    session
        .transaction(|s| s.execute("INSERT INTO LEDGER VALUES (2)", &[]).map(|_| ()))
        .expect("commit");
    assert_eq!(count(&mut session, "LEDGER"), "1");
}

#[test]
fn bad_sql_is_not_retryable_and_names_the_statement() {
    let (_database, mut session) = open("badsql");
    let error = session
        .query("SELECT * FROM MISSING_TABLE\nWHERE 1 = 1", &[])
        .expect_err("the table does not exist");
    assert!(!error.is_retryable(), "{error:?}");
    assert!(!error.outcome_unknown());
    assert_eq!(error.kind(), ErrorKind::Compilation, "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("`SELECT * FROM MISSING_TABLE …`"),
        "{message}"
    );
}

#[test]
fn unreachable_host_is_retryable_with_a_clear_message() {
    let database = Emulator::start().database("unreachable");
    let mut params = database.connect_params();
    params.port = Some(1);
    params.login_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let error = Session::connect(&params).expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "login gave up in time"
    );
    assert!(error.is_retryable(), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("http://127.0.0.1:1"), "{message}");
    assert!(
        message.contains("check the account, host and port"),
        "{message}"
    );
}

#[test]
fn missing_driver_says_how_to_install_it() {
    let database = Emulator::start().database("nodriver");
    let mut params = database.connect_params();
    params.driver_path = Some("/nonexistent/libadbc_driver_snowflake.so".into());
    let error = Session::connect(&params).expect_err("no driver there");
    let message = error.to_string();
    assert!(
        message.contains("pip install adbc-driver-snowflake==1.11.0"),
        "{message}"
    );
    assert!(message.contains("ADBC_SNOWFLAKE_DRIVER"), "{message}");
}

#[test]
fn expired_session_logs_in_again_transparently() {
    let (database, mut session) = open("expiry");
    session.query_rows("SELECT 1", &[]).expect("first query");
    Emulator::start().expire_sessions(&database.name);
    let rows = session
        .query_rows("SELECT 2", &[])
        .expect("re-login and run");
    assert_eq!(rows, vec![vec![text("2")]]);
}

/// The session's value of each parameter (SHOW PARAMETERS ... IN SESSION).
fn session_parameters(session: &mut Session) -> std::collections::BTreeMap<String, String> {
    let mut values = std::collections::BTreeMap::new();
    for name in ["LOCK_TIMEOUT", "STATEMENT_TIMEOUT_IN_SECONDS", "TIMEZONE"] {
        let rows = session
            .query_rows(&format!("SHOW PARAMETERS LIKE '{name}' IN SESSION"), &[])
            .expect("show parameters");
        let value = rows
            .first()
            .and_then(|row| row.get(1).cloned().flatten())
            .unwrap_or_else(|| panic!("no value of {name}: {rows:?}"));
        values.insert(name.to_owned(), value);
    }
    values
}

fn parameters(lock: &str, statement: &str) -> std::collections::BTreeMap<String, String> {
    [
        ("LOCK_TIMEOUT", lock),
        ("STATEMENT_TIMEOUT_IN_SECONDS", statement),
        ("TIMEZONE", "UTC"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

#[test]
fn every_login_sets_the_timeouts_and_utc_and_a_new_login_sets_them_again() {
    let database = Emulator::start().database("timeouts");
    let mut params = database.connect_params();
    params.timeouts = SessionTimeouts::for_control(Duration::from_secs(40));
    let mut session = Session::connect(&params).expect("connect");
    assert_eq!(session_parameters(&mut session), parameters("10", "20"));

    session
        .set_timeouts(SessionTimeouts::for_control(Duration::from_secs(8)))
        .expect("shorter timeouts");
    assert_eq!(session_parameters(&mut session), parameters("2", "4"));

    // The server forgets the session; the transparent re-login sets the same values again.
    Emulator::start().expire_sessions(&database.name);
    assert_eq!(session_parameters(&mut session), parameters("2", "4"));
}

#[test]
fn a_lock_wait_longer_than_the_lock_timeout_fails_as_retryable() {
    let database = Emulator::start().database("lock_timeout");
    let mut first = Session::connect(&database.connect_params()).expect("first session");
    first
        .execute("CREATE TABLE HELD (ID INTEGER, V INTEGER)", &[])
        .expect("create");
    first
        .execute("INSERT INTO HELD VALUES (1, 0)", &[])
        .expect("insert");
    let mut params = database.connect_params();
    params.timeouts = SessionTimeouts {
        lock: Duration::from_secs(1),
        statement: Duration::from_secs(30),
    };
    let mut waiter = Session::connect(&params).expect("waiting session");
    first.execute("BEGIN", &[]).expect("begin");
    first
        .execute("UPDATE HELD SET V = 1 WHERE ID = 1", &[])
        .expect("hold the lock");
    let error = waiter
        .execute("UPDATE HELD SET V = 2 WHERE ID = 1", &[])
        .expect_err("the lock is held longer than the waiter's lock timeout");
    first.execute("ROLLBACK", &[]).expect("rollback");
    assert_eq!(error.kind(), ErrorKind::LockTimeout, "{error}");
    assert_eq!(error.code(), Some("000625"), "{error}");
    assert!(error.is_retryable(), "{error}");
}

#[test]
fn second_writer_waits_for_the_first_then_succeeds() {
    let (database, mut first) = open("lock");
    first
        .execute("CREATE TABLE COUNTER (ID INTEGER, V INTEGER)", &[])
        .expect("create");
    first
        .execute("INSERT INTO COUNTER VALUES (1, 0)", &[])
        .expect("insert");
    let mut second = Session::connect(&database.connect_params()).expect("second session");

    first.execute("BEGIN", &[]).expect("begin");
    first
        .execute("UPDATE COUNTER SET V = 1 WHERE ID = 1", &[])
        .expect("first update");
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let updated = second.execute("UPDATE COUNTER SET V = V + 10 WHERE ID = 1", &[]);
        (updated, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        !waiter.is_finished(),
        "the second writer waits for the lock"
    );
    first
        .execute("COMMIT", &[])
        .expect("commit releases the lock");
    let (updated, waited) = waiter.join().expect("waiter thread");
    assert_eq!(
        updated.expect("the second update succeeds after the wait"),
        1
    );
    assert!(waited >= Duration::from_millis(700), "waited {waited:?}");
    let rows = first
        .query_rows("SELECT V FROM COUNTER", &[])
        .expect("read");
    assert_eq!(
        rows,
        vec![vec![text("11")]],
        "the second update ran on the committed value"
    );
}

#[test]
fn conflicting_transaction_waits_and_keeps_its_earlier_work() {
    let (database, mut first) = open("lockreplay");
    first
        .execute("CREATE TABLE TASKS (ID INTEGER, OWNER VARCHAR)", &[])
        .expect("create");
    first
        .execute("CREATE TABLE AUDIT (NOTE VARCHAR)", &[])
        .expect("create");
    first
        .execute("INSERT INTO TASKS VALUES (1, NULL), (2, NULL)", &[])
        .expect("insert");
    let mut second = Session::connect(&database.connect_params()).expect("second session");

    first.execute("BEGIN", &[]).expect("begin");
    first
        .execute("UPDATE TASKS SET OWNER = 'first' WHERE ID = 1", &[])
        .expect("first claims task 1");
    let waiter = std::thread::spawn(move || {
        let result: Result<i64, SnowflakeError> = second.transaction(|s| {
            s.execute("INSERT INTO AUDIT VALUES ('second was here')", &[])?;
            // Conflicts with the first session's uncommitted update: waits for its commit.
            s.execute("UPDATE TASKS SET OWNER = 'second' WHERE ID IN (1, 2)", &[])
        });
        result
    });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        !waiter.is_finished(),
        "the second transaction waits for the lock"
    );
    first.execute("COMMIT", &[]).expect("commit");
    let updated = waiter
        .join()
        .expect("waiter thread")
        .expect("second transaction commits");
    assert_eq!(updated, 2);
    let audit = first
        .query_rows("SELECT NOTE FROM AUDIT", &[])
        .expect("audit");
    assert_eq!(
        audit,
        vec![vec![text("second was here")]],
        "work before the wait survived"
    );
    let owners = first
        .query_rows("SELECT OWNER FROM TASKS ORDER BY ID", &[])
        .expect("owners");
    assert_eq!(owners, vec![vec![text("second")], vec![text("second")]]);
}

#[test]
fn unsupported_statement_fails_fast_without_driver_retries() {
    let (_database, mut session) = open("unsupported");
    let started = Instant::now();
    // fakesnow answers HASH above 2^63 with HTTP 500, which the driver would retry for
    // minutes; the layer answers a SQL error instead.
    let error = session
        .query("SELECT HASH(12345678901234)", &[])
        .expect_err("fakesnow cannot encode the result");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!error.is_retryable(), "{error:?}");
    assert_eq!(error.code(), Some("000002"), "{error:?}");
}

#[test]
fn long_statement_runs_off_the_async_runtime() {
    let (_database, session) = open("blocking");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (mut session, rows) =
        runtime.block_on(session.run_blocking(|s| s.query_rows("SELECT 42", &[])));
    assert_eq!(
        rows.expect("query on a blocking thread"),
        vec![vec![text("42")]]
    );
    // The session came back usable.
    assert_eq!(
        session.query_rows("SELECT 43", &[]).expect("reuse"),
        vec![vec![text("43")]]
    );
}

/// A fresh RSA key as PKCS#8 PEM, encrypted with `passphrase` when given (openssl is a test
/// tool here; the emulator accepts any key, so this checks how the key reaches the driver).
fn rsa_key(folder: &std::path::Path, passphrase: Option<&str>) -> std::path::PathBuf {
    let path = folder.join(if passphrase.is_some() {
        "encrypted.p8"
    } else {
        "plain.p8"
    });
    let encryption = match passphrase {
        Some(passphrase) => format!("-v2 aes-256-cbc -passout pass:{passphrase}"),
        None => "-nocrypt".to_owned(),
    };
    let script = format!(
        "openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 {encryption} -out '{}'",
        path.display()
    );
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .expect("run openssl (install it with: apt-get install openssl)");
    assert!(status.success(), "openssl could not create a test key");
    path
}

#[test]
fn key_pair_logins_reach_the_driver() {
    let database = Emulator::start().database("keypair");
    let folder = tempfile::tempdir().expect("temp dir");
    for passphrase in [None, Some("s3cret")] {
        let mut params = database.connect_params();
        params.auth = Auth::KeyPair {
            private_key_file: rsa_key(folder.path(), passphrase),
            passphrase: passphrase.map(str::to_owned),
        };
        let mut session = Session::connect(&params).expect("key-pair login");
        assert_eq!(
            session.query_rows("SELECT 1", &[]).expect("query"),
            vec![vec![text("1")]]
        );
    }
}

#[test]
fn wrong_key_passphrase_is_a_clear_non_retryable_error() {
    let database = Emulator::start().database("keypass");
    let folder = tempfile::tempdir().expect("temp dir");
    let mut params = database.connect_params();
    params.auth = Auth::KeyPair {
        private_key_file: rsa_key(folder.path(), Some("right")),
        passphrase: Some("wrong".to_owned()),
    };
    let error = Session::connect(&params).expect_err("the passphrase does not open the key");
    assert!(!error.is_retryable(), "{error:?}");
    assert!(
        error.to_string().contains("sfemu"),
        "names the account: {error}"
    );
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error:?}");
    assert!(
        error
            .to_string()
            .contains("check the user and the credentials"),
        "{error}"
    );
}

#[test]
fn token_logins_reach_the_driver() {
    let database = Emulator::start().database("tokens");
    for auth in [
        Auth::ProgrammaticAccessToken("pat-token".to_owned()),
        Auth::OAuth("oauth-token".to_owned()),
    ] {
        let mut params = database.connect_params();
        params.auth = auth.clone();
        let mut session =
            Session::connect(&params).unwrap_or_else(|error| panic!("{auth:?}: {error}"));
        assert_eq!(
            session.query_rows("SELECT 1", &[]).expect("query"),
            vec![vec![text("1")]]
        );
    }
}

#[test]
fn concurrent_claimers_each_claim_every_row_exactly_once() {
    const ROWS: i64 = 48;
    const CLAIMERS: usize = 8;
    let (database, mut setup) = open("claims");
    setup
        .execute("CREATE TABLE WORK (ID INTEGER, OWNER VARCHAR)", &[])
        .expect("create");
    setup
        .execute(
            &format!("INSERT INTO WORK SELECT SEQ4() + 1, NULL FROM TABLE(GENERATOR(ROWCOUNT => {ROWS}))"),
            &[],
        )
        .expect("fill");
    assert_eq!(count(&mut setup, "WORK"), ROWS.to_string());

    let claimers: Vec<_> = (0..CLAIMERS)
        .map(|index| {
            let params = database.connect_params();
            std::thread::spawn(move || {
                let mut session = Session::connect(&params).expect("claimer session");
                let me = format!("claimer-{index}");
                let mut claimed = 0_i64;
                loop {
                    // The conditional UPDATE claims the lowest free row; a concurrent claimer
                    // of the same row makes this one wait, then re-evaluate and move on.
                    let updated: Result<i64, SnowflakeError> = session.transaction(|s| {
                        s.execute(
                            "UPDATE WORK SET OWNER = ? WHERE OWNER IS NULL AND ID = (SELECT MIN(ID) FROM WORK WHERE OWNER IS NULL)",
                            &[SqlValue::from(me.as_str())],
                        )
                    });
                    match updated {
                        Ok(0) => {
                            let left = session
                                .query_rows("SELECT COUNT(*) FROM WORK WHERE OWNER IS NULL", &[])
                                .expect("count free rows");
                            if left[0][0].as_deref() == Some("0") {
                                return claimed;
                            }
                        }
                        Ok(n) => claimed += n,
                        Err(error) if error.is_retryable() => {}
                        Err(error) => panic!("{me}: {error}"),
                    }
                }
            })
        })
        .collect();
    let total: i64 = claimers
        .into_iter()
        .map(|c| c.join().expect("claimer thread"))
        .sum();
    assert_eq!(total, ROWS, "every row claimed exactly once");
    let unowned = setup
        .query_rows("SELECT COUNT(*) FROM WORK WHERE OWNER IS NULL", &[])
        .expect("count");
    assert_eq!(unowned, vec![vec![text("0")]]);
}

#[test]
fn multi_statement_text_is_refused_before_running() {
    let (_database, mut session) = open("multi");
    session
        .execute("CREATE TABLE ONCE (ID INTEGER)", &[])
        .expect("create");
    let error = session
        .execute(
            "INSERT INTO ONCE VALUES (1); INSERT INTO ONCE VALUES (2)",
            &[],
        )
        .expect_err("two statements in one request");
    assert_eq!(error.code(), Some("000008"), "{error:?}");
    assert_eq!(count(&mut session, "ONCE"), "0", "nothing ran");
}

#[test]
fn driver_is_found_without_an_explicit_path() {
    // ADBC_SNOWFLAKE_DRIVER (set by .ci/run), python3's package or the emulator's venv.
    let database = Emulator::start().database("autodriver");
    let mut params = database.connect_params();
    params.driver_path = None;
    let mut session = Session::connect(&params).expect("the driver is found automatically");
    assert_eq!(
        session.query_rows("SELECT 1", &[]).expect("query"),
        vec![vec![text("1")]]
    );
}

#[test]
fn a_failed_statement_leaves_the_transaction_open() {
    // As in Snowflake: the failed statement is undone, the transaction's earlier work stays.
    let (_database, mut session) = open("stmtfail");
    session
        .execute("CREATE TABLE KEPT (ID INTEGER)", &[])
        .expect("create");
    session.execute("BEGIN", &[]).expect("begin");
    session
        .execute("INSERT INTO KEPT VALUES (1)", &[])
        .expect("first insert");
    session
        .execute("INSERT INTO NO_SUCH_TABLE VALUES (1)", &[])
        .expect_err("unknown table");
    session
        .execute("INSERT INTO KEPT VALUES (2)", &[])
        .expect("the transaction goes on");
    session.execute("COMMIT", &[]).expect("commit");
    assert_eq!(count(&mut session, "KEPT"), "2");
}

#[test]
fn concurrent_merges_of_the_same_key_create_one_row() {
    const MERGE: &str =
        "MERGE INTO LOCKS l USING (SELECT 'deploy' AS NAME, ? AS OWNER) s ON l.NAME = s.NAME \
                         WHEN MATCHED THEN UPDATE SET OWNER = s.OWNER \
                         WHEN NOT MATCHED THEN INSERT (NAME, OWNER) VALUES (s.NAME, s.OWNER)";
    let (database, mut first) = open("merge");
    first
        .execute(
            "CREATE TABLE LOCKS (NAME VARCHAR PRIMARY KEY, OWNER VARCHAR)",
            &[],
        )
        .expect("create");
    let mut second = Session::connect(&database.connect_params()).expect("second session");
    first.execute("BEGIN", &[]).expect("begin");
    first
        .execute(MERGE, &[SqlValue::from("first")])
        .expect("first merge inserts");
    let waiter = std::thread::spawn(move || second.execute(MERGE, &[SqlValue::from("second")]));
    std::thread::sleep(Duration::from_millis(800));
    if waiter.is_finished() {
        let early = waiter.join().expect("waiter thread");
        panic!("the second MERGE should wait for the first transaction, but answered {early:?}");
    }
    first.execute("COMMIT", &[]).expect("commit");
    waiter
        .join()
        .expect("waiter thread")
        .expect("the second MERGE updates after the wait");
    let rows = first
        .query_rows("SELECT NAME, OWNER FROM LOCKS", &[])
        .expect("read");
    assert_eq!(rows, vec![vec![text("deploy"), text("second")]]);
}

#[test]
fn an_expired_session_inside_a_transaction_is_not_replaced_silently() {
    // Logging in again would lose the transaction's work without a word: report instead.
    let (database, mut session) = open("expirytx");
    session
        .execute("CREATE TABLE TXW (ID INTEGER)", &[])
        .expect("create");
    session.execute("BEGIN", &[]).expect("begin");
    session
        .execute("INSERT INTO TXW VALUES (1)", &[])
        .expect("insert");
    Emulator::start().expire_sessions(&database.name);
    let error = session
        .execute("INSERT INTO TXW VALUES (2)", &[])
        .expect_err("the session and its transaction are gone");
    assert_eq!(error.kind(), ErrorKind::SessionExpired, "{error:?}");
    assert!(error.is_retryable());
    // The ROLLBACK that ends the lost transaction logs in again; nothing was committed.
    session
        .execute("ROLLBACK", &[])
        .expect("rollback on a new session");
    assert_eq!(count(&mut session, "TXW"), "0");
}

#[test]
fn a_connections_toml_profile_connects() {
    use config_schema::connection_profile::{ProfileFile, ProfileFileKind};

    let database = Emulator::start().database("profile");
    let file = ProfileFile::parse(
        ProfileFileKind::ConnectionsToml,
        &database.connections_toml("emulator"),
    )
    .expect("the harness writes valid TOML");
    let profile = file
        .profile("emulator")
        .expect("the connection is there")
        .expect("a valid profile");
    let mut params = ConnectParams::from_profile(&profile).expect("usable parameters");
    params.driver_path = Some(database.driver_path.clone());
    let mut session = Session::connect(&params).expect("connect from the profile");
    let rows = session
        .query_rows("SELECT CURRENT_DATABASE()", &[])
        .expect("query");
    assert_eq!(rows, vec![vec![Some(database.name.clone())]]);
}

#[test]
fn wrong_password_is_a_one_line_non_retryable_error() {
    let emulator = Emulator::start();
    let database = emulator.database("badpassword");
    let account = test_support::unique_name("LOCKED");
    emulator.register_user(&account, "MIGRATOR", "right_password");
    let mut params = database.connect_params();
    params.account = account.clone();
    params.user = "MIGRATOR".to_owned();

    params.auth = Auth::Password("wrong_password".to_owned());
    let error = Session::connect(&params).expect_err("a wrong password is refused");
    assert!(
        !error.is_retryable(),
        "retrying a wrong password cannot help: {error:?}"
    );
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        message.contains("Incorrect username or password"),
        "{message}"
    );
    assert!(
        !message.contains("wrong_password"),
        "never print the secret: {message}"
    );

    params.auth = Auth::Password("right_password".to_owned());
    Session::connect(&params).expect("the right password logs in");
}

#[test]
fn a_session_without_a_current_database_can_use_timestamps() {
    let database = Emulator::start().database("nodb");
    let mut params = database.connect_params();
    params.database = None;
    params.schema = None;
    let mut session = Session::connect(&params).expect("connect without a database");
    let rows = session
        .query_rows(
            "SELECT TO_VARCHAR(TO_TIMESTAMP_NTZ('2020-01-02 03:04:05'), 'YYYY-MM-DD HH24:MI:SS')",
            &[],
        )
        .expect("timestamp functions work without a current database");
    assert_eq!(rows, vec![vec![text("2020-01-02 03:04:05")]]);
}
