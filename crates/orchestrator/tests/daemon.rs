//! The daemon in-process against the Snowflake emulator, with a fake worker completing the
//! worker tasks by hand through the queue: claim, plan (table created or checked, existing rows
//! refused, appended to or truncated), load (exactly once: repeated, crashed before COMMIT,
//! racing another load; refusing tampered results), completion.

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

    // Run the load of partition 1 again, by hand, as if its completion had been lost after
    // its COPY committed: the ledger holds the attempt's files, so no COPY runs, the count
    // comes from the ledger, nothing is added.
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    // TaskError is large (it carries QueueError's SnowflakeError unboxed): fine in a test.
    #[allow(clippy::result_large_err)]
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
        orchestrator::load_task::run(&context, session, &task)
    };
    let repeated = rerun(&mut session).expect("a repeated load succeeds");
    assert_eq!(
        (repeated.rows_loaded, repeated.completed_before),
        (3, false)
    );
    assert_eq!(count(&mut session), text("5"));
    assert_eq!(ledger(&mut session), text("2:5"));

    // Even with its ledger rows gone (deleted by hand: no crash can separate them from the
    // rows, they commit together), a completed partition is never loaded twice: the fenced
    // completion finds it completed and the COPY is rolled back.
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
    let fenced = rerun(&mut session).expect("a load of a completed partition succeeds");
    assert!(fenced.completed_before, "{fenced:?}");
    assert_eq!(count(&mut session), text("5"));
    assert_eq!(ledger(&mut session), text("1:2"));
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

// ---------------------------------------------------------------------------------------
// Exactly-once loading, fences, existing rows, Snowflake identifiers and semi-structured data.

/// A workflow of one table from its JSON; `columnNamesToPartitionBy` is `id`.
fn create_table_workflow(
    env: &Env,
    name: &str,
    platform: SourcePlatform,
    source: serde_json::Value,
    target: serde_json::Value,
) -> i64 {
    let document = serde_json::json!({
        "tables": [{"source": source, "target": target, "columnNamesToPartitionBy": ["id"]}]
    });
    let workflow = parse_workflow_value(&document, Some(platform)).expect("valid workflow");
    let row = migration_workflow(name, platform, &workflow, None).expect("row");
    let target = Target {
        params: env.params(),
        names: env.names.clone(),
        transport: migration_core::queue::Transport::Direct,
    };
    create_workflow(&target, &row).expect("create the workflow")
}

/// `orders` of [`create`] into `<db>.TGT.<table>`, with `target.existingRows` when given.
fn create_orders(env: &Env, name: &str, table: &str, existing_rows: Option<&str>) -> i64 {
    let mut target = serde_json::json!({
        "databaseName": env.database.name, "schemaName": "TGT", "tableName": table
    });
    if let Some(policy) = existing_rows {
        target["existingRows"] = policy.into();
    }
    create_table_workflow(
        env,
        name,
        SourcePlatform::Sqlite,
        serde_json::json!({"databaseName": "main", "schemaName": "main", "tableName": "orders"}),
        target,
    )
}

/// Runs the daemon until the workflow's plan task is terminal, then stops it: the extract and
/// load tasks are then in the test's hands.
fn plan_with_the_daemon(env: &Env, workflow_id: i64, plan: &TablePlan) -> Option<String> {
    let mut session = env.session();
    let daemon = RunningDaemon::start(env);
    let worker = FakeWorker::new(env);
    complete_analyze(env, &worker, &mut session, plan);
    let status = wait_for("the plan to end", WAIT, || {
        scalar(
            &mut session,
            &format!(
                "SELECT STATUS FROM {} WHERE WORKFLOW_ID = {workflow_id} AND KIND = 'plan' AND STATUS IN ('completed', 'failed')",
                env.object("TASK_QUEUE")
            ),
        )
    });
    daemon.stop();
    Some(status)
}

