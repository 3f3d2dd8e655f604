//! Test harness for integration tests: the Snowflake emulator and PostgreSQL.
//!
//! * [`Emulator::start`] starts the local Snowflake emulator (fakesnow behind the compatibility
//!   layer in `emulator/`) once per test binary, on a free port, and hands out a fresh
//!   database per test ([`Emulator::database`]). The emulator exits with the test binary: it
//!   watches its stdin, a pipe whose only writer is this process.
//! * [`postgres`] hands out a fresh schema in the PostgreSQL on 127.0.0.1:5432.
//! * [`module_graph`] reads the `use crate::…` edges of a crate and finds the module cycles in
//!   it (run on every member by the workspace test `tests/module_cycles.rs`).
//!
//! A missing service fails the test with a message saying how to start it; nothing is skipped.

mod emulator;
pub mod module_graph;
mod postgres_schema;
mod sqlite;
mod unique_name;

pub use emulator::{Emulator, TestDatabase};
pub use postgres_schema::{postgres, PostgresSchema};
pub use sqlite::sqlite3;
pub use unique_name::unique_name;
