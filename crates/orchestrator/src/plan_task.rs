//! The `plan` task: after a worker analyzed a table, check its plan, create or check the target
//! table, then record the analysis and the partitions and push one `extract (worker) -> load
//! (orchestrator)` pair per partition, in one transaction that also completes the plan task.
//!
//! The analyze result is a worker's word: its column types are checked against a type grammar
//! and its target names for pairs differing only in case before any DDL runs.
//!
//! DDL commits on its own in Snowflake, so the target database, schema and table are created
//! first, `IF NOT EXISTS`. Everything else is one direct-transport transaction: the partitions,
//! the pushes (queue steps joined into it), the analysis and the plan task's completion (fenced
//! by its claim token) commit together, so a plan that lost its lease pushes and records nothing.
//! A repeat after a crash converges: the DDL is idempotent, and since no partition was recorded
//! the transaction runs again from the start; a repeat after a commit (a task reset by hand)
//! finds the partitions and pushes only partitions without an extract task.
//!
//! An existing target table with rows is refused unless the table's `target.existingRows` says
//! `append` or `truncate`; the truncate runs inside the transaction, before any partition is
//! recorded, and only when no partition is recorded yet, so a repeat never empties a table that
//! loads have filled since.

use migration_core::plan::TablePlan;
use migration_core::queue::ClaimedTask;
use migration_core::snowflake::{Session, SqlValue};
use migration_core::workflow::{
    source_identifier, table_results_folder, AnalyzeResult, PartitionTasks, PlanPayload, TaskKind,
};

use crate::context::{
    execute, int_cell, predecessor_result, query, required, table_configuration, Context,
};
use crate::sql::{now_value, Binds};
use crate::target_table::{self, ExistingRowsAction, Prepared};
use crate::task_error::TaskError;

/// Partitions pushed per queue call (two tasks each).
pub const PUSH_BATCH_PARTITIONS: usize = 500;

/// What a plan did, also the plan task's JSON result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOutcome {
    pub partitions: usize,
    pub table_created: bool,
    pub already_planned: bool,
    /// The rows the target held were emptied (`target.existingRows = "truncate"`).
    pub truncated: bool,
}

/// The kind whose result a plan reads (its predecessor in the task graph: the analyze).
const PLAN_READS: TaskKind = TaskKind::Plan
    .predecessor()
    .expect("a plan has a predecessor");

pub fn run(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
) -> Result<PlanOutcome, TaskError> {
    let payload = PlanPayload::from_json(&task.payload)?;
    let table_id = required(task.table_id, task, "TABLE_ID")?;
    let analysis = predecessor_result(context, session, task, PLAN_READS)?;
    let result = AnalyzeResult::from_json(&analysis)?;
    let table = table_configuration(context, session, table_id)?;
    let target = target_table::target_table(&table);
    target_table::check_plan(&target, &result.plan)?;
    let columns = target_table::target_columns(&result.plan);
    let prepared = target_table::prepare(context, session, &target, &columns)?;
    let target_name = target.qualified()?;
    let table_name = source_identifier(&table);
    let table_stage_folder =
        table_results_folder(&context.config.names, task.workflow_id, payload.table_index);

    session.transaction(|session| {
        let mut partitions = recorded_partitions(context, session, table_id)?;
        let already_planned = !partitions.is_empty();
        let mut truncated = false;
        if !already_planned {
            if prepared == Prepared::ExistingMatches {
                let action = target_table::handle_existing_rows(
                    session,
                    &target,
                    table.target.existing_rows,
                )?;
                truncated = action == ExistingRowsAction::Truncate;
            }
            insert_partitions(context, session, task.workflow_id, table_id, &result.plan)?;
            partitions = recorded_partitions(context, session, table_id)?;
        }
        let pushed = pushed_partitions(context, session, table_id)?;
        let unpushed: Vec<(i64, i64)> = partitions
            .iter()
            .copied()
            .filter(|(id, _)| !pushed.contains(id))
            .collect();
        push_partition_tasks(
            context,
            session,
            &PartitionTasks {
                workflow_id: task.workflow_id,
                table_index: payload.table_index,
                table_id,
                table_name: &table_name,
                plan: &result.plan,
                table_stage_folder: &table_stage_folder,
            },
            &unpushed,
        )?;
        // The UPDATEs of shared metadata rows last, right before COMMIT.
        record_analysis(
            context,
            session,
            table_id,
            &analysis,
            &result.plan,
            &target_name,
        )?;
        let outcome = PlanOutcome {
            partitions: partitions.len(),
            table_created: prepared == Prepared::Created,
            already_planned,
            truncated,
        };
        let result = serde_json::json!({
            "partitions": outcome.partitions,
            "tableCreated": outcome.table_created,
            "truncated": outcome.truncated,
            "target": target_name,
        });
        context.queue.complete(session, &task.lease, &result)?;
        Ok(outcome)
    })
}

