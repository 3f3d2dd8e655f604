//! The tasks a data-migration workflow pushes and the edges between them, as batches ready
//! for the queue. The orchestrator only pushes them (in its transactions); what they are is
//! decided here:
//!
//! - when a workflow is claimed, per table: `analyze (worker) -> plan (orchestrator)`
//!   ([`TableStart`]);
//! - when a table is planned, per partition: `extract (worker) -> load (orchestrator)`
//!   ([`PartitionTasks`]).
//!
//! Who runs a kind and its priority come from [`TaskKind`]; a new kind (validation, sync)
//! adds its variant there and, here, the struct that says when its tasks are pushed.

use std::time::Duration;

use config_schema::workflow::TableConfig;
use config_schema::SourcePlatform;

use super::payload::{AnalyzePayload, ExtractPayload, LoadPayload, PlanPayload};
use super::task_kind::TaskKind;
use crate::plan::TablePlan;
use crate::queue::{NewTask, RetryPolicy, TaskBatch};

/// The lease and retry settings every task a process pushes gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSettings {
    pub lease: Duration,
    pub retry: RetryPolicy,
}

/// One task of the graph: its kind (which says who runs it and its priority), a name for
/// people reading the queue, the table and partition it belongs to, and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphTask {
    pub kind: TaskKind,
    pub name: String,
    pub table_id: i64,
    pub partition_id: Option<i64>,
    pub payload: serde_json::Value,
}

impl GraphTask {
    /// The queue's view of the task, with `settings`.
    pub fn into_new_task(self, settings: &TaskSettings) -> NewTask {
        let mut task = NewTask::new(self.kind.executor(), self.kind.as_str(), self.payload);
        task.name = Some(self.name);
        task.table_id = Some(self.table_id);
        task.partition_id = self.partition_id;
        task.priority = self.kind.priority();
        task.lease = settings.lease;
        task.retry = settings.retry;
        task
    }
}

/// Adds `predecessor -> successor` to `batch`: the successor waits for the predecessor and
/// reads its result. Both kinds must say so ([`TaskKind::predecessor`]).
fn add_pair(
    batch: &mut TaskBatch,
    settings: &TaskSettings,
    predecessor: GraphTask,
    successor: GraphTask,
) {
    debug_assert_eq!(successor.kind.predecessor(), Some(predecessor.kind));
    let first = batch.add(predecessor.into_new_task(settings));
    let second = batch.add(successor.into_new_task(settings));
    batch.add_dependency(first, second);
}

/// `DB.SCHEMA.TABLE` of the source as written in the configuration.
pub fn source_identifier(table: &TableConfig) -> String {
    format!(
        "{}.{}.{}",
        table.source.database_name, table.source.schema_name, table.source.table_name
    )
}

/// `DB.SCHEMA.TABLE` of the target as written in the configuration.
pub fn target_identifier(table: &TableConfig) -> String {
    format!(
        "{}.{}.{}",
        table.target.database_name, table.target.schema_name, table.target.table_name
    )
}

/// A table of a workflow being started: its tasks are `analyze -> plan`.
#[derive(Debug, Clone, Copy)]
pub struct TableStart<'a> {
    pub workflow_id: i64,
    /// Position of the table in the workflow configuration.
    pub table_index: u32,
    /// Its TABLE_METADATA row.
    pub table_id: i64,
    pub platform: SourcePlatform,
    /// Its merged configuration.
    pub table: &'a TableConfig,
}

