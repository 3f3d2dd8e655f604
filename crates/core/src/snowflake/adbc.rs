//! Everything specific to Apache Arrow ADBC and its Snowflake (Go) driver. The session talks
//! to this file only, so a pure-Rust client could replace it without touching callers.

use std::collections::HashMap;
use std::ffi::c_char;
use std::sync::{Mutex, OnceLock};

use adbc_core::error::{Error as AdbcError, Status};
use adbc_core::options::{AdbcVersion, OptionDatabase, OptionStatement, OptionValue};
use adbc_core::{Connection as _, Database as _, Driver as _, Optionable as _, Statement as _};
use adbc_driver_manager::{ManagedConnection, ManagedDatabase, ManagedDriver, ManagedStatement};
use arrow::array::{make_array, RecordBatch, RecordBatchReader};
use arrow::error::ArrowError;

use super::driver_library::{self, DriverLibrary};
use super::error::{DriverFailure, DriverStatus, SnowflakeError};
use super::params::{Auth, ConnectParams};
use super::value::{params_batch, SqlValue};

/// Why a call through ADBC failed.
#[derive(Debug)]
pub(crate) enum AdbcFailure {
    /// The driver or the server reported an error.
    Driver(DriverFailure),
    /// The Arrow result could not be read.
    Decode(String),
}

impl From<AdbcError> for AdbcFailure {
    fn from(error: AdbcError) -> Self {
        AdbcFailure::Driver(driver_failure(&error))
    }
}

impl From<ArrowError> for AdbcFailure {
    fn from(error: ArrowError) -> Self {
        AdbcFailure::Decode(error.to_string())
    }
}

/// An open ADBC connection (one Snowflake session).
pub(crate) struct AdbcConnection {
    // Field order is drop order: the connection goes before its database.
    connection: ManagedConnection,
    _database: ManagedDatabase,
}

impl AdbcConnection {
    /// Loads the driver (once per process and library) and logs in.
    pub(crate) fn open(params: &ConnectParams) -> Result<AdbcConnection, SnowflakeError> {
        let mut driver = load_driver(params)?;
        let options = database_options(params)?;
        let connect_error = |error: AdbcError| {
            let failure = driver_failure(&error);
            SnowflakeError::Connect {
                account: params.account.clone(),
                endpoint: params.endpoint(),
                kind: super::error::classify(&failure),
                message: failure.message,
            }
        };
        let database = driver
            .new_database_with_opts(options)
            .map_err(connect_error)?;
        // The Go driver logs in when the connection is initialised.
        let connection = database.new_connection().map_err(connect_error)?;
        Ok(AdbcConnection {
            connection,
            _database: database,
        })
    }

    /// Runs a statement that returns no rows; the count of affected rows when known.
    pub(crate) fn execute_update(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<i64, AdbcFailure> {
        let mut statement = self.connection.new_statement()?;
        statement.set_sql_query(sql)?;
        if !params.is_empty() {
            statement.bind(params_batch(params)?)?;
        }
        Ok(statement.execute_update()?.unwrap_or(-1))
    }

    /// Runs a statement and reads its whole result.
    pub(crate) fn execute_query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<RecordBatch>, AdbcFailure> {
        let mut statement = self.connection.new_statement()?;
        statement.set_sql_query(sql)?;
        if !params.is_empty() {
            statement.bind(params_batch(params)?)?;
        }
        let reader = statement.execute()?;
        read_aligned(reader)
    }
}

/// Statement options of a streamed query: result batches the driver may hold ready and
/// result chunks it may download at once (its defaults, 200 and 10, let a large result fill
/// memory faster than a slow consumer drains it).
const RESULT_QUEUE_SIZE: &str = "adbc.rpc.result_queue_size";
const PREFETCH_CONCURRENCY: &str = "adbc.snowflake.rpc.prefetch_concurrency";
const STREAM_QUEUED_BATCHES: &str = "4";
const STREAM_PREFETCHED_CHUNKS: &str = "2";

impl AdbcConnection {
    /// Runs a query whose result is read batch by batch as the driver delivers it.
    pub(crate) fn execute_query_stream(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<QueryStream, AdbcFailure> {
        let mut statement = self.connection.new_statement()?;
        statement.set_sql_query(sql)?;
        for (key, value) in [
            (RESULT_QUEUE_SIZE, STREAM_QUEUED_BATCHES),
            (PREFETCH_CONCURRENCY, STREAM_PREFETCHED_CHUNKS),
        ] {
            statement.set_option(OptionStatement::from(key), OptionValue::from(value))?;
        }
        if !params.is_empty() {
            statement.bind(params_batch(params)?)?;
        }
        let reader = Box::new(statement.execute()?);
        Ok(QueryStream {
            reader,
            _statement: statement,
        })
    }
}

/// A query result being read: aligned batches, one at a time.
pub(crate) struct QueryStream {
    // Field order is drop order: the reader goes before its statement.
    reader: Box<dyn RecordBatchReader + Send>,
    _statement: ManagedStatement,
}

impl Iterator for QueryStream {
    type Item = Result<RecordBatch, AdbcFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.reader.next()?;
        Some(
            batch
                .and_then(realign)
                .map_err(|error| AdbcFailure::Decode(error.to_string())),
        )
    }
}

/// Reads every batch, copying under-aligned buffers into aligned ones. The Go driver hands
/// over decimal128 values straight from 8-byte-aligned IPC bodies while arrow-rs wants 16; an
/// aligned copy is cheap next to a panic in the middle of a load.
fn read_aligned(
    reader: Box<dyn RecordBatchReader + Send>,
) -> Result<Vec<RecordBatch>, AdbcFailure> {
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(realign(batch?)?);
    }
    Ok(batches)
}

