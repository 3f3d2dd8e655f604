//! The worker daemon run in-process against the Snowflake emulator, with PostgreSQL and SQLite
//! as sources: analyze and extract tasks pushed by hand, files COPYed from the stage and
//! compared with the source, a terminal failure for a missing table, and hand-back on
//! shutdown.

mod support;

use std::time::Duration;

use config_schema::SourcePlatform;
use migration_core::analyze::{analyze_table, plan_request};
use migration_core::load::{copy_into_sql, create_table_sql, TargetColumn, TargetTable};
use migration_core::plan::TablePlan;
use migration_core::snowflake::Session;
use migration_core::source::dialect::{Dialect, ExtractionRequest};
use migration_core::workflow::{
    table_folder, AnalyzePayload, AnalyzeResult, ExtractPayload, ExtractResult,
};
use support::{wait_until, Env, RunningWorker, POSTGRES_SOURCE};

const WAIT: Duration = Duration::from_secs(120);

/// A table configuration as the orchestrator stores it (defaults merged).
fn table_config(
    database: &str,
    schema: &str,
    table: &str,
    max_rows: u64,
) -> config_schema::workflow::TableConfig {
    serde_json::from_value(serde_json::json!({
        "source": {"databaseName": database, "schemaName": schema, "tableName": table},
        "target": {"databaseName": "TARGET", "schemaName": "PUBLIC", "tableName": table},
        "columnNamesToPartitionBy": ["id"],
        "partitionSize": {"maxRowsPerPartition": max_rows}
    }))
    .expect("a valid table configuration")
}

fn analyze_payload(
    workflow_id: i64,
    platform: SourcePlatform,
    table: config_schema::workflow::TableConfig,
) -> serde_json::Value {
    AnalyzePayload {
        workflow_id,
        table_index: 0,
        source_platform: platform,
        table,
    }
    .to_json()
}

/// One extract payload per partition of `plan`, as the orchestrator's plan step builds them.
fn extract_payloads(env: &Env, workflow_id: i64, plan: &TablePlan) -> Vec<serde_json::Value> {
    plan.partitions
        .iter()
        .map(|partition| {
            let mut single = plan.clone();
            single.partitions = vec![partition.clone()];
            ExtractPayload {
                workflow_id,
                table_index: 0,
                plan: single,
                partition: partition.clone(),
                table_stage_folder: table_folder(&env.stage(), workflow_id, 0),
            }
            .to_json()
        })
        .collect()
}

fn terminal(status: &str) -> bool {
    status == "completed" || status == "failed"
}

/// Runs one worker through analyze, then extract of every partition; returns the plan and the
/// extract results.
fn migrate(
    env: &mut Env,
    platform: SourcePlatform,
    source_toml: &str,
    table: config_schema::workflow::TableConfig,
) -> (TablePlan, Vec<ExtractResult>) {
    let workflow_id = env.workflow(platform);
    let mut worker = RunningWorker::start(
        env.worker_config(2, source_toml),
        env.params.clone(),
        env.options(),
    );
    let analyze = env.push(
        workflow_id,
        "analyze",
        &[analyze_payload(workflow_id, platform, table)],
    )[0];
    wait_until(&mut worker, WAIT, "the analyze task", || {
        terminal(&env.task(analyze).status)
    });
    let row = env.task(analyze);
    assert_eq!(row.status, "completed", "analyze: {row:?}");
    assert_eq!((row.attempts, row.failures), (1, 0));
    let plan = AnalyzeResult::from_json(&row.result.expect("a result"))
        .expect("the result is an AnalyzeResult")
        .plan;

    let payloads = extract_payloads(env, workflow_id, &plan);
    let extracts = env.push(workflow_id, "extract", &payloads);
    wait_until(&mut worker, WAIT, "the extract tasks", || {
        env.statuses(&extracts).iter().all(|s| terminal(s))
    });
    worker.stop();
    let results = extracts
        .iter()
        .map(|id| {
            let row = env.task(*id);
            assert_eq!(row.status, "completed", "extract {id}: {row:?}");
            ExtractResult::from_json(&row.result.expect("a result")).expect("an ExtractResult")
        })
        .collect();
    (plan, results)
}

