//! The procedure transport against a real Snowflake account. The emulator runs the generated
//! Snowflake Scripting with its own interpreter (queue_suite.rs runs the whole queue suite over
//! it); only a real account proves Snowflake's own behaviour (types of RETURNS TABLE, owner's
//! rights, lock waits).
//!
//! Ignored unless asked for (`cargo test -p migration-core --test queue_procedure_live --
//! --ignored`), so it never shows as passed without an account. It needs
//! `SNOWFLAKE_TEST_CONNECTION`, the name of a connection in `$SNOWFLAKE_HOME/connections.toml`
//! (default `~/.snowflake/connections.toml`) whose role may create a database. The test deploys
//! the metadata with procedures into a fresh database `DMO_QUEUE_TEST_<random>`, works the queue
//! through CALLs (push and expire run as the owner's direct statements), and drops the database.

use migration_core::metadata::{self, DeployOptions, MetadataNames, NewWorkflow, WorkflowType};
use migration_core::queue::{
    Consumer, ExecutorType, FailOutcome, NewTask, Queue, QueueError, TaskBatch, TaskFailure,
    Transport,
};
use migration_core::snowflake::Session;
use test_support::{live_connect_params, live_connection_name};

fn live_session(connection: &str) -> Session {
    Session::connect(&live_connect_params(connection)).expect("connect to Snowflake")
}

#[test]
#[ignore = "needs a Snowflake account: SNOWFLAKE_TEST_CONNECTION"]
fn procedures_work_the_queue_on_a_real_account() {
    let connection = live_connection_name("the procedure transport against Snowflake");
    let mut session = live_session(&connection);
    let database = format!("DMO_QUEUE_TEST_{}", uuid::Uuid::new_v4().simple()).to_uppercase();
    let names = MetadataNames {
        database: database.clone(),
        ..MetadataNames::default()
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        exercise(&mut session, &names)
    }));
    if let Err(error) = session.execute(&format!("DROP DATABASE IF EXISTS {database}"), &[]) {
        eprintln!("could not drop the test database {database}: {error}");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn exercise(session: &mut Session, names: &MetadataNames) {
    let options = DeployOptions {
        procedures: true,
        deployer: "live-test".to_owned(),
        ..DeployOptions::default()
    };
    let report = metadata::deploy(session, names, &options).expect("deploy with procedures");
    assert!(report.procedures_deployed);
    assert!(metadata::deploy(session, names, &options)
        .expect("second deploy")
        .is_noop());

    let workflow = NewWorkflow {
        name: "live".to_owned(),
        workflow_type: WorkflowType::DataMigration,
        source_platform: config_schema::SourcePlatform::Sqlite,
        affinity: None,
        configuration: serde_json::json!({}),
        connection_name: None,
    };
    let workflow_id = metadata::create_workflow(session, names, &workflow).expect("workflow");

    let queue = Queue::new(names, Transport::Procedure).expect("queue");
    let mut batch = TaskBatch::new();
    let first = batch.add(NewTask::new(
        ExecutorType::Worker,
        "first",
        serde_json::json!({"n": 1}),
    ));
    let second = batch.add(NewTask::new(
        ExecutorType::Worker,
        "second",
        serde_json::json!({"n": 2}),
    ));
    let third = batch.add(NewTask::new(
        ExecutorType::Worker,
        "third",
        serde_json::json!({"n": 3}),
    ));
    batch.add_dependency(first, second);
    batch.add_dependency(second, third);
    let pushed = queue
        .push(session, workflow_id, &batch)
        .expect("PUSH_TASKS");
    assert_eq!(
        pushed
            .iter()
            .map(|task| task.status.as_str())
            .collect::<Vec<_>>(),
        ["pending", "blocked", "blocked"]
    );

    let consumer = Consumer {
        id: "live-worker".to_owned(),
        executor_type: ExecutorType::Worker,
        affinity: None,
    };
    let claimed = queue.pull(session, &consumer, 5).expect("PULL_TASKS");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].payload, serde_json::json!({"n": 1}));
    queue
        .heartbeat(session, &claimed[0].lease)
        .expect("HEARTBEAT_TASK");
    let mut forged = claimed[0].lease.clone();
    forged.claim_token = "forged".to_owned();
    assert!(matches!(
        queue.complete(session, &forged, &serde_json::json!({})),
        Err(QueueError::NotLeaseHolder { .. })
    ));
    queue
        .complete(session, &claimed[0].lease, &serde_json::json!({"ok": true}))
        .expect("COMPLETE_TASK");

    let claimed = queue.pull(session, &consumer, 5).expect("PULL_TASKS");
    assert_eq!(claimed.len(), 1, "the second task was unblocked");
    let released = queue
        .release(session, &[claimed[0].lease.clone()])
        .expect("RELEASE_TASKS");
    assert_eq!(released, vec![claimed[0].id()]);
    let claimed = queue.pull(session, &consumer, 5).expect("PULL_TASKS");
    let outcome = queue
        .fail(
            session,
            &claimed[0].lease,
            &TaskFailure {
                message: "fatal".into(),
                retryable: false,
            },
        )
        .expect("FAIL_TASK");
    assert_eq!(outcome, FailOutcome::Failed { failures: 1 });
    assert!(
        queue
            .pull(session, &consumer, 5)
            .expect("PULL_TASKS")
            .is_empty(),
        "the third task failed by cascade"
    );
    assert!(queue.expire(session).expect("expire").is_empty());
    let retired = session.query_rows(
        &format!(
            "CALL {}.{}.PULL_TASKS(?, ?, ?, ?)",
            names.database, names.data_migration_schema
        ),
        &[
            migration_core::snowflake::SqlValue::Text("evil".into()),
            migration_core::snowflake::SqlValue::Text("orchestrator".into()),
            migration_core::snowflake::SqlValue::Null,
            migration_core::snowflake::SqlValue::Int(10),
        ],
    );
    assert!(
        retired.is_err(),
        "no PULL_TASKS takes the executor type: {retired:?}"
    );
}
