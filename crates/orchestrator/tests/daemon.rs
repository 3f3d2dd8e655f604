//! The daemon in-process against the Snowflake emulator, with a fake worker completing the
//! worker tasks by hand through the queue: claim, plan (table created or checked), load
//! (exactly once, also when repeated or when its bookkeeping was lost), completion.

mod support;

use std::time::Duration;

use config_schema::workflow::parse_workflow_value;
use config_schema::SourcePlatform;
use migration_core::plan::{
    build_table_plan, Bound, KeyValue, Partition, PlanInput, Probes, TableOptions, TablePlan,
};
use migration_core::queue::{Consumer, ExecutorType};
use migration_core::source::catalog::{SourceColumn, TableRef, TableStats};
use migration_core::workflow::{
    attempt_folder, AnalyzePayload, AnalyzeResult, ExtractPayload, ExtractResult,
    ExtractedFileResult,
};
use orchestrator::commands::{create_workflow, migration_workflow, Target};
use support::{rows, scalar, text, wait_for, Env, FakeWorker};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(90);

/// One table `main.main.orders` into `<test db>.TGT.ORDERS`.
fn create(env: &Env, name: &str) -> i64 {
    let document = serde_json::json!({
        "tables": [{
            "source": {"databaseName": "main", "schemaName": "main", "tableName": "orders"},
            "target": {"databaseName": env.database.name, "schemaName": "TGT", "tableName": "ORDERS"},
            "columnNamesToPartitionBy": ["id"]
        }]
    });
    let workflow =
        parse_workflow_value(&document, Some(SourcePlatform::Sqlite)).expect("valid workflow");
    let row = migration_workflow(name, SourcePlatform::Sqlite, &workflow, None).expect("row");
    let target = Target {
        params: env.params(),
        names: env.names.clone(),
        transport: migration_core::queue::Transport::Direct,
    };
    create_workflow(&target, &row).expect("create the workflow")
}

/// The plan a worker would report for `orders (id integer, name text)`: two partitions split
/// at id 3.
fn orders_plan() -> TablePlan {
    let mut id = SourceColumn::new("id", "integer", 1);
    id.nullable = false;
    let input = PlanInput {
        platform: SourcePlatform::Sqlite,
        table: TableRef::parse("main", "main", "orders"),
        columns: vec![id, SourceColumn::new("name", "text", 2)],
        primary_key: vec!["id".into()],
        stats: TableStats {
            row_count: 5,
            size_bytes: 100,
        },
        options: TableOptions::default(),
    };
    let mut plan = build_table_plan(&input, &Probes::default()).expect("plan");
    let cut = Bound {
        values: vec![KeyValue::Int(3)],
        inclusive: false,
    };
    plan.partitions = vec![
        Partition {
            index: 0,
            lower: None,
            upper: Some(cut.clone()),
            estimated_rows: 2,
        },
        Partition {
            index: 1,
            lower: Some(Bound {
                inclusive: true,
                ..cut
            }),
            upper: None,
            estimated_rows: 3,
        },
    ];
    plan
}

