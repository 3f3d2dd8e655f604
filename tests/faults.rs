//! Faults with the real binaries: the worker is killed (SIGKILL) while an extract runs and
//! restarted; the orchestrator is killed (SIGKILL) while a load (COPY INTO) runs and restarted.
//! The workflow still completes, and the target holds every source row exactly once.

use std::time::{Duration, Instant};

use arrow::datatypes::{DataType, TimeUnit};
use snowflake_data_migration::{wait_for, E2e};

const ROWS: u64 = 320_000;

/// 320k rows in 16 partitions of 20k. The where clause keeps every row but sleeps 0.1 s on one
/// row in 4000, so each partition's extraction lasts about half a second: long enough to be
/// caught running.
fn source_sql() -> String {
    format!(
        "CREATE TABLE big (
             id bigint PRIMARY KEY,
             label text,
             amount numeric(12,3),
             created_at timestamp
         );
         INSERT INTO big
         SELECT i,
                CASE WHEN i % 101 = 0 THEN NULL ELSE md5(i::text) END,
                i * 0.125,
                TIMESTAMP '2021-06-01 00:00:00' + i * INTERVAL '1.5 seconds'
         FROM generate_series(1, {ROWS}) AS i;
         ANALYZE big;"
    )
}

const SLOW_WHERE: &str = "(id % 4000 <> 0 OR CAST(pg_sleep(0.1) AS TEXT) = '')";

