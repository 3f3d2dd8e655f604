//! Values inherited from `defaultTableConfiguration` are never an error for a table that does
//! not use them: they are ignored for that table, with a note naming the table and the field.
//! What the user wrote on a table can be refused there; what the defaults hold is refused at
//! its path in the defaults, once, when it is wrong for every table that inherits it.

#![allow(clippy::unwrap_used)]

use config_schema::workflow::model::{IcebergMigrationStrategy, TableType};
use config_schema::workflow::{
    check_workflow_value, parse_workflow, Extraction, PartitionSize, Synchronization,
    WorkflowConfig,
};
use config_schema::{Checked, SourcePlatform};

const P: Option<SourcePlatform> = Some(SourcePlatform::Postgresql);
const R: Option<SourcePlatform> = Some(SourcePlatform::Redshift);

/// A workflow whose defaults hold the names plus `defaults`, and one table per entry of
/// `tables` (each gets its own source and target table name, `orders0`, `orders1`, ...).
fn workflow(defaults: &str, tables: &[&str]) -> String {
    let tables: Vec<String> = tables
        .iter()
        .enumerate()
        .map(|(i, extra)| {
            let sep = if extra.is_empty() { "" } else { ", " };
            format!(
                r#"{{"source": {{"tableName": "orders{i}"}}, "target": {{"tableName": "ORDERS{i}"}}, "columnNamesToPartitionBy": ["id"]{sep}{extra}}}"#
            )
        })
        .collect();
    let sep = if defaults.is_empty() { "" } else { ", " };
    format!(
        r#"{{"defaultTableConfiguration": {{"source": {{"databaseName": "D", "schemaName": "S"}}, "target": {{"databaseName": "T", "schemaName": "P"}}{sep}{defaults}}}, "tables": [{}]}}"#,
        tables.join(", ")
    )
}

fn check(text: &str, platform: Option<SourcePlatform>) -> Checked<WorkflowConfig> {
    let value: serde_json::Value = serde_json::from_str(text).expect("test JSON");
    check_workflow_value(&value, platform).unwrap_or_else(|e| panic!("refused: {e}\n{text}"))
}

fn notes(checked: &Checked<WorkflowConfig>) -> Vec<String> {
    checked.notes.iter().map(ToString::to_string).collect()
}

fn problems(text: &str, platform: Option<SourcePlatform>) -> Vec<String> {
    match parse_workflow(text, platform) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error
            .problems()
            .expect("parsed")
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// The stored (merged) configuration is itself a valid workflow and reads back the same.
fn assert_round_trips(checked: &Checked<WorkflowConfig>) {
    let stored = serde_json::to_string(&checked.config).unwrap();
    let again = parse_workflow(&stored, None).unwrap_or_else(|e| panic!("{e}\n{stored}"));
    assert_eq!(again, checked.config);
    let back: WorkflowConfig = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, checked.config);
}

