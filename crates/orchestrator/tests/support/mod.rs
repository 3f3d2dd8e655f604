//! Shared by the orchestrator's emulator tests: a per-test emulator database, sessions to it,
//! a connections.toml naming it, a fast daemon configuration, and a fake worker.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use migration_core::metadata::MetadataNames;
use migration_core::queue::{ClaimedTask, Consumer, ExecutorType, Queue, Transport};
use migration_core::snowflake::{ConnectParams, Session};
use orchestrator::DaemonConfig;
pub use test_support::wait_for;
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
        self.database.connect_params()
    }

    pub fn session(&self) -> Session {
        self.database.session()
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
        std::fs::write(
            folder.join("connections.toml"),
            self.database.connections_toml("emulator"),
        )
        .expect("write connections.toml");
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
