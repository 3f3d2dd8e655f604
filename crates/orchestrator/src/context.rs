//! What every task handler shares: settings, statements, the queue, a pool of sessions, and
//! the small readers of the metadata rows the handlers need.
//!
//! The orchestrator's own queue operations (pull, expire, heartbeat, push, complete, fail) always
//! use the direct transport, whatever `--queue-transport` says: the orchestrator owns the
//! metadata, and only direct queue steps join the client transaction of a plan or a load, so
//! that a task's completion and the bookkeeping it guards commit together (a procedure's
//! transaction commits on its own). `--queue-transport` only decides whether the procedures
//! the workers call are deployed.

use std::sync::Arc;

use config_schema::workflow::TableConfig;
use migration_core::daemon::SessionPool;
use migration_core::metadata::session_registry::{self, DaemonProcess};
use migration_core::queue::{ClaimedTask, Consumer, ExecutorType, Queue, Transport};
use migration_core::snowflake::{ConnectParams, Session, SnowflakeError, SqlValue};
use migration_core::workflow::TaskKind;

use crate::settings::DaemonConfig;
use crate::sql::{Binds, Statements};
use crate::task_error::TaskError;

/// The transport of every queue operation of the orchestrator (see the module doc).
pub const ORCHESTRATOR_TRANSPORT: Transport = Transport::Direct;

/// Shared by the daemon loop and the task threads; `pool` holds the idle plan and load
/// sessions (logged in with [`DaemonConfig::task_connection`]).
#[derive(Debug)]
pub struct Context {
    pub config: DaemonConfig,
    pub statements: Statements,
    pub queue: Queue,
    pool: SessionPool,
}

impl Context {
    pub fn new(config: DaemonConfig) -> Result<Arc<Context>, TaskError> {
        let queue = Queue::new(&config.names, ORCHESTRATOR_TRANSPORT)?;
        Ok(Arc::new(Context {
            statements: Statements::new(&config.names),
            queue,
            pool: SessionPool::new(config.task_connection()),
            config,
        }))
    }

    /// This orchestrator as a queue consumer.
    pub fn consumer(&self) -> Consumer {
        Consumer {
            id: self.config.consumer_id.clone(),
            executor_type: ExecutorType::Orchestrator,
            affinity: self.config.affinity.clone(),
        }
    }

    /// A session for one task: an idle one from the pool, or a new login.
    pub fn take_session(&self) -> Result<Session, TaskError> {
        self.pool
            .take_or(|params| self.connect(params))
            .map_err(TaskError::snowflake("log in to Snowflake"))
    }

    /// Logs in and registers the session in DAEMON_SESSION (best effort), so that a restarted
    /// daemon can end it at once should this process be killed while it holds locks.
    pub fn connect(&self, params: &ConnectParams) -> Result<Session, SnowflakeError> {
        let mut session = Session::connect(params)?;
        session_registry::register_or_warn(&mut session, &self.config.names, &self.process());
        Ok(session)
    }

    /// This process in the session registry.
    pub fn process(&self) -> DaemonProcess {
        DaemonProcess::this(&self.config.consumer_id)
    }

    /// Returns a session to the pool after a task.
    pub fn return_session(&self, session: Session) {
        self.pool.give_back(session);
    }

    /// Takes every idle session out of the pool (to log them out at shutdown).
    pub fn idle_sessions(&self) -> Vec<Session> {
        self.pool.take_all()
    }
}

pub type Row = Vec<Option<String>>;

/// Runs a query, naming the action on failure.
pub fn query(
    session: &mut Session,
    action: &'static str,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, TaskError> {
    session
        .query_rows(sql, params)
        .map_err(TaskError::snowflake(action))
}

/// Runs a statement, naming the action on failure; the number of affected rows.
pub fn execute(
    session: &mut Session,
    action: &'static str,
    sql: &str,
    params: &[SqlValue],
) -> Result<i64, TaskError> {
    session
        .execute(sql, params)
        .map_err(TaskError::snowflake(action))
}

/// A text cell, `None` for NULL or a missing column.
pub fn cell(row: &Row, index: usize) -> Option<&str> {
    row.get(index).and_then(|value| value.as_deref())
}

/// Integers arrive as text, sometimes with a zero scale (`5.0`).
pub fn parse_int(value: &str) -> Option<i64> {
    let value = value.trim();
    value.parse().ok().or_else(|| {
        let (whole, fraction) = value.split_once('.')?;
        fraction
            .bytes()
            .all(|byte| byte == b'0')
            .then(|| whole.parse().ok())?
    })
}

