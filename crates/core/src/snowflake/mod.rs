//! A Snowflake session over Apache Arrow ADBC (the Go driver loaded at run time).
//!
//! [`Session`] is the only door to Snowflake: connect from [`ConnectParams`], run statements
//! with bound [`SqlValue`]s, read results as Arrow record batches, PUT files to stages, run a
//! closure in a transaction. Errors are classified ([`SnowflakeError::is_retryable`],
//! [`SnowflakeError::outcome_unknown`]). The ADBC specifics live in `adbc.rs` only.

mod adbc;
pub mod driver_library;
mod error;
mod params;
pub mod profile;
mod session;
mod session_settings;
mod value;

pub use error::{classify, first_line, DriverFailure, DriverStatus, ErrorKind, SnowflakeError};
pub use params::{default_login_timeout, Auth, ConnectParams, Protocol};
pub use session::{may_change_data, PutOutcome, Session};
pub use session_settings::{default_loading_statement_timeout, session_setup_sql, SessionTimeouts};
pub use value::{batches_to_rows, params_batch, SqlValue};
