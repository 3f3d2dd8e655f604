//! Completing workflows: an executing workflow whose every task is terminal (completed or
//! failed) is completed with its end time, and its partitions that did not complete are marked
//! failed (their error is the one of the task that failed on them, see DATA_MIGRATION_ERROR).

use migration_core::snowflake::{Session, SqlValue};

use crate::context::{execute, int_cell, query, Context};
use crate::sql::{now_value, Binds};
use crate::task_error::TaskError;

/// Completes every finished workflow; returns their ids.
pub fn complete_workflows(context: &Context, session: &mut Session) -> Result<Vec<i64>, TaskError> {
    let statements = &context.statements;
    let rows = query(
        session,
        "find finished workflows",
        statements.finishing_workflows.sql(),
        &[],
    )?;
    let mut completed = Vec::new();
    for row in &rows {
        let workflow_id = int_cell(row, 0, "find finished workflows")?;
        if complete_one(context, session, workflow_id)? {
            completed.push(workflow_id);
        }
    }
    Ok(completed)
}

/// Both updates in one transaction; rolled back when a task became non-terminal meanwhile.
fn complete_one(
    context: &Context,
    session: &mut Session,
    workflow_id: i64,
) -> Result<bool, TaskError> {
    let statements = &context.statements;
    let binds = Binds::from([
        ("workflow_id", SqlValue::Int(workflow_id)),
        ("now", now_value()),
    ]);
    let outcome = session.transaction(|session| {
        execute(
            session,
            "mark unfinished partitions failed",
            statements.fail_unfinished_partitions.sql(),
            &statements.fail_unfinished_partitions.params(&binds),
        )
        .map_err(|error| Completion::Error(Box::new(error)))?;
        let updated = execute(
            session,
            "complete the workflow",
            statements.complete_workflow.sql(),
            &statements.complete_workflow.params(&binds),
        )
        .map_err(|error| Completion::Error(Box::new(error)))?;
        if updated == 0 {
            return Err(Completion::NotFinished);
        }
        Ok(())
    });
    match outcome {
        Ok(()) => Ok(true),
        Err(Completion::NotFinished) => Ok(false),
        Err(Completion::Error(error)) => Err(*error),
    }
}

enum Completion {
    NotFinished,
    Error(Box<TaskError>),
}

impl From<migration_core::snowflake::SnowflakeError> for Completion {
    fn from(source: migration_core::snowflake::SnowflakeError) -> Self {
        Completion::Error(Box::new(TaskError::Snowflake {
            action: "complete the workflow",
            source: Box::new(source),
        }))
    }
}
