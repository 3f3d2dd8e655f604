//! The task queue against the local Snowflake emulator, one suite run over both transports:
//! `direct` (the statements in client transactions) and `procedure` (CALLs of the generated
//! Snowflake Scripting procedures, run by the emulator's interpreter). Time is a manual clock,
//! so leases and backoff need no sleeping; with procedures the emulator's SYSDATE() is frozen
//! to the same clock (`SYSTEM$SFEMU_FREEZE_CLOCK`).

#[path = "queue_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migration_core::metadata::{self, DeployOptions};
use migration_core::queue::clock::timestamp_text;
use migration_core::queue::{
    ClaimedTask, Clock, Consumer, ExecutorType, FailOutcome, Lease, ManualClock, NewTask, Queue,
    QueueError, RetryPolicy, TaskBatch, TaskFailure, Transport,
};
use migration_core::snowflake::{Session, SqlValue};
use support::{emulator_deploy_options, text, Metadata};

/// Defines one `#[test]` per suite function, each calling it with `$transport`.
macro_rules! queue_test_suite {
    ($transport:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                super::$name($transport);
            }
        )*
    };
}

macro_rules! both_transports {
    ($($name:ident),* $(,)?) => {
        mod direct {
            queue_test_suite!(migration_core::queue::Transport::Direct; $($name),*);
        }
        mod procedure {
            queue_test_suite!(migration_core::queue::Transport::Procedure; $($name),*);
        }
    };
}

both_transports!(
    eight_consumers_draining_500_tasks_claim_every_task_exactly_once,
    completion_or_failure_by_a_non_holder_is_refused,
    an_expired_lease_is_requeued_and_then_completes,
    heartbeats_keep_a_lease_and_abandonment_past_the_maximum_fails_with_successors,
    by_default_a_task_outlives_more_dead_holders_than_retries_but_not_endless_ones,
    a_dag_unblocks_only_when_all_predecessors_completed,
    a_terminal_failure_cascades_to_blocked_successors_transitively,
    backoff_delays_the_next_pull_and_retries_are_bounded,
    affinity_rules_hold,
    release_gives_tasks_back_without_counting_a_failure,
    a_worker_never_pulls_or_touches_an_orchestrator_task,
);

/// One test's deployed metadata (with the procedures), its queue and its clock.
struct Fixture {
    metadata: Metadata,
    clock: ManualClock,
    transport: Transport,
    queue: Queue,
}

impl Fixture {
    fn new(prefix: &str, transport: Transport) -> Fixture {
        let metadata = Metadata::fresh(prefix);
        let mut session = metadata.session();
        let options = DeployOptions {
            procedures: true,
            ..emulator_deploy_options()
        };
        let report = metadata::deploy(&mut session, &metadata.names, &options)
            .expect("deploy the metadata with its procedures to the emulator");
        assert!(report.procedures_deployed);
        let clock = ManualClock::starting_now();
        let queue = Queue::new(&metadata.names, transport)
            .expect("queue statements")
            .with_clock(Arc::new(clock.clone()));
        let fixture = Fixture {
            metadata,
            clock,
            transport,
            queue,
        };
        fixture.sync_server_clock(&mut session);
        fixture
    }

    fn session(&self) -> Session {
        self.metadata.session()
    }

    /// Moves time: the client's clock, and with procedures the emulator's SYSDATE().
    fn advance(&self, session: &mut Session, by: Duration) {
        self.clock.advance(by);
        self.sync_server_clock(session);
    }

    fn sync_server_clock(&self, session: &mut Session) {
        if self.transport == Transport::Procedure {
            session
                .query_rows(
                    "CALL SYSTEM$SFEMU_FREEZE_CLOCK(?)",
                    &[SqlValue::Text(timestamp_text(self.clock.now()))],
                )
                .expect("freeze the emulator's clock");
        }
    }
}

fn worker(id: &str, affinity: Option<&str>) -> Consumer {
    Consumer {
        id: id.to_owned(),
        executor_type: ExecutorType::Worker,
        affinity: affinity.map(str::to_owned),
    }
}

fn orchestrator(id: &str) -> Consumer {
    Consumer {
        id: id.to_owned(),
        executor_type: ExecutorType::Orchestrator,
        affinity: None,
    }
}

