//! The data-migration workflow JSON.
//!
//! `raw` mirrors the file, `merge` applies `defaultTableConfiguration`, `validate` checks each
//! merged table and builds the `model` types, which serialize to the merged configuration the
//! orchestrator stores.

pub mod merge;
pub mod model;
pub mod raw;
pub mod validate;

pub use model::{
    Extraction, IcebergConfig, PartitionSize, SourceTable, Synchronization, TableConfig,
    TargetTable, WorkflowConfig,
};
pub use raw::RawWorkflowConfig;
pub use validate::{check_workflow, validate_workflow, validate_workflow_name};

use crate::document::{check_and_validate, parse_json, schema_value, ConfigError};
use crate::problem::Checked;
use crate::SourcePlatform;

const WHAT: &str = "the workflow configuration";

/// Parses and validates workflow JSON text. `platform` enables platform-specific checks.
pub fn parse_workflow(
    text: &str,
    platform: Option<SourcePlatform>,
) -> Result<WorkflowConfig, ConfigError> {
    let value = parse_json(WHAT, text)?;
    parse_workflow_value(&value, platform)
}

/// Validates an already parsed workflow document.
pub fn parse_workflow_value(
    value: &serde_json::Value,
    platform: Option<SourcePlatform>,
) -> Result<WorkflowConfig, ConfigError> {
    check_workflow_value(value, platform).map(|checked| checked.config)
}

/// [`parse_workflow_value`], also returning the notes (inherited values a table ignores), as
/// `orchestrator validate` prints them.
pub fn check_workflow_value(
    value: &serde_json::Value,
    platform: Option<SourcePlatform>,
) -> Result<Checked<WorkflowConfig>, ConfigError> {
    check_and_validate::<RawWorkflowConfig, _>(WHAT, value, |raw| check_workflow(raw, platform))
}

/// The JSON Schema of the workflow JSON.
pub fn workflow_json_schema() -> serde_json::Value {
    schema_value::<RawWorkflowConfig>()
}
