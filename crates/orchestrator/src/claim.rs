//! Starting workflows: claim pending data-migration workflows whose affinity matches and, in
//! the same transaction, record their tables and push per table `analyze (worker) -> plan
//! (orchestrator)`. Either all of it commits or none, so a crash never leaves a workflow
//! executing without tasks, and a rolled-back claim leaves it pending for the next round.
//!
//! The push is a direct-transport queue operation joined into that transaction (the
//! orchestrator never uses the procedures, see [`crate::context`]), so no task can exist
//! without its TABLE_METADATA row.

use config_schema::workflow::WorkflowConfig;
use config_schema::SourcePlatform;
use migration_core::queue::TaskBatch;
use migration_core::snowflake::{Session, SqlValue};
use migration_core::workflow::{source_identifier, target_identifier, TableStart};

use crate::context::{cell, execute, int_cell, json_cell, query, Context};
use crate::sql::{now_value, Binds};
use crate::task_error::TaskError;

/// A workflow this call started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedWorkflow {
    pub workflow_id: i64,
    pub tables: usize,
    /// Set when the stored configuration could not be read and the workflow was completed.
    pub error: Option<String>,
}

/// Claims and starts every pending workflow this orchestrator may drive.
pub fn claim_workflows(
    context: &Context,
    session: &mut Session,
) -> Result<Vec<StartedWorkflow>, TaskError> {
    let statements = &context.statements;
    let binds = Binds::from([
        (
            "claim_token",
            SqlValue::Text(uuid::Uuid::new_v4().to_string()),
        ),
        ("owner", SqlValue::Text(context.config.consumer_id.clone())),
        ("affinity", SqlValue::from(context.config.affinity.clone())),
        ("now", now_value()),
    ]);
    session.transaction(|session| {
        let claimed = execute(
            session,
            "claim pending workflows",
            statements.claim_workflows.sql(),
            &statements.claim_workflows.params(&binds),
        )?;
        if claimed == 0 {
            return Ok(Vec::new());
        }
        let rows = query(
            session,
            "read the claimed workflows",
            statements.claimed_workflows.sql(),
            &statements.claimed_workflows.params(&binds),
        )?;
        let mut started = Vec::with_capacity(rows.len());
        for row in &rows {
            let workflow_id = int_cell(row, 0, "read the claimed workflows")?;
            match read_workflow(row) {
                Ok((platform, workflow)) => {
                    start_workflow(context, session, workflow_id, platform, &workflow)?;
                    started.push(StartedWorkflow {
                        workflow_id,
                        tables: workflow.tables.len(),
                        error: None,
                    });
                }
                Err(message) => {
                    let message = format!(
                        "the stored configuration of workflow {workflow_id} cannot be read: {message}; create the workflow again with this version"
                    );
                    let statement = &statements.finish_unreadable_workflow;
                    let binds = Binds::from([
                        ("workflow_id", SqlValue::Int(workflow_id)),
                        ("error_message", SqlValue::Text(message.clone())),
                        ("now", now_value()),
                    ]);
                    execute(
                        session,
                        "finish an unreadable workflow",
                        statement.sql(),
                        &statement.params(&binds),
                    )?;
                    started.push(StartedWorkflow {
                        workflow_id,
                        tables: 0,
                        error: Some(message),
                    });
                }
            }
        }
        Ok(started)
    })
}

fn read_workflow(row: &[Option<String>]) -> Result<(SourcePlatform, WorkflowConfig), String> {
    let row = row.to_vec();
    let platform = cell(&row, 1)
        .ok_or("no SOURCE_PLATFORM")?
        .parse::<SourcePlatform>()
        .map_err(|error| error.to_string())?;
    let configuration = json_cell(&row, 2).ok_or("CONFIGURATION is not JSON")?;
    let workflow = serde_json::from_value(configuration).map_err(|error| error.to_string())?;
    Ok((platform, workflow))
}