fn task(kind: &str) -> NewTask {
    NewTask::new(
        ExecutorType::Worker,
        kind,
        serde_json::json!({"kind": kind}),
    )
}

/// Pushes independent tasks and returns their ids in order.
fn push_tasks(
    queue: &Queue,
    session: &mut Session,
    workflow_id: i64,
    tasks: Vec<NewTask>,
) -> Vec<i64> {
    let mut batch = TaskBatch::new();
    for task in tasks {
        batch.add(task);
    }
    queue
        .push(session, workflow_id, &batch)
        .expect("push")
        .into_iter()
        .map(|pushed| pushed.id)
        .collect()
}

fn statuses(metadata: &Metadata, session: &mut Session) -> BTreeMap<i64, String> {
    metadata
        .rows(
            session,
            &format!("SELECT ID, STATUS FROM {}", metadata.object("TASK_QUEUE")),
        )
        .into_iter()
        .map(|row| {
            let id = row[0]
                .as_deref()
                .and_then(|id| id.parse().ok())
                .expect("numeric ID");
            (id, row[1].clone().expect("status"))
        })
        .collect()
}

fn ids(tasks: &[ClaimedTask]) -> Vec<i64> {
    tasks.iter().map(ClaimedTask::id).collect()
}

fn eight_consumers_draining_500_tasks_claim_every_task_exactly_once(transport: Transport) {
    let fixture = Fixture::new("drain", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "drain", None);
    let mut pushed = Vec::new();
    for chunk in 0..5 {
        let tasks = (0..100).map(|n| task(&format!("t{chunk}_{n}"))).collect();
        pushed.extend(push_tasks(queue, &mut session, workflow_id, tasks));
    }
    assert_eq!(pushed.len(), 500);

    let claims: Mutex<Vec<(String, i64)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for consumer_number in 0..8 {
            let (metadata, queue, claims) = (&metadata, &queue, &claims);
            scope.spawn(move || {
                let consumer = worker(&format!("worker-{consumer_number}"), None);
                let mut session = metadata.session();
                loop {
                    let tasks = queue.pull(&mut session, &consumer, 10).expect("pull");
                    if tasks.is_empty() {
                        break;
                    }
                    for task in &tasks {
                        queue
                            .complete(
                                &mut session,
                                &task.lease,
                                &serde_json::json!({"by": consumer.id}),
                            )
                            .expect("the holder completes its task");
                        claims
                            .lock()
                            .expect("no panic while holding the lock")
                            .push((consumer.id.clone(), task.id()));
                    }
                }
            });
        }
    });

    let claims = claims.into_inner().expect("threads joined");
    let mut claimed: Vec<i64> = claims.iter().map(|(_, id)| *id).collect();
    claimed.sort_unstable();
    let mut expected = pushed.clone();
    expected.sort_unstable();
    assert_eq!(claimed, expected, "every task claimed exactly once");
    let consumers: std::collections::BTreeSet<&str> = claims
        .iter()
        .map(|(consumer, _)| consumer.as_str())
        .collect();
    assert!(consumers.len() > 1, "the work was shared: {consumers:?}");

    let summary = metadata.rows(
        &mut session,
        &format!(
            "SELECT STATUS, COUNT(*), MAX(ATTEMPTS) FROM {} GROUP BY STATUS",
            metadata.object("TASK_QUEUE")
        ),
    );
    assert_eq!(
        summary,
        vec![vec![text("completed"), text("500"), text("1")]]
    );
}

