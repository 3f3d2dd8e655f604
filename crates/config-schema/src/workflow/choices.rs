//! The choices a workflow file offers for its target table (`tableType`, `existingRows`,
//! `icebergConfig.migrationStrategy`). They read the same in the file and in the validated
//! model, so both `raw` and `model` use these types; this module depends on neither.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a workflow does with rows already in its target table (`target.existingRows`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExistingRows {
    /// Fail the table, naming it and this option: a fresh workflow never appends silently.
    #[default]
    Refuse,
    /// Keep the rows and add the source's rows to them.
    Append,
    /// Empty the table before any partition is loaded.
    Truncate,
}

/// The kind of Snowflake table created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TableType {
    #[default]
    Native,
    Iceberg,
}

/// How an Iceberg target is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IcebergMigrationStrategy {
    CatalogLink,
    ConvertToManaged,
    CopyFiles,
}
