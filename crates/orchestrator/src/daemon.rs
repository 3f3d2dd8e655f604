//! The daemon loop.
//!
//! Each round, on the loop's own session: report the failures that task threads could not
//! report themselves, re-queue expired leases, claim and start pending workflows, complete
//! finished workflows, and pull as many orchestrator tasks (plan, load) as there are free
//! slots. Each pulled task runs on a blocking thread with a session of its own; a semaphore
//! bounds how many run at once.
//!
//! The leases of running tasks are renewed by a lease keeper with its own session and its own
//! timer ([`keep_leases`]), never by the loop: a slow round (a big claim, a lock wait) or a
//! long COPY cannot starve a renewal, and the loop's own `expire` never re-queues a task this
//! process is still running.
//!
//! Stopping (the token is cancelled): no more claiming or pulling (a round in progress is
//! abandoned: it may hang on an unreachable Snowflake); running tasks get
//! [`DaemonConfig::shutdown_grace`] to finish and report while the keeper still renews their
//! leases; then `run` returns, leaving tasks still running (their threads are not waited for)
//! to lease expiry. Being killed at any moment is safe as well: leases expire and every step
//! is idempotent.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use migration_core::metadata::{self, session_registry, DeployOptions};
use migration_core::queue::{ClaimedTask, FailOutcome, Lease, QueueError, TaskFailure, Transport};
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

/// Leases of running tasks, renewed by the lease keeper.
type Running = Arc<Mutex<HashMap<i64, RunningTask>>>;

/// Failures a task thread could not report (no session, or the report failed), for the loop
/// to report on its own session. The task stays in [`Running`] until then, so its lease is
/// kept: an outage of the task's sessions never turns into an abandonment.
type Unreported = Arc<Mutex<Vec<(ClaimedTask, TaskFailure)>>>;

#[derive(Debug, Clone)]
struct RunningTask {
    lease: Lease,
    lease_duration: Duration,
    renewed_at: Instant,
    /// The lease was found taken back: the keeper stops renewing it.
    lost: bool,
}

/// What the task threads share with the loop.
#[derive(Clone)]
struct Shared {
    context: Arc<Context>,
    running: Running,
    unreported: Unreported,
}

