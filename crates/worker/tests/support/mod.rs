//! Shared by the worker's integration tests: an emulator database with the metadata deployed,
//! tasks pushed by hand, and the worker daemon run in-process until a condition holds.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use config_schema::worker::{parse_worker_config, WorkerConfig};
use config_schema::SourcePlatform;
use migration_core::metadata::{self, DeployOptions, MetadataNames, NewWorkflow, WorkflowType};
use migration_core::queue::{ExecutorType, NewTask, Queue, TaskBatch, Transport};
use migration_core::snowflake::{ConnectParams, Session, SqlValue};
use test_support::{poll_until, Emulator, TestDatabase};
use tokio_util::sync::CancellationToken;
use worker::WorkerOptions;

/// One test's emulator database with the metadata deployed, and a session to it.
pub struct Env {
    pub database: TestDatabase,
    pub names: MetadataNames,
    pub params: ConnectParams,
    pub queue: Queue,
    pub session: Session,
    pub local_dir: tempfile::TempDir,
}

/// One row of TASK_QUEUE, as text.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub status: String,
    pub result: Option<serde_json::Value>,
    pub last_error: Option<String>,
    pub attempts: i64,
    pub failures: i64,
    pub lease_owner: Option<String>,
}

impl Env {
    pub fn new(prefix: &str) -> Env {
        let database = Emulator::start().database(prefix);
        let names = MetadataNames {
            database: database.name.clone(),
            ..MetadataNames::default()
        };
        let params = database.connect_params();
        let mut session = database.session();
        let options = DeployOptions {
            procedures: false,
            deployer: "worker-test".to_owned(),
            lock_poll: Duration::from_millis(100),
            lock_wait: Duration::from_secs(120),
            ..DeployOptions::default()
        };
        metadata::deploy(&mut session, &names, &options).expect("deploy the metadata");
        let queue = Queue::new(&names, Transport::Direct).expect("queue statements");
        Env {
            database,
            names,
            params,
            queue,
            session,
            local_dir: tempfile::tempdir().expect("local folder"),
        }
    }

    /// `@DB.DATA_MIGRATION.TASK_RESULTS`.
    pub fn stage(&self) -> String {
        format!("@{}.DATA_MIGRATION.TASK_RESULTS", self.database.name)
    }

    pub fn workflow(&mut self, platform: SourcePlatform) -> i64 {
        let workflow = NewWorkflow {
            name: test_support::unique_name("wf"),
            workflow_type: WorkflowType::DataMigration,
            source_platform: platform,
            affinity: None,
            configuration: serde_json::json!({"tables": []}),
            connection_name: None,
        };
        metadata::create_workflow(&mut self.session, &self.names, &workflow)
            .expect("create workflow")
    }

    /// Pushes worker tasks of one kind; returns their ids in order.
    pub fn push(
        &mut self,
        workflow_id: i64,
        kind: &str,
        payloads: &[serde_json::Value],
    ) -> Vec<i64> {
        self.push_with_lease(workflow_id, kind, payloads, Duration::from_secs(30))
    }

    /// Pushes worker tasks of one kind; returns their ids in order.
    pub fn push_with_lease(
        &mut self,
        workflow_id: i64,
        kind: &str,
        payloads: &[serde_json::Value],
        lease: Duration,
    ) -> Vec<i64> {
        let mut batch = TaskBatch::new();
        for payload in payloads {
            let mut task = NewTask::new(ExecutorType::Worker, kind, payload.clone());
            task.lease = lease;
            batch.add(task);
        }
        self.queue
            .push(&mut self.session, workflow_id, &batch)
            .expect("push tasks")
            .into_iter()
            .map(|pushed| pushed.id)
            .collect()
    }

