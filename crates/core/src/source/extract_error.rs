//! [`ExtractError`]: everything that can stop an extraction, shared by the readers, the Parquet
//! sink and the pipeline that drives them. Each variant names the offender and says whether a
//! retry can help.

use std::path::PathBuf;

/// Everything that can stop an extraction. Each variant names the offender and knows whether
/// retrying the task can help ([`ExtractError::is_retryable`]).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot connect to {target}: {message}; check that the source is running and reachable (will be retried)")]
    Unreachable { target: String, message: String },
    #[error("source {target} refused the session: {message}; fix host, database, user or password in the worker configuration (will not be retried)")]
    Authentication { target: String, message: String },
    #[error("no secure session with {target}: {message}; check `ssl_mode`, the host name and the CA certificate (`extra_options.sslrootcert`, PGSSLROOTCERT or ~/.postgresql/root.crt) in the worker configuration (will not be retried)")]
    Tls { target: String, message: String },
    #[error("odbc driver `{driver}` is not installed: {message}; install it or fix `driver_name` in the worker configuration (will not be retried)")]
    MissingDriver { driver: String, message: String },
    #[error("table `{table}` does not exist on the source: {message}; check the table names of the workflow (will not be retried)")]
    MissingTable { table: String, message: String },
    #[error("column `{column}` of table `{table}` has source type `{source_type}`, which extraction does not support; cast it in a view or map it with `columnTypeMappings` (will not be retried)")]
    UnsupportedType {
        table: String,
        column: String,
        source_type: String,
    },
    #[error("column `{column}` of table `{table}`: {message} (will not be retried)")]
    ValueNotRepresentable {
        table: String,
        column: String,
        message: String,
    },
    #[error(
        "column `{column}` of table `{table}` holds a value{} larger than the worker's per-value cap of {limit} bytes; raise `max_value_bytes` in the `[application]` section of the worker configuration (at most 16777216) (will not be retried)",
        length.map(|n| format!(" of {n} bytes")).unwrap_or_default()
    )]
    ValueTooLong {
        table: String,
        column: String,
        limit: usize,
        length: Option<usize>,
    },
    #[error(
        "column `{column}` of table `{table}` holds a value{} larger than Snowflake's {target_type} limit of {limit} bytes, which cannot be loaded; leave the column out or shorten it in a view, or exclude such rows with `whereClauseCriteria` (will not be retried)",
        length.map(|n| format!(" of {n} bytes")).unwrap_or_default()
    )]
    BeyondSnowflakeLimit {
        table: String,
        column: String,
        /// `VARCHAR` or `BINARY`.
        target_type: &'static str,
        limit: usize,
        length: Option<usize>,
    },
    #[error("column `{column}` of table `{table}` holds a value of more than {measured} bytes, longer than when its length was measured moments before (a concurrent update) (will be retried)")]
    ValueGrew {
        table: String,
        column: String,
        measured: usize,
    },
    #[error("query on table `{table}` failed: {message}{}", retry_hint(*retryable))]
    Query {
        table: String,
        message: String,
        retryable: bool,
    },
    #[error("reading table `{table}` failed: {message}{}", retry_hint(*retryable))]
    Read {
        table: String,
        message: String,
        retryable: bool,
    },
    #[error("cannot write parquet file `{path}`: {message} (will be retried)")]
    Write { path: PathBuf, message: String },
    #[error("cannot upload `{file}`: {message}{}", retry_hint(*retryable))]
    Upload {
        file: String,
        message: String,
        retryable: bool,
    },
    #[error("invalid extraction request for table `{table}`: {message} (will not be retried)")]
    InvalidRequest { table: String, message: String },
    #[error("invalid source configuration: {message}; fix the worker configuration (will not be retried)")]
    Configuration { message: String },
    #[error("extraction of table `{table}` was cancelled (will be retried)")]
    Cancelled { table: String },
}