fn completion_or_failure_by_a_non_holder_is_refused(transport: Transport) {
    let fixture = Fixture::new("fence", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "fence", None);
    push_tasks(queue, &mut session, workflow_id, vec![task("a")]);

    let claimed = queue
        .pull(&mut session, &worker("holder", None), 1)
        .expect("pull");
    assert_eq!(claimed.len(), 1);
    let mut forged = claimed[0].lease.clone();
    forged.claim_token = "not-the-token".to_owned();

    let error = queue.complete(&mut session, &forged, &serde_json::json!({}));
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { task_id }) if task_id == forged.task_id),
        "{error:?}"
    );
    let error = queue.fail(
        &mut session,
        &forged,
        &TaskFailure {
            message: "x".into(),
            retryable: false,
        },
    );
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { .. })),
        "{error:?}"
    );
    let error = queue.heartbeat(&mut session, &forged);
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { .. })),
        "{error:?}"
    );
    assert_eq!(
        statuses(metadata, &mut session)
            .values()
            .collect::<Vec<_>>(),
        vec!["executing"]
    );

    queue
        .complete(
            &mut session,
            &claimed[0].lease,
            &serde_json::json!({"rows": 3}),
        )
        .expect("the holder completes");
    queue
        .complete(
            &mut session,
            &claimed[0].lease,
            &serde_json::json!({"rows": 3}),
        )
        .expect("completing again after a lost answer is recognised as done");
    let error = queue.fail(
        &mut session,
        &claimed[0].lease,
        &TaskFailure {
            message: "late".into(),
            retryable: true,
        },
    );
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { .. })),
        "a completed task cannot fail: {error:?}"
    );

    let result = metadata.rows(
        &mut session,
        &format!("SELECT RESULT FROM {}", metadata.object("TASK_QUEUE")),
    );
    let result: serde_json::Value =
        serde_json::from_str(result[0][0].as_deref().expect("result stored")).expect("JSON");
    assert_eq!(result, serde_json::json!({"rows": 3}));

    let unknown = migration_core::queue::Lease {
        task_id: 999_999,
        claim_token: "x".into(),
        executor_type: ExecutorType::Worker,
    };
    assert!(matches!(
        queue.heartbeat(&mut session, &unknown),
        Err(QueueError::UnknownTask { task_id: 999_999 })
    ));
}

fn an_expired_lease_is_requeued_and_then_completes(transport: Transport) {
    let fixture = Fixture::new("expire", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "expire", None);
    let mut leased = task("a");
    leased.lease = Duration::from_secs(60);
    let id = push_tasks(queue, &mut session, workflow_id, vec![leased])[0];

    let first = queue
        .pull(&mut session, &worker("dies", None), 1)
        .expect("pull");
    assert_eq!(ids(&first), vec![id]);

    fixture.advance(&mut session, Duration::from_secs(59));
    assert!(
        queue.expire(&mut session).expect("expire").is_empty(),
        "lease still valid"
    );
    fixture.advance(&mut session, Duration::from_secs(2));
    let expired = queue.expire(&mut session).expect("expire");
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (
            expired[0].task_id,
            expired[0].status.as_str(),
            expired[0].abandonments
        ),
        (id, "pending", 1)
    );

    // The dead consumer's lease is gone for good.
    let error = queue.complete(&mut session, &first[0].lease, &serde_json::json!({}));
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { .. })),
        "{error:?}"
    );

    let second = queue
        .pull(&mut session, &worker("healthy", None), 1)
        .expect("pull again");
    assert_eq!(ids(&second), vec![id]);
    assert_eq!(second[0].attempt, 2);
    queue
        .complete(&mut session, &second[0].lease, &serde_json::json!({}))
        .expect("complete");
    assert_eq!(statuses(metadata, &mut session)[&id], "completed");
}

fn heartbeats_keep_a_lease_and_abandonment_past_the_maximum_fails_with_successors(
    transport: Transport,
) {
    let fixture = Fixture::new("abandon", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "abandon", None);
    let mut batch = TaskBatch::new();
    let mut fragile = task("fragile");
    fragile.lease = Duration::from_secs(30);
    fragile.retry = RetryPolicy {
        max_abandonments: 1,
        ..RetryPolicy::default()
    };
    let fragile = batch.add(fragile);
    let after = batch.add(task("after"));
    batch.add_dependency(fragile, after);
    let pushed = queue.push(&mut session, workflow_id, &batch).expect("push");
    let (fragile_id, after_id) = (pushed[0].id, pushed[1].id);

    let claimed = queue
        .pull(&mut session, &worker("w", None), 5)
        .expect("pull");
    assert_eq!(ids(&claimed), vec![fragile_id], "the successor is blocked");
    for _ in 0..3 {
        fixture.advance(&mut session, Duration::from_secs(20));
        queue
            .heartbeat(&mut session, &claimed[0].lease)
            .expect("heartbeat");
        assert!(
            queue.expire(&mut session).expect("expire").is_empty(),
            "heartbeats extend the lease"
        );
    }

    fixture.advance(&mut session, Duration::from_secs(31));
    let expired = queue.expire(&mut session).expect("expire");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, "pending", "first abandonment re-queues");
    let again = queue
        .pull(&mut session, &worker("w2", None), 5)
        .expect("pull");
    assert_eq!(ids(&again), vec![fragile_id]);
    fixture.advance(&mut session, Duration::from_secs(31));
    let expired = queue.expire(&mut session).expect("expire");
    assert_eq!(
        expired[0].status, "failed",
        "second abandonment is past the maximum of 1"
    );
    assert_eq!(
        statuses(metadata, &mut session)[&after_id],
        "failed",
        "the failure cascades"
    );
}

