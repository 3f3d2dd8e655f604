//! The native PostgreSQL path: `COPY (SELECT ...) TO STDOUT (FORMAT binary)` decoded straight
//! into Arrow builders.
//!
//! Why: psqlODBC always uses PostgreSQL's text protocol and spends most of its time parsing
//! text back into numbers (about 400 k rows/s on the benchmark table); the binary COPY stream
//! carries values in their wire format, so decoding is a byte swap per value.
//!
//! The binary COPY format: an 11-byte signature, flags, a header extension; then per tuple a
//! 16-bit field count (-1 ends the stream) and per field a 32-bit length (-1 is NULL) followed
//! by the value in the type's binary send format. The server sends each tuple in its own
//! CopyData message, so a tuple is normally decoded straight out of the client's buffer; tuples
//! that straddle messages are assembled in a small side buffer.
//!
//! Types are checked before any row is read: `prepare` reports the result columns' PostgreSQL
//! types, each must be decodable into the Arrow type the catalog chose, or the task fails with
//! an error that names the column.

use std::io::BufRead;
use std::time::Duration;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use postgres::error::SqlState;
use postgres::{Client, CopyOutReader, NoTls};

use super::extract_error::ExtractError;
use super::pipeline::BatchReader;
use super::sqlstate;
use super::value_limits::{ValueKind, ValueLimits};

mod decode;
mod numeric;
mod tls;
use decode::{describe_mismatch, frame, ColumnDecoder, Unit};
pub use tls::{PgTls, SslMode};
use tls::{TlsPlan, Verification};

/// Where and how to connect. The password is never logged (`Debug` hides it).
#[derive(Clone)]
pub struct PgConnectParams {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    pub connect_timeout: Duration,
    pub application_name: String,
    /// `ssl_mode` and the CA file (see `tls`); the default is libpq's `prefer`.
    pub tls: PgTls,
}

impl std::fmt::Debug for PgConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnectParams")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("tls", &self.tls)
            .finish()
    }
}

impl PgConnectParams {
    /// `host:port/database`, for messages.
    pub fn target(&self) -> String {
        format!("postgresql://{}:{}/{}", self.host, self.port, self.database)
    }
}

/// Opens a read-only session with UTC as its time zone, over TLS as `params.tls` asks.
pub fn connect(params: &PgConnectParams) -> Result<Client, ExtractError> {
    let target = params.target();
    let tls_error = |message: String| ExtractError::Tls {
        target: target.clone(),
        message,
    };
    let plan = tls::plan(&params.tls, tls::default_root_cert()).map_err(tls_error)?;
    let mut config = session_config(params);
    let connected = match &plan {
        TlsPlan::Plain => config
            .ssl_mode(postgres::config::SslMode::Disable)
            .connect(NoTls),
        // As libpq: plaintext when the server declines TLS, and also when the TLS handshake
        // itself fails (e.g. a server that offers only protocol versions rustls refuses).
        TlsPlan::TlsThenPlain => match config
            .ssl_mode(postgres::config::SslMode::Prefer)
            .connect(tls::connector(&Verification::None).map_err(tls_error)?)
        {
            Err(error) if is_tls_failure(&error) => config
                .ssl_mode(postgres::config::SslMode::Disable)
                .connect(NoTls),
            other => other,
        },
        TlsPlan::Tls(verification) => config
            .ssl_mode(postgres::config::SslMode::Require)
            .connect(tls::connector(verification).map_err(tls_error)?),
        TlsPlan::PlainThenTls => {
            match config
                .ssl_mode(postgres::config::SslMode::Disable)
                .connect(NoTls)
            {
                Err(error) if demands_encryption(&error) => config
                    .ssl_mode(postgres::config::SslMode::Require)
                    .connect(tls::connector(&Verification::None).map_err(tls_error)?),
                other => other,
            }
        }
    };
    let mut client = connected.map_err(|e| connect_error(&target, &params.tls, &e))?;
    client
        .batch_execute("SET TIME ZONE 'UTC'; SET default_transaction_read_only = on")
        .map_err(|e| connect_error(&target, &params.tls, &e))?;
    Ok(client)
}

/// Everything but TLS: where, who, and how long to wait.
fn session_config(params: &PgConnectParams) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .host(&params.host)
        .port(params.port)
        .user(&params.user)
        .dbname(&params.database)
        .connect_timeout(params.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(60))
        .application_name(&params.application_name);
    if let Some(password) = &params.password {
        config.password(password);
    }
    config
}

/// The server refused a plaintext session (a `hostssl`-only pg_hba.conf): `allow` then tries TLS.
fn demands_encryption(error: &postgres::Error) -> bool {
    error.as_db_error().is_some_and(|db| {
        db.code().code().starts_with("28") && db.message().contains("no encryption")
    })
}

/// A failed TLS handshake, or a server without TLS where the mode requires it.
fn is_tls_failure(error: &postgres::Error) -> bool {
    let message = error_text(error);
    error.as_db_error().is_none()
        && (message.contains("TLS handshake") || message.contains("does not support TLS"))
}

