//! The source dialects run for real, one conformance suite per backend: PostgreSQL on
//! 127.0.0.1:5432 (user postgres, trust auth; each test in its own schema) and SQLite through
//! ODBC (driver `SQLite3` from Debian's libsqliteodbc; each test on its own database file).
//!
//! [`suite`] holds the tests every backend must pass (every partition's extraction query
//! returns each row exactly once, also rows inserted after planning and NULL keys; the WHERE
//! clause filters every partition; the checksum moves only for the partition that changed),
//! written once against the [`suite::Backend`] trait, and [`suite::dialect_test_suite!`]
//! instantiates them per backend, as Quickwit's `metastore_test_suite!` does. Each backend
//! module adds the tests only it can run (PostgreSQL's unbounded numeric, infinities and
//! `standard_conforming_strings`; SQLite's values read back through arrow-odbc).
//!
//! Adding a source dialect: implement [`suite::Backend`] in a new module and call the macro.
//! Run: `cargo test -p migration-core --test dialect` (`-- postgres::` or `-- sqlite::` for one).

mod postgres;
mod sqlite;
mod suite;