/// Killed holders (every claim ends in an expired lease) do not fail a task as fast as its own
/// errors would: by default it survives more expiries than it has retries, so a run whose
/// processes are killed repeatedly keeps its healthy tasks; a task that takes down every
/// holder still ends failed, after `default_max_abandonments()` of them.
fn by_default_a_task_outlives_more_dead_holders_than_retries_but_not_endless_ones(
    transport: Transport,
) {
    let fixture = Fixture::new("dead_holders", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "dead_holders", None);
    let mut batch = TaskBatch::new();
    let mut target = task("killed_again_and_again");
    target.lease = Duration::from_secs(30);
    assert_eq!(target.retry, RetryPolicy::default(), "the default policy");
    batch.add(target);
    let pushed = queue.push(&mut session, workflow_id, &batch).expect("push");
    let id = pushed[0].id;
    let defaults = RetryPolicy::default();
    assert!(
        defaults.max_abandonments > defaults.max_retries,
        "dead holders are allowed more often than errors: {defaults:?}"
    );

    // A holder that dies: claimed, never renewed, expired.
    let mut die_once = |holder: u32| {
        let claimed = queue
            .pull(&mut session, &worker(&format!("w{holder}"), None), 1)
            .expect("pull");
        assert_eq!(ids(&claimed), vec![id], "holder {holder} claims the task");
        fixture.advance(&mut session, Duration::from_secs(31));
        let expired = queue.expire(&mut session).expect("expire");
        assert_eq!(expired.len(), 1, "holder {holder}'s lease expires");
        expired[0].status.clone()
    };
    for holder in 1..=defaults.max_retries + 2 {
        assert_eq!(
            die_once(holder),
            "pending",
            "holder {holder} died; the task is still healthy"
        );
    }
    let mut last = String::new();
    for holder in defaults.max_retries + 3..=defaults.max_abandonments + 1 {
        last = die_once(holder);
        if holder <= defaults.max_abandonments {
            assert_eq!(last, "pending", "holder {holder} died");
        }
    }
    assert_eq!(
        last,
        "failed",
        "after {} dead holders the task fails for good",
        defaults.max_abandonments + 1
    );
    assert_eq!(statuses(metadata, &mut session)[&id], "failed");
}

fn a_dag_unblocks_only_when_all_predecessors_completed(transport: Transport) {
    let fixture = Fixture::new("dag", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "dag", None);
    let mut batch = TaskBatch::new();
    let left = batch.add(task("left"));
    let right = batch.add(task("right"));
    let join = batch.add(task("join"));
    batch.add_dependency(left, join);
    batch.add_dependency(right, join);
    let pushed = queue.push(&mut session, workflow_id, &batch).expect("push");
    let statuses_pushed: Vec<&str> = pushed.iter().map(|task| task.status.as_str()).collect();
    assert_eq!(statuses_pushed, vec!["pending", "pending", "blocked"]);
    let join_id = pushed[2].id;

    let consumer = worker("w", None);
    let claimed = queue.pull(&mut session, &consumer, 10).expect("pull");
    assert_eq!(ids(&claimed), vec![pushed[0].id, pushed[1].id]);

    queue
        .complete(&mut session, &claimed[0].lease, &serde_json::json!({}))
        .expect("complete left");
    assert_eq!(
        statuses(metadata, &mut session)[&join_id],
        "blocked",
        "right is still running"
    );
    assert!(queue
        .pull(&mut session, &consumer, 10)
        .expect("pull")
        .is_empty());

    queue
        .complete(&mut session, &claimed[1].lease, &serde_json::json!({}))
        .expect("complete right");
    assert_eq!(statuses(metadata, &mut session)[&join_id], "pending");
    let next = queue.pull(&mut session, &consumer, 10).expect("pull");
    assert_eq!(ids(&next), vec![join_id]);
}