/// Runs the daemon until `shutdown` is cancelled.
pub async fn run(config: DaemonConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    config
        .check()
        .map_err(anyhow::Error::msg)
        .context("the daemon settings cannot keep leases")?;
    let context = Context::new(config).context("cannot prepare the queue statements")?;
    // A stop during the start-up lets the deployment finish (it holds the migration lock)
    // unless that takes longer than the shutdown grace.
    let grace = context.config.shutdown_grace;
    let Some(session) = within_grace(&shutdown, grace, start(Arc::clone(&context))).await else {
        warn!("the start-up did not finish within the shutdown grace; exiting without it");
        info!("orchestrator stopped");
        return Ok(());
    };
    let mut session = session?;
    let shared = Shared {
        context: Arc::clone(&context),
        running: Arc::default(),
        unreported: Arc::default(),
    };
    let keeper_stop = CancellationToken::new();
    let keeper = tokio::spawn(keep_leases(
        Arc::clone(&context),
        Arc::clone(&shared.running),
        keeper_stop.clone(),
    ));

    let slots = Arc::new(Semaphore::new(context.config.max_parallel_tasks.max(1)));
    let mut tasks = JoinSet::new();
    while !shutdown.is_cancelled() {
        let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
        let round_shared = shared.clone();
        let round = session.run_blocking(move |session| round(&round_shared, session, free));
        // A round that hangs (Snowflake unreachable) must not hold up a stop: it is left
        // behind with the loop's session.
        let Some((returned, (pulled, troubled))) = until_stopped(&shutdown, round).await else {
            return stop(&context, tasks, keeper, keeper_stop, None).await;
        };
        session = returned;
        if troubled {
            match until_stopped(&shutdown, ensure_alive(session, &context)).await {
                Some(checked) => session = checked,
                None => return stop(&context, tasks, keeper, keeper_stop, None).await,
            }
        }
        for task in pulled {
            let permit = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the task semaphore is never closed");
            let task_shared = shared.clone();
            tasks.spawn_blocking(move || {
                run_task(&task_shared, task);
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
    stop(&context, tasks, keeper, keeper_stop, Some(session)).await
}

/// How long the daemon waits for its sessions to log out when it stops.
const LOGOUT_WAIT: Duration = Duration::from_secs(2);

/// The end of `run`: the bounded drain, then the keeper stops and the sessions log out, each
/// waited for only briefly (an unreachable Snowflake makes both hang).
async fn stop(
    context: &Arc<Context>,
    mut tasks: JoinSet<()>,
    keeper: tokio::task::JoinHandle<()>,
    keeper_stop: CancellationToken,
    session: Option<Session>,
) -> anyhow::Result<()> {
    drain(context, &mut tasks).await;
    keeper_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), keeper).await;
    // Logging out ends the sessions on the server (and whatever they still hold), but it is a
    // network call: made on a blocking thread that is not waited for long.
    let idle = context.idle_sessions();
    let logout = tokio::task::spawn_blocking(move || drop((session, idle)));
    if tokio::time::timeout(LOGOUT_WAIT, logout).await.is_err() {
        warn!("logging out did not finish in time; exiting without it");
    }
    info!("orchestrator stopped");
    Ok(())
}

/// Logs in and deploys the metadata objects; the loop's session.
async fn start(context: Arc<Context>) -> anyhow::Result<Session> {
    let params = context.config.control_connection();
    let session = tokio::task::spawn_blocking(move || crate::connect::connect(&params))
        .await
        .context("the login thread stopped")??;
    let deploy_options = DeployOptions {
        procedures: context.config.transport == Transport::Procedure,
        deployer: context.config.consumer_id.clone(),
        ..DeployOptions::default()
    };
    let names = context.config.names.clone();
    let (session, deployed) = session
        .run_blocking(move |session| metadata::deploy(session, &names, &deploy_options))
        .await;
    let report = deployed.context("cannot deploy the metadata objects")?;
    // Sessions of daemons killed on this host may still hold locks on the queue.
    let (names, process) = (context.config.names.clone(), context.process());
    let (session, ()) = session
        .run_blocking(move |session| {
            session_registry::end_dead_sessions_or_warn(session, &names, &process);
            session_registry::register_or_warn(session, &names, &process);
        })
        .await;
    info!(
        applied = ?report.applied,
        procedures = report.procedures_deployed,
        consumer = %context.config.consumer_id,
        "orchestrator started"
    );
    Ok(session)
}

/// `work`'s output, or `None` when `shutdown` fires first (`work` is then dropped; a blocking
/// call inside it runs on, unattended).
async fn until_stopped<T>(
    shutdown: &CancellationToken,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        () = shutdown.cancelled() => None,
        output = work => Some(output),
    }
}

/// `work`'s output if it ends before `shutdown` fires or within `grace` after; `None` else.
async fn within_grace<T>(
    shutdown: &CancellationToken,
    grace: Duration,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::pin!(work);
    tokio::select! {
        output = &mut work => return Some(output),
        () = shutdown.cancelled() => {}
    }
    tokio::time::timeout(grace, work).await.ok()
}

/// Waits up to the shutdown grace for running tasks; the lease keeper renews their leases
/// meanwhile. Tasks still running after it are left to lease expiry.
async fn drain(context: &Context, tasks: &mut JoinSet<()>) {
    let grace = context.config.shutdown_grace;
    info!(
        running = tasks.len(),
        grace_s = grace.as_secs_f64(),
        "stopping: waiting for running tasks to finish"
    );
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => return,
                Some(Err(panic)) => error!(error = %panic, "a task thread panicked"),
                Some(Ok(())) => {}
            },
            () = &mut deadline => {
                warn!(
                    running = tasks.len(),
                    "shutdown grace over: exiting without waiting for running tasks; their leases expire and they run again"
                );
                tasks.detach_all();
                return;
            }
        }
    }
}