impl TableStart<'_> {
    /// The worker's `analyze` of the table.
    pub fn analyze(&self) -> GraphTask {
        let payload = AnalyzePayload {
            workflow_id: self.workflow_id,
            table_index: self.table_index,
            source_platform: self.platform,
            table: self.table.clone(),
        };
        self.task(TaskKind::Analyze, payload.to_json())
    }

    /// The orchestrator's `plan`, which finds the analysis through its predecessor.
    pub fn plan(&self) -> GraphTask {
        let payload = PlanPayload {
            workflow_id: self.workflow_id,
            table_index: self.table_index,
        };
        self.task(TaskKind::Plan, payload.to_json())
    }

    /// Adds `analyze -> plan` to `batch`.
    pub fn add_to(&self, batch: &mut TaskBatch, settings: &TaskSettings) {
        add_pair(batch, settings, self.analyze(), self.plan());
    }

    fn task(&self, kind: TaskKind, payload: serde_json::Value) -> GraphTask {
        GraphTask {
            kind,
            name: format!("{kind} {}", source_identifier(self.table)),
            table_id: self.table_id,
            partition_id: None,
            payload,
        }
    }
}

/// A partition recorded in PARTITION_METADATA that the plan does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("partition {number} of {table} is recorded but not in the plan")]
pub struct UnplannedPartition {
    pub number: i64,
    pub table: String,
}

/// A planned table whose partitions get `extract -> load` each.
#[derive(Debug, Clone, Copy)]
pub struct PartitionTasks<'a> {
    pub workflow_id: i64,
    pub table_index: u32,
    pub table_id: i64,
    /// For task names: `DB.SCHEMA.TABLE` of the source.
    pub table_name: &'a str,
    /// The whole plan; each extract carries it reduced to its partition.
    pub plan: &'a TablePlan,
    /// See [`ExtractPayload::table_stage_folder`].
    pub table_stage_folder: &'a str,
}

