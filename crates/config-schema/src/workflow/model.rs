//! The validated data-migration workflow: every table complete, defaults applied.
//!
//! These types serialize to the same JSON shape as the input file, with every default written
//! out, so the orchestrator can store the merged configuration in the WORKFLOW row and anyone
//! can read it back: `validate` implements `Deserialize` for [`WorkflowConfig`] and
//! [`TableConfig`] by reading the raw structs and validating them again, so this module does
//! not depend on `raw` or `validate`.

use serde::{Serialize, Serializer};

pub use super::choices::{ExistingRows, IcebergMigrationStrategy, TableType};
pub use super::column_mapping::{ColumnNameMapping, ColumnTypeMapping};

/// The default `schemaVersion`.
pub fn default_schema_version() -> String {
    "1.0.0".to_string()
}

/// The default Iceberg catalog (Snowflake-managed).
pub fn default_iceberg_catalog() -> String {
    "SNOWFLAKE".to_string()
}

/// A checked workflow configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowConfig {
    pub schema_version: String,
    /// Every table with `defaultTableConfiguration` merged in.
    pub tables: Vec<TableConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
}

/// One table, complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
