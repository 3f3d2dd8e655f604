//! The real `worker` binary against the emulator: it finds its Snowflake connection in
//! connections.toml, serves tasks, stops on SIGTERM after finishing, and exits at once on a
//! second signal.

mod support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use config_schema::SourcePlatform;
use migration_core::source::analyze::{analyze_table, plan_request};
use migration_core::workflow::{table_folder, AnalyzePayload, ExtractPayload};
use support::{Env, POSTGRES_SOURCE};
use test_support::poll_until;

/// Writes connections.toml and configuration.toml into `dir` for this test's database.
fn write_configuration(env: &Env, dir: &std::path::Path) -> std::path::PathBuf {
    let db = &env.database;
    std::fs::write(
        dir.join("connections.toml"),
        db.connections_toml("emulator"),
    )
    .expect("write connections.toml");
    let path = dir.join("configuration.toml");
    std::fs::write(
        &path,
        format!(
            "selected_task_source = \"snowflake_direct_sql\"\n\
             [application]\n\
             max_parallel_tasks = 1\n\
             task_fetch_interval = 1\n\
             snowflake_database_for_metadata = \"{}\"\n\
             {POSTGRES_SOURCE}\
             [connections.target.snowflake_connection_name]\n\
             connection_name = \"emulator\"\n",
            db.name
        ),
    )
    .expect("write configuration.toml");
    path
}

fn start_worker(env: &Env, dir: &std::path::Path, config: &std::path::Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("worker"))
        .arg("-c")
        .arg(config)
        .env("SNOWFLAKE_HOME", dir)
        .env("ADBC_SNOWFLAKE_DRIVER", &env.database.driver_path)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker binary")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Waits for the process to exit; its status, stderr and how long the wait took.
fn wait_exit(mut child: Child, limit: Duration) -> (std::process::ExitStatus, String, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the worker") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status, stderr, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the worker did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits up to 2 minutes for `done`; fails at once, with the worker's stderr, if it exits.
fn wait_for(child: &mut Child, what: &str, mut done: impl FnMut() -> bool) {
    poll_until(
        what,
        Duration::from_secs(120),
        Duration::from_millis(300),
        || {
            if done() {
                return Some(());
            }
            if let Some(status) = child.try_wait().expect("poll the worker") {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("the worker exited ({status}) while waiting for {what}:\n{stderr}");
            }
            None
        },
    );
}

fn table_config(schema: &str, table: &str) -> config_schema::workflow::TableConfig {
    serde_json::from_value(serde_json::json!({
        "source": {"databaseName": "postgres", "schemaName": schema, "tableName": table},
        "target": {"databaseName": "TARGET", "schemaName": "PUBLIC", "tableName": table},
        "columnNamesToPartitionBy": ["id"],
        "partitionSize": {"maxRowsPerPartition": 100}
    }))
    .expect("a valid table configuration")
}

#[test]
fn the_binary_serves_tasks_and_stops_cleanly_on_sigterm() {
    let mut env = Env::new("worker_bin");
    let pg = test_support::postgres();
    pg.client()
        .batch_execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, v text);
             INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 250) AS i;
             ANALYZE t;",
        )
        .expect("create the source table");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_configuration(&env, dir.path());
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let task = env.push(
        workflow_id,
        "analyze",
        &[AnalyzePayload {
            workflow_id,
            table_index: 0,
            source_platform: SourcePlatform::Postgresql,
            table: table_config(&pg.schema, "t"),
        }
        .to_json()],
    )[0];

    let mut child = start_worker(&env, dir.path(), &config);
    wait_for(&mut child, "the analyze task", || {
        env.task(task).status == "completed"
    });
    signal(&child, "TERM");
    let (status, stderr, _) = wait_exit(child, Duration::from_secs(30));
    assert!(status.success(), "exit {status}:\n{stderr}");
    assert!(stderr.contains("connected to Snowflake"), "{stderr}");
    assert!(stderr.contains("worker stopped"), "{stderr}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut env = Env::new("worker_bin_twice");
    let pg = test_support::postgres();
    pg.client()
        .batch_execute(
            "CREATE TABLE slow (id bigint PRIMARY KEY, v text);
             INSERT INTO slow SELECT i, 'v' || i FROM generate_series(1, 3) AS i;
             ANALYZE slow;",
        )
        .expect("create the source table");
    let source = worker::source_spec::source_spec(&env.worker_config(1, POSTGRES_SOURCE).source)
        .expect("source");
    let (table, options) = plan_request(&table_config(&pg.schema, "slow")).expect("request");
    let mut plan =
        analyze_table(&source, SourcePlatform::Postgresql, table, options).expect("analyze");
    // 3 s per row: still running when the second signal arrives.
    plan.where_clause = Some("CAST(pg_sleep(3) AS TEXT) = ''".to_owned());
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let partition = plan.partitions[0].clone();
    let task = env.push(
        workflow_id,
        "extract",
        &[ExtractPayload {
            workflow_id,
            table_index: 0,
            plan,
            partition,
            table_stage_folder: table_folder(&env.stage(), workflow_id, 0),
        }
        .to_json()],
    )[0];

    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_configuration(&env, dir.path());
    let mut child = start_worker(&env, dir.path(), &config);
    wait_for(&mut child, "the extract to start", || {
        env.task(task).status == "executing"
    });
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "INT");
    let (status, stderr, took) = wait_exit(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(5), "exiting took {took:?}");
    assert!(stderr.contains("second stop request"), "{stderr}");
    // The task was not reported: its lease simply runs out.
    assert_eq!(env.task(task).status, "executing");
}
