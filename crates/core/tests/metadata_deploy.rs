//! Metadata deployment against the local Snowflake emulator: objects, idempotence, the lock
//! between concurrent deployers, retry of a failed version, workflow creation and the views.

#[path = "queue_support/mod.rs"]
mod support;

use migration_core::metadata::{
    self, deploy_migrations, migrations, MetadataError, Migration, NewWorkflow, WorkflowType,
};
use migration_core::queue::{
    Consumer, ExecutorType, NewTask, Queue, TaskBatch, TaskFailure, Transport,
};
use support::{emulator_deploy_options, text, Metadata};

fn all_versions() -> Vec<i64> {
    migrations()
        .iter()
        .map(|migration| migration.version)
        .collect()
}

fn ledger(
    metadata: &Metadata,
    session: &mut migration_core::snowflake::Session,
) -> Vec<Vec<Option<String>>> {
    metadata.rows(
        session,
        &format!(
            "SELECT VERSION, SUCCESS FROM {} ORDER BY VERSION",
            metadata.object("SCHEMA_MIGRATION")
        ),
    )
}

#[test]
fn deploy_creates_every_object_and_a_second_deploy_is_a_noop() {
    let metadata = Metadata::fresh("deploy");
    let mut session = metadata.session();
    let options = emulator_deploy_options();

    let first = metadata::deploy(&mut session, &metadata.names, &options).expect("first deploy");
    assert_eq!(first.applied, all_versions());
    assert!(
        !first.procedures_deployed,
        "the emulator deploy skips procedures"
    );

    for object in [
        "WORKFLOW",
        "TASK_QUEUE",
        "TASK_DEPENDENCY",
        "TABLE_METADATA",
        "PARTITION_METADATA",
        "LOADED_FILE",
        "TABLE_PROGRESS",
        "TABLE_PROGRESS_WITH_EXAMPLE_ERROR",
        "DATA_MIGRATION_ERROR",
    ] {
        let rows = metadata.rows(
            &mut session,
            &format!("SELECT COUNT(*) FROM {}", metadata.object(object)),
        );
        assert_eq!(rows, vec![vec![text("0")]], "{object} exists and is empty");
    }
    let rows = metadata.rows(
        &mut session,
        &format!(
            "SELECT COUNT(*) FROM {}.DATA_VALIDATION.VALIDATION_RESULT",
            metadata.database.name
        ),
    );
    assert_eq!(rows, vec![vec![text("0")]]);

    let ledger_before = ledger(&metadata, &mut session);
    assert_eq!(ledger_before.len(), all_versions().len());
    assert!(
        ledger_before.iter().all(|row| row[1] == text("true")),
        "{ledger_before:?}"
    );

    let second = metadata::deploy(&mut session, &metadata.names, &options).expect("second deploy");
    assert!(second.is_noop(), "{second:?}");
    assert_eq!(ledger(&metadata, &mut session), ledger_before);
}

#[test]
fn two_concurrent_deploys_do_not_both_migrate() {
    let metadata = Metadata::fresh("deploy_race");
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let metadata = &metadata;
                scope.spawn(move || {
                    let mut session = metadata.session();
                    metadata::deploy(&mut session, &metadata.names, &emulator_deploy_options())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("deploy thread does not panic"))
            .collect()
    });
    let mut applied = Vec::new();
    for report in reports {
        applied.extend(report.expect("both deploys succeed").applied);
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        all_versions(),
        "each version applied by exactly one deployer"
    );

    let mut session = metadata.session();
    let lock = metadata.rows(
        &mut session,
        &format!(
            "SELECT OWNER FROM {}",
            metadata.object("SCHEMA_MIGRATION_LOCK")
        ),
    );
    assert_eq!(lock, vec![vec![None]], "one lock row, released");
}

