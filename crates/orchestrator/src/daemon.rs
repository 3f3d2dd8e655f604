//! The daemon loop.
//!
//! Each round, on the loop's own session: re-queue expired leases, claim and start pending
//! workflows, complete finished workflows, renew the leases of running tasks, and pull as many
//! orchestrator tasks (plan, load) as there are free slots. Each pulled task runs on a blocking
//! thread with a session of its own; a semaphore bounds how many run at once.
//!
//! Stopping (the token is cancelled): no more claiming or pulling; running tasks finish and
//! report (a COPY is not interrupted), then `run` returns. Being killed at any moment is safe
//! as well: leases expire and every step is idempotent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use migration_core::metadata::{self, DeployOptions};
use migration_core::queue::{ClaimedTask, FailOutcome, Lease, TaskFailure, Transport};
use migration_core::snowflake::{Session, SqlValue};
use migration_core::workflow::TaskKind;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, info_span, warn};

use crate::context::{execute, Context};
use crate::settings::DaemonConfig;
use crate::sql::{now_value, Binds};
use crate::task_error::TaskError;
use crate::{claim, completion, load_task, plan_task};

/// Leases of running tasks, renewed by the loop.
type Running = Arc<Mutex<HashMap<i64, RunningTask>>>;

#[derive(Debug, Clone)]
struct RunningTask {
    lease: Lease,
    lease_duration: Duration,
    renewed_at: Instant,
}

