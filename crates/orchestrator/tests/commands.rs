//! The Snowflake-side commands of the `orchestrator` binary against the emulator, run as a
//! user runs them: a connections.toml found through SNOWFLAKE_HOME, the metadata in the test's
//! own database (CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA), the direct queue transport.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use support::{rows, scalar, text, Env};

struct Cli {
    env: Env,
    home: tempfile::TempDir,
}

impl Cli {
    fn new(prefix: &str) -> Cli {
        let env = Env::fresh(prefix);
        let home = tempfile::tempdir().expect("temp dir");
        env.write_connections(home.path());
        Cli { env, home }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::cargo_bin("orchestrator").expect("binary built");
        cmd.env("SNOWFLAKE_HOME", self.home.path())
            .env(
                "CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA",
                &self.env.database.name,
            )
            .env("DATA_MIGRATION_QUEUE_TRANSPORT", "direct")
            .env("ADBC_SNOWFLAKE_DRIVER", &self.env.database.driver_path)
            // the explicit --connection-name of create wins over it
            .env("SNOWFLAKE_CONNECTION_NAME", "emulator")
            .env_remove("DATA_MIGRATION_ORCHESTRATOR_AFFINITY");
        cmd
    }

    fn create(&self, file: &Path, name: &str, connection: &str) -> assert_cmd::assert::Assert {
        self.command()
            .arg("create-data-migration-workflow")
            .arg(file)
            .args([
                "--name",
                name,
                "--connection-name",
                connection,
                "--source-platform",
                "postgresql",
            ])
            .assert()
    }

    fn workflow_count(&self) -> Option<String> {
        let mut session = self.env.session();
        scalar(
            &mut session,
            &format!("SELECT COUNT(*) FROM {}", self.env.object("WORKFLOW")),
        )
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the workflow file");
    path
}

const WORKFLOW: &str = r#"{
  "defaultTableConfiguration": {
    "source": {"databaseName": "shop", "schemaName": "public"},
    "target": {"databaseName": "TGT", "schemaName": "PUBLIC"},
    "columnNamesToPartitionBy": ["id"]
  },
  "tables": [
    {"source": {"tableName": "orders"}, "target": {"tableName": "ORDERS"}},
    {"source": {"tableName": "items"}, "target": {"tableName": "ITEMS"}}
  ]
}"#;

#[test]
fn create_workflow_writes_a_pending_row_and_refuses_a_taken_name() {
    let cli = Cli::new("orch_cli_create");
    let file = write(cli.home.path(), "wf.json", WORKFLOW);
    cli.create(&file, "NIGHTLY", "emulator")
        .success()
        .stdout(predicate::str::contains(
            "created data-migration workflow NIGHTLY (id ",
        ));

    let mut session = cli.env.session();
    let row = rows(&mut session, &format!(
        "SELECT NAME, WORKFLOW_TYPE, SOURCE_PLATFORM, STATUS, CONNECTION_NAME, CONFIGURATION:tables[1]:source:tableName::VARCHAR, CONFIGURATION:tables[1]:source:schemaName::VARCHAR FROM {}",
        cli.env.object("WORKFLOW")
    ));
    assert_eq!(
        row,
        vec![vec![
            text("NIGHTLY"),
            text("data-migration"),
            text("postgresql"),
            text("pending"),
            text("emulator"),
            text("items"),
            text("public")
        ]],
        "one pending row holding the merged configuration"
    );

    cli.create(&file, "NIGHTLY", "emulator")
        .failure()
        .stderr(predicate::str::contains(
            "a workflow named `NIGHTLY` already exists; choose another name with --name",
        ));
    assert_eq!(cli.workflow_count(), text("1"));

    cli.command()
        .args(["status", "--workflow", "NIGHTLY"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "NIGHTLY (data-migration): pending, 0 tasks (0 failed)",
        ));
    cli.command()
        .args(["status", "--workflow", "NOPE"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no workflow is named or numbered `NOPE`",
        ));
}

