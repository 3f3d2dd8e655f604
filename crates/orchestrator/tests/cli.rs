//! The `orchestrator` binary's offline commands, run as a user would run them.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn orchestrator() -> Command {
    let mut cmd = Command::cargo_bin("orchestrator").expect("binary built");
    // Help output shows the values of the variables flags fall back to; start from an empty
    // environment so the tests do not depend on the machine.
    cmd.env_clear();
    cmd
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), text).expect("write temp file");
    file
}

#[test]
fn validate_accepts_a_good_workflow_and_prints_the_merged_tables() {
    let output = orchestrator()
        .arg("validate")
        .arg(example("basic-migration-sqlserver.json"))
        .args(["--source-platform", "sqlserver"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).expect("utf-8");
    assert!(
        text.contains("is a valid data-migration workflow (2 table(s))"),
        "{text}"
    );
    let json_start = text.find('{').expect("JSON follows the summary");
    let merged: serde_json::Value = serde_json::from_str(&text[json_start..]).expect("merged JSON");
    assert_eq!(
        merged["tables"][0]["source"]["databaseName"], "SampleStoreDB",
        "default merged in"
    );
    assert_eq!(merged["tables"][1]["partitionSize"]["targetSizeMb"], 2048);
}

#[test]
fn validate_lists_every_problem_and_exits_1() {
    let file = temp_file(
        r#"{"schemaVersion": "one", "tables": [
            {"sourc": {}},
            {"source": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
             "target": {"databaseName": "D", "schemaName": "S"},
             "columnNamesToPartitionBy": ["ID"], "synchronization": {"strategy": "watermark"}}]}"#,
    );
    orchestrator()
        .arg("validate")
        .arg(file.path())
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "tables[0].sourc is not a known key: did you mean `source`?",
        ));

    let file = temp_file(
        r#"{"schemaVersion": "one", "tables": [
            {"source": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
             "target": {"databaseName": "D", "schemaName": "S"},
             "columnNamesToPartitionBy": ["ID"], "synchronization": {"strategy": "watermark"},
             "extraction": {"strategy": "unload", "externalStage": "X"}}]}"#,
    );
    let assert = orchestrator()
        .arg("validate")
        .arg(file.path())
        .args(["--source-platform", "postgresql"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).expect("utf-8");
    for expected in [
        "the workflow configuration has 4 problem(s)",
        "schemaVersion `one` is not a version",
        "tables[0].target.tableName is required (table T)",
        "tables[0].extraction.strategy \"unload\" is only available for redshift sources",
        "tables[0].synchronization.watermarkColumn is required when strategy is \"watermark\"",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("error:").count(),
        1,
        "printed once:\n{stderr}"
    );
}

#[test]
fn validate_detects_validation_files_and_checks_the_platform() {
    orchestrator()
        .arg("validate")
        .arg(example("validation-sqlserver.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "is a valid data-validation workflow (2 table(s), 1 view(s))",
        ))
        .stdout(predicate::str::contains("\"tolerance\": 0.001"));
    orchestrator()
        .arg("validate")
        .arg(example("validation-sqlserver.json"))
        .args(["--source-platform", "redshift"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "source_platform is `SqlServer` but --source-platform is redshift",
        ));
}

