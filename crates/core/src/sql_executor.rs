//! The little the queue and the metadata deployment need from a Snowflake session, as a
//! trait so their logic can also be driven by a recording fake in unit tests.
//!
//! A leaf module (it depends on `snowflake` only), so that both can use the seam without
//! depending on each other.

use crate::snowflake::{Session, SnowflakeError, SqlValue};

/// Rows rendered as text, `None` for NULL (see [`Session::query_rows`]).
pub type Rows = Vec<Vec<Option<String>>>;

/// Runs SQL with positional (`?`) parameters.
pub trait SqlExecutor {
    /// Runs a statement; the number of affected rows (-1 when not reported).
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<i64, SnowflakeError>;

    /// Runs a query; every value as text.
    fn query_rows(&mut self, sql: &str, params: &[SqlValue]) -> Result<Rows, SnowflakeError>;

    /// Runs `body` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    fn transaction<T, E>(&mut self, body: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<SnowflakeError>;
}

impl SqlExecutor for Session {
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<i64, SnowflakeError> {
        Session::execute(self, sql, params)
    }

    fn query_rows(&mut self, sql: &str, params: &[SqlValue]) -> Result<Rows, SnowflakeError> {
        Session::query_rows(self, sql, params)
    }

    fn transaction<T, E>(&mut self, body: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<SnowflakeError>,
    {
        Session::transaction(self, body)
    }
}
