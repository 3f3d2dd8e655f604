//! The validated data-validation workflow: every default applied and every object's effective
//! levels resolved. These types serialize back to the same snake_case shape with the defaults
//! written out; `validate` implements `Deserialize` for [`ValidationWorkflowConfig`] by reading
//! the raw structs and validating them again, so this module does not depend on `raw` or
//! `validate`.

use std::collections::BTreeMap;

use serde::Serialize;

pub use super::choices::RowValidationMode;
use crate::platform::SourcePlatform;

pub fn default_schema_validation() -> bool {
    true
}
pub fn default_metrics_validation() -> bool {
    true
}
pub fn default_row_validation() -> bool {
    false
}
pub fn default_row_validation_mode() -> RowValidationMode {
    RowValidationMode::Row
}
pub fn default_continue_on_failure() -> bool {
    false
}
pub fn default_max_failed_rows_number() -> u64 {
    100
}
pub fn default_exclude_metrics() -> bool {
    false
}
pub fn default_apply_metric_column_modifier() -> bool {
    true
}
pub fn default_tolerance() -> f64 {
    0.001
}
pub fn default_target_platform() -> String {
    "Snowflake".to_string()
}

/// Validation levels and options with every default applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValidationLevels {
    pub schema_validation: bool,
    pub metrics_validation: bool,
    pub row_validation: bool,
    pub row_validation_mode: RowValidationMode,
    pub continue_on_failure: bool,
    pub max_failed_rows_number: u64,
    pub exclude_metrics: bool,
    pub apply_metric_column_modifier: bool,
}

impl Default for ValidationLevels {
    fn default() -> Self {
        ValidationLevels {
            schema_validation: default_schema_validation(),
            metrics_validation: default_metrics_validation(),
            row_validation: default_row_validation(),
            row_validation_mode: default_row_validation_mode(),
            continue_on_failure: default_continue_on_failure(),
            max_failed_rows_number: default_max_failed_rows_number(),
            exclude_metrics: default_exclude_metrics(),
            apply_metric_column_modifier: default_apply_metric_column_modifier(),
        }
    }
}

/// `comparison_configuration` with defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonConfig {
    pub tolerance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_mapping_file_path: Option<String>,
}

/// A checked validation workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationWorkflowConfig {
    pub source_platform: SourcePlatform,
    pub target_platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    /// The global levels (defaults plus the file's `validation_configuration`).
    pub validation_configuration: ValidationLevels,
    pub comparison_configuration: ComparisonConfig,
    pub database_mappings: BTreeMap<String, String>,
    pub schema_mappings: BTreeMap<String, String>,
    pub tables: Vec<ValidationObject>,
    pub views: Vec<ValidationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
    pub use_snowflake_compute: bool,
}

/// One table or view with its effective settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationObject {
    pub fully_qualified_name: String,
    pub use_column_selection_as_exclude_list: bool,
    pub column_selection_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// The object's target database, else the file's `target_database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub where_clause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_where_clause: Option<String>,
    pub index_column_list: Vec<String>,
    pub target_index_column_list: Vec<String>,
    pub column_mappings: BTreeMap<String, String>,
    pub is_case_sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_number: Option<u64>,
    pub object_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_column: Option<String>,
    /// Effective levels for this object.
    pub validation_configuration: ValidationLevels,
}
