//! The task queue over the direct transport against the local Snowflake emulator: the same
//! statements the generated procedures run, in client transactions. Time is a manual clock,
//! so leases and backoff need no sleeping.

#[path = "queue_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migration_core::queue::{
    ClaimedTask, Consumer, ExecutorType, FailOutcome, ManualClock, NewTask, Queue, QueueError,
    RetryPolicy, TaskBatch, TaskFailure, Transport,
};
use migration_core::snowflake::Session;
use support::{text, Metadata};

fn worker(id: &str, affinity: Option<&str>) -> Consumer {
    Consumer {
        id: id.to_owned(),
        executor_type: ExecutorType::Worker,
        affinity: affinity.map(str::to_owned),
    }
}

fn task(kind: &str) -> NewTask {
    NewTask::new(
        ExecutorType::Worker,
        kind,
        serde_json::json!({"kind": kind}),
    )
}

fn queue(metadata: &Metadata, clock: &ManualClock) -> Queue {
    Queue::new(&metadata.names, Transport::Direct)
        .expect("queue statements")
        .with_clock(Arc::new(clock.clone()))
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

#[test]
fn eight_consumers_draining_500_tasks_claim_every_task_exactly_once() {
    let metadata = Metadata::deployed("drain");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let workflow_id = metadata.workflow(&mut session, "drain", None);
    let mut pushed = Vec::new();
    for chunk in 0..5 {
        let tasks = (0..100).map(|n| task(&format!("t{chunk}_{n}"))).collect();
        pushed.extend(push_tasks(&queue, &mut session, workflow_id, tasks));
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

#[test]
fn completion_or_failure_by_a_non_holder_is_refused() {
    let metadata = Metadata::deployed("fence");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let workflow_id = metadata.workflow(&mut session, "fence", None);
    push_tasks(&queue, &mut session, workflow_id, vec![task("a")]);

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
        statuses(&metadata, &mut session)
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

#[test]
fn an_expired_lease_is_requeued_and_then_completes() {
    let metadata = Metadata::deployed("expire");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let workflow_id = metadata.workflow(&mut session, "expire", None);
    let mut leased = task("a");
    leased.lease = Duration::from_secs(60);
    let id = push_tasks(&queue, &mut session, workflow_id, vec![leased])[0];

    let first = queue
        .pull(&mut session, &worker("dies", None), 1)
        .expect("pull");
    assert_eq!(ids(&first), vec![id]);

    clock.advance(Duration::from_secs(59));
    assert!(
        queue.expire(&mut session).expect("expire").is_empty(),
        "lease still valid"
    );
    clock.advance(Duration::from_secs(2));
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
    assert_eq!(statuses(&metadata, &mut session)[&id], "completed");
}

#[test]
fn heartbeats_keep_a_lease_and_abandonment_past_the_maximum_fails_with_successors() {
    let metadata = Metadata::deployed("abandon");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
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
        clock.advance(Duration::from_secs(20));
        queue
            .heartbeat(&mut session, &claimed[0].lease)
            .expect("heartbeat");
        assert!(
            queue.expire(&mut session).expect("expire").is_empty(),
            "heartbeats extend the lease"
        );
    }

    clock.advance(Duration::from_secs(31));
    let expired = queue.expire(&mut session).expect("expire");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, "pending", "first abandonment re-queues");
    let again = queue
        .pull(&mut session, &worker("w2", None), 5)
        .expect("pull");
    assert_eq!(ids(&again), vec![fragile_id]);
    clock.advance(Duration::from_secs(31));
    let expired = queue.expire(&mut session).expect("expire");
    assert_eq!(
        expired[0].status, "failed",
        "second abandonment is past the maximum of 1"
    );
    assert_eq!(
        statuses(&metadata, &mut session)[&after_id],
        "failed",
        "the failure cascades"
    );
}

#[test]
fn a_dag_unblocks_only_when_all_predecessors_completed() {
    let metadata = Metadata::deployed("dag");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
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
        statuses(&metadata, &mut session)[&join_id],
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
    assert_eq!(statuses(&metadata, &mut session)[&join_id], "pending");
    let next = queue.pull(&mut session, &consumer, 10).expect("pull");
    assert_eq!(ids(&next), vec![join_id]);
}

#[test]
fn a_terminal_failure_cascades_to_blocked_successors_transitively() {
    let metadata = Metadata::deployed("cascade");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
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

    let after = statuses(&metadata, &mut session);
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

#[test]
fn backoff_delays_the_next_pull_and_retries_are_bounded() {
    let metadata = Metadata::deployed("backoff");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let workflow_id = metadata.workflow(&mut session, "backoff", None);
    let mut flaky = task("flaky");
    flaky.retry = RetryPolicy {
        max_retries: 2,
        max_abandonments: 3,
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(15),
    };
    let id = push_tasks(&queue, &mut session, workflow_id, vec![flaky])[0];
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
    clock.advance(Duration::from_secs(9));
    assert!(
        queue
            .pull(&mut session, &consumer, 1)
            .expect("pull")
            .is_empty(),
        "still invisible"
    );
    clock.advance(Duration::from_secs(2));
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
    clock.advance(Duration::from_secs(16));
    let claimed = queue.pull(&mut session, &consumer, 1).expect("pull");
    let outcome = queue
        .fail(&mut session, &claimed[0].lease, &network)
        .expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::Failed { failures: 3 },
        "two retries used up"
    );
    clock.advance(Duration::from_secs(60));
    assert!(queue
        .pull(&mut session, &consumer, 1)
        .expect("pull")
        .is_empty());
}

#[test]
fn affinity_rules_hold() {
    let metadata = Metadata::deployed("affinity");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let mut by_affinity = BTreeMap::new();
    for (name, affinity) in [
        ("none", None),
        ("eu", Some("eu-west")),
        ("us", Some("us_east")),
        ("look-alike", Some("usXeast")),
    ] {
        let workflow_id = metadata.workflow(&mut session, name, affinity);
        let id = push_tasks(&queue, &mut session, workflow_id, vec![task(name)])[0];
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

#[test]
fn release_gives_tasks_back_without_counting_a_failure() {
    let metadata = Metadata::deployed("release");
    let clock = ManualClock::starting_now();
    let mut session = metadata.session();
    let queue = queue(&metadata, &clock);
    let workflow_id = metadata.workflow(&mut session, "release", None);
    let pushed = push_tasks(
        &queue,
        &mut session,
        workflow_id,
        vec![task("a"), task("b")],
    );
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
