//! Command-line interface of `worker`: the argument structs (their doc comments are the
//! `--help` text), the offline `validate` command, and running the daemon: tracing and signal
//! handling (`migration_core::daemon`, shared with the orchestrator) and the runtime around
//! `worker::run`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config_schema::worker::{parse_worker_config, SourceConnection, WorkerConfig};
use migration_core::daemon::{cancel_on_stop_signals, init_tracing, print_stdout};
use tokio_util::sync::CancellationToken;

/// Executes tasks of data-migration and data-validation workflows: pulls them from the task
/// queue in Snowflake, extracts partitions from the source database into Parquet files, uploads
/// them to a stage, and reports the result.
///
/// Without a subcommand the worker runs until stopped; stop it at any time, unfinished tasks go
/// back to the queue. Run several workers (on any machines) for more throughput.
#[derive(Debug, Parser)]
#[command(name = "worker", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration file offline, without connecting to anything.
    ///
    /// Prints every problem with its TOML key and exits with status 1, or prints the settings
    /// with defaults applied (secrets are never printed).
    Validate,
}

/// Where the configuration is.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Worker configuration file (TOML). Default: configuration.toml in the current directory.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "configuration.toml",
        global = true
    )]
    pub config: PathBuf,
}

/// Runs the command line. Errors are returned for `main` to print once.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = load_config(&cli.config.config)?;
    match cli.command {
        Some(Command::Validate) => print_summary(&cli.config.config, &config),
        None => run_worker(config),
    }
}

/// How long the runtime waits for blocking calls (a source query, a PUT) after the daemon
/// returned; their tasks were already handed back, and their late reports are fenced.
const BLOCKING_EXIT_WAIT: Duration = Duration::from_secs(2);

fn run_worker(config: WorkerConfig) -> anyhow::Result<()> {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("worker")
        .build()
        .context("cannot start the async runtime")?;
    let shutdown = CancellationToken::new();
    let result = runtime.block_on(async {
        tokio::spawn(cancel_on_stop_signals(shutdown.clone()));
        worker::run(config, shutdown).await
    });
    runtime.shutdown_timeout(BLOCKING_EXIT_WAIT);
    result
}

fn load_config(path: &Path) -> anyhow::Result<WorkerConfig> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the worker configuration `{}` (pass another with -c FILE)",
            path.display()
        )
    })?;
    parse_worker_config(&text).with_context(|| format!("`{}`", path.display()))
}

/// A human summary of a checked configuration. Secrets appear only as where they come from.
pub fn summary(path: &Path, config: &WorkerConfig) -> String {
    let app = &config.application;
    let source = match &config.source {
        SourceConnection::Sqlserver(c) => {
            format!(
                "sqlserver {}@{}:{}/{} (driver {})",
                c.username, c.host, c.port, c.database, c.driver_name
            )
        }
        SourceConnection::Redshift(c) => format!(
            "redshift {}@{} port {} (driver {}, {})",
            c.username,
            c.database,
            c.port,
            c.driver_name,
            match &c.auth {
                config_schema::worker::RedshiftAuth::Standard { host, .. } =>
                    format!("standard auth, host {host}"),
                config_schema::worker::RedshiftAuth::IamProvisionedCluster {
                    cluster_id,
                    region,
                    ..
                } => {
                    format!("IAM auth, cluster {cluster_id} in {region}")
                }
            }
        ),
        SourceConnection::Postgresql(c) => format!(
            "postgresql {}@{}:{}/{} ({:?} extraction)",
            c.username, c.host, c.port, c.database, c.extraction_path
        ),
        SourceConnection::Teradata(c) => {
            format!(
                "teradata {}@{}:{}/{} (driver {})",
                c.username, c.host, c.port, c.database, c.driver_name
            )
        }
        SourceConnection::Sqlite(c) => {
            format!("sqlite {} (driver {})", c.database.display(), c.driver_name)
        }
    };
    format!(
        "{path} is a valid worker configuration\n\
         task source: {task_source:?}\n\
         max parallel tasks: {max}\n\
         task fetch interval: {interval} s\n\
         metadata: {db}.{dm} (validation results in {db}.{dv})\n\
         affinity: {affinity}\n\
         source: {source}\n\
         target connection: {target}",
        path = path.display(),
        task_source = config.task_source,
        max = app.max_parallel_tasks,
        interval = app.task_fetch_interval_secs,
        db = app.snowflake_database_for_metadata,
        dm = app.snowflake_schema_for_data_migration_metadata,
        dv = app.snowflake_schema_for_data_validation_metadata,
        affinity = app.affinity.as_deref().unwrap_or("none (takes every task)"),
        target = config
            .target_connection_name
            .as_deref()
            .unwrap_or("SNOWFLAKE_CONNECTION_NAME, else default_connection_name, else \"default\""),
    )
}

fn print_summary(path: &Path, config: &WorkerConfig) -> anyhow::Result<()> {
    Ok(print_stdout(&summary(path, config))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_flag_works_before_and_after_the_subcommand() {
        let before = Cli::try_parse_from(["worker", "-c", "a.toml", "validate"]).expect("parses");
        let after =
            Cli::try_parse_from(["worker", "validate", "--config", "a.toml"]).expect("parses");
        assert_eq!(before.config.config, PathBuf::from("a.toml"));
        assert_eq!(after.config.config, PathBuf::from("a.toml"));
        let default = Cli::try_parse_from(["worker"]).expect("parses");
        assert_eq!(default.config.config, PathBuf::from("configuration.toml"));
    }
}
