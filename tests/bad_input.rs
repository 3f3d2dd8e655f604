//! Bad input with the real binaries: an invalid workflow file, a taken name and an unknown
//! connection name are refused without writing anything; a missing source table fails that
//! table with an error naming it while the other table completes.

use std::process::Output;
use std::time::Duration;

use arrow::datatypes::DataType;
use snowflake_data_migration::{wait_for, E2e};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_input_is_refused_and_a_missing_table_fails_alone() {
    let e2e = E2e::new("e2e_bad");
    e2e.pg_execute(
        "CREATE TABLE present (id bigint PRIMARY KEY, label text);
         INSERT INTO present SELECT i, 'row ' || i FROM generate_series(1, 3000) AS i;
         ANALYZE present;",
    );
    let db = &e2e.database.name;
    let mut orchestrator = e2e.start_orchestrator("orchestrator");
    let mut session = e2e.session();
    let workflows = format!("SELECT COUNT(*) FROM {}", e2e.metadata("WORKFLOW"));
    // The daemon deploys the metadata: from then on "nothing written" is observable.
    wait_for(
        "the metadata to be deployed",
        Duration::from_secs(60),
        || session.query_rows(&workflows, &[]).ok(),
    );
    assert_eq!(e2e.count(&mut session, &workflows), 0);

    // An invalid file: the problem is named with its JSON path, nothing is written.
    let invalid = r#"{"tables": [{"source": {"tableName": "present"}, "partitionSize": {"maxRowsPerPartition": -5}}]}"#;
    let output = e2e.create_workflow("INVALID_FILE", invalid);
    assert!(!output.status.success(), "an invalid file is refused");
    assert!(
        stderr(&output).contains("INVALID_FILE.json") && stderr(&output).contains("tables[0]"),
        "the message names the file and the offending entry: {}",
        stderr(&output)
    );
    assert_eq!(e2e.count(&mut session, &workflows), 0, "nothing written");

    let workflow = format!(
        r#"{{
  "defaultTableConfiguration": {{
    "source": {{"databaseName": "postgres", "schemaName": "{schema}"}},
    "target": {{"databaseName": "{db}", "schemaName": "BAD"}},
    "columnNamesToPartitionBy": ["id"],
    "partitionSize": {{"maxRowsPerPartition": 1000}}
  }},
  "tables": [
    {{"source": {{"tableName": "present"}}, "target": {{"tableName": "PRESENT"}}}},
    {{"source": {{"tableName": "no_such_table"}}, "target": {{"tableName": "NO_SUCH_TABLE"}}}}
  ]
}}"#,
        schema = e2e.pg.schema
    );

    // An unknown connection name is named, nothing is written.
    let output = e2e.create_workflow_with("WITH_MISSING", &workflow, "nowhere_to_be_found");
    assert!(!output.status.success(), "an unknown connection is refused");
    assert!(
        stderr(&output).contains("nowhere_to_be_found"),
        "the message names the connection: {}",
        stderr(&output)
    );
    assert_eq!(e2e.count(&mut session, &workflows), 0, "nothing written");

    // A taken name is refused, and the first workflow stays the only one.
    e2e.create_workflow_ok("WITH_MISSING", &workflow);
    let output = e2e.create_workflow("WITH_MISSING", &workflow);
    assert!(!output.status.success(), "a taken name is refused");
    assert!(
        stderr(&output).contains("WITH_MISSING") && stderr(&output).contains("already exists"),
        "the message names the taken name: {}",
        stderr(&output)
    );
    assert_eq!(e2e.count(&mut session, &workflows), 1);

    // The missing table fails; the other one completes.
    let mut worker = e2e.start_worker("worker", 2);
    e2e.wait_completed(
        "WITH_MISSING",
        Duration::from_secs(120),
        &mut [&mut orchestrator, &mut worker],
    );
    // The product's own check proves the table that arrived and refuses the one that failed.
    let verify = e2e.verify("WITH_MISSING");
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        !verify.status.success(),
        "a failed table is not verified:\n{report}"
    );
    assert!(
        report.contains("1 of 2 table(s) verified") && report.contains("no_such_table"),
        "{report}"
    );
    let progress = e2e.rows(
        &mut session,
        &format!(
            "SELECT TABLE_NAME, TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, EXAMPLE_ERROR_MESSAGE
             FROM {} ORDER BY TABLE_NAME",
            e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    let find = |name: &str| {
        progress
            .iter()
            .find(|row| row[0].as_deref().is_some_and(|n| n.contains(name)))
            .unwrap_or_else(|| panic!("no progress row for {name}: {progress:?}"))
            .clone()
    };
    let missing = find("no_such_table");
    let error = missing[4].clone().unwrap_or_default();
    assert!(
        error.contains("no_such_table"),
        "the example error names the missing table: {missing:?}"
    );
    let present = find("present");
    assert_eq!(present[4], None, "present has no error: {present:?}");
    assert_eq!(present[3].as_deref(), Some("0"), "{present:?}");
    assert_eq!(
        present[1], present[2],
        "every partition loaded: {present:?}"
    );

    let errors = e2e.rows(
        &mut session,
        &format!(
            "SELECT TABLE_NAME, ERROR_MESSAGE FROM {}",
            e2e.metadata("DATA_MIGRATION_ERROR")
        ),
    );
    assert!(
        !errors.is_empty()
            && errors.iter().all(|row| {
                row[0]
                    .as_deref()
                    .is_some_and(|n| n.contains("no_such_table"))
                    && row[1]
                        .as_deref()
                        .is_some_and(|m| m.contains("no_such_table"))
            }),
        "errors only for the missing table, each naming it: {errors:?}"
    );

    let (source_rows, source_sum) = e2e.source_checksum(
        "SELECT id, label FROM present",
        &[("id", DataType::Int64), ("label", DataType::Utf8)],
    );
    let target = format!("{db}.BAD.PRESENT");
    let (target_rows, target_sum) = e2e.target_checksum(&mut session, &target, &["ID", "LABEL"]);
    assert_eq!(
        (target_rows, target_sum),
        (source_rows, source_sum),
        "{target}"
    );
    assert_eq!(source_rows, 3000);
}