/// Writes one Parquet file of `rows` (JSON values per column) with `schema`.
fn write_rows(
    path: &std::path::Path,
    schema: arrow::datatypes::SchemaRef,
    rows: &[Vec<serde_json::Value>],
) -> u64 {
    use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
    use arrow::datatypes::DataType;
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(index, field)| -> ArrayRef {
            let values = rows.iter().map(|row| &row[index]);
            match field.data_type() {
                DataType::Int32 => std::sync::Arc::new(Int32Array::from(
                    values
                        .map(|v| v.as_i64().map(|n| i32::try_from(n).expect("fits")))
                        .collect::<Vec<_>>(),
                )),
                DataType::Int64 => std::sync::Arc::new(Int64Array::from(
                    values.map(serde_json::Value::as_i64).collect::<Vec<_>>(),
                )),
                DataType::Utf8 => std::sync::Arc::new(StringArray::from(
                    values.map(serde_json::Value::as_str).collect::<Vec<_>>(),
                )),
                other => panic!("write_rows has no {other} column"),
            }
        })
        .collect();
    let batch = arrow::array::RecordBatch::try_new(schema.clone(), columns).expect("batch");
    let file = std::fs::File::create(path).expect("create parquet file");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("parquet writer");
    writer.write(&batch).expect("write batch");
    writer.close().expect("close parquet");
    std::fs::metadata(path).expect("parquet file").len()
}

/// Extracts one partition like a worker, with the rows `rows_of(partition index)`: a Parquet
/// file PUT to the attempt folder, the task completed with its result.
fn extract_rows(
    worker: &FakeWorker,
    session: &mut migration_core::snowflake::Session,
    dir: &std::path::Path,
    rows_of: &dyn Fn(u32) -> Vec<Vec<serde_json::Value>>,
) -> (migration_core::queue::ClaimedTask, ExtractResult) {
    let task = worker.claim(session, "extract");
    let payload = ExtractPayload::from_json(&task.payload).expect("extract payload");
    let index = payload.partition.index;
    let folder = attempt_folder(&payload.table_stage_folder, index, task.attempt);
    let name = format!("part_{index}_{}_00000.parquet", task.attempt);
    let path = dir.join(&name);
    let rows = rows_of(index);
    let bytes = write_rows(&path, payload.plan.arrow_schema(), &rows);
    session.put_file(&path, &folder).expect("PUT the file");
    let result = ExtractResult {
        stage_folder: folder,
        files: vec![ExtractedFileResult {
            name,
            rows: rows.len() as u64,
            bytes,
        }],
        rows: rows.len() as u64,
        bytes,
        checksum: format!("test-{index}"),
    };
    worker
        .queue
        .complete(session, &task.lease, &result.to_json())
        .expect("complete extract");
    (task, result)
}

/// The rows of `orders_plan()`'s two partitions.
fn orders_rows(index: u32) -> Vec<Vec<serde_json::Value>> {
    let rows: &[(i64, &str)] = if index == 0 {
        &[(1, "ada"), (2, "bob")]
    } else {
        &[(3, "cy"), (4, "dé"), (5, "eve")]
    };
    rows.iter()
        .map(|(id, name)| vec![serde_json::json!(id), serde_json::json!(name)])
        .collect()
}

/// Pulls the pending load task of partition `index` (the others it pulls are released).
fn pull_load(
    context: &orchestrator::context::Context,
    session: &mut migration_core::snowflake::Session,
    index: u32,
) -> migration_core::queue::ClaimedTask {
    let consumer = Consumer {
        id: format!("test-orchestrator-{}", uuid::Uuid::new_v4()),
        executor_type: ExecutorType::Orchestrator,
        affinity: None,
    };
    wait_for(&format!("the load of partition {index}"), WAIT, || {
        let tasks = context.queue.pull(session, &consumer, 10).expect("pull");
        let (wanted, others): (Vec<_>, Vec<_>) = tasks.into_iter().partition(|task| {
            task.kind == "load"
                && migration_core::workflow::LoadPayload::from_json(&task.payload)
                    .expect("payload")
                    .partition_index
                    == index
        });
        let leases: Vec<_> = others.iter().map(|task| task.lease.clone()).collect();
        context.queue.release(session, &leases).expect("release");
        wanted.into_iter().next()
    })
}

fn partition_status(
    env: &Env,
    session: &mut migration_core::snowflake::Session,
    index: u32,
) -> Option<String> {
    scalar(
        session,
        &format!(
            "SELECT STATUS FROM {} WHERE PARTITION_NUMBER = {index}",
            env.object("PARTITION_METADATA")
        ),
    )
}

