//! Unit tests of the queue's client side with a recording fake session: which statements each
//! transport sends, how results become typed outcomes, and retries of conflicting claims.

use std::collections::VecDeque;

use super::*;
use crate::snowflake::{ErrorKind, SnowflakeError};

/// Records every call; answers `execute` with queued row counts (default 0) and
/// `query_rows` with queued results (default no rows); fails the first `fail_first` calls.
#[derive(Default)]
struct FakeSession {
    calls: Vec<(String, Vec<SqlValue>)>,
    execute_results: VecDeque<i64>,
    query_results: VecDeque<Rows>,
    fail_first: usize,
    transactions: usize,
}

impl FakeSession {
    fn fail_if_asked(&mut self, sql: &str) -> Result<(), SnowflakeError> {
        if self.fail_first > 0 {
            self.fail_first -= 1;
            return Err(SnowflakeError::Statement {
                sql: sql.to_owned(),
                kind: ErrorKind::LockTimeout,
                code: None,
                sqlstate: None,
                message: "conflict".to_owned(),
            });
        }
        Ok(())
    }
}

impl SqlExecutor for FakeSession {
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<i64, SnowflakeError> {
        self.calls.push((sql.to_owned(), params.to_vec()));
        self.fail_if_asked(sql)?;
        Ok(self.execute_results.pop_front().unwrap_or(0))
    }

    fn query_rows(&mut self, sql: &str, params: &[SqlValue]) -> Result<Rows, SnowflakeError> {
        self.calls.push((sql.to_owned(), params.to_vec()));
        self.fail_if_asked(sql)?;
        Ok(self.query_results.pop_front().unwrap_or_default())
    }

    fn transaction<T, E>(&mut self, body: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<SnowflakeError>,
    {
        self.transactions += 1;
        body(self)
    }
}

/// A fake whose first query answers `rows`.
fn answering(rows: Rows) -> FakeSession {
    FakeSession {
        query_results: VecDeque::from([rows]),
        ..FakeSession::default()
    }
}

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|value| value.map(str::to_owned))
        .collect()
}

fn queue(transport: Transport) -> Queue {
    Queue::new(&MetadataNames::default(), transport).expect("queue statements are valid")
}

fn lease() -> Lease {
    Lease {
        task_id: 7,
        claim_token: "token-a".to_owned(),
        executor_type: ExecutorType::Worker,
    }
}

#[test]
fn procedure_transport_calls_with_arguments_in_order() {
    let mut session = FakeSession::default();
    let consumer = Consumer {
        id: "worker-1".to_owned(),
        executor_type: ExecutorType::Worker,
        affinity: None,
    };
    queue(Transport::Procedure)
        .pull(&mut session, &consumer, 4)
        .expect("empty pull");
    assert_eq!(session.calls.len(), 1);
    let (sql, params) = &session.calls[0];
    assert_eq!(
        sql,
        "CALL SNOWCONVERT_AI.DATA_MIGRATION.PULL_TASKS(?, ?, ?)"
    );
    assert_eq!(
        params,
        &vec![
            SqlValue::Text("worker-1".into()),
            SqlValue::Null,
            SqlValue::Int(4),
        ],
        "the executor type is not an argument: the procedure fixes it"
    );
    assert_eq!(
        session.transactions, 0,
        "the procedure runs its own transaction"
    );
}

#[test]
fn operations_without_a_worker_procedure_run_direct_statements_with_the_procedure_transport() {
    let queue = queue(Transport::Procedure);
    let orchestrator = Consumer {
        id: "orchestrator-1".to_owned(),
        executor_type: ExecutorType::Orchestrator,
        affinity: None,
    };
    let mut session = FakeSession::default();
    queue
        .pull(&mut session, &orchestrator, 2)
        .expect("empty pull");
    assert_eq!(session.transactions, 1, "a direct transaction, not a CALL");
    assert!(session
        .calls
        .iter()
        .all(|(sql, _)| !sql.starts_with("CALL")));
    assert!(
        session.calls[0]
            .1
            .contains(&SqlValue::Text("orchestrator".into())),
        "the trusted caller's executor type is bound: {:?}",
        session.calls[0].1
    );

    let mut session = FakeSession::default();
    queue.expire(&mut session).expect("nothing expired");
    let mut batch = TaskBatch::new();
    batch.add(NewTask::new(
        ExecutorType::Worker,
        "a",
        serde_json::Value::Null,
    ));
    let _ = queue.push(&mut session, 1, &batch);
    assert_eq!(session.transactions, 2);
    assert!(session
        .calls
        .iter()
        .all(|(sql, _)| !sql.starts_with("CALL")));
}

#[test]
fn procedure_calls_that_failed_for_certain_are_retried() {
    let mut session = FakeSession {
        fail_first: 2,
        ..FakeSession::default()
    };
    let error = queue(Transport::Procedure).heartbeat(&mut session, &lease());
    assert!(
        matches!(error, Err(QueueError::UnknownTask { task_id: 7 })),
        "answered on the third CALL: {error:?}"
    );
    assert_eq!(session.calls.len(), 3);
    assert!(session.calls.iter().all(|(sql, _)| sql.starts_with("CALL")));
}

