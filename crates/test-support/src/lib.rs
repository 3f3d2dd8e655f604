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
//! * [`module_graph`] reads the `use crate::…` edges of a crate and finds the module cycles in
//!   it (run on every member by the workspace test `tests/module_cycles.rs`).
//!
//! A missing service fails the test with a message saying how to start it; nothing is skipped.

mod emulator;
mod emulator_session;
mod emulator_venv;
mod live_account;
pub mod module_graph;
mod polling;
mod postgres_schema;
mod postgres_server;
mod sqlite;
mod unique_name;

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
pub use unique_name::unique_name;
