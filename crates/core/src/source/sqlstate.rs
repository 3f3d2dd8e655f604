//! What a source's SQLSTATE says about trying again: the one rule every source path (native
//! PostgreSQL and ODBC, during analyze and during extract) applies, so a task that fails the
//! same way is retried the same way wherever it fails.
//!
//! | class | meaning | decision |
//! |---|---|---|
//! | `08` | connection exception (lost, refused, broken) | retried |
//! | `40` | transaction rollback: serialization failure, deadlock | retried |
//! | `53` | insufficient resources (disk, memory, too many connections) | retried |
//! | `57P` | operator intervention: admin or crash shutdown, cannot connect now | retried |
//! | `HYT` | ODBC timeout (login or statement) | retried |
//! | `28`, `3D000`, `42501` | login rejected: authorization, unknown database, no privilege | not retried: the configuration must change |
//! | anything else | the statement is wrong for this source | not retried |
//!
//! Codes are compared as text so the rule serves `postgres::error::SqlState` and ODBC
//! diagnostic records alike.

/// What a SQLSTATE means for the task that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlStateClass {
    /// A later attempt may not meet it (the connection, a lock or a resource was the problem).
    Transient,
    /// The source refused the session; retrying cannot help until someone fixes the user,
    /// password, database name or grants in the worker configuration.
    LoginRejected,
    /// Anything else: the same statement fails the same way again.
    Permanent,
}

/// Classifies a five-character SQLSTATE (`"57P01"`, `"28P01"`, `"HYT00"`).
pub fn classify(code: &str) -> SqlStateClass {
    let code = code.trim();
    if is_login_rejection(code) {
        return SqlStateClass::LoginRejected;
    }
    let transient = ["08", "40", "53", "57P", "HYT"]
        .iter()
        .any(|prefix| code.starts_with(prefix));
    if transient {
        SqlStateClass::Transient
    } else {
        SqlStateClass::Permanent
    }
}

/// May the same task succeed later without anyone changing anything?
pub fn is_retryable(code: &str) -> bool {
    classify(code) == SqlStateClass::Transient
}

/// The source refused the login: invalid authorization (`28`), the database does not exist
/// (`3D000`), or the user may not connect (`42501`).
pub fn is_login_rejection(code: &str) -> bool {
    let code = code.trim();
    code.starts_with("28") || code == "3D000" || code == "42501"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_rollback_resource_and_shutdown_states_are_retried() {
        for code in [
            "08000", "08001", "08006", "08S01", "40001", "40P01", "53100", "53300", "57P01",
            "57P02", "57P03", "HYT00", "HYT01",
        ] {
            assert_eq!(classify(code), SqlStateClass::Transient, "{code}");
            assert!(is_retryable(code), "{code}");
        }
    }

    #[test]
    fn an_admin_shutdown_is_retried_the_same_everywhere() {
        // 57P01 (terminating connection due to administrator command) was retried during
        // extract but not during analyze before the rule lived here.
        assert!(is_retryable("57P01"));
    }

    #[test]
    fn login_rejections_are_not_retried_and_say_so() {
        for code in ["28000", "28P01", "3D000", "42501"] {
            assert_eq!(classify(code), SqlStateClass::LoginRejected, "{code}");
            assert!(is_login_rejection(code), "{code}");
            assert!(!is_retryable(code), "{code}");
        }
    }

    #[test]
    fn statement_errors_are_permanent() {
        for code in ["42P01", "42S02", "42601", "22003", "57014", "0A000", ""] {
            assert_eq!(classify(code), SqlStateClass::Permanent, "{code:?}");
            assert!(!is_retryable(code), "{code:?}");
        }
    }
}
