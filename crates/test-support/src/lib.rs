//! Test harness for integration tests: the Snowflake emulator, PostgreSQL, SQLite, and the
//! waits. Every test crate of the workspace (and the end-to-end tests in `tests/`) takes these
//! from here instead of writing its own.
//!
//! * [`Emulator::start`] starts the local Snowflake emulator (fakesnow behind the compatibility
//!   layer in `emulator/`) once per test binary, on a free port, and hands out a fresh
//!   database per test ([`Emulator::database`]). The emulator exits with the test binary: it
//!   watches its stdin, a pipe whose only writer is this process.
//! * [`TestDatabase::connect_params`] and [`TestDatabase::session`] log in to such a database.
//! * [`emulator_python`] is the emulator's Python environment, created by
//!   `scripts/lib/prerequisites.sh` when missing.
//! * [`postgres`] hands out a fresh schema in the PostgreSQL on 127.0.0.1:5432;
//!   [`postgres_client`] and [`pg_connect_params`] reach the server itself.
//! * [`wait_for`] and [`poll_until`] wait for a condition, with a bound.
//! * [`live_connect_params`] reads the real account of the `#[ignore]`d live tests.
//!
//! A missing service fails the test with a message saying how to start it; nothing is skipped.

mod emulator;
mod emulator_session;
mod emulator_venv;
mod live_account;
mod polling;
mod postgres_schema;
mod postgres_server;
mod sqlite;

pub use emulator::{Emulator, TestDatabase};
pub use emulator_venv::{emulator_python, emulator_source_dir, repository_root, venv_dir};
pub use live_account::{
    connections_file, live_connect_params, live_connection_name, LIVE_CONNECTION_GATE,
};
pub use polling::{poll_until, wait_for, POLL_INTERVAL};
pub use postgres_schema::{postgres, PostgresSchema};
pub use postgres_server::{
    pg_connect_params, postgres_client, postgres_connection_string, unreachable_message,
    POSTGRES_DATABASE, POSTGRES_HOST, POSTGRES_PORT, POSTGRES_START_HINT, POSTGRES_USER,
};
pub use sqlite::sqlite3;

/// A name that no other test (or earlier run) uses: `PREFIX_<12 hex digits>`, upper case.
pub fn unique_name(prefix: &str) -> String {
    let cleaned: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{cleaned}_{}", &suffix[..12]).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_are_identifiers() {
        let a = unique_name("queue test");
        let b = unique_name("queue test");
        assert_ne!(a, b);
        assert!(a.starts_with("QUEUE_TEST_"), "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{a}"
        );
    }
}
