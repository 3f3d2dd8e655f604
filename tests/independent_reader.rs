//! The independent reader (`tests/support/compare_tables.py`) that the fault test trusts:
//! its normalisation rules (Python unit tests), and against the real services that it finds a
//! row lost, a row duplicated and a value changed by one microsecond, one unit of the last
//! decimal place or one JSON member, in a table whose quoted name has a space and mixed case.

use std::process::Command;

use snowflake_data_migration::{E2e, ReaderTable};
use test_support::Emulator;

#[test]
fn reader_normalisation_unit_tests_pass() {
    let support = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support");
    let output = Command::new(Emulator::start().python())
        .args([
            "-m",
            "unittest",
            "discover",
            "-s",
            support,
            "-p",
            "test_*.py",
        ])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run the reader's unit tests");
    assert!(
        output.status.success(),
        "compare_tables.py unit tests failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const SOURCE: &str = r#"
    CREATE TABLE "Probe Table" (
        id bigint PRIMARY KEY,
        amount numeric(38,10),
        stamp timestamptz,
        doc jsonb,
        raw bytea,
        label text
    );
    INSERT INTO "Probe Table" VALUES
        (1, 12345678901234567890123456.0123456789, '2024-01-01 10:00:00.000001+05:30',
            '{"b": [1, 2.5], "a": "é😀"}', '\x00ff80', 'one'),
        (2, -0.0000000001, '1970-01-01 00:00:00+00', '[]', '', ''),
        (3, NULL, NULL, NULL, NULL, NULL),
        (4, 4, '2000-02-29 23:59:59.999999-08:00', '"text"', '\x5c', E'tab\there');
"#;

fn probe() -> [ReaderTable; 1] {
    [ReaderTable {
        source: "Probe Table",
        target_schema: "READER",
        target: "Probe Table",
        key: &["id"],
    }]
}

#[test]
fn reader_finds_a_lost_a_duplicated_and_a_changed_row() {
    let e2e = E2e::new("e2e_reader");
    e2e.pg_execute(SOURCE);
    let mut session = e2e.session();
    let db = &e2e.database.name;
    let table = format!(r#"{db}.READER."Probe Table""#);
    for sql in [
        format!("CREATE SCHEMA {db}.READER"),
        format!(
            "CREATE TABLE {table} (ID NUMBER(19,0), AMOUNT NUMBER(38,10), STAMP TIMESTAMP_TZ(6), \
             DOC VARIANT, RAW BINARY, LABEL VARCHAR)"
        ),
        // The same values written differently: another offset, other JSON spacing and order.
        format!(
            "INSERT INTO {table} SELECT 1, 12345678901234567890123456.0123456789, \
             '2024-01-01 04:30:00.000001 +00:00'::TIMESTAMP_TZ, \
             PARSE_JSON('{{\"a\":\"é😀\",\"b\":[1,2.50]}}'), TO_BINARY('00FF80', 'HEX'), 'one'"
        ),
        format!(
            "INSERT INTO {table} SELECT 2, -0.0000000001, '1970-01-01 00:00:00 +00:00'::TIMESTAMP_TZ, \
             PARSE_JSON('[]'), TO_BINARY('', 'HEX'), ''"
        ),
        format!("INSERT INTO {table} SELECT 3, NULL, NULL, NULL, NULL, NULL"),
        format!(
            "INSERT INTO {table} SELECT 4, 4, '2000-03-01 07:59:59.999999 +00:00'::TIMESTAMP_TZ, \
             PARSE_JSON('\"text\"'), TO_BINARY('5C', 'HEX'), 'tab\there'"
        ),
    ] {
        e2e.rows(&mut session, &sql);
    }
    let report = e2e
        .compare_independently(&probe())
        .unwrap_or_else(|report| panic!("the copy is identical:\n{report}"));
    assert!(report.contains("identical, 4 rows"), "{report}");

    let db_rows = |session: &mut migration_core::snowflake::Session, sql: String| {
        e2e.rows(session, &sql);
    };
    let differs =
        |session: &mut migration_core::snowflake::Session, sql: String, expected: &str| {
            e2e.rows(session, &sql);
            let report = match e2e.compare_independently(&probe()) {
                Ok(report) => panic!("after `{sql}` the reader still says identical:\n{report}"),
                Err(report) => report,
            };
            assert!(
                report.contains(expected),
                "after `{sql}`, expected {expected:?} in:\n{report}"
            );
        };
    let row_3 = format!("INSERT INTO {table} SELECT 3, NULL, NULL, NULL, NULL, NULL");
    differs(
        &mut session,
        format!("DELETE FROM {table} WHERE ID = 3"),
        "missing in target: id='3'",
    );
    db_rows(&mut session, row_3.clone());
    differs(
        &mut session,
        row_3.clone(),
        "id='3': 1 row(s) in source, 2 in target",
    );
    db_rows(&mut session, format!("DELETE FROM {table} WHERE ID = 3"));
    db_rows(&mut session, row_3);
    differs(
        &mut session,
        format!("UPDATE {table} SET STAMP = '2024-01-01 04:30:00.000002 +00:00'::TIMESTAMP_TZ WHERE ID = 1"),
        "id='1': stamp: source '2024-01-01 04:30:00.000001+00:00' target '2024-01-01 04:30:00.000002+00:00'",
    );
    differs(
        &mut session,
        format!("UPDATE {table} SET AMOUNT = 4.0000000001 WHERE ID = 4"),
        "id='4': amount: source '4' target '4.0000000001'",
    );
    differs(
        &mut session,
        format!("UPDATE {table} SET DOC = PARSE_JSON('{{\"t\": \"text\"}}') WHERE ID = 4"),
        "doc: source '\"text\"' target '{\"t\":\"text\"}'",
    );
}
