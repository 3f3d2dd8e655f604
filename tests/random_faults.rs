//! Random faults with the real binaries: two workers and the orchestrator migrate five
//! PostgreSQL tables (600,000 rows of numeric extremes, timestamps with zones, a table with a
//! spaced mixed-case quoted name holding unicode text, binary, JSON, uuids and reserved-word
//! columns, a heavily skewed text key, an empty table) while they are killed with SIGKILL at
//! random moments, one at a time and together, and restarted after a short random delay.
//!
//! Then the workflow must complete with no failed partition, every table must be identical to
//! its source as read by an independent reader (`tests/support/compare_tables.py`: psql on one
//! side, snowflake-connector-python on the other, its own normalisation, value by value), and
//! the ledger must hold no file loaded twice.
//!
//! The schedule comes from a seeded generator whose seed is printed; `FAULTS_SEED=N` replays
//! it (the same kills after the same pauses; the system's own timing still varies). Phase
//! timings are printed; logs of every process are kept in a folder named in the failure.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use migration_core::snowflake::Session;
use snowflake_data_migration::{Daemon, E2e, ReaderTable, SeededRng, Transport};

const DATASET: &str = include_str!("support/fault_dataset.sql");
const SOURCE_ROWS: u64 = 600_000;
const WORKFLOW: &str = "RANDOM_FAULTS";
const TARGET_SCHEMA: &str = "FAULTS";
const SEED_VAR: &str = "FAULTS_SEED";
/// Fault events (each kills one to three processes).
const EVENTS: usize = 12;
/// Of those, at least this many must hit while the workflow is still running.
const MIN_EVENTS_DURING_RUN: usize = 10;
const WORKERS: usize = 2;
const FIRST_TASK_TIMEOUT: Duration = Duration::from_secs(90);
/// The run (dataset to completion) must end within this budget; the comparison comes after.
const RUN_BUDGET: Duration = Duration::from_secs(330);
/// However late the faults ended, the workflow gets at least this long to complete after them.
const MIN_COMPLETION_TIME: Duration = Duration::from_secs(60);
/// How long a kill waits for the queue to make progress since the previous kill.
const MAX_STALL: Duration = Duration::from_secs(15);
/// The random pause before each kill. Short enough that [`MIN_EVENTS_DURING_RUN`] kills fit
/// into a run that no longer stalls after each kill (the whole workflow takes 40 to 50 s under
/// faults on the reference machine).
const PAUSE: (Duration, Duration) = (Duration::from_millis(300), Duration::from_millis(2500));
/// The random delay before the killed processes are started again.
const RESTART_DELAY: (Duration, Duration) =
    (Duration::from_millis(200), Duration::from_millis(1500));

/// The five tables: source name, target name as stored, the key the reader matches rows on.
const TABLES: [ReaderTable; 5] = [
    ReaderTable {
        source: "numbers",
        target_schema: TARGET_SCHEMA,
        target: "NUMBERS",
        key: &["id"],
    },
    ReaderTable {
        source: "times",
        target_schema: TARGET_SCHEMA,
        target: "TIMES",
        key: &["id"],
    },
    ReaderTable {
        source: "MixedCase Text",
        target_schema: TARGET_SCHEMA,
        target: "MixedCase Text",
        key: &["id"],
    },
    ReaderTable {
        source: "skewed",
        target_schema: TARGET_SCHEMA,
        target: "SKEWED",
        key: &["seq"],
    },
    ReaderTable {
        source: "empty_table",
        target_schema: TARGET_SCHEMA,
        target: "EMPTY_TABLE",
        key: &["id"],
    },
];

/// Both tests are heavy (five daemons' worth of work on a small machine): run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn random_kills_lose_and_duplicate_nothing_over_the_direct_transport() {
    random_kills(Transport::Direct);
}

#[test]
fn random_kills_lose_and_duplicate_nothing_over_the_procedure_transport() {
    random_kills(Transport::Procedure);
}

