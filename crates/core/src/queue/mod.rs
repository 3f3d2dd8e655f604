//! The task queue protocol, written once as SQL in `sql/queue/`, over two transports.
//!
//! # Concepts
//!
//! - A **task** is a row of TASK_QUEUE: `blocked` (waits for predecessors), `pending`
//!   (claimable once VISIBLE_AT has passed), `executing` (leased), `completed` or `failed`.
//! - **Claiming** is a conditional UPDATE (`STATUS = 'pending'` re-checked on the row) that
//!   stamps the won rows with a fresh per-call **claim token**; the rows are then read back by
//!   that token. Two consumers can never both win a task.
//! - A **lease** is the pair (task id, claim token). Heartbeat, complete and fail are fenced by
//!   it: a consumer whose lease expired and was re-queued can no longer touch the task
//!   ([`QueueError::NotLeaseHolder`]). A lease lasts the task's LEASE_SECONDS from the claim or
//!   the last heartbeat; [`Queue::expire`] re-queues lapsed leases and fails tasks abandoned too
//!   often.
//! - Tasks form a **DAG**: a successor is unblocked when all its predecessors completed, and
//!   fails (transitively) when one of them fails for good.
//! - A retryable failure re-queues the task after an exponential **backoff**
//!   ([`task::backoff_delay`]); a terminal one, or one past MAX_RETRIES, fails it.
//!
//! # Transports
//!
//! Each operation file holds a header and statements ([`operation`]). [`Transport::Direct`]
//! runs the statements in one client transaction (the orchestrator, which owns the metadata
//! schema; workers where procedures are not allowed); [`Transport::Procedure`] CALLs the
//! procedure generated from the same file ([`procedure`]), deployed with the metadata. Only
//! the source of "now", of the operation token and of the executor type differs: the
//! client's clock, a client UUID and the caller's executor type, or Snowflake's `SYSDATE()`,
//! `UUID_STRING()` and the constant `'worker'`.
//!
//! Procedures exist only for the worker's operations (pull, heartbeat, complete, fail,
//! release) and serve only worker tasks: they run with the owner's rights, so they never take
//! the executor type from the caller. Push and expire, and every operation of an orchestrator
//! consumer, always run as direct statements, whatever the transport.

pub mod clock;
mod error;
pub mod operation;
pub mod procedure;
pub mod statements;
pub mod task;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::metadata_names::MetadataNames;
use crate::snowflake::SqlValue;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::QueueError;
// The session seam lives in a leaf module (the metadata deployment uses it too); re-exported so
// `queue::SqlExecutor` keeps working.
pub use crate::sql_executor::{Rows, SqlExecutor};
pub use operation::OperationParseError;
pub use statements::{procedures_ddl, PreparedOperation, QueueStatements};
pub use task::{
    backoff_delay, ClaimedTask, Consumer, ExecutorType, ExpiredTask, FailOutcome, Lease, NewTask,
    PushedTask, RetryPolicy, TaskBatch, TaskFailure,
};

/// How queue operations reach Snowflake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// `CALL PULL_TASKS(...)` and the other generated worker procedures (production default
    /// for workers). Operations without a procedure (push, expire) and the operations of an
    /// orchestrator consumer run as direct statements.
    #[default]
    Procedure,
    /// The same statements in one client transaction.
    Direct,
}

/// Attempts of one operation that hit a retryable error whose outcome is known (a write
/// conflict or lock wait timeout between concurrent claimers, a dropped connection before the
/// statement ran). In a direct transaction a retry reuses the same values (operation token,
/// now), and every operation's statements are idempotent for them, so a retry is safe even
/// when the caller's own transaction was joined and only the failed statement was rolled
/// back. A procedure that failed rolled back its own transaction, so its CALL may run again.
pub const DIRECT_ATTEMPTS: u32 = 5;

/// The task queue, bound to one set of metadata names and one transport.
#[derive(Debug, Clone)]
pub struct Queue {
    statements: Arc<QueueStatements>,
    transport: Transport,
    clock: Arc<dyn Clock>,
}

type Values = BTreeMap<&'static str, SqlValue>;

