//! The session parameters every login sets: a lock timeout, a statement timeout and UTC.
//!
//! Snowflake's own defaults (LOCK_TIMEOUT 43,200 s, STATEMENT_TIMEOUT_IN_SECONDS 172,800 s)
//! let one stuck statement hold a process for hours, long after every lease it should renew
//! has lapsed. So each session is told at login how long it may wait for a lock and how long a
//! statement may run; both fail with an error the caller retries (000625, 000630), which is
//! cheaper than a lost lease. The values come from the task lease: a control session (queue
//! operations, heartbeats) must give up well before the lease it protects runs out, while a
//! loading session (COPY, PUT) needs a longer statement timeout of its own.
//!
//! TIMEZONE is UTC for every session, so that no account or user default can shift a
//! timestamp that a session writes or reads (a COPY into TIMESTAMP_TZ, `SYSDATE()` compared
//! with client-side UTC times).

use std::time::Duration;

/// The lock and statement timeouts of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// LOCK_TIMEOUT: how long a statement waits for a lock held by another transaction.
    pub lock: Duration,
    /// STATEMENT_TIMEOUT_IN_SECONDS: how long a statement may wait and run in total.
    pub statement: Duration,
}

impl SessionTimeouts {
    /// For a session that serves queue operations of tasks with this lease: locks a quarter
    /// of the lease, statements half of it, so a statement that waits gives up with time left
    /// for a retry before the lease runs out. Never below 1 s and 2 s (0 would mean "no
    /// limit" to Snowflake).
    pub fn for_control(lease: Duration) -> SessionTimeouts {
        SessionTimeouts {
            lock: whole_seconds(lease / 4, 1),
            statement: whole_seconds(lease / 2, 2),
        }
    }

    /// For a session that loads (COPY, PUT) or plans: locks as for control sessions (the
    /// statements that take locks are the same queue and bookkeeping writes), statements up to
    /// `statement` (a COPY may rightly run for long; its lease is renewed elsewhere).
    pub fn for_loading(lease: Duration, statement: Duration) -> SessionTimeouts {
        SessionTimeouts {
            lock: whole_seconds(lease / 4, 1),
            statement: whole_seconds(statement, 1),
        }
    }
}

impl Default for SessionTimeouts {
    /// Control timeouts for the default task lease.
    fn default() -> Self {
        SessionTimeouts::for_control(crate::lease::default_lease())
    }
}

/// Default statement timeout of loading sessions (COPY, PUT, plans): one hour.
pub fn default_loading_statement_timeout() -> Duration {
    Duration::from_secs(3600)
}

/// Rounded down to whole seconds, at least `min` seconds.
fn whole_seconds(value: Duration, min: u64) -> Duration {
    Duration::from_secs(value.as_secs().max(min))
}

/// The statements a session runs right after its login. One parameter per statement:
/// Snowflake accepts several in one ALTER SESSION, but sqlfluff's Snowflake grammar (which
/// the test suite checks every emitted statement against) does not.
pub fn session_setup_sql(timeouts: &SessionTimeouts) -> Vec<String> {
    vec![
        format!(
            "ALTER SESSION SET LOCK_TIMEOUT = {}",
            timeouts.lock.as_secs()
        ),
        format!(
            "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {}",
            timeouts.statement.as_secs()
        ),
        "ALTER SESSION SET TIMEZONE = 'UTC'".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sessions_give_up_well_within_the_lease() {
        let timeouts = SessionTimeouts::for_control(Duration::from_secs(300));
        assert_eq!(timeouts.lock, Duration::from_secs(75));
        assert_eq!(timeouts.statement, Duration::from_secs(150));
        let short = SessionTimeouts::for_control(Duration::from_secs(10));
        assert_eq!(short.lock, Duration::from_secs(2));
        assert_eq!(short.statement, Duration::from_secs(5));
    }

    #[test]
    fn tiny_leases_never_turn_a_timeout_into_no_limit() {
        let timeouts = SessionTimeouts::for_control(Duration::from_secs(1));
        assert_eq!(timeouts.lock, Duration::from_secs(1));
        assert_eq!(timeouts.statement, Duration::from_secs(2));
        let loading = SessionTimeouts::for_loading(Duration::ZERO, Duration::ZERO);
        assert_eq!(loading.lock, Duration::from_secs(1));
        assert_eq!(loading.statement, Duration::from_secs(1));
    }

    #[test]
    fn loading_sessions_keep_the_control_lock_timeout_and_their_own_statement_timeout() {
        let timeouts =
            SessionTimeouts::for_loading(Duration::from_secs(300), Duration::from_secs(3600));
        assert_eq!(timeouts.lock, Duration::from_secs(75));
        assert_eq!(timeouts.statement, Duration::from_secs(3600));
        assert_eq!(
            default_loading_statement_timeout(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn setup_statement_sets_both_timeouts_and_utc() {
        let sql = session_setup_sql(&SessionTimeouts::for_control(Duration::from_secs(30)));
        insta::assert_snapshot!(sql.join("\n"), @r"
        ALTER SESSION SET LOCK_TIMEOUT = 7
        ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 15
        ALTER SESSION SET TIMEZONE = 'UTC'
        ");
    }
}
