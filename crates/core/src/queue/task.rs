//! The values that go into and come out of the queue: new tasks and their batches, claimed
//! tasks, leases and outcomes.

use std::time::Duration;

use serde_json::Value;

use super::error::QueueError;

/// Who executes a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutorType {
    /// A worker process next to the source database.
    Worker,
    /// The orchestrator (metadata work, COPY INTO).
    Orchestrator,
}

impl ExecutorType {
    /// The value stored in TASK_QUEUE.EXECUTOR_TYPE.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorType::Worker => "worker",
            ExecutorType::Orchestrator => "orchestrator",
        }
    }
}

/// How often a task may be retried and how long it waits in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retryable failures allowed before the task fails for good (3 means up to 4 attempts).
    pub max_retries: u32,
    /// Expired leases allowed before the task fails for good.
    pub max_abandonments: u32,
    /// Delay before the first retry; each further retry doubles it.
    pub backoff_base: Duration,
    /// Upper bound of the delay.
    pub backoff_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: default_max_retries(),
            max_abandonments: default_max_abandonments(),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(600),
        }
    }
}

/// Retryable failures allowed by default (idempotent tasks).
pub fn default_max_retries() -> u32 {
    3
}

/// Expired leases allowed by default: many more than retries. A retry follows an error the
/// task itself reported; an expired lease almost always means its holder died or lost
/// Snowflake (a killed or restarted process, a lost machine, a network partition) while the
/// task was healthy, and each such event abandons every task the holder ran. A poisonous task
/// that kills every process running it still fails for good, after this many holders.
pub fn default_max_abandonments() -> u32 {
    10
}

pub use crate::lease::default_lease;

/// The delay before retry number `failures_so_far + 1`:
/// `min(backoff_max, backoff_base * 2^failures_so_far)`, as the fail statement computes it.
pub fn backoff_delay(policy: &RetryPolicy, failures_so_far: u32) -> Duration {
    let factor = 2u64.saturating_pow(failures_so_far.min(30));
    let seconds = policy.backoff_base.as_secs().saturating_mul(factor);
    Duration::from_secs(seconds.min(policy.backoff_max.as_secs()))
}

/// A task to push.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub executor_type: ExecutorType,
    /// What to do: `analyze`, `extract`, `load`, ...
    pub kind: String,
    /// For people reading the queue: "extract partition 3 of DB.S.T".
    pub name: Option<String>,
    pub table_id: Option<i64>,
    pub partition_id: Option<i64>,
    pub payload: Value,
    /// Lower runs first.
    pub priority: i64,
    pub retry: RetryPolicy,
    /// Lease granted per claim and per heartbeat.
    pub lease: Duration,
}

impl NewTask {
    /// A task with default priority, retry policy and lease.
    pub fn new(executor_type: ExecutorType, kind: impl Into<String>, payload: Value) -> Self {
        NewTask {
            executor_type,
            kind: kind.into(),
            name: None,
            table_id: None,
            partition_id: None,
            payload,
            priority: 100,
            retry: RetryPolicy::default(),
            lease: default_lease(),
        }
    }
}

/// Tasks pushed together, with dependency edges between them (indexes into the batch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskBatch {
    tasks: Vec<NewTask>,
    /// `(predecessor, successor)`.
    edges: Vec<(usize, usize)>,
}

impl TaskBatch {
    pub fn new() -> Self {
        TaskBatch::default()
    }

    /// Adds a task and returns its index in the batch.
    pub fn add(&mut self, task: NewTask) -> usize {
        self.tasks.push(task);
        self.tasks.len() - 1
    }

    /// `successor` waits until `predecessor` completed (and fails if it fails for good).
    pub fn add_dependency(&mut self, predecessor: usize, successor: usize) {
        self.edges.push((predecessor, successor));
    }

    pub fn tasks(&self) -> &[NewTask] {
        &self.tasks
    }

    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Edges point at tasks of the batch and form no cycle.
    pub fn validate(&self) -> Result<(), QueueError> {
        let count = self.tasks.len();
        for &(predecessor, successor) in &self.edges {
            for index in [predecessor, successor] {
                if index >= count {
                    return Err(QueueError::UnknownBatchIndex { index, count });
                }
            }
            if predecessor == successor {
                return Err(QueueError::DependencyCycle {
                    task_index: successor,
                });
            }
        }
        if let Some(task_index) = first_task_on_cycle(count, &self.edges) {
            return Err(QueueError::DependencyCycle { task_index });
        }
        Ok(())
    }

    /// The JSON array bound to `:tasks` of `push.sql`.
    pub fn tasks_json(&self) -> String {
        let blocked: Vec<bool> = (0..self.tasks.len())
            .map(|index| self.edges.iter().any(|&(_, successor)| successor == index))
            .collect();
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task)| {
                serde_json::json!({
                    "index": index,
                    "executor_type": task.executor_type.as_str(),
                    "kind": task.kind,
                    "name": task.name,
                    "table_id": task.table_id,
                    "partition_id": task.partition_id,
                    "payload": task.payload,
                    "priority": task.priority,
                    "blocked": blocked[index],
                    "lease_seconds": task.lease.as_secs().max(1),
                    "max_retries": task.retry.max_retries,
                    "max_abandonments": task.retry.max_abandonments,
                    "backoff_base_seconds": task.retry.backoff_base.as_secs(),
                    "backoff_max_seconds": task.retry.backoff_max.as_secs(),
                })
            })
            .collect();
        Value::Array(tasks).to_string()
    }

    /// The JSON array bound to `:edges` of `push.sql`.
    pub fn edges_json(&self) -> String {
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|&(predecessor, successor)| {
                serde_json::json!({
                    "predecessor_index": predecessor,
                    "successor_index": successor,
                })
            })
            .collect();
        Value::Array(edges).to_string()
    }
}

