//! Where the direct transport and the deployment get "now" from. Procedures use Snowflake's
//! own `SYSDATE()`; a client transaction uses the client's clock (keep it NTP-synchronised),
//! and tests use a [`ManualClock`] so lease expiry and backoff need no sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};

/// A source of the current UTC time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> NaiveDateTime;
}

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc()
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<NaiveDateTime>>,
}

impl ManualClock {
    pub fn new(start: NaiveDateTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Starts at the current system time, truncated to whole seconds.
    pub fn starting_now() -> Self {
        let now = Utc::now().naive_utc();
        ManualClock::new(
            now - Duration::from_nanos(u64::from(now.and_utc().timestamp_subsec_nanos())),
        )
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .expect("clock mutex is never poisoned: no code panics while holding it");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        *self
            .now
            .lock()
            .expect("clock mutex is never poisoned: no code panics while holding it")
    }
}

/// How timestamps are bound as text: microseconds, the precision both Snowflake and the
/// emulator keep.
pub fn timestamp_text(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_now();
        let start = clock.now();
        let shared = clock.clone();
        shared.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(90));
        assert_eq!(
            timestamp_text(start).len(),
            "2026-01-01 00:00:00.000000".len()
        );
    }
}
