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
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use postgres::error::SqlState;
use postgres::types::{Kind, Type};
use postgres::{Client, CopyOutReader, NoTls};

use super::extract::{BatchReader, ExtractError, ValueKind, ValueLimits};

mod tls;
pub use tls::{PgTls, SslMode};
use tls::{TlsPlan, Verification};

/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

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
        Some(code) if is_login_rejection(code) => ExtractError::Authentication {
            target: target.to_string(),
            message,
        },
        _ => ExtractError::Unreachable {
            target: target.to_string(),
            message,
        },
    }
}

fn is_login_rejection(code: &SqlState) -> bool {
    let code = code.code();
    // 28: invalid authorization; 3D000: database does not exist; 42501: no privilege to connect.
    code.starts_with("28") || code == "3D000" || code == "42501"
}

/// Server errors a later attempt may not meet: serialization failures and deadlocks (40),
/// resource shortages (53), shutdowns and crashes (57P), lost connections (08).
fn is_transient(code: &SqlState) -> bool {
    let code = code.code();
    code.starts_with("40")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code.starts_with("08")
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
            retryable: is_transient(code),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Header,
    Tuple,
    Trailer,
}

/// The length of the first complete framing unit in `bytes`, or `None` if more bytes are needed.
fn frame(bytes: &[u8], header_seen: bool) -> Result<Option<(usize, Unit)>, String> {
    if !header_seen {
        if bytes.len() < 19 {
            return Ok(None);
        }
        if &bytes[..11] != COPY_SIGNATURE {
            return Err("the copy stream does not start with the binary signature".into());
        }
        let extension = u32::from_be_bytes(bytes[15..19].try_into().expect("4 bytes")) as usize;
        let len = 19 + extension;
        return Ok((bytes.len() >= len).then_some((len, Unit::Header)));
    }
    if bytes.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([bytes[0], bytes[1]]);
    if count == -1 {
        return Ok(Some((2, Unit::Trailer)));
    }
    let mut pos = 2usize;
    for _ in 0..count {
        if bytes.len() < pos + 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        pos += 4;
        if len > 0 {
            pos += len as usize;
        }
    }
    Ok((bytes.len() >= pos).then_some((pos, Unit::Tuple)))
}

fn describe_mismatch(pg_type: &Type, arrow_type: &DataType) -> String {
    format!("{} (read as Arrow {arrow_type})", pg_type.name())
}

/// The PostgreSQL type whose binary format a value arrives in: domains arrive as their base.
fn wire_type(pg_type: &Type) -> &Type {
    match pg_type.kind() {
        Kind::Domain(inner) => wire_type(inner),
        _ => pg_type,
    }
}

