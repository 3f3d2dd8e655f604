//! Task payloads and results, as stored in TASK_QUEUE.PAYLOAD and TASK_QUEUE.RESULT.

use config_schema::workflow::TableConfig;
use config_schema::SourcePlatform;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::task_kind::{TaskKind, UnknownTaskKind};
use crate::plan::{Partition, TablePlan};

/// A payload or result that cannot be understood. A worker fails such a task terminally: a
/// newer orchestrator may have pushed it, and retrying cannot help.
#[derive(Debug, thiserror::Error)]
pub enum TaskPayloadError {
    #[error(transparent)]
    UnknownKind(#[from] UnknownTaskKind),
    #[error("the {kind} task's {what} cannot be read: {source}")]
    Unreadable {
        kind: &'static str,
        what: &'static str,
        source: serde_json::Error,
    },
}

fn decode<T: DeserializeOwned>(
    kind: TaskKind,
    what: &'static str,
    value: &serde_json::Value,
) -> Result<T, TaskPayloadError> {
    T::deserialize(value).map_err(|source| TaskPayloadError::Unreadable {
        kind: kind.as_str(),
        what,
        source,
    })
}

fn encode<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("task payloads are plain data and always serialize")
}

macro_rules! json_codec {
    ($ty:ty, $kind:expr, $what:literal) => {
        impl $ty {
            pub fn to_json(&self) -> serde_json::Value {
                encode(self)
            }

            pub fn from_json(value: &serde_json::Value) -> Result<Self, TaskPayloadError> {
                decode($kind, $what, value)
            }
        }
    };
}

/// `analyze`: everything the worker needs to plan one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzePayload {
    pub workflow_id: i64,
    /// Position of the table in the workflow configuration.
    pub table_index: u32,
    pub source_platform: SourcePlatform,
    /// The table's merged configuration.
    pub table: TableConfig,
}
json_codec!(AnalyzePayload, TaskKind::Analyze, "payload");

/// What `analyze` completes with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResult {
    pub plan: TablePlan,
}
json_codec!(AnalyzeResult, TaskKind::Analyze, "result");

/// `plan`: the orchestrator finds the analyze result through the task's predecessor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanPayload {
    pub workflow_id: i64,
    pub table_index: u32,
}
json_codec!(PlanPayload, TaskKind::Plan, "payload");

/// `extract`: one partition of a planned table. The plan is carried whole so the worker can
/// rebuild the SELECT (columns, casts, typed bounds, where clause) without asking anyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractPayload {
    pub workflow_id: i64,
    pub table_index: u32,
    /// The table's plan with `partitions` reduced to this one partition.
    pub plan: TablePlan,
    pub partition: Partition,
    /// Stage folder of the table, e.g.
    /// `@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0`; the worker appends
    /// `partition_{n}/attempt_{k}/` with [`super::attempt_folder`].
    pub table_stage_folder: String,
}
json_codec!(ExtractPayload, TaskKind::Extract, "payload");

impl ExtractPayload {
    /// The payload of `partition` of a planned table: the plan is carried with `partitions`
    /// reduced to this one partition.
    pub fn for_partition(
        workflow_id: i64,
        table_index: u32,
        plan: &TablePlan,
        partition: &Partition,
        table_stage_folder: &str,
    ) -> ExtractPayload {
        let mut partition_plan = plan.clone();
        partition_plan.partitions = vec![partition.clone()];
        ExtractPayload {
            workflow_id,
            table_index,
            plan: partition_plan,
            partition: partition.clone(),
            table_stage_folder: table_stage_folder.to_owned(),
        }
    }
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractedFileResult {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What `extract` completes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractResult {
    /// The attempt folder holding exactly this attempt's files, ending in `/`.
    pub stage_folder: String,
    pub files: Vec<ExtractedFileResult>,
    pub rows: u64,
    pub bytes: u64,
    /// The content checksum of every extracted value, as text.
    pub checksum: String,
}
json_codec!(ExtractResult, TaskKind::Extract, "result");

/// `load`: the orchestrator finds the files through the task's predecessor (the extract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadPayload {
    pub workflow_id: i64,
    pub table_index: u32,
    pub partition_index: u32,
}
json_codec!(LoadPayload, TaskKind::Load, "payload");

/// What `load` completes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadResult {
    pub rows_loaded: u64,
    pub files_loaded: u64,
    /// Set when this load found its partition already completed by another load and loaded
    /// nothing (its COPY was rolled back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub completed_before: bool,
}
json_codec!(LoadResult, TaskKind::Load, "result");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_through_json() {
        let result = ExtractResult {
            stage_folder: "@S/workflows/1/tables/0/partition_2/attempt_1/".into(),
            files: vec![ExtractedFileResult {
                name: "part-00000.parquet".into(),
                rows: 3,
                bytes: 99,
            }],
            rows: 3,
            bytes: 99,
            checksum: "abc".into(),
        };
        let json = result.to_json();
        assert_eq!(
            json["stageFolder"],
            "@S/workflows/1/tables/0/partition_2/attempt_1/"
        );
        assert_eq!(ExtractResult::from_json(&json).unwrap(), result);
    }

    #[test]
    fn unreadable_payload_names_kind_and_part() {
        let err = LoadPayload::from_json(&serde_json::json!({"workflowId": 1}))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the load task's payload cannot be read"),
            "{err}"
        );
    }
}
