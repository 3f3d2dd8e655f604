//! The product page's workflow examples, as shipped in examples/, parse and merge as documented.

#![allow(clippy::unwrap_used)]

use config_schema::workflow::model::{IcebergMigrationStrategy, TableType};
use config_schema::workflow::{
    parse_workflow, Extraction, PartitionSize, Synchronization, WorkflowConfig,
};
use config_schema::SourcePlatform;

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn parse(name: &str, platform: SourcePlatform) -> WorkflowConfig {
    parse_workflow(&example(name), Some(platform)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn basic_sqlserver_merges_defaults() {
    let wf = parse("basic-migration-sqlserver.json", SourcePlatform::Sqlserver);
    assert_eq!(wf.schema_version, "1.0.0", "default schema version");
    assert_eq!(wf.affinity, None);
    assert_eq!(wf.tables.len(), 2);
    let first = &wf.tables[0];
    assert_eq!(first.source.database_name, "SampleStoreDB");
    assert_eq!(first.source.schema_name, "data_migration_cloud_test");
    assert_eq!(first.source.table_name, "store_employee");
    assert_eq!(first.target.database_name, "samplestoredb");
    assert_eq!(first.target.table_name, "target_employee");
    assert_eq!(first.target.table_type, TableType::Native);
    assert_eq!(first.extraction, Extraction::Regular, "default extraction");
    assert_eq!(
        first.synchronization,
        Synchronization::None,
        "default synchronization"
    );
    assert_eq!(
        first.partition_size,
        PartitionSize::Auto,
        "default partition size"
    );
    assert!(first.column_type_mappings.is_empty() && first.primary_key_columns.is_empty());
    let second = &wf.tables[1];
    assert_eq!(
        second.synchronization,
        Synchronization::Watermark {
            watermark_column: "UPDATED_AT".into(),
            track_modifications: false
        }
    );
    assert_eq!(second.partition_size, PartitionSize::TargetSizeMb(2048));
    assert_eq!(
        second.where_clause_criteria.as_deref(),
        Some("is_deleted = 0")
    );
    assert_eq!(second.column_type_mappings[0].target_type, "DECIMAL(19,4)");
    assert_eq!(second.column_name_mappings[1].target_name, "full_name");
}

#[test]
fn redshift_unload_inherits_extraction() {
    let wf = parse("redshift-unload.json", SourcePlatform::Redshift);
    for table in &wf.tables {
        assert_eq!(
            table.extraction,
            Extraction::Unload {
                external_stage: "MY_DB.MY_SCHEMA.S3_EXTERNAL_STAGE".into()
            }
        );
        assert_eq!(table.partition_size, PartitionSize::Auto);
    }
}

#[test]
fn redshift_unload_is_rejected_for_other_platforms() {
    let error = parse_workflow(
        &example("redshift-unload.json"),
        Some(SourcePlatform::Postgresql),
    )
    .unwrap_err()
    .to_string();
    // The strategy is inherited by both tables: it is reported once, where it was written.
    assert!(
        error.contains("defaultTableConfiguration.extraction.strategy \"unload\" is only available for redshift sources, not postgresql"),
        "{error}"
    );
    assert!(error.contains("has 1 problem(s)"), "{error}");
    assert!(!error.contains("tables[0].extraction"), "{error}");
}

#[test]
fn iceberg_example_merges_iceberg_config() {
    let wf = parse("redshift-unload-iceberg.json", SourcePlatform::Redshift);
    let customers = wf.tables[0]
        .target
        .iceberg_config
        .as_ref()
        .expect("iceberg");
    assert!(customers.is_snowflake_managed());
    assert_eq!(
        customers.external_volume.as_deref(),
        Some("my_iceberg_ext_vol")
    );
    assert_eq!(
        customers.base_location_prefix.as_deref(),
        Some("migrations/redshift")
    );
    assert_eq!(
        customers.source_data_stage.as_deref(),
        Some("@TARGET_DB.PUBLIC.ICEBERG_SOURCE_STAGE")
    );
    assert_eq!(
        customers.migration_strategy,
        IcebergMigrationStrategy::CopyFiles,
        "inferred"
    );
    let events = wf.tables[1]
        .target
        .iceberg_config
        .as_ref()
        .expect("iceberg");
    assert_eq!(events.catalog, "my_glue_catalog_integration");
    assert_eq!(events.catalog_table_name.as_deref(), Some("glue_db.events"));
    assert_eq!(
        events.migration_strategy,
        IcebergMigrationStrategy::CatalogLink,
        "inferred"
    );
    let orders = wf.tables[2]
        .target
        .iceberg_config
        .as_ref()
        .expect("iceberg");
    assert_eq!(
        orders.migration_strategy,
        IcebergMigrationStrategy::ConvertToManaged
    );
}

#[test]
fn incremental_watermark_deep_merges_synchronization() {
    let wf = parse("incremental-watermark.json", SourcePlatform::Sqlserver);
    let table = &wf.tables[0];
    assert_eq!(
        table.synchronization,
        Synchronization::Watermark {
            watermark_column: "updated_at".into(),
            track_modifications: true
        }
    );
    assert_eq!(table.primary_key_columns, ["order_id"]);
}

#[test]
fn merged_configuration_round_trips_through_json() {
    for (name, platform) in [
        ("basic-migration-sqlserver.json", SourcePlatform::Sqlserver),
        ("redshift-unload.json", SourcePlatform::Redshift),
        ("redshift-unload-iceberg.json", SourcePlatform::Redshift),
        ("incremental-watermark.json", SourcePlatform::Sqlserver),
    ] {
        let wf = parse(name, platform);
        let stored = serde_json::to_string(&wf).expect("serializes");
        let back: WorkflowConfig =
            serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{name}: {e}\n{stored}"));
        assert_eq!(back, wf, "{name}");
        // The stored form is itself a valid workflow file.
        assert_eq!(
            parse_workflow(&stored, Some(platform)).expect("re-parses"),
            wf
        );
    }
}

#[test]
fn merged_configuration_snapshot() {
    let wf = parse("basic-migration-sqlserver.json", SourcePlatform::Sqlserver);
    insta::assert_json_snapshot!(wf);
}

#[test]
fn quoted_identifiers_keep_case_and_quotes() {
    let text = r#"{"tables": [{
        "source": {"databaseName": "Db", "schemaName": "[My Schema]", "tableName": "\"MyCaseSensitiveTable\""},
        "target": {"databaseName": "DB", "schemaName": "\"Mixed\"", "tableName": "\"MyCaseSensitiveTable\""},
        "columnNamesToPartitionBy": ["\"Id\""]
    }]}"#;
    let wf = parse_workflow(text, Some(SourcePlatform::Sqlserver)).expect("valid");
    let table = &wf.tables[0];
    assert_eq!(table.source.table_name, "\"MyCaseSensitiveTable\"");
    assert_eq!(table.source.schema_name, "[My Schema]");
    assert_eq!(table.target.schema_name, "\"Mixed\"");
    assert_eq!(table.column_names_to_partition_by, ["\"Id\""]);
}