fn a_terminal_failure_cascades_to_blocked_successors_transitively(transport: Transport) {
    let fixture = Fixture::new("cascade", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "cascade", None);
    let mut batch = TaskBatch::new();
    let extract = batch.add(task("extract"));
    let load = batch.add(task("load"));
    let finish = batch.add(task("finish"));
    let unrelated = batch.add(task("unrelated"));
    batch.add_dependency(extract, load);
    batch.add_dependency(load, finish);
    let pushed = queue.push(&mut session, workflow_id, &batch).expect("push");
    let id = |index: usize| pushed[index].id;

    let claimed = queue
        .pull(&mut session, &worker("w", None), 1)
        .expect("pull");
    assert_eq!(ids(&claimed), vec![id(extract)]);
    let outcome = queue
        .fail(
            &mut session,
            &claimed[0].lease,
            &TaskFailure {
                message: "permission denied".into(),
                retryable: false,
            },
        )
        .expect("fail");
    assert_eq!(outcome, FailOutcome::Failed { failures: 1 });

    let after = statuses(metadata, &mut session);
    assert_eq!(after[&id(extract)], "failed");
    assert_eq!(after[&id(load)], "failed");
    assert_eq!(after[&id(finish)], "failed");
    assert_eq!(after[&id(unrelated)], "pending");
    let causes = metadata.rows(
        &mut session,
        &format!(
            "SELECT ID, FAILED_BECAUSE_OF_TASK_ID, LAST_ERROR FROM {} WHERE ID IN ({}, {}) ORDER BY ID",
            metadata.object("TASK_QUEUE"),
            id(load),
            id(finish)
        ),
    );
    assert_eq!(causes[0][1], Some(id(extract).to_string()));
    assert_eq!(causes[1][1], Some(id(load).to_string()));
    assert_eq!(
        causes[0][2],
        Some(format!("predecessor task {} failed", id(extract)))
    );
}

fn backoff_delays_the_next_pull_and_retries_are_bounded(transport: Transport) {
    let fixture = Fixture::new("backoff", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "backoff", None);
    let mut flaky = task("flaky");
    flaky.retry = RetryPolicy {
        max_retries: 2,
        max_abandonments: 3,
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(15),
    };
    let id = push_tasks(queue, &mut session, workflow_id, vec![flaky])[0];
    let consumer = worker("w", None);
    let network = TaskFailure {
        message: "connection reset".into(),
        retryable: true,
    };

    let claimed = queue.pull(&mut session, &consumer, 1).expect("pull");
    let outcome = queue
        .fail(&mut session, &claimed[0].lease, &network)
        .expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::Retrying {
            failures: 1,
            delay: Duration::from_secs(10)
        }
    );
    assert!(
        queue
            .pull(&mut session, &consumer, 1)
            .expect("pull")
            .is_empty(),
        "invisible during backoff"
    );
    fixture.advance(&mut session, Duration::from_secs(9));
    assert!(
        queue
            .pull(&mut session, &consumer, 1)
            .expect("pull")
            .is_empty(),
        "still invisible"
    );
    fixture.advance(&mut session, Duration::from_secs(2));
    let claimed = queue.pull(&mut session, &consumer, 1).expect("pull");
    assert_eq!(ids(&claimed), vec![id]);

    let outcome = queue
        .fail(&mut session, &claimed[0].lease, &network)
        .expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::Retrying {
            failures: 2,
            delay: Duration::from_secs(15)
        },
        "20 s doubled, capped at 15 s"
    );
    fixture.advance(&mut session, Duration::from_secs(16));
    let claimed = queue.pull(&mut session, &consumer, 1).expect("pull");
    let outcome = queue
        .fail(&mut session, &claimed[0].lease, &network)
        .expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::Failed { failures: 3 },
        "two retries used up"
    );
    fixture.advance(&mut session, Duration::from_secs(60));
    assert!(queue
        .pull(&mut session, &consumer, 1)
        .expect("pull")
        .is_empty());
}

