//! The column mappings of a table (`columnTypeMappings`, `columnNameMappings`). They read the
//! same in the file and in the validated model, so both `raw` and `model` use these types; this
//! module depends on neither.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `columnTypeMappings[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColumnTypeMapping {
    /// Type name in the source system, e.g. "MONEY".
    pub source_type: String,
    /// Snowflake type, e.g. "DECIMAL(19,4)".
    pub target_type: String,
}

/// `columnNameMappings[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColumnNameMapping {
    /// Column name in the source.
    pub source_name: String,
    /// Column name in Snowflake.
    pub target_name: String,
}
