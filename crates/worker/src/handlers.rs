//! What the worker does with one claimed task: `analyze` plans a table, `extract` moves one
//! partition to the stage. Both are blocking (ODBC, PostgreSQL, ADBC) and run on a blocking
//! thread.
//!
//! The worker executes only payloads it understands and builds every source statement itself
//! from them (through the dialect); `whereClauseCriteria` is checked by the dialect before it
//! is used. A kind it does not run, or a payload it cannot read, fails the task for good: a
//! retry would meet the same payload.

use std::path::PathBuf;
use std::sync::Arc;

use config_schema::SourcePlatform;
use migration_core::analyze::{analyze_table, plan_request, AnalyzeError};
use migration_core::daemon::SessionPool;
use migration_core::metadata::MetadataNames;
use migration_core::queue::{ClaimedTask, TaskFailure};
use migration_core::source::catalog::TableRef;
use migration_core::source::extract::{extract, SourceSpec};
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::workflow::{
    attempt_folder, checked_table_folder, extract_options, extract_request, AnalyzePayload,
    AnalyzeResult, ExtractPayload, ExtractResult, TaskKind,
};
use tokio_util::sync::CancellationToken;

use crate::stage_upload::StageUploader;

/// Everything a handler needs besides the task: the source, Snowflake for PUT, and where local
/// files go.
#[derive(Debug, Clone)]
pub struct TaskContext {
    pub platform: SourcePlatform,
    pub source: SourceSpec,
    /// Sessions for PUT, one per running extraction.
    pub upload_sessions: Arc<SessionPool>,
    pub names: MetadataNames,
    /// Local folder for Parquet files while they are written and uploaded.
    pub local_dir: PathBuf,
    /// Parquet settings (file size, compression); file names are set per partition.
    pub parquet: ParquetOptions,
}

/// How a task ended, when it did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerFailure {
    pub failure: TaskFailure,
    /// The handler stopped because its cancellation token fired (shutdown or a lost lease),
    /// not because of the task itself.
    pub cancelled: bool,
}

impl HandlerFailure {
    fn new(message: String, retryable: bool) -> HandlerFailure {
        HandlerFailure {
            failure: TaskFailure { message, retryable },
            cancelled: false,
        }
    }

    fn terminal(message: String) -> HandlerFailure {
        HandlerFailure::new(message, false)
    }
}

/// Runs one task to its JSON result.
pub fn execute(
    context: &TaskContext,
    task: &ClaimedTask,
    cancel: &CancellationToken,
) -> Result<serde_json::Value, HandlerFailure> {
    let kind: TaskKind = task
        .kind
        .parse()
        .map_err(|error| HandlerFailure::terminal(format!("task {}: {error}", task.id())))?;
    match kind {
        TaskKind::Analyze => {
            let payload = AnalyzePayload::from_json(&task.payload)
                .map_err(|error| HandlerFailure::terminal(error.to_string()))?;
            let source = &payload.table.source;
            tracing::Span::current().record(
                "table",
                TableRef::parse(&source.database_name, &source.schema_name, &source.table_name)
                    .display_name(),
            );
            analyze(context, &payload).map(|result| result.to_json())
        }
        TaskKind::Extract => {
            let payload = ExtractPayload::from_json(&task.payload)
                .map_err(|error| HandlerFailure::terminal(error.to_string()))?;
            let span = tracing::Span::current();
            span.record("table", payload.plan.table.display_name());
            span.record("partition", payload.partition.index);
            extract_partition(context, &payload, task.attempt, cancel).map(|r| r.to_json())
        }
        TaskKind::Plan | TaskKind::Load => Err(HandlerFailure::terminal(format!(
            "task {} of kind `{kind}` is run by the orchestrator, not by workers: it was pushed with the wrong executor type",
            task.id()
        ))),
    }
}

/// A worker reads one source; a task for another platform is a routing mistake.
fn check_platform(context: &TaskContext, wanted: SourcePlatform) -> Result<(), HandlerFailure> {
    if wanted == context.platform {
        return Ok(());
    }
    Err(HandlerFailure::terminal(format!(
        "the task reads a {wanted} source but this worker is configured for {}: give workers of different sources different affinities",
        context.platform
    )))
}

fn analyze(
    context: &TaskContext,
    payload: &AnalyzePayload,
) -> Result<AnalyzeResult, HandlerFailure> {
    check_platform(context, payload.source_platform)?;
    let source = &payload.table.source;
    let table = TableRef::parse(
        &source.database_name,
        &source.schema_name,
        &source.table_name,
    )
    .display_name();
    let failed = |error: AnalyzeError| {
        HandlerFailure::new(
            format!("analyze of table `{table}`: {error}"),
            error.is_retryable(),
        )
    };
    let (table, options) = plan_request(&payload.table).map_err(failed)?;
    let plan = analyze_table(&context.source, context.platform, table, options).map_err(failed)?;
    Ok(AnalyzeResult { plan })
}