fn task_status(
    env: &Env,
    session: &mut migration_core::snowflake::Session,
    task_id: i64,
) -> Option<String> {
    scalar(
        session,
        &format!(
            "SELECT STATUS FROM {} WHERE ID = {task_id}",
            env.object("TASK_QUEUE")
        ),
    )
}

fn ledger_summary(env: &Env, session: &mut migration_core::snowflake::Session) -> Option<String> {
    scalar(
        session,
        &format!(
            "SELECT COUNT(*) || ':' || COALESCE(SUM(ROWS_LOADED), 0)::INT FROM {}",
            env.object("LOADED_FILE")
        ),
    )
}

/// Workflow `name` of `orders` planned by the daemon and both partitions extracted by a fake
/// worker: its two loads wait. A session and an orchestrator context to run them by hand, and
/// the folder the files were written in (keep it until the end of the test).
fn planned_and_extracted(
    env: &Env,
    name: &str,
) -> (
    migration_core::snowflake::Session,
    std::sync::Arc<orchestrator::context::Context>,
    tempfile::TempDir,
) {
    let workflow_id = create(env, name);
    assert_eq!(
        plan_with_the_daemon(env, workflow_id, &orders_plan()),
        text("completed")
    );
    let mut session = env.session();
    let worker = FakeWorker::new(env);
    let dir = tempfile::tempdir().expect("temp dir");
    for _ in 0..2 {
        extract_rows(&worker, &mut session, dir.path(), &orders_rows);
    }
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    (session, context, dir)
}

#[test]
fn a_crash_between_copy_and_commit_leaves_nothing_and_the_retry_loads_exactly_once() {
    let env = Env::fresh("orch_crash");
    let (mut session, context, _dir) = planned_and_extracted(&env, "CRASH");
    let task = pull_load(&context, &mut session, 1);
    let target = format!("{}.TGT.ORDERS", env.database.name);

    // The COPY runs, then the process "dies" before COMMIT: the transaction is aborted.
    #[allow(clippy::result_large_err)]
    let crash = orchestrator::load_task::LoadHooks {
        after_copy: Some(Box::new(|session| {
            let loaded = session
                .query_rows(
                    &format!(
                        "SELECT COUNT(*) FROM {}.TGT.ORDERS",
                        session.params().database.clone().unwrap_or_default()
                    ),
                    &[],
                )
                .expect("count inside the transaction");
            assert_eq!(
                loaded,
                vec![vec![text("3")]],
                "the COPY ran inside the transaction"
            );
            Err(orchestrator::task_error::TaskError::UnexpectedResult {
                action: "simulate a crash",
                message: "killed between COPY and COMMIT".into(),
            })
        })),
    };
    let error = orchestrator::load_task::run_with_hooks(&context, &mut session, &task, &crash)
        .expect_err("the crash aborts the load");
    assert!(
        error.to_string().contains("killed between COPY and COMMIT"),
        "{error}"
    );
    assert_eq!(
        scalar(&mut session, &format!("SELECT COUNT(*) FROM {target}")),
        text("0")
    );
    assert_eq!(ledger_summary(&env, &mut session), text("0:0"));
    assert_eq!(partition_status(&env, &mut session, 1), text("LOADING"));
    assert_eq!(
        task_status(&env, &mut session, task.id()),
        text("executing"),
        "the task is not completed: it is retried"
    );

    // The retry (same task, still leased) loads the files exactly once.
    let loaded = orchestrator::load_task::run(&context, &mut session, &task).expect("the retry");
    assert_eq!((loaded.rows_loaded, loaded.files_loaded), (3, 1));
    assert_eq!(
        scalar(&mut session, &format!("SELECT COUNT(*) FROM {target}")),
        text("3")
    );
    assert_eq!(ledger_summary(&env, &mut session), text("1:3"));
    assert_eq!(partition_status(&env, &mut session, 1), text("COMPLETED"));

    // A load that lost its lease (another orchestrator expired and took it) commits nothing.
    let other = pull_load(&context, &mut session, 0);
    session
        .execute(
            &format!(
                "UPDATE {} SET CLAIM_TOKEN = 'taken-over' WHERE ID = {}",
                env.object("TASK_QUEUE"),
                other.id()
            ),
            &[],
        )
        .expect("take the lease away");
    let lost = orchestrator::load_task::run(&context, &mut session, &other)
        .expect_err("a lost lease rolls the load back");
    assert!(lost.lost_lease(), "{lost}");
    assert_eq!(
        scalar(&mut session, &format!("SELECT COUNT(*) FROM {target}")),
        text("3")
    );
    assert_eq!(ledger_summary(&env, &mut session), text("1:3"));
    assert_eq!(partition_status(&env, &mut session, 0), text("LOADING"));
}

