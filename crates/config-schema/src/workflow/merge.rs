//! Merging `defaultTableConfiguration` into each table.
//!
//! The rules of the product page:
//! - nested objects (`source`, `target`, `target.icebergConfig`, `extraction`,
//!   `synchronization`) deep-merge: each field the table sets wins, the others come from the
//!   default;
//! - collections (`columnNamesToPartitionBy`, `columnTypeMappings`, `columnNameMappings`,
//!   `primaryKeyColumns`) given on the table replace the default entirely;
//! - scalars (`whereClauseCriteria`) override. `partitionSize` is one setting, string or
//!   object, so a table's value replaces the default's whole (merging `targetSizeMb` from one
//!   side with `maxRowsPerPartition` from the other would make an invalid object).
//!
//! A JSON `null` counts as "not given", so it keeps the default.

use super::raw::{
    RawExtraction, RawIcebergConfig, RawSourceIdentifier, RawSynchronization, RawTableConfig,
    RawTargetIdentifier,
};

/// `table` with every field it leaves unset taken from `default`.
pub fn merge_table(default: &RawTableConfig, table: &RawTableConfig) -> RawTableConfig {
    RawTableConfig {
        source: merge_nested(&default.source, &table.source, merge_source),
        target: merge_nested(&default.target, &table.target, merge_target),
        column_names_to_partition_by: replace(
            &default.column_names_to_partition_by,
            &table.column_names_to_partition_by,
        ),
        extraction: merge_nested(&default.extraction, &table.extraction, merge_extraction),
        synchronization: merge_nested(
            &default.synchronization,
            &table.synchronization,
            merge_synchronization,
        ),
        column_type_mappings: replace(&default.column_type_mappings, &table.column_type_mappings),
        column_name_mappings: replace(&default.column_name_mappings, &table.column_name_mappings),
        primary_key_columns: replace(&default.primary_key_columns, &table.primary_key_columns),
        partition_size: replace(&default.partition_size, &table.partition_size),
        where_clause_criteria: replace(
            &default.where_clause_criteria,
            &table.where_clause_criteria,
        ),
    }
}

/// The table's value if given, else the default's.
fn replace<T: Clone>(default: &Option<T>, table: &Option<T>) -> Option<T> {
    table.clone().or_else(|| default.clone())
}

/// Both given: merge field by field; one given: that one.
fn merge_nested<T: Clone>(
    default: &Option<T>,
    table: &Option<T>,
    merge: impl Fn(&T, &T) -> T,
) -> Option<T> {
    match (default, table) {
        (Some(d), Some(t)) => Some(merge(d, t)),
        _ => replace(default, table),
    }
}

fn merge_source(d: &RawSourceIdentifier, t: &RawSourceIdentifier) -> RawSourceIdentifier {
    RawSourceIdentifier {
        database_name: replace(&d.database_name, &t.database_name),
        schema_name: replace(&d.schema_name, &t.schema_name),
        table_name: replace(&d.table_name, &t.table_name),
    }
}

fn merge_target(d: &RawTargetIdentifier, t: &RawTargetIdentifier) -> RawTargetIdentifier {
    RawTargetIdentifier {
        database_name: replace(&d.database_name, &t.database_name),
        schema_name: replace(&d.schema_name, &t.schema_name),
        table_name: replace(&d.table_name, &t.table_name),
        table_type: replace(&d.table_type, &t.table_type),
        iceberg_config: merge_nested(&d.iceberg_config, &t.iceberg_config, merge_iceberg),
        existing_rows: replace(&d.existing_rows, &t.existing_rows),
    }
}

fn merge_iceberg(d: &RawIcebergConfig, t: &RawIcebergConfig) -> RawIcebergConfig {
    RawIcebergConfig {
        catalog: replace(&d.catalog, &t.catalog),
        external_volume: replace(&d.external_volume, &t.external_volume),
        base_location_prefix: replace(&d.base_location_prefix, &t.base_location_prefix),
        catalog_table_name: replace(&d.catalog_table_name, &t.catalog_table_name),
        catalog_sync: replace(&d.catalog_sync, &t.catalog_sync),
        source_data_stage: replace(&d.source_data_stage, &t.source_data_stage),
        migration_strategy: replace(&d.migration_strategy, &t.migration_strategy),
    }
}

fn merge_extraction(d: &RawExtraction, t: &RawExtraction) -> RawExtraction {
    RawExtraction {
        strategy: replace(&d.strategy, &t.strategy),
        external_stage: replace(&d.external_stage, &t.external_stage),
    }
}