/// Creates the target table from the plan and COPYs every partition's attempt folder into it.
fn load(
    session: &mut Session,
    database: &str,
    plan: &TablePlan,
    results: &[ExtractResult],
) -> String {
    let target = TargetTable {
        database: database.to_owned(),
        schema: "PUBLIC".to_owned(),
        table: "LOADED".to_owned(),
    };
    let columns: Vec<TargetColumn> = plan
        .columns
        .iter()
        .map(|c| TargetColumn {
            name: c.target_name.clone(),
            snowflake_type: c.snowflake_type.clone(),
            nullable: c.nullable,
        })
        .collect();
    let create = create_table_sql(&target, &columns).expect("target DDL");
    session
        .execute(&create, &[])
        .expect("create the target table");
    let qualified = target.qualified().expect("qualified name");
    for result in results.iter().filter(|r| !r.files.is_empty()) {
        session
            .query_rows(&copy_into_sql(&qualified, &result.stage_folder), &[])
            .unwrap_or_else(|error| panic!("COPY from {} failed: {error}", result.stage_folder));
    }
    qualified
}

fn one_row(session: &mut Session, sql: &str) -> Vec<Option<String>> {
    session
        .query_rows(sql, &[])
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .into_iter()
        .next()
        .expect("one row")
}

#[test]
fn postgresql_table_is_analyzed_extracted_and_loads_exactly() {
    postgresql_round_trip(POSTGRES_SOURCE);
}

#[test]
fn postgresql_over_odbc_is_analyzed_extracted_and_loads_exactly() {
    postgresql_round_trip(&format!("{POSTGRES_SOURCE}extraction_path = \"odbc\"\n"));
}

/// Analyze and extract a 1,000-row PostgreSQL table through `source_toml`, COPY the files
/// into the emulator and compare with the source.
fn postgresql_round_trip(source_toml: &str) {
    let mut env = Env::new("worker_pg");
    let pg = test_support::postgres();
    let mut client = pg.client();
    client
        .batch_execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, created timestamptz);
             INSERT INTO orders
             SELECT i, i * 1.25, CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || i || ' ü😀' END,
                    TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 minute'
             FROM generate_series(1, 1000) AS i;
             ANALYZE orders;",
        )
        .expect("create the source table");

    let (plan, results) = migrate(
        &mut env,
        SourcePlatform::Postgresql,
        source_toml,
        table_config("postgres", &pg.schema, "orders", 300),
    );

    // The analyze result: interior partitions plus two open edges that together cover the
    // table, every row exactly once.
    assert!(
        plan.partitions.len() >= 5,
        "partitions {:?}",
        plan.partitions
    );
    let dialect = Dialect::new(SourcePlatform::Postgresql);
    let columns = plan.source_columns();
    let mut covered = 0;
    for partition in &plan.partitions {
        let sql = dialect
            .extraction_query(&ExtractionRequest {
                table: &plan.table,
                columns: &columns,
                keys: &plan.keys,
                partition,
                where_clause: None,
                watermark: None,
            })
            .expect("extraction query");
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM ({sql}) AS p"), &[])
            .expect("count a partition")
            .get(0);
        covered += count;
    }
    assert_eq!(covered, 1000);

    // The extract results: every row once, files in the attempt folders, checksums present.
    assert_eq!(results.iter().map(|r| r.rows).sum::<u64>(), 1000);
    for result in &results {
        assert!(result.stage_folder.ends_with("/attempt_1/"), "{result:?}");
        assert_eq!(
            result.files.iter().map(|f| f.rows).sum::<u64>(),
            result.rows
        );
        assert_eq!(result.checksum.len(), 32, "{result:?}");
    }

    let table = load(&mut env.session, &env.database.name, &plan, &results);
    let loaded = one_row(
        &mut env.session,
        &format!("SELECT COUNT(*), SUM(ID), COUNT(NOTE), SUM(AMOUNT), MAX(NOTE) FROM {table}"),
    );
    let source = client
        .query_one(
            "SELECT count(*)::text, sum(id)::text, count(note)::text, sum(amount)::text,
                    (SELECT note FROM orders WHERE note IS NOT NULL ORDER BY note DESC LIMIT 1)
             FROM orders",
            &[],
        )
        .expect("source aggregates");
    let expected: Vec<Option<String>> =
        (0..5).map(|i| source.get::<_, Option<String>>(i)).collect();
    let normalise = |v: &Option<String>| v.as_deref().map(decimal_text);
    assert_eq!(
        loaded.iter().map(normalise).collect::<Vec<_>>(),
        expected.iter().map(normalise).collect::<Vec<_>>()
    );
}

