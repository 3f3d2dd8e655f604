//! One Snowflake session: statements, queries into Arrow, transactions and PUT.
//!
//! The API is synchronous (the driver is a blocking FFI library): async callers run it on a
//! blocking thread (`tokio::task::spawn_blocking`), which also keeps a long COPY from
//! stalling the runtime.

use std::path::Path;

use arrow::array::RecordBatch;

use super::adbc::{AdbcConnection, AdbcFailure};
use super::error::{classify, first_line, ErrorKind, SnowflakeError};
use super::params::ConnectParams;
use super::session_settings::{session_setup_sql, SessionTimeouts};
use super::value::{batches_to_rows, SqlValue};

/// An open Snowflake session.
pub struct Session {
    params: ConnectParams,
    connection: AdbcConnection,
    /// Inside a transaction ([`Session::transaction`] or a plain `BEGIN`): an expired session
    /// is not replaced transparently then, because the transaction's work would be lost.
    in_transaction: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.params.account)
            .field("user", &self.params.user)
            .field("endpoint", &self.params.endpoint())
            .field("in_transaction", &self.in_transaction)
            .finish()
    }
}

/// What PUT reported for the uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The local file name.
    pub source: String,
    /// The file name in the stage.
    pub target: String,
    /// `UPLOADED`, or `SKIPPED` when an identical file was already there.
    pub status: String,
    /// Size in the stage, in bytes, when reported.
    pub target_size: Option<u64>,
}

impl Session {
    /// Logs in and sets the session's timeouts and TIMEZONE = 'UTC'
    /// ([`super::session_settings`]).
    pub fn connect(params: &ConnectParams) -> Result<Session, SnowflakeError> {
        let connection = open_configured(params)?;
        Ok(Session {
            params: params.clone(),
            connection,
            in_transaction: false,
        })
    }

    /// Changes the session's lock and statement timeouts (kept for a later re-login as well);
    /// nothing is sent when they are already these.
    pub fn set_timeouts(&mut self, timeouts: SessionTimeouts) -> Result<(), SnowflakeError> {
        if self.params.timeouts == timeouts {
            return Ok(());
        }
        // TIMEZONE is set already; only the timeouts change.
        for sql in session_setup_sql(&timeouts).iter().take(2) {
            self.execute(sql, &[])?;
        }
        self.params.timeouts = timeouts;
        Ok(())
    }

    /// The parameters this session was opened with.
    pub fn params(&self) -> &ConnectParams {
        &self.params
    }

    /// Runs a statement with `?` placeholders bound to `params`; the number of affected rows,
    /// or -1 when the statement does not report one.
    pub fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<i64, SnowflakeError> {
        self.run(sql, |connection| connection.execute_update(sql, params))
    }

