//! Waiting for a condition in a test: poll, sleep, fail after a bound with what was awaited.
//!
//! Every integration test that waits for a daemon, a task status or a process uses these, so a
//! timeout always reads the same way and no test waits without a limit.

use std::time::{Duration, Instant};

/// How often [`wait_for`] polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Polls `check` every [`POLL_INTERVAL`] until it returns `Some`, and returns that value.
/// Panics after `timeout`, naming `what` was awaited.
pub fn wait_for<T>(what: &str, timeout: Duration, check: impl FnMut() -> Option<T>) -> T {
    poll_until(what, timeout, POLL_INTERVAL, check)
}

/// [`wait_for`] with its own polling interval, for checks that cost a round trip each time.
/// `check` runs at least once, also with a zero `timeout`; it may panic itself to fail early
/// (a process that exited while it was awaited).
pub fn poll_until<T>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_value_the_check_gives() {
        let mut calls = 0;
        let value = wait_for("the third call", Duration::from_secs(5), || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(value, 3);
    }

    #[test]
    #[should_panic(expected = "waiting for nothing")]
    fn fails_after_the_timeout_naming_what_was_awaited() {
        poll_until("nothing", Duration::ZERO, Duration::from_millis(1), || {
            None::<()>
        });
    }
}