#[test]
fn an_invalid_file_or_an_unknown_connection_writes_nothing() {
    let cli = Cli::new("orch_cli_invalid");
    // Deploy first, so that "nothing written" is observable.
    cli.command().arg("deploy").assert().success();
    assert_eq!(cli.workflow_count(), text("0"));

    let invalid = write(
        cli.home.path(),
        "bad.json",
        r#"{"tables": [{"source": {"tableName": "t"}}]}"#,
    );
    cli.create(&invalid, "BAD", "emulator")
        .failure()
        .stderr(predicate::str::contains("bad.json"));
    assert_eq!(cli.workflow_count(), text("0"));

    let file = write(cli.home.path(), "wf.json", WORKFLOW);
    cli.create(&file, "GOOD", "nope")
        .failure()
        .stderr(predicate::str::contains("connection `nope` (given on the command line) is not defined: known connections are emulator"));
    assert_eq!(cli.workflow_count(), text("0"));

    cli.create(&file, "1BAD", "emulator").failure();
    assert_eq!(cli.workflow_count(), text("0"));
}

#[test]
fn create_validation_workflow_inserts_a_data_validation_row() {
    let cli = Cli::new("orch_cli_validation");
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/validation-sqlserver.json");
    cli.command()
        .arg("create-data-validation-workflow")
        .arg(example)
        .args([
            "--source-platform",
            "sqlserver",
            "--name",
            "CHECK_IT",
            "--connection-name",
            "emulator",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "created data-validation workflow CHECK_IT",
        ));
    let mut session = cli.env.session();
    assert_eq!(
        rows(
            &mut session,
            &format!(
                "SELECT WORKFLOW_TYPE, STATUS FROM {}",
                cli.env.object("WORKFLOW")
            )
        ),
        vec![vec![text("data-validation"), text("pending")]]
    );
}

#[test]
fn deploy_print_needs_no_connection() {
    let output = Command::cargo_bin("orchestrator")
        .expect("binary built")
        .env("SNOWFLAKE_HOME", "/nonexistent")
        .args(["deploy", "--print"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let script = String::from_utf8(output).expect("utf-8");
    assert!(
        script.contains("CREATE TABLE IF NOT EXISTS SNOWCONVERT_AI.DATA_MIGRATION.WORKFLOW"),
        "{script}"
    );
    assert!(
        script.contains("CREATE OR REPLACE PROCEDURE"),
        "procedures are part of the script"
    );
}

#[test]
fn the_daemon_deploys_and_stops_cleanly_on_sigterm() {
    let cli = Cli::new("orch_cli_sigterm");
    let binary = assert_cmd::cargo::cargo_bin("orchestrator");
    let mut child = std::process::Command::new(binary)
        .env("SNOWFLAKE_HOME", cli.home.path())
        .env("SNOWFLAKE_CONNECTION_NAME", "emulator")
        .env(
            "CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA",
            &cli.env.database.name,
        )
        .env("DATA_MIGRATION_QUEUE_TRANSPORT", "direct")
        .env("DATA_MIGRATION_ORCHESTRATOR_POLL_INTERVAL_MS", "100")
        .env("ADBC_SNOWFLAKE_DRIVER", &cli.env.database.driver_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let mut session = cli.env.session();
    support::wait_for(
        "the daemon to deploy the metadata",
        std::time::Duration::from_secs(60),
        || {
            session
                .query_rows(
                    &format!("SELECT COUNT(*) FROM {}", cli.env.object("TASK_QUEUE")),
                    &[],
                )
                .ok()
        },
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = support::wait_for(
        "the daemon to exit",
        std::time::Duration::from_secs(30),
        || child.try_wait().expect("wait for the daemon"),
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert!(exit.success(), "exit {exit:?}; log:\n{stderr}");
    assert!(stderr.contains("orchestrator stopped"), "{stderr}");
}
