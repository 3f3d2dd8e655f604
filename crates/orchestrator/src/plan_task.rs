//! The `plan` task: after a worker analyzed a table, create or check the target table, record
//! the analysis and the partitions, and push one `extract (worker) -> load (orchestrator)` pair
//! per partition.
//!
//! Idempotent, so a plan repeated after a crash (or a lease lost mid-way) converges: the DDL is
//! `IF NOT EXISTS`; the partition rows are inserted only when the table has none; then only
//! partitions without an extract task get their pair, in the transaction that completes the
//! plan task (one transaction with the direct transport; with procedures each queue call
//! commits on its own, which the "only what is missing" rule makes safe).

use migration_core::metadata::MetadataNamesSql;
use migration_core::plan::TablePlan;
use migration_core::queue::{ClaimedTask, ExecutorType, TaskBatch};
use migration_core::snowflake::{Session, SqlValue};
use migration_core::workflow::{
    table_folder, AnalyzeResult, ExtractPayload, LoadPayload, PlanPayload, TaskKind,
};

use crate::claim::{new_task, source_identifier};
use crate::context::{
    execute, int_cell, predecessor_result, query, required, table_configuration, Context,
};
use crate::sql::{now_value, Binds};
use crate::target_table::{self, Prepared};
use crate::task_error::TaskError;

/// Partitions pushed per queue call (two tasks each).
pub const PUSH_BATCH_PARTITIONS: usize = 500;
const EXTRACT_PRIORITY: i64 = 20;
const LOAD_PRIORITY: i64 = 20;

/// What a plan did, also the plan task's JSON result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOutcome {
    pub partitions: usize,
    pub table_created: bool,
    pub already_planned: bool,
}

pub fn run(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
) -> Result<PlanOutcome, TaskError> {
    let payload = PlanPayload::from_json(&task.payload)?;
    let table_id = required(task.table_id, task, "TABLE_ID")?;
    let analysis = predecessor_result(context, session, task, TaskKind::Analyze)?;
    let result = AnalyzeResult::from_json(&analysis)?;
    let table = table_configuration(context, session, table_id)?;
    let target = target_table::target_table(&table);
    let columns = target_table::target_columns(&result.plan);
    let prepared = target_table::prepare(context, session, &target, &columns)?;
    let target_name = target.qualified()?;
    let table_name = source_identifier(&table);

    let stage = format!(
        "@{}.TASK_RESULTS",
        context.config.names.migration_schema_sql()
    );
    let table_stage_folder = table_folder(&stage, payload.workflow_id, payload.table_index);

    // First the partitions, committed: with the procedure transport every queue call below
    // commits on its own (a procedure's transaction is scoped), so the rows the tasks refer
    // to must exist before any task is pushed.
    let (partitions, already_planned) = session.transaction(|session| {
        record_analysis(
            context,
            session,
            table_id,
            &analysis,
            &result.plan,
            &target_name,
        )?;
        let partitions = recorded_partitions(context, session, table_id)?;
        if !partitions.is_empty() {
            return Ok::<_, TaskError>((partitions, true));
        }
        insert_partitions(
            context,
            session,
            payload.workflow_id,
            table_id,
            &result.plan,
        )?;
        Ok((recorded_partitions(context, session, table_id)?, false))
    })?;
    // Then the tasks of the partitions that have none yet, and the plan's completion: one
    // transaction with the direct transport; with procedures a repeat pushes only what is
    // missing.
    session.transaction(|session| {
        let pushed = pushed_partitions(context, session, table_id)?;
        let unpushed: Vec<(i64, i64)> = partitions
            .iter()
            .copied()
            .filter(|(id, _)| !pushed.contains(id))
            .collect();
        push_partition_tasks(
            context,
            session,
            &payload,
            table_id,
            &table_name,
            &result.plan,
            &unpushed,
            &table_stage_folder,
        )?;
        let outcome = PlanOutcome {
            partitions: partitions.len(),
            table_created: prepared == Prepared::Created,
            already_planned,
        };
        let result = serde_json::json!({
            "partitions": outcome.partitions,
            "tableCreated": outcome.table_created,
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

#[allow(clippy::too_many_arguments)]
fn push_partition_tasks(
    context: &Context,
    session: &mut Session,
    payload: &PlanPayload,
    table_id: i64,
    table_name: &str,
    plan: &TablePlan,
    partitions: &[(i64, i64)],
    table_stage_folder: &str,
) -> Result<(), TaskError> {
    for chunk in partitions.chunks(PUSH_BATCH_PARTITIONS) {
        let mut batch = TaskBatch::new();
        for &(partition_id, number) in chunk {
            let partition = plan
                .partitions
                .iter()
                .find(|partition| i64::from(partition.index) == number)
                .ok_or_else(|| TaskError::UnexpectedResult {
                    action: "record the table's partitions",
                    message: format!(
                        "partition {number} of {table_name} is recorded but not in the plan"
                    ),
                })?;
            let mut partition_plan = plan.clone();
            partition_plan.partitions = vec![partition.clone()];
            let extract = ExtractPayload {
                workflow_id: payload.workflow_id,
                table_index: payload.table_index,
                plan: partition_plan,
                partition: partition.clone(),
                table_stage_folder: table_stage_folder.to_owned(),
            };
            let load = LoadPayload {
                workflow_id: payload.workflow_id,
                table_index: payload.table_index,
                partition_index: partition.index,
            };
            let mut extract_task = new_task(
                context,
                ExecutorType::Worker,
                TaskKind::Extract,
                format!("extract partition {} of {table_name}", partition.index),
                table_id,
                extract.to_json(),
                EXTRACT_PRIORITY,
            );
            extract_task.partition_id = Some(partition_id);
            let mut load_task = new_task(
                context,
                ExecutorType::Orchestrator,
                TaskKind::Load,
                format!("load partition {} of {table_name}", partition.index),
                table_id,
                load.to_json(),
                LOAD_PRIORITY,
            );
            load_task.partition_id = Some(partition_id);
            let extract_index = batch.add(extract_task);
            let load_index = batch.add(load_task);
            batch.add_dependency(extract_index, load_index);
        }
        context.queue.push(session, payload.workflow_id, &batch)?;
    }
    Ok(())
}
