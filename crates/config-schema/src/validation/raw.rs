//! Raw structs mirroring the data-validation JSON exactly as written (snake_case); every
//! field that has a default is optional here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use super::choices::RowValidationMode;

/// A data-validation workflow configuration.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Data-validation workflow configuration")]
pub struct RawValidationConfig {
    /// Source dialect, e.g. "SqlServer", "Redshift" (case-insensitive). Must match
    /// --source-platform.
    pub source_platform: String,
    /// Default "Snowflake" (the only target).
    pub target_platform: Option<String>,
    /// Default target database for objects that do not name one.
    pub target_database: Option<String>,
    /// Global validation levels and options.
    pub validation_configuration: Option<RawValidationLevels>,
    /// Numeric tolerance and optional type mapping file.
    pub comparison_configuration: Option<RawComparison>,
    /// Source database name -> Snowflake database name.
    pub database_mappings: Option<BTreeMap<String, String>>,
    /// Source schema name -> Snowflake schema name.
    pub schema_mappings: Option<BTreeMap<String, String>>,
    /// Tables (or views) to validate; at least one.
    #[schemars(length(min = 1))]
    pub tables: Vec<RawValidationObject>,
    /// Additional views, same shape as tables.
    pub views: Option<Vec<RawValidationObject>>,
    /// Affinity group, as for data-migration workflows.
    pub affinity: Option<String>,
    /// Use Snowflake-side computation where supported. Default false.
    pub use_snowflake_compute: Option<bool>,
}

/// `validation_configuration` (global or per object).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawValidationLevels {
    /// Level 1: schema / column consistency. Default true.
    pub schema_validation: Option<bool>,
    /// Level 2: statistical metrics comparison. Default true.
    pub metrics_validation: Option<bool>,
    /// Level 3: row- or cell-level comparison. Default false.
    pub row_validation: Option<bool>,
    /// "row" (default) or "cell".
    pub row_validation_mode: Option<RowValidationMode>,
    /// Go on to the next level after a failure. Default false.
    pub continue_on_failure: Option<bool>,
    /// Cap on failed rows reported by row validation (> 0). Default 100.
    #[schemars(range(min = 1))]
    pub max_failed_rows_number: Option<u64>,
    /// Exclude unsupported metric columns. Default false.
    pub exclude_metrics: Option<bool>,
    /// Apply metric column modifiers. Default true.
    pub apply_metric_column_modifier: Option<bool>,
}

/// `comparison_configuration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawComparison {
    /// Numeric tolerance for metrics (> 0). Default 0.001.
    pub tolerance: Option<f64>,
    /// Path of a custom type mapping file for comparisons.
    pub type_mapping_file_path: Option<String>,
}

/// One entry of `tables` or `views`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawValidationObject {
    /// Source object name (format depends on the source platform, e.g. "db.schema.table").
    pub fully_qualified_name: String,
    /// Treat column_selection_list as columns to exclude. Default false.
    pub use_column_selection_as_exclude_list: Option<bool>,
    /// Columns to include (or exclude).
    pub column_selection_list: Option<Vec<String>>,
    /// Target object name override.
    pub target_name: Option<String>,
    /// Target database override.
    pub target_database: Option<String>,
    /// Target schema override.
    pub target_schema: Option<String>,
    /// Filter on the source side.
    pub where_clause: Option<String>,
    /// Filter on the target side.
    pub target_where_clause: Option<String>,
    /// Columns aligning rows on the source.
    pub index_column_list: Option<Vec<String>>,
    /// Columns aligning rows on the target.
    pub target_index_column_list: Option<Vec<String>>,
    /// Source column -> target column.
    pub column_mappings: Option<BTreeMap<String, String>>,
    /// Case sensitivity of identifiers. Default false.
    pub is_case_sensitive: Option<bool>,
    /// Chunking hint (> 0).
    #[schemars(range(min = 1))]
    pub chunk_number: Option<u64>,
    /// Overrides the global cap for this object (> 0).
    #[schemars(range(min = 1))]
    pub max_failed_rows_number: Option<u64>,
    /// Per-object metrics exclusion override.
    pub exclude_metrics: Option<bool>,
    /// Per-object modifier override.
    pub apply_metric_column_modifier: Option<bool>,
    /// "TABLE" or "VIEW". Default TABLE in `tables`, VIEW in `views`.
    pub object_type: Option<String>,
    /// Partition column for chunked validation.
    pub partition_column: Option<String>,
    /// Overrides of the global validation_configuration for this object only.
    pub validation_configuration: Option<RawValidationLevels>,
}
