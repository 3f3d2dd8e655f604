//! The data-migration workflow JSON.
//!
//! `raw` mirrors the file, `merge` applies `defaultTableConfiguration`, `validate` checks each
//! merged table and builds the `model` types, which serialize to the merged configuration the
//! orchestrator stores.
//!
//! Dependencies point one way: `choices` and `column_mapping` (types the file and the model
//! share) depend on nothing; `raw` and `model` on them; `merge` on `raw`; `validate` on `raw`,
//! `merge` and `model`; this module on all of them.

pub mod choices;
pub mod column_mapping;
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
use crate::platform::SourcePlatform;
use crate::problem::Checked;

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

#[cfg(test)]
mod tests {
    use super::model::ExistingRows;
    use super::*;

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