    /// Runs a query and returns its whole result as Arrow record batches.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<RecordBatch>, SnowflakeError> {
        self.run(sql, |connection| connection.execute_query(sql, params))
    }

    /// Runs a query and hands its result to `on_batch` one batch at a time, as the driver
    /// delivers it, so that memory holds a few batches however large the result is. A
    /// session that expired is replaced before the query runs, never while it is read.
    pub fn query_each(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        mut on_batch: impl FnMut(RecordBatch),
    ) -> Result<(), SnowflakeError> {
        let stream = self.run(sql, |connection| {
            connection.execute_query_stream(sql, params)
        })?;
        for batch in stream {
            on_batch(batch.map_err(|failure| statement_error(sql, failure))?);
        }
        Ok(())
    }

    /// Runs a query and renders every value as text (`None` for NULL): convenient for small
    /// metadata results.
    pub fn query_rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<Vec<Option<String>>>, SnowflakeError> {
        let batches = self.query(sql, params)?;
        batches_to_rows(&batches).map_err(|error| SnowflakeError::Result {
            sql: first_line(sql),
            message: error.to_string(),
        })
    }

    /// Runs `body` inside BEGIN … COMMIT; an error from `body` (or from COMMIT) rolls back and
    /// is returned. A call inside a running transaction joins it (no nested BEGIN).
    pub fn transaction<T, E>(
        &mut self,
        body: impl FnOnce(&mut Session) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<SnowflakeError>,
    {
        if self.in_transaction {
            return body(self);
        }
        self.execute("BEGIN", &[])?;
        let result = body(self).and_then(|value| {
            self.execute("COMMIT", &[])?;
            Ok(value)
        });
        // Whatever happened, this session no longer runs that transaction.
        self.in_transaction = false;
        if result.is_err() {
            if let Err(error) = self.execute("ROLLBACK", &[]) {
                tracing::warn!(%error, "rollback after a failed transaction failed");
            }
        }
        result
    }

    /// Uploads a local file to a stage location such as
    /// `@DB.SCHEMA.TASK_RESULTS/workflows/1/part_0.parquet` or a folder ending in `/`.
    /// Files are sent as they are (no compression: Parquet compresses itself) and overwrite
    /// an earlier upload of the same name, so a retried upload is harmless.
    pub fn put_file(
        &mut self,
        local: &Path,
        stage_location: &str,
    ) -> Result<PutOutcome, SnowflakeError> {
        let put_error = |message: String| SnowflakeError::Put {
            local: local.to_path_buf(),
            stage_location: stage_location.to_owned(),
            message,
        };
        let absolute = std::fs::canonicalize(local)
            .map_err(|error| put_error(format!("cannot read the local file: {error}")))?;
        let sql = put_sql(&absolute, stage_location).map_err(put_error)?;
        let rows = self.query_rows(&sql, &[])?;
        let outcome = match rows.as_slice() {
            // The ADBC driver returns no rows for PUT; the Go driver raises an error when an
            // upload fails, so no error means the file was sent as it is.
            [] => uploaded_as_is(&absolute).map_err(put_error)?,
            [row] => put_outcome(row).map_err(put_error)?,
            _ => {
                return Err(put_error(format!(
                    "expected one result row, got {}",
                    rows.len()
                )))
            }
        };
        if outcome.status != "UPLOADED" && outcome.status != "SKIPPED" {
            return Err(put_error(format!("status {}", outcome.status)));
        }
        Ok(outcome)
    }

    /// Runs `work` with this session on a blocking thread, so a long statement (a COPY, a big
    /// query) does not stall the async runtime; the session comes back with the result.
    ///
    /// A panic inside `work` is resumed in the caller.
    pub async fn run_blocking<T, F>(mut self, work: F) -> (Session, T)
    where
        T: Send + 'static,
        F: FnOnce(&mut Session) -> T + Send + 'static,
    {
        let joined = tokio::task::spawn_blocking(move || {
            let result = work(&mut self);
            (self, result)
        })
        .await;
        match joined {
            Ok(done) => done,
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only a runtime shutting down cancels a blocking task.
                Err(error) => panic!("the blocking Snowflake call was cancelled: {error}"),
            },
        }
    }

    /// Runs one driver call, replacing an expired session once (outside transactions).
    fn run<T>(
        &mut self,
        sql: &str,
        call: impl Fn(&mut AdbcConnection) -> Result<T, AdbcFailure>,
    ) -> Result<T, SnowflakeError> {
        let result = self.run_once_or_relogin(sql, call);
        if result.is_ok() {
            // A BEGIN or COMMIT sent as plain SQL counts like one from `transaction`.
            match leading_keyword(sql).as_str() {
                "BEGIN" | "START" => self.in_transaction = true,
                "COMMIT" | "ROLLBACK" => self.in_transaction = false,
                _ => {}
            }
        }
        result
    }

    fn run_once_or_relogin<T>(
        &mut self,
        sql: &str,
        call: impl Fn(&mut AdbcConnection) -> Result<T, AdbcFailure>,
    ) -> Result<T, SnowflakeError> {
        match call(&mut self.connection) {
            Ok(value) => Ok(value),
            // Inside a transaction a new session would silently lose its work, so the error is
            // reported; only the ROLLBACK that ends such a transaction may log in again.
            Err(AdbcFailure::Driver(failure))
                if classify(&failure) == ErrorKind::SessionExpired
                    && (!self.in_transaction || leading_keyword(sql) == "ROLLBACK") =>
            {
                tracing::warn!(account = %self.params.account, "snowflake session expired; logging in again");
                self.connection = open_configured(&self.params)?;
                call(&mut self.connection).map_err(|failure| statement_error(sql, failure))
            }
            Err(failure) => Err(statement_error(sql, failure)),
        }
    }
}

/// Logs in and runs the session setup statement. A setup that fails is a failed login: a
/// session without its timeouts could wait for hours.
fn open_configured(params: &ConnectParams) -> Result<AdbcConnection, SnowflakeError> {
    let mut connection = AdbcConnection::open(params)?;
    for sql in session_setup_sql(&params.timeouts) {
        if let Err(failure) = connection.execute_update(&sql, &[]) {
            let error = statement_error(&sql, failure);
            return Err(SnowflakeError::Connect {
                account: params.account.clone(),
                endpoint: params.endpoint(),
                kind: error.kind(),
                message: format!("the session setup failed: {error}"),
            });
        }
    }
    Ok(connection)
}

/// Turns a failed call into the session's error, deciding whether the outcome is unknown.
fn statement_error(sql: &str, failure: AdbcFailure) -> SnowflakeError {
    let failure = match failure {
        AdbcFailure::Driver(failure) => failure,
        AdbcFailure::Decode(message) => {
            return SnowflakeError::Result {
                sql: first_line(sql),
                message,
            }
        }
    };
    let kind = classify(&failure);
    // A broken connection after a mutating statement was sent: it may have committed.
    if kind == ErrorKind::Network && may_change_data(sql) {
        return SnowflakeError::OutcomeUnknown {
            sql: first_line(sql),
            message: failure.message,
        };
    }
    SnowflakeError::Statement {
        sql: first_line(sql),
        kind,
        code: (failure.vendor_code != 0).then(|| format!("{:06}", failure.vendor_code)),
        sqlstate: failure.sqlstate,
        message: failure.message,
    }
}