#[test]
fn direct_transport_runs_steps_then_result_in_one_transaction() {
    let mut session = FakeSession {
        // fail step changes 1 row, cascade changes 2 then 1 then 0 rows
        execute_results: VecDeque::from([1, 2, 1, 0]),
        query_results: VecDeque::from([vec![row(&[
            Some("7"),
            Some("failed"),
            Some("1"),
            Some("1"),
            None,
        ])]]),
        ..FakeSession::default()
    };
    let outcome = queue(Transport::Direct)
        .fail(
            &mut session,
            &lease(),
            &TaskFailure {
                message: "boom".into(),
                retryable: false,
            },
        )
        .expect("failed for good");
    assert_eq!(outcome, FailOutcome::Failed { failures: 1 });
    assert_eq!(session.transactions, 1);
    let statements: Vec<&str> = session
        .calls
        .iter()
        .map(|(sql, _)| sql.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        statements,
        vec!["UPDATE", "UPDATE", "UPDATE", "UPDATE", "SELECT"]
    );
    let (_, fail_params) = &session.calls[0];
    assert!(fail_params.contains(&SqlValue::Text("boom".into())));
    assert!(fail_params.contains(&SqlValue::Bool(false)));
    assert!(
        fail_params.contains(&SqlValue::Text("worker".into())),
        "fenced by the lease's executor type"
    );
}

#[test]
fn results_become_typed_outcomes() {
    let queue = queue(Transport::Procedure);

    let mut session = answering(vec![row(&[Some("7"), Some("executing"), Some("0")])]);
    let error = queue.complete(&mut session, &lease(), &serde_json::json!({"rows": 1}));
    assert!(
        matches!(error, Err(QueueError::NotLeaseHolder { task_id: 7 })),
        "{error:?}"
    );

    let mut session = FakeSession::default();
    let error = queue.heartbeat(&mut session, &lease());
    assert!(
        matches!(error, Err(QueueError::UnknownTask { task_id: 7 })),
        "{error:?}"
    );

    let mut session = answering(vec![row(&[
        Some("7"),
        Some("pending"),
        Some("1"),
        Some("2"),
        Some("60"),
    ])]);
    let outcome = queue
        .fail(
            &mut session,
            &lease(),
            &TaskFailure {
                message: "net".into(),
                retryable: true,
            },
        )
        .expect("retrying");
    assert_eq!(
        outcome,
        FailOutcome::Retrying {
            failures: 2,
            delay: Duration::from_secs(60)
        }
    );

    let mut session = answering(vec![row(&[
        Some("11"),
        Some("3"),
        Some("extract"),
        None,
        Some("5"),
        Some("6.0"),
        Some("{\n  \"partition\": 2\n}"),
        Some("tok"),
        Some("1"),
        Some("300"),
    ])]);
    let consumer = Consumer {
        id: "w".into(),
        executor_type: ExecutorType::Worker,
        affinity: Some("eu*".into()),
    };
    let tasks = queue.pull(&mut session, &consumer, 1).expect("one task");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].id(), 11);
    assert_eq!(tasks[0].partition_id, Some(6));
    assert_eq!(tasks[0].payload["partition"], 2);
    assert_eq!(tasks[0].lease_duration, Duration::from_secs(300));
}

#[test]
fn conflicting_direct_transactions_are_retried_a_bounded_number_of_times() {
    let consumer = Consumer {
        id: "w".into(),
        executor_type: ExecutorType::Worker,
        affinity: None,
    };
    let mut session = FakeSession {
        fail_first: 2,
        ..FakeSession::default()
    };
    queue(Transport::Direct)
        .pull(&mut session, &consumer, 1)
        .expect("third attempt succeeds");
    assert_eq!(session.transactions, 3);

    let mut session = FakeSession {
        fail_first: 100,
        ..FakeSession::default()
    };
    let error = queue(Transport::Direct)
        .pull(&mut session, &consumer, 1)
        .expect_err("gives up");
    assert!(error.is_retryable());
    assert_eq!(session.transactions, DIRECT_ATTEMPTS as usize);
}

#[test]
fn push_validates_before_sending() {
    let mut session = FakeSession::default();
    let mut batch = TaskBatch::new();
    let a = batch.add(NewTask::new(
        ExecutorType::Worker,
        "a",
        serde_json::Value::Null,
    ));
    batch.add_dependency(a, a);
    let error = queue(Transport::Direct).push(&mut session, 1, &batch);
    assert!(matches!(
        error,
        Err(QueueError::DependencyCycle { task_index: 0 })
    ));
    assert!(session.calls.is_empty());
}

#[test]
fn zero_capacity_is_refused() {
    let mut session = FakeSession::default();
    let consumer = Consumer {
        id: "w".into(),
        executor_type: ExecutorType::Orchestrator,
        affinity: None,
    };
    let error = queue(Transport::Direct).pull(&mut session, &consumer, 0);
    assert!(matches!(error, Err(QueueError::ZeroCapacity)));
}

#[test]
fn error_messages() {
    insta::assert_snapshot!(QueueError::NotLeaseHolder { task_id: 42 }.to_string());
}

#[test]
fn integers_with_a_zero_scale_parse() {
    assert_eq!(parse_int("12"), Some(12));
    assert_eq!(parse_int("12.000"), Some(12));
    assert_eq!(parse_int("12.5"), None);
    assert_eq!(parse_int("x"), None);
}
