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

mod payload;
mod result_check;
mod stage_path;

pub use payload::{
    AnalyzePayload, AnalyzeResult, ExtractPayload, ExtractResult, ExtractedFileResult, LoadPayload,
    LoadResult, PlanPayload, TaskKind, TaskPayloadError,
};
pub use result_check::{check_extract_result, ResultCheckError};
pub use stage_path::{
    attempt_folder, is_plain_file_name, partition_folder, results_stage, table_folder,
};