/// Kahn's algorithm: `None` when the graph is acyclic, else a task that sits on a cycle (or
/// behind one).
fn first_task_on_cycle(count: usize, edges: &[(usize, usize)]) -> Option<usize> {
    let mut incoming = vec![0usize; count];
    for &(_, successor) in edges {
        incoming[successor] += 1;
    }
    let mut ready: Vec<usize> = (0..count).filter(|&index| incoming[index] == 0).collect();
    let mut done = 0;
    while let Some(index) = ready.pop() {
        done += 1;
        for &(predecessor, successor) in edges {
            if predecessor == index {
                incoming[successor] -= 1;
                if incoming[successor] == 0 {
                    ready.push(successor);
                }
            }
        }
    }
    if done == count {
        None
    } else {
        (0..count).find(|&index| incoming[index] > 0)
    }
}

/// A task of a pushed batch and the id it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedTask {
    pub index: usize,
    pub id: i64,
    /// `pending` or `blocked`.
    pub status: String,
}

/// A consumer of the queue: a worker or an orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Stable for the life of the process, e.g. `worker-<uuid>`.
    pub id: String,
    pub executor_type: ExecutorType,
    /// `None` takes every task; a value takes tasks with the same affinity, tasks without one,
    /// and, when it holds `*`, tasks whose affinity matches it as a pattern.
    pub affinity: Option<String>,
}

/// Proof of holding a task: its id, the token of the claim, and the executor type it was
/// claimed as (the fence of heartbeat, complete, fail and release; the generated procedures
/// ignore it and always use `worker`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    pub task_id: i64,
    pub claim_token: String,
    pub executor_type: ExecutorType,
}

/// A task won by `pull`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTask {
    pub lease: Lease,
    pub workflow_id: i64,
    pub kind: String,
    pub name: Option<String>,
    pub table_id: Option<i64>,
    pub partition_id: Option<i64>,
    pub payload: Value,
    /// 1 on the first claim.
    pub attempt: i64,
    /// Renew with `heartbeat` well within this.
    pub lease_duration: Duration,
}

impl ClaimedTask {
    pub fn id(&self) -> i64 {
        self.lease.task_id
    }
}

/// A failure to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    pub message: String,
    /// Whether a later attempt may succeed (network trouble, throttling).
    pub retryable: bool,
}

/// What `fail` did with the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back to pending, invisible for `delay`.
    Retrying { failures: i64, delay: Duration },
    /// Failed for good; blocked successors failed with it.
    Failed { failures: i64 },
}

/// A task whose lease `expire` took back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredTask {
    pub task_id: i64,
    /// `pending` (re-queued) or `failed` (abandoned too often).
    pub status: String,
    pub abandonments: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(kind: &str) -> NewTask {
        NewTask::new(ExecutorType::Worker, kind, serde_json::json!({"k": kind}))
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (0..6)
            .map(|n| backoff_delay(&policy, n).as_secs())
            .collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 600]);
        assert_eq!(backoff_delay(&policy, u32::MAX).as_secs(), 600);
    }

    #[test]
    fn cycles_and_bad_indexes_are_refused() {
        let mut batch = TaskBatch::new();
        let a = batch.add(task("a"));
        let b = batch.add(task("b"));
        let c = batch.add(task("c"));
        batch.add_dependency(a, b);
        batch.add_dependency(b, c);
        assert!(batch.validate().is_ok());
        batch.add_dependency(c, b);
        assert!(matches!(
            batch.validate(),
            Err(QueueError::DependencyCycle { .. })
        ));

        let mut batch = TaskBatch::new();
        batch.add(task("a"));
        batch.add_dependency(0, 5);
        insta::assert_snapshot!(batch.validate().expect_err("bad index").to_string());
    }

    #[test]
    fn only_tasks_with_predecessors_start_blocked() {
        let mut batch = TaskBatch::new();
        let extract = batch.add(task("extract"));
        let load = batch.add(task("load"));
        batch.add_dependency(extract, load);
        let tasks: Value = serde_json::from_str(&batch.tasks_json()).expect("json");
        assert_eq!(tasks[0]["blocked"], false);
        assert_eq!(tasks[1]["blocked"], true);
        assert_eq!(tasks[1]["lease_seconds"], 300);
        assert_eq!(
            batch.edges_json(),
            r#"[{"predecessor_index":0,"successor_index":1}]"#
        );
    }

    proptest::proptest! {
        /// Edges that always point forward form a DAG; one edge pointing back from the last
        /// task of a forward chain closes a cycle.
        #[test]
        fn forward_edges_validate_and_a_back_edge_is_a_cycle(
            count in 2usize..30,
            raw_edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
        ) {
            let mut batch = TaskBatch::new();
            for index in 0..count {
                batch.add(task(&format!("t{index}")));
            }
            for (a, b) in raw_edges {
                let (a, b) = (a % count, b % count);
                if a < b {
                    batch.add_dependency(a, b);
                }
            }
            proptest::prop_assert!(batch.validate().is_ok());

            for index in 1..count {
                batch.add_dependency(index - 1, index);
            }
            batch.add_dependency(count - 1, 0);
            let is_cycle = matches!(batch.validate(), Err(QueueError::DependencyCycle { .. }));
            proptest::prop_assert!(is_cycle);
        }
    }
}
