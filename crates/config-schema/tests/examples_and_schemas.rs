//! Every file in examples/ parses and validates, and the shipped JSON Schemas (checked by an
//! independent validator, the `jsonschema` crate) accept every example and reject the
//! malformed fixtures that a schema can express.

mod malformed;

use std::path::PathBuf;

use config_schema::connection_profile::{ProfileFile, ProfileFileKind};
use config_schema::json_schema::{json_schema, SchemaKind};
use config_schema::validation::parse_validation_config;
use config_schema::worker::parse_worker_config;
use config_schema::workflow::parse_workflow;
use config_schema::SourcePlatform;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Every example file with the given extension, sorted, with its text.
fn examples(extension: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(examples_dir())
        .expect("examples/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .map(|path| {
            let name = path
                .file_name()
                .expect("file")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).expect("readable example");
            (name, text)
        })
        .collect();
    files.sort();
    files
}

fn is_validation_file(text: &str) -> bool {
    text.contains("\"source_platform\"")
}

fn platform_of_workflow_example(name: &str) -> SourcePlatform {
    if name.starts_with("redshift") {
        SourcePlatform::Redshift
    } else {
        SourcePlatform::Sqlserver
    }
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    jsonschema::validator_for(&json_schema(kind))
        .unwrap_or_else(|e| panic!("{kind} schema is not a valid JSON Schema: {e}"))
}

fn schema_errors(validator: &jsonschema::Validator, document: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_examples_folder_holds_what_the_readme_promises() {
    let json: Vec<String> = examples("json").into_iter().map(|(n, _)| n).collect();
    for expected in [
        "basic-migration-sqlserver.json",
        "redshift-unload.json",
        "redshift-unload-iceberg.json",
        "incremental-watermark.json",
        "validation-sqlserver.json",
    ] {
        assert!(
            json.contains(&expected.to_string()),
            "missing examples/{expected}"
        );
    }
    let toml: Vec<String> = examples("toml").into_iter().map(|(n, _)| n).collect();
    for platform in [
        "sqlserver",
        "redshift-iam",
        "redshift-standard",
        "postgresql",
        "teradata",
        "sqlite",
    ] {
        assert!(
            toml.contains(&format!("worker-{platform}.toml")),
            "missing worker-{platform}.toml"
        );
    }
    assert!(toml.contains(&"connections.toml".to_string()));
}

#[test]
fn every_json_example_validates_and_matches_its_schema() {
    let workflow_schema = validator(SchemaKind::Workflow);
    let validation_schema = validator(SchemaKind::Validation);
    for (name, text) in examples("json") {
        let document: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if is_validation_file(&text) {
            parse_validation_config(&text, Some(SourcePlatform::Sqlserver))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                schema_errors(&validation_schema, &document),
                Vec::<String>::new(),
                "{name}"
            );
        } else {
            parse_workflow(&text, Some(platform_of_workflow_example(&name)))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                schema_errors(&workflow_schema, &document),
                Vec::<String>::new(),
                "{name}"
            );
        }
    }
}

#[test]
fn every_worker_example_validates_and_matches_its_schema() {
    let schema = validator(SchemaKind::Worker);
    let workers: Vec<(String, String)> = examples("toml")
        .into_iter()
        .filter(|(name, _)| name.starts_with("worker-"))
        .collect();
    assert!(workers.len() >= 6);
    for (name, text) in workers {
        let config = parse_worker_config(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = name.trim_start_matches("worker-").trim_end_matches(".toml");
        assert!(
            expected.starts_with(config.source.platform().as_str()),
            "{name} configures {:?}",
            config.source.platform()
        );
        let table: toml::Table = toml::from_str(&text).expect("parsed above");
        let document = serde_json::to_value(table).expect("TOML maps to JSON");
        assert_eq!(
            schema_errors(&schema, &document),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn the_emulator_connection_example_points_at_localhost_over_http() {
    let text = std::fs::read_to_string(examples_dir().join("connections.toml")).expect("readable");
    let file = ProfileFile::parse(ProfileFileKind::ConnectionsToml, &text).expect("parses");
    let emulator = file.profile("emulator").expect("defined").expect("valid");
    assert_eq!(emulator.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        emulator.protocol,
        Some(config_schema::connection_profile::Protocol::Http)
    );
    assert_eq!(emulator.account, "fakesnow");
    assert!(emulator.warnings.is_empty(), "{:?}", emulator.warnings);
    for name in file.names() {
        file.profile(name)
            .expect("defined")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_workflow_schema_rejects_the_malformed_fixtures_it_can_express() {
    let schema = validator(SchemaKind::Workflow);
    let mut checked = 0;
    for case in malformed::WORKFLOW_CASES
        .iter()
        .filter(|c| c.schema_rejects)
    {
        let document: serde_json::Value =
            serde_json::from_str(case.document).expect("fixture is JSON");
        assert!(
            !schema.is_valid(&document),
            "{}: the schema accepted it",
            case.name
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} schema-rejectable fixtures");
    // Documents the schema cannot reject must still be well-formed JSON it accepts or rejects
    // consistently; pin one that only validation catches.
    let incomplete = serde_json::json!({"tables": [{}]});
    assert!(
        schema.is_valid(&incomplete),
        "completeness is checked after merging, not by the schema"
    );
    assert!(
        !schema.is_valid(&serde_json::json!({"schemaVersion": "v1", "tables": [{}]})),
        "pattern"
    );
}

#[test]
fn the_validation_and_worker_schemas_reject_malformed_documents() {
    let validation = validator(SchemaKind::Validation);
    for bad in [
        serde_json::json!({"tables": [{"fully_qualified_name": "a"}]}),
        serde_json::json!({"source_platform": "x", "tables": []}),
        serde_json::json!({"source_platform": "x", "tables": [{"fully_qualified_name": "a", "chunk_number": 0}]}),
        serde_json::json!({"source_platform": "x", "tables": [{"fully_qualified_name": "a"}], "validation_configuration": {"row_validation_mode": "column"}}),
        serde_json::json!({"source_platform": "x", "tables": [{"fully_qualified_name": "a", "unknown": 1}]}),
    ] {
        assert!(!validation.is_valid(&bad), "accepted {bad}");
    }
    let worker = validator(SchemaKind::Worker);
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"connections": {"source": {"mysql": {}}}}),
        serde_json::json!({"selected_task_source": "api", "connections": {"source": {}}}),
        serde_json::json!({"application": {"max_parallel_tasks": 0}, "connections": {"source": {}}}),
        serde_json::json!({"connections": {"source": {}}}),
        serde_json::json!({"connections": {"source": {
            "sqlite": {"database": "a.db"}, "postgresql": {"username": "u", "database": "d", "host": "h"}}}}),
        serde_json::json!({"connections": {"source": {"redshift": {"username": "u", "database": "d", "auth_method": "iam"}}}}),
    ] {
        assert!(!worker.is_valid(&bad), "accepted {bad}");
    }
}