#[test]
fn killed_worker_and_orchestrator_lose_and_duplicate_nothing() {
    // A killed process may die inside a transaction; the emulator rolls such a transaction
    // back (releasing its table locks) once it has been idle this long. Its default, 30 s,
    // would stall the others twice. Set before the emulator of this test binary starts.
    std::env::set_var("SFEMU_ABANDONED_TRANSACTION_SECONDS", "5");
    let mut e2e = E2e::new("e2e_faults");
    // Short leases: a killed holder's task is handed on after 6 s.
    e2e.orchestrator_env
        .push(("DATA_MIGRATION_TASK_LEASE_SECONDS".into(), "6".into()));
    e2e.pg_execute(&source_sql());
    let db = e2e.database.name.clone();
    let workflow = format!(
        r#"{{
  "defaultTableConfiguration": {{
    "source": {{"databaseName": "postgres", "schemaName": "{schema}"}},
    "target": {{"databaseName": "{db}", "schemaName": "FAULTS"}}
  }},
  "tables": [
    {{"source": {{"tableName": "big"}}, "target": {{"tableName": "BIG"}},
      "columnNamesToPartitionBy": ["id"],
      "partitionSize": {{"maxRowsPerPartition": 20000}},
      "whereClauseCriteria": "{SLOW_WHERE}"}}
  ]
}}"#,
        schema = e2e.pg.schema
    );
    let queue = e2e.metadata("TASK_QUEUE");
    let mut session = e2e.session();

    let mut orchestrator = e2e.start_orchestrator("orchestrator-1");
    let mut worker = e2e.start_worker("worker-1", 2);
    e2e.create_workflow_ok("FAULTS", &workflow);
    let clock = Instant::now();

    // 1. kill -9 the worker while an extract runs, then start a new one.
    let running_extract =
        format!("SELECT MIN(ID) FROM {queue} WHERE KIND = 'extract' AND STATUS = 'executing'");
    let killed_extract: u64 = wait_for("an extract task to run", Duration::from_secs(90), || {
        let rows = session.query_rows(&running_extract, &[]).ok()?;
        rows.into_iter().next()?.into_iter().next()??.parse().ok()
    });
    worker.kill_hard();
    eprintln!(
        "{:?}: worker killed during extract task {killed_extract}",
        clock.elapsed()
    );
    let mut worker = e2e.start_worker("worker-2", 2);

    // 2. kill -9 the orchestrator while a load runs. A load's COPY, ledger rows and completion
    //    are one transaction, so no outside reader can see "copied but not recorded"; the
    //    in-process tests (crates/orchestrator/tests/daemon.rs) crash it between COPY and
    //    COMMIT. Here: once at least one load completed, the next one seen running.
    let probe = format!(
        "SELECT
           (SELECT COUNT(*) FROM {queue} WHERE KIND = 'load' AND STATUS = 'completed'),
           (SELECT MIN(ID) FROM {queue} WHERE KIND = 'load' AND STATUS = 'executing')"
    );
    let started = Instant::now();
    let killed_load = loop {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no load task ran within 90 s"
        );
        let Ok(rows) = session.query_rows(&probe, &[]) else {
            continue;
        };
        let row = &rows[0];
        let number =
            |i: usize| -> u64 { row[i].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0) };
        let (completed, executing) = (number(0), number(1));
        if executing > 0 && completed >= 1 {
            break executing;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    orchestrator.kill_hard();
    eprintln!(
        "{:?}: orchestrator killed during load task {killed_load}",
        clock.elapsed()
    );
    let mut orchestrator = e2e.start_orchestrator("orchestrator-2");

    e2e.wait_completed(
        "FAULTS",
        Duration::from_secs(150),
        &mut [&mut orchestrator, &mut worker],
    );
    eprintln!("{:?}: workflow completed", clock.elapsed());
    e2e.assert_verified("FAULTS", 1);

    // The faults hit what they were meant to: the killed extract was claimed again, the killed
    // load was finished by the second orchestrator.
    let mut task = |id: u64| {
        e2e.rows(
            &mut session,
            &format!("SELECT STATUS, ATTEMPTS, LEASE_OWNER FROM {queue} WHERE ID = {id}"),
        )
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("task {id} is gone"))
    };
    let extract = task(killed_extract);
    assert_eq!(extract[0].as_deref(), Some("completed"), "{extract:?}");
    assert!(
        extract[1].as_deref().and_then(|a| a.parse::<u64>().ok()) >= Some(2),
        "the killed extract ran again: {extract:?}"
    );
    let load = task(killed_load);
    eprintln!("killed extract task: {extract:?}; killed load task: {load:?}");
    assert_eq!(load[0].as_deref(), Some("completed"), "{load:?}");

    // Every partition loaded, no task failed for good.
    let progress = e2e.rows(
        &mut session,
        &format!(
            "SELECT TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, EXTRACTED_ROWS, LOADED_ROWS
             FROM {}",
            e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    assert_eq!(progress.len(), 1, "{progress:?}");
    let row = &progress[0];
    assert!(
        row[0].as_deref().and_then(|p| p.parse::<u64>().ok()) >= Some(10),
        "{row:?}"
    );
    assert_eq!(row[0], row[1], "every partition loaded: {row:?}");
    assert_eq!(row[2].as_deref(), Some("0"), "{row:?}");
    // SUM comes back as text (`320000`).
    let sum = |i: usize| row[i].as_deref().and_then(|v| v.parse::<f64>().ok());
    assert_eq!(sum(3), Some(ROWS as f64), "rows extracted: {row:?}");
    assert_eq!(sum(4), Some(ROWS as f64), "rows loaded: {row:?}");
    assert_eq!(
        e2e.count(
            &mut session,
            &format!("SELECT COUNT(*) FROM {queue} WHERE STATUS = 'failed'")
        ),
        0
    );

    // The target equals the source: same rows, same content, no key twice.
    let target = format!("{db}.FAULTS.BIG");
    let (source_rows, source_sum) = e2e.source_checksum(
        "SELECT id, label, amount, created_at FROM big",
        &[
            ("id", DataType::Int64),
            ("label", DataType::Utf8),
            ("amount", DataType::Decimal128(12, 3)),
            (
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
        ],
    );
    assert_eq!(source_rows, ROWS);
    let (target_rows, target_sum) = e2e.target_checksum(
        &mut session,
        &target,
        &["ID", "LABEL", "AMOUNT", "CREATED_AT"],
    );
    assert_eq!(target_rows, source_rows, "rows of {target}");
    assert_eq!(
        e2e.count(
            &mut session,
            &format!("SELECT COUNT(DISTINCT ID) FROM {target}")
        ),
        ROWS,
        "distinct keys of {target}"
    );
    assert_eq!(target_sum, source_sum, "content of {target}");

    // The ledger holds each loaded file once.
    let ledger = e2e.metadata("LOADED_FILE");
    let files = e2e.count(
        &mut session,
        &format!("SELECT COUNT(*) FROM {ledger} WHERE COPY_STATUS = 'LOADED'"),
    );
    let distinct = e2e.count(
        &mut session,
        &format!(
            "SELECT COUNT(DISTINCT STAGE_PATH || '/' || FILE_NAME) FROM {ledger} WHERE COPY_STATUS = 'LOADED'"
        ),
    );
    assert_eq!(files, distinct, "no file recorded as loaded twice");
}