/// A number as text without trailing fractional zeros (`500500.0` and `500500` compare
/// equal: the emulator renders sums with a fraction); other text is left alone.
fn decimal_text(text: &str) -> String {
    let numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    if numeric && text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

/// A SQLite database file written through the SQLite ODBC driver.
fn sqlite_file(dir: &std::path::Path) -> std::path::PathBuf {
    use arrow_odbc::odbc_api::ConnectionOptions;
    let path = dir.join("source.db");
    let environment = arrow_odbc::odbc_api::environment().expect("ODBC environment");
    let connection = environment
        .connect_with_connection_string(
            &format!("Driver={{SQLite3}};Database={};", path.display()),
            ConnectionOptions::default(),
        )
        .unwrap_or_else(|error| {
            panic!("cannot open SQLite through the ODBC driver `SQLite3` ({error}); install it with: apt-get install libsqliteodbc unixodbc")
        });
    for sql in [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price DECIMAL(10,2))",
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500) \
         INSERT INTO items SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'item ' || i END, i * 0.5 FROM s",
    ] {
        connection
            .execute(sql, (), None)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }
    path
}

#[test]
fn sqlite_table_is_analyzed_extracted_and_loads_exactly() {
    let mut env = Env::new("worker_sqlite");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sqlite_file(dir.path());
    let source = format!(
        "[connections.source.sqlite]\ndatabase = \"{}\"\n",
        path.display()
    );
    let (plan, results) = migrate(
        &mut env,
        SourcePlatform::Sqlite,
        &source,
        table_config("main", "main", "items", 200),
    );
    assert!(
        plan.partitions.len() >= 4,
        "partitions {:?}",
        plan.partitions
    );
    assert_eq!(results.iter().map(|r| r.rows).sum::<u64>(), 500);

    let table = load(&mut env.session, &env.database.name, &plan, &results);
    let loaded = one_row(
        &mut env.session,
        &format!("SELECT COUNT(*), SUM(ID), COUNT(NAME), SUM(PRICE) FROM {table}"),
    );
    let sum_price: f64 = (1..=500).map(|i| f64::from(i) * 0.5).sum();
    assert_eq!(loaded[0].as_deref(), Some("500"));
    assert_eq!(
        loaded[1].as_deref().map(decimal_text),
        Some("125250".into())
    );
    assert_eq!(loaded[2].as_deref(), Some("450"));
    let price: f64 = loaded[3].as_deref().expect("sum").parse().expect("number");
    assert_eq!(price, sum_price);
}

#[test]
fn a_missing_source_table_fails_the_task_for_good_and_names_the_table() {
    let mut env = Env::new("worker_missing");
    let pg = test_support::postgres();
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    let task = env.push(
        workflow_id,
        "analyze",
        &[analyze_payload(
            workflow_id,
            SourcePlatform::Postgresql,
            table_config("postgres", &pg.schema, "no_such_table", 100),
        )],
    )[0];
    wait_until(&mut worker, WAIT, "the analyze task to fail", || {
        terminal(&env.task(task).status)
    });
    worker.stop();
    let row = env.task(task);
    assert_eq!(row.status, "failed", "{row:?}");
    // Terminal: one attempt, no retry scheduled.
    assert_eq!((row.attempts, row.failures), (1, 1), "{row:?}");
    let error = row.last_error.expect("an error message");
    assert!(
        error.contains(&format!("postgres.{}.no_such_table", pg.schema)),
        "{error}"
    );
    assert!(error.contains("does not exist"), "{error}");
}

#[test]
fn unknown_kinds_fail_for_good_and_the_worker_keeps_going() {
    let mut env = Env::new("worker_unknown");
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    let unknown = env.push(workflow_id, "vacuum", &[serde_json::json!({})])[0];
    let unreadable = env.push(
        workflow_id,
        "extract",
        &[serde_json::json!({"sql": "DROP TABLE x"})],
    )[0];
    wait_until(&mut worker, WAIT, "both tasks to fail", || {
        env.statuses(&[unknown, unreadable])
            .iter()
            .all(|s| terminal(s))
    });
    worker.stop();
    let unknown = env.task(unknown);
    assert_eq!((unknown.status.as_str(), unknown.failures), ("failed", 1));
    assert!(unknown.last_error.unwrap_or_default().contains("`vacuum`"));
    let unreadable = env.task(unreadable);
    assert_eq!(unreadable.status, "failed");
    assert!(unreadable
        .last_error
        .unwrap_or_default()
        .contains("the extract task's payload cannot be read"));
}

