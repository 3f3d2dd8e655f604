//! Helpers shared by the end-to-end tests in `tests/`: the real `orchestrator` and `worker`
//! binaries run against the Snowflake emulator, reading a PostgreSQL schema.
//!
//! Every test gets its own emulator database (metadata and target tables both live in it), its
//! own PostgreSQL schema and its own SNOWFLAKE_HOME, so the tests run in parallel. Processes are
//! spawned with a clean environment and killed when their handle is dropped; their logs are
//! kept in the test's folder and printed when a wait fails.
//!
//! Run: `cargo build -p orchestrator -p worker && cargo test -p snowflake-data-migration --tests`
//! (`cargo test --workspace --all-targets` builds the binaries itself). Needs PostgreSQL on
//! 127.0.0.1:5432 and the emulator's Python environment (see crates/test-support).

mod network_cut;

pub use network_cut::NetworkCut;
pub use test_support::wait_for;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::{DataType, Field, Schema};
use migration_core::snowflake::Session;
use migration_core::source::content_checksum::ContentChecksum;
use migration_core::source::extract::BatchReader;
use migration_core::source::postgres_native::PgCopyReader;
use test_support::{Emulator, PostgresSchema, TestDatabase};

/// The connection name every test's connections.toml defines.
pub const CONNECTION: &str = "emulator";

/// How both daemons talk to the task queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The queue statements in client transactions (`DATA_MIGRATION_QUEUE_TRANSPORT=direct`,
    /// `selected_task_source = "snowflake_direct_sql"`).
    Direct,
    /// The queue procedures (`procedure`, `snowflake_stored_procedure`): the production default.
    Procedure,
}

impl Transport {
    fn orchestrator_value(self) -> &'static str {
        match self {
            Transport::Direct => "direct",
            Transport::Procedure => "procedure",
        }
    }

    fn worker_task_source(self) -> &'static str {
        match self {
            Transport::Direct => "snowflake_direct_sql",
            Transport::Procedure => "snowflake_stored_procedure",
        }
    }
}

/// The path of a binary of the workspace, next to the test executable.
pub fn binary(name: &str) -> PathBuf {
    let path = assert_cmd::cargo::cargo_bin(name);
    assert!(
        path.is_file(),
        "{} is missing: run cargo build -p orchestrator -p worker",
        path.display()
    );
    path
}

/// One end-to-end test's world: an emulator database, a PostgreSQL schema and a folder that is
/// SNOWFLAKE_HOME and holds the worker configuration and the process logs.
pub struct E2e {
    pub database: TestDatabase,
    pub pg: PostgresSchema,
    pub home: tempfile::TempDir,
    /// Environment given to every orchestrator process besides the defaults.
    pub orchestrator_env: Vec<(String, String)>,
    /// The queue transport of every daemon started; [`Transport::Direct`] unless changed.
    pub transport: Transport,
    /// How workers read PostgreSQL: `"native"` (the default) or `"odbc"` (psqlODBC).
    pub extraction_path: &'static str,
}

impl E2e {
    pub fn new(prefix: &str) -> E2e {
        let database = Emulator::start().database(prefix);
        let pg = test_support::postgres();
        let home = tempfile::Builder::new()
            .prefix(&format!("e2e-{prefix}-"))
            .tempdir()
            .expect("a folder for the test");
        std::fs::write(
            home.path().join("connections.toml"),
            database.connections_toml(CONNECTION),
        )
        .expect("write connections.toml");
        E2e {
            database,
            pg,
            home,
            orchestrator_env: Vec::new(),
            transport: Transport::Direct,
            extraction_path: "native",
        }
    }