impl Queue {
    pub fn new(names: &MetadataNames, transport: Transport) -> Result<Queue, QueueError> {
        Ok(Queue {
            statements: Arc::new(QueueStatements::load(names)?),
            transport,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for "now" in the direct transport (tests move time by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Queue {
        self.clock = clock;
        self
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Pushes a batch of tasks of one workflow; returns the ids in batch order.
    pub fn push(
        &self,
        session: &mut impl SqlExecutor,
        workflow_id: i64,
        batch: &TaskBatch,
    ) -> Result<Vec<PushedTask>, QueueError> {
        batch.validate()?;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let values = Values::from([
            ("workflow_id", SqlValue::Int(workflow_id)),
            ("tasks", SqlValue::Text(batch.tasks_json())),
            ("edges", SqlValue::Text(batch.edges_json())),
        ]);
        let rows = self.run(session, &self.statements.push, values, None)?;
        let pushed = rows
            .iter()
            .map(|row| {
                Ok(PushedTask {
                    index: usize::try_from(int(row, 0, "push")?)
                        .map_err(|_| unexpected("push", "negative PUSH_INDEX"))?,
                    id: int(row, 1, "push")?,
                    status: text(row, 2, "push")?,
                })
            })
            .collect::<Result<Vec<_>, QueueError>>()?;
        if pushed.len() != batch.tasks().len() {
            return Err(unexpected(
                "push",
                format!(
                    "{} tasks pushed, {} inserted",
                    batch.tasks().len(),
                    pushed.len()
                ),
            ));
        }
        Ok(pushed)
    }

    /// Claims up to `capacity` visible tasks for `consumer`.
    pub fn pull(
        &self,
        session: &mut impl SqlExecutor,
        consumer: &Consumer,
        capacity: u32,
    ) -> Result<Vec<ClaimedTask>, QueueError> {
        if capacity == 0 {
            return Err(QueueError::ZeroCapacity);
        }
        let values = Values::from([
            ("consumer_id", SqlValue::Text(consumer.id.clone())),
            ("affinity", SqlValue::from(consumer.affinity.clone())),
            ("capacity", SqlValue::Int(i64::from(capacity))),
        ]);
        let rows = self.run(
            session,
            &self.statements.pull,
            values,
            Some(consumer.executor_type),
        )?;
        rows.iter()
            .map(|row| claimed_task(row, consumer.executor_type))
            .collect()
    }

    /// Extends the lease of a held task by its lease duration.
    pub fn heartbeat(
        &self,
        session: &mut impl SqlExecutor,
        lease: &Lease,
    ) -> Result<(), QueueError> {
        let values = Values::from([
            ("task_id", SqlValue::Int(lease.task_id)),
            ("claim_token", SqlValue::Text(lease.claim_token.clone())),
        ]);
        let rows = self.run(
            session,
            &self.statements.heartbeat,
            values,
            Some(lease.executor_type),
        )?;
        held_by_caller(&rows, lease.task_id, "heartbeat").map(|_| ())
    }

    /// Completes a held task with its JSON result and unblocks ready successors. Completing
    /// again with the same lease (after a lost answer) succeeds.
    pub fn complete(
        &self,
        session: &mut impl SqlExecutor,
        lease: &Lease,
        result: &serde_json::Value,
    ) -> Result<(), QueueError> {
        let values = Values::from([
            ("task_id", SqlValue::Int(lease.task_id)),
            ("claim_token", SqlValue::Text(lease.claim_token.clone())),
            ("result_json", SqlValue::Text(result.to_string())),
        ]);
        let rows = self.run(
            session,
            &self.statements.complete,
            values,
            Some(lease.executor_type),
        )?;
        held_by_caller(&rows, lease.task_id, "complete").map(|_| ())
    }

    /// Reports the failure of a held task: retried after a backoff when retryable and retries
    /// are left, else failed for good together with its blocked successors.
    pub fn fail(
        &self,
        session: &mut impl SqlExecutor,
        lease: &Lease,
        failure: &TaskFailure,
    ) -> Result<FailOutcome, QueueError> {
        let values = Values::from([
            ("task_id", SqlValue::Int(lease.task_id)),
            ("claim_token", SqlValue::Text(lease.claim_token.clone())),
            ("error_message", SqlValue::Text(failure.message.clone())),
            ("retryable", SqlValue::Bool(failure.retryable)),
        ]);
        let rows = self.run(
            session,
            &self.statements.fail,
            values,
            Some(lease.executor_type),
        )?;
        let row = held_by_caller(&rows, lease.task_id, "fail")?;
        let failures = int(row, 3, "fail")?;
        match text(row, 1, "fail")?.as_str() {
            "pending" => {
                let seconds = int(row, 4, "fail")?;
                Ok(FailOutcome::Retrying {
                    failures,
                    delay: Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
                })
            }
            "failed" => Ok(FailOutcome::Failed { failures }),
            other => Err(unexpected("fail", format!("task left in status `{other}`"))),
        }
    }

    /// Gives held tasks back (graceful shutdown): pending again at once, counted neither as a
    /// failure nor as an abandonment. Returns the ids actually released (one operation per
    /// executor type among the leases).
    pub fn release(
        &self,
        session: &mut impl SqlExecutor,
        leases: &[Lease],
    ) -> Result<Vec<i64>, QueueError> {
        let mut released = Vec::new();
        for executor_type in [ExecutorType::Worker, ExecutorType::Orchestrator] {
            let leases_json: Vec<serde_json::Value> = leases
                .iter()
                .filter(|lease| lease.executor_type == executor_type)
                .map(|lease| serde_json::json!({"task_id": lease.task_id, "claim_token": lease.claim_token}))
                .collect();
            if leases_json.is_empty() {
                continue;
            }
            let leases_json = serde_json::Value::Array(leases_json).to_string();
            let values = Values::from([("leases", SqlValue::Text(leases_json))]);
            let rows = self.run(
                session,
                &self.statements.release,
                values,
                Some(executor_type),
            )?;
            for row in &rows {
                released.push(int(row, 0, "release")?);
            }
        }
        Ok(released)
    }

    /// Re-queues tasks whose lease ran out (failing those abandoned too often, with their
    /// blocked successors). Returns the tasks it touched.
    pub fn expire(&self, session: &mut impl SqlExecutor) -> Result<Vec<ExpiredTask>, QueueError> {
        let rows = self.run(session, &self.statements.expire, Values::new(), None)?;
        rows.iter()
            .map(|row| {
                Ok(ExpiredTask {
                    task_id: int(row, 0, "expire")?,
                    status: text(row, 1, "expire")?,
                    abandonments: int(row, 2, "expire")?,
                })
            })
            .collect()
    }

    /// Runs one operation for a consumer of `executor_type` (`None`: push and expire, which
    /// serve no consumer), by CALL when [`Queue::uses_procedure`] says so, else as direct
    /// statements; retried while it fails retryably with a known outcome.
    fn run(
        &self,
        session: &mut impl SqlExecutor,
        prepared: &PreparedOperation,
        mut values: Values,
        executor_type: Option<ExecutorType>,
    ) -> Result<Rows, QueueError> {
        let operation = operation_name(prepared);
        let call = prepared
            .call
            .as_ref()
            .filter(|_| self.uses_procedure(executor_type));
        if call.is_none() {
            if let Some(executor_type) = executor_type {
                values.insert(
                    operation::EXECUTOR_TYPE,
                    SqlValue::Text(executor_type.as_str().to_owned()),
                );
            }
            values.insert(
                "now",
                SqlValue::Text(clock::timestamp_text(self.clock.now())),
            );
            values.insert("op_token", SqlValue::Text(uuid::Uuid::new_v4().to_string()));
        }
        let mut attempt = 1;
        loop {
            let outcome = match call {
                Some(call) => {
                    let params = bind(&call.parameter_names, &values, operation)?;
                    session
                        .query_rows(&call.sql, &params)
                        .map_err(|source| QueueError::Snowflake { operation, source })
                }
                None => run_direct(session, prepared, &values, operation),
            };
            match outcome {
                Err(QueueError::Snowflake { source, .. })
                    if source.is_retryable()
                        && !source.outcome_unknown()
                        && attempt < DIRECT_ATTEMPTS =>
                {
                    tracing::warn!(operation, attempt, error = %source, "queue operation conflicted, retrying");
                    std::thread::sleep(Duration::from_millis(20 << attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Whether an operation for a consumer of `executor_type` goes through its procedure: with
    /// the procedure transport, for worker consumers. The procedures serve worker tasks only,
    /// so an orchestrator consumer (which owns the schema) always runs direct statements.
    fn uses_procedure(&self, executor_type: Option<ExecutorType>) -> bool {
        self.transport == Transport::Procedure
            && executor_type == Some(procedure::PROCEDURE_EXECUTOR)
    }
}

/// Runs the steps and the result query of an operation in one transaction.
fn run_direct(
    session: &mut impl SqlExecutor,
    prepared: &PreparedOperation,
    values: &Values,
    operation: &'static str,
) -> Result<Rows, QueueError> {
    let steps = prepared
        .direct_steps
        .iter()
        .map(|(statement, repeat)| {
            Ok((
                statement.sql.as_str(),
                bind(&statement.parameter_names, values, operation)?,
                *repeat,
            ))
        })
        .collect::<Result<Vec<_>, QueueError>>()?;
    let result_params = bind(&prepared.direct_result.parameter_names, values, operation)?;
    session
        .transaction(|session| {
            for (sql, params, repeat) in &steps {
                if *repeat {
                    for _ in 0..procedure::MAX_REPEAT_PASSES {
                        if session.execute(sql, params)? <= 0 {
                            break;
                        }
                    }
                } else {
                    session.execute(sql, params)?;
                }
            }
            session.query_rows(&prepared.direct_result.sql, &result_params)
        })
        .map_err(|source| QueueError::Snowflake { operation, source })
}

fn operation_name(prepared: &PreparedOperation) -> &'static str {
    match prepared.operation.file {
        "push.sql" => "push",
        "pull.sql" => "pull",
        "heartbeat.sql" => "heartbeat",
        "complete.sql" => "complete",
        "fail.sql" => "fail",
        "release.sql" => "release",
        "expire.sql" => "expire",
        other => other,
    }
}

fn bind(
    names: &[String],
    values: &Values,
    operation: &'static str,
) -> Result<Vec<SqlValue>, QueueError> {
    names
        .iter()
        .map(|name| {
            values
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| unexpected(operation, format!("no value for placeholder `:{name}`")))
        })
        .collect()
}

fn unexpected(operation: &'static str, message: impl Into<String>) -> QueueError {
    QueueError::UnexpectedResult {
        operation,
        message: message.into(),
    }
}

fn cell<'a>(
    row: &'a [Option<String>],
    index: usize,
    operation: &'static str,
) -> Result<Option<&'a str>, QueueError> {
    row.get(index).map(Option::as_deref).ok_or_else(|| {
        unexpected(
            operation,
            format!(
                "a row has {} columns, expected more than {index}",
                row.len()
            ),
        )
    })
}

fn text(
    row: &[Option<String>],
    index: usize,
    operation: &'static str,
) -> Result<String, QueueError> {
    cell(row, index, operation)?
        .map(str::to_owned)
        .ok_or_else(|| unexpected(operation, format!("column {index} is NULL")))
}

fn optional_int(
    row: &[Option<String>],
    index: usize,
    operation: &'static str,
) -> Result<Option<i64>, QueueError> {
    cell(row, index, operation)?
        .map(|value| {
            parse_int(value).ok_or_else(|| {
                unexpected(
                    operation,
                    format!("column {index} holds `{value}`, not an integer"),
                )
            })
        })
        .transpose()
}

fn int(row: &[Option<String>], index: usize, operation: &'static str) -> Result<i64, QueueError> {
    optional_int(row, index, operation)?
        .ok_or_else(|| unexpected(operation, format!("column {index} is NULL")))
}

/// Integers arrive as text; a NUMBER column may be rendered with a zero scale (`5.0`).
fn parse_int(value: &str) -> Option<i64> {
    let value = value.trim();
    value.parse().ok().or_else(|| {
        let (whole, fraction) = value.split_once('.')?;
        fraction
            .bytes()
            .all(|byte| byte == b'0')
            .then(|| whole.parse().ok())?
    })
}

/// The single row of heartbeat/complete/fail, checked for BY_CALLER (column 2).
fn held_by_caller<'a>(
    rows: &'a Rows,
    task_id: i64,
    operation: &'static str,
) -> Result<&'a [Option<String>], QueueError> {
    let row = rows.first().ok_or(QueueError::UnknownTask { task_id })?;
    if int(row, 2, operation)? != 1 {
        return Err(QueueError::NotLeaseHolder { task_id });
    }
    Ok(row)
}

/// A row of pull's result: ID, WORKFLOW_ID, KIND, NAME, TABLE_ID, PARTITION_ID, PAYLOAD,
/// CLAIM_TOKEN, ATTEMPTS, LEASE_SECONDS.
fn claimed_task(
    row: &[Option<String>],
    executor_type: ExecutorType,
) -> Result<ClaimedTask, QueueError> {
    let payload = match cell(row, 6, "pull")? {
        None => serde_json::Value::Null,
        Some(text) => serde_json::from_str(text)
            .map_err(|error| unexpected("pull", format!("payload is not JSON: {error}")))?,
    };
    Ok(ClaimedTask {
        lease: Lease {
            task_id: int(row, 0, "pull")?,
            claim_token: text(row, 7, "pull")?,
            executor_type,
        },
        workflow_id: int(row, 1, "pull")?,
        kind: text(row, 2, "pull")?,
        name: cell(row, 3, "pull")?.map(str::to_owned),
        table_id: optional_int(row, 4, "pull")?,
        partition_id: optional_int(row, 5, "pull")?,
        payload,
        attempt: int(row, 8, "pull")?,
        lease_duration: Duration::from_secs(u64::try_from(int(row, 9, "pull")?).unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests;
