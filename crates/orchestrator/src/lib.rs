//! `orchestrator` library: the daemon (`run(config, shutdown)`, so tests can run it in-process)
//! and the Snowflake-side commands.
//!
//! Per table of a data-migration workflow the daemon drives the task graph of
//! [`migration_core::workflow`]: it pushes `analyze (worker) -> plan (orchestrator)` when it
//! claims the workflow, runs `plan` ([`plan_task`]: target table, partitions, one
//! `extract -> load` pair per partition) and `load` ([`load_task`]: COPY INTO, verified,
//! exactly once), and completes the workflow when every task is terminal ([`completion`]).

pub mod claim;
pub mod commands;
pub mod completion;
pub mod connect;
pub mod context;
pub mod daemon;
pub mod load_task;
pub mod plan_task;
pub mod settings;
pub mod sql;
pub mod status;
pub mod target_table;
pub mod task_error;
pub mod verify;

pub use daemon::run;
pub use settings::DaemonConfig;