impl PartitionTasks<'_> {
    /// `extract -> load` for each recorded partition, given as `(PARTITION_METADATA.ID,
    /// PARTITION_NUMBER)`.
    pub fn batch(
        &self,
        settings: &TaskSettings,
        recorded: &[(i64, i64)],
    ) -> Result<TaskBatch, UnplannedPartition> {
        let mut batch = TaskBatch::new();
        for &(partition_id, number) in recorded {
            let (extract, load) = self.pair(partition_id, number)?;
            add_pair(&mut batch, settings, extract, load);
        }
        Ok(batch)
    }

    /// The extract and the load of partition `number`.
    pub fn pair(
        &self,
        partition_id: i64,
        number: i64,
    ) -> Result<(GraphTask, GraphTask), UnplannedPartition> {
        let partition = self
            .plan
            .partitions
            .iter()
            .find(|partition| i64::from(partition.index) == number)
            .ok_or_else(|| UnplannedPartition {
                number,
                table: self.table_name.to_owned(),
            })?;
        let extract = ExtractPayload::for_partition(
            self.workflow_id,
            self.table_index,
            self.plan,
            partition,
            self.table_stage_folder,
        );
        let load = LoadPayload {
            workflow_id: self.workflow_id,
            table_index: self.table_index,
            partition_index: partition.index,
        };
        let task = |kind: TaskKind, payload: serde_json::Value| GraphTask {
            kind,
            name: format!(
                "{kind} partition {} of {}",
                partition.index, self.table_name
            ),
            table_id: self.table_id,
            partition_id: Some(partition_id),
            payload,
        };
        Ok((
            task(TaskKind::Extract, extract.to_json()),
            task(TaskKind::Load, load.to_json()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Partition;
    use crate::queue::ExecutorType;
    use crate::source::catalog::{TableRef, TableStats};

    fn settings() -> TaskSettings {
        TaskSettings {
            lease: Duration::from_secs(42),
            retry: RetryPolicy::default(),
        }
    }

    fn table() -> TableConfig {
        serde_json::from_value(serde_json::json!({
            "source": {"databaseName": "shop", "schemaName": "public", "tableName": "orders"},
            "target": {"databaseName": "SHOP", "schemaName": "PUBLIC", "tableName": "ORDERS"},
            "columnNamesToPartitionBy": ["id"]
        }))
        .expect("a table configuration")
    }

    fn plan(partitions: u32) -> TablePlan {
        TablePlan {
            platform: SourcePlatform::Postgresql,
            table: TableRef::parse("shop", "public", "orders"),
            columns: Vec::new(),
            keys: Vec::new(),
            stats: TableStats::default(),
            partitions: (0..partitions)
                .map(|index| Partition {
                    index,
                    ..Partition::whole_table(0)
                })
                .collect(),
            where_clause: None,
        }
    }

    #[test]
    fn a_started_table_is_analyzed_by_a_worker_then_planned_by_the_orchestrator() {
        let table = table();
        let start = TableStart {
            workflow_id: 7,
            table_index: 2,
            table_id: 30,
            platform: SourcePlatform::Postgresql,
            table: &table,
        };
        let mut batch = TaskBatch::new();
        start.add_to(&mut batch, &settings());
        let tasks = batch.tasks();
        assert_eq!(batch.edges(), [(0, 1)]);
        assert_eq!(tasks[0].kind, "analyze");
        assert_eq!(tasks[0].executor_type, ExecutorType::Worker);
        assert_eq!(tasks[0].name.as_deref(), Some("analyze shop.public.orders"));
        assert_eq!(tasks[1].kind, "plan");
        assert_eq!(tasks[1].executor_type, ExecutorType::Orchestrator);
        assert_eq!(tasks[1].name.as_deref(), Some("plan shop.public.orders"));
        for task in tasks {
            assert_eq!(task.table_id, Some(30));
            assert_eq!(task.partition_id, None);
            assert_eq!(task.priority, 10);
            assert_eq!(task.lease, Duration::from_secs(42));
        }
        let analyze = AnalyzePayload::from_json(&tasks[0].payload).expect("readable");
        assert_eq!((analyze.workflow_id, analyze.table_index), (7, 2));
        assert_eq!(analyze.table, table);
        let plan = PlanPayload::from_json(&tasks[1].payload).expect("readable");
        assert_eq!((plan.workflow_id, plan.table_index), (7, 2));
    }

    #[test]
    fn each_recorded_partition_gets_an_extract_then_a_load() {
        let plan = plan(3);
        let tasks = PartitionTasks {
            workflow_id: 7,
            table_index: 2,
            table_id: 30,
            table_name: "shop.public.orders",
            plan: &plan,
            table_stage_folder: "@S/workflows/7/tables/2",
        };
        let batch = tasks
            .batch(&settings(), &[(100, 0), (102, 2)])
            .expect("planned partitions");
        assert_eq!(batch.edges(), [(0, 1), (2, 3)]);
        let names: Vec<_> = batch
            .tasks()
            .iter()
            .map(|t| t.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "extract partition 0 of shop.public.orders",
                "load partition 0 of shop.public.orders",
                "extract partition 2 of shop.public.orders",
                "load partition 2 of shop.public.orders",
            ]
        );
        let extract = ExtractPayload::from_json(&batch.tasks()[2].payload).expect("readable");
        assert_eq!(extract.partition.index, 2);
        assert_eq!(
            extract.plan.partitions,
            std::slice::from_ref(&extract.partition)
        );
        assert_eq!(extract.table_stage_folder, "@S/workflows/7/tables/2");
        let load = LoadPayload::from_json(&batch.tasks()[3].payload).expect("readable");
        assert_eq!(
            (load.workflow_id, load.table_index, load.partition_index),
            (7, 2, 2)
        );
        for task in batch.tasks() {
            assert_eq!(task.priority, 20);
            assert_eq!(task.table_id, Some(30));
        }
        assert_eq!(batch.tasks()[2].partition_id, Some(102));
        assert_eq!(batch.tasks()[3].executor_type, ExecutorType::Orchestrator);
    }

    #[test]
    fn a_recorded_partition_the_plan_does_not_hold_is_refused() {
        let plan = plan(1);
        let tasks = PartitionTasks {
            workflow_id: 7,
            table_index: 0,
            table_id: 30,
            table_name: "shop.public.orders",
            plan: &plan,
            table_stage_folder: "@S/workflows/7/tables/0",
        };
        let error = tasks.batch(&settings(), &[(100, 5)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "partition 5 of shop.public.orders is recorded but not in the plan"
        );
    }
}
