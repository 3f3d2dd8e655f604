//! Errors of the Snowflake session and how they are classified.
//!
//! Every error that reaches the task loop answers two questions: may a retry succeed
//! ([`SnowflakeError::is_retryable`]), and might the statement have taken effect although we
//! got no answer ([`SnowflakeError::outcome_unknown`])? The classification is a pure function
//! of what the driver reports (status, Snowflake error code, SQLSTATE, message), so it is unit
//! tested without a server.

use std::path::PathBuf;

/// What kind of failure a driver error is, decided by [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server could not be reached, or the connection broke.
    Network,
    /// The request never left this machine (connection refused, unknown host): the statement
    /// certainly did not run.
    Unreachable,
    /// The service asked us to slow down (HTTP 429/503, queue full).
    Throttled,
    /// Waiting for a lock held by another transaction timed out.
    LockTimeout,
    /// The session token expired; a new login fixes it.
    SessionExpired,
    /// Wrong credentials or an unusable authentication method.
    Authentication,
    /// The SQL does not compile: syntax error, unknown object, wrong types.
    Compilation,
    /// The role lacks a privilege.
    Permission,
    /// The statement failed while running (constraint, cast, division by zero).
    Execution,
    /// Anything else the driver reported.
    Other,
}

impl ErrorKind {
    /// Whether running the same statement again may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Network
                | ErrorKind::Unreachable
                | ErrorKind::Throttled
                | ErrorKind::LockTimeout
                | ErrorKind::SessionExpired
        )
    }
}

/// An error of the Snowflake session.
#[derive(Debug, thiserror::Error)]
pub enum SnowflakeError {
    /// The ADBC Snowflake driver library was not found anywhere.
    #[error(
        "the ADBC Snowflake driver library was not found (looked at: {}); install it with \
         `pip install adbc-driver-snowflake==1.11.0` or set ADBC_SNOWFLAKE_DRIVER to the path of \
         libadbc_driver_snowflake.so",
        looked_at.join(", ")
    )]
    DriverNotFound { looked_at: Vec<String> },

    /// The driver library exists but could not be loaded.
    #[error(
        "cannot load the ADBC Snowflake driver `{}`: {message}; reinstall it with \
         `pip install adbc-driver-snowflake==1.11.0` or point ADBC_SNOWFLAKE_DRIVER at a working copy",
        path.display()
    )]
    DriverLoad { path: PathBuf, message: String },

    /// The connection parameters are unusable (checked before any network call).
    #[error("invalid Snowflake connection setting `{field}`: {message}")]
    InvalidParams {
        field: &'static str,
        message: String,
    },

    /// A key or token file named in the connection parameters cannot be read.
    #[error("cannot read {what} `{}`: {source}", path.display())]
    SecretFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Logging in failed.
    #[error("cannot connect to Snowflake account `{account}` at {endpoint}: {message}{}", hint(*kind))]
    Connect {
        account: String,
        endpoint: String,
        kind: ErrorKind,
        message: String,
    },

    /// A statement failed with a known outcome: it did not take effect.
    #[error("statement `{sql}` failed: {message}")]
    Statement {
        /// The first line of the SQL text.
        sql: String,
        kind: ErrorKind,
        /// Snowflake's error code, e.g. `002003`, when the driver reported one.
        code: Option<String>,
        sqlstate: Option<String>,
        message: String,
    },

    /// The connection broke after a DML or COPY statement was sent: it may or may not have
    /// committed. Retry only if the statement is idempotent (COPY with load history is).
    #[error("statement `{sql}` may or may not have taken effect (connection lost before the answer): {message}")]
    OutcomeUnknown { sql: String, message: String },

    /// The result could not be decoded.
    #[error("cannot read the result of `{sql}`: {message}")]
    Result { sql: String, message: String },

    /// PUT answered something other than one uploaded (or skipped) file.
    #[error("PUT of `{}` to `{stage_location}` did not upload: {message}", local.display())]
    Put {
        local: PathBuf,
        stage_location: String,
        message: String,
    },
}

fn hint(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unreachable | ErrorKind::Network => {
            "; check the account, host and port, and that the network allows it"
        }
        ErrorKind::Authentication => "; check the user and the credentials of the connection",
        _ => "",
    }
}