/// A required integer cell.
pub fn int_cell(row: &Row, index: usize, action: &'static str) -> Result<i64, TaskError> {
    cell(row, index)
        .and_then(parse_int)
        .ok_or_else(|| TaskError::UnexpectedResult {
            action,
            message: format!("column {index} is not an integer: {:?}", row.get(index)),
        })
}

/// A JSON cell (VARIANT columns arrive as JSON text).
pub fn json_cell(row: &Row, index: usize) -> Option<serde_json::Value> {
    cell(row, index).and_then(|text| serde_json::from_str(text).ok())
}

/// A completed predecessor of a task, as TASK_QUEUE holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Predecessor {
    pub task_id: i64,
    /// The claim that completed it (TASK_QUEUE.ATTEMPTS).
    pub attempts: i64,
    /// Its JSON result, never null.
    pub result: serde_json::Value,
}

/// The completed predecessor of `task` of the given kind.
pub fn completed_predecessor(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    expected: TaskKind,
) -> Result<Predecessor, TaskError> {
    let statement = &context.statements.predecessor_results;
    let binds = Binds::from([("task_id", SqlValue::Int(task.id()))]);
    let rows = query(
        session,
        "read the task's predecessors",
        statement.sql(),
        &statement.params(&binds),
    )?;
    let missing = || TaskError::MissingPredecessor {
        task_id: task.id(),
        kind: task.kind.clone(),
        expected: expected.as_str(),
    };
    let row = rows
        .iter()
        .find(|row| cell(row, 1) == Some(expected.as_str()) && cell(row, 2) == Some("completed"))
        .ok_or_else(missing)?;
    let result = json_cell(row, 3)
        .filter(|result| !result.is_null())
        .ok_or_else(missing)?;
    Ok(Predecessor {
        task_id: int_cell(row, 0, "read the task's predecessors")?,
        attempts: int_cell(row, 4, "read the task's predecessors")?,
        result,
    })
}

/// The result of the completed predecessor of `task` of the given kind.
pub fn predecessor_result(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    expected: TaskKind,
) -> Result<serde_json::Value, TaskError> {
    Ok(completed_predecessor(context, session, task, expected)?.result)
}

/// A table's TABLE_METADATA row: its merged configuration and the analysis its plan recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub configuration: TableConfig,
    /// The analyze result recorded by the plan; `None` before the table is planned.
    pub analysis: Option<serde_json::Value>,
}

/// The TABLE_METADATA row of a table.
pub fn table_row(
    context: &Context,
    session: &mut Session,
    table_id: i64,
) -> Result<TableRow, TaskError> {
    let statement = &context.statements.table_configuration;
    let binds = Binds::from([("table_id", SqlValue::Int(table_id))]);
    let rows = query(
        session,
        "read the table's configuration",
        statement.sql(),
        &statement.params(&binds),
    )?;
    let unreadable = |message: String| TaskError::TableConfiguration { table_id, message };
    let row = rows
        .first()
        .ok_or_else(|| unreadable("the row does not exist".to_owned()))?;
    let json = json_cell(row, 0).ok_or_else(|| unreadable("it is not JSON".to_owned()))?;
    let configuration =
        serde_json::from_value(json).map_err(|error| unreadable(error.to_string()))?;
    Ok(TableRow {
        configuration,
        analysis: json_cell(row, 3).filter(|analysis| !analysis.is_null()),
    })
}

/// The merged configuration of a table, from TABLE_METADATA.
pub fn table_configuration(
    context: &Context,
    session: &mut Session,
    table_id: i64,
) -> Result<TableConfig, TaskError> {
    Ok(table_row(context, session, table_id)?.configuration)
}

/// The table id and the field name for errors.
pub fn required<T>(
    value: Option<T>,
    task: &ClaimedTask,
    field: &'static str,
) -> Result<T, TaskError> {
    value.ok_or_else(|| TaskError::MissingField {
        task_id: task.id(),
        kind: task.kind.clone(),
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration_core::metadata::MetadataNames;
    use migration_core::snowflake::{Auth, ConnectParams};

    #[test]
    fn the_orchestrator_queue_is_direct_whatever_the_configured_transport() {
        for configured in [Transport::Procedure, Transport::Direct] {
            let mut config = DaemonConfig::new(
                ConnectParams::new("acct", "user", Auth::Password("pw".into())),
                MetadataNames::default(),
            );
            config.transport = configured;
            let context = Context::new(config).expect("context");
            assert_eq!(
                context.queue.transport(),
                Transport::Direct,
                "{configured:?}"
            );
            assert_eq!(
                context.config.transport, configured,
                "kept for the deployment"
            );
        }
    }
}