/// The daemon on a runtime of its own; the test thread plays the worker.
struct RunningDaemon {
    runtime: tokio::runtime::Runtime,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningDaemon {
    fn start(env: &Env) -> RunningDaemon {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let shutdown = CancellationToken::new();
        let handle = runtime.spawn(orchestrator::run(env.daemon_config(), shutdown.clone()));
        RunningDaemon {
            runtime,
            shutdown,
            handle,
        }
    }

    fn stop(self) {
        self.shutdown.cancel();
        self.runtime
            .block_on(self.handle)
            .expect("the daemon task does not panic")
            .expect("the daemon stops cleanly");
    }
}

fn workflow_status(
    env: &Env,
    session: &mut migration_core::snowflake::Session,
    id: i64,
) -> Option<String> {
    scalar(
        session,
        &format!(
            "SELECT STATUS FROM {} WHERE ID = {id}",
            env.object("WORKFLOW")
        ),
    )
}

fn wait_until_completed(env: &Env, session: &mut migration_core::snowflake::Session, id: i64) {
    wait_for("the workflow to complete", WAIT, || {
        (workflow_status(env, session, id).as_deref() == Some("completed")).then_some(())
    });
}

/// Completes the analyze task with `plan`; returns its payload.
fn complete_analyze(
    env: &Env,
    worker: &FakeWorker,
    session: &mut migration_core::snowflake::Session,
    plan: &TablePlan,
) -> AnalyzePayload {
    let task = worker.claim(session, "analyze");
    let payload = AnalyzePayload::from_json(&task.payload).expect("analyze payload");
    let result = AnalyzeResult { plan: plan.clone() };
    worker
        .queue
        .complete(session, &task.lease, &result.to_json())
        .expect("complete analyze");
    let _ = env;
    payload
}

/// Extracts a partition like a worker: a Parquet file PUT to the attempt folder.
fn complete_extract(
    worker: &FakeWorker,
    session: &mut migration_core::snowflake::Session,
    dir: &std::path::Path,
) -> ExtractPayload {
    complete_extract_reporting(worker, session, dir, 0)
}

/// [`complete_extract`], reporting `extra_rows` more rows than the file holds.
fn complete_extract_reporting(
    worker: &FakeWorker,
    session: &mut migration_core::snowflake::Session,
    dir: &std::path::Path,
    extra_rows: u64,
) -> ExtractPayload {
    let task = worker.claim(session, "extract");
    let payload = ExtractPayload::from_json(&task.payload).expect("extract payload");
    let (ids, names): (Vec<i64>, Vec<&str>) = if payload.partition.index == 0 {
        (vec![1, 2], vec!["ada", "bob"])
    } else {
        (vec![3, 4, 5], vec!["cy", "dé", "eve"])
    };
    let folder = attempt_folder(
        &payload.table_stage_folder,
        payload.partition.index,
        task.attempt,
    );
    let name = format!("part-{}-00000.parquet", payload.partition.index);
    let path = dir.join(&name);
    let bytes = support::write_parquet(&path, payload.plan.arrow_schema(), &ids, &names);
    session
        .put_file(&path, &folder)
        .expect("PUT the partition file");
    let rows = ids.len() as u64 + extra_rows;
    let result = ExtractResult {
        stage_folder: folder,
        files: vec![ExtractedFileResult {
            name,
            rows: ids.len() as u64,
            bytes,
        }],
        rows,
        bytes,
        checksum: format!("test-{}", payload.partition.index),
    };
    worker
        .queue
        .complete(session, &task.lease, &result.to_json())
        .expect("complete extract");
    payload
}

#[test]
fn daemon_claims_plans_loads_and_completes_a_workflow_and_a_repeated_load_is_a_no_op() {
    let env = Env::fresh("orch_flow");
    let workflow_id = create(&env, "FLOW");
    let mut session = env.session();
    assert_eq!(
        workflow_status(&env, &mut session, workflow_id),
        text("pending")
    );

    let daemon = RunningDaemon::start(&env);
    let worker = FakeWorker::new(&env);
    let plan = orders_plan();
    let analyze = complete_analyze(&env, &worker, &mut session, &plan);
    assert_eq!((analyze.workflow_id, analyze.table_index), (workflow_id, 0));
    let started = rows(
        &mut session,
        &format!(
            "SELECT STATUS, STARTED_AT IS NOT NULL FROM {} WHERE ID = {workflow_id}",
            env.object("WORKFLOW")
        ),
    );
    assert_eq!(started, vec![vec![text("executing"), text("true")]]);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut partitions: Vec<u32> = (0..2)
        .map(|_| {
            complete_extract(&worker, &mut session, dir.path())
                .partition
                .index
        })
        .collect();
    partitions.sort_unstable();
    assert_eq!(partitions, [0, 1]);
    wait_until_completed(&env, &mut session, workflow_id);
    daemon.stop();

    let target = format!("{}.TGT.ORDERS", env.database.name);
    let count = |session: &mut migration_core::snowflake::Session| {
        scalar(session, &format!("SELECT COUNT(*) FROM {target}"))
    };
    assert_eq!(count(&mut session), text("5"));
    assert_eq!(
        rows(
            &mut session,
            &format!("SELECT NAME FROM {target} WHERE ID = 4")
        ),
        vec![vec![text("dé")]]
    );
    let progress = rows(&mut session, &format!(
        "SELECT TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, EXTRACTED_ROWS::INT, LOADED_ROWS::INT, EXAMPLE_ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
        env.object("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
    ));
    assert_eq!(
        progress,
        vec![vec![
            text("2"),
            text("2"),
            text("0"),
            text("5"),
            text("5"),
            None
        ]]
    );
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE ID = {workflow_id} AND ENDED_AT IS NOT NULL",
                env.object("WORKFLOW")
            )
        ),
        text("1")
    );
    let ledger = |session: &mut migration_core::snowflake::Session| {
        scalar(
            session,
            &format!(
                "SELECT COUNT(*) || ':' || SUM(ROWS_LOADED)::INT FROM {}",
                env.object("LOADED_FILE")
            ),
        )
    };
    assert_eq!(ledger(&mut session), text("2:5"));

    // Run the load of partition 1 again, by hand: COPY skips the loaded file, the ledger
    // gives the count, nothing is added.
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    let rerun = |session: &mut migration_core::snowflake::Session| {
        session
            .execute(
                &format!(
                    "UPDATE {} SET STATUS = 'pending', VISIBLE_AT = '2000-01-01' WHERE KIND = 'load' AND NAME LIKE 'load partition 1 %'",
                    env.object("TASK_QUEUE")
                ),
                &[],
            )
            .expect("reset the load task");
        let consumer = Consumer {
            id: "test-orchestrator".into(),
            executor_type: ExecutorType::Orchestrator,
            affinity: None,
        };
        let task = context
            .queue
            .pull(session, &consumer, 1)
            .expect("pull")
            .into_iter()
            .next()
            .expect("the reset load task is pulled");
        orchestrator::daemon::execute_task(&context, session, &task)
    };
    rerun(&mut session).expect("a repeated load succeeds");
    assert_eq!(count(&mut session), text("5"));
    assert_eq!(ledger(&mut session), text("2:5"));

    // Lose the bookkeeping of that load (a crash right after COPY): the load history of the
    // attempt folder gives the count back.
    session
        .execute(
            &format!(
                "DELETE FROM {} WHERE PARTITION_ID IN (SELECT ID FROM {} WHERE PARTITION_NUMBER = 1)",
                env.object("LOADED_FILE"),
                env.object("PARTITION_METADATA")
            ),
            &[],
        )
        .expect("drop the ledger rows");
    rerun(&mut session).expect("a load after lost bookkeeping succeeds");
    assert_eq!(count(&mut session), text("5"));
    assert_eq!(ledger(&mut session), text("2:5"));
}

