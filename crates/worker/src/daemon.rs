//! The worker's task loop.
//!
//! - A [`Semaphore`] of `max_parallel_tasks` bounds the running tasks; the loop pulls only as
//!   many tasks as it has free slots, and after an empty pull waits `task_fetch_interval`
//!   (±20 % jitter, so many workers do not pull in lockstep).
//! - Each running task has its own heartbeat, every third of its lease, so a long extraction
//!   keeps its lease; a heartbeat that finds the lease gone cancels the task, whose results
//!   would be fenced off anyway.
//! - Two "control" Snowflake sessions serve the queue: one for pull, complete, fail and
//!   release, one for heartbeats only, so a pull or a report that waits for a lock never holds
//!   up a heartbeat. Each is used from blocking threads under a mutex, never by two threads at
//!   once; their lock and statement timeouts follow the shortest lease seen. A heartbeat that
//!   fails for another reason than a lost lease is tried again within seconds; a report
//!   (complete, fail) is retried with backoff for [`REPORT_PATIENCE`] while the heartbeats go
//!   on, so a short outage costs neither the result nor the lease. Each extraction opens its
//!   own session for PUT.
//! - Shutdown (the token): stop pulling; tasks claimed but not yet started are released at once;
//!   running tasks get `grace_period` to finish, then are cancelled and their leases released
//!   (pending again, not counted as failures). Correctness never depends on a clean shutdown:
//!   a killed worker's leases simply expire.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use migration_core::metadata::session_registry::{self, DaemonProcess};
use migration_core::metadata::MetadataNames;
use migration_core::queue::{ClaimedTask, Consumer, FailOutcome, Lease, Queue, QueueError};
use migration_core::snowflake::{Session, SessionTimeouts};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::handlers::{execute, HandlerFailure, TaskContext};

/// Knobs of the loop.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    pub consumer: Consumer,
    pub max_parallel_tasks: u32,
    pub fetch_interval: Duration,
    pub grace_period: Duration,
    /// After the grace period: how long cancelled tasks get to hand themselves back.
    pub cancel_wait: Duration,
}

/// Attempts of release before the worker gives up (the leases then expire and the
/// orchestrator re-queues the tasks).
const REPORT_ATTEMPTS: u32 = 4;

/// How long complete and fail are retried (with backoff) before the worker gives up on a
/// report: long enough to outlive a short outage or a restart of the service. The task's
/// heartbeats go on meanwhile.
pub const REPORT_PATIENCE: Duration = Duration::from_secs(120);

/// The sessions for queue operations: one for the loop and the reports, one for every task's
/// heartbeats.
#[derive(Clone)]
pub struct Control {
    session: Arc<Mutex<ControlSession>>,
    heartbeat_session: Arc<Mutex<ControlSession>>,
    /// The timeouts both sessions should have: those of the shortest lease seen so far.
    timeouts: Arc<Mutex<Option<(Duration, SessionTimeouts)>>>,
    queue: Queue,
    registry: Arc<Registry>,
}

/// A control session and whether it is in the session registry yet.
struct ControlSession {
    session: Session,
    registered: bool,
}

/// Where and as whom the control sessions register (`metadata::session_registry`).
pub struct Registry {
    pub names: MetadataNames,
    pub process: DaemonProcess,
}

impl Control {
    /// `session` serves pull and the reports, `heartbeat_session` the heartbeats only. Each
    /// registers in the session registry before its first operation, and again before later
    /// ones until that worked (the registry exists only once an orchestrator deployed it).
    pub fn new(
        session: Session,
        heartbeat_session: Session,
        queue: Queue,
        registry: Registry,
    ) -> Control {
        let control_session = |session| {
            Arc::new(Mutex::new(ControlSession {
                session,
                registered: false,
            }))
        };
        Control {
            session: control_session(session),
            heartbeat_session: control_session(heartbeat_session),
            timeouts: Arc::default(),
            queue,
            registry: Arc::new(registry),
        }
    }

    /// Runs a queue operation on a blocking thread with the loop's session.
    async fn run<T, F>(&self, operation: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&mut Session, &Queue) -> T + Send + 'static,
    {
        self.run_on(self.session.clone(), operation).await
    }

    /// Runs a heartbeat on a blocking thread with the heartbeat session.
    async fn run_heartbeat(&self, lease: Lease) -> Result<(), QueueError> {
        self.run_on(self.heartbeat_session.clone(), move |s, q| {
            q.heartbeat(s, &lease)
        })
        .await
    }

