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

use std::collections::BTreeSet;

use crate::problem::path_within;

use super::raw::{
    RawExtraction, RawIcebergConfig, RawSourceIdentifier, RawSynchronization, RawTableConfig,
    RawTargetIdentifier,
};

/// `table` with every field it leaves unset taken from `default`.
pub fn merge_table(default: &RawTableConfig, table: &RawTableConfig) -> RawTableConfig {
    merge_table_traced(default, table).table
}

/// A merged table and where each of its values came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedTable {
    pub table: RawTableConfig,
    pub origins: Origins,
}

/// Where each value of a merged table came from, by its path relative to the table
/// (`synchronization.watermarkColumn`, `partitionSize`). Nested objects are traced field by
/// field; lists, `partitionSize` and `whereClauseCriteria` are one value each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    own: BTreeSet<String>,
    inherited: BTreeSet<String>,
}

/// Who wrote a value of a merged table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Not given on the table nor in the defaults.
    Absent,
    /// Written on the table (for an object: at least one of its fields is).
    Own,
    /// Every part of it comes from `defaultTableConfiguration`.
    Inherited,
}

impl Origins {
    /// Where the value at `path` came from. For an object, `Own` as soon as the table wrote any
    /// of its fields.
    pub fn of(&self, path: &str) -> Origin {
        let within = |value: &String| path_within(value, path);
        if self.own.iter().any(within) {
            Origin::Own
        } else if self.inherited.iter().any(within) {
            Origin::Inherited
        } else {
            Origin::Absent
        }
    }

    /// Whether the value at `path` came from `defaultTableConfiguration` entirely.
    pub fn is_inherited(&self, path: &str) -> bool {
        self.of(path) == Origin::Inherited
    }

    /// Every value taken from `defaultTableConfiguration`.
    pub fn inherited(&self) -> impl Iterator<Item = &str> {
        self.inherited.iter().map(String::as_str)
    }

    /// Origins of a table read on its own (a stored configuration): everything is its own.
    pub fn all_own(table: &RawTableConfig) -> Origins {
        merge_table_traced(&RawTableConfig::default(), table).origins
    }
}

/// [`merge_table`], recording for every value whether the table or the defaults gave it.
pub fn merge_table_traced(default: &RawTableConfig, table: &RawTableConfig) -> MergedTable {
    let mut trace = Trace::default();
    let t = &mut trace;
    let merged = RawTableConfig {
        source: nested(t, "source", &default.source, &table.source, merge_source),
        target: nested(t, "target", &default.target, &table.target, merge_target),
        column_names_to_partition_by: pick(
            t,
            "columnNamesToPartitionBy",
            &default.column_names_to_partition_by,
            &table.column_names_to_partition_by,
        ),
        extraction: nested(
            t,
            "extraction",
            &default.extraction,
            &table.extraction,
            merge_extraction,
        ),
        synchronization: nested(
            t,
            "synchronization",
            &default.synchronization,
            &table.synchronization,
            merge_synchronization,
        ),
        column_type_mappings: pick(
            t,
            "columnTypeMappings",
            &default.column_type_mappings,
            &table.column_type_mappings,
        ),
        column_name_mappings: pick(
            t,
            "columnNameMappings",
            &default.column_name_mappings,
            &table.column_name_mappings,
        ),
        primary_key_columns: pick(
            t,
            "primaryKeyColumns",
            &default.primary_key_columns,
            &table.primary_key_columns,
        ),
        partition_size: pick(
            t,
            "partitionSize",
            &default.partition_size,
            &table.partition_size,
        ),
        where_clause_criteria: pick(
            t,
            "whereClauseCriteria",
            &default.where_clause_criteria,
            &table.where_clause_criteria,
        ),
    };
    MergedTable {
        table: merged,
        origins: Origins {
            own: trace.own,
            inherited: trace.inherited,
        },
    }
}

/// Collects origins while merging; `prefix` is the path of the object being merged.
#[derive(Default)]
struct Trace {
    prefix: Vec<&'static str>,
    own: BTreeSet<String>,
    inherited: BTreeSet<String>,
}

impl Trace {
    fn path(&self, key: &str) -> String {
        let mut parts = self.prefix.clone();
        parts.push(key);
        parts.join(".")
    }
}

/// The table's value if given, else the default's; records which.
fn pick<T: Clone>(
    trace: &mut Trace,
    key: &'static str,
    default: &Option<T>,
    table: &Option<T>,
) -> Option<T> {
    match (table, default) {
        (Some(value), _) => {
            trace.own.insert(trace.path(key));
            Some(value.clone())
        }
        (None, Some(value)) => {
            trace.inherited.insert(trace.path(key));
            Some(value.clone())
        }
        (None, None) => None,
    }
}

/// A nested object: merged field by field when the defaults have it (a table that leaves it
/// out inherits each field), else the table's own.
fn nested<T: Clone + Default>(
    trace: &mut Trace,
    key: &'static str,
    default: &Option<T>,
    table: &Option<T>,
    merge: impl Fn(&mut Trace, &T, &T) -> T,
) -> Option<T> {
    let empty = T::default();
    trace.prefix.push(key);
    let merged = match (default, table) {
        (None, None) => None,
        (Some(d), t) => Some(merge(trace, d, t.as_ref().unwrap_or(&empty))),
        (None, Some(t)) => Some(merge(trace, &empty, t)),
    };
    trace.prefix.pop();
    merged
}