#[test]
fn an_existing_target_table_with_a_mismatching_column_fails_that_table() {
    let env = Env::fresh("orch_mismatch");
    let workflow_id = create(&env, "MISMATCH");
    let mut session = env.session();
    for sql in [
        format!("CREATE SCHEMA IF NOT EXISTS {}.TGT", env.database.name),
        format!(
            "CREATE TABLE {}.TGT.ORDERS (ID DATE, NAME VARCHAR)",
            env.database.name
        ),
    ] {
        session
            .execute(&sql, &[])
            .expect("prepare the existing table");
    }

    let daemon = RunningDaemon::start(&env);
    let worker = FakeWorker::new(&env);
    complete_analyze(&env, &worker, &mut session, &orders_plan());
    wait_until_completed(&env, &mut session, workflow_id);
    daemon.stop();

    let errors = rows(&mut session, &format!(
        "SELECT TASK_KIND, PARTITION_NUMBER, ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
        env.object("DATA_MIGRATION_ERROR")
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0][0], text("plan"));
    assert_eq!(errors[0][1], None);
    let message = errors[0][2].clone().unwrap_or_default();
    assert!(
        message.contains("already exists but does not match the source"),
        "{message}"
    );
    assert!(
        message.contains("column ID is DATE but the source needs NUMBER"),
        "{message}"
    );
    let example = scalar(
        &mut session,
        &format!(
            "SELECT EXAMPLE_ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
            env.object("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    assert_eq!(example.as_deref(), Some(message.as_str()));
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE WORKFLOW_ID = {workflow_id} AND KIND = 'extract'",
                env.object("TASK_QUEUE")
            )
        ),
        text("0"),
        "no partition task is pushed for a failed table"
    );
}

fn pull_orchestrator_task(
    context: &orchestrator::context::Context,
    session: &mut migration_core::snowflake::Session,
) -> migration_core::queue::ClaimedTask {
    let consumer = Consumer {
        id: "test-orchestrator".into(),
        executor_type: ExecutorType::Orchestrator,
        affinity: None,
    };
    context
        .queue
        .pull(session, &consumer, 1)
        .expect("pull")
        .into_iter()
        .next()
        .expect("an orchestrator task is pending")
}

