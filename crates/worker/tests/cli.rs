//! The `worker` binary's offline commands, run as a user would run them.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn worker() -> Command {
    let mut cmd = Command::cargo_bin("worker").expect("binary built");
    // Flags fall back to environment variables; keep the tests independent of the machine.
    cmd.env_clear();
    cmd
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn validate_accepts_every_example() {
    for platform in [
        "sqlserver",
        "redshift-iam",
        "redshift-standard",
        "postgresql",
        "teradata",
        "sqlite",
    ] {
        let path = example(&format!("worker-{platform}.toml"));
        worker()
            .arg("validate")
            .arg("-c")
            .arg(&path)
            .assert()
            .success()
            .stdout(predicate::str::contains("is a valid worker configuration"))
            .stdout(predicate::str::contains(format!(
                "source: {}",
                platform.split('-').next().expect("name")
            )));
    }
}

#[test]
fn validate_never_prints_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("configuration.toml");
    std::fs::write(
        &path,
        "[connections.source.postgresql]\nusername = \"u\"\npassword = \"hunter2\"\ndatabase = \"d\"\nhost = \"h\"\n",
    )
    .expect("write");
    worker()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::contains("hunter2").not())
        .stdout(predicate::str::contains("source: postgresql u@h:5432/d"));
}

#[test]
fn validate_lists_every_problem_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[application]\nmax_paralel_tasks = 3\n[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nauth_method = \"iam-provisioned-cluster\"\n",
    )
    .expect("write");
    let assert = worker()
        .args(["validate", "-c"])
        .arg(&path)
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).expect("utf-8");
    assert!(
        stderr.contains(
            "application.max_paralel_tasks is not a known key: did you mean `max_parallel_tasks`?"
        ),
        "{stderr}"
    );

    std::fs::write(
        &path,
        "[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nauth_method = \"iam-provisioned-cluster\"\n",
    )
    .expect("write");
    let assert = worker()
        .args(["validate", "-c"])
        .arg(&path)
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).expect("utf-8");
    for key in ["cluster_id", "region", "access_key_id", "secret_access_key"] {
        assert!(
            stderr.contains(&format!("connections.source.redshift.{key} is required")),
            "{stderr}"
        );
    }
}

#[test]
fn missing_default_file_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    worker()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read the worker configuration `configuration.toml`",
        ));
}

#[test]
fn running_checks_the_file_before_connecting() {
    let empty_home = tempfile::tempdir().expect("temp dir");
    let bad = empty_home.path().join("bad.toml");
    std::fs::write(&bad, "[connections.source]\n").expect("write");
    worker()
        .env("SNOWFLAKE_HOME", empty_home.path())
        .arg("-c")
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "connections.source must contain one source connection",
        ));
    // A valid file gets as far as looking for the Snowflake connection it names.
    worker()
        .env("SNOWFLAKE_HOME", empty_home.path())
        .arg("-c")
        .arg(example("worker-sqlite.toml"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no connections.toml or config.toml found",
        ));
}

#[test]
fn help_text() {
    let output = worker()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("help", String::from_utf8(output).expect("utf-8"));
    let output = worker()
        .args(["validate", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("help_validate", String::from_utf8(output).expect("utf-8"));
}