fn merge_source(
    t: &mut Trace,
    d: &RawSourceIdentifier,
    s: &RawSourceIdentifier,
) -> RawSourceIdentifier {
    RawSourceIdentifier {
        database_name: pick(t, "databaseName", &d.database_name, &s.database_name),
        schema_name: pick(t, "schemaName", &d.schema_name, &s.schema_name),
        table_name: pick(t, "tableName", &d.table_name, &s.table_name),
    }
}

fn merge_target(
    t: &mut Trace,
    d: &RawTargetIdentifier,
    s: &RawTargetIdentifier,
) -> RawTargetIdentifier {
    RawTargetIdentifier {
        database_name: pick(t, "databaseName", &d.database_name, &s.database_name),
        schema_name: pick(t, "schemaName", &d.schema_name, &s.schema_name),
        table_name: pick(t, "tableName", &d.table_name, &s.table_name),
        table_type: pick(t, "tableType", &d.table_type, &s.table_type),
        iceberg_config: nested(
            t,
            "icebergConfig",
            &d.iceberg_config,
            &s.iceberg_config,
            merge_iceberg,
        ),
        existing_rows: pick(t, "existingRows", &d.existing_rows, &s.existing_rows),
    }
}

fn merge_iceberg(t: &mut Trace, d: &RawIcebergConfig, s: &RawIcebergConfig) -> RawIcebergConfig {
    RawIcebergConfig {
        catalog: pick(t, "catalog", &d.catalog, &s.catalog),
        external_volume: pick(t, "externalVolume", &d.external_volume, &s.external_volume),
        base_location_prefix: pick(
            t,
            "baseLocationPrefix",
            &d.base_location_prefix,
            &s.base_location_prefix,
        ),
        catalog_table_name: pick(
            t,
            "catalogTableName",
            &d.catalog_table_name,
            &s.catalog_table_name,
        ),
        catalog_sync: pick(t, "catalogSync", &d.catalog_sync, &s.catalog_sync),
        source_data_stage: pick(
            t,
            "sourceDataStage",
            &d.source_data_stage,
            &s.source_data_stage,
        ),
        migration_strategy: pick(
            t,
            "migrationStrategy",
            &d.migration_strategy,
            &s.migration_strategy,
        ),
    }
}

fn merge_extraction(t: &mut Trace, d: &RawExtraction, s: &RawExtraction) -> RawExtraction {
    RawExtraction {
        strategy: pick(t, "strategy", &d.strategy, &s.strategy),
        external_stage: pick(t, "externalStage", &d.external_stage, &s.external_stage),
    }
}

fn merge_synchronization(
    t: &mut Trace,
    d: &RawSynchronization,
    s: &RawSynchronization,
) -> RawSynchronization {
    RawSynchronization {
        strategy: pick(t, "strategy", &d.strategy, &s.strategy),
        watermark_column: pick(
            t,
            "watermarkColumn",
            &d.watermark_column,
            &s.watermark_column,
        ),
        track_modifications: pick(
            t,
            "trackModifications",
            &d.track_modifications,
            &s.track_modifications,
        ),
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
    fn origins_say_who_wrote_each_value() {
        let default = raw(serde_json::json!({
            "target": {"databaseName": "TDB", "icebergConfig": {"catalog": "SNOWFLAKE"}},
            "synchronization": {"strategy": "watermark", "watermarkColumn": "updated_at"},
            "partitionSize": "auto"
        }));
        let table = raw(serde_json::json!({
            "target": {"tableName": "T", "icebergConfig": {"externalVolume": "v"}},
            "synchronization": {"strategy": "checksum"},
            "whereClauseCriteria": null
        }));
        let origins = merge_table_traced(&default, &table).origins;
        assert_eq!(origins.of("synchronization.strategy"), Origin::Own);
        assert_eq!(
            origins.of("synchronization.watermarkColumn"),
            Origin::Inherited
        );
        assert_eq!(origins.of("synchronization"), Origin::Own, "partly own");
        assert_eq!(origins.of("target.databaseName"), Origin::Inherited);
        assert_eq!(origins.of("target.icebergConfig"), Origin::Own);
        assert_eq!(
            origins.of("target.icebergConfig.catalog"),
            Origin::Inherited
        );
        assert_eq!(origins.of("partitionSize"), Origin::Inherited);
        assert_eq!(origins.of("whereClauseCriteria"), Origin::Absent);
        assert_eq!(
            origins.of("synchronization.trackModifications"),
            Origin::Absent
        );
        // A whole object the table leaves out is inherited field by field.
        let bare = merge_table_traced(&default, &RawTableConfig::default()).origins;
        assert_eq!(bare.of("synchronization"), Origin::Inherited);
        assert_eq!(
            bare.inherited().collect::<Vec<_>>(),
            [
                "partitionSize",
                "synchronization.strategy",
                "synchronization.watermarkColumn",
                "target.databaseName",
                "target.icebergConfig.catalog"
            ]
        );
        // A stored table has no defaults: everything is its own.
        let stored = Origins::all_own(&merge_table(&default, &table));
        assert_eq!(stored.of("synchronization.watermarkColumn"), Origin::Own);
        assert_eq!(stored.inherited().count(), 0);
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
