//! The harness itself: the emulator starts, answers and hands out distinct databases;
//! PostgreSQL schemas are created and dropped.

use test_support::{emulator_python, emulator_source_dir, postgres, postgres_client, Emulator};

#[test]
fn emulator_starts_once_and_hands_out_distinct_databases() {
    let emulator = Emulator::start();
    let again = Emulator::start();
    assert_eq!(
        emulator.port(),
        again.port(),
        "one emulator per test binary"
    );
    let first = emulator.database("harness");
    let second = emulator.database("harness");
    assert_ne!(first.name, second.name);
    assert_eq!(first.schema, "PUBLIC");
    assert!(
        emulator.driver_path().is_file(),
        "{}",
        emulator.driver_path().display()
    );
}

#[test]
fn postgres_schema_is_created_and_dropped() {
    let schema_name;
    {
        let schema = postgres();
        schema_name = schema.schema.clone();
        let mut client = schema.client();
        client
            .batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
            .expect("the schema is usable");
    }
    let mut client = postgres_client();
    let rows = client
        .query(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
            &[&schema_name],
        )
        .expect("catalog query");
    assert!(rows.is_empty(), "schema {schema_name} was dropped");
}

#[test]
fn emulator_layer_unit_tests_pass() {
    // The Python layer's own unit tests, run with the emulator's interpreter.
    let emulator_dir = emulator_source_dir();
    let output = std::process::Command::new(emulator_python())
        .args(["-m", "unittest", "discover", "-s"])
        .arg(emulator_dir.join("tests"))
        .env("PYTHONPATH", &emulator_dir)
        .output()
        .expect("run python unittest");
    assert!(
        output.status.success(),
        "emulator layer unit tests failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