fn affinity_rules_hold(transport: Transport) {
    let fixture = Fixture::new("affinity", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let mut by_affinity = BTreeMap::new();
    for (name, affinity) in [
        ("none", None),
        ("eu", Some("eu-west")),
        ("us", Some("us_east")),
        ("look-alike", Some("usXeast")),
    ] {
        let workflow_id = metadata.workflow(&mut session, name, affinity);
        let id = push_tasks(queue, &mut session, workflow_id, vec![task(name)])[0];
        by_affinity.insert(id, name);
    }
    let mut take = |affinity: Option<&str>| -> Vec<&str> {
        let consumer = worker("probe", affinity);
        let claimed = queue.pull(&mut session, &consumer, 10).expect("pull");
        let leases: Vec<_> = claimed.iter().map(|task| task.lease.clone()).collect();
        queue.release(&mut session, &leases).expect("release");
        let mut names: Vec<&str> = claimed.iter().map(|task| by_affinity[&task.id()]).collect();
        names.sort_unstable();
        names
    };
    assert_eq!(
        take(None),
        vec!["eu", "look-alike", "none", "us"],
        "an unaffined consumer takes everything"
    );
    assert_eq!(
        take(Some("eu-west")),
        vec!["eu", "none"],
        "own affinity and unaffined work"
    );
    assert_eq!(take(Some("eu*")), vec!["eu", "none"], "a pattern matches");
    assert_eq!(
        take(Some("us_*")),
        vec!["none", "us"],
        "`_` is literal, only `*` is a wildcard"
    );
    assert_eq!(take(Some("ap-south")), vec!["none"]);
}

fn release_gives_tasks_back_without_counting_a_failure(transport: Transport) {
    let fixture = Fixture::new("release", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let workflow_id = metadata.workflow(&mut session, "release", None);
    let pushed = push_tasks(queue, &mut session, workflow_id, vec![task("a"), task("b")]);
    let claimed = queue
        .pull(&mut session, &worker("stopping", None), 2)
        .expect("pull");
    assert_eq!(claimed.len(), 2);

    let mut leases: Vec<_> = claimed.iter().map(|task| task.lease.clone()).collect();
    leases.push(migration_core::queue::Lease {
        task_id: pushed[0],
        claim_token: "stale".into(),
        executor_type: ExecutorType::Worker,
    });
    let mut released = queue.release(&mut session, &leases).expect("release");
    released.sort_unstable();
    assert_eq!(
        released, pushed,
        "each held task once; the stale lease releases nothing"
    );

    let counters = metadata.rows(
        &mut session,
        &format!(
            "SELECT DISTINCT STATUS, FAILURES, ABANDONMENTS FROM {}",
            metadata.object("TASK_QUEUE")
        ),
    );
    assert_eq!(counters, vec![vec![text("pending"), text("0"), text("0")]]);
    let error = queue.complete(&mut session, &claimed[0].lease, &serde_json::json!({}));
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { .. })),
        "{error:?}"
    );
    assert_eq!(
        queue
            .pull(&mut session, &worker("next", None), 2)
            .expect("pull")
            .len(),
        2
    );
}

/// Pushes one orchestrator task and one worker task; the orchestrator claims its own.
fn orchestrator_and_worker_tasks(fixture: &Fixture, session: &mut Session) -> (ClaimedTask, i64) {
    let workflow_id = fixture.metadata.workflow(session, "mixed", None);
    let mut batch = TaskBatch::new();
    batch.add(NewTask::new(
        ExecutorType::Orchestrator,
        "load",
        serde_json::json!({"kind": "load"}),
    ));
    batch.add(task("extract"));
    let pushed = fixture
        .queue
        .push(session, workflow_id, &batch)
        .expect("push");
    let claimed = fixture
        .queue
        .pull(session, &orchestrator("orchestrator-1"), 5)
        .expect("the orchestrator pulls");
    assert_eq!(ids(&claimed), vec![pushed[0].id], "only its own task");
    (claimed[0].clone(), pushed[1].id)
}