fn start_workflow(
    context: &Context,
    session: &mut Session,
    workflow_id: i64,
    platform: SourcePlatform,
    workflow: &WorkflowConfig,
) -> Result<(), TaskError> {
    let statements = &context.statements;
    let configurations: Vec<serde_json::Value> = workflow
        .tables
        .iter()
        .map(|table| serde_json::to_value(table).expect("table configurations serialize"))
        .collect();
    let tables_json: Vec<serde_json::Value> = workflow
        .tables
        .iter()
        .zip(&configurations)
        .map(|(table, configuration)| {
            serde_json::json!({
                "source_identifier": source_identifier(table),
                "target_identifier": target_identifier(table),
                "configuration": configuration,
            })
        })
        .collect();
    let binds = Binds::from([
        ("workflow_id", SqlValue::Int(workflow_id)),
        (
            "tables",
            SqlValue::Text(serde_json::Value::Array(tables_json).to_string()),
        ),
        ("now", now_value()),
    ]);
    execute(
        session,
        "record the workflow's tables",
        statements.insert_tables.sql(),
        &statements.insert_tables.params(&binds),
    )?;
    let rows = query(
        session,
        "read the workflow's tables",
        statements.workflow_tables.sql(),
        &statements.workflow_tables.params(&binds),
    )?;
    let stored = rows
        .iter()
        .map(|row| {
            Ok((
                int_cell(row, 0, "read the workflow's tables")?,
                json_cell(row, 1).unwrap_or(serde_json::Value::Null),
            ))
        })
        .collect::<Result<Vec<_>, TaskError>>()?;
    let table_ids =
        match_table_ids(&configurations, &stored).ok_or_else(|| TaskError::UnexpectedResult {
            action: "record the workflow's tables",
            message: format!(
                "{} tables configured, {} rows found for workflow {workflow_id}",
                configurations.len(),
                stored.len()
            ),
        })?;

    let batch = analyze_and_plan_batch(context, workflow_id, platform, workflow, &table_ids);
    context.queue.push(session, workflow_id, &batch)?;
    Ok(())
}

/// Matches the stored TABLE_METADATA rows to the workflow's table positions by configuration
/// (IDs carry no order). Identical configurations are interchangeable, so any pairing of them
/// is right. `None` when the rows do not correspond one to one.
pub fn match_table_ids(
    configurations: &[serde_json::Value],
    stored: &[(i64, serde_json::Value)],
) -> Option<Vec<i64>> {
    if configurations.len() != stored.len() {
        return None;
    }
    let mut used = vec![false; stored.len()];
    configurations
        .iter()
        .map(|configuration| {
            let position = stored
                .iter()
                .enumerate()
                .position(|(index, (_, json))| !used[index] && json == configuration)?;
            used[position] = true;
            Some(stored[position].0)
        })
        .collect()
}

/// `analyze -> plan` for every table of the workflow (see `migration_core::workflow`).
fn analyze_and_plan_batch(
    context: &Context,
    workflow_id: i64,
    platform: SourcePlatform,
    workflow: &WorkflowConfig,
    table_ids: &[i64],
) -> TaskBatch {
    let settings = context.config.task_settings();
    let mut batch = TaskBatch::new();
    for (index, (table, &table_id)) in workflow.tables.iter().zip(table_ids).enumerate() {
        let start = TableStart {
            workflow_id,
            table_index: u32::try_from(index).expect("a workflow has fewer than 2^32 tables"),
            table_id,
            platform,
            table,
        };
        start.add_to(&mut batch, &settings);
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_rows_match_table_positions_by_configuration() {
        let configurations = vec![json!({"t": 1}), json!({"t": 2}), json!({"t": 1})];
        let stored = vec![
            (30, json!({"t": 2})),
            (10, json!({"t": 1})),
            (20, json!({"t": 1})),
        ];
        assert_eq!(
            match_table_ids(&configurations, &stored),
            Some(vec![10, 30, 20])
        );
        assert_eq!(match_table_ids(&configurations, &stored[..2]), None);
        let other = vec![
            (1, json!({"t": 3})),
            (2, json!({"t": 1})),
            (3, json!({"t": 2})),
        ];
        assert_eq!(match_table_ids(&configurations, &other), None);
    }
}