#[test]
fn failed_extracts_and_short_loads_fail_their_partitions_and_a_repeated_plan_pushes_nothing_twice()
{
    let env = Env::fresh("orch_failures");
    let workflow_id = create(&env, "FAILURES");
    let mut session = env.session();
    let daemon = RunningDaemon::start(&env);
    let worker = FakeWorker::new(&env);
    complete_analyze(&env, &worker, &mut session, &orders_plan());

    let dir = tempfile::tempdir().expect("temp dir");
    // Partition 0 claims one row more than its file holds; partition 1 fails on the source.
    for _ in 0..2 {
        let task = worker.claim(&mut session, "extract");
        let payload = ExtractPayload::from_json(&task.payload).expect("payload");
        worker
            .queue
            .release(&mut session, std::slice::from_ref(&task.lease))
            .expect("release");
        if payload.partition.index == 0 {
            complete_extract_reporting(&worker, &mut session, dir.path(), 1);
        } else {
            let task = worker.claim(&mut session, "extract");
            let failure = migration_core::queue::TaskFailure {
                message: "source table main.main.orders vanished".into(),
                retryable: false,
            };
            worker
                .queue
                .fail(&mut session, &task.lease, &failure)
                .expect("fail the extract");
        }
    }
    wait_until_completed(&env, &mut session, workflow_id);
    daemon.stop();

    let statuses = rows(
        &mut session,
        &format!(
            "SELECT PARTITION_NUMBER, STATUS FROM {} ORDER BY PARTITION_NUMBER",
            env.object("PARTITION_METADATA")
        ),
    );
    assert_eq!(
        statuses,
        vec![
            vec![text("0"), text("FAILED")],
            vec![text("1"), text("FAILED")]
        ]
    );
    let errors = rows(&mut session, &format!(
        "SELECT PARTITION_NUMBER, TASK_KIND, ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id} ORDER BY PARTITION_NUMBER",
        env.object("DATA_MIGRATION_ERROR")
    ));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0][1], text("load"));
    let short = errors[0][2].clone().unwrap_or_default();
    assert!(
        short.contains("partition 0 of main.main.orders: 2 rows loaded but 3 rows extracted"),
        "{short}"
    );
    assert_eq!(
        errors[1][1],
        text("extract"),
        "the partition's own error, not the cascaded load"
    );
    assert_eq!(errors[1][2], text("source table main.main.orders vanished"));
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT FAILED_PARTITIONS FROM {} WHERE WORKFLOW_ID = {workflow_id}",
                env.object("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
            )
        ),
        text("2")
    );

    // A plan repeated after a crash finds everything in place and pushes nothing again.
    session
        .execute(
            &format!(
                "UPDATE {} SET STATUS = 'pending', VISIBLE_AT = '2000-01-01' WHERE KIND = 'plan'",
                env.object("TASK_QUEUE")
            ),
            &[],
        )
        .expect("reset the plan task");
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    let task = pull_orchestrator_task(&context, &mut session);
    assert_eq!(task.kind, "plan");
    orchestrator::daemon::execute_task(&context, &mut session, &task)
        .expect("a repeated plan succeeds");
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE KIND IN ('extract', 'load')",
                env.object("TASK_QUEUE")
            )
        ),
        text("4")
    );
    assert_eq!(
        scalar(
            &mut session,
            &format!("SELECT COUNT(*) FROM {}", env.object("PARTITION_METADATA"))
        ),
        text("2")
    );
}

#[test]
fn the_daemon_claims_only_workflows_whose_affinity_matches() {
    let env = Env::fresh("orch_affinity");
    let mut ids = Vec::new();
    for (name, affinity) in [
        ("EAST", Some("eastus")),
        ("WEST", Some("west")),
        ("ANY", None),
    ] {
        let document = serde_json::json!({
            "tables": [{
                "source": {"databaseName": "main", "schemaName": "main", "tableName": "orders"},
                "target": {"databaseName": env.database.name, "schemaName": "TGT", "tableName": name},
                "columnNamesToPartitionBy": ["id"]
            }]
        });
        let workflow =
            parse_workflow_value(&document, Some(SourcePlatform::Sqlite)).expect("valid");
        let mut row =
            migration_workflow(name, SourcePlatform::Sqlite, &workflow, None).expect("row");
        row.affinity = affinity.map(str::to_owned);
        let target = Target {
            params: env.params(),
            names: env.names.clone(),
            transport: migration_core::queue::Transport::Direct,
        };
        ids.push(create_workflow(&target, &row).expect("create"));
    }

    let mut config = env.daemon_config();
    config.affinity = Some("east*".to_owned());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let shutdown = CancellationToken::new();
    let handle = runtime.spawn(orchestrator::run(config, shutdown.clone()));
    let mut session = env.session();
    wait_for("EAST and ANY to be claimed", WAIT, || {
        let executing = [ids[0], ids[2]]
            .iter()
            .all(|&id| workflow_status(&env, &mut session, id).as_deref() == Some("executing"));
        executing.then_some(())
    });
    // A few more rounds, then WEST must still be waiting for an orchestrator of its own.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(workflow_status(&env, &mut session, ids[1]), text("pending"));
    let analyze_affinities = rows(
        &mut session,
        &format!(
            "SELECT q.AFFINITY FROM {} q WHERE q.KIND = 'analyze' ORDER BY q.WORKFLOW_ID",
            env.object("TASK_QUEUE")
        ),
    );
    assert_eq!(
        analyze_affinities,
        vec![vec![text("eastus")], vec![None]],
        "tasks inherit the workflow's affinity"
    );
    shutdown.cancel();
    runtime
        .block_on(handle)
        .expect("no panic")
        .expect("clean stop");
}