fn workflow_json(e2e: &E2e) -> String {
    let schema = &e2e.pg.schema;
    let db = &e2e.database.name;
    let table = |source: &str, target: &str, key: &str| {
        format!(
            r#"{{"source": {{"tableName": {source}}}, "target": {{"tableName": {target}}},
      "columnNamesToPartitionBy": ["{key}"]}}"#
        )
    };
    format!(
        r#"{{
  "defaultTableConfiguration": {{
    "source": {{"databaseName": "postgres", "schemaName": "{schema}"}},
    "target": {{"databaseName": "{db}", "schemaName": "{TARGET_SCHEMA}"}},
    "partitionSize": {{"maxRowsPerPartition": 20000}}
  }},
  "tables": [
    {},
    {},
    {},
    {},
    {}
  ]
}}"#,
        table(r#""numbers""#, r#""NUMBERS""#, "id"),
        table(r#""times""#, r#""TIMES""#, "id"),
        table(r#""\"MixedCase Text\"""#, r#""\"MixedCase Text\"""#, "id"),
        // Partitioned by the skewed text key itself.
        table(r#""skewed""#, r#""SKEWED""#, "k"),
        table(r#""empty_table""#, r#""EMPTY_TABLE""#, "id"),
    )
}

fn random_kills(transport: Transport) {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (mut rng, seed) = SeededRng::from_env(SEED_VAR);
    eprintln!(
        "random faults ({transport:?}): seed {seed} (replay the schedule with {SEED_VAR}={seed})"
    );
    // A killed process may die inside a transaction. In strict mode (the default) its locks
    // stay, as in Snowflake, until its session is ended: the restarted daemons end the sessions
    // of dead processes on their host (the session registry). Under `SFEMU_STRICT=0` the
    // emulator instead rolls such a transaction back once it has been idle this long. Set
    // before the emulator starts.
    std::env::set_var("SFEMU_ABANDONED_TRANSACTION_SECONDS", "5");
    let mut phases = Phases::new();
    let mut e2e = E2e::new("e2e_random_faults");
    e2e.transport = transport;
    // Both readers under faults: the native PostgreSQL reader with the direct transport,
    // psqlODBC with the procedure transport.
    e2e.extraction_path = match transport {
        Transport::Direct => "native",
        Transport::Procedure => "odbc",
    };
    // A killed holder's task is handed on after 10 s.
    e2e.orchestrator_env
        .push(("DATA_MIGRATION_TASK_LEASE_SECONDS".into(), "10".into()));
    e2e.pg_execute(DATASET);
    phases.mark(&format!(
        "dataset: {SOURCE_ROWS} rows in 5 PostgreSQL tables"
    ));

    let mut cast = Cast::start(&e2e);
    e2e.create_workflow_ok(WORKFLOW, &workflow_json(&e2e));
    let mut session = e2e.session();
    cast.wait_first_task(&mut session);
    phases.mark("first task completed");

    let events = cast.storm(&mut session, &mut rng);
    phases.mark(&format!(
        "{} fault events ({} processes killed)",
        events.len(),
        events.iter().map(|e| e.killed).sum::<usize>()
    ));
    for event in &events {
        eprintln!("  {event}");
    }

    let budget_left = RUN_BUDGET.saturating_sub(phases.elapsed());
    let completed = cast.wait_completed(&mut session, budget_left.max(MIN_COMPLETION_TIME));
    phases.mark("until the workflow completed");
    let mut problems = Vec::new();
    let completed = match completed {
        Ok(()) => true,
        Err(problem) => {
            problems.push(problem);
            false
        }
    };
    let during_run = events.iter().filter(|e| e.workflow_running).count();
    if during_run < MIN_EVENTS_DURING_RUN {
        problems.push(format!(
            "only {during_run} of {} fault events hit while the workflow ran (at least \
             {MIN_EVENTS_DURING_RUN} are needed to exercise faults): the run is too short for \
             the schedule; make the dataset larger or the pauses shorter",
            events.len()
        ));
    }
    if !events
        .iter()
        .any(|e| matches!(e.victims, Victims::Everyone) && e.workflow_running)
    {
        problems
            .push("the kill of every process at once did not hit a running workflow".to_owned());
    }
    // Stop every daemon before reading the results: nothing changes under the readers.
    let logs = cast.stop();

    if completed {
        problems.extend(check_partitions(&e2e, &mut session));
        phases.mark("partitions and queue checked");
        match e2e.compare_independently(&TABLES) {
            Ok(report) => eprintln!("independent reader:\n{report}"),
            Err(report) => problems.push(format!(
                "the independent reader found differences:\n{report}"
            )),
        }
        phases.mark("independent comparison of every value");
        problems.extend(check_ledger(&e2e, &mut session));
        phases.mark("ledger checked");
    }
    eprintln!("{}", phases.report());
    if !problems.is_empty() {
        let kept = e2e.keep_logs(&format!("e2e-random-faults-{seed}"));
        panic!(
            "random faults ({transport:?}, {SEED_VAR}={seed}) broke the copy:\n- {}\n\n\
             fault events:\n{}\n{}\n(logs of every process: {})\n{logs}",
            problems.join("\n- "),
            events
                .iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
            e2e.diagnostics(&mut session, &[]),
            kept.display()
        );
    }
}

/// Every table loaded all of its partitions, none failed, no task failed for good.
fn check_partitions(e2e: &E2e, session: &mut Session) -> Vec<String> {
    let mut problems = Vec::new();
    let progress = e2e.rows(
        session,
        &format!(
            "SELECT TABLE_NAME, TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, \
             EXTRACTED_ROWS, LOADED_ROWS, EXAMPLE_ERROR_MESSAGE FROM {} ORDER BY TABLE_NAME",
            e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    if progress.len() != TABLES.len() {
        problems.push(format!(
            "{} tables in TABLE_PROGRESS, expected {}: {progress:?}",
            progress.len(),
            TABLES.len()
        ));
    }
    for row in &progress {
        let number = |i: usize| {
            row[i]
                .as_deref()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(-1.0)
        };
        if number(1) < 1.0 || number(1) != number(2) || number(3) != 0.0 {
            problems.push(format!(
                "table {}: {} partitions, {} loaded, {} failed (example error: {})",
                row[0].as_deref().unwrap_or("?"),
                number(1),
                number(2),
                number(3),
                row[6].as_deref().unwrap_or("none")
            ));
        }
    }
    let failed = e2e.rows(
        session,
        &format!(
            "SELECT ID, KIND, ATTEMPTS, FAILURES, LAST_ERROR FROM {} WHERE STATUS = 'failed' ORDER BY ID",
            e2e.metadata("TASK_QUEUE")
        ),
    );
    if !failed.is_empty() {
        let mut text = format!("{} task(s) failed for good:", failed.len());
        for row in failed.iter().take(10) {
            let _ = write!(text, "\n    {row:?}");
        }
        problems.push(text);
    }
    problems
}

/// The ledger of loaded files holds each file once, and each partition's files from one
/// extract attempt only (two attempts loaded would be every row twice).
fn check_ledger(e2e: &E2e, session: &mut Session) -> Vec<String> {
    let ledger = e2e.metadata("LOADED_FILE");
    let mut problems = Vec::new();
    let twice = e2e.rows(
        session,
        &format!(
            "SELECT STAGE_PATH, FILE_NAME, COUNT(*) FROM {ledger} WHERE COPY_STATUS = 'LOADED' \
             GROUP BY STAGE_PATH, FILE_NAME HAVING COUNT(*) > 1"
        ),
    );
    if !twice.is_empty() {
        problems.push(format!(
            "files recorded as loaded more than once: {twice:?}"
        ));
    }
    let attempts = e2e.rows(
        session,
        &format!(
            "SELECT PARTITION_ID, COUNT(DISTINCT STAGE_PATH) FROM {ledger} \
             WHERE COPY_STATUS = 'LOADED' GROUP BY PARTITION_ID HAVING COUNT(DISTINCT STAGE_PATH) > 1"
        ),
    );
    if !attempts.is_empty() {
        problems.push(format!(
            "partitions loaded from more than one stage folder (attempt): {attempts:?}"
        ));
    }
    // For the record (not a requirement: a load recovered from COPY's load history after a
    // crash may leave no ledger rows): files and rows the ledger holds per table.
    let per_table = e2e.rows(
        session,
        &format!(
            "SELECT p.TABLE_NAME, COUNT(f.ID), SUM(f.ROWS_LOADED), p.LOADED_ROWS FROM {} p \
             LEFT JOIN {ledger} f ON f.TABLE_ID = p.TABLE_ID AND f.COPY_STATUS = 'LOADED' \
             GROUP BY p.TABLE_NAME, p.LOADED_ROWS ORDER BY 1",
            e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    for row in &per_table {
        eprintln!(
            "ledger: {}: {} file(s) loaded with {} rows (progress view: {} rows loaded)",
            row[0].as_deref().unwrap_or("?"),
            row[1].as_deref().unwrap_or("0"),
            row[2].as_deref().unwrap_or("0"),
            row[3].as_deref().unwrap_or("?")
        );
    }
    problems
}

/// The running daemons: one orchestrator and [`WORKERS`] workers, restarted under new labels
/// (each process has its own log).
struct Cast<'a> {
    e2e: &'a E2e,
    orchestrator: Daemon,
    workers: Vec<Daemon>,
    started: usize,
    clock: Instant,
}

/// Which processes one fault event kills.
#[derive(Debug, Clone, Copy)]
enum Victims {
    Worker(usize),
    Orchestrator,
    OrchestratorAndWorker(usize),
    Everyone,
}

struct FaultEvent {
    at: Duration,
    victims: Victims,
    killed: usize,
    restart_after: Duration,
    workflow_running: bool,
    /// Queue state when the kill hit: (executing tasks, completed tasks).
    queue: (u64, u64),
}

impl std::fmt::Display for FaultEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>6.1}s kill -9 {:?}, restarted after {:.1}s ({} executing, {} completed tasks{})",
            self.at.as_secs_f64(),
            self.victims,
            self.restart_after.as_secs_f64(),
            self.queue.0,
            self.queue.1,
            if self.workflow_running {
                ""
            } else {
                "; workflow already completed"
            }
        )
    }
}

impl<'a> Cast<'a> {
    fn start(e2e: &'a E2e) -> Cast<'a> {
        let orchestrator = e2e.start_orchestrator("orchestrator-0");
        let workers = (0..WORKERS)
            .map(|i| e2e.start_worker(&format!("worker-{i}-0"), 2))
            .collect();
        Cast {
            e2e,
            orchestrator,
            workers,
            started: 0,
            clock: Instant::now(),
        }
    }

    fn daemons(&mut self) -> Vec<&mut Daemon> {
        let mut all = vec![&mut self.orchestrator];
        all.extend(self.workers.iter_mut());
        all
    }

    /// Fails fast (with the logs) when the queue does not work at all, for example over a
    /// transport the emulator does not run.
    fn wait_first_task(&mut self, session: &mut Session) {
        let started = Instant::now();
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE STATUS = 'completed'",
            self.e2e.metadata("TASK_QUEUE")
        );
        loop {
            let done = session
                .query_rows(&sql, &[])
                .ok()
                .and_then(|rows| rows.first()?.first()?.as_deref()?.parse::<u64>().ok())
                .unwrap_or(0);
            if done > 0 {
                return;
            }
            if started.elapsed() > FIRST_TASK_TIMEOUT {
                let e2e = self.e2e;
                let daemons = self.daemons();
                panic!(
                    "no task of workflow {WORKFLOW} completed within {FIRST_TASK_TIMEOUT:?}, \
                     before any fault: the queue does not work over {:?}\n{}",
                    e2e.transport,
                    e2e.diagnostics(session, &daemons)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn queue_state(&self, session: &mut Session) -> (u64, u64) {
        let sql = format!(
            "SELECT COUNT_IF(STATUS = 'executing'), COUNT_IF(STATUS = 'completed') FROM {}",
            self.e2e.metadata("TASK_QUEUE")
        );
        let rows = session.query_rows(&sql, &[]).unwrap_or_default();
        let number = |i: usize| -> u64 {
            rows.first()
                .and_then(|row| row.get(i)?.as_deref()?.parse().ok())
                .unwrap_or(0)
        };
        (number(0), number(1))
    }

    fn workflow_running(&self, session: &mut Session) -> bool {
        self.e2e.workflow_status(session, WORKFLOW).as_deref() != Some("completed")
    }

    /// [`EVENTS`] kill -9 events, each followed by a random restart delay. Before each kill
    /// a random pause, and then (up to [`MAX_STALL`]) until some task completed since the last
    /// kill: the kills spread over the whole run instead of all hitting its first seconds.
    /// One event, at a random position, kills every process at once.
    fn storm(&mut self, session: &mut Session, rng: &mut SeededRng) -> Vec<FaultEvent> {
        // Among the first MIN_EVENTS_DURING_RUN events: those are all during the run whenever
        // the run is long enough for the test to count (a finished workflow stays finished), so
        // the kill of everyone at once always hits a running workflow.
        let everyone_at = rng.below(MIN_EVENTS_DURING_RUN as u64) as usize;
        let mut events = Vec::new();
        let mut completed_before = self.queue_state(session).1;
        for index in 0..EVENTS {
            std::thread::sleep(rng.duration(PAUSE.0, PAUSE.1));
            let stalled = Instant::now();
            while self.queue_state(session).1 <= completed_before
                && stalled.elapsed() < MAX_STALL
                && self.workflow_running(session)
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            let worker = rng.below(WORKERS as u64) as usize;
            let victims = if index == everyone_at {
                Victims::Everyone
            } else {
                match rng.below(10) {
                    0..=4 => Victims::Worker(worker),
                    5..=7 => Victims::Orchestrator,
                    _ => Victims::OrchestratorAndWorker(worker),
                }
            };
            let restart_after = rng.duration(RESTART_DELAY.0, RESTART_DELAY.1);
            let workflow_running = self.workflow_running(session);
            let queue = self.queue_state(session);
            completed_before = queue.1;
            let at = self.clock.elapsed();
            let killed = self.kill(victims);
            std::thread::sleep(restart_after);
            self.restart(victims);
            events.push(FaultEvent {
                at,
                victims,
                killed,
                restart_after,
                workflow_running,
                queue,
            });
        }
        events
    }

    fn kill(&mut self, victims: Victims) -> usize {
        match victims {
            Victims::Worker(i) => {
                self.workers[i].kill_hard();
                1
            }
            Victims::Orchestrator => {
                self.orchestrator.kill_hard();
                1
            }
            Victims::OrchestratorAndWorker(i) => {
                self.orchestrator.kill_hard();
                self.workers[i].kill_hard();
                2
            }
            Victims::Everyone => {
                for daemon in self.daemons() {
                    daemon.kill_hard();
                }
                1 + WORKERS
            }
        }
    }

    fn restart(&mut self, victims: Victims) {
        self.started += 1;
        let n = self.started;
        let e2e = self.e2e;
        let restart_worker = |workers: &mut Vec<Daemon>, i: usize| {
            workers[i] = e2e.start_worker(&format!("worker-{i}-{n}"), 2)
        };
        match victims {
            Victims::Worker(i) => restart_worker(&mut self.workers, i),
            Victims::Orchestrator => {
                self.orchestrator = e2e.start_orchestrator(&format!("orchestrator-{n}"));
            }
            Victims::OrchestratorAndWorker(i) => {
                self.orchestrator = e2e.start_orchestrator(&format!("orchestrator-{n}"));
                restart_worker(&mut self.workers, i);
            }
            Victims::Everyone => {
                self.orchestrator = e2e.start_orchestrator(&format!("orchestrator-{n}"));
                for i in 0..WORKERS {
                    restart_worker(&mut self.workers, i);
                }
            }
        }
    }

    /// Waits for the workflow to complete; an error when a daemon exits by itself or time is up.
    fn wait_completed(&mut self, session: &mut Session, timeout: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if !self.workflow_running(session) {
                return Ok(());
            }
            for daemon in self.daemons() {
                if let Some(status) = daemon.exited() {
                    return Err(format!(
                        "{} exited by itself ({status}) before workflow {WORKFLOW} completed:\n{}",
                        daemon.label,
                        daemon.log_tail()
                    ));
                }
            }
            if started.elapsed() > timeout {
                return Err(format!(
                    "workflow {WORKFLOW} did not complete within {timeout:?} after the faults"
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Kills the daemons; the tails of their logs.
    fn stop(mut self) -> String {
        let mut text = String::new();
        for daemon in self.daemons() {
            daemon.kill_hard();
            let _ = writeln!(text, "--- log of {}\n{}", daemon.label, daemon.log_tail());
        }
        text
    }
}

/// Wall-clock time per phase of the test, printed as it goes and once at the end.
struct Phases {
    started: Instant,
    last: Instant,
    lines: Vec<String>,
}

impl Phases {
    fn new() -> Phases {
        let now = Instant::now();
        Phases {
            started: now,
            last: now,
            lines: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &str) {
        let now = Instant::now();
        let line = format!(
            "{:>7.1}s {:>7.1}s  {phase}",
            (now - self.last).as_secs_f64(),
            (now - self.started).as_secs_f64()
        );
        eprintln!("phase: {line}");
        self.lines.push(line);
        self.last = now;
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn report(&self) -> String {
        format!("phase timings (phase, total):\n{}", self.lines.join("\n"))
    }
}