#[test]
fn a_load_of_a_partition_metadata_does_not_hold_fails_and_loads_nothing() {
    // The queue and PARTITION_METADATA disagreeing (an emulator replay once drew new partition
    // ids under tasks that kept the old ones): the fenced completion updates no row, which
    // must not pass for "another load completed it".
    let env = Env::fresh("orch_unknown_partition");
    let (mut session, context, _dir) = planned_and_extracted(&env, "UNKNOWN_PARTITION");
    let mut task = pull_load(&context, &mut session, 1);
    task.partition_id = Some(987_654_321);
    let error = orchestrator::load_task::run(&context, &mut session, &task)
        .expect_err("a load of an unknown partition fails");
    let message = error.to_string();
    assert!(
        message.contains("PARTITION_METADATA id 987654321")
            && message.contains("no such partition is recorded"),
        "{message}"
    );
    assert!(!error.is_retryable(), "{error}");
    let target = format!("{}.TGT.ORDERS", env.database.name);
    assert_eq!(
        scalar(&mut session, &format!("SELECT COUNT(*) FROM {target}")),
        text("0"),
        "the COPY was rolled back"
    );
    assert_eq!(ledger_summary(&env, &mut session), text("0:0"));
    assert_eq!(
        task_status(&env, &mut session, task.id()),
        text("executing"),
        "the task is not completed"
    );
}

#[test]
fn tampered_extract_results_are_refused_before_any_sql_runs() {
    let env = Env::fresh("orch_tamper");
    let workflow_id = create(&env, "TAMPER");
    assert_eq!(
        plan_with_the_daemon(&env, workflow_id, &orders_plan()),
        text("completed")
    );
    let mut session = env.session();
    let worker = FakeWorker::new(&env);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut extracted = std::collections::BTreeMap::new();
    for _ in 0..2 {
        let (task, result) = extract_rows(&worker, &mut session, dir.path(), &orders_rows);
        let index = ExtractPayload::from_json(&task.payload)
            .expect("payload")
            .partition
            .index;
        extracted.insert(index, (task, result));
    }
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    let first = pull_load(&context, &mut session, 0);
    orchestrator::load_task::run(&context, &mut session, &first).expect("partition 0 loads");

    let (extract_task, honest) = extracted[&1].clone();
    let other_partition = extracted[&0].1.clone();
    let load = pull_load(&context, &mut session, 1);
    let mut tampered = Vec::new();
    let mut foreign = honest.clone();
    foreign.stage_folder = "@OTHER_DB.PUBLIC.S/x/".into();
    tampered.push(foreign);
    // The F1 attack: partition 0's folder and files for partition 1 (with COPY's load history,
    // that used to "complete" partition 1 without its rows).
    let mut borrowed = other_partition.clone();
    borrowed.rows = honest.rows;
    tampered.push(borrowed);
    for name in [
        "a'.parquet",
        "sub/part.parquet",
        "../attempt_2/part.parquet",
    ] {
        let mut bad = honest.clone();
        bad.files[0].name = name.into();
        tampered.push(bad);
    }
    for result in tampered {
        session
            .execute(
                &format!(
                    "UPDATE {} SET RESULT = PARSE_JSON(?) WHERE ID = {}",
                    env.object("TASK_QUEUE"),
                    extract_task.id()
                ),
                &[migration_core::snowflake::SqlValue::Text(
                    result.to_json().to_string(),
                )],
            )
            .expect("tamper with the extract result");
        let error = orchestrator::load_task::run(&context, &mut session, &load)
            .expect_err("a tampered result is refused");
        let message = error.to_string();
        assert!(
            matches!(
                error,
                orchestrator::task_error::TaskError::UntrustedResult { .. }
            ),
            "{message}"
        );
        assert!(!error.is_retryable(), "{message}");
        assert!(
            message.contains(&format!("load task {}", load.id()))
                && message.contains(&result.stage_folder),
            "{message}"
        );
        // Nothing ran: the partition was not even marked loading.
        assert_eq!(
            partition_status(&env, &mut session, 1),
            text("EXTRACTING"),
            "{message}"
        );
        assert_eq!(
            scalar(
                &mut session,
                &format!("SELECT COUNT(*) FROM {}.TGT.ORDERS", env.database.name)
            ),
            text("2")
        );
    }
    let error_of = |reported: &str| {
        let mut bad = honest.clone();
        bad.stage_folder = reported.into();
        migration_core::workflow::check_extract_result(&bad, &honest.stage_folder)
            .unwrap_err()
            .to_string()
    };
    assert!(error_of("@OTHER_DB.PUBLIC.S/x/").contains(&honest.stage_folder));

    session
        .execute(
            &format!(
                "UPDATE {} SET RESULT = PARSE_JSON(?) WHERE ID = {}",
                env.object("TASK_QUEUE"),
                extract_task.id()
            ),
            &[migration_core::snowflake::SqlValue::Text(
                honest.to_json().to_string(),
            )],
        )
        .expect("restore the extract result");
    orchestrator::load_task::run(&context, &mut session, &load).expect("the honest result loads");
    assert_eq!(
        scalar(
            &mut session,
            &format!("SELECT COUNT(*) FROM {}.TGT.ORDERS", env.database.name)
        ),
        text("5")
    );
}