    async fn run_on<T, F>(&self, session: Arc<Mutex<ControlSession>>, operation: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&mut Session, &Queue) -> T + Send + 'static,
    {
        let queue = self.queue.clone();
        let timeouts = lock(&self.timeouts).map(|(_, timeouts)| timeouts);
        let registry = Arc::clone(&self.registry);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the session usable: statements are atomic.
            let mut control = session.lock().unwrap_or_else(PoisonError::into_inner);
            if !control.registered {
                match session_registry::register(
                    &mut control.session,
                    &registry.names,
                    &registry.process,
                ) {
                    Ok(()) => control.registered = true,
                    Err(error) => tracing::debug!(%error, "cannot register the control session yet; trying again with the next operation"),
                }
            }
            let session = &mut control.session;
            if let Some(timeouts) = timeouts {
                if let Err(error) = session.set_timeouts(timeouts) {
                    tracing::warn!(%error, "cannot set the session's timeouts; trying again with the next operation");
                }
            }
            operation(session, &queue)
        })
        .await
        .expect("queue operations do not panic")
    }

    /// Takes note of a claimed task's lease: the sessions' lock and statement timeouts follow
    /// the shortest lease (a quarter and half of it), so no statement outlives a lease.
    fn lease_seen(&self, lease: Duration) {
        let mut timeouts = lock(&self.timeouts);
        if timeouts.is_none_or(|(shortest, _)| lease < shortest) {
            *timeouts = Some((lease, SessionTimeouts::for_control(lease)));
        }
    }

    /// Hands leases back; errors are logged (the leases expire anyway).
    async fn release(&self, leases: Vec<Lease>) {
        if leases.is_empty() {
            return;
        }
        let count = leases.len();
        for attempt in 1..=REPORT_ATTEMPTS {
            let leases = leases.clone();
            match self.run(move |s, q| q.release(s, &leases)).await {
                Ok(released) => {
                    tracing::info!(tasks = ?released, "released tasks back to the queue");
                    return;
                }
                Err(error) if error.is_retryable() && attempt < REPORT_ATTEMPTS => {
                    tracing::warn!(%error, attempt, "releasing tasks failed, retrying");
                    tokio::time::sleep(report_backoff(attempt)).await;
                }
                Err(error) => {
                    tracing::warn!(%error, tasks = count, "cannot release tasks; their leases will expire");
                    return;
                }
            }
        }
    }
}

fn report_backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.min(5))
}

/// `interval` scaled by `unit` in [0, 1) mapped onto ±20 %.
pub fn jittered(interval: Duration, unit: f64) -> Duration {
    let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    interval.mul_f64(factor)
}

/// How often a task's lease is renewed: a third of the lease, at least once a second.
pub fn heartbeat_period(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_secs(1))
}

/// How soon a heartbeat that failed (for another reason than a lost lease) is tried again:
/// within seconds, not a whole period later, so one failed beat never costs the lease.
pub fn heartbeat_retry(period: Duration) -> Duration {
    (period / 10).clamp(Duration::from_secs(1), Duration::from_secs(5))
}

/// The pause before report attempt `attempt + 1`: 0.5 s doubling up to 10 s.
fn report_pause(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.min(5)).min(Duration::from_secs(10))
}

/// A task that is running: its lease and how to stop it.
struct Running {
    lease: Lease,
    cancel: CancellationToken,
}

type RunningTasks = Arc<Mutex<HashMap<i64, Running>>>;

/// Runs the loop until `shutdown` fires and the running tasks are finished or handed back.
pub async fn run_loop(
    settings: LoopSettings,
    context: Arc<TaskContext>,
    control: Control,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(settings.max_parallel_tasks.max(1) as usize));
    let running: RunningTasks = Arc::default();
    let mut tasks = JoinSet::new();
    tracing::info!(
        consumer = %settings.consumer.id,
        slots = settings.max_parallel_tasks,
        "worker started, pulling tasks"
    );
    loop {
        while tasks.try_join_next().is_some() {}
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let mut permits = vec![first];
        while let Ok(permit) = slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        let capacity = u32::try_from(permits.len()).expect("slots fit in u32");
        let consumer = settings.consumer.clone();
        let pulled = control
            .run(move |s, q| q.pull(s, &consumer, capacity))
            .await;
        let claimed = match pulled {
            Ok(claimed) => {
                for task in &claimed {
                    control.lease_seen(task.lease_duration);
                }
                claimed
            }
            Err(error) => {
                tracing::warn!(%error, "pulling tasks failed; trying again later");
                drop(permits);
                if wait_or_shutdown(settings.fetch_interval, &shutdown).await {
                    break;
                }
                continue;
            }
        };
        if shutdown.is_cancelled() {
            // Claimed but never started: hand them straight back.
            control
                .release(claimed.iter().map(|t| t.lease.clone()).collect())
                .await;
            break;
        }
        let empty = claimed.is_empty();
        let mut claimed = claimed;
        if claimed.len() > permits.len() {
            // More than asked for (a queue bug): never hold a task without a slot to run it.
            let extra = claimed.split_off(permits.len());
            tracing::warn!(
                extra = extra.len(),
                "the queue returned more tasks than asked for"
            );
            control
                .release(extra.iter().map(|t| t.lease.clone()).collect())
                .await;
        }
        for (task, permit) in claimed.into_iter().zip(permits.drain(..)) {
            let span = tracing::info_span!(
                "task",
                task_id = task.id(),
                workflow_id = task.workflow_id,
                kind = %task.kind,
                table_id = task.table_id,
                partition_id = task.partition_id,
                attempt = task.attempt,
                table = tracing::field::Empty,
                partition = tracing::field::Empty,
            );
            tasks.spawn(
                run_task(
                    task,
                    permit,
                    context.clone(),
                    control.clone(),
                    running.clone(),
                    shutdown.clone(),
                )
                .instrument(span),
            );
        }
        drop(permits);
        if empty && wait_or_shutdown(settings.fetch_interval, &shutdown).await {
            break;
        }
    }
    drain(settings, control, running, tasks).await;
}