fn connect_error(target: &str, tls: &PgTls, error: &postgres::Error) -> ExtractError {
    let message = error_text(error);
    // The TLS handshake failed (certificate not trusted, wrong host name) or the server speaks
    // no TLS although the mode requires it: no retry cures that.
    if is_tls_failure(error) {
        return ExtractError::Tls {
            target: target.to_string(),
            message: format!("{message} (ssl_mode {})", tls.mode.as_str()),
        };
    }
    match error.code() {
        Some(code) if sqlstate::is_login_rejection(code.code()) => ExtractError::Authentication {
            target: target.to_string(),
            message,
        },
        _ => ExtractError::Unreachable {
            target: target.to_string(),
            message,
        },
    }
}

fn error_text(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        }
    }
}

fn query_error(table: &str, error: &postgres::Error) -> ExtractError {
    let message = error_text(error);
    match error.code() {
        Some(code) if *code == SqlState::UNDEFINED_TABLE => ExtractError::MissingTable {
            table: table.to_string(),
            message,
        },
        Some(code) => ExtractError::Query {
            table: table.to_string(),
            message,
            retryable: sqlstate::is_retryable(code.code()),
        },
        None => ExtractError::Query {
            table: table.to_string(),
            message,
            retryable: true,
        },
    }
}

/// Batch limits of the native reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgReadOptions {
    pub batch_rows: usize,
    pub batch_bytes: usize,
    /// `[application] max_value_bytes`: the largest text (UTF-8 bytes) or binary value read.
    pub max_value_bytes: usize,
}

impl Default for PgReadOptions {
    fn default() -> Self {
        PgReadOptions {
            batch_rows: DEFAULT_BATCH_ROWS,
            batch_bytes: DEFAULT_BATCH_BYTES,
            max_value_bytes: ValueLimits::default().max_value_bytes,
        }
    }
}

/// Rows per Arrow batch (the pipeline's unit of hand-off).
pub const DEFAULT_BATCH_ROWS: usize = 65_536;
/// A batch is also cut once its variable-length values reach this many bytes.
pub const DEFAULT_BATCH_BYTES: usize = 64 << 20;

/// Streams one SELECT through binary COPY as Arrow batches of a fixed schema.
pub struct PgCopyReader<'c> {
    stream: CopyOutReader<'c>,
    /// Bytes of a unit that straddles two CopyData messages.
    pending: Vec<u8>,
    decoder: TupleDecoder,
}

/// Decoding state, kept apart from the stream so a tuple can be decoded while it still sits in
/// the stream's buffer.
struct TupleDecoder {
    schema: SchemaRef,
    columns: Vec<ColumnDecoder>,
    /// Per column: text or binary values are held to `limits`; others have fixed sizes.
    kinds: Vec<Option<ValueKind>>,
    limits: ValueLimits,
    table: String,
    header_seen: bool,
    finished: bool,
    batch_rows: usize,
    batch_bytes: usize,
    rows_in_batch: usize,
    bytes_in_batch: usize,
}

