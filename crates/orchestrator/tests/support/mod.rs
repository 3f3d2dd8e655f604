//! Shared by the orchestrator's emulator tests: a per-test emulator database, sessions to it,
//! a connections.toml naming it, a fast daemon configuration, and a fake worker.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use migration_core::metadata::MetadataNames;
use migration_core::queue::{ClaimedTask, Consumer, ExecutorType, Queue, Transport};
use migration_core::snowflake::{Auth, ConnectParams, Protocol, Session};
use orchestrator::DaemonConfig;
use test_support::{Emulator, TestDatabase};

/// One test's emulator database; the metadata lives in it too.
pub struct Env {
    pub database: TestDatabase,
    pub names: MetadataNames,
}

impl Env {
    pub fn fresh(prefix: &str) -> Env {
        let database = Emulator::start().database(prefix);
        let names = MetadataNames {
            database: database.name.clone(),
            ..MetadataNames::default()
        };
        Env { database, names }
    }

    pub fn params(&self) -> ConnectParams {
        let database = &self.database;
        let mut params = ConnectParams::new(
            &database.account,
            &database.user,
            Auth::Password(database.password.clone()),
        );
        params.host = Some(database.host.clone());
        params.port = Some(database.port);
        params.protocol = Protocol::Http;
        params.database = Some(database.name.clone());
        params.schema = Some(database.schema.clone());
        params.warehouse = Some("SFEMU_WH".to_owned());
        params.driver_path = Some(database.driver_path.clone());
        params.login_timeout = Duration::from_secs(30);
        params
    }

    pub fn session(&self) -> Session {
        Session::connect(&self.params()).unwrap_or_else(|error| {
            panic!(
                "cannot connect to the Snowflake emulator ({error}); see its log at {}",
                Emulator::start().log_path().display()
            )
        })
    }

    /// A daemon configuration that polls every 100 ms over the direct transport.
    pub fn daemon_config(&self) -> DaemonConfig {
        let mut config = DaemonConfig::new(self.params(), self.names.clone());
        config.transport = Transport::Direct;
        config.poll_interval = Duration::from_millis(100);
        config.max_parallel_tasks = 2;
        config.task_lease = Duration::from_secs(60);
        config.retry.backoff_base = Duration::from_secs(0);
        config.retry.max_retries = 0;
        config
    }

    pub fn queue(&self) -> Queue {
        Queue::new(&self.names, Transport::Direct).expect("queue statements")
    }

    /// `DB.DATA_MIGRATION.<object>`.
    pub fn object(&self, name: &str) -> String {
        format!("{}.DATA_MIGRATION.{name}", self.database.name)
    }

    /// Writes a connections.toml whose connection `emulator` points at this database.
    pub fn write_connections(&self, folder: &Path) {
        let database = &self.database;
        let text = format!(
            "[emulator]\naccount = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\nhost = \"{}\"\nport = {}\nprotocol = \"http\"\nwarehouse = \"SFEMU_WH\"\ndatabase = \"{}\"\nschema = \"PUBLIC\"\n",
            database.account, database.user, database.password, database.host, database.port, database.name
        );
        std::fs::write(folder.join("connections.toml"), text).expect("write connections.toml");
    }
}

/// Runs a query; every value as text.
pub fn rows(session: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
    session
        .query_rows(sql, &[])
        .unwrap_or_else(|error| panic!("query `{sql}` failed: {error}"))
}

/// The single value of a one-row, one-column query.
pub fn scalar(session: &mut Session, sql: &str) -> Option<String> {
    rows(session, sql)
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
}

pub fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fake worker: pulls worker tasks of one kind through the queue.
pub struct FakeWorker {
    pub queue: Queue,
    pub consumer: Consumer,
}

impl FakeWorker {
    pub fn new(env: &Env) -> FakeWorker {
        FakeWorker {
            queue: env.queue(),
            consumer: Consumer {
                id: format!("fake-worker-{}", uuid::Uuid::new_v4()),
                executor_type: ExecutorType::Worker,
                affinity: None,
            },
        }
    }

    /// Waits for a task of `kind` and claims it (tasks of other kinds are released).
    pub fn claim(&self, session: &mut Session, kind: &str) -> ClaimedTask {
        wait_for(
            &format!("a pending {kind} task"),
            Duration::from_secs(60),
            || {
                let tasks = self
                    .queue
                    .pull(session, &self.consumer, 1)
                    .expect("pull worker tasks");
                let task = tasks.into_iter().next()?;
                if task.kind == kind {
                    Some(task)
                } else {
                    self.queue
                        .release(session, std::slice::from_ref(&task.lease))
                        .expect("release");
                    None
                }
            },
        )
    }
}

/// Writes `ids`/`names` as a Parquet file with the plan's Arrow schema (an Int64 and a Utf8
/// column, in that order).
pub fn write_parquet(
    path: &Path,
    schema: arrow::datatypes::SchemaRef,
    ids: &[i64],
    names: &[&str],
) -> u64 {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            match field.data_type() {
                DataType::Int64 => Arc::new(Int64Array::from(ids.to_vec())),
                DataType::Utf8 => Arc::new(StringArray::from(names.to_vec())),
                other => panic!("the test plan has no {other} column"),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("parquet writer");
    writer.write(&batch).expect("write batch");
    writer.close().expect("close parquet");
    std::fs::metadata(path).expect("parquet file").len()
}