impl SnowflakeError {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SnowflakeError::Connect { kind, .. } | SnowflakeError::Statement { kind, .. } => *kind,
            SnowflakeError::OutcomeUnknown { .. } => ErrorKind::Network,
            _ => ErrorKind::Other,
        }
    }

    /// Whether a retry of the same operation may succeed: network trouble, throttling, a lock
    /// wait timeout, an expired session. Compilation and permission errors are not retryable.
    /// Check [`Self::outcome_unknown`] first for non-idempotent statements.
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// Whether the statement may have taken effect although no answer arrived: the connection
    /// was lost after a DML or COPY statement was sent.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SnowflakeError::OutcomeUnknown { .. })
    }

    /// Snowflake's error code, when the server reported one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SnowflakeError::Statement { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// What the driver reported about a failure, independent of the driver's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverFailure {
    pub status: DriverStatus,
    /// Snowflake's numeric error code (0 when none).
    pub vendor_code: i32,
    pub sqlstate: Option<String>,
    pub message: String,
}

/// The driver's coarse status of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverStatus {
    Io,
    Timeout,
    Unauthenticated,
    Unauthorized,
    NotFound,
    InvalidArguments,
    InvalidData,
    Integrity,
    Other,
}

/// Decides what kind of failure the driver reported. Codes first (they are stable), then
/// SQLSTATE, then the message text for transport errors that carry neither.
pub fn classify(failure: &DriverFailure) -> ErrorKind {
    let message = failure.message.to_ascii_lowercase();
    match failure.vendor_code {
        // Session or master token expired / invalid: log in again.
        390112 | 390114 | 390104 | 390111 => return ErrorKind::SessionExpired,
        // Incorrect username or password, JWT/PAT/OAuth token invalid, user locked.
        390100 | 390144 | 390318 | 390303 | 390102 | 394304 => return ErrorKind::Authentication,
        // Lock wait timeout or too many lock waiters (000625), statement canceled on lock.
        625 | 626 | 630 => return ErrorKind::LockTimeout,
        // Warehouse queue full / too many requests.
        604 | 606 | 610 | 390400 => return ErrorKind::Throttled,
        // Insufficient privileges.
        3001 | 3003 | 3540 => return ErrorKind::Permission,
        // Does not exist or not authorized, syntax error, invalid identifier, unsupported.
        2003 | 1003 | 904 | 2 | 2043 | 2002 => return ErrorKind::Compilation,
        _ => {}
    }
    // A key that cannot be read or decrypted locally (wrong passphrase, not PKCS#8).
    if message.contains("private key") || message.contains("pkcs8") {
        return ErrorKind::Authentication;
    }
    if message.contains("lock wait timeout") || message.contains("lock timeout") {
        return ErrorKind::LockTimeout;
    }
    if message.contains("session")
        && (message.contains("expired") || message.contains("no longer exists"))
    {
        return ErrorKind::SessionExpired;
    }
    if message.contains("429")
        || message.contains("too many requests")
        || message.contains("throttl")
    {
        return ErrorKind::Throttled;
    }
    if is_unreachable_message(&message) {
        return ErrorKind::Unreachable;
    }
    if let Some(state) = failure.sqlstate.as_deref() {
        if state == "42501" {
            return ErrorKind::Permission;
        }
        if state.starts_with("42") || state == "0A000" {
            return ErrorKind::Compilation;
        }
        if state.starts_with("08") {
            return ErrorKind::Network;
        }
        if state.starts_with("22") || state.starts_with("23") || state.starts_with("57") {
            return ErrorKind::Execution;
        }
    }
    if message.contains("sql compilation error") || message.contains("syntax error") {
        return ErrorKind::Compilation;
    }
    if message.contains("insufficient privileges") || message.contains("not authorized") {
        return ErrorKind::Permission;
    }
    if message.contains("incorrect username or password") || message.contains("authentication") {
        return ErrorKind::Authentication;
    }
    match failure.status {
        DriverStatus::Io | DriverStatus::Timeout => ErrorKind::Network,
        DriverStatus::Unauthenticated => ErrorKind::Authentication,
        DriverStatus::Unauthorized => ErrorKind::Permission,
        DriverStatus::NotFound | DriverStatus::InvalidArguments => ErrorKind::Compilation,
        DriverStatus::InvalidData | DriverStatus::Integrity => ErrorKind::Execution,
        DriverStatus::Other if is_network_message(&message) => ErrorKind::Network,
        DriverStatus::Other => ErrorKind::Other,
    }
}

