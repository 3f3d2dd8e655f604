//! Creating workflows: one `pending` WORKFLOW row holding the validated, merged configuration.

use config_schema::SourcePlatform;

use crate::metadata_names::{MetadataNames, MetadataNamesSql};
use crate::queue::clock::timestamp_text;
use crate::snowflake::{SnowflakeError, SqlValue};
use crate::sql_executor::SqlExecutor;
use crate::sql_script::{statement_text, to_positional};

use super::error::MetadataError;

const WORKFLOW_CREATE: &str = include_str!("../../../../sql/metadata/deploy/workflow_create.sql");
const WORKFLOW_BY_NAME: &str = include_str!("../../../../sql/metadata/deploy/workflow_by_name.sql");

/// The kind of a workflow (WORKFLOW.WORKFLOW_TYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowType {
    DataMigration,
    DataValidation,
}

impl WorkflowType {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowType::DataMigration => "data-migration",
            WorkflowType::DataValidation => "data-validation",
        }
    }
}

/// What `create-data-migration-workflow` / `create-data-validation-workflow` insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkflow {
    pub name: String,
    pub workflow_type: WorkflowType,
    pub source_platform: SourcePlatform,
    pub affinity: Option<String>,
    /// The validated configuration with defaults merged in.
    pub configuration: serde_json::Value,
    pub connection_name: Option<String>,
}

/// Inserts a `pending` workflow and returns its id; a taken name is
/// [`MetadataError::WorkflowNameTaken`].
pub fn create_workflow(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    workflow: &NewWorkflow,
) -> Result<i64, MetadataError> {
    names.validate()?;
    let create = to_positional(&statement_text(WORKFLOW_CREATE, names));
    let by_name = to_positional(&statement_text(WORKFLOW_BY_NAME, names));
    let creation_token = uuid::Uuid::new_v4().to_string();
    let now = timestamp_text(chrono::Utc::now().naive_utc());
    let value = |name: &str| match name {
        "name" => SqlValue::Text(workflow.name.clone()),
        "workflow_type" => SqlValue::Text(workflow.workflow_type.as_str().to_owned()),
        "source_platform" => SqlValue::Text(workflow.source_platform.as_str().to_owned()),
        "affinity" => SqlValue::from(workflow.affinity.clone()),
        "configuration" => SqlValue::Text(workflow.configuration.to_string()),
        "connection_name" => SqlValue::from(workflow.connection_name.clone()),
        "creation_token" => SqlValue::Text(creation_token.clone()),
        _ => SqlValue::Text(now.clone()),
    };
    let create_params: Vec<SqlValue> = create
        .parameter_names
        .iter()
        .map(|name| value(name))
        .collect();
    let by_name_params: Vec<SqlValue> = by_name
        .parameter_names
        .iter()
        .map(|name| value(name))
        .collect();

    // Decided inside the transaction, so that losing a same-name race rolls our row back.
    let created = session.transaction(|session| {
        session.execute(&create.sql, &create_params)?;
        let rows = session.query_rows(&by_name.sql, &by_name_params)?;
        let Some(oldest) = rows.into_iter().next() else {
            return Ok(None);
        };
        if oldest.get(1).cloned().flatten().as_deref() != Some(creation_token.as_str()) {
            return Err(CreateError::NameTaken);
        }
        Ok(oldest.first().cloned().flatten())
    });
    let id = match created {
        Ok(id) => id,
        Err(CreateError::NameTaken) => {
            return Err(MetadataError::WorkflowNameTaken {
                name: workflow.name.clone(),
            })
        }
        Err(CreateError::Snowflake(source)) => {
            return Err(MetadataError::snowflake("insert the workflow", source))
        }
    };
    id.as_deref()
        .and_then(|id| id.split('.').next().and_then(|whole| whole.parse().ok()))
        .ok_or_else(|| MetadataError::UnexpectedResult {
            action: "insert the workflow",
            message: format!("no numeric ID for the new workflow `{}`", workflow.name),
        })
}

enum CreateError {
    Snowflake(SnowflakeError),
    NameTaken,
}

impl From<SnowflakeError> for CreateError {
    fn from(error: SnowflakeError) -> Self {
        CreateError::Snowflake(error)
    }
}