    /// Runs SQL on the test's PostgreSQL schema (its search_path).
    pub fn pg_execute(&self, sql: &str) {
        self.pg
            .client()
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("PostgreSQL: `{sql}` failed: {error}"));
    }

    /// `DB.DATA_MIGRATION.<object>`.
    pub fn metadata(&self, object: &str) -> String {
        format!("{}.DATA_MIGRATION.{object}", self.database.name)
    }

    /// A command for a binary with a clean environment: only PATH, HOME, SNOWFLAKE_HOME and the
    /// ADBC driver, so nothing from the developer's shell leaks in.
    fn command(&self, name: &str) -> Command {
        let mut command = Command::new(binary(name));
        command.env_clear();
        for inherited in ["PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH", "ODBCSYSINI"] {
            if let Some(value) = std::env::var_os(inherited) {
                command.env(inherited, value);
            }
        }
        command
            .env("SNOWFLAKE_HOME", self.home.path())
            .env("ADBC_SNOWFLAKE_DRIVER", &self.database.driver_path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        command
    }

    /// The orchestrator with fast polling, short leases and no retry backoff.
    pub fn orchestrator_command(&self) -> Command {
        let mut command = self.command("orchestrator");
        command
            .env("SNOWFLAKE_CONNECTION_NAME", CONNECTION)
            .env(
                "CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA",
                &self.database.name,
            )
            .env(
                "DATA_MIGRATION_QUEUE_TRANSPORT",
                self.transport.orchestrator_value(),
            )
            .env("DATA_MIGRATION_ORCHESTRATOR_POLL_INTERVAL_MS", "200")
            .env("DATA_MIGRATION_TASK_LEASE_SECONDS", "30")
            .env("DATA_MIGRATION_TASK_RETRY_BACKOFF_SECONDS", "0");
        for (key, value) in &self.orchestrator_env {
            command.env(key, value);
        }
        command
    }

    /// Runs `orchestrator create-data-migration-workflow` on `json` (written to a file).
    pub fn create_workflow(&self, name: &str, json: &str) -> Output {
        self.create_workflow_with(name, json, CONNECTION)
    }

    pub fn create_workflow_with(&self, name: &str, json: &str, connection: &str) -> Output {
        let file = self.home.path().join(format!("{name}.json"));
        std::fs::write(&file, json).expect("write the workflow file");
        self.orchestrator_command()
            .arg("create-data-migration-workflow")
            .arg(&file)
            .args([
                "--name",
                name,
                "--connection-name",
                connection,
                "--source-platform",
                "postgresql",
            ])
            .output()
            .expect("run orchestrator create-data-migration-workflow")
    }

    /// Creates a workflow and fails the test unless the command succeeds.
    pub fn create_workflow_ok(&self, name: &str, json: &str) {
        let output = self.create_workflow(name, json);
        assert!(
            output.status.success(),
            "create-data-migration-workflow {name} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs `orchestrator verify --workflow NAME`: the product's own per-table comparison of
    /// rows extracted with rows in the target, and of the content checksums.
    pub fn verify(&self, name: &str) -> Output {
        self.orchestrator_command()
            .args(["verify", "--workflow", name])
            .output()
            .expect("run orchestrator verify")
    }

    /// `orchestrator verify` succeeds and reports every one of `tables` tables verified.
    pub fn assert_verified(&self, name: &str, tables: usize) {
        let output = self.verify(name);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "orchestrator verify --workflow {name} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains(&format!("{tables} of {tables} table(s) verified")),
            "orchestrator verify --workflow {name}:\n{stdout}"
        );
    }

    /// Points the connection every daemon uses at `port` on the emulator's host (a
    /// [`NetworkCut`] in front of the emulator) instead of the emulator itself.
    pub fn connect_through(&self, port: u16) {
        let direct = self.database.connections_toml(CONNECTION);
        let through = direct.replace(
            &format!("port = {}\n", self.database.port),
            &format!("port = {port}\n"),
        );
        assert_ne!(direct, through, "the connection names the emulator's port");
        std::fs::write(self.home.path().join("connections.toml"), through)
            .expect("write connections.toml");
    }

    /// Starts the orchestrator daemon; `label` names its log file.
    pub fn start_orchestrator(&self, label: &str) -> Daemon {
        Daemon::spawn(self.orchestrator_command(), label, self.home.path())
    }

    /// Writes `<label>.toml` for a worker with `slots` task slots reading the test's
    /// PostgreSQL, and starts it.
    pub fn start_worker(&self, label: &str, slots: u32) -> Daemon {
        let config = self.home.path().join(format!("{label}.toml"));
        std::fs::write(&config, self.worker_toml(slots)).expect("write the worker configuration");
        let mut command = self.command("worker");
        command.arg("-c").arg(&config);
        Daemon::spawn(command, label, self.home.path())
    }

    pub fn worker_toml(&self, slots: u32) -> String {
        format!(
            "selected_task_source = \"{}\"\n\n\
             [application]\n\
             max_parallel_tasks = {slots}\n\
             task_fetch_interval = 1\n\
             snowflake_database_for_metadata = \"{}\"\n\n\
             [connections.source.postgresql]\n\
             username = \"postgres\"\n\
             database = \"postgres\"\n\
             host = \"127.0.0.1\"\n\
             port = 5432\n\
             extraction_path = \"{}\"\n\n\
             [connections.target.snowflake_connection_name]\n\
             connection_name = \"{CONNECTION}\"\n",
            self.transport.worker_task_source(),
            self.database.name,
            self.extraction_path
        )
    }

    /// A session to the test's emulator database.
    pub fn session(&self) -> Session {
        self.database.session()
    }

    /// The status of workflow `name`, `None` before it exists (or before the metadata does).
    pub fn workflow_status(&self, session: &mut Session, name: &str) -> Option<String> {
        let sql = format!(
            "SELECT STATUS FROM {} WHERE NAME = '{name}'",
            self.metadata("WORKFLOW")
        );
        session
            .query_rows(&sql, &[])
            .ok()?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
    }

    /// Waits until workflow `name` is completed. Fails early, with every log, if one of
    /// `daemons` exits, and after `timeout` with the status report.
    pub fn wait_completed(&self, name: &str, timeout: Duration, daemons: &mut [&mut Daemon]) {
        let mut session = self.session();
        let started = Instant::now();
        loop {
            if self.workflow_status(&mut session, name).as_deref() == Some("completed") {
                return;
            }
            let exited = daemons
                .iter_mut()
                .find_map(|daemon| Some((daemon.label.clone(), daemon.exited()?)));
            if let Some((label, status)) = exited {
                panic!(
                    "{label} exited ({status}) before workflow {name} completed\n{}",
                    self.diagnostics(&mut session, daemons)
                );
            }
            if started.elapsed() > timeout {
                panic!(
                    "workflow {name} did not complete within {timeout:?}\n{}",
                    self.diagnostics(&mut session, daemons)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The queue, the table progress and the logs of `daemons`, for failure messages.
    pub fn diagnostics(&self, session: &mut Session, daemons: &[&mut Daemon]) -> String {
        let mut text = String::new();
        for (title, sql) in [
            (
                "WORKFLOW",
                format!(
                    "SELECT NAME, STATUS, LAST_ERROR FROM {}",
                    self.metadata("WORKFLOW")
                ),
            ),
            (
                "TASK_QUEUE",
                format!(
                    "SELECT ID, KIND, STATUS, ATTEMPTS, FAILURES, LAST_ERROR FROM {} ORDER BY ID",
                    self.metadata("TASK_QUEUE")
                ),
            ),
            (
                "TABLE_PROGRESS_WITH_EXAMPLE_ERROR",
                format!(
                    "SELECT * FROM {}",
                    self.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
                ),
            ),
        ] {
            let _ = writeln!(text, "--- {title}");
            match session.query_rows(&sql, &[]) {
                Ok(rows) => {
                    for row in rows.iter().take(60) {
                        let _ = writeln!(text, "{row:?}");
                    }
                }
                Err(error) => {
                    let _ = writeln!(text, "(query failed: {error})");
                }
            }
        }
        for daemon in daemons {
            let _ = writeln!(text, "--- log of {}\n{}", daemon.label, daemon.log_tail());
        }
        text
    }

    /// Runs a query on the emulator; every value as text.
    pub fn rows(&self, session: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
        session
            .query_rows(sql, &[])
            .unwrap_or_else(|error| panic!("query `{sql}` failed: {error}"))
    }

    /// The single value of a one-row, one-column query, as an integer.
    pub fn count(&self, session: &mut Session, sql: &str) -> u64 {
        let rows = self.rows(session, sql);
        let value = rows
            .first()
            .and_then(|row| row.first())
            .cloned()
            .flatten()
            .unwrap_or_else(|| panic!("`{sql}` returned no value"));
        value
            .parse()
            .unwrap_or_else(|_| panic!("`{sql}` returned {value:?}, not a count"))
    }

    /// Compares `tables` (PostgreSQL tables of the test's schema with their copies in the
    /// emulator database) value by value with the independent reader
    /// `tests/support/compare_tables.py`, which shares no code with the project. Its report:
    /// `Ok` when every table is identical, `Err` when one differs or it could not compare.
    pub fn compare_independently(&self, tables: &[ReaderTable]) -> Result<String, String> {
        let spec = self.home.path().join("compare_tables.json");
        std::fs::write(&spec, self.reader_spec(tables)).expect("write the reader's spec");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/compare_tables.py");
        let output = Command::new(Emulator::start().python())
            .arg(&script)
            .arg(&spec)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        match output.status.code() {
            Some(0) => Ok(report),
            Some(1) => Err(report),
            _ => Err(format!(
                "the independent reader could not compare the tables:\n{report}"
            )),
        }
    }

    fn reader_spec(&self, tables: &[ReaderTable]) -> String {
        let database = &self.database;
        let tables: Vec<String> = tables
            .iter()
            .map(|table| {
                let key: Vec<String> = table.key.iter().map(|k| json_string(k)).collect();
                format!(
                    "{{\"source\": {{\"schema\": {}, \"table\": {}}}, \
                     \"target\": {{\"database\": {}, \"schema\": {}, \"table\": {}}}, \
                     \"key\": [{}]}}",
                    json_string(&self.pg.schema),
                    json_string(table.source),
                    json_string(&database.name),
                    json_string(table.target_schema),
                    json_string(table.target),
                    key.join(", ")
                )
            })
            .collect();
        format!(
            "{{\"postgres\": {{\"host\": \"127.0.0.1\", \"port\": 5432, \"user\": \"postgres\", \
             \"database\": \"postgres\"}},\n \"snowflake\": {{\"account\": {}, \"user\": {}, \
             \"password\": {}, \"host\": {}, \"port\": {}, \"protocol\": \"http\", \
             \"warehouse\": \"SFEMU_WH\"}},\n \"max_differences\": 5,\n \"tables\": [\n  {}\n ]}}\n",
            json_string(&database.account),
            json_string(&database.user),
            json_string(&database.password),
            json_string(&database.host),
            database.port,
            tables.join(",\n  ")
        )
    }

    /// Copies the process logs (every `*.log` of the test's folder, which is deleted with the
    /// test) to a folder that stays, and returns it.
    pub fn keep_logs(&self, label: &str) -> PathBuf {
        let kept = std::env::temp_dir().join(format!("{label}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&kept);
        if let Ok(entries) = std::fs::read_dir(self.home.path()) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log" || e == "toml") {
                    let _ = std::fs::copy(&path, kept.join(entry.file_name()));
                }
            }
        }
        kept
    }

    /// Row count and content checksum of `SELECT columns FROM table` on the emulator.
    pub fn target_checksum(
        &self,
        session: &mut Session,
        table: &str,
        columns: &[&str],
    ) -> (u64, ContentChecksum) {
        let sql = format!("SELECT {} FROM {table}", columns.join(", "));
        let batches = session
            .query(&sql, &[])
            .unwrap_or_else(|error| panic!("query `{sql}` failed: {error}"));
        let mut checksum = ContentChecksum::default();
        let mut rows = 0;
        for batch in &batches {
            checksum.add_batch(batch);
            rows += batch.num_rows() as u64;
        }
        (rows, checksum)
    }

    /// Row count and content checksum of `select_sql` on PostgreSQL, read as Arrow with
    /// `columns` (name, Arrow type) through the same binary COPY decoder the worker uses.
    pub fn source_checksum(
        &self,
        select_sql: &str,
        columns: &[(&str, DataType)],
    ) -> (u64, ContentChecksum) {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
                .collect::<Vec<_>>(),
        ));
        let mut client = self.pg.client();
        let mut reader = PgCopyReader::start(&mut client, select_sql, schema, "source")
            .unwrap_or_else(|error| panic!("PostgreSQL: `{select_sql}` failed: {error}"));
        let mut checksum = ContentChecksum::default();
        let mut rows = 0;
        while let Some(batch) = reader
            .next_batch()
            .unwrap_or_else(|error| panic!("PostgreSQL: reading `{select_sql}` failed: {error}"))
        {
            checksum.add_batch(&batch);
            rows += batch.num_rows() as u64;
        }
        (rows, checksum)
    }
}

/// One table for [`E2e::compare_independently`]: a PostgreSQL table of the test's schema and
/// its copy in the test's emulator database (names as stored, without quotes), matched row by
/// row on `key`. Target column names follow the default naming (plain lower-case names
/// upper-cased, others kept).
#[derive(Debug, Clone)]
pub struct ReaderTable {
    pub source: &'static str,
    pub target_schema: &'static str,
    pub target: &'static str,
    pub key: &'static [&'static str],
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A small seeded random number generator (SplitMix64) for fault schedules: the same seed
/// gives the same schedule, so a failing run can be replayed.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// The seed from environment variable `var` when it is set, else a fresh one.
    pub fn from_env(var: &str) -> (SeededRng, u64) {
        let seed = match std::env::var(var) {
            Ok(text) => text
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{var}={text:?} is not a number: give a u64 seed")),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_nanos() as u64 ^ u64::from(std::process::id()))
                .unwrap_or(1),
        };
        (SeededRng(seed), seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A duration in `low..=high`, to the millisecond.
    pub fn duration(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_millis() as u64;
        low + Duration::from_millis(self.below(span + 1))
    }
}

/// A running binary whose output goes to `<label>.log`; killed (SIGKILL) when dropped.
pub struct Daemon {
    pub label: String,
    pub log: PathBuf,
    child: Child,
}

impl Daemon {
    fn spawn(mut command: Command, label: &str, dir: &Path) -> Daemon {
        let log = dir.join(format!("{label}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("create the log file");
        let child = command
            .stdout(file.try_clone().expect("clone the log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {label}: {error}"));
        Daemon {
            label: label.to_owned(),
            log,
            child,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("poll the child process")
    }

    /// SIGTERM: asks the process to stop.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM {} failed", self.child.id());
    }

    /// Waits up to `limit` for the process to exit; its exit status, `None` if it still runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the log holds `text` yet.
    pub fn log_contains(&self, text: &str) -> bool {
        std::fs::read_to_string(&self.log)
            .map(|log| log.contains(text))
            .unwrap_or(false)
    }

    /// kill -9, and waits for the process to be gone.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last 80 lines of the log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill_hard();
    }
}