/// One column's decoder: the source wire format and the Arrow builder it fills.
enum ColumnDecoder {
    Bool(BooleanBuilder),
    Int16(Int16Builder),
    Int32(Int32Builder, usize),
    Int64(Int64Builder, usize),
    Float32(Float32Builder),
    Float64(Float64Builder, usize),
    Decimal {
        builder: Decimal128Builder,
        precision: u8,
        scale: i8,
    },
    NumericText(StringBuilder),
    Text(StringBuilder),
    Jsonb(StringBuilder),
    Uuid(StringBuilder),
    Bytes(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Time(Time64MicrosecondBuilder),
}

impl ColumnDecoder {
    /// The decoder for `pg_type` read as `arrow_type`, or `None` if that pair is unsupported.
    fn new(pg_type: &Type, arrow_type: &DataType) -> Option<ColumnDecoder> {
        let wire = wire_type(pg_type);
        let is_text_like = matches!(wire.kind(), Kind::Enum(_))
            || [
                Type::TEXT,
                Type::VARCHAR,
                Type::BPCHAR,
                Type::NAME,
                Type::JSON,
                Type::CHAR,
            ]
            .contains(wire)
            // An extension type (no fixed OID) whose binary form is its text.
            || wire.name() == "citext";
        // Byte width of the integer on the wire; 0 marks OID, an unsigned 32-bit value.
        let int_width = match *wire {
            Type::INT2 => Some(2),
            Type::INT4 => Some(4),
            Type::INT8 => Some(8),
            Type::OID => Some(0),
            _ => None,
        };
        let decoder = match (arrow_type, int_width) {
            (DataType::Int16, Some(2)) => ColumnDecoder::Int16(Int16Builder::new()),
            (DataType::Int32, Some(w)) if w <= 4 && *wire != Type::OID => {
                ColumnDecoder::Int32(Int32Builder::new(), w)
            }
            (DataType::Int64, Some(w)) => ColumnDecoder::Int64(Int64Builder::new(), w),
            (DataType::Boolean, _) if *wire == Type::BOOL => {
                ColumnDecoder::Bool(BooleanBuilder::new())
            }
            (DataType::Float32, _) if *wire == Type::FLOAT4 => {
                ColumnDecoder::Float32(Float32Builder::new())
            }
            (DataType::Float64, _) if *wire == Type::FLOAT4 => {
                ColumnDecoder::Float64(Float64Builder::new(), 4)
            }
            (DataType::Float64, _) if *wire == Type::FLOAT8 => {
                ColumnDecoder::Float64(Float64Builder::new(), 8)
            }
            (DataType::Decimal128(precision, scale), _) if *wire == Type::NUMERIC => {
                ColumnDecoder::Decimal {
                    builder: Decimal128Builder::new(),
                    precision: *precision,
                    scale: *scale,
                }
            }
            (DataType::Utf8, _) if *wire == Type::NUMERIC => {
                ColumnDecoder::NumericText(StringBuilder::new())
            }
            (DataType::Utf8, _) if is_text_like => ColumnDecoder::Text(StringBuilder::new()),
            (DataType::Utf8, _) if *wire == Type::JSONB => {
                ColumnDecoder::Jsonb(StringBuilder::new())
            }
            (DataType::Utf8, _) if *wire == Type::UUID => ColumnDecoder::Uuid(StringBuilder::new()),
            (DataType::Binary, _) if *wire == Type::BYTEA => {
                ColumnDecoder::Bytes(BinaryBuilder::new())
            }
            (DataType::Date32, _) if *wire == Type::DATE => {
                ColumnDecoder::Date(Date32Builder::new())
            }
            (DataType::Timestamp(TimeUnit::Microsecond, None), _) if *wire == Type::TIMESTAMP => {
                ColumnDecoder::Timestamp(TimestampMicrosecondBuilder::new(), None)
            }
            (DataType::Timestamp(TimeUnit::Microsecond, Some(zone)), _)
                if *wire == Type::TIMESTAMPTZ =>
            {
                ColumnDecoder::Timestamp(TimestampMicrosecondBuilder::new(), Some(zone.clone()))
            }
            (DataType::Time64(TimeUnit::Microsecond), _) if *wire == Type::TIME => {
                ColumnDecoder::Time(Time64MicrosecondBuilder::new())
            }
            _ => return None,
        };
        Some(decoder)
    }

    fn append_null(&mut self) {
        match self {
            ColumnDecoder::Bool(b) => b.append_null(),
            ColumnDecoder::Int16(b) => b.append_null(),
            ColumnDecoder::Int32(b, _) => b.append_null(),
            ColumnDecoder::Int64(b, _) => b.append_null(),
            ColumnDecoder::Float32(b) => b.append_null(),
            ColumnDecoder::Float64(b, _) => b.append_null(),
            ColumnDecoder::Decimal { builder, .. } => builder.append_null(),
            ColumnDecoder::NumericText(b)
            | ColumnDecoder::Text(b)
            | ColumnDecoder::Jsonb(b)
            | ColumnDecoder::Uuid(b) => b.append_null(),
            ColumnDecoder::Bytes(b) => b.append_null(),
            ColumnDecoder::Date(b) => b.append_null(),
            ColumnDecoder::Timestamp(b, _) => b.append_null(),
            ColumnDecoder::Time(b) => b.append_null(),
        }
    }