/// Sleeps the jittered interval; true when shutdown fired meanwhile.
async fn wait_or_shutdown(interval: Duration, shutdown: &CancellationToken) -> bool {
    let wait = jittered(interval, rand::random::<f64>());
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

/// Waits for running tasks within the grace period, then cancels and releases the rest.
async fn drain(
    settings: LoopSettings,
    control: Control,
    running: RunningTasks,
    mut tasks: JoinSet<()>,
) {
    if tasks.is_empty() {
        tracing::info!("worker stopped");
        return;
    }
    tracing::info!(
        running = tasks.len(),
        grace_s = settings.grace_period.as_secs_f64(),
        "stopping: no new tasks; waiting for running tasks"
    );
    if join_all_within(&mut tasks, settings.grace_period).await {
        tracing::info!("worker stopped");
        return;
    }
    tracing::warn!(
        running = tasks.len(),
        "grace period over: cancelling running tasks and handing them back"
    );
    for task in lock(&running).values() {
        task.cancel.cancel();
    }
    join_all_within(&mut tasks, settings.cancel_wait).await;
    let leftover: Vec<Lease> = lock(&running).drain().map(|(_, task)| task.lease).collect();
    control.release(leftover).await;
    // Tasks still stuck in a blocking call are abandoned; their late reports are fenced.
    tasks.detach_all();
    tracing::info!("worker stopped");
}

/// True when every task finished within `limit`.
async fn join_all_within(tasks: &mut JoinSet<()>, limit: Duration) -> bool {
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = tasks.join_next() => {
                if next.is_none() {
                    return true;
                }
            }
            _ = &mut deadline => return tasks.is_empty(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One task from claim to report.
async fn run_task(
    task: ClaimedTask,
    _permit: OwnedSemaphorePermit,
    context: Arc<TaskContext>,
    control: Control,
    running: RunningTasks,
    shutdown: CancellationToken,
) {
    let task_id = task.id();
    let cancel = CancellationToken::new();
    let lease_lost = Arc::new(AtomicBool::new(false));
    lock(&running).insert(
        task_id,
        Running {
            lease: task.lease.clone(),
            cancel: cancel.clone(),
        },
    );
    if shutdown.is_cancelled() {
        lock(&running).remove(&task_id);
        control.release(vec![task.lease.clone()]).await;
        return;
    }
    tracing::info!("task started");
    let heartbeat_stop = CancellationToken::new();
    let heartbeat = tokio::spawn(
        heartbeat_loop(
            task.lease.clone(),
            heartbeat_period(task.lease_duration),
            control.clone(),
            cancel.clone(),
            lease_lost.clone(),
            heartbeat_stop.clone(),
        )
        .in_current_span(),
    );
    let work_task = task.clone();
    let work_cancel = cancel.clone();
    let span = tracing::Span::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        execute(&context, &work_task, &work_cancel)
    })
    .await
    .unwrap_or_else(|error| {
        Err(HandlerFailure {
            failure: migration_core::queue::TaskFailure {
                message: format!("task {task_id} panicked: {error}"),
                retryable: true,
            },
            cancelled: false,
        })
    });
    // The heartbeats go on while the result is reported: a report retried through a short
    // outage must not lose the lease meanwhile.
    if lease_lost.load(Ordering::SeqCst) {
        tracing::warn!("the task's lease was lost; dropping its result");
    } else {
        report(&control, &task, outcome, cancel.is_cancelled()).await;
    }
    heartbeat_stop.cancel();
    let _ = heartbeat.await;
    lock(&running).remove(&task_id);
}

/// Completes, fails or (when cancelled by shutdown) releases the task.
async fn report(
    control: &Control,
    task: &ClaimedTask,
    outcome: Result<serde_json::Value, HandlerFailure>,
    cancelled: bool,
) {
    let lease = task.lease.clone();
    match outcome {
        Ok(result) => {
            let done = retry_report("complete", || {
                let lease = lease.clone();
                let result = result.clone();
                control.run(move |s, q| q.complete(s, &lease, &result))
            })
            .await;
            if done.is_some() {
                tracing::info!("task completed");
            }
        }
        Err(failure) if failure.cancelled || cancelled => {
            tracing::info!(reason = %failure.failure.message, "task cancelled; handing it back");
            control.release(vec![lease]).await;
        }
        Err(failure) => {
            let message = failure.failure.message.clone();
            let reported = retry_report("fail", || {
                let lease = lease.clone();
                let failure = failure.failure.clone();
                control.run(move |s, q| q.fail(s, &lease, &failure))
            })
            .await;
            match reported {
                Some(FailOutcome::Retrying { failures, delay }) => tracing::warn!(
                    error = %message,
                    failures,
                    retry_in_s = delay.as_secs(),
                    "task failed; it will be retried"
                ),
                Some(FailOutcome::Failed { failures }) => tracing::error!(
                    error = %message,
                    failures,
                    "task failed for good"
                ),
                None => {}
            }
        }
    }
}

/// Runs a report operation, retrying retryable errors with backoff for [`REPORT_PATIENCE`];
/// `None` when it could not be made.
async fn retry_report<T, F, Fut>(operation: &'static str, mut call: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, QueueError>>,
{
    let started = tokio::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Ok(value) => return Some(value),
            Err(QueueError::NotLeaseHolder { task_id }) => {
                tracing::warn!(
                    task_id,
                    operation,
                    "the lease expired before the report; another consumer will run the task"
                );
                return None;
            }
            Err(error) if error.is_retryable() && started.elapsed() < REPORT_PATIENCE => {
                tracing::warn!(%error, operation, attempt, "reporting the task failed, retrying");
                tokio::time::sleep(report_pause(attempt)).await;
            }
            Err(error) => {
                tracing::warn!(%error, operation, attempt, "cannot report the task; its lease will expire and it will run again");
                return None;
            }
        }
    }
}