/// A copy of `batch` whose buffers all meet their type's alignment (a no-op when they do).
pub(crate) fn realign(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| {
            let mut data = column.to_data();
            data.align_buffers();
            make_array(data)
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns)
}

/// Loaded drivers, by library. Loading the Go runtime twice into one process is wasteful, so
/// every session shares one handle per library.
fn load_driver(params: &ConnectParams) -> Result<ManagedDriver, SnowflakeError> {
    static DRIVERS: OnceLock<Mutex<HashMap<DriverLibrary, ManagedDriver>>> = OnceLock::new();
    let library = driver_library::locate(params.driver_path.as_deref())?;
    let drivers = DRIVERS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut drivers = drivers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(driver) = drivers.get(&library) {
        return Ok(driver.clone());
    }
    let loaded = match &library {
        DriverLibrary::Path(path) => {
            ManagedDriver::load_dynamic_from_filename(path, None, AdbcVersion::V110).map_err(
                |error| SnowflakeError::DriverLoad {
                    path: path.clone(),
                    message: error.message,
                },
            )?
        }
        DriverLibrary::SystemName => ManagedDriver::load_dynamic_from_name(
            driver_library::SYSTEM_NAME,
            None,
            AdbcVersion::V110,
        )
        .map_err(|_| SnowflakeError::DriverNotFound {
            looked_at: driver_library::searched_places(),
        })?,
    };
    drivers.insert(library, loaded.clone());
    Ok(loaded)
}

const ACCOUNT: &str = "adbc.snowflake.sql.account";
const HOST: &str = "adbc.snowflake.sql.uri.host";
const PORT: &str = "adbc.snowflake.sql.uri.port";
const PROTOCOL: &str = "adbc.snowflake.sql.uri.protocol";
const DATABASE: &str = "adbc.snowflake.sql.db";
const SCHEMA: &str = "adbc.snowflake.sql.schema";
const WAREHOUSE: &str = "adbc.snowflake.sql.warehouse";
const ROLE: &str = "adbc.snowflake.sql.role";
const AUTH_TYPE: &str = "adbc.snowflake.sql.auth_type";
const AUTH_TOKEN: &str = "adbc.snowflake.sql.client_option.auth_token";
const JWT_PRIVATE_KEY: &str = "adbc.snowflake.sql.client_option.jwt_private_key";
const JWT_KEY_VALUE: &str = "adbc.snowflake.sql.client_option.jwt_private_key_pkcs8_value";
const JWT_KEY_PASSWORD: &str = "adbc.snowflake.sql.client_option.jwt_private_key_pkcs8_password";
const LOGIN_TIMEOUT: &str = "adbc.snowflake.sql.client_option.login_timeout";
const APP_NAME: &str = "adbc.snowflake.sql.client_option.app_name";
const MAX_TIMESTAMP_PRECISION: &str = "adbc.snowflake.sql.client_option.max_timestamp_precision";

