//! What every task handler shares: settings, statements, the queue, a pool of sessions, and
//! the small readers of the metadata rows the handlers need.

use std::sync::{Arc, Mutex};

use config_schema::workflow::TableConfig;
use migration_core::queue::{ClaimedTask, Consumer, ExecutorType, Queue};
use migration_core::snowflake::{Session, SqlValue};
use migration_core::workflow::TaskKind;

use crate::settings::DaemonConfig;
use crate::sql::{Binds, Statements};
use crate::task_error::TaskError;

/// Shared by the daemon loop and the task threads.
#[derive(Debug)]
pub struct Context {
    pub config: DaemonConfig,
    pub statements: Statements,
    pub queue: Queue,
    pool: SessionPool,
}

impl Context {
    pub fn new(config: DaemonConfig) -> Result<Arc<Context>, TaskError> {
        let queue = Queue::new(&config.names, config.transport)?;
        Ok(Arc::new(Context {
            statements: Statements::new(&config.names),
            queue,
            pool: SessionPool::default(),
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
        if let Some(session) = self.pool.take() {
            return Ok(session);
        }
        Session::connect(&self.config.connection)
            .map_err(TaskError::snowflake("log in to Snowflake"))
    }

    /// Returns a session to the pool after a task.
    pub fn return_session(&self, session: Session) {
        self.pool.put(session);
    }
}

/// Idle sessions, reused by the next task so that each task does not log in again.
#[derive(Debug, Default)]
struct SessionPool {
    idle: Mutex<Vec<Session>>,
}

impl SessionPool {
    fn take(&self) -> Option<Session> {
        self.idle
            .lock()
            .expect("the session pool is never poisoned")
            .pop()
    }

    fn put(&self, session: Session) {
        self.idle
            .lock()
            .expect("the session pool is never poisoned")
            .push(session);
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

/// The result of the completed predecessor of `task` of the given kind.
pub fn predecessor_result(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    expected: TaskKind,
) -> Result<serde_json::Value, TaskError> {
    let statement = &context.statements.predecessor_results;
    let binds = Binds::from([("task_id", SqlValue::Int(task.id()))]);
    let rows = query(
        session,
        "read the task's predecessors",
        statement.sql(),
        &statement.params(&binds),
    )?;
    rows.iter()
        .find(|row| cell(row, 1) == Some(expected.as_str()) && cell(row, 2) == Some("completed"))
        .and_then(|row| json_cell(row, 3))
        .filter(|result| !result.is_null())
        .ok_or_else(|| TaskError::MissingPredecessor {
            task_id: task.id(),
            kind: task.kind.clone(),
            expected: expected.as_str(),
        })
}

/// The merged configuration of a table, from TABLE_METADATA.
pub fn table_configuration(
    context: &Context,
    session: &mut Session,
    table_id: i64,
) -> Result<TableConfig, TaskError> {
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
    serde_json::from_value(json).map_err(|error| unreadable(error.to_string()))
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
