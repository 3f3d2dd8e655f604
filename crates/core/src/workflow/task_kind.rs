//! The kinds of task a workflow pushes (TASK_QUEUE.KIND) and the facts of the task graph that
//! belong to each kind: who runs it, how urgent it is, and which kind's result it reads.
//!
//! This is the one place a new kind is added (validation's schema, metrics and rows checks,
//! sync's checksum): add the variant, then the compiler lists every `match` below that must
//! say who runs it, its priority and its predecessor. No match here has a `_ =>` arm, so none
//! can be forgotten. Its payload and result types go to `payload.rs`, the tasks it pushes to
//! `task_graph.rs`.

use std::fmt;
use std::str::FromStr;

use crate::queue::ExecutorType;

/// The kinds of task a data-migration workflow pushes (TASK_QUEUE.KIND).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Worker: read the source catalog and plan the partitions of one table.
    Analyze,
    /// Orchestrator: create the target table and push the partition tasks.
    Plan,
    /// Worker: extract one partition to Parquet files on the stage.
    Extract,
    /// Orchestrator: COPY one partition's files into the target table.
    Load,
}

/// A TASK_QUEUE.KIND this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown task kind `{0}`: this worker or orchestrator is older than the one that pushed it"
)]
pub struct UnknownTaskKind(pub String);

impl TaskKind {
    /// Every kind, in the order the graph runs them.
    pub const ALL: [TaskKind; 4] = [
        TaskKind::Analyze,
        TaskKind::Plan,
        TaskKind::Extract,
        TaskKind::Load,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TaskKind::Analyze => "analyze",
            TaskKind::Plan => "plan",
            TaskKind::Extract => "extract",
            TaskKind::Load => "load",
        }
    }

    /// Who runs tasks of this kind: workers read the source, the orchestrator writes the
    /// target and the metadata.
    pub const fn executor(self) -> ExecutorType {
        match self {
            TaskKind::Analyze | TaskKind::Extract => ExecutorType::Worker,
            TaskKind::Plan | TaskKind::Load => ExecutorType::Orchestrator,
        }
    }

    /// TASK_QUEUE.PRIORITY of tasks of this kind (lower runs first): a table is analyzed and
    /// planned before partition work of other workflows.
    pub const fn priority(self) -> i64 {
        match self {
            TaskKind::Analyze | TaskKind::Plan => 10,
            TaskKind::Extract | TaskKind::Load => 20,
        }
    }

    /// The kind of the task this kind depends on in the queue and whose completed result it
    /// reads: a plan reads its analyze, a load its extract. `None` for kinds pushed without a
    /// predecessor (an extract is pushed by its plan's transaction, not behind it).
    pub const fn predecessor(self) -> Option<TaskKind> {
        match self {
            TaskKind::Analyze | TaskKind::Extract => None,
            TaskKind::Plan => Some(TaskKind::Analyze),
            TaskKind::Load => Some(TaskKind::Extract),
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = UnknownTaskKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownTaskKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_kind_is_explained() {
        for kind in TaskKind::ALL {
            assert_eq!(kind.as_str().parse::<TaskKind>().unwrap(), kind);
        }
        let err = "vacuum".parse::<TaskKind>().unwrap_err().to_string();
        assert!(err.contains("`vacuum`"), "{err}");
    }

    #[test]
    fn workers_read_the_source_and_the_orchestrator_writes_the_target() {
        let by_worker: Vec<TaskKind> = TaskKind::ALL
            .into_iter()
            .filter(|kind| kind.executor() == ExecutorType::Worker)
            .collect();
        assert_eq!(by_worker, [TaskKind::Analyze, TaskKind::Extract]);
    }

    #[test]
    fn each_orchestrator_kind_reads_the_worker_kind_before_it() {
        for kind in TaskKind::ALL {
            if let Some(predecessor) = kind.predecessor() {
                assert_eq!(predecessor.executor(), ExecutorType::Worker, "{kind}");
                assert_eq!(kind.executor(), ExecutorType::Orchestrator, "{kind}");
                assert_eq!(predecessor.priority(), kind.priority(), "{kind}");
            }
        }
        assert_eq!(TaskKind::Plan.predecessor(), Some(TaskKind::Analyze));
        assert_eq!(TaskKind::Load.predecessor(), Some(TaskKind::Extract));
    }

    #[test]
    fn priorities_are_pinned() {
        let priorities = TaskKind::ALL.map(TaskKind::priority);
        assert_eq!(priorities, [10, 10, 20, 20]);
    }
}