/// The driver's database options for these parameters.
fn database_options(
    params: &ConnectParams,
) -> Result<Vec<(OptionDatabase, OptionValue)>, SnowflakeError> {
    let other = |key: &str, value: String| {
        (
            OptionDatabase::Other(key.to_owned()),
            OptionValue::String(value),
        )
    };
    let mut options = vec![
        other(ACCOUNT, params.account.clone()),
        (
            OptionDatabase::Username,
            OptionValue::String(params.user.clone()),
        ),
        other(PROTOCOL, params.protocol.as_str().to_owned()),
        // Go duration syntax.
        other(
            LOGIN_TIMEOUT,
            format!("{}ms", params.login_timeout.as_millis()),
        ),
        other(APP_NAME, "snowflake-data-migration".to_owned()),
        // The driver's default reads timestamps as nanoseconds, which wrap silently outside
        // 1677-2262; Snowflake holds years 1 to 9999, and the project carries microseconds.
        other(MAX_TIMESTAMP_PRECISION, "microseconds".to_owned()),
    ];
    let optional = [
        (HOST, params.host.clone()),
        (PORT, params.port.map(|port| port.to_string())),
        (DATABASE, params.database.clone()),
        (SCHEMA, params.schema.clone()),
        (WAREHOUSE, params.warehouse.clone()),
        (ROLE, params.role.clone()),
    ];
    options.extend(
        optional
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| other(key, value))),
    );
    match &params.auth {
        Auth::Password(password) => {
            options.push(other(AUTH_TYPE, "auth_snowflake".to_owned()));
            options.push((
                OptionDatabase::Password,
                OptionValue::String(password.clone()),
            ));
        }
        Auth::KeyPair {
            private_key_file,
            passphrase,
        } => {
            options.push(other(AUTH_TYPE, "auth_jwt".to_owned()));
            match passphrase {
                // An encrypted key is handed over as its PEM text with the passphrase.
                Some(passphrase) => {
                    let pem = std::fs::read_to_string(private_key_file).map_err(|source| {
                        SnowflakeError::SecretFile {
                            what: "private key file",
                            path: private_key_file.clone(),
                            source,
                        }
                    })?;
                    options.push(other(JWT_KEY_VALUE, pem));
                    options.push(other(JWT_KEY_PASSWORD, passphrase.clone()));
                }
                None => options.push(other(
                    JWT_PRIVATE_KEY,
                    private_key_file.display().to_string(),
                )),
            }
        }
        Auth::ProgrammaticAccessToken(token) => {
            options.push(other(AUTH_TYPE, "auth_pat".to_owned()));
            options.push(other(AUTH_TOKEN, token.clone()));
        }
        Auth::OAuth(token) => {
            options.push(other(AUTH_TYPE, "auth_oauth".to_owned()));
            options.push(other(AUTH_TOKEN, token.clone()));
        }
    }
    Ok(options)
}

/// The driver-independent description of an ADBC error.
fn driver_failure(error: &AdbcError) -> DriverFailure {
    let status = match error.status {
        Status::IO => DriverStatus::Io,
        Status::Timeout => DriverStatus::Timeout,
        Status::Unauthenticated => DriverStatus::Unauthenticated,
        Status::Unauthorized => DriverStatus::Unauthorized,
        Status::NotFound => DriverStatus::NotFound,
        Status::InvalidArguments => DriverStatus::InvalidArguments,
        Status::InvalidData => DriverStatus::InvalidData,
        Status::Integrity => DriverStatus::Integrity,
        _ => DriverStatus::Other,
    };
    DriverFailure {
        status,
        vendor_code: error.vendor_code,
        sqlstate: sqlstate_text(&error.sqlstate),
        message: error.message.trim().to_owned(),
    }
}

/// The SQLSTATE as text, `None` when unset (all zero bytes or `00000`).
fn sqlstate_text(raw: &[c_char; 5]) -> Option<String> {
    let bytes: Vec<u8> = raw.iter().map(|&c| c as u8).collect();
    if bytes.iter().all(|&b| b == 0) || bytes == b"00000" {
        return None;
    }
    Some(
        String::from_utf8_lossy(&bytes)
            .trim_end_matches('\0')
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Decimal128Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn realign_keeps_decimal_values() {
        // Under-aligned input cannot be built in safe Rust (arrow validates alignment); the
        // integration test `number_38_column_alone_reads_back` covers the driver's buffers.
        let values = Decimal128Array::from(vec![Some(12345_i128), None])
            .with_precision_and_scale(38, 2)
            .expect("valid precision");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "AMT",
            DataType::Decimal128(38, 2),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(values)]).expect("batch");
        let realigned = realign(batch).expect("realigns");
        let column = realigned
            .column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .expect("still decimal");
        assert_eq!(column.value_as_string(0), "123.45");
        assert!(column.is_null(1));
    }

    #[test]
    fn sqlstate_zeroes_mean_none() {
        assert_eq!(sqlstate_text(&[0; 5]), None);
        let state = b"42S02".map(|b| b as c_char);
        assert_eq!(sqlstate_text(&state).as_deref(), Some("42S02"));
    }
}