/// PARTITION_METADATA ids of a table's partitions that already have an extract task.
fn pushed_partitions(
    context: &Context,
    session: &mut Session,
    table_id: i64,
) -> Result<Vec<i64>, TaskError> {
    let statement = &context.statements.pushed_partitions;
    let binds = Binds::from([("table_id", SqlValue::Int(table_id))]);
    let rows = query(
        session,
        "read the partitions already pushed",
        statement.sql(),
        &statement.params(&binds),
    )?;
    rows.iter()
        .map(|row| int_cell(row, 0, "read the partitions already pushed"))
        .collect()
}

fn record_analysis(
    context: &Context,
    session: &mut Session,
    table_id: i64,
    analysis: &serde_json::Value,
    plan: &TablePlan,
    target_name: &str,
) -> Result<(), TaskError> {
    let statement = &context.statements.record_analysis;
    let binds = Binds::from([
        ("table_id", SqlValue::Int(table_id)),
        ("analysis", SqlValue::Text(analysis.to_string())),
        (
            "estimated_rows",
            SqlValue::Int(i64::try_from(plan.stats.row_count).unwrap_or(i64::MAX)),
        ),
        ("target_identifier", SqlValue::Text(target_name.to_owned())),
        ("now", now_value()),
    ]);
    execute(
        session,
        "record the table's analysis",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(())
}

/// `(PARTITION_METADATA.ID, PARTITION_NUMBER)` of a table.
fn recorded_partitions(
    context: &Context,
    session: &mut Session,
    table_id: i64,
) -> Result<Vec<(i64, i64)>, TaskError> {
    let statement = &context.statements.table_partitions;
    let binds = Binds::from([("table_id", SqlValue::Int(table_id))]);
    let rows = query(
        session,
        "read the table's partitions",
        statement.sql(),
        &statement.params(&binds),
    )?;
    rows.iter()
        .map(|row| {
            Ok((
                int_cell(row, 0, "read the table's partitions")?,
                int_cell(row, 1, "read the table's partitions")?,
            ))
        })
        .collect()
}

/// The JSON array bound to `insert_partitions.sql`.
pub fn partitions_json(plan: &TablePlan) -> serde_json::Value {
    serde_json::Value::Array(
        plan.partitions
            .iter()
            .map(|partition| {
                serde_json::json!({
                    "partition_number": partition.index,
                    "bounds": {
                        "keys": plan.keys.iter().map(|key| key.name.clone()).collect::<Vec<_>>(),
                        "lower": partition.lower,
                        "upper": partition.upper,
                    },
                    "estimated_rows": partition.estimated_rows,
                })
            })
            .collect(),
    )
}

fn insert_partitions(
    context: &Context,
    session: &mut Session,
    workflow_id: i64,
    table_id: i64,
    plan: &TablePlan,
) -> Result<(), TaskError> {
    let statement = &context.statements.insert_partitions;
    let binds = Binds::from([
        ("workflow_id", SqlValue::Int(workflow_id)),
        ("table_id", SqlValue::Int(table_id)),
        (
            "partitions",
            SqlValue::Text(partitions_json(plan).to_string()),
        ),
        ("now", now_value()),
    ]);
    execute(
        session,
        "record the table's partitions",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(())
}

/// Pushes `extract -> load` for each partition, [`PUSH_BATCH_PARTITIONS`] per queue call.
fn push_partition_tasks(
    context: &Context,
    session: &mut Session,
    tasks: &PartitionTasks<'_>,
    partitions: &[(i64, i64)],
) -> Result<(), TaskError> {
    let settings = context.config.task_settings();
    for chunk in partitions.chunks(PUSH_BATCH_PARTITIONS) {
        let batch = tasks
            .batch(&settings, chunk)
            .map_err(|error| TaskError::UnexpectedResult {
                action: "record the table's partitions",
                message: error.to_string(),
            })?;
        context.queue.push(session, tasks.workflow_id, &batch)?;
    }
    Ok(())
}
