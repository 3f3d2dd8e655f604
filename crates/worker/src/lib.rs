//! `worker` library: [`run`] so tests can run the whole daemon in-process.
//!
//! The worker pulls tasks of kind `analyze` and `extract` from the task queue in Snowflake
//! (see `migration_core::workflow` for the contract with the orchestrator), runs them against
//! the one source database of its configuration, and reports each result back to the queue.
//! There is no other channel between orchestrator and workers: start and stop workers freely.

pub mod daemon;
pub mod handlers;
pub mod source_spec;
pub mod stage_upload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use config_schema::worker::{TaskSourceKind, WorkerConfig};
use migration_core::daemon::{connect_params, SessionPool};
use migration_core::metadata::session_registry::{self, DaemonProcess};
use migration_core::metadata::MetadataNames;
use migration_core::queue::task::default_lease;
use migration_core::queue::{Consumer, ExecutorType, Queue, Transport};
use migration_core::snowflake::{
    default_loading_statement_timeout, ConnectParams, Session, SessionTimeouts,
};
use migration_core::source::parquet_sink::ParquetOptions;
use tokio_util::sync::CancellationToken;

use crate::daemon::{run_loop, Control, LoopSettings, Registry};
use crate::handlers::TaskContext;

/// Settings that are not in the TOML (defaults suit production; tests shorten them).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// After shutdown: how long running tasks may take to finish before they are handed back.
    pub grace_period: Duration,
    /// After the grace period: how long cancelled tasks get to hand themselves back.
    pub cancel_wait: Duration,
    /// Local folder for Parquet files in flight (a private subfolder per partition).
    pub local_dir: PathBuf,
    /// Parquet settings of the staged files.
    pub parquet: ParquetOptions,
    /// The queue consumer id; unique per process by default.
    pub consumer_id: String,
}

/// Default [`WorkerOptions::grace_period`].
pub fn default_grace_period() -> Duration {
    Duration::from_secs(30)
}

/// Default [`WorkerOptions::cancel_wait`].
pub fn default_cancel_wait() -> Duration {
    Duration::from_secs(10)
}

/// `worker-<host>-<8 hex digits>`: readable in TASK_QUEUE.LEASE_OWNER, unique per process.
pub fn default_consumer_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("worker-{host}-{}", &suffix[..8])
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            grace_period: default_grace_period(),
            cancel_wait: default_cancel_wait(),
            local_dir: std::env::temp_dir().join("snowflake-migration-worker"),
            parquet: ParquetOptions::default(),
            consumer_id: default_consumer_id(),
        }
    }
}

/// Runs the worker until `shutdown` fires: finds the Snowflake connection profile named by the
/// TOML (or SNOWFLAKE_CONNECTION_NAME / default_connection_name / `default`), connects and
/// serves tasks.
pub async fn run(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let name = config.target_connection_name.clone();
    let params = tokio::task::spawn_blocking(move || connect_params(name.as_deref()))
        .await
        .context("loading the connection profile was interrupted")??;
    run_connected(config, params, WorkerOptions::default(), shutdown).await
}

/// Like [`run`], with explicit Snowflake parameters and options (tests, embedding).
pub async fn run_connected(
    config: WorkerConfig,
    snowflake: ConnectParams,
    options: WorkerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = &config.application;
    let names = MetadataNames {
        database: app.snowflake_database_for_metadata.clone(),
        data_migration_schema: app.snowflake_schema_for_data_migration_metadata.clone(),
        data_validation_schema: app.snowflake_schema_for_data_validation_metadata.clone(),
    };
    let transport = match config.task_source {
        TaskSourceKind::SnowflakeStoredProcedure => Transport::Procedure,
        TaskSourceKind::SnowflakeDirectSql => Transport::Direct,
    };
    let queue =
        Queue::new(&names, transport).context("cannot prepare the task queue statements")?;
    let source = source_spec::source_spec(&config.source)?
        .with_max_value_bytes(usize::try_from(app.max_value_bytes).unwrap_or(usize::MAX));

    // Two control sessions (the loop's and the heartbeats'), each with timeouts for the
    // default lease until a claimed task's lease says otherwise.
    let mut control_params = snowflake.clone();
    control_params.timeouts = SessionTimeouts::for_control(default_lease());
    // Both may hold locks (the direct transport's transactions); the sessions of daemons
    // killed on this host may hold the queue's locks: they are ended first. The control
    // sessions register themselves before their first operation (see `Control`).
    let registry_names = names.clone();
    let process = DaemonProcess::this(&options.consumer_id);
    let (session, heartbeat_session) = tokio::task::spawn_blocking(move || {
        let mut session = Session::connect(&control_params)?;
        let heartbeat_session = Session::connect(&control_params)?;
        session_registry::end_dead_sessions_or_warn(&mut session, &registry_names, &process);
        Ok::<_, migration_core::snowflake::SnowflakeError>((session, heartbeat_session))
    })
    .await
    .context("connecting to Snowflake was interrupted")?
    .with_context(|| format!("cannot connect to Snowflake at {}", snowflake.endpoint()))?;
    // Upload sessions PUT files for long, so their statements get the loading timeout.
    let mut upload_params = snowflake.clone();
    upload_params.timeouts =
        SessionTimeouts::for_loading(default_lease(), default_loading_statement_timeout());
    tracing::info!(
        endpoint = %snowflake.endpoint(),
        metadata = %names.data_migration_qualified(),
        transport = ?transport,
        source = %config.source.platform(),
        "connected to Snowflake"
    );

    let context = Arc::new(TaskContext {
        platform: config.source.platform(),
        source,
        upload_sessions: Arc::new(SessionPool::new(upload_params)),
        names,
        local_dir: options.local_dir.clone(),
        parquet: options.parquet.clone(),
    });
    let settings = LoopSettings {
        consumer: Consumer {
            id: options.consumer_id.clone(),
            executor_type: ExecutorType::Worker,
            affinity: app.affinity.clone(),
        },
        max_parallel_tasks: app.max_parallel_tasks,
        fetch_interval: Duration::from_secs(app.task_fetch_interval_secs),
        grace_period: options.grace_period,
        cancel_wait: options.cancel_wait,
    };
    let registry = Registry {
        names: context.names.clone(),
        process: DaemonProcess::this(&options.consumer_id),
    };
    let control = Control::new(session, heartbeat_session, queue, registry);
    run_loop(settings, context, control, shutdown).await;
    Ok(())
}
