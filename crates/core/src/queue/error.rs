//! The error of queue operations, on its own so that the queue's values ([`super::task`]) can
//! return it without depending on the module that drives the operations.

use crate::snowflake::SnowflakeError;

use super::operation::OperationParseError;

/// Errors of queue operations.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The caller does not hold the task's lease (it expired, was re-queued, or belongs to
    /// another consumer); the caller must drop the task.
    #[error("task {task_id} is not leased to this consumer any more (its lease expired or another consumer holds it); drop the task")]
    NotLeaseHolder { task_id: i64 },

    #[error("task {task_id} does not exist in the task queue")]
    UnknownTask { task_id: i64 },

    #[error("a dependency of the pushed batch names task index {index}, but the batch has {count} tasks")]
    UnknownBatchIndex { index: usize, count: usize },

    #[error("the dependencies of the pushed batch form a cycle through task index {task_index}; a task cannot wait for itself")]
    DependencyCycle { task_index: usize },

    #[error("pull capacity must be at least 1")]
    ZeroCapacity,

    #[error("queue operation {operation} failed: {source}")]
    Snowflake {
        operation: &'static str,
        #[source]
        source: SnowflakeError,
    },

    #[error("queue operation {operation} returned an unexpected result: {message}; check that the metadata is deployed at the version this program expects (`orchestrator deploy`)")]
    UnexpectedResult {
        operation: &'static str,
        message: String,
    },

    #[error(transparent)]
    Statement(#[from] OperationParseError),
}

impl QueueError {
    /// Whether trying the operation again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, QueueError::Snowflake { source, .. } if source.is_retryable())
    }
}
