//! The orchestrator's stop is bounded: after SIGTERM it exits within 30 s (the time a service
//! manager usually grants before SIGKILL), even when Snowflake has stopped answering in the
//! middle of its work. The bound is the daemon's contract (`--shutdown-grace-seconds`, 20 s by
//! default, plus a moment to stop the lease keeper and log out), not a measure of speed.

use std::time::{Duration, Instant};

use snowflake_data_migration::{wait_for, E2e, NetworkCut};

/// The contract: SIGTERM to exit.
const STOP_BOUND: Duration = Duration::from_secs(30);

#[test]
fn sigterm_stops_the_orchestrator_within_the_bound_when_snowflake_stops_answering() {
    let e2e = E2e::new("e2e_shutdown");
    let network = NetworkCut::start(&e2e.database.host, e2e.database.port);
    e2e.connect_through(network.port());
    let mut orchestrator = e2e.start_orchestrator("orchestrator");
    wait_for(
        "the orchestrator to start",
        Duration::from_secs(120),
        || {
            if let Some(status) = orchestrator.exited() {
                panic!(
                    "the orchestrator exited ({status}) before it started:\n{}",
                    orchestrator.log_tail()
                );
            }
            orchestrator
                .log_contains("orchestrator started")
                .then_some(())
        },
    );
    // A few rounds of the loop through the forwarder, then nothing passes any more: the next
    // statements hang without an error.
    std::thread::sleep(Duration::from_secs(1));
    network.cut();
    std::thread::sleep(Duration::from_secs(3));

    let asked = Instant::now();
    orchestrator.terminate();
    // Waited for longer than the bound, so that a slow exit is told from a hang.
    let status = orchestrator.wait_exit(STOP_BOUND * 3);
    let took = asked.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!(
            "the orchestrator still runs {took:?} after SIGTERM with Snowflake unreachable:\n{}",
            orchestrator.log_tail()
        )
    });
    eprintln!("the orchestrator exited {took:?} after SIGTERM ({status})");
    assert!(
        took <= STOP_BOUND,
        "the orchestrator took {took:?} to exit after SIGTERM (the bound is {STOP_BOUND:?}):\n{}",
        orchestrator.log_tail()
    );
    assert!(
        status.success(),
        "a requested stop is a clean exit, not {status}:\n{}",
        orchestrator.log_tail()
    );
    assert!(
        orchestrator.log_contains("orchestrator stopped"),
        "the orchestrator says it stopped:\n{}",
        orchestrator.log_tail()
    );
}
