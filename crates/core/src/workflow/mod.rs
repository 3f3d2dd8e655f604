//! The contract between the orchestrator and the workers for a data-migration workflow: the
//! task kinds, the JSON payload each task carries and the JSON result it completes with, and
//! where on the stage a partition attempt's files live.
//!
//! One workflow becomes, per table, this task graph:
//!
//! ```text
//! analyze (worker) -> plan (orchestrator) -> extract (worker) -> load (orchestrator)   x partitions
//! ```
//!
//! `plan` reads the analyze result, creates the target table, records PARTITION_METADATA and
//! pushes one `extract -> load` pair per partition. A `load` reads its extract's result.
//! Payloads are structured data: the worker builds every source statement itself from them and
//! never runs SQL text taken from the queue.
//!
//! The graph lives here, as pure functions, and the daemons only drive it:
//! - `task_kind`: the kinds, who runs each, its priority and its predecessor;
//! - `task_graph`: the tasks pushed when a workflow starts ([`TableStart`]) and when a table is
//!   planned ([`PartitionTasks`]), with their edges;
//! - `payload`: what each task carries and completes with;
//! - `extract_step`: the SELECT and pipeline options an extract runs, read from its payload;
//! - `stage_path`: where an attempt's files live, rendered for both daemons;
//! - `result_check`: what the orchestrator checks in a worker's result before it loads.
//!
//! To add a kind (validation's schema, metrics and rows checks; sync's checksum): a variant
//! of [`TaskKind`] (the compiler then lists who runs it, its priority and predecessor), its
//! payload and result in `payload.rs`, and in `task_graph.rs` the struct that pushes it.

mod extract_step;
mod payload;
mod result_check;
mod stage_path;
mod task_graph;
mod task_kind;

pub use extract_step::{extract_options, extract_request};
pub use payload::{
    AnalyzePayload, AnalyzeResult, ExtractPayload, ExtractResult, ExtractedFileResult, LoadPayload,
    LoadResult, PlanPayload, TaskPayloadError,
};
pub use result_check::{check_extract_result, ResultCheckError};
pub use stage_path::{
    attempt_folder, checked_table_folder, is_plain_file_name, partition_folder, results_stage,
    table_folder, table_results_folder, StageFolderError,
};
pub use task_graph::{
    source_identifier, target_identifier, GraphTask, PartitionTasks, TableStart, TaskSettings,
    UnplannedPartition,
};
pub use task_kind::{TaskKind, UnknownTaskKind};