/// A table of `rows` rows and its plan, analyzed in-process.
fn small_table(env: &Env, pg: &test_support::PostgresSchema, name: &str, rows: u32) -> TablePlan {
    pg.client()
        .batch_execute(&format!(
            "CREATE TABLE {name} (id bigint PRIMARY KEY, v text);
             INSERT INTO {name} SELECT i, 'v' || i FROM generate_series(1, {rows}) AS i;
             ANALYZE {name};"
        ))
        .expect("create the source table");
    let (table, options) =
        plan_request(&table_config("postgres", &pg.schema, name, 100)).expect("request");
    let source = worker::source_spec::source_spec(&env.worker_config(1, POSTGRES_SOURCE).source)
        .expect("source");
    analyze_table(&source, SourcePlatform::Postgresql, table, options).expect("analyze")
}

#[test]
fn heartbeats_keep_a_long_task_leased() {
    let mut env = Env::new("worker_heartbeat");
    let pg = test_support::postgres();
    let mut plan = small_table(&env, &pg, "slow", 3);
    // 2 s per row: the extraction takes twice the 3 s lease.
    plan.where_clause = Some("CAST(pg_sleep(2) AS TEXT) = ''".to_owned());
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let payloads = extract_payloads(&env, workflow_id, &plan);
    let task = env.push_with_lease(workflow_id, "extract", &payloads, Duration::from_secs(3))[0];
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    let mut expired = Vec::new();
    wait_until(&mut worker, WAIT, "the slow extract", || {
        // What the orchestrator does all the time: re-queue lapsed leases.
        let queue = env.queue.clone();
        expired.extend(queue.expire(&mut env.session).expect("expire leases"));
        terminal(&env.task(task).status)
    });
    worker.stop();
    assert!(expired.is_empty(), "leases lapsed: {expired:?}");
    let row = env.task(task);
    assert_eq!(row.status, "completed", "{row:?}");
    assert_eq!(row.attempts, 1, "{row:?}");
    let result = ExtractResult::from_json(&row.result.expect("result")).expect("ExtractResult");
    assert_eq!(result.rows, 3);
}