#[test]
fn a_plan_that_lost_its_lease_records_and_pushes_nothing() {
    let env = Env::fresh("orch_plan_lease");
    let workflow_id = create(&env, "PLAN_LEASE");
    let context = orchestrator::context::Context::new(env.daemon_config()).expect("context");
    let mut session = env.session();
    orchestrator::claim::claim_workflows(&context, &mut session).expect("claim the workflow");
    let worker = FakeWorker::new(&env);
    complete_analyze(&env, &worker, &mut session, &orders_plan());
    let task = pull_orchestrator_task(&context, &mut session);
    assert_eq!(
        (task.kind.as_str(), task.workflow_id),
        ("plan", workflow_id)
    );
    session
        .execute(
            &format!(
                "UPDATE {} SET CLAIM_TOKEN = 'taken-over' WHERE ID = {}",
                env.object("TASK_QUEUE"),
                task.id()
            ),
            &[],
        )
        .expect("take the lease away");
    let error = orchestrator::plan_task::run(&context, &mut session, &task)
        .expect_err("the plan lost its lease");
    assert!(error.lost_lease(), "{error}");
    for (what, sql) in [
        (
            "partitions",
            format!("SELECT COUNT(*) FROM {}", env.object("PARTITION_METADATA")),
        ),
        (
            "partition tasks",
            format!(
                "SELECT COUNT(*) FROM {} WHERE KIND IN ('extract', 'load')",
                env.object("TASK_QUEUE")
            ),
        ),
        (
            "analyses",
            format!(
                "SELECT COUNT(*) FROM {} WHERE HAS_BEEN_ANALYZED",
                env.object("TABLE_METADATA")
            ),
        ),
    ] {
        assert_eq!(scalar(&mut session, &sql), text("0"), "{what}");
    }
}

