//! The real `worker` binary refuses a bad configuration, a missing file or an unknown
//! connection with a clear message, before anything is contacted.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn a_bad_configuration_lists_every_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("configuration.toml");
    std::fs::write(
        &path,
        "selected_task_source = \"carrier_pigeon\"\n\
         [application]\n\
         max_parallel_tasks = 0\n\
         [connections.source.postgresql]\n\
         database = \"shop\"\n",
    )
    .expect("write the configuration");
    Command::cargo_bin("worker")
        .expect("the worker binary is built")
        .arg("-c")
        .arg(&path)
        .assert()
        .failure()
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("configuration.toml")
                .and(predicate::str::contains("4 problem(s)"))
                .and(predicate::str::contains(
                    "application.max_parallel_tasks must be at least 1",
                ))
                .and(predicate::str::contains(
                    "connections.source.postgresql.host is required",
                ))
                .and(predicate::str::contains(
                    "connections.source.postgresql.username is required",
                ))
                .and(predicate::str::contains(
                    "selected_task_source must be one of",
                )),
        );
}

#[test]
fn a_missing_configuration_file_says_how_to_pass_one() {
    Command::cargo_bin("worker")
        .expect("the worker binary is built")
        .arg("-c")
        .arg("/nonexistent/worker.toml")
        .assert()
        .failure()
        .stderr(predicate::str::contains("-c FILE"));
}

#[test]
fn an_unknown_connection_name_stops_the_worker_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("configuration.toml");
    std::fs::write(
        &path,
        "[connections.source.sqlite]\n\
         database = \"/tmp/demo.db\"\n\
         [connections.target.snowflake_connection_name]\n\
         connection_name = \"nowhere\"\n",
    )
    .expect("write the configuration");
    Command::cargo_bin("worker")
        .expect("the worker binary is built")
        .arg("-c")
        .arg(&path)
        .env("SNOWFLAKE_HOME", dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(predicate::str::contains("nowhere"));
}