#[test]
fn iceberg_catalog_defaults_to_snowflake_and_null_table_type_to_native() {
    let text = r#"{"defaultTableConfiguration": {
            "source": {"databaseName": "D", "schemaName": "S"},
            "target": {"databaseName": "T", "schemaName": "P"}},
        "tables": [
            {"source": {"tableName": "a"}, "target": {"tableName": "a", "tableType": "iceberg",
                "icebergConfig": {"externalVolume": "vol"}}, "columnNamesToPartitionBy": ["id"]},
            {"source": {"tableName": "b"}, "target": {"tableName": "b", "tableType": null},
                "columnNamesToPartitionBy": ["id"]}
        ]}"#;
    let wf = parse_workflow(text, Some(SourcePlatform::Postgresql)).expect("valid");
    let iceberg = wf.tables[0]
        .target
        .iceberg_config
        .as_ref()
        .expect("iceberg");
    assert_eq!(iceberg.catalog, "SNOWFLAKE");
    assert_eq!(
        iceberg.migration_strategy,
        IcebergMigrationStrategy::CopyFiles
    );
    assert_eq!(wf.tables[1].target.table_type, TableType::Native);
    assert_eq!(wf.tables[1].target.iceberg_config, None);
}

#[test]
fn schema_version_forms_and_affinity() {
    for version in ["1", "1.2", "1.2.3"] {
        let text = format!(
            r#"{{"schemaVersion": "{version}", "affinity": "eu-west", "tables": [{{
                "source": {{"databaseName": "D", "schemaName": "S", "tableName": "T"}},
                "target": {{"databaseName": "D", "schemaName": "S", "tableName": "T"}},
                "columnNamesToPartitionBy": ["ID"]}}]}}"#
        );
        let wf = parse_workflow(&text, None).unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(wf.schema_version, version);
        assert_eq!(wf.affinity.as_deref(), Some("eu-west"));
    }
}

#[test]
fn a_stored_sql_server_filter_with_bracketed_names_reads_back() {
    let text = r#"{"tables": [{
        "source": {"databaseName": "D", "schemaName": "dbo", "tableName": "T"},
        "target": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
        "columnNamesToPartitionBy": ["ID"], "whereClauseCriteria": "[it's] = 1"}]}"#;
    let wf = parse_workflow(text, Some(SourcePlatform::Sqlserver)).expect("valid on SQL Server");
    // Other platforms read `'` as the start of a string literal.
    assert!(parse_workflow(text, Some(SourcePlatform::Postgresql)).is_err());
    // The orchestrator reads the stored configuration back without the platform; the plan and
    // the extraction check the filter again with it.
    let stored = serde_json::to_string(&wf).expect("serializes");
    let back: WorkflowConfig = serde_json::from_str(&stored).expect("reads back");
    assert_eq!(back, wf);
    let table: config_schema::workflow::TableConfig =
        serde_json::from_value(serde_json::to_value(&wf.tables[0]).expect("table"))
            .expect("a stored table reads back");
    assert_eq!(table, wf.tables[0]);
}

#[test]
fn a_stored_configuration_with_values_newer_rules_ignore_still_reads_back() {
    // Stored by a release that kept inherited Iceberg fields an external catalog does not use.
    let stored = r#"{"schemaVersion": "1.0.0", "tables": [{
        "source": {"databaseName": "D", "schemaName": "S", "tableName": "events"},
        "target": {"databaseName": "T", "schemaName": "P", "tableName": "EVENTS", "tableType": "iceberg",
            "icebergConfig": {"catalog": "glue", "externalVolume": "v", "catalogTableName": "g.events",
                "baseLocationPrefix": "p", "migrationStrategy": "catalog_link"}},
        "columnNamesToPartitionBy": ["id"], "extraction": {"strategy": "regular"},
        "synchronization": {"strategy": "none"}, "columnTypeMappings": [], "columnNameMappings": [],
        "primaryKeyColumns": [], "partitionSize": "auto"}]}"#;
    assert!(
        parse_workflow(stored, None).is_err(),
        "a new file like this is refused"
    );
    let back: WorkflowConfig = serde_json::from_str(stored).expect("reads back");
    let iceberg = back.tables[0]
        .target
        .iceberg_config
        .as_ref()
        .expect("iceberg");
    assert_eq!(iceberg.base_location_prefix, None, "dropped");
}