#[test]
fn a_non_empty_target_is_refused_unless_the_table_says_append_or_truncate() {
    let env = Env::fresh("orch_existing");
    let mut session = env.session();
    session
        .execute(
            &format!("CREATE SCHEMA IF NOT EXISTS {}.TGT", env.database.name),
            &[],
        )
        .expect("schema");
    for table in ["REFUSED", "APPENDED", "TRUNCATED"] {
        for sql in [
            format!(
                "CREATE TABLE {}.TGT.{table} (ID NUMBER(19,0), NAME VARCHAR)",
                env.database.name
            ),
            format!(
                "INSERT INTO {}.TGT.{table} VALUES (99, 'old')",
                env.database.name
            ),
        ] {
            session
                .execute(&sql, &[])
                .expect("an existing table with a row");
        }
    }
    let refused = create_orders(&env, "REFUSE", "REFUSED", None);
    let appended = create_orders(&env, "APPEND", "APPENDED", Some("append"));
    let truncated = create_orders(&env, "TRUNCATE", "TRUNCATED", Some("truncate"));

    let daemon = RunningDaemon::start(&env);
    let worker = FakeWorker::new(&env);
    for _ in 0..3 {
        complete_analyze(&env, &worker, &mut session, &orders_plan());
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Two workflows plan partitions; the refused one pushes none.
    for _ in 0..4 {
        extract_rows(&worker, &mut session, dir.path(), &orders_rows);
    }
    for id in [refused, appended, truncated] {
        wait_until_completed(&env, &mut session, id);
    }
    daemon.stop();

    let contents = |session: &mut migration_core::snowflake::Session, table: &str| {
        scalar(
            session,
            &format!(
                "SELECT COUNT(*) || ':' || SUM(ID)::INT FROM {}.TGT.{table}",
                env.database.name
            ),
        )
    };
    assert_eq!(contents(&mut session, "REFUSED"), text("1:99"), "untouched");
    assert_eq!(
        contents(&mut session, "APPENDED"),
        text("6:114"),
        "old row kept, 5 added"
    );
    assert_eq!(
        contents(&mut session, "TRUNCATED"),
        text("5:15"),
        "old row gone"
    );
    let errors = rows(
        &mut session,
        &format!(
            "SELECT WORKFLOW_ID, TASK_KIND, ERROR_MESSAGE FROM {} ORDER BY WORKFLOW_ID",
            env.object("DATA_MIGRATION_ERROR")
        ),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0][0], text(&refused.to_string()));
    assert_eq!(errors[0][1], text("plan"));
    let message = errors[0][2].clone().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "target table \"{}\".\"TGT\".\"REFUSED\" already holds 1 rows",
            env.database.name
        )) && message.contains("`target.existingRows`"),
        "{message}"
    );
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE WORKFLOW_ID = {refused}",
                env.object("PARTITION_METADATA")
            )
        ),
        text("0"),
        "a refused table records no partition"
    );
}

/// `shop.public.items (id integer, "order" text, "Mixed Name" text, doc jsonb)` from
/// PostgreSQL, one partition.
fn items_plan() -> TablePlan {
    let mut id = SourceColumn::new("id", "integer", 1);
    id.nullable = false;
    let input = PlanInput {
        platform: SourcePlatform::Postgresql,
        table: TableRef::parse("shop", "public", "items"),
        columns: vec![
            id,
            SourceColumn::new("order", "text", 2),
            SourceColumn::new("Mixed Name", "text", 3),
            SourceColumn::new("doc", "jsonb", 4),
        ],
        primary_key: vec!["id".into()],
        stats: TableStats {
            row_count: 2,
            size_bytes: 100,
        },
        options: TableOptions::default(),
    };
    let mut plan = build_table_plan(&input, &Probes::default()).expect("plan");
    plan.partitions = vec![Partition {
        index: 0,
        lower: None,
        upper: None,
        estimated_rows: 2,
    }];
    plan
}