impl<'c> PgCopyReader<'c> {
    /// Checks every result column against `schema` (names in order, catalog Arrow types), then
    /// starts the COPY. `select_sql` must be a single SELECT without parameters.
    pub fn start(
        client: &'c mut Client,
        select_sql: &str,
        schema: SchemaRef,
        table: &str,
    ) -> Result<Self, ExtractError> {
        let statement = client
            .prepare(select_sql)
            .map_err(|e| query_error(table, &e))?;
        let result_columns = statement.columns();
        if result_columns.len() != schema.fields().len() {
            return Err(ExtractError::InvalidRequest {
                table: table.to_string(),
                message: format!(
                    "the query returns {} columns but the schema has {}",
                    result_columns.len(),
                    schema.fields().len()
                ),
            });
        }
        let columns = result_columns
            .iter()
            .zip(schema.fields())
            .map(|(column, field)| {
                ColumnDecoder::new(column.type_(), field.data_type()).ok_or_else(|| {
                    ExtractError::UnsupportedType {
                        table: table.to_string(),
                        column: field.name().clone(),
                        source_type: describe_mismatch(column.type_(), field.data_type()),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let copy = format!("COPY ({select_sql}) TO STDOUT (FORMAT binary)");
        let stream = client
            .copy_out(copy.as_str())
            .map_err(|e| query_error(table, &e))?;
        Ok(PgCopyReader {
            stream,
            pending: Vec::new(),
            decoder: TupleDecoder {
                kinds: schema
                    .fields()
                    .iter()
                    .map(|f| match f.data_type() {
                        DataType::Utf8 => Some(ValueKind::Text),
                        DataType::Binary => Some(ValueKind::Binary),
                        _ => None,
                    })
                    .collect(),
                limits: ValueLimits::default(),
                schema,
                columns,
                table: table.to_string(),
                header_seen: false,
                finished: false,
                batch_rows: DEFAULT_BATCH_ROWS,
                batch_bytes: DEFAULT_BATCH_BYTES,
                rows_in_batch: 0,
                bytes_in_batch: 0,
            },
        })
    }

    /// Overrides the batch limits (tests use tiny batches to exercise batch edges).
    pub fn with_batch_limits(mut self, rows: usize, bytes: usize) -> Self {
        self.decoder.batch_rows = rows.max(1);
        self.decoder.batch_bytes = bytes.max(1);
        self
    }

    /// Applies the read options: batch limits and the largest value.
    pub fn with_options(self, options: &PgReadOptions) -> Self {
        let mut reader = self.with_batch_limits(options.batch_rows, options.batch_bytes);
        reader.decoder.limits = ValueLimits::new(options.max_value_bytes);
        reader
    }

    /// Reads and decodes the next header, tuple or trailer. Returns false at end of stream.
    fn read_unit(&mut self) -> Result<bool, ExtractError> {
        loop {
            let buffer = self
                .stream
                .fill_buf()
                .map_err(|e| self.decoder.stream_error(e))?;
            if self.pending.is_empty() {
                if buffer.is_empty() {
                    return Ok(false);
                }
                // Common case: the whole unit sits in the stream's buffer; decode it in place.
                if let Some((len, unit)) = frame(buffer, self.decoder.header_seen)
                    .map_err(|m| self.decoder.format_error(m))?
                {
                    self.decoder.decode_unit(&buffer[..len], unit)?;
                    self.stream.consume(len);
                    return Ok(true);
                }
            } else if let Some((len, unit)) = frame(&self.pending, self.decoder.header_seen)
                .map_err(|m| self.decoder.format_error(m))?
            {
                self.decoder.decode_unit(&self.pending[..len], unit)?;
                self.pending.drain(..len);
                return Ok(true);
            } else if buffer.is_empty() {
                return Err(self
                    .decoder
                    .format_error("the copy stream ended inside a tuple".into()));
            }
            let len = buffer.len();
            self.pending.extend_from_slice(buffer);
            self.stream.consume(len);
        }
    }
}

impl TupleDecoder {
    fn stream_error(&self, error: std::io::Error) -> ExtractError {
        ExtractError::Read {
            table: self.table.clone(),
            message: error.to_string(),
            retryable: true,
        }
    }

    fn format_error(&self, message: String) -> ExtractError {
        ExtractError::Read {
            table: self.table.clone(),
            message,
            retryable: false,
        }
    }

    fn batch_full(&self) -> bool {
        self.rows_in_batch >= self.batch_rows || self.bytes_in_batch >= self.batch_bytes
    }

    /// Decodes one framing unit from `bytes`, which holds it completely.
    fn decode_unit(&mut self, bytes: &[u8], unit: Unit) -> Result<(), ExtractError> {
        match unit {
            Unit::Header => self.header_seen = true,
            Unit::Trailer => self.finished = true,
            Unit::Tuple => self.decode_tuple(bytes)?,
        }
        Ok(())
    }

    fn decode_tuple(&mut self, bytes: &[u8]) -> Result<(), ExtractError> {
        let count = i16::from_be_bytes([bytes[0], bytes[1]]) as usize;
        if count != self.columns.len() {
            return Err(self.format_error(format!(
                "tuple has {count} fields, expected {}",
                self.columns.len()
            )));
        }
        let mut pos = 2;
        for (index, column) in self.columns.iter_mut().enumerate() {
            let len = i32::from_be_bytes(
                bytes[pos..pos + 4]
                    .try_into()
                    .expect("frame checked 4 bytes"),
            );
            pos += 4;
            if len < 0 {
                column.append_null();
                continue;
            }
            let value = &bytes[pos..pos + len as usize];
            pos += len as usize;
            if let Some(kind) = self.kinds[index] {
                // The value is held to the limit before it is copied into a batch (the text of
                // a jsonb value carries one version byte more than its text).
                if value.len() > self.limits.limit(kind) + 1 {
                    return Err(self.limits.error(
                        &self.table,
                        self.schema.field(index).name(),
                        kind,
                        Some(value.len()),
                    ));
                }
            }
            self.bytes_in_batch += value.len();
            column
                .append(value)
                .map_err(|message| ExtractError::ValueNotRepresentable {
                    table: self.table.clone(),
                    column: self.schema.field(index).name().clone(),
                    message,
                })?;
        }
        self.rows_in_batch += 1;
        Ok(())
    }

    fn finish_batch(&mut self) -> Result<RecordBatch, ExtractError> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnDecoder::finish).collect();
        self.rows_in_batch = 0;
        self.bytes_in_batch = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| {
            ExtractError::ValueNotRepresentable {
                table: self.table.clone(),
                column: "(batch)".into(),
                message: format!("{e}; a column declared NOT NULL returned NULL"),
            }
        })
    }
}

impl BatchReader for PgCopyReader<'_> {
    fn schema(&self) -> SchemaRef {
        self.decoder.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ExtractError> {
        while !self.decoder.finished && !self.decoder.batch_full() {
            if !self.read_unit()? {
                return Err(self
                    .decoder
                    .format_error("the copy stream ended without its trailer".into()));
            }
        }
        if self.decoder.rows_in_batch == 0 {
            return Ok(None);
        }
        self.decoder.finish_batch().map(Some)
    }
}
