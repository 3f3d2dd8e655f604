//! Raw structs mirroring the data-migration workflow JSON exactly as written. Table fields are
//! all optional here because `defaultTableConfiguration` may supply them; completeness is
//! checked after merging.

use schemars::gen::SchemaGenerator;
use schemars::schema::{Schema, SchemaObject};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::choices::{ExistingRows, IcebergMigrationStrategy, TableType};
pub use super::column_mapping::{ColumnNameMapping, ColumnTypeMapping};

/// A data-migration workflow configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "Data-migration workflow configuration")]
pub struct RawWorkflowConfig {
    /// Version of the configuration schema: "major", "major.minor" or "major.minor.patch".
    /// Default "1.0.0".
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+){0,2}$"))]
    pub schema_version: Option<String>,
    /// The tables to migrate (at least one).
    #[schemars(length(min = 1))]
    pub tables: Vec<RawTableConfig>,
    /// Settings inherited by every table. Nested objects (source, target, extraction,
    /// synchronization, target.icebergConfig) merge field by field; lists, partitionSize and
    /// whereClauseCriteria given on a table replace the default.
    pub default_table_configuration: Option<RawTableConfig>,
    /// Affinity group: only orchestrators and workers with a matching affinity process this
    /// workflow.
    pub affinity: Option<String>,
}

/// Settings of one table (or the defaults of every table).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTableConfig {
    /// The source table. Required after merging.
    pub source: Option<RawSourceIdentifier>,
    /// The Snowflake target table. Required after merging.
    pub target: Option<RawTargetIdentifier>,
    /// Columns used to split the table into partitions. Required after merging.
    pub column_names_to_partition_by: Option<Vec<String>>,
    /// How data leaves the source. Default `{ "strategy": "regular" }`.
    pub extraction: Option<RawExtraction>,
    /// What later runs of the workflow re-synchronize. Default `{ "strategy": "none" }`.
    pub synchronization: Option<RawSynchronization>,
    /// Source type -> Snowflake type overrides.
    pub column_type_mappings: Option<Vec<ColumnTypeMapping>>,
    /// Source column -> target column renames.
    pub column_name_mappings: Option<Vec<ColumnNameMapping>>,
    /// Primary key of the source table; required by `synchronization.trackModifications`.
    pub primary_key_columns: Option<Vec<String>>,
    /// Partition size: "auto" (default), `{ "targetSizeMb": N }` or
    /// `{ "maxRowsPerPartition": N }`.
    pub partition_size: Option<RawPartitionSize>,
    /// A filter expression on the source rows, e.g. "is_deleted = 0".
    pub where_clause_criteria: Option<String>,
}

/// `source`: a database object. Names that need quoting are written quoted:
/// `"tableName": "\"MyCaseSensitiveTable\""`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSourceIdentifier {
    pub database_name: Option<String>,
    pub schema_name: Option<String>,
    pub table_name: Option<String>,
}

/// `target`: a Snowflake table, native (default) or Iceberg.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTargetIdentifier {
    pub database_name: Option<String>,
    pub schema_name: Option<String>,
    pub table_name: Option<String>,
    /// "native" (default when omitted or null) or "iceberg".
    pub table_type: Option<TableType>,
    /// Required when tableType is "iceberg".
    pub iceberg_config: Option<RawIcebergConfig>,
    /// What to do when the target table already exists and holds rows: "refuse" (default; the
    /// table fails with an error), "append" (keep them and add the source's rows) or
    /// "truncate" (empty the table first, in the transaction that plans it).
    pub existing_rows: Option<ExistingRows>,
}

/// `target.icebergConfig`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawIcebergConfig {
    /// "SNOWFLAKE" (default; Snowflake-managed) or a catalog integration name (external
    /// catalog, e.g. AWS Glue).
    pub catalog: Option<String>,
    /// External volume for data and metadata. Required for catalog SNOWFLAKE.
    pub external_volume: Option<String>,
    /// Path prefix of BASE_LOCATION (catalog SNOWFLAKE).
    pub base_location_prefix: Option<String>,
    /// Table name in the external catalog, e.g. "glue_db.my_table". Required for an external
    /// catalog.
    pub catalog_table_name: Option<String>,
    /// Catalog integration to sync Snowflake-managed metadata back to.
    pub catalog_sync: Option<String>,
    /// Stage path starting with `@` holding existing Parquet files (copy_files).
    pub source_data_stage: Option<String>,
    /// catalog_link, convert_to_managed or copy_files. Inferred from catalog when omitted.
    pub migration_strategy: Option<IcebergMigrationStrategy>,
}

/// `extraction`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawExtraction {
    /// "regular" (default; through the worker) or "unload" (Redshift only; via S3).
    pub strategy: Option<ExtractionKind>,
    /// Fully qualified Snowflake external stage, e.g. "MY_DB.MY_SCHEMA.S3_STAGE". Required for
    /// unload.
    pub external_stage: Option<String>,
}

/// Extraction method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExtractionKind {
    Regular,
    Unload,
}

/// `synchronization`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSynchronization {
    /// "none" (default), "checksum" or "watermark".
    pub strategy: Option<SynchronizationKind>,
    /// Monotonically increasing column (watermark only; required there).
    pub watermark_column: Option<String>,
    /// Merge modified rows on primaryKeyColumns instead of appending (watermark only).
    pub track_modifications: Option<bool>,
}

/// Synchronization method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SynchronizationKind {
    None,
    Checksum,
    Watermark,
}

/// `partitionSize`: "auto" or an object with exactly one size.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawPartitionSize {
    Keyword(PartitionSizeKeyword),
    Sized(#[schemars(schema_with = "exactly_one_size_schema")] RawSizedPartition),
}

/// The only keyword form of partitionSize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartitionSizeKeyword {
    Auto,
}

/// `{ "targetSizeMb": N }` or `{ "maxRowsPerPartition": N }` (exactly one).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSizedPartition {
    pub target_size_mb: Option<u64>,
    pub max_rows_per_partition: Option<u64>,
}

/// The schema of [`RawSizedPartition`]: an object with exactly one of the two sizes, each at
/// least 1.
fn exactly_one_size_schema(_: &mut SchemaGenerator) -> Schema {
    let value = serde_json::json!({
        "type": "object",
        "description": "Exactly one of targetSizeMb (approximate megabytes per partition) or maxRowsPerPartition (rows per partition), greater than 0.",
        "additionalProperties": false,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "targetSizeMb": { "type": "integer", "minimum": 1, "description": "Approximate size of each partition in megabytes." },
            "maxRowsPerPartition": { "type": "integer", "minimum": 1, "description": "Maximum rows per partition." }
        }
    });
    let object: SchemaObject =
        serde_json::from_value(value).expect("the partition size schema is valid JSON Schema");
    Schema::Object(object)
}