#[test]
fn validate_reports_unreadable_and_non_json_files() {
    orchestrator()
        .args(["validate", "/nonexistent/wf.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read `/nonexistent/wf.json`",
        ));
    let file = temp_file("{ not json");
    orchestrator()
        .arg("validate")
        .arg(file.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not valid JSON"));
}

#[test]
fn schema_prints_each_schema() {
    let all = orchestrator()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let all: serde_json::Value = serde_json::from_slice(&all).expect("JSON");
    for kind in ["workflow", "validation", "worker"] {
        assert_eq!(
            all[kind]["$schema"], "http://json-schema.org/draft-07/schema#",
            "{kind}"
        );
    }
    let worker = orchestrator()
        .args(["schema", "worker"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let worker: serde_json::Value = serde_json::from_slice(&worker).expect("JSON");
    assert_eq!(worker["title"], "Worker configuration");
    orchestrator()
        .args(["schema", "toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));
}

#[test]
fn commands_needing_snowflake_reject_bad_input_before_connecting() {
    // No connection profile exists under this SNOWFLAKE_HOME: reaching the connect step would
    // fail with a different message, so these prove the offline checks run first.
    let empty_home = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let mut cmd = orchestrator();
        cmd.env("SNOWFLAKE_HOME", empty_home.path()).args(args);
        cmd
    };
    let redshift_unload = example("redshift-unload.json");
    let redshift_unload = redshift_unload.to_str().expect("utf-8 path");
    run(&[
        "create-data-migration-workflow",
        redshift_unload,
        "--name",
        "1st_run",
        "--source-platform",
        "redshift",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "workflow name `1st_run` must not start with a digit",
    ));
    run(&[
        "create-data-migration-workflow",
        redshift_unload,
        "--name",
        "wf",
        "--source-platform",
        "sqlserver",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "\"unload\" is only available for redshift sources",
    ));
    let validation = example("validation-sqlserver.json");
    run(&[
        "create-data-validation-workflow",
        validation.to_str().expect("utf-8 path"),
        "--source-platform",
        "postgresql",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "but --source-platform is postgresql",
    ));
    // A valid file gets as far as looking for the connection.
    run(&[
        "create-data-migration-workflow",
        redshift_unload,
        "--name",
        "wf",
        "--source-platform",
        "Redshift",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "no connections.toml or config.toml found",
    ));
}

#[test]
fn a_lease_that_cannot_outlast_the_poll_interval_is_refused_at_start_up() {
    let empty_home = tempfile::tempdir().expect("temp dir");
    orchestrator()
        .env("SNOWFLAKE_HOME", empty_home.path())
        .args(["--task-lease-seconds", "5", "--poll-interval-ms", "5000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: the task lease (5 s) must be at least 4 times the poll interval (5000 ms)",
        ));
}

#[test]
fn help_text() {
    let help = |args: &[&str]| {
        let output = orchestrator()
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).expect("utf-8")
    };
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!(
        "help_create_migration",
        help(&["create-data-migration-workflow", "--help"])
    );
    insta::assert_snapshot!(
        "help_create_validation",
        help(&["create-data-validation-workflow", "--help"])
    );
    insta::assert_snapshot!("help_validate", help(&["validate", "--help"]));
    insta::assert_snapshot!("help_schema", help(&["schema", "--help"]));
}

#[test]
fn validate_notes_inherited_values_a_table_ignores() {
    let file = temp_file(
        r#"{"defaultTableConfiguration": {
              "source": {"databaseName": "D", "schemaName": "S"},
              "target": {"databaseName": "T", "schemaName": "P"},
              "synchronization": {"strategy": "watermark", "watermarkColumn": "updated_at"}},
            "tables": [
              {"source": {"tableName": "events"}, "target": {"tableName": "EVENTS"}, "columnNamesToPartitionBy": ["id"]},
              {"source": {"tableName": "orders"}, "target": {"tableName": "ORDERS"}, "columnNamesToPartitionBy": ["id"],
               "synchronization": {"strategy": "checksum"}}]}"#,
    );
    let output = orchestrator()
        .arg("validate")
        .arg(file.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).expect("utf-8");
    assert!(
        text.contains("note: tables[1].synchronization.watermarkColumn is inherited from defaultTableConfiguration and ignored (table orders): it is only used when strategy is \"watermark\""),
        "{text}"
    );
    let json_start = text.find('{').expect("JSON follows the notes");
    let merged: serde_json::Value = serde_json::from_str(&text[json_start..]).expect("merged JSON");
    assert_eq!(
        merged["tables"][1]["synchronization"],
        serde_json::json!({"strategy": "checksum"})
    );
}