#[test]
fn tampered_payloads_are_refused_and_never_reach_the_source() {
    let mut env = Env::new("worker_tampered");
    let pg = test_support::postgres();
    let plan = small_table(&env, &pg, "kept", 10);
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let mut injected = extract_payloads(&env, workflow_id, &plan)[0].clone();
    injected["plan"]["where_clause"] = serde_json::json!("id > 0; DROP TABLE kept");
    let mut elsewhere = extract_payloads(&env, workflow_id, &plan)[0].clone();
    elsewhere["tableStageFolder"] = serde_json::json!("@OTHER_DB.PUBLIC.SOME_STAGE/x");
    let tasks = env.push(workflow_id, "extract", &[injected, elsewhere]);
    let mut worker = RunningWorker::start(
        env.worker_config(2, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    wait_until(&mut worker, WAIT, "both tasks to fail", || {
        env.statuses(&tasks).iter().all(|s| terminal(s))
    });
    worker.stop();
    let injected = env.task(tasks[0]);
    assert_eq!((injected.status.as_str(), injected.attempts), ("failed", 1));
    let message = injected.last_error.unwrap_or_default();
    assert!(message.contains("whereClauseCriteria"), "{message}");
    assert!(message.contains("partition 0"), "{message}");
    let elsewhere = env.task(tasks[1]);
    assert_eq!(elsewhere.status, "failed");
    let message = elsewhere.last_error.unwrap_or_default();
    assert!(
        message.contains("@OTHER_DB.PUBLIC.SOME_STAGE/x"),
        "{message}"
    );
    let rows: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM kept", &[])
        .expect("the table is still there")
        .get(0);
    assert_eq!(rows, 10);
}

#[test]
fn shutdown_lets_a_running_task_finish_within_the_grace_period() {
    let mut env = Env::new("worker_grace");
    let pg = test_support::postgres();
    let mut plan = small_table(&env, &pg, "paced", 2);
    plan.where_clause = Some("CAST(pg_sleep(1.5) AS TEXT) = ''".to_owned());
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let payloads = extract_payloads(&env, workflow_id, &plan);
    let task = env.push(workflow_id, "extract", &payloads)[0];
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    wait_until(&mut worker, WAIT, "the extract to start", || {
        env.task(task).status == "executing"
    });
    worker.stop();
    let row = env.task(task);
    assert_eq!(row.status, "completed", "{row:?}");
    let result = ExtractResult::from_json(&row.result.expect("result")).expect("ExtractResult");
    assert_eq!(result.rows, 2);
}

#[test]
fn a_task_whose_lease_was_taken_is_not_completed_by_the_old_holder() {
    let mut env = Env::new("worker_fenced");
    let pg = test_support::postgres();
    let mut plan = small_table(&env, &pg, "taken", 3);
    plan.where_clause = Some("CAST(pg_sleep(1.5) AS TEXT) = ''".to_owned());
    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let payloads = extract_payloads(&env, workflow_id, &plan);
    let task = env.push_with_lease(workflow_id, "extract", &payloads, Duration::from_secs(3))[0];
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        env.options(),
    );
    wait_until(&mut worker, WAIT, "the extract to start", || {
        env.task(task).status == "executing"
    });
    // Another consumer "wins" the task, as after an expiry and a new claim.
    env.session
        .execute(
            &format!(
                "UPDATE {}.DATA_MIGRATION.TASK_QUEUE SET CLAIM_TOKEN = 'someone-else', LEASE_OWNER = 'someone-else' WHERE ID = {task}",
                env.database.name
            ),
            &[],
        )
        .expect("take the lease");
    // Longer than the extraction (4.5 s): the old holder must not report anything.
    std::thread::sleep(Duration::from_secs(8));
    worker.stop();
    let row = env.task(task);
    assert_eq!(row.status, "executing", "{row:?}");
    assert_eq!(row.lease_owner.as_deref(), Some("someone-else"));
    assert!(row.result.is_none(), "{row:?}");
    assert_eq!(row.failures, 0, "{row:?}");
}

#[test]
fn shutdown_hands_back_a_task_running_past_the_grace_period_and_claims_no_more() {
    let mut env = Env::new("worker_shutdown");
    let pg = test_support::postgres();
    let mut plan = small_table(&env, &pg, "slow", 3);
    // Each row takes 5 s to read: the extraction outlives the grace period.
    plan.where_clause = Some("CAST(pg_sleep(5) AS TEXT) = ''".to_owned());

    let workflow_id = env.workflow(SourcePlatform::Postgresql);
    let payloads = extract_payloads(&env, workflow_id, &plan);
    assert_eq!(payloads.len(), 1, "one partition");
    let slow = env.push(workflow_id, "extract", &payloads)[0];
    let waiting = env.push(
        workflow_id,
        "analyze",
        &[
            analyze_payload(
                workflow_id,
                SourcePlatform::Postgresql,
                table_config("postgres", &pg.schema, "slow", 100),
            ),
            analyze_payload(
                workflow_id,
                SourcePlatform::Postgresql,
                table_config("postgres", &pg.schema, "slow", 100),
            ),
        ],
    );
    let mut options = env.options();
    options.grace_period = Duration::from_secs(1);
    options.cancel_wait = Duration::from_secs(1);
    let mut worker = RunningWorker::start(
        env.worker_config(1, POSTGRES_SOURCE),
        env.params.clone(),
        options,
    );
    wait_until(&mut worker, WAIT, "the slow extract to start", || {
        env.task(slow).status == "executing"
    });
    let took = worker.stop();
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");

    for id in std::iter::once(&slow).chain(&waiting) {
        let row = env.task(*id);
        assert_eq!(row.status, "pending", "task {id}: {row:?}");
        assert_eq!(row.failures, 0, "a hand-back is not a failure: {row:?}");
    }
    assert_eq!(env.task(slow).attempts, 1);
    for id in &waiting {
        assert_eq!(env.task(*id).attempts, 0, "never claimed");
    }
}