fn a_worker_never_pulls_or_touches_an_orchestrator_task(transport: Transport) {
    let fixture = Fixture::new("fence_executor", transport);
    let (metadata, queue) = (&fixture.metadata, &fixture.queue);
    let mut session = fixture.session();
    let (orchestrator_task, worker_task) = orchestrator_and_worker_tasks(&fixture, &mut session);
    let orchestrator_id = orchestrator_task.id();

    // A worker's lease on the orchestrator's task, even with its real claim token: the fenced
    // steps require the worker executor type, so the task does not exist for the worker.
    let stolen = Lease {
        executor_type: ExecutorType::Worker,
        ..orchestrator_task.lease.clone()
    };
    let unknown = |result: Result<(), QueueError>, what: &str| {
        assert!(
            matches!(result, Err(QueueError::UnknownTask { task_id }) if task_id == orchestrator_id),
            "{what}: {result:?}"
        );
    };
    unknown(queue.heartbeat(&mut session, &stolen), "heartbeat");
    unknown(
        queue.complete(&mut session, &stolen, &serde_json::json!({"forged": true})),
        "complete",
    );
    unknown(
        queue
            .fail(
                &mut session,
                &stolen,
                &TaskFailure {
                    message: "forged".into(),
                    retryable: false,
                },
            )
            .map(|_| ()),
        "fail",
    );
    assert!(queue
        .release(&mut session, &[stolen])
        .expect("release")
        .is_empty());
    fixture.advance(&mut session, Duration::from_secs(1));
    let claimed = queue
        .pull(&mut session, &worker("w", None), 10)
        .expect("pull");
    assert_eq!(
        ids(&claimed),
        vec![worker_task],
        "a worker pulls worker tasks only"
    );

    let row = metadata.rows(
        &mut session,
        &format!(
            "SELECT STATUS, RESULT, FAILURES, CLAIM_TOKEN FROM {} WHERE ID = {orchestrator_id}",
            metadata.object("TASK_QUEUE")
        ),
    );
    assert_eq!(
        row,
        vec![vec![
            text("executing"),
            None,
            text("0"),
            Some(orchestrator_task.lease.claim_token.clone())
        ]],
        "the orchestrator's task is untouched"
    );
    queue
        .complete(
            &mut session,
            &orchestrator_task.lease,
            &serde_json::json!({}),
        )
        .expect("its holder still completes it");
}

/// What a worker role can do with USAGE on the procedures only: CALL them with any values.
#[test]
fn a_worker_role_cannot_reach_orchestrator_tasks_through_the_procedures() {
    let fixture = Fixture::new("fence_calls", Transport::Procedure);
    let mut session = fixture.session();
    let (orchestrator_task, worker_task) = orchestrator_and_worker_tasks(&fixture, &mut session);
    let schema = format!("{}.DATA_MIGRATION", fixture.metadata.database.name);
    let id = SqlValue::Int(orchestrator_task.id());
    let token = SqlValue::Text(orchestrator_task.lease.claim_token.clone());

    let error = session
        .query_rows(
            &format!("CALL {schema}.PULL_TASKS(?, ?, ?, ?)"),
            &[
                SqlValue::Text("evil".into()),
                SqlValue::Text("orchestrator".into()),
                SqlValue::Null,
                SqlValue::Int(10),
            ],
        )
        .expect_err("no PULL_TASKS takes an executor type");
    assert!(
        error.to_string().contains("Invalid argument types"),
        "{error}"
    );
    let pulled = session
        .query_rows(
            &format!("CALL {schema}.PULL_TASKS(?, ?, ?)"),
            &[
                SqlValue::Text("evil".into()),
                SqlValue::Null,
                SqlValue::Int(10),
            ],
        )
        .expect("PULL_TASKS");
    assert_eq!(
        pulled.iter().map(|row| row[0].clone()).collect::<Vec<_>>(),
        vec![Some(worker_task.to_string())],
        "worker tasks only"
    );
    for (call, params) in [
        ("HEARTBEAT_TASK(?, ?)", vec![id.clone(), token.clone()]),
        (
            "COMPLETE_TASK(?, ?, ?)",
            vec![id.clone(), token.clone(), SqlValue::Text("{}".into())],
        ),
        (
            "FAIL_TASK(?, ?, ?, ?)",
            vec![
                id.clone(),
                token.clone(),
                SqlValue::Text("forged".into()),
                SqlValue::Bool(false),
            ],
        ),
    ] {
        let rows = session
            .query_rows(&format!("CALL {schema}.{call}"), &params)
            .unwrap_or_else(|error| panic!("CALL {call}: {error}"));
        assert!(
            rows.is_empty(),
            "{call} sees no orchestrator task: {rows:?}"
        );
    }
    for retired in ["PUSH_TASKS(?, ?, ?)", "EXPIRE_LEASES()"] {
        let params = if retired.starts_with("PUSH") {
            vec![
                SqlValue::Int(1),
                SqlValue::Text("[]".into()),
                SqlValue::Text("[]".into()),
            ]
        } else {
            Vec::new()
        };
        let error = session
            .query_rows(&format!("CALL {schema}.{retired}"), &params)
            .expect_err("there is no such procedure");
        assert!(error.to_string().contains("Unknown function"), "{error}");
    }
    let status = fixture.metadata.rows(
        &mut session,
        &format!(
            "SELECT STATUS, FAILURES FROM {} WHERE ID = {}",
            fixture.metadata.object("TASK_QUEUE"),
            orchestrator_task.id()
        ),
    );
    assert_eq!(status, vec![vec![text("executing"), text("0")]]);
}