fn retry_hint(retryable: bool) -> &'static str {
    if retryable {
        " (will be retried)"
    } else {
        " (will not be retried)"
    }
}

impl ExtractError {
    /// May running the same task again succeed without anyone changing anything?
    pub fn is_retryable(&self) -> bool {
        match self {
            ExtractError::Unreachable { .. }
            | ExtractError::Write { .. }
            | ExtractError::ValueGrew { .. }
            | ExtractError::Cancelled { .. } => true,
            ExtractError::Query { retryable, .. }
            | ExtractError::Read { retryable, .. }
            | ExtractError::Upload { retryable, .. } => *retryable,
            ExtractError::Authentication { .. }
            | ExtractError::Tls { .. }
            | ExtractError::MissingDriver { .. }
            | ExtractError::MissingTable { .. }
            | ExtractError::UnsupportedType { .. }
            | ExtractError::ValueNotRepresentable { .. }
            | ExtractError::ValueTooLong { .. }
            | ExtractError::BeyondSnowflakeLimit { .. }
            | ExtractError::InvalidRequest { .. }
            | ExtractError::Configuration { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snowflake's largest BINARY value, as the limit a message names.
    const SNOWFLAKE_MAX_BINARY_BYTES: usize =
        crate::source::value_limits::SNOWFLAKE_MAX_BINARY_BYTES;

    #[test]
    fn error_messages_name_the_offender_and_the_retry() {
        let t = || "sales.public.orders".to_string();
        let c = || "amount".to_string();
        let errors = [
            ExtractError::Unreachable {
                target: "postgresql://db:5432/sales".into(),
                message: "connection refused".into(),
            },
            ExtractError::Authentication {
                target: "postgresql://db:5432/sales".into(),
                message: "password authentication failed".into(),
            },
            ExtractError::Tls {
                target: "postgresql://db:5432/sales".into(),
                message: "invalid peer certificate: NotValidForName (ssl_mode verify-full)".into(),
            },
            ExtractError::MissingDriver {
                driver: "PostgreSQL Unicode".into(),
                message: "can't open lib".into(),
            },
            ExtractError::MissingTable {
                table: t(),
                message: "relation does not exist".into(),
            },
            ExtractError::UnsupportedType {
                table: t(),
                column: c(),
                source_type: "interval (read as Arrow Utf8)".into(),
            },
            ExtractError::ValueNotRepresentable {
                table: t(),
                column: c(),
                message: "numeric NaN cannot be stored in a NUMBER column".into(),
            },
            ExtractError::ValueTooLong {
                table: t(),
                column: c(),
                limit: 1024,
                length: Some(5000),
            },
            ExtractError::BeyondSnowflakeLimit {
                table: t(),
                column: c(),
                target_type: "BINARY",
                limit: SNOWFLAKE_MAX_BINARY_BYTES,
                length: Some(9_000_000),
            },
            ExtractError::ValueGrew {
                table: t(),
                column: c(),
                measured: 5000,
            },
            ExtractError::Query {
                table: t(),
                message: "deadlock detected".into(),
                retryable: true,
            },
            ExtractError::Read {
                table: t(),
                message: "tuple has 3 fields, expected 2".into(),
                retryable: false,
            },
            ExtractError::Write {
                path: PathBuf::from("/tmp/x/data_00000.parquet"),
                message: "no space left on device".into(),
            },
            ExtractError::Upload {
                file: "data_00000.parquet".into(),
                message: "PUT failed".into(),
                retryable: true,
            },
            ExtractError::InvalidRequest {
                table: t(),
                message: "the query returns 3 columns but the schema has 2".into(),
            },
            ExtractError::Configuration {
                message: "environment variable `PGPW` is not set".into(),
            },
            ExtractError::Cancelled { table: t() },
        ];
        let rendered: Vec<String> = errors
            .iter()
            .map(|e| format!("retryable={} {e}", e.is_retryable()))
            .collect();
        insta::assert_snapshot!(rendered.join("\n"));
    }
}