#[test]
fn an_inherited_watermark_column_is_ignored_by_a_checksum_table() {
    let text = workflow(
        r#""synchronization": {"strategy": "watermark", "watermarkColumn": "updated_at"}"#,
        &["", r#""synchronization": {"strategy": "checksum"}"#],
    );
    let checked = check(&text, P);
    assert_eq!(
        checked.config.tables[0].synchronization,
        Synchronization::Watermark {
            watermark_column: "updated_at".into(),
            track_modifications: false
        }
    );
    assert_eq!(
        checked.config.tables[1].synchronization,
        Synchronization::Checksum
    );
    assert_eq!(
        notes(&checked),
        ["tables[1].synchronization.watermarkColumn is inherited from defaultTableConfiguration and ignored (table orders1): it is only used when strategy is \"watermark\""]
    );
    assert_round_trips(&checked);
}

#[test]
fn inherited_track_modifications_is_ignored_without_watermark() {
    let text = workflow(
        r#""primaryKeyColumns": ["id"], "synchronization": {"strategy": "watermark", "watermarkColumn": "u", "trackModifications": true}"#,
        &["", r#""synchronization": {"strategy": "none"}"#],
    );
    let checked = check(&text, P);
    assert_eq!(
        checked.config.tables[1].synchronization,
        Synchronization::None
    );
    let notes = notes(&checked);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[1].starts_with("tables[1].synchronization.trackModifications is inherited from defaultTableConfiguration and ignored (table orders1)"), "{notes:?}");
}

#[test]
fn what_a_table_writes_itself_is_still_refused() {
    let text = workflow(
        r#""synchronization": {"strategy": "watermark", "watermarkColumn": "updated_at"}"#,
        &[
            r#""synchronization": {"strategy": "checksum", "watermarkColumn": "x"}"#,
            "",
        ],
    );
    assert_eq!(
        problems(&text, P),
        ["tables[0].synchronization.watermarkColumn is only used when strategy is \"watermark\": remove it or set strategy to \"watermark\""]
    );
}

#[test]
fn a_default_no_inheriting_table_uses_is_refused_once_at_its_own_path() {
    // The defaults contradict themselves, and every table inherits both values.
    let text = workflow(
        r#""synchronization": {"strategy": "checksum", "watermarkColumn": "updated_at"}"#,
        &["", ""],
    );
    assert_eq!(
        problems(&text, P),
        ["defaultTableConfiguration.synchronization.watermarkColumn is not used by any table that inherits it (tables[0], tables[1]): it is only used when strategy is \"watermark\"; remove it or change those tables"]
    );
    // One table that uses it is enough: the others ignore it.
    let text = workflow(
        r#""synchronization": {"strategy": "checksum", "watermarkColumn": "updated_at"}"#,
        &["", r#""synchronization": {"strategy": "watermark"}"#],
    );
    let checked = check(&text, P);
    assert_eq!(notes(&checked).len(), 1);
}

#[test]
fn an_inherited_external_stage_is_ignored_by_a_regular_table() {
    let text = workflow(
        r#""extraction": {"strategy": "unload", "externalStage": "DB.S.STAGE"}"#,
        &["", r#""extraction": {"strategy": "regular"}"#],
    );
    let checked = check(&text, R);
    assert_eq!(
        checked.config.tables[0].extraction,
        Extraction::Unload {
            external_stage: "DB.S.STAGE".into()
        }
    );
    assert_eq!(checked.config.tables[1].extraction, Extraction::Regular);
    assert_eq!(
        notes(&checked),
        ["tables[1].extraction.externalStage is inherited from defaultTableConfiguration and ignored (table orders1): it is only used when strategy is \"unload\""]
    );
    assert_round_trips(&checked);
    // Written on the table itself, it is refused as before.
    let own = workflow(
        "",
        &[r#""extraction": {"strategy": "regular", "externalStage": "X"}"#],
    );
    assert_eq!(
        problems(&own, R),
        ["tables[0].extraction.externalStage is only used when strategy is \"unload\": remove it or set strategy to \"unload\""]
    );
    // Every table overrides the strategy: the defaults are consistent in themselves, so the
    // unused stage is only a note, never an error.
    let overridden = workflow(
        r#""extraction": {"strategy": "unload", "externalStage": "DB.S.STAGE"}"#,
        &[r#""extraction": {"strategy": "regular"}"#],
    );
    let checked = check(&overridden, R);
    assert_eq!(
        notes(&checked),
        ["tables[0].extraction.externalStage is inherited from defaultTableConfiguration and ignored (table orders0): it is only used when strategy is \"unload\""]
    );
    // The defaults contradict themselves: refused at their own path.
    let contradiction = workflow(
        r#""extraction": {"strategy": "regular", "externalStage": "DB.S.STAGE"}"#,
        &[""],
    );
    assert_eq!(
        problems(&contradiction, R),
        ["defaultTableConfiguration.extraction.externalStage is not used by any table that inherits it (tables[0]): it is only used when strategy is \"unload\"; remove it or change those tables"]
    );
}

#[test]
fn an_inherited_iceberg_config_is_ignored_by_a_native_table() {
    let text = workflow(
        r#""target": {"databaseName": "T", "schemaName": "P", "tableType": "iceberg", "icebergConfig": {"externalVolume": "vol", "baseLocationPrefix": "p"}}"#,
        &[
            "",
            r#""target": {"tableName": "ORDERS1", "tableType": "native"}"#,
        ],
    );
    let checked = check(&text, P);
    assert_eq!(
        checked.config.tables[0].target.table_type,
        TableType::Iceberg
    );
    assert_eq!(
        checked.config.tables[1].target.table_type,
        TableType::Native
    );
    assert_eq!(checked.config.tables[1].target.iceberg_config, None);
    assert_eq!(
        notes(&checked),
        ["tables[1].target.icebergConfig is inherited from defaultTableConfiguration and ignored (table orders1): it is only used when tableType is \"iceberg\""]
    );
    assert_round_trips(&checked);
    let own = workflow(
        "",
        &[r#""target": {"tableName": "ORDERS0", "icebergConfig": {"externalVolume": "vol"}}"#],
    );
    assert_eq!(
        problems(&own, P),
        ["tables[0].target.icebergConfig is only used when tableType is \"iceberg\": remove it or set tableType to \"iceberg\""]
    );
}

#[test]
fn inherited_iceberg_fields_a_catalog_cannot_use_are_ignored() {
    // The defaults describe Snowflake-managed tables loaded with copy_files; one table uses an
    // external catalog instead.
    let text = workflow(
        r#""target": {"databaseName": "T", "schemaName": "P", "tableType": "iceberg", "icebergConfig": {"externalVolume": "vol", "baseLocationPrefix": "p", "sourceDataStage": "@T.P.STAGE", "catalogSync": "sync_int", "migrationStrategy": "copy_files"}}"#,
        &[
            "",
            r#""target": {"tableName": "ORDERS1", "icebergConfig": {"catalog": "glue", "catalogTableName": "g.orders"}}"#,
        ],
    );
    let checked = check(&text, R);
    let managed = checked.config.tables[0]
        .target
        .iceberg_config
        .as_ref()
        .unwrap();
    assert_eq!(
        managed.migration_strategy,
        IcebergMigrationStrategy::CopyFiles
    );
    assert_eq!(managed.source_data_stage.as_deref(), Some("@T.P.STAGE"));
    let external = checked.config.tables[1]
        .target
        .iceberg_config
        .as_ref()
        .unwrap();
    assert_eq!(
        external.migration_strategy,
        IcebergMigrationStrategy::CatalogLink,
        "inferred from the table's catalog"
    );
    assert_eq!(external.base_location_prefix, None);
    assert_eq!(external.source_data_stage, None);
    assert_eq!(external.catalog_sync, None);
    assert_eq!(external.external_volume.as_deref(), Some("vol"));
    insta::assert_debug_snapshot!(notes(&checked));
    assert_round_trips(&checked);
}

#[test]
fn iceberg_fields_a_table_writes_for_the_wrong_catalog_are_refused() {
    let text = workflow(
        "",
        &[
            r#""target": {"tableName": "ORDERS0", "tableType": "iceberg", "icebergConfig": {"catalog": "glue", "catalogTableName": "g.t", "baseLocationPrefix": "p"}}"#,
            r#""target": {"tableName": "ORDERS1", "tableType": "iceberg", "icebergConfig": {"externalVolume": "v", "catalogTableName": "g.t"}}"#,
            r#""target": {"tableName": "ORDERS2", "tableType": "iceberg", "icebergConfig": {"externalVolume": "v", "migrationStrategy": "catalog_link"}}"#,
        ],
    );
    insta::assert_debug_snapshot!(problems(&text, P));
}

#[test]
fn an_inherited_catalog_table_name_is_ignored_by_a_managed_table() {
    let text = workflow(
        r#""target": {"databaseName": "T", "schemaName": "P", "tableType": "iceberg", "icebergConfig": {"catalog": "glue", "catalogTableName": "g.shared", "externalVolume": "vol"}}"#,
        &[
            "",
            r#""target": {"tableName": "ORDERS1", "icebergConfig": {"catalog": "SNOWFLAKE"}}"#,
        ],
    );
    let checked = check(&text, P);
    let managed = checked.config.tables[1]
        .target
        .iceberg_config
        .as_ref()
        .unwrap();
    assert_eq!(managed.catalog_table_name, None);
    assert_eq!(
        managed.migration_strategy,
        IcebergMigrationStrategy::CopyFiles
    );
    assert_eq!(
        notes(&checked),
        ["tables[1].target.icebergConfig.catalogTableName is inherited from defaultTableConfiguration and ignored (table orders1): it is only used when catalog is an external catalog"]
    );
}

#[test]
fn partition_size_forms_never_mix_between_defaults_and_tables() {
    let text = workflow(
        r#""partitionSize": {"targetSizeMb": 100}"#,
        &[
            "",
            r#""partitionSize": {"maxRowsPerPartition": 10}"#,
            r#""partitionSize": "auto""#,
        ],
    );
    let checked = check(&text, P);
    let sizes: Vec<PartitionSize> = checked
        .config
        .tables
        .iter()
        .map(|t| t.partition_size)
        .collect();
    assert_eq!(
        sizes,
        [
            PartitionSize::TargetSizeMb(100),
            PartitionSize::MaxRowsPerPartition(10),
            PartitionSize::Auto
        ]
    );
    assert!(checked.notes.is_empty());
    // A bad default size is reported once, where it was written.
    let both = workflow(
        r#""partitionSize": {"targetSizeMb": 100, "maxRowsPerPartition": 10}"#,
        &["", "", r#""partitionSize": "auto""#],
    );
    assert_eq!(
        problems(&both, P),
        ["defaultTableConfiguration.partitionSize must set only one of targetSizeMb and maxRowsPerPartition: remove one"]
    );
    let zero = workflow(r#""partitionSize": {"targetSizeMb": 0}"#, &["", ""]);
    assert_eq!(
        problems(&zero, P),
        ["defaultTableConfiguration.partitionSize.targetSizeMb must be at least 1, found 0"]
    );
}

#[test]
fn wrong_inherited_values_are_reported_once_at_their_path_in_the_defaults() {
    let text = r#"{"defaultTableConfiguration": {"source": {"databaseName": "D", "schemaName": "\"open"}, "target": {"databaseName": "my db", "schemaName": "P"}, "whereClauseCriteria": "a = 1; DROP TABLE x", "columnNamesToPartitionBy": ["id", "id"], "columnNameMappings": [{"sourceName": "a", "targetName": "\"Name\""}, {"sourceName": "b", "targetName": "NAME"}]},
        "tables": [{"source": {"tableName": "a"}, "target": {"tableName": "A"}}, {"source": {"tableName": "b"}, "target": {"tableName": "B"}}]}"#;
    insta::assert_debug_snapshot!(problems(text, P));
}

#[test]
fn inherited_track_modifications_still_needs_the_tables_primary_key() {
    let text = workflow(
        r#""synchronization": {"strategy": "watermark", "watermarkColumn": "u", "trackModifications": true}"#,
        &[r#""primaryKeyColumns": ["id"]"#, ""],
    );
    assert_eq!(
        problems(&text, P),
        ["defaultTableConfiguration.synchronization.trackModifications requires tables[1].primaryKeyColumns: list the primary key columns used to merge modified rows"]
    );
}
