//! At least thirty malformed workflow files, each rejected with its JSON path in the message.

#![allow(clippy::unwrap_used)]

mod malformed;

use config_schema::workflow::parse_workflow;
use malformed::WORKFLOW_CASES;

#[test]
fn every_malformed_workflow_names_its_path() {
    assert!(WORKFLOW_CASES.len() >= 30, "keep at least 30 cases");
    let mut failures = Vec::new();
    for case in WORKFLOW_CASES {
        match parse_workflow(case.document, case.platform) {
            Ok(_) => failures.push(format!("{}: accepted", case.name)),
            Err(error) => {
                let message = error.to_string();
                for expected in case.expected {
                    if !message.contains(expected) {
                        failures.push(format!("{}: missing {expected:?} in\n{message}", case.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"{"schemaVersion": "x", "tables": [
        {"source": {"databaseName": "D", "schemaName": "S"}, "target": {"databaseName": "TD", "schemaName": "TS", "tableName": "T"}, "columnNamesToPartitionBy": ["ID"],
         "synchronization": {"strategy": "watermark"}, "partitionSize": {"targetSizeMb": 1, "maxRowsPerPartition": 1}}]}"#;
    let error = parse_workflow(text, None).unwrap_err();
    let problems: Vec<String> = error
        .problems()
        .expect("parsed")
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_debug_snapshot!(problems);
}

#[test]
fn syntax_errors_are_not_problems() {
    let error = parse_workflow("{\"tables\": [", None).unwrap_err();
    assert!(error.problems().is_none());
    assert!(
        error
            .to_string()
            .starts_with("the workflow configuration is not valid JSON"),
        "{error}"
    );
}

#[test]
fn workflow_names() {
    use config_schema::workflow::validate_workflow_name;
    for good in ["MY_WORKFLOW", "wf1", "_x", "a"] {
        assert_eq!(validate_workflow_name(good), Ok(()), "{good}");
    }
    for (bad, expected) in [
        ("", "must not be empty"),
        ("1st", "must not start with a digit"),
        ("my-workflow", "found `-`"),
        ("with space", "found ` `"),
        ("naïve", "found `ï`"),
    ] {
        let message = validate_workflow_name(bad).unwrap_err();
        assert!(message.contains(expected), "{bad}: {message}");
    }
    assert!(validate_workflow_name(&"a".repeat(256)).is_err());
}

#[test]
fn structural_and_semantic_problems_are_reported_together() {
    let text = r#"{"tables": [
        {"sourc": {"tableName": "T"}, "target": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
         "columnNamesToPartitionBy": "ID", "partitionSize": {"targetSizeMb": 0},
         "synchronization": {"strategy": "watermark"}}]}"#;
    let error = parse_workflow(text, None).expect_err("invalid");
    let problems: Vec<String> = error
        .problems()
        .expect("parsed")
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_debug_snapshot!(problems);
}