#[test]
fn a_failed_version_is_recorded_and_retried_by_the_next_deploy() {
    let metadata = Metadata::fresh("deploy_retry");
    let mut session = metadata.session();
    let options = emulator_deploy_options();
    // The version after the last real one.
    let next = migrations().last().expect("migrations exist").version + 1;
    let file = format!("V{next:03}__broken.sql");
    let broken = Migration::from_file(
        &file,
        "CREATE TABLE IF NOT EXISTS {{migration}}.NEXT_FIRST (X NUMBER(38,0));\n\
         CREATE OR REPLACE VIEW {{migration}}.NEXT_VIEW AS SELECT X FROM {{migration}}.NEXT_MISSING;",
    )
    .expect("valid name");
    let mut with_broken = migrations();
    with_broken.push(broken);

    let error = deploy_migrations(&mut session, &metadata.names, &with_broken, &options)
        .expect_err("the next version fails");
    match &error {
        MetadataError::MigrationFailed {
            version, statement, ..
        } => {
            assert_eq!(*version, next);
            assert!(statement.contains("NEXT_VIEW"), "{statement}");
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    let rows = ledger(&metadata, &mut session);
    assert_eq!(
        rows.last(),
        Some(&vec![text(&next.to_string()), text("false")]),
        "{rows:?}"
    );
    assert_eq!(rows.len(), all_versions().len() + 1);

    let fixed = Migration::from_file(
        &file,
        "CREATE TABLE IF NOT EXISTS {{migration}}.NEXT_FIRST (X NUMBER(38,0));\n\
         CREATE OR REPLACE VIEW {{migration}}.NEXT_VIEW AS SELECT X FROM {{migration}}.NEXT_FIRST;",
    )
    .expect("valid name");
    let mut with_fixed = migrations();
    with_fixed.push(fixed);
    let report = deploy_migrations(&mut session, &metadata.names, &with_fixed, &options)
        .expect("the retried version succeeds");
    assert_eq!(
        report.applied,
        vec![next],
        "only the failed version runs again"
    );
    let rows = ledger(&metadata, &mut session);
    assert_eq!(
        rows.last(),
        Some(&vec![text(&next.to_string()), text("true")])
    );
    assert_eq!(rows.len(), all_versions().len() + 1);
}

#[test]
fn create_workflow_inserts_a_pending_row_and_refuses_a_taken_name() {
    let metadata = Metadata::deployed("workflow");
    let mut session = metadata.session();
    let configuration =
        serde_json::json!({"tables": [{"source": "main.orders"}], "affinity": "eu"});
    let workflow = NewWorkflow {
        name: "nightly".to_owned(),
        workflow_type: WorkflowType::DataMigration,
        source_platform: config_schema::SourcePlatform::Postgresql,
        affinity: Some("eu".to_owned()),
        configuration: configuration.clone(),
        connection_name: Some("prod".to_owned()),
    };
    let id = metadata::create_workflow(&mut session, &metadata.names, &workflow).expect("created");

    let rows = metadata.rows(
        &mut session,
        &format!(
            "SELECT ID, NAME, WORKFLOW_TYPE, SOURCE_PLATFORM, STATUS, AFFINITY, CONNECTION_NAME, CONFIGURATION FROM {}",
            metadata.object("WORKFLOW")
        ),
    );
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row[0], Some(id.to_string()));
    assert_eq!(
        &row[1..7],
        &[
            text("nightly"),
            text("data-migration"),
            text("postgresql"),
            text("pending"),
            text("eu"),
            text("prod")
        ]
    );
    let stored: serde_json::Value =
        serde_json::from_str(row[7].as_deref().expect("configuration stored")).expect("JSON");
    assert_eq!(stored, configuration);

    let error = metadata::create_workflow(&mut session, &metadata.names, &workflow)
        .expect_err("name taken");
    assert!(
        matches!(&error, MetadataError::WorkflowNameTaken { name } if name == "nightly"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "a workflow named `nightly` already exists; choose another name with --name"
    );

    let other = NewWorkflow {
        name: "validation".to_owned(),
        workflow_type: WorkflowType::DataValidation,
        ..workflow
    };
    let second = metadata::create_workflow(&mut session, &metadata.names, &other).expect("created");
    assert_ne!(second, id);
}

/// DATA_MIGRATION_ERROR shows, per failed partition, that partition's own first error (not a
/// cascaded one, not another partition's), and TABLE_PROGRESS counts the failed partition.
#[test]
fn error_views_show_each_partitions_own_first_error() {
    let metadata = Metadata::deployed("views");
    let mut session = metadata.session();
    let workflow_id = metadata.workflow(&mut session, "wf", None);
    session
        .execute(
            &format!(
                "INSERT INTO {} (WORKFLOW_ID, SOURCE_IDENTIFIER, HAS_BEEN_ANALYZED, ESTIMATED_ROWS, CREATED_AT) \
                 VALUES (?, 'main.orders', TRUE, 300, '2026-01-01 00:00:00')",
                metadata.object("TABLE_METADATA")
            ),
            &[workflow_id.into()],
        )
        .expect("table row");
    let table_id = metadata.rows(
        &mut session,
        &format!("SELECT ID FROM {}", metadata.object("TABLE_METADATA")),
    )[0][0]
        .clone()
        .expect("table id");
    for (number, status) in [(1, "EXTRACTING"), (2, "EXTRACTING"), (3, "COMPLETED")] {
        session
            .execute(
                &format!(
                    "INSERT INTO {} (WORKFLOW_ID, TABLE_ID, PARTITION_NUMBER, STATUS, ROWS_EXTRACTED, ROWS_LOADED, CREATED_AT) \
                     VALUES (?, ?, ?, ?, 100, 100, '2026-01-01 00:00:00')",
                    metadata.object("PARTITION_METADATA")
                ),
                &[workflow_id.into(), table_id.as_str().into(), i64::from(number).into(), status.into()],
            )
            .expect("partition row");
    }
    let partition_ids = metadata.rows(
        &mut session,
        &format!(
            "SELECT ID FROM {} ORDER BY PARTITION_NUMBER",
            metadata.object("PARTITION_METADATA")
        ),
    );
    let partition_id = |index: usize| -> i64 {
        partition_ids[index][0]
            .as_deref()
            .and_then(|id| id.parse().ok())
            .expect("partition id")
    };
    let table_id: i64 = table_id.parse().expect("numeric");

    // Partition 1: extract fails for good, its load is failed by the cascade.
    // Partition 2: extract fails for good later, with its own message.
    let queue = Queue::new(&metadata.names, Transport::Direct).expect("queue");
    let mut batch = TaskBatch::new();
    let mut tasks = Vec::new();
    for index in 0..2 {
        let mut extract = NewTask::new(ExecutorType::Worker, "extract", serde_json::json!({}));
        extract.table_id = Some(table_id);
        extract.partition_id = Some(partition_id(index));
        let mut load = NewTask::new(ExecutorType::Orchestrator, "load", serde_json::json!({}));
        load.table_id = Some(table_id);
        load.partition_id = Some(partition_id(index));
        let extract = batch.add(extract);
        let load = batch.add(load);
        batch.add_dependency(extract, load);
        tasks.push(extract);
    }
    queue.push(&mut session, workflow_id, &batch).expect("push");
    let worker = Consumer {
        id: "w".to_owned(),
        executor_type: ExecutorType::Worker,
        affinity: None,
    };
    let claimed = queue
        .pull(&mut session, &worker, 2)
        .expect("pull both extracts");
    assert_eq!(claimed.len(), 2);
    for (task, message) in claimed
        .iter()
        .zip(["partition 1 broke", "partition 2 broke"])
    {
        let failure = TaskFailure {
            message: message.to_owned(),
            retryable: false,
        };
        queue
            .fail(&mut session, &task.lease, &failure)
            .expect("fail");
    }

    let errors = metadata.rows(
        &mut session,
        &format!(
            "SELECT PARTITION_NUMBER, TASK_KIND, ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id} ORDER BY PARTITION_NUMBER",
            metadata.object("DATA_MIGRATION_ERROR")
        ),
    );
    assert_eq!(
        errors,
        vec![
            vec![text("1"), text("extract"), text("partition 1 broke")],
            vec![text("2"), text("extract"), text("partition 2 broke")],
        ]
    );

    let progress = metadata.rows(
        &mut session,
        &format!(
            "SELECT TOTAL_PARTITIONS, PARTITIONS_IN_EXTRACTION_PHASE, LOADED_PARTITIONS, FAILED_PARTITIONS, EXAMPLE_ERROR_MESSAGE \
             FROM {} WHERE WORKFLOW_ID = {workflow_id}",
            metadata.object("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    assert_eq!(progress.len(), 1);
    assert_eq!(
        &progress[0][..4],
        &[text("3"), text("0"), text("1"), text("2")]
    );
    let example = progress[0][4].clone().unwrap_or_default();
    assert!(example.starts_with("partition "), "{example}");
}