/// Whether a statement may change data (so a lost answer leaves its outcome unknown). Reads,
/// session commands and PUT (which overwrites) are safe to repeat.
pub fn may_change_data(sql: &str) -> bool {
    let keyword = leading_keyword(sql);
    !matches!(
        keyword.as_str(),
        "SELECT"
            | "WITH"
            | "SHOW"
            | "DESCRIBE"
            | "DESC"
            | "LIST"
            | "LS"
            | "USE"
            | "BEGIN"
            | "ROLLBACK"
            | "EXPLAIN"
            | "PUT"
    )
}

/// The first keyword, upper-cased, skipping leading comments and parentheses.
fn leading_keyword(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix('(') {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// `PUT 'file:///abs/path' @stage/path AUTO_COMPRESS=FALSE OVERWRITE=TRUE`.
fn put_sql(absolute: &Path, stage_location: &str) -> Result<String, String> {
    if !stage_location.starts_with('@') {
        return Err(
            "the stage location must start with `@`, e.g. `@DB.SCHEMA.STAGE/path/`".to_owned(),
        );
    }
    let file = absolute
        .to_str()
        .ok_or_else(|| "the local path is not valid UTF-8".to_owned())?;
    let quoted_file = format!(
        "'file://{}'",
        file.replace('\\', "\\\\").replace('\'', "\\'")
    );
    let needs_quotes = stage_location.contains(|c: char| c.is_whitespace() || c == '\'');
    let stage = if needs_quotes {
        format!("'{}'", stage_location.replace('\'', "\\'"))
    } else {
        stage_location.to_owned()
    };
    Ok(format!(
        "PUT {quoted_file} {stage} AUTO_COMPRESS=FALSE OVERWRITE=TRUE"
    ))
}

/// The outcome of an upload without compression, described from the local file.
fn uploaded_as_is(absolute: &Path) -> Result<PutOutcome, String> {
    let name = absolute
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let size = std::fs::metadata(absolute)
        .map_err(|error| format!("cannot read the local file: {error}"))?
        .len();
    Ok(PutOutcome {
        source: name.clone(),
        target: name,
        status: "UPLOADED".to_owned(),
        target_size: Some(size),
    })
}

/// Reads PUT's result row: source, target, source_size, target_size, source_compression,
/// target_compression, status, message.
fn put_outcome(row: &[Option<String>]) -> Result<PutOutcome, String> {
    let text = |index: usize| row.get(index).cloned().flatten().unwrap_or_default();
    if row.len() < 7 {
        return Err(format!("unexpected PUT result with {} columns", row.len()));
    }
    Ok(PutOutcome {
        source: text(0),
        target: text(1),
        status: text(6).to_ascii_uppercase(),
        target_size: text(3).parse().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_statement_disables_compression_and_overwrites() {
        let sql = put_sql(
            Path::new("/tmp/run 1/part_0.parquet"),
            "@DB.S.TASK_RESULTS/workflows/1/",
        )
        .expect("valid location");
        insta::assert_snapshot!(sql, @"PUT 'file:///tmp/run 1/part_0.parquet' @DB.S.TASK_RESULTS/workflows/1/ AUTO_COMPRESS=FALSE OVERWRITE=TRUE");
    }

    #[test]
    fn put_statement_rejects_a_location_without_at() {
        let error = put_sql(Path::new("/tmp/x.parquet"), "DB.S.STAGE").expect_err("no @");
        assert!(error.contains("must start with `@`"), "{error}");
    }

    #[test]
    fn mutating_statements_are_recognised() {
        for sql in [
            "INSERT INTO T VALUES (1)",
            "  copy into T from @S",
            "COMMIT",
            "-- c\nUPDATE T SET A = 1",
        ] {
            assert!(may_change_data(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "(select 1)",
            "/* x */ WITH A AS (SELECT 1) SELECT * FROM A",
            "PUT 'file:///x' @s",
        ] {
            assert!(!may_change_data(sql), "{sql}");
        }
    }

    #[test]
    fn lost_answer_to_a_copy_is_outcome_unknown() {
        let failure = AdbcFailure::Driver(super::super::error::DriverFailure {
            status: super::super::error::DriverStatus::Io,
            vendor_code: 0,
            sqlstate: None,
            message: "read tcp: connection reset by peer".to_owned(),
        });
        let error = statement_error(
            "COPY INTO T FROM @S\nFILE_FORMAT = (TYPE = PARQUET)",
            failure,
        );
        assert!(error.outcome_unknown());
        assert!(error.is_retryable());
        insta::assert_snapshot!(error.to_string(), @"statement `COPY INTO T FROM @S …` may or may not have taken effect (connection lost before the answer): read tcp: connection reset by peer");
    }

    #[test]
    fn put_outcome_reads_the_status_column() {
        let row: Vec<Option<String>> = [
            "a.parquet",
            "a.parquet",
            "10",
            "10",
            "PARQUET",
            "PARQUET",
            "UPLOADED",
            "",
        ]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
        let outcome = put_outcome(&row).expect("complete row");
        assert_eq!(outcome.status, "UPLOADED");
        assert_eq!(outcome.target_size, Some(10));
    }
}