fn extract_partition(
    context: &TaskContext,
    payload: &ExtractPayload,
    attempt: i64,
    cancel: &CancellationToken,
) -> Result<ExtractResult, HandlerFailure> {
    let plan = &payload.plan;
    let partition = payload.partition.index;
    let table = plan.table.display_name();
    let failed = |message: String, retryable: bool| {
        HandlerFailure::new(
            format!("extract of table `{table}` partition {partition}: {message}"),
            retryable,
        )
    };
    check_platform(context, plan.platform)?;
    let table_folder = checked_table_folder(&payload.table_stage_folder, &context.names)
        .map_err(|error| failed(error.to_string(), false))?;
    let stage_folder = attempt_folder(&table_folder, partition, attempt);

    let request = extract_request(plan, &payload.partition)
        .map_err(|error| failed(error.to_string(), false))?;
    let options = extract_options(
        plan,
        partition,
        attempt,
        &context.local_dir,
        &context.parquet,
    );
    let session = context.upload_sessions.take().map_err(|error| {
        failed(
            format!("cannot connect to Snowflake to upload files: {error}"),
            error.is_retryable(),
        )
    })?;
    let mut uploader = StageUploader::new(session, stage_folder.clone());
    let outcome =
        extract(&context.source, &request, &options, &mut uploader, cancel).map_err(|error| {
            let mut failure = failed(error.to_string(), error.is_retryable());
            failure.cancelled = cancel.is_cancelled();
            failure
        })?;
    Ok(ExtractResult::from_outcome(stage_folder, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration_core::queue::Lease;
    use std::time::Duration;

    fn context() -> TaskContext {
        TaskContext {
            platform: SourcePlatform::Sqlite,
            source: crate::source_spec::source_spec_with(
                &config_schema::worker::SourceConnection::Sqlite(
                    config_schema::worker::SqliteConnection {
                        database: "/nonexistent/x.db".into(),
                        driver_name: "SQLite3".into(),
                    },
                ),
                &|_| None,
                &|_| Err(std::io::Error::other("no files")),
            )
            .expect("sqlite needs no secrets"),
            upload_sessions: Arc::new(SessionPool::new(
                migration_core::snowflake::ConnectParams::new(
                    "a",
                    "u",
                    migration_core::snowflake::Auth::Password("p".into()),
                ),
            )),
            names: MetadataNames::default(),
            local_dir: std::env::temp_dir(),
            parquet: ParquetOptions::default(),
        }
    }

    fn task(kind: &str, payload: serde_json::Value) -> ClaimedTask {
        ClaimedTask {
            lease: Lease {
                task_id: 42,
                claim_token: "t".into(),
                executor_type: migration_core::queue::ExecutorType::Worker,
            },
            workflow_id: 1,
            kind: kind.into(),
            name: None,
            table_id: None,
            partition_id: None,
            payload,
            attempt: 1,
            lease_duration: Duration::from_secs(60),
        }
    }

    fn run(kind: &str, payload: serde_json::Value) -> HandlerFailure {
        execute(&context(), &task(kind, payload), &CancellationToken::new())
            .expect_err("the task fails")
    }

    #[test]
    fn unknown_kinds_and_unreadable_payloads_fail_for_good() {
        let unknown = run("vacuum", serde_json::json!({}));
        assert!(!unknown.failure.retryable);
        assert!(unknown.failure.message.contains("`vacuum`"), "{unknown:?}");

        let unreadable = run("extract", serde_json::json!({"workflowId": 1}));
        assert!(!unreadable.failure.retryable);
        assert!(
            unreadable
                .failure
                .message
                .starts_with("the extract task's payload cannot be read"),
            "{unreadable:?}"
        );

        let orchestrator_kind = run("load", serde_json::json!({}));
        assert!(!orchestrator_kind.failure.retryable);
        assert!(
            orchestrator_kind.failure.message.contains("orchestrator"),
            "{orchestrator_kind:?}"
        );
    }

    #[test]
    fn failure_messages_are_pinned() {
        let analyze_for_postgres = serde_json::json!({
            "workflowId": 1,
            "tableIndex": 0,
            "sourcePlatform": "postgresql",
            "table": {
                "source": {"databaseName": "d", "schemaName": "s", "tableName": "t"},
                "target": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
                "columnNamesToPartitionBy": ["id"]
            }
        });
        let messages = [
            run("vacuum", serde_json::json!({})),
            run("plan", serde_json::json!({})),
            run("analyze", serde_json::json!([])),
            run("analyze", analyze_for_postgres),
        ]
        .map(|f| f.failure.message)
        .join("\n");
        insta::assert_snapshot!(messages);
    }

    #[test]
    fn a_task_for_another_platform_is_refused() {
        let payload = serde_json::json!({
            "workflowId": 1,
            "tableIndex": 0,
            "sourcePlatform": "postgresql",
            "table": {
                "source": {"databaseName": "d", "schemaName": "s", "tableName": "t"},
                "target": {"databaseName": "D", "schemaName": "S", "tableName": "T"},
                "columnNamesToPartitionBy": ["id"]
            }
        });
        let failure = run("analyze", payload);
        assert!(!failure.failure.retryable);
        assert!(
            failure.failure.message.contains("configured for sqlite"),
            "{failure:?}"
        );
    }
}