/// How often the lease keeper looks for leases to renew: a tenth of the lease (so a failed
/// renewal is tried again within seconds, long before the lease runs out), between 100 ms and
/// 5 s.
pub fn keeper_tick(lease: Duration) -> Duration {
    (lease / 10).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// Renews, every [`keeper_tick`], each running task's lease that is a third used up, on a
/// session of its own, until `stop`. A renewal that fails for another reason than a lost lease
/// is tried again at the next tick; a session that stopped answering is replaced.
async fn keep_leases(context: Arc<Context>, running: Running, stop: CancellationToken) {
    let tick = keeper_tick(context.config.task_lease);
    let mut session: Option<Session> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                // Logging out is a network call: never on the runtime's threads.
                if let Some(session) = session.take() {
                    tokio::task::spawn_blocking(move || drop(session));
                }
                return;
            }
            () = tokio::time::sleep(tick) => {}
        }
        if due_leases(&running).is_empty() {
            continue;
        }
        let renew_context = Arc::clone(&context);
        let renew_running = Arc::clone(&running);
        let held = session.take();
        let renewal = tokio::task::spawn_blocking(move || {
            let mut session = match held {
                Some(session) => session,
                None => match renew_context.connect(&renew_context.config.control_connection()) {
                    Ok(session) => session,
                    Err(error) => {
                        warn!(%error, "the lease keeper cannot log in; trying again shortly");
                        return None;
                    }
                },
            };
            let healthy = renew_leases(&renew_context, &mut session, &renew_running);
            (healthy || is_alive(&mut session)).then_some(session)
        });
        match until_stopped(&stop, renewal).await {
            None => return,
            Some(Ok(kept)) => session = kept,
            Some(Err(panic)) => error!(error = %panic, "the lease keeper's renewal panicked"),
        }
    }
}

/// The running tasks whose lease is a third used up.
fn due_leases(running: &Running) -> Vec<RunningTask> {
    running
        .lock()
        .expect("the running-task map is never poisoned")
        .values()
        .filter(|task| !task.lost && task.renewed_at.elapsed() >= task.lease_duration / 3)
        .cloned()
        .collect()
}