/// An upgrade from a version whose procedures took the executor type (or let workers push)
/// leaves none of them callable: Snowflake overloads by signature, so they are dropped.
#[test]
fn deploy_drops_the_retired_procedure_signatures() {
    let metadata = Metadata::fresh("retired");
    let mut session = metadata.session();
    let without = DeployOptions {
        procedures: false,
        ..emulator_deploy_options()
    };
    metadata::deploy(&mut session, &metadata.names, &without).expect("deploy without procedures");
    let schema = format!("{}.DATA_MIGRATION", metadata.database.name);
    let old = |signature: &str| {
        format!(
            "CREATE OR REPLACE PROCEDURE {schema}.{signature}\n\
             RETURNS TABLE (ID BIGINT)\nLANGUAGE SQL\nEXECUTE AS OWNER\nAS\n$$\n\
             DECLARE\n    r RESULTSET;\nBEGIN\n    r := (SELECT 1);\n    RETURN TABLE(r);\nEND\n$$"
        )
    };
    for signature in [
        "PULL_TASKS(CONSUMER_ID VARCHAR, EXECUTOR_TYPE VARCHAR, AFFINITY VARCHAR, CAPACITY BIGINT)",
        "PUSH_TASKS(WORKFLOW_ID BIGINT, TASKS VARCHAR, EDGES VARCHAR)",
        "EXPIRE_LEASES()",
    ] {
        session
            .execute(&old(signature), &[])
            .expect("an old version's procedure");
    }
    let report = metadata::deploy(
        &mut session,
        &metadata.names,
        &DeployOptions {
            procedures: true,
            ..emulator_deploy_options()
        },
    )
    .expect("deploy with procedures");
    assert!(report.procedures_deployed);
    for (call, count) in [("PULL_TASKS", 4), ("PUSH_TASKS", 3), ("EXPIRE_LEASES", 0)] {
        let params = vec![SqlValue::Null; count];
        let placeholders = vec!["?"; count].join(", ");
        let error = session
            .query_rows(&format!("CALL {schema}.{call}({placeholders})"), &params)
            .expect_err("the retired signature is gone");
        let message = error.to_string();
        assert!(
            message.contains("Unknown function") || message.contains("Invalid argument types"),
            "{call}: {message}"
        );
    }
}

/// Snowflake's scoped transactions: COMPLETE_TASK commits on its own, so a caller's
/// transaction around it cannot take the completion back (review F2: bookkeeping that must
/// commit with a completion cannot rely on such a transaction with procedures).
#[test]
fn a_procedure_commits_on_its_own_inside_a_callers_transaction() {
    let fixture = Fixture::new("scoped", Transport::Procedure);
    let mut session = fixture.session();
    let workflow_id = fixture.metadata.workflow(&mut session, "scoped", None);
    push_tasks(&fixture.queue, &mut session, workflow_id, vec![task("a")]);
    let claimed = fixture
        .queue
        .pull(&mut session, &worker("w", None), 1)
        .expect("pull");
    /// The caller's own failure after the CALL, which rolls its transaction back.
    #[derive(Debug)]
    struct CallerFailed;
    impl From<migration_core::snowflake::SnowflakeError> for CallerFailed {
        fn from(error: migration_core::snowflake::SnowflakeError) -> Self {
            panic!("no Snowflake error expected: {error}")
        }
    }
    let outcome: Result<(), CallerFailed> = session.transaction(|session| {
        fixture
            .queue
            .complete(session, &claimed[0].lease, &serde_json::json!({}))
            .expect("COMPLETE_TASK");
        Err(CallerFailed)
    });
    assert!(outcome.is_err());
    assert_eq!(
        statuses(&fixture.metadata, &mut session)[&claimed[0].id()],
        "completed",
        "the procedure's own transaction committed"
    );
}