    pub fn task(&mut self, id: i64) -> TaskRow {
        let sql = format!(
            "SELECT STATUS, RESULT, LAST_ERROR, ATTEMPTS, FAILURES, LEASE_OWNER FROM {}.DATA_MIGRATION.TASK_QUEUE WHERE ID = ?",
            self.database.name
        );
        let rows = self
            .session
            .query_rows(&sql, &[SqlValue::Int(id)])
            .expect("read the task");
        let row = rows.first().unwrap_or_else(|| panic!("task {id} exists"));
        let int = |i: usize| -> i64 {
            row[i]
                .as_deref()
                .and_then(|v| v.split('.').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("column {i} of task {id} is an integer: {row:?}"))
        };
        TaskRow {
            status: row[0].clone().expect("status"),
            result: row[1]
                .as_deref()
                .map(|text| serde_json::from_str(text).expect("RESULT is JSON")),
            last_error: row[2].clone(),
            attempts: int(3),
            failures: int(4),
            lease_owner: row[5].clone(),
        }
    }

    pub fn statuses(&mut self, ids: &[i64]) -> Vec<String> {
        ids.iter().map(|id| self.task(*id).status).collect()
    }

    /// A worker configuration for this database with the given source section.
    pub fn worker_config(&self, slots: u32, source_toml: &str) -> WorkerConfig {
        let toml = format!(
            "selected_task_source = \"snowflake_direct_sql\"\n\
             [application]\n\
             max_parallel_tasks = {slots}\n\
             task_fetch_interval = 1\n\
             snowflake_database_for_metadata = \"{}\"\n\
             {source_toml}",
            self.database.name
        );
        parse_worker_config(&toml).unwrap_or_else(|error| panic!("{error}\n{toml}"))
    }

    pub fn options(&self) -> WorkerOptions {
        WorkerOptions {
            grace_period: Duration::from_secs(30),
            cancel_wait: Duration::from_secs(5),
            local_dir: self.local_dir.path().to_path_buf(),
            consumer_id: test_support::unique_name("worker"),
            ..WorkerOptions::default()
        }
    }
}

/// A worker daemon running in-process on its own runtime.
pub struct RunningWorker {
    runtime: Option<tokio::runtime::Runtime>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub shutdown: CancellationToken,
}

impl RunningWorker {
    pub fn start(config: WorkerConfig, params: ConnectParams, options: WorkerOptions) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let shutdown = CancellationToken::new();
        let handle = runtime.spawn(worker::run_connected(
            config,
            params,
            options,
            shutdown.clone(),
        ));
        RunningWorker {
            runtime: Some(runtime),
            handle: Some(handle),
            shutdown,
        }
    }

    /// Cancels and waits for the daemon to return; how long that took.
    pub fn stop(&mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let runtime = self.runtime.as_ref().expect("running");
        let handle = self.handle.take().expect("running");
        runtime
            .block_on(handle)
            .expect("the worker does not panic")
            .expect("the worker stops cleanly");
        let took = started.elapsed();
        // Blocking calls of abandoned tasks are not waited for.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(500));
        }
        took
    }

    /// The daemon returned an error before being stopped (e.g. it could not connect).
    pub fn check_alive(&mut self) {
        if let Some(handle) = &self.handle {
            if handle.is_finished() {
                let handle = self.handle.take().expect("present");
                let result = self.runtime.as_ref().expect("runtime").block_on(handle);
                panic!("the worker stopped on its own: {result:?}");
            }
        }
    }
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(500));
        }
    }
}

/// Polls `done` every 300 ms until it holds or `limit` passes (then panics with `what`).
pub fn wait_until(
    worker: &mut RunningWorker,
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) {
    poll_until(what, limit, Duration::from_millis(300), || {
        if done() {
            return Some(());
        }
        worker.check_alive();
        None
    });
}

/// The `[connections.source.postgresql]` section for the local server.
pub const POSTGRES_SOURCE: &str = "[connections.source.postgresql]\n\
     username = \"postgres\"\n\
     database = \"postgres\"\n\
     host = \"127.0.0.1\"\n";