#[test]
fn reserved_words_spaces_mixed_case_and_jsonb_land_as_snowflake_would_store_them() {
    let env = Env::fresh("orch_names");
    let plan = items_plan();
    let names: Vec<&str> = plan
        .columns
        .iter()
        .map(|c| c.target_name.as_str())
        .collect();
    assert_eq!(names, ["ID", "ORDER", "Mixed Name", "DOC"]);
    assert_eq!(plan.columns[3].snowflake_type, "VARIANT");
    let workflow_id = create_table_workflow(
        &env,
        "NAMES",
        SourcePlatform::Postgresql,
        serde_json::json!({"databaseName": "shop", "schemaName": "public", "tableName": "items"}),
        serde_json::json!({
            "databaseName": env.database.name, "schemaName": "TGT", "tableName": "\"MixedCase Text\""
        }),
    );
    let mut session = env.session();
    let daemon = RunningDaemon::start(&env);
    let worker = FakeWorker::new(&env);
    complete_analyze(&env, &worker, &mut session, &plan);
    let dir = tempfile::tempdir().expect("temp dir");
    extract_rows(&worker, &mut session, dir.path(), &|_| {
        vec![
            vec![
                serde_json::json!(1),
                serde_json::json!("first"),
                serde_json::json!("Zoë"),
                serde_json::json!(r#"{"a": 1, "b": [1, 2]}"#),
            ],
            vec![
                serde_json::json!(2),
                serde_json::json!("second"),
                serde_json::Value::Null,
                serde_json::json!("[1, 2, 3]"),
            ],
        ]
    });
    wait_until_completed(&env, &mut session, workflow_id);
    daemon.stop();

    assert_eq!(
        rows(
            &mut session,
            &format!(
                "SELECT TASK_KIND, ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
                env.object("DATA_MIGRATION_ERROR")
            )
        ),
        Vec::<Vec<Option<String>>>::new()
    );
    let table = format!("\"{}\".\"TGT\".\"MixedCase Text\"", env.database.name);
    assert_eq!(
        rows(&mut session, &format!(
            "SELECT \"ID\", \"ORDER\", \"Mixed Name\", TYPEOF(\"DOC\"), \"DOC\":a::INT FROM {table} ORDER BY \"ID\""
        )),
        vec![
            vec![text("1"), text("first"), text("Zoë"), text("OBJECT"), text("1")],
            vec![text("2"), text("second"), None, text("ARRAY"), None],
        ]
    );
    let columns = rows(&mut session, &format!(
        "SELECT COLUMN_NAME FROM \"{}\".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'TGT' AND TABLE_NAME = 'MixedCase Text' ORDER BY ORDINAL_POSITION",
        env.database.name
    ));
    assert_eq!(
        columns,
        vec![
            vec![text("ID")],
            vec![text("ORDER")],
            vec![text("Mixed Name")],
            vec![text("DOC")]
        ]
    );
}

#[test]
fn source_columns_differing_only_in_case_fail_the_plan_naming_both() {
    let env = Env::fresh("orch_case");
    let mut plan = orders_plan();
    let mut twin = plan.columns[1].clone();
    twin.source.name = "Name".into();
    twin.target_name = "Name".into();
    plan.columns.push(twin);
    let workflow_id = create(&env, "CASE");
    assert_eq!(
        plan_with_the_daemon(&env, workflow_id, &plan),
        text("failed")
    );
    let mut session = env.session();
    let message = scalar(
        &mut session,
        &format!(
            "SELECT ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
            env.object("DATA_MIGRATION_ERROR")
        ),
    )
    .unwrap_or_default();
    assert!(
        message
            .contains("source columns `name` and `Name` map to target columns `NAME` and `Name`"),
        "{message}"
    );
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM \"{}\".INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'ORDERS'",
                env.database.name
            )
        ),
        text("0"),
        "no DDL ran"
    );
}

#[test]
fn an_analysis_whose_type_is_more_than_a_type_fails_the_plan_before_any_ddl() {
    let env = Env::fresh("orch_types");
    let mut plan = orders_plan();
    plan.columns[1].snowflake_type = "VARCHAR, INJECTED NUMBER".into();
    let workflow_id = create(&env, "TYPES");
    assert_eq!(
        plan_with_the_daemon(&env, workflow_id, &plan),
        text("failed")
    );
    let mut session = env.session();
    let message = scalar(
        &mut session,
        &format!(
            "SELECT ERROR_MESSAGE FROM {} WHERE WORKFLOW_ID = {workflow_id}",
            env.object("DATA_MIGRATION_ERROR")
        ),
    )
    .unwrap_or_default();
    assert!(
        message.contains("the type of column NAME is refused: `VARCHAR, INJECTED NUMBER` is not a Snowflake type name"),
        "{message}"
    );
    assert_eq!(
        scalar(
            &mut session,
            &format!(
                "SELECT COUNT(*) FROM \"{}\".INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'TGT'",
                env.database.name
            )
        ),
        text("0"),
        "no DDL ran, not even the schema"
    );
}
