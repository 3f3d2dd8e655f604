//! The validated data-migration workflow: every table complete, defaults applied.
//!
//! These types serialize to the same JSON shape as the input file, with every default written
//! out, so the orchestrator can store the merged configuration in the WORKFLOW row and anyone
//! can read it back (deserializing re-validates through the raw structs).

use serde::{Serialize, Serializer};

pub use super::raw::{
    ColumnNameMapping, ColumnTypeMapping, ExistingRows, IcebergMigrationStrategy, TableType,
};
use super::raw::{RawTableConfig, RawWorkflowConfig};
use crate::problem::Problems;

/// The default `schemaVersion`.
pub fn default_schema_version() -> String {
    "1.0.0".to_string()
}

/// The default Iceberg catalog (Snowflake-managed).
pub fn default_iceberg_catalog() -> String {
    "SNOWFLAKE".to_string()
}

/// A checked workflow configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawWorkflowConfig")]
pub struct WorkflowConfig {
    pub schema_version: String,
    /// Every table with `defaultTableConfiguration` merged in.
    pub tables: Vec<TableConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
}

/// One table, complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawTableConfig")]
pub struct TableConfig {
    pub source: SourceTable,
    pub target: TargetTable,
    pub column_names_to_partition_by: Vec<String>,
    pub extraction: Extraction,
    pub synchronization: Synchronization,
    pub column_type_mappings: Vec<ColumnTypeMapping>,
    pub column_name_mappings: Vec<ColumnNameMapping>,
    pub primary_key_columns: Vec<String>,
    pub partition_size: PartitionSize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub where_clause_criteria: Option<String>,
}

/// A source table. Names keep their quotes and case exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceTable {
    pub database_name: String,
    pub schema_name: String,
    pub table_name: String,
}

/// A Snowflake target table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTable {
    pub database_name: String,
    pub schema_name: String,
    pub table_name: String,
    pub table_type: TableType,
    /// Present exactly when `table_type` is Iceberg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iceberg_config: Option<IcebergConfig>,
    /// What to do with rows already in the table (default: refuse).
    pub existing_rows: ExistingRows,
}

/// `target.icebergConfig`, checked, with the strategy resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IcebergConfig {
    /// "SNOWFLAKE" or a catalog integration name.
    pub catalog: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_volume: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_location_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_sync: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_data_stage: Option<String>,
    /// Given, or inferred: copy_files for catalog SNOWFLAKE, catalog_link otherwise.
    pub migration_strategy: IcebergMigrationStrategy,
}

impl IcebergConfig {
    /// Whether the table is Snowflake-managed (catalog SNOWFLAKE, any case).
    pub fn is_snowflake_managed(&self) -> bool {
        self.catalog.eq_ignore_ascii_case("SNOWFLAKE")
    }
}

/// How rows leave the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "strategy", rename_all = "lowercase")]
pub enum Extraction {
    /// Queried and streamed through the worker.
    Regular,
    /// Redshift UNLOAD to S3, loaded from an external stage.
    Unload {
        #[serde(rename = "externalStage")]
        external_stage: String,
    },
}

/// What later runs re-synchronize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "strategy", rename_all = "lowercase")]
pub enum Synchronization {
    /// Full extraction every run.
    None,
    /// Re-extract partitions whose checksum changed.
    Checksum,
    /// Extract rows above the stored maximum of `watermark_column`.
    Watermark {
        #[serde(rename = "watermarkColumn")]
        watermark_column: String,
        /// Merge on `primaryKeyColumns` instead of appending.
        #[serde(rename = "trackModifications")]
        track_modifications: bool,
    },
}

/// Partition sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionSize {
    /// Chosen from the platform, extraction strategy and table size.
    Auto,
    /// About this many megabytes per partition (> 0).
    TargetSizeMb(u64),
    /// At most this many rows per partition (> 0).
    MaxRowsPerPartition(u64),
}

impl Serialize for PartitionSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            PartitionSize::Auto => serializer.serialize_str("auto"),
            PartitionSize::TargetSizeMb(n) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("targetSizeMb", n)?;
                map.end()
            }
            PartitionSize::MaxRowsPerPartition(n) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("maxRowsPerPartition", n)?;
                map.end()
            }
        }
    }
}

impl TryFrom<RawWorkflowConfig> for WorkflowConfig {
    type Error = Problems;

    /// Validates a stored configuration, without the platform-specific checks.
    fn try_from(raw: RawWorkflowConfig) -> Result<Self, Self::Error> {
        super::validate::validate_stored_workflow(raw)
    }
}

impl TryFrom<RawTableConfig> for TableConfig {
    type Error = Problems;

    /// Validates one stored table: every value is its own, paths are relative to the table.
    fn try_from(raw: RawTableConfig) -> Result<Self, Self::Error> {
        let origins = super::merge::Origins::all_own(&raw);
        let mut ctx = super::validate::TableContext::new("", 0, &raw, &origins);
        ctx.stored = true;
        let mut report = super::validate::Report::default();
        let table = super::validate::validate_table(&ctx, &raw, None, &mut report);
        match table {
            Some(table) if report.problems.is_empty() => Ok(table),
            _ => Err(report.problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::parse_workflow_value;

    fn table(default_target: serde_json::Value, target: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "defaultTableConfiguration": {"target": default_target, "columnNamesToPartitionBy": ["id"]},
            "tables": [{
                "source": {"databaseName": "d", "schemaName": "s", "tableName": "t"},
                "target": target
            }]
        })
    }

    #[test]
    fn existing_rows_defaults_to_refuse_is_inherited_and_round_trips() {
        let names = serde_json::json!({"databaseName": "D", "schemaName": "S", "tableName": "T"});
        let plain = parse_workflow_value(&table(serde_json::json!({}), names.clone()), None)
            .expect("valid");
        assert_eq!(plain.tables[0].target.existing_rows, ExistingRows::Refuse);

        let inherited = parse_workflow_value(
            &table(
                serde_json::json!({"existingRows": "truncate"}),
                names.clone(),
            ),
            None,
        )
        .expect("valid");
        assert_eq!(
            inherited.tables[0].target.existing_rows,
            ExistingRows::Truncate
        );

        let mut own = names.clone();
        own["existingRows"] = "append".into();
        let overridden = parse_workflow_value(
            &table(serde_json::json!({"existingRows": "truncate"}), own),
            None,
        )
        .expect("valid");
        let stored = serde_json::to_value(&overridden.tables[0]).expect("serializes");
        assert_eq!(stored["target"]["existingRows"], "append");
        let read_back: TableConfig = serde_json::from_value(stored).expect("reads back");
        assert_eq!(read_back.target.existing_rows, ExistingRows::Append);

        // A configuration stored before the field existed reads as the default.
        let mut old = serde_json::to_value(&plain.tables[0]).expect("serializes");
        old["target"]
            .as_object_mut()
            .expect("object")
            .remove("existingRows");
        let read_old: TableConfig = serde_json::from_value(old).expect("reads back");
        assert_eq!(read_old.target.existing_rows, ExistingRows::Refuse);
    }

    #[test]
    fn an_unknown_existing_rows_value_is_refused() {
        let mut names =
            serde_json::json!({"databaseName": "D", "schemaName": "S", "tableName": "T"});
        names["existingRows"] = "replace".into();
        let error = parse_workflow_value(&table(serde_json::json!({}), names), None)
            .expect_err("unknown value")
            .to_string();
        assert!(error.contains("existingRows"), "{error}");
    }
}