fn merge_synchronization(d: &RawSynchronization, t: &RawSynchronization) -> RawSynchronization {
    RawSynchronization {
        strategy: replace(&d.strategy, &t.strategy),
        watermark_column: replace(&d.watermark_column, &t.watermark_column),
        track_modifications: replace(&d.track_modifications, &t.track_modifications),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::raw::{
        ColumnTypeMapping, ExtractionKind, PartitionSizeKeyword, RawPartitionSize,
        RawSizedPartition, SynchronizationKind,
    };

    fn raw(json: serde_json::Value) -> RawTableConfig {
        serde_json::from_value(json).expect("test table parses")
    }

    #[test]
    fn nested_objects_deep_merge() {
        let default = raw(serde_json::json!({
            "source": {"databaseName": "DB", "schemaName": "dbo"},
            "target": {"databaseName": "TDB", "schemaName": "PUBLIC", "tableType": "iceberg",
                       "icebergConfig": {"catalog": "SNOWFLAKE", "externalVolume": "vol"}},
            "extraction": {"strategy": "unload", "externalStage": "S"},
            "synchronization": {"strategy": "watermark", "watermarkColumn": "updated_at"}
        }));
        let table = raw(serde_json::json!({
            "source": {"tableName": "orders", "schemaName": "sales"},
            "target": {"tableName": "ORDERS", "icebergConfig": {"baseLocationPrefix": "p"}},
            "extraction": {"externalStage": "OTHER"},
            "synchronization": {"trackModifications": true}
        }));
        let merged = merge_table(&default, &table);
        let source = merged.source.unwrap();
        assert_eq!(source.database_name.as_deref(), Some("DB"));
        assert_eq!(
            source.schema_name.as_deref(),
            Some("sales"),
            "table value wins"
        );
        assert_eq!(source.table_name.as_deref(), Some("orders"));
        let target = merged.target.unwrap();
        assert_eq!(target.table_name.as_deref(), Some("ORDERS"));
        assert_eq!(target.database_name.as_deref(), Some("TDB"));
        let iceberg = target.iceberg_config.unwrap();
        assert_eq!(iceberg.external_volume.as_deref(), Some("vol"));
        assert_eq!(iceberg.base_location_prefix.as_deref(), Some("p"));
        let extraction = merged.extraction.unwrap();
        assert_eq!(extraction.strategy, Some(ExtractionKind::Unload));
        assert_eq!(extraction.external_stage.as_deref(), Some("OTHER"));
        let sync = merged.synchronization.unwrap();
        assert_eq!(sync.strategy, Some(SynchronizationKind::Watermark));
        assert_eq!(sync.watermark_column.as_deref(), Some("updated_at"));
        assert_eq!(sync.track_modifications, Some(true));
    }

    #[test]
    fn collections_are_replaced_not_appended() {
        let default = raw(serde_json::json!({
            "columnNamesToPartitionBy": ["A", "B"],
            "columnTypeMappings": [{"sourceType": "MONEY", "targetType": "NUMBER(19,4)"}],
            "columnNameMappings": [{"sourceName": "a", "targetName": "b"}],
            "primaryKeyColumns": ["A"]
        }));
        let table = raw(serde_json::json!({
            "columnNamesToPartitionBy": ["C"],
            "columnTypeMappings": [{"sourceType": "BIT", "targetType": "BOOLEAN"}],
            "columnNameMappings": [],
        }));
        let merged = merge_table(&default, &table);
        assert_eq!(
            merged.column_names_to_partition_by,
            Some(vec!["C".to_string()])
        );
        assert_eq!(
            merged.column_type_mappings,
            Some(vec![ColumnTypeMapping {
                source_type: "BIT".into(),
                target_type: "BOOLEAN".into()
            }])
        );
        assert_eq!(
            merged.column_name_mappings,
            Some(vec![]),
            "an empty list still replaces"
        );
        assert_eq!(
            merged.primary_key_columns,
            Some(vec!["A".to_string()]),
            "absent keeps default"
        );
    }

    #[test]
    fn scalars_and_partition_size_override_whole() {
        let default = raw(serde_json::json!({
            "whereClauseCriteria": "a = 1",
            "partitionSize": {"targetSizeMb": 100}
        }));
        let table = raw(serde_json::json!({
            "whereClauseCriteria": "b = 2",
            "partitionSize": {"maxRowsPerPartition": 10}
        }));
        let merged = merge_table(&default, &table);
        assert_eq!(merged.where_clause_criteria.as_deref(), Some("b = 2"));
        assert_eq!(
            merged.partition_size,
            Some(RawPartitionSize::Sized(RawSizedPartition {
                target_size_mb: None,
                max_rows_per_partition: Some(10)
            }))
        );
        let keyword = raw(serde_json::json!({"partitionSize": "auto"}));
        assert_eq!(
            merge_table(&default, &keyword).partition_size,
            Some(RawPartitionSize::Keyword(PartitionSizeKeyword::Auto))
        );
        assert_eq!(
            merge_table(&default, &RawTableConfig::default())
                .where_clause_criteria
                .as_deref(),
            Some("a = 1")
        );
    }

    #[test]
    fn null_keeps_the_default() {
        let default = raw(
            serde_json::json!({"target": {"tableType": "iceberg"}, "whereClauseCriteria": "x"}),
        );
        let table =
            raw(serde_json::json!({"target": {"tableType": null}, "whereClauseCriteria": null}));
        let merged = merge_table(&default, &table);
        assert_eq!(merged.where_clause_criteria.as_deref(), Some("x"));
        assert_eq!(
            merged.target.unwrap().table_type,
            Some(crate::workflow::raw::TableType::Iceberg)
        );
    }
}