/// Transport failures where the request certainly never reached the server.
fn is_unreachable_message(message: &str) -> bool {
    [
        "connection refused",
        "no such host",
        "network is unreachable",
        "no route to host",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// Transport failures after which the request may have reached the server.
fn is_network_message(message: &str) -> bool {
    [
        "connection reset",
        "broken pipe",
        "eof",
        "timeout",
        "timed out",
        "i/o",
        "dial tcp",
        "http status: 5",
        "503",
        "502",
        "504",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// The first line of a SQL text, trimmed and cut to a readable length, for messages.
pub fn first_line(sql: &str) -> String {
    const MAX_CHARS: usize = 120;
    let line = sql.trim().lines().next().unwrap_or("").trim();
    let mut shown: String = line.chars().take(MAX_CHARS).collect();
    let more_lines = sql.trim().lines().nth(1).is_some();
    if shown.chars().count() < line.chars().count() || more_lines {
        shown.push_str(" …");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(
        status: DriverStatus,
        code: i32,
        state: Option<&str>,
        message: &str,
    ) -> DriverFailure {
        DriverFailure {
            status,
            vendor_code: code,
            sqlstate: state.map(str::to_owned),
            message: message.to_owned(),
        }
    }

    #[test]
    fn compilation_errors_are_not_retryable() {
        let kind = classify(&failure(
            DriverStatus::Other,
            2003,
            Some("42S02"),
            "SQL compilation error: Object 'NOPE' does not exist or not authorized.",
        ));
        assert_eq!(kind, ErrorKind::Compilation);
        assert!(!kind.is_retryable());
    }

    #[test]
    fn permission_errors_are_not_retryable() {
        let kind = classify(&failure(
            DriverStatus::Other,
            3001,
            Some("42501"),
            "Insufficient privileges",
        ));
        assert_eq!(kind, ErrorKind::Permission);
        assert!(!kind.is_retryable());
    }

    #[test]
    fn transport_errors_are_retryable() {
        let refused = classify(&failure(
            DriverStatus::Io,
            0,
            None,
            "dial tcp 127.0.0.1:1: connect: connection refused",
        ));
        assert_eq!(refused, ErrorKind::Unreachable);
        let reset = classify(&failure(
            DriverStatus::Io,
            0,
            None,
            "read: connection reset by peer",
        ));
        assert_eq!(reset, ErrorKind::Network);
        assert!(refused.is_retryable() && reset.is_retryable());
    }

    #[test]
    fn lock_throttle_and_expiry_are_retryable() {
        let lock = classify(&failure(
            DriverStatus::Other,
            625,
            Some("57014"),
            "lock wait timeout",
        ));
        let throttle = classify(&failure(
            DriverStatus::Other,
            0,
            None,
            "HTTP 429 Too Many Requests",
        ));
        let expired = classify(&failure(
            DriverStatus::Other,
            390112,
            None,
            "Your session has expired.",
        ));
        assert_eq!(
            [lock, throttle, expired],
            [
                ErrorKind::LockTimeout,
                ErrorKind::Throttled,
                ErrorKind::SessionExpired
            ]
        );
        assert!(lock.is_retryable() && throttle.is_retryable() && expired.is_retryable());
    }

    #[test]
    fn first_line_cuts_multi_line_sql() {
        assert_eq!(first_line("  SELECT 1\nFROM T"), "SELECT 1 …");
        assert_eq!(first_line("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn driver_not_found_says_how_to_install() {
        let error = SnowflakeError::DriverNotFound {
            looked_at: vec!["ADBC_SNOWFLAKE_DRIVER (unset)".to_owned()],
        };
        insta::assert_snapshot!(error.to_string());
    }
}