    /// Appends one non-NULL value in PostgreSQL's binary format.
    fn append(&mut self, value: &[u8]) -> Result<(), String> {
        match self {
            ColumnDecoder::Bool(b) => b.append_value(fixed::<1>(value)?[0] != 0),
            ColumnDecoder::Int16(b) => b.append_value(i16::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Int32(b, width) => b.append_value(read_int(value, *width)? as i32),
            ColumnDecoder::Int64(b, width) => b.append_value(read_int(value, *width)?),
            ColumnDecoder::Float32(b) => b.append_value(f32::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Float64(b, 4) => {
                b.append_value(f32::from_be_bytes(fixed(value)?).into())
            }
            ColumnDecoder::Float64(b, _) => b.append_value(f64::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Decimal {
                builder,
                precision,
                scale,
            } => builder.append_value(numeric_to_decimal(value, *precision, *scale)?),
            ColumnDecoder::NumericText(b) => b.append_value(numeric_to_string(value)?),
            ColumnDecoder::Text(b) => b.append_value(utf8(value)?),
            ColumnDecoder::Jsonb(b) => match value.split_first() {
                Some((1, json)) => b.append_value(utf8(json)?),
                _ => return Err("unknown jsonb binary version".into()),
            },
            ColumnDecoder::Uuid(b) => {
                let uuid =
                    uuid::Uuid::from_slice(value).map_err(|e| format!("invalid uuid: {e}"))?;
                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                b.append_value(uuid.hyphenated().encode_lower(&mut text));
            }
            ColumnDecoder::Bytes(b) => b.append_value(value),
            ColumnDecoder::Date(b) => {
                let days = i32::from_be_bytes(fixed(value)?);
                if days == i32::MAX || days == i32::MIN {
                    return Err("date is infinity, which the target cannot store; filter it or cast it in the source".into());
                }
                b.append_value(days.checked_add(PG_EPOCH_DAYS).ok_or("date out of range")?)
            }
            ColumnDecoder::Timestamp(b, _) => {
                let micros = i64::from_be_bytes(fixed(value)?);
                if micros == i64::MAX || micros == i64::MIN {
                    return Err("timestamp is infinity, which the target cannot store; filter it or cast it in the source".into());
                }
                b.append_value(
                    micros
                        .checked_add(PG_EPOCH_MICROS)
                        .ok_or("timestamp out of range")?,
                )
            }
            ColumnDecoder::Time(b) => b.append_value(i64::from_be_bytes(fixed(value)?)),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnDecoder::Bool(b) => Arc::new(b.finish()),
            ColumnDecoder::Int16(b) => Arc::new(b.finish()),
            ColumnDecoder::Int32(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Int64(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Float32(b) => Arc::new(b.finish()),
            ColumnDecoder::Float64(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Decimal {
                builder,
                precision,
                scale,
            } => Arc::new(
                builder
                    .finish()
                    .with_precision_and_scale(*precision, *scale)
                    .expect("precision and scale were accepted by the schema"),
            ),
            ColumnDecoder::NumericText(b)
            | ColumnDecoder::Text(b)
            | ColumnDecoder::Jsonb(b)
            | ColumnDecoder::Uuid(b) => Arc::new(b.finish()),
            ColumnDecoder::Bytes(b) => Arc::new(b.finish()),
            ColumnDecoder::Date(b) => Arc::new(b.finish()),
            ColumnDecoder::Timestamp(b, zone) => {
                Arc::new(b.finish().with_timezone_opt(zone.clone()))
            }
            ColumnDecoder::Time(b) => Arc::new(b.finish()),
        }
    }
}

fn fixed<const N: usize>(value: &[u8]) -> Result<[u8; N], String> {
    value
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", value.len()))
}

fn read_int(value: &[u8], width: usize) -> Result<i64, String> {
    Ok(match width {
        2 => i16::from_be_bytes(fixed(value)?).into(),
        0 => u32::from_be_bytes(fixed(value)?).into(),
        4 => i32::from_be_bytes(fixed(value)?).into(),
        _ => i64::from_be_bytes(fixed(value)?),
    })
}

fn utf8(value: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(value).map_err(|e| format!("text is not valid UTF-8: {e}"))
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// The parts of a binary `numeric`: base-10000 digits, the power of 10000 of the first digit,
/// the sign and the display scale.
struct Numeric<'a> {
    digits: &'a [u8],
    ndigits: usize,
    weight: i16,
    negative: bool,
    dscale: u16,
}

impl Numeric<'_> {
    fn parse(value: &[u8]) -> Result<Numeric<'_>, String> {
        if value.len() < 8 {
            return Err("numeric value is truncated".into());
        }
        let ndigits = u16::from_be_bytes([value[0], value[1]]) as usize;
        let weight = i16::from_be_bytes([value[2], value[3]]);
        let sign = u16::from_be_bytes([value[4], value[5]]);
        let dscale = u16::from_be_bytes([value[6], value[7]]);
        let digits = &value[8..];
        if digits.len() != ndigits * 2 {
            return Err("numeric value is truncated".into());
        }
        let negative = match sign {
            NUMERIC_POS => false,
            NUMERIC_NEG => true,
            NUMERIC_NAN => return Err("numeric NaN cannot be stored in a NUMBER column; map the column to a float or text type".into()),
            NUMERIC_PINF | NUMERIC_NINF => {
                return Err("numeric infinity cannot be stored in a NUMBER column; map the column to a float or text type".into())
            }
            other => return Err(format!("unknown numeric sign {other:#x}")),
        };
        Ok(Numeric {
            digits,
            ndigits,
            weight,
            negative,
            dscale,
        })
    }

    /// The base-10000 digit at `index` (0 = first), zero outside the stored digits.
    fn digit(&self, index: i32) -> i128 {
        if index < 0 || index as usize >= self.ndigits {
            return 0;
        }
        let i = index as usize * 2;
        i16::from_be_bytes([self.digits[i], self.digits[i + 1]]) as i128
    }
}

/// Decodes a binary `numeric` into a Decimal128 unscaled value with exactly `scale` fractional
/// digits. Fails, rather than rounds, when the value has more fractional digits than `scale`
/// or more digits than `precision`.
fn numeric_to_decimal(value: &[u8], precision: u8, scale: i8) -> Result<i128, String> {
    let numeric = Numeric::parse(value)?;
    let overflow = || format!("value does not fit NUMBER({precision},{scale})");
    let scale = i32::from(scale);
    let mut acc: i128 = 0;
    // Exponent of 10 of the last digit folded into `acc`, relative to the target scale.
    let mut exponent: i32 = 0;
    for index in 0..numeric.ndigits as i32 {
        let digit = numeric.digit(index);
        let power = i32::from(numeric.weight) - index;
        let e = 4 * power + scale;
        if e >= 0 {
            acc = acc
                .checked_mul(10_000)
                .and_then(|a| a.checked_add(digit))
                .ok_or_else(overflow)?;
            exponent = e;
        } else if e > -4 {
            let cut = 10i128.pow((-e) as u32);
            if digit % cut != 0 {
                return Err(format!("value has more than {scale} fractional digits"));
            }
            acc = acc
                .checked_mul(10i128.pow((4 + e) as u32))
                .and_then(|a| a.checked_add(digit / cut))
                .ok_or_else(overflow)?;
            exponent = 0;
        } else if digit != 0 {
            return Err(format!("value has more than {scale} fractional digits"));
        }
    }
    if exponent > 0 {
        acc = 10i128
            .checked_pow(exponent as u32)
            .and_then(|m| acc.checked_mul(m))
            .ok_or_else(overflow)?;
    }
    let limit = 10i128
        .checked_pow(u32::from(precision))
        .unwrap_or(i128::MAX);
    if acc >= limit {
        return Err(overflow());
    }
    Ok(if numeric.negative { -acc } else { acc })
}

/// Renders a binary `numeric` exactly as PostgreSQL's text output does (display scale kept).
fn numeric_to_string(value: &[u8]) -> Result<String, String> {
    let bytes = value;
    if bytes.len() >= 6 {
        let sign = u16::from_be_bytes([bytes[4], bytes[5]]);
        match sign {
            NUMERIC_NAN => return Ok("NaN".into()),
            NUMERIC_PINF => return Ok("Infinity".into()),
            NUMERIC_NINF => return Ok("-Infinity".into()),
            _ => {}
        }
    }
    let numeric = Numeric::parse(value)?;
    let mut text = String::with_capacity(numeric.ndigits * 4 + 4);
    if numeric.negative && numeric.ndigits > 0 {
        text.push('-');
    }
    let weight = i32::from(numeric.weight);
    if weight < 0 {
        text.push('0');
    } else {
        for index in 0..=weight {
            let digit = numeric.digit(index);
            if index == 0 {
                text.push_str(&digit.to_string());
            } else {
                text.push_str(&format!("{digit:04}"));
            }
        }
    }
    let dscale = usize::from(numeric.dscale);
    if dscale > 0 {
        text.push('.');
        let mut fraction = String::with_capacity(dscale + 4);
        let mut index = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", numeric.digit(index)));
            index += 1;
        }
        fraction.truncate(dscale);
        text.push_str(&fraction);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds PostgreSQL's binary numeric from its parts.
    fn numeric(digits: &[i16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_decodes_exactly() {
        // 12345.6789 = [1, 2345, 6789] weight 1
        let v = numeric(&[1, 2345, 6789], 1, NUMERIC_POS, 4);
        assert_eq!(numeric_to_decimal(&v, 18, 4), Ok(123_456_789));
        assert_eq!(numeric_to_decimal(&v, 18, 6), Ok(12_345_678_900));
        assert!(numeric_to_decimal(&v, 18, 2).is_err(), "would lose digits");
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("12345.6789"));
        // -0.000000001 = [1000] at power -3 (0.0000 0000 0001 000)
        let v = numeric(&[1000], -3, NUMERIC_NEG, 9);
        assert_eq!(numeric_to_decimal(&v, 38, 9), Ok(-1));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("-0.000000001"));
        // 20000 = [2] weight 1 (trailing zero groups omitted)
        let v = numeric(&[2], 1, NUMERIC_POS, 0);
        assert_eq!(numeric_to_decimal(&v, 10, 0), Ok(20_000));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("20000"));
        // zero with display scale
        let v = numeric(&[], 0, NUMERIC_POS, 3);
        assert_eq!(numeric_to_decimal(&v, 10, 3), Ok(0));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("0.000"));
        let v = numeric(&[], 0, NUMERIC_NAN, 0);
        assert!(numeric_to_decimal(&v, 10, 0)
            .expect_err("NaN")
            .contains("NaN"));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("NaN"));
    }

    #[test]
    fn numeric_at_full_precision_38_9() {
        // 99999999999999999999999999999.999999999 (29 integer digits, 9 fractional)
        let v = numeric(
            &[
                9, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9000,
            ],
            7,
            NUMERIC_POS,
            9,
        );
        let expected: i128 = "99999999999999999999999999999999999999"
            .parse()
            .expect("i128");
        assert_eq!(numeric_to_decimal(&v, 38, 9), Ok(expected));
        assert_eq!(
            numeric_to_string(&v).as_deref(),
            Ok("99999999999999999999999999999.999999999")
        );
        assert!(
            numeric_to_decimal(&v, 37, 9).is_err(),
            "precision is enforced"
        );
    }

    #[test]
    fn frames_header_tuples_and_trailer() {
        let mut header = COPY_SIGNATURE.to_vec();
        header.extend_from_slice(&0u32.to_be_bytes());
        header.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(frame(&header[..10], false), Ok(None));
        assert_eq!(frame(&header, false), Ok(Some((19, Unit::Header))));
        let mut tuple = 2i16.to_be_bytes().to_vec();
        tuple.extend_from_slice(&(-1i32).to_be_bytes());
        tuple.extend_from_slice(&3i32.to_be_bytes());
        tuple.extend_from_slice(b"abc");
        assert_eq!(frame(&tuple[..9], true), Ok(None));
        assert_eq!(frame(&tuple, true), Ok(Some((13, Unit::Tuple))));
        assert_eq!(
            frame(&(-1i16).to_be_bytes(), true),
            Ok(Some((2, Unit::Trailer)))
        );
        assert!(frame(b"not a copy stream at all", false).is_err());
    }

    #[test]
    fn decoders_follow_the_catalog_type() {
        assert!(ColumnDecoder::new(&Type::INT4, &DataType::Int64).is_some());
        assert!(
            ColumnDecoder::new(&Type::INT8, &DataType::Int32).is_none(),
            "no narrowing"
        );
        assert!(
            ColumnDecoder::new(&Type::FLOAT8, &DataType::Float32).is_none(),
            "no precision loss"
        );
        assert!(ColumnDecoder::new(
            &Type::TIMESTAMPTZ,
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        )
        .is_none());
        assert!(ColumnDecoder::new(&Type::INTERVAL, &DataType::Utf8).is_none());
        assert_eq!(
            describe_mismatch(&Type::INTERVAL, &DataType::Utf8),
            "interval (read as Arrow Utf8)"
        );
    }

    #[test]
    fn oid_is_unsigned() {
        let mut d = ColumnDecoder::new(&Type::OID, &DataType::Int64).expect("oid");
        d.append(&u32::MAX.to_be_bytes()).expect("oid");
        let array = d.finish();
        let values = array
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("int64");
        assert_eq!(values.value(0), i64::from(u32::MAX));
        assert!(ColumnDecoder::new(&Type::OID, &DataType::Int32).is_none());
    }

    #[test]
    fn dates_and_timestamps_shift_to_unix_epoch() {
        let mut d = ColumnDecoder::new(&Type::DATE, &DataType::Date32).expect("date");
        d.append(&0i32.to_be_bytes()).expect("date");
        assert!(d
            .append(&i32::MAX.to_be_bytes())
            .expect_err("infinity")
            .contains("infinity"));
        let array = d.finish();
        let dates = array
            .as_any()
            .downcast_ref::<arrow::array::Date32Array>()
            .expect("dates");
        assert_eq!(dates.value(0), 10_957);
        let tz: Arc<str> = Arc::from("UTC");
        let mut t = ColumnDecoder::new(
            &Type::TIMESTAMPTZ,
            &DataType::Timestamp(TimeUnit::Microsecond, Some(tz)),
        )
        .expect("timestamptz");
        t.append(&1i64.to_be_bytes()).expect("timestamp");
        let array = t.finish();
        assert_eq!(
            array.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
    }
}