/// Replaces the loop's session when it no longer answers (a restarted service, a dropped
/// connection the driver does not recover from); keeps it when a new login fails too.
async fn ensure_alive(session: Session, context: &Arc<Context>) -> Session {
    let params = context.config.control_connection();
    let ensure_context = Arc::clone(context);
    let (session, replacement) = session
        .run_blocking(move |session| {
            if is_alive(session) {
                return None;
            }
            match ensure_context.connect(&params) {
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
fn round(shared: &Shared, session: &mut Session, free: u32) -> (Vec<ClaimedTask>, bool) {
    let context = &shared.context;
    let mut troubled = !report_unreported(shared, session);
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

/// Heartbeats every due lease; false when a renewal failed for another reason than a lost
/// lease (the session may be broken).
fn renew_leases(context: &Context, session: &mut Session, running: &Running) -> bool {
    let mut healthy = true;
    for task in due_leases(running) {
        let task_id = task.lease.task_id;
        let outcome = context.queue.heartbeat(session, &task.lease);
        let mut map = running
            .lock()
            .expect("the running-task map is never poisoned");
        let Some(entry) = map.get_mut(&task_id) else {
            continue;
        };
        match outcome {
            Ok(()) => entry.renewed_at = Instant::now(),
            Err(QueueError::NotLeaseHolder { .. } | QueueError::UnknownTask { .. }) => {
                warn!(
                    task_id,
                    "the lease of a running task was taken back; its result will be refused"
                );
                entry.lost = true;
            }
            Err(error) => {
                healthy = false;
                warn!(task_id, %error, "cannot renew a task's lease; trying again shortly");
            }
        }
    }
    healthy
}

/// Reports, on the loop's session, the failures task threads handed over; false when one of
/// the reports failed (it stays for the next round).
fn report_unreported(shared: &Shared, session: &mut Session) -> bool {
    let pending: Vec<(ClaimedTask, TaskFailure)> = std::mem::take(
        &mut *shared
            .unreported
            .lock()
            .expect("the unreported list is never poisoned"),
    );
    let mut all_reported = true;
    for (task, failure) in pending {
        let span = info_span!("task", task_id = task.id(), kind = %task.kind, workflow_id = task.workflow_id);
        let _entered = span.enter();
        match report_fail(&shared.context, session, &task, &failure) {
            Ok(()) => forget(&shared.running, task.id()),
            Err(QueueError::NotLeaseHolder { .. } | QueueError::UnknownTask { .. }) => {
                warn!(error = %failure.message, "the task's lease was taken back before its failure could be reported");
                forget(&shared.running, task.id());
            }
            Err(report_error) => {
                all_reported = false;
                warn!(error = %failure.message, %report_error, "cannot report the task's failure yet; trying again next round (its lease is kept)");
                shared
                    .unreported
                    .lock()
                    .expect("the unreported list is never poisoned")
                    .push((task, failure));
            }
        }
    }
    all_reported
}

fn forget(running: &Running, task_id: i64) {
    running
        .lock()
        .expect("the running-task map is never poisoned")
        .remove(&task_id);
}

/// Hands a failure that the task thread could not report to the loop; the task's lease is
/// kept until the loop has reported it.
fn hand_over(shared: &Shared, task: &ClaimedTask, failure: TaskFailure) {
    shared
        .unreported
        .lock()
        .expect("the unreported list is never poisoned")
        .push((task.clone(), failure));
}

/// Runs one pulled task to its end and reports a failure to the queue.
fn run_task(shared: &Shared, task: ClaimedTask) {
    let context = &shared.context;
    let span = info_span!("task", task_id = task.id(), kind = %task.kind, workflow_id = task.workflow_id, table_id = ?task.table_id, partition_id = ?task.partition_id);
    let _entered = span.enter();
    shared
        .running
        .lock()
        .expect("the running-task map is never poisoned")
        .insert(
            task.id(),
            RunningTask {
                lease: task.lease.clone(),
                lease_duration: task.lease_duration,
                renewed_at: Instant::now(),
                lost: false,
            },
        );
    let mut session = match context.take_session() {
        Ok(session) => session,
        Err(error) => {
            // Not an abandonment: the loop reports a retryable failure on its own session.
            warn!(%error, "cannot open a session for the task; the loop reports it as a retryable failure");
            hand_over(
                shared,
                &task,
                TaskFailure {
                    message: error.to_string(),
                    retryable: true,
                },
            );
            return;
        }
    };
    let outcome = execute_task(context, &mut session, &task);
    let reported = match &outcome {
        Ok(()) => true,
        Err(error) => report_failure(shared, &mut session, &task, error),
    };
    if reported {
        forget(&shared.running, task.id());
    }
    // A session that stopped answering is dropped; the next task logs in afresh.
    if outcome.is_ok() || is_alive(&mut session) {
        context.return_session(session);
    }
}

/// Runs the handler of the task's kind. Every kind is listed (no `_` arm), so a kind added
/// to the task graph shows up here; a worker's kind pulled by an orchestrator is as unknown
/// to it as a kind from a newer version.
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
        Ok(TaskKind::Analyze | TaskKind::Extract) | Err(_) => Err(TaskError::UnknownKind {
            task_id: task.id(),
            kind: task.kind.clone(),
        }),
    }
}

/// Fails the task in the queue (retried when retryable); a load that failed for good marks
/// its partition failed with the reason. False when the failure could not be reported: it is
/// then handed to the loop, which reports it on its own session (the lease is kept meanwhile).
fn report_failure(
    shared: &Shared,
    session: &mut Session,
    task: &ClaimedTask,
    error: &TaskError,
) -> bool {
    if error.lost_lease() {
        warn!(%error, "the task's lease was lost; another orchestrator runs it now");
        return true;
    }
    let failure = TaskFailure {
        message: error.to_string(),
        retryable: error.is_retryable(),
    };
    match report_fail(&shared.context, session, task, &failure) {
        Ok(()) => true,
        Err(QueueError::NotLeaseHolder { .. } | QueueError::UnknownTask { .. }) => {
            warn!(%error, "the task's lease was taken back before its failure could be reported");
            true
        }
        Err(report_error) => {
            warn!(%error, %report_error, "cannot report the task's failure; the loop reports it");
            hand_over(shared, task, failure);
            false
        }
    }
}

/// Reports one failure; a failure for good also marks the task's partition failed.
pub fn report_fail(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    failure: &TaskFailure,
) -> Result<(), QueueError> {
    match context.queue.fail(session, &task.lease, failure)? {
        FailOutcome::Retrying { failures, delay } => {
            warn!(error = %failure.message, failures, delay_seconds = delay.as_secs(), "task failed; retrying later");
        }
        FailOutcome::Failed { failures } => {
            warn!(error = %failure.message, failures, "task failed for good");
            if let Some(partition_id) = task.partition_id {
                if let Err(error) =
                    mark_partition_failed(context, session, partition_id, &failure.message)
                {
                    warn!(%error, "cannot mark the partition failed; the workflow's completion does");
                }
            }
        }
    }
    Ok(())
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