/// Runs the daemon until `shutdown` is cancelled.
pub async fn run(config: DaemonConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let context = Context::new(config).context("cannot prepare the queue statements")?;
    let params = context.config.connection.clone();
    let session = tokio::task::spawn_blocking(move || crate::connect::connect(&params))
        .await
        .context("the login thread stopped")??;
    let deploy_options = DeployOptions {
        procedures: context.config.transport == Transport::Procedure,
        deployer: context.config.consumer_id.clone(),
        ..DeployOptions::default()
    };
    let names = context.config.names.clone();
    let (mut session, deployed) = session
        .run_blocking(move |session| metadata::deploy(session, &names, &deploy_options))
        .await;
    let report = deployed.context("cannot deploy the metadata objects")?;
    info!(
        applied = ?report.applied,
        procedures = report.procedures_deployed,
        consumer = %context.config.consumer_id,
        "orchestrator started"
    );

    let slots = Arc::new(Semaphore::new(context.config.max_parallel_tasks.max(1)));
    let running: Running = Arc::default();
    let mut tasks = JoinSet::new();
    while !shutdown.is_cancelled() {
        let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
        let round_context = Arc::clone(&context);
        let round_running = Arc::clone(&running);
        let (returned, (pulled, troubled)) = session
            .run_blocking(move |session| round(&round_context, session, &round_running, free))
            .await;
        session = returned;
        if troubled {
            session = ensure_alive(session, &context).await;
        }
        for task in pulled {
            let permit = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the task semaphore is never closed");
            let task_context = Arc::clone(&context);
            let task_running = Arc::clone(&running);
            tasks.spawn_blocking(move || {
                run_task(&task_context, &task_running, task);
                drop(permit);
            });
        }
        while let Some(joined) = tasks.try_join_next() {
            if let Err(panic) = joined {
                error!(error = %panic, "a task thread panicked; its lease will expire and the task is retried");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(context.config.poll_interval) => {}
        }
    }
    info!(
        running = tasks.len(),
        "stopping: waiting for running tasks to finish"
    );
    while let Some(joined) = tasks.join_next().await {
        if let Err(panic) = joined {
            error!(error = %panic, "a task thread panicked");
        }
    }
    info!("orchestrator stopped");
    Ok(())
}

/// Replaces the loop's session when it no longer answers (a restarted service, a dropped
/// connection the driver does not recover from); keeps it when a new login fails too.
async fn ensure_alive(session: Session, context: &Arc<Context>) -> Session {
    let params = context.config.connection.clone();
    let (session, replacement) = session
        .run_blocking(move |session| {
            if is_alive(session) {
                return None;
            }
            match Session::connect(&params) {
                Ok(fresh) => Some(fresh),
                Err(error) => {
                    warn!(%error, "the orchestrator's session does not answer and a new login failed; trying again next round");
                    None
                }
            }
        })
        .await;
    match replacement {
        Some(fresh) => {
            warn!("the orchestrator's session did not answer; logged in again");
            fresh
        }
        None => session,
    }
}

fn is_alive(session: &mut Session) -> bool {
    session.query_rows("SELECT 1", &[]).is_ok()
}

/// One round of housekeeping on the loop's session; returns the pulled tasks and whether
/// anything failed. Failures are logged and retried next round: the loop must survive a flaky
/// network.
fn round(
    context: &Context,
    session: &mut Session,
    running: &Running,
    free: u32,
) -> (Vec<ClaimedTask>, bool) {
    let mut troubled = false;
    match context.queue.expire(session) {
        Ok(expired) => {
            for task in expired {
                warn!(task_id = task.task_id, status = %task.status, abandonments = task.abandonments, "lease expired");
            }
        }
        Err(error) => {
            troubled = true;
            warn!(error = %error, "cannot expire leases");
        }
    }
    match claim::claim_workflows(context, session) {
        Ok(started) => {
            for workflow in started {
                match workflow.error {
                    None => info!(
                        workflow_id = workflow.workflow_id,
                        tables = workflow.tables,
                        "workflow started"
                    ),
                    Some(error) => {
                        error!(workflow_id = workflow.workflow_id, %error, "workflow cannot start")
                    }
                }
            }
        }
        Err(error) => {
            troubled = true;
            warn!(error = %error, "cannot claim pending workflows");
        }
    }
    match completion::complete_workflows(context, session) {
        Ok(completed) => {
            for workflow_id in completed {
                info!(workflow_id, "workflow completed");
            }
        }
        Err(error) => {
            troubled = true;
            warn!(error = %error, "cannot complete finished workflows");
        }
    }
    renew_leases(context, session, running);
    if free == 0 {
        return (Vec::new(), troubled);
    }
    match context.queue.pull(session, &context.consumer(), free) {
        Ok(tasks) => (tasks, troubled),
        Err(error) => {
            warn!(error = %error, "cannot pull tasks");
            (Vec::new(), true)
        }
    }
}

/// Heartbeats every running task whose lease is a third used up.
fn renew_leases(context: &Context, session: &mut Session, running: &Running) {
    let due: Vec<RunningTask> = running
        .lock()
        .expect("the running-task map is never poisoned")
        .values()
        .filter(|task| task.renewed_at.elapsed() >= task.lease_duration / 3)
        .cloned()
        .collect();
    for task in due {
        match context.queue.heartbeat(session, &task.lease) {
            Ok(()) => {
                if let Some(entry) = running
                    .lock()
                    .expect("the running-task map is never poisoned")
                    .get_mut(&task.lease.task_id)
                {
                    entry.renewed_at = Instant::now();
                }
            }
            Err(error) => {
                warn!(task_id = task.lease.task_id, %error, "cannot renew a task's lease")
            }
        }
    }
}

/// Runs one pulled task to its end and reports a failure to the queue.
fn run_task(context: &Context, running: &Running, task: ClaimedTask) {
    let span = info_span!("task", task_id = task.id(), kind = %task.kind, workflow_id = task.workflow_id, table_id = ?task.table_id, partition_id = ?task.partition_id);
    let _entered = span.enter();
    running
        .lock()
        .expect("the running-task map is never poisoned")
        .insert(
            task.id(),
            RunningTask {
                lease: task.lease.clone(),
                lease_duration: task.lease_duration,
                renewed_at: Instant::now(),
            },
        );
    let mut session = match context.take_session() {
        Ok(session) => session,
        Err(error) => {
            warn!(%error, "cannot open a session for the task; it is retried after its lease expires");
            running.lock().expect("never poisoned").remove(&task.id());
            return;
        }
    };
    let outcome = execute_task(context, &mut session, &task);
    if let Err(error) = &outcome {
        report_failure(context, &mut session, &task, error);
    }
    running.lock().expect("never poisoned").remove(&task.id());
    // A session that stopped answering is dropped; the next task logs in afresh.
    if outcome.is_ok() || is_alive(&mut session) {
        context.return_session(session);
    }
}

/// Runs the handler of the task's kind.
pub fn execute_task(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
) -> Result<(), TaskError> {
    match task.kind.parse::<TaskKind>() {
        Ok(TaskKind::Plan) => {
            let outcome = plan_task::run(context, session, task)?;
            info!(
                partitions = outcome.partitions,
                table_created = outcome.table_created,
                already_planned = outcome.already_planned,
                "table planned"
            );
            Ok(())
        }
        Ok(TaskKind::Load) => {
            let outcome = load_task::run(context, session, task)?;
            info!(
                rows = outcome.rows_loaded,
                files = outcome.files_loaded,
                "partition loaded"
            );
            Ok(())
        }
        _ => Err(TaskError::UnknownKind {
            task_id: task.id(),
            kind: task.kind.clone(),
        }),
    }
}

/// Fails the task in the queue (retried when retryable); a load that failed for good marks
/// its partition failed with the reason.
pub fn report_failure(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    error: &TaskError,
) {
    if error.lost_lease() {
        warn!(%error, "the task's lease was lost; another orchestrator runs it now");
        return;
    }
    let failure = TaskFailure {
        message: error.to_string(),
        retryable: error.is_retryable(),
    };
    match context.queue.fail(session, &task.lease, &failure) {
        Ok(FailOutcome::Retrying { failures, delay }) => {
            warn!(%error, failures, delay_seconds = delay.as_secs(), "task failed; retrying later");
        }
        Ok(FailOutcome::Failed { failures }) => {
            warn!(%error, failures, "task failed for good");
            if let Some(partition_id) = task.partition_id {
                if let Err(error) =
                    mark_partition_failed(context, session, partition_id, &failure.message)
                {
                    warn!(%error, "cannot mark the partition failed; the workflow's completion does");
                }
            }
        }
        Err(report_error) => {
            warn!(%error, %report_error, "cannot report the task's failure; it is retried after its lease expires");
        }
    }
}

fn mark_partition_failed(
    context: &Context,
    session: &mut Session,
    partition_id: i64,
    message: &str,
) -> Result<(), TaskError> {
    let statement = &context.statements.partition_failed;
    let binds = Binds::from([
        ("partition_id", SqlValue::Int(partition_id)),
        ("error_message", SqlValue::Text(message.to_owned())),
        ("now", now_value()),
    ]);
    execute(
        session,
        "mark the partition failed",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(())
}
