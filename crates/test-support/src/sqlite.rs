//! SQLite databases for tests, written with the `sqlite3` command line tool (independent of the
//! ODBC driver the code under test reads them with).

use std::path::Path;
use std::process::Command;

/// Runs `sql` (any number of statements) against the database file, creating it if missing.
/// Panics with the install hint when `sqlite3` is absent, or with its error output.
pub fn sqlite3(database: &Path, sql: &str) {
    let output = Command::new("sqlite3")
        .arg(database)
        .arg(sql)
        .output()
        .unwrap_or_else(|e| {
            panic!("the sqlite3 command line tool is needed (apt-get install sqlite3): {e}")
        });
    assert!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