/// Renews the lease until `stop`; a lost lease cancels the task.
async fn heartbeat_loop(
    lease: Lease,
    period: Duration,
    control: Control,
    cancel: CancellationToken,
    lease_lost: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        // Until a beat succeeds (or the lease is gone), try again every few seconds.
        loop {
            match control.run_heartbeat(lease.clone()).await {
                Ok(()) => {
                    tracing::debug!("lease renewed");
                    break;
                }
                Err(QueueError::NotLeaseHolder { .. }) | Err(QueueError::UnknownTask { .. }) => {
                    tracing::warn!("lease lost (expired and re-queued); cancelling the task");
                    lease_lost.store(true, Ordering::SeqCst);
                    cancel.cancel();
                    return;
                }
                Err(error) => {
                    let retry = heartbeat_retry(period);
                    tracing::warn!(%error, retry_in_s = retry.as_secs_f64(), "heartbeat failed; trying again shortly");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(retry) => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let interval = Duration::from_secs(10);
        assert_eq!(jittered(interval, 0.0), Duration::from_secs(8));
        assert_eq!(jittered(interval, 1.0), Duration::from_secs(12));
        assert_eq!(jittered(interval, 0.5), Duration::from_secs(10));
        assert_eq!(jittered(interval, 7.0), Duration::from_secs(12));
    }

    #[test]
    fn a_failed_heartbeat_is_tried_again_within_seconds() {
        assert_eq!(
            heartbeat_retry(heartbeat_period(Duration::from_secs(300))),
            Duration::from_secs(5)
        );
        assert_eq!(
            heartbeat_retry(heartbeat_period(Duration::from_secs(10))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn report_pauses_grow_to_ten_seconds() {
        assert_eq!(report_pause(1), Duration::from_secs(1));
        assert_eq!(report_pause(2), Duration::from_secs(2));
        assert_eq!(report_pause(5), Duration::from_secs(10));
        assert_eq!(report_pause(40), Duration::from_secs(10));
    }

    #[test]
    fn heartbeats_come_three_times_per_lease() {
        assert_eq!(
            heartbeat_period(Duration::from_secs(300)),
            Duration::from_secs(100)
        );
        assert_eq!(
            heartbeat_period(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
