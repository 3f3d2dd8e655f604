//! What can go wrong while the orchestrator runs one of its tasks, and how the queue should
//! treat it: retry later, fail for good, or drop the task because its lease is gone.

use migration_core::load::LoadError;
use migration_core::queue::QueueError;
use migration_core::snowflake::SnowflakeError;
use migration_core::workflow::{ResultCheckError, TaskPayloadError};

/// Errors of plan and load tasks, and of the daemon's housekeeping.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("cannot {action}: {source}")]
    Snowflake {
        action: &'static str,
        #[source]
        source: Box<SnowflakeError>,
    },

    #[error(transparent)]
    Queue(#[from] QueueError),

    #[error(transparent)]
    Payload(#[from] TaskPayloadError),

    #[error(transparent)]
    Load(#[from] LoadError),

    #[error("task {task_id} ({kind}) has no completed {expected} predecessor with a result; the queue was changed by hand or by another program, create the workflow again")]
    MissingPredecessor {
        task_id: i64,
        kind: String,
        expected: &'static str,
    },

    #[error("task {task_id} ({kind}) has no {field}; it was not pushed by this orchestrator, create the workflow again")]
    MissingField {
        task_id: i64,
        kind: String,
        field: &'static str,
    },

    #[error("table {table_id} has no readable configuration in TABLE_METADATA: {message}; create the workflow again")]
    TableConfiguration { table_id: i64, message: String },

    #[error("partition {partition} of {table}: {loaded} rows loaded but {extracted} rows extracted; {detail}")]
    RowCountMismatch {
        table: String,
        partition: u32,
        loaded: u64,
        extracted: u64,
        detail: String,
    },

    #[error("task {task_id} has the unknown kind `{kind}` for an orchestrator; it was pushed by a newer orchestrator, upgrade this one")]
    UnknownKind { task_id: i64, kind: String },

    #[error("{action} returned an unexpected result: {message}; check that the metadata is deployed at the version this program expects (`orchestrator deploy`)")]
    UnexpectedResult {
        action: &'static str,
        message: String,
    },

    #[error("load task {task_id} refuses the result of extract task {extract_task_id} (stage folder `{folder}`): {source}; nothing was loaded: the result was changed by hand or by another program, so extract the partition again (create the workflow again)")]
    UntrustedResult {
        task_id: i64,
        extract_task_id: i64,
        folder: String,
        #[source]
        source: Box<ResultCheckError>,
    },

    #[error("target table {table} already holds {rows} rows, and a workflow never appends to a table silently: set the table's `target.existingRows` to \"append\" (keep them and add the source's rows) or \"truncate\" (empty the table first), or empty the table yourself, then create the workflow again")]
    TargetNotEmpty { table: String, rows: i64 },

    /// Another load completed the partition first; this load's transaction was rolled back.
    #[error("partition {partition} of {table} was completed by another load meanwhile; this load's COPY was rolled back")]
    PartitionCompletedBefore { table: String, partition: u32 },

    /// The fenced completion updated no row, yet the partition is not completed either.
    #[error("partition {partition} of {table} (PARTITION_METADATA id {partition_id}) cannot be completed: {state}; this load's COPY was rolled back, so the target holds none of its rows: the task queue and PARTITION_METADATA disagree (changed by hand or by another program), create the workflow again")]
    PartitionNotCompletable {
        table: String,
        partition: u32,
        partition_id: i64,
        state: String,
    },
}

impl TaskError {
    pub fn snowflake(action: &'static str) -> impl FnOnce(SnowflakeError) -> TaskError {
        move |source| TaskError::Snowflake {
            action,
            source: Box::new(source),
        }
    }

    /// Whether a later attempt may succeed. A statement whose outcome is unknown is retried
    /// too: every step of plan and load is idempotent.
    pub fn is_retryable(&self) -> bool {
        match self {
            TaskError::Snowflake { source, .. } => {
                source.is_retryable() || source.outcome_unknown()
            }
            TaskError::Queue(error) => error.is_retryable(),
            _ => false,
        }
    }

    /// The task's lease is gone (expired and taken over): drop the task without reporting.
    pub fn lost_lease(&self) -> bool {
        matches!(self, TaskError::Queue(QueueError::NotLeaseHolder { .. }))
    }
}

impl From<SnowflakeError> for TaskError {
    fn from(source: SnowflakeError) -> Self {
        TaskError::Snowflake {
            action: "run a statement",
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offender_and_say_what_to_do() {
        let errors = [
            TaskError::MissingPredecessor {
                task_id: 12,
                kind: "load".into(),
                expected: "extract",
            },
            TaskError::MissingField {
                task_id: 12,
                kind: "plan".into(),
                field: "TABLE_ID",
            },
            TaskError::TableConfiguration {
                table_id: 3,
                message: "missing field `source`".into(),
            },
            TaskError::RowCountMismatch {
                table: "shop.public.orders".into(),
                partition: 4,
                loaded: 10,
                extracted: 12,
                detail: "files a.parquet of @S/x/ were not loaded".into(),
            },
            TaskError::UnknownKind {
                task_id: 9,
                kind: "vacuum".into(),
            },
            TaskError::PartitionNotCompletable {
                table: "shop.public.orders".into(),
                partition: 2,
                partition_id: 57,
                state: "no such partition is recorded".into(),
            },
        ];
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"));
        assert!(errors
            .iter()
            .all(|error| !error.is_retryable() && !error.lost_lease()));
        assert!(TaskError::Queue(QueueError::NotLeaseHolder { task_id: 1 }).lost_lease());
    }
}
