//! The ODBC reader: one SELECT through `odbc-api` + `arrow-odbc` as Arrow batches.
//!
//! The Arrow schema comes from the source catalog and is imposed on the driver
//! (`OdbcReaderBuilder::with_schema`), never guessed from driver metadata: psqlODBC reports
//! `double precision` as a 24-bit float and unconstrained `numeric` with a scale taken from the
//! first rows, both of which lose data silently when believed. Decimals are fetched as text and
//! parsed exactly; `timestamptz` is fetched as a naive timestamp in the session time zone (the
//! connection string sets UTC) and labelled with the catalog's zone here.
//!
//! Memory: the transit buffer holds `rows x widest row`; rows per fetch are capped by
//! [`OdbcReadOptions::max_bytes_per_batch`], and unbounded text and binary columns are sized
//! by `max_text_bytes` / `max_binary_bytes`. A value larger than that fails the task with an
//! error naming the column (never a silent truncation). With `concurrent_fetch` a second buffer
//! lets the driver fill batch n+1 while batch n is converted (off by default: the pipeline
//! already overlaps fetching with Parquet encoding, see `bench/RESULTS.md`).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder,
    StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow_odbc::odbc_api::{
    self, Bit, Connection, ConnectionOptions, Cursor, CursorRow, Nullable, ResultSetMetadata,
};
use arrow_odbc::{ConcurrentOdbcReader, OdbcReader, OdbcReaderBuilder, TextEncoding};

use super::connection_string::ConnectionString;
use super::extract::{BatchReader, ExtractError};

type OwnedCursor = odbc_api::OwnedCursor<Connection<'static>>;

/// Limits of the ODBC transit buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdbcReadOptions {
    pub max_rows_per_batch: usize,
    /// Upper bound of one transit buffer (two with `concurrent_fetch`).
    pub max_bytes_per_batch: usize,
    /// Largest text value in UTF-8 bytes for columns without a declared length.
    pub max_text_bytes: usize,
    /// Largest binary value in bytes for columns without a declared length.
    pub max_binary_bytes: usize,
    pub concurrent_fetch: bool,
    pub fetch: OdbcFetch,
}

/// How values leave the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdbcFetch {
    /// Bound column buffers, many rows per call (fast). Text and binary buffers are as wide as
    /// the driver declares the column, capped by `max_text_bytes` / `max_binary_bytes`.
    Columnar,
    /// One row at a time, long values fetched in pieces (`SQLGetData`), so no value is ever too
    /// long. For drivers whose declared lengths do not bound the data: SQLite declares `TEXT` as
    /// 65,536 characters and `BLOB` as 255 bytes yet stores values of any length.
    RowByRow,
}

impl OdbcFetch {
    /// The safe default for a platform (SQLite enforces no lengths; every other platform does).
    pub fn for_platform(platform: config_schema::SourcePlatform) -> OdbcFetch {
        match platform {
            config_schema::SourcePlatform::Sqlite => OdbcFetch::RowByRow,
            _ => OdbcFetch::Columnar,
        }
    }
}

impl Default for OdbcReadOptions {
    fn default() -> Self {
        OdbcReadOptions {
            max_rows_per_batch: 65_535,
            max_bytes_per_batch: 64 << 20,
            max_text_bytes: 1 << 20,
            max_binary_bytes: 1 << 20,
            // Measured on the benchmark table: the pipeline already encodes Parquet on its own
            // thread, so a second fetch buffer only costs memory (+30 MB) and was 4 % slower.
            concurrent_fetch: false,
            fetch: OdbcFetch::Columnar,
        }
    }
}

/// Connects through the driver manager. The connection string's secrets never reach a message.
pub fn connect(connection_string: &ConnectionString) -> Result<Connection<'static>, ExtractError> {
    let target = connection_string.to_string();
    let environment = odbc_api::environment().map_err(|e| ExtractError::MissingDriver {
        driver: "unixODBC driver manager".into(),
        message: e.to_string(),
    })?;
    environment
        .connect_with_connection_string(&connection_string.expose(), ConnectionOptions::default())
        .map_err(|e| connect_error(connection_string, &target, &e))
}

fn diagnostic(error: &odbc_api::Error) -> Option<(String, String)> {
    match error {
        odbc_api::Error::Diagnostics { record, .. } => {
            Some((record.state.as_str().to_string(), record.to_string()))
        }
        _ => None,
    }
}

fn connect_error(cs: &ConnectionString, target: &str, error: &odbc_api::Error) -> ExtractError {
    let message = error.to_string();
    let (state, _) = diagnostic(error).unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    if state == "IM002"
        || lower.contains("can't open lib")
        || lower.contains("data source name not found")
    {
        return ExtractError::MissingDriver {
            driver: cs.driver().unwrap_or("(none)").to_string(),
            message,
        };
    }
    let rejected = state.starts_with("28")
        || [
            "authentication failed",
            "login failed",
            "does not exist",
            "no password supplied",
            "permission denied",
        ]
        .iter()
        .any(|needle| lower.contains(needle));
    if rejected {
        return ExtractError::Authentication {
            target: target.to_string(),
            message,
        };
    }
    ExtractError::Unreachable {
        target: target.to_string(),
        message,
    }
}

/// Classifies an error raised while executing or fetching.
fn statement_error(
    table: &str,
    schema: &Schema,
    error: &odbc_api::Error,
    options: &OdbcReadOptions,
) -> ExtractError {
    if let odbc_api::Error::TooLargeValueForBuffer {
        buffer_index,
        indicator,
    } = error
    {
        let column = schema
            .fields()
            .get(*buffer_index)
            .map(|f| f.name().clone())
            .unwrap_or_default();
        let limit = match schema.fields().get(*buffer_index).map(|f| f.data_type()) {
            Some(DataType::Binary) => options.max_binary_bytes,
            _ => options.max_text_bytes,
        };
        return ExtractError::ValueTooLong {
            table: table.to_string(),
            column,
            limit,
            length: *indicator,
        };
    }
    let message = error.to_string();
    let (state, _) = diagnostic(error).unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    if state == "42S02"
        || state == "42P01"
        || lower.contains("no such table")
        || lower.contains("invalid object name")
    {
        return ExtractError::MissingTable {
            table: table.to_string(),
            message,
        };
    }
    // Lost connections, timeouts, serialization failures and deadlocks may pass.
    let retryable =
        state.starts_with("08") || state.starts_with("HYT") || state == "40001" || state == "40P01";
    ExtractError::Query {
        table: table.to_string(),
        message,
        retryable,
    }
}

/// What the driver is asked for: the catalog schema with time zones removed (arrow-odbc reads
/// timestamps as naive values; the zone label is put back on each batch).
fn fetch_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Timestamp(unit, Some(_)) => field
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(*unit, None)),
            _ => field.as_ref().clone(),
        })
        .collect();
    Schema::new(fields)
}

/// Columns whose zone label must be restored, with that zone.
fn zoned_columns(schema: &Schema) -> Vec<(usize, Arc<str>)> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter_map(|(index, field)| match field.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) => Some((index, zone.clone())),
            _ => None,
        })
        .collect()
}

/// Checks that every column type is one the ODBC reader can fill.
fn check_supported(schema: &Schema, table: &str) -> Result<(), ExtractError> {
    for field in schema.fields() {
        let supported = matches!(
            field.data_type(),
            DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::Float32
                | DataType::Float64
                | DataType::Date32
                | DataType::Time64(TimeUnit::Microsecond)
                | DataType::Utf8
                | DataType::Binary
                | DataType::Decimal128(_, _)
                | DataType::Timestamp(TimeUnit::Microsecond, _)
                | DataType::Timestamp(TimeUnit::Millisecond, None)
                | DataType::Timestamp(TimeUnit::Second, None)
        );
        if !supported {
            return Err(ExtractError::UnsupportedType {
                table: table.to_string(),
                column: field.name().clone(),
                source_type: format!("Arrow {}", field.data_type()),
            });
        }
    }
    Ok(())
}

enum Fetcher {
    Sequential(OdbcReader<OwnedCursor>),
    Concurrent(ConcurrentOdbcReader<OwnedCursor>),
    Rows(RowByRow),
}

/// Streams one SELECT over ODBC as batches of the catalog schema.
pub struct OdbcBatchReader {
    batches: Fetcher,
    schema: SchemaRef,
    zoned: Vec<(usize, Arc<str>)>,
    table: String,
    options: OdbcReadOptions,
}

impl OdbcBatchReader {
    /// Executes `select_sql` on `connection` and prepares the transit buffers for `schema`.
    pub fn start(
        connection: Connection<'static>,
        select_sql: &str,
        schema: SchemaRef,
        table: &str,
        options: OdbcReadOptions,
    ) -> Result<Self, ExtractError> {
        check_supported(&schema, table)?;
        let mut cursor = connection
            .into_cursor(select_sql, (), None)
            .map_err(|e| statement_error(table, &schema, &e.error, &options))?
            .ok_or_else(|| ExtractError::InvalidRequest {
                table: table.to_string(),
                message: "the extraction statement returned no result set".into(),
            })?;
        let columns = cursor
            .num_result_cols()
            .map_err(|e| statement_error(table, &schema, &e, &options))?;
        if columns as usize != schema.fields().len() {
            return Err(ExtractError::InvalidRequest {
                table: table.to_string(),
                message: format!(
                    "the query returns {columns} columns but the schema has {}",
                    schema.fields().len()
                ),
            });
        }
        if options.fetch == OdbcFetch::RowByRow {
            let rows = RowByRow::new(cursor, &schema, table, &options)?;
            return Ok(OdbcBatchReader {
                batches: Fetcher::Rows(rows),
                zoned: zoned_columns(&schema),
                schema,
                table: table.to_string(),
                options,
            });
        }
        let reader = OdbcReaderBuilder::new()
            .with_schema(Arc::new(fetch_schema(&schema)))
            .with_max_num_rows_per_batch(options.max_rows_per_batch.max(1))
            .with_max_bytes_per_batch(options.max_bytes_per_batch.max(1))
            .with_max_text_size(options.max_text_bytes.max(1))
            .with_max_binary_size(options.max_binary_bytes.max(1))
            .with_payload_text_encoding(TextEncoding::Utf8)
            .with_fallibale_allocations(true)
            .build(cursor)
            .map_err(|e| reader_error(table, &schema, e))?;
        let batches = if options.concurrent_fetch {
            let concurrent = reader
                .into_concurrent()
                .map_err(|e| reader_error(table, &schema, e))?;
            Fetcher::Concurrent(concurrent)
        } else {
            Fetcher::Sequential(reader)
        };
        Ok(OdbcBatchReader {
            batches,
            zoned: zoned_columns(&schema),
            schema,
            table: table.to_string(),
            options,
        })
    }

    fn arrow_error(&self, error: ArrowError) -> ExtractError {
        if let ArrowError::ExternalError(inner) = &error {
            if let Some(odbc) = inner.downcast_ref::<odbc_api::Error>() {
                return statement_error(&self.table, &self.schema, odbc, &self.options);
            }
        }
        ExtractError::Read {
            table: self.table.clone(),
            message: error.to_string(),
            retryable: false,
        }
    }

    fn label_zones(&self, batch: RecordBatch) -> Result<RecordBatch, ExtractError> {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (index, zone) in &self.zoned {
            let naive = columns[*index]
                .as_primitive::<TimestampMicrosecondType>()
                .clone();
            columns[*index] = Arc::new(naive.with_timezone(zone.clone()));
        }
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| ExtractError::Read {
            table: self.table.clone(),
            message: e.to_string(),
            retryable: false,
        })
    }
}

fn reader_error(table: &str, schema: &Schema, error: arrow_odbc::Error) -> ExtractError {
    match error {
        arrow_odbc::Error::ColumnFailure { index, source, .. } => ExtractError::UnsupportedType {
            table: table.to_string(),
            column: schema
                .fields()
                .get(index)
                .map(|f| f.name().clone())
                .unwrap_or_default(),
            source_type: source.to_string(),
        },
        other => ExtractError::Query {
            table: table.to_string(),
            message: other.to_string(),
            retryable: false,
        },
    }
}

impl BatchReader for OdbcBatchReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ExtractError> {
        let next = match &mut self.batches {
            Fetcher::Sequential(reader) => reader.next(),
            Fetcher::Concurrent(reader) => reader.next(),
            Fetcher::Rows(rows) => match rows.next_batch(&self.schema, &self.options) {
                Ok(None) => None,
                Ok(Some(batch)) => Some(Ok(batch)),
                Err(RowError::Odbc(e)) => {
                    return Err(statement_error(
                        &self.table,
                        &self.schema,
                        &e,
                        &self.options,
                    ))
                }
                Err(RowError::Value { column, message }) => {
                    return Err(ExtractError::ValueNotRepresentable {
                        table: self.table.clone(),
                        column: self.schema.field(column).name().clone(),
                        message,
                    })
                }
            },
        };
        match next {
            None => Ok(None),
            Some(Err(error)) => Err(self.arrow_error(error)),
            Some(Ok(batch)) if self.zoned.is_empty() => {
                // Same fields; only the schema object differs (nothing to relabel).
                RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
                    .map(Some)
                    .map_err(|e| ExtractError::Read {
                        table: self.table.clone(),
                        message: e.to_string(),
                        retryable: false,
                    })
            }
            Some(Ok(batch)) => self.label_zones(batch).map(Some),
        }
    }
}

/// Row-at-a-time fetching with `SQLGetData`: text and binary values of any length arrive in
/// pieces, so nothing is sized from the driver's declared lengths.
struct RowByRow {
    cursor: OwnedCursor,
    columns: Vec<RowColumn>,
    scratch: Vec<u8>,
}

enum RowError {
    Odbc(odbc_api::Error),
    Value { column: usize, message: String },
}

impl From<odbc_api::Error> for RowError {
    fn from(error: odbc_api::Error) -> Self {
        RowError::Odbc(error)
    }
}

enum RowColumn {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    UInt8(UInt8Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder, u8, i8),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl RowByRow {
    fn new(
        cursor: OwnedCursor,
        schema: &Schema,
        table: &str,
        _options: &OdbcReadOptions,
    ) -> Result<Self, ExtractError> {
        let columns = schema
            .fields()
            .iter()
            .map(|field| {
                RowColumn::new(field.data_type()).ok_or_else(|| ExtractError::UnsupportedType {
                    table: table.to_string(),
                    column: field.name().clone(),
                    source_type: format!("Arrow {}", field.data_type()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RowByRow {
            cursor,
            columns,
            scratch: Vec::new(),
        })
    }

    fn next_batch(
        &mut self,
        schema: &SchemaRef,
        options: &OdbcReadOptions,
    ) -> Result<Option<RecordBatch>, RowError> {
        let mut rows = 0;
        let mut bytes = 0;
        while rows < options.max_rows_per_batch.max(1) && bytes < options.max_bytes_per_batch {
            let Some(mut row) = self.cursor.next_row()? else {
                break;
            };
            for (index, column) in self.columns.iter_mut().enumerate() {
                bytes += column.append(&mut row, index, &mut self.scratch)?;
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(RowColumn::finish).collect();
        RecordBatch::try_new(fetch_schema_ref(schema), arrays)
            .map(Some)
            .map_err(|e| RowError::Value {
                column: 0,
                message: e.to_string(),
            })
    }
}

fn fetch_schema_ref(schema: &SchemaRef) -> SchemaRef {
    Arc::new(fetch_schema(schema))
}

impl RowColumn {
    fn new(data_type: &DataType) -> Option<RowColumn> {
        Some(match data_type {
            DataType::Boolean => RowColumn::Boolean(BooleanBuilder::new()),
            DataType::Int8 => RowColumn::Int8(Int8Builder::new()),
            DataType::Int16 => RowColumn::Int16(Int16Builder::new()),
            DataType::Int32 => RowColumn::Int32(Int32Builder::new()),
            DataType::Int64 => RowColumn::Int64(Int64Builder::new()),
            DataType::UInt8 => RowColumn::UInt8(UInt8Builder::new()),
            DataType::Float32 => RowColumn::Float32(Float32Builder::new()),
            DataType::Float64 => RowColumn::Float64(Float64Builder::new()),
            DataType::Decimal128(p, s) => RowColumn::Decimal(Decimal128Builder::new(), *p, *s),
            DataType::Utf8 => RowColumn::Text(StringBuilder::new()),
            DataType::Binary => RowColumn::Binary(BinaryBuilder::new()),
            DataType::Date32 => RowColumn::Date(Date32Builder::new()),
            DataType::Time64(TimeUnit::Microsecond) => {
                RowColumn::Time(Time64MicrosecondBuilder::new())
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                RowColumn::Timestamp(TimestampMicrosecondBuilder::new())
            }
            _ => return None,
        })
    }

    /// Appends the value of column `index` (0-based) of `row`; returns the bytes it added.
    fn append(
        &mut self,
        row: &mut CursorRow<'_>,
        index: usize,
        scratch: &mut Vec<u8>,
    ) -> Result<usize, RowError> {
        let col = index as u16 + 1;
        let value_error = |message: String| RowError::Value {
            column: index,
            message,
        };
        match self {
            RowColumn::Boolean(b) => b.append_option(get::<Bit>(row, col)?.map(|v| v.as_bool())),
            RowColumn::Int8(b) => b.append_option(get::<i8>(row, col)?),
            RowColumn::Int16(b) => b.append_option(get::<i16>(row, col)?),
            RowColumn::Int32(b) => b.append_option(get::<i32>(row, col)?),
            RowColumn::Int64(b) => b.append_option(get::<i64>(row, col)?),
            RowColumn::UInt8(b) => b.append_option(get::<u8>(row, col)?),
            RowColumn::Float32(b) => b.append_option(
                get_float(row, col, scratch)
                    .map_err(|e| e.at(index))?
                    .map(|v| v as f32),
            ),
            RowColumn::Float64(b) => {
                b.append_option(get_float(row, col, scratch).map_err(|e| e.at(index))?)
            }
            RowColumn::Date(b) => {
                let date = get::<odbc_api::sys::Date>(row, col)?;
                b.append_option(
                    date.map(|d| days_since_epoch(&d))
                        .transpose()
                        .map_err(value_error)?,
                )
            }
            RowColumn::Timestamp(b) => {
                let ts = get::<odbc_api::sys::Timestamp>(row, col)?;
                b.append_option(
                    ts.map(|t| micros_since_epoch(&t))
                        .transpose()
                        .map_err(value_error)?,
                )
            }
            RowColumn::Decimal(b, _, scale) => {
                if row.get_text(col, scratch)? {
                    let text =
                        std::str::from_utf8(scratch).map_err(|e| value_error(e.to_string()))?;
                    b.append_value(parse_decimal(text.trim(), *scale).map_err(value_error)?);
                } else {
                    b.append_null();
                }
            }
            RowColumn::Time(b) => {
                if row.get_text(col, scratch)? {
                    let text =
                        std::str::from_utf8(scratch).map_err(|e| value_error(e.to_string()))?;
                    let time = chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M:%S%.f")
                        .map_err(|e| value_error(format!("invalid time `{text}`: {e}")))?;
                    let micros = i64::from(chrono::Timelike::num_seconds_from_midnight(&time))
                        * 1_000_000
                        + i64::from(chrono::Timelike::nanosecond(&time) / 1_000);
                    b.append_value(micros);
                } else {
                    b.append_null();
                }
            }
            RowColumn::Text(b) => {
                if row.get_text(col, scratch)? {
                    let text = std::str::from_utf8(scratch)
                        .map_err(|e| value_error(format!("text is not valid UTF-8: {e}")))?;
                    b.append_value(text);
                    return Ok(scratch.len());
                }
                b.append_null();
            }
            RowColumn::Binary(b) => {
                if row.get_binary(col, scratch)? {
                    b.append_value(&scratch[..]);
                    return Ok(scratch.len());
                }
                b.append_null();
            }
        }
        Ok(8)
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            RowColumn::Boolean(b) => Arc::new(b.finish()),
            RowColumn::Int8(b) => Arc::new(b.finish()),
            RowColumn::Int16(b) => Arc::new(b.finish()),
            RowColumn::Int32(b) => Arc::new(b.finish()),
            RowColumn::Int64(b) => Arc::new(b.finish()),
            RowColumn::UInt8(b) => Arc::new(b.finish()),
            RowColumn::Float32(b) => Arc::new(b.finish()),
            RowColumn::Float64(b) => Arc::new(b.finish()),
            RowColumn::Decimal(b, p, s) => Arc::new(
                b.finish()
                    .with_precision_and_scale(*p, *s)
                    .expect("precision and scale come from a valid schema"),
            ),
            RowColumn::Text(b) => Arc::new(b.finish()),
            RowColumn::Binary(b) => Arc::new(b.finish()),
            RowColumn::Date(b) => Arc::new(b.finish()),
            RowColumn::Time(b) => Arc::new(b.finish()),
            RowColumn::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// A float through its text form, parsed exactly here: sqliteodbc's own text-to-double
/// conversion is not exact (1.7976931348623157e308 arrives as infinity).
fn get_float(
    row: &mut CursorRow<'_>,
    col: u16,
    scratch: &mut Vec<u8>,
) -> Result<Option<f64>, RowError> {
    if !row.get_text(col, scratch)? {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(scratch);
    text.trim()
        .parse::<f64>()
        .map(Some)
        .map_err(|_| RowError::Value {
            column: usize::MAX,
            message: format!("`{text}` is not a number"),
        })
}

impl RowError {
    /// Sets the column of a value error raised without knowing it.
    fn at(self, column: usize) -> RowError {
        match self {
            RowError::Value { message, .. } => RowError::Value { column, message },
            other => other,
        }
    }
}

/// One fixed-size value; `None` for NULL.
fn get<T>(row: &mut CursorRow<'_>, col: u16) -> Result<Option<T>, odbc_api::Error>
where
    T: odbc_api::Pod,
    Nullable<T>: odbc_api::handles::CDataMut + odbc_api::parameter::CElement,
{
    let mut value = Nullable::<T>::null();
    row.get_data(col, &mut value)?;
    Ok(value.into_opt())
}

fn days_since_epoch(date: &odbc_api::sys::Date) -> Result<i32, String> {
    chrono::NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
    .map(|d| d.to_epoch_days())
    .ok_or_else(|| format!("invalid date {}-{}-{}", date.year, date.month, date.day))
}

fn micros_since_epoch(ts: &odbc_api::sys::Timestamp) -> Result<i64, String> {
    chrono::NaiveDate::from_ymd_opt(i32::from(ts.year), u32::from(ts.month), u32::from(ts.day))
        .and_then(|d| {
            d.and_hms_nano_opt(
                u32::from(ts.hour),
                u32::from(ts.minute),
                u32::from(ts.second),
                ts.fraction,
            )
        })
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or_else(|| {
            format!(
                "invalid timestamp {}-{}-{} {}:{}:{}",
                ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second
            )
        })
}

/// Exact decimal text (`-123.45`, `1e3` is not accepted) to an unscaled value with `scale`
/// digits; more fractional digits than `scale` is an error, never a rounding.
fn parse_decimal(text: &str, scale: i8) -> Result<i128, String> {
    let invalid =
        || format!("`{text}` is not a decimal number with at most {scale} fractional digits");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    if whole.is_empty() && fraction.is_empty() || fraction.len() > scale.max(0) as usize {
        return Err(invalid());
    }
    let mut value: i128 = 0;
    for c in whole.chars().chain(fraction.chars()) {
        let digit = c.to_digit(10).ok_or_else(invalid)?;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(digit.into()))
            .ok_or_else(invalid)?;
    }
    let pad = scale.max(0) as u32 - fraction.len() as u32;
    value = value.checked_mul(10i128.pow(pad)).ok_or_else(invalid)?;
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_stripped_for_the_driver_and_remembered() {
        let schema = Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "naive",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
        ]);
        let fetch = fetch_schema(&schema);
        assert_eq!(
            fetch.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(zoned_columns(&schema), vec![(0, Arc::from("UTC"))]);
    }

    #[test]
    fn decimal_text_parses_exactly() {
        assert_eq!(parse_decimal("-123.450", 4).ok(), Some(-1_234_500));
        assert_eq!(
            parse_decimal("99999999999999999999999999999.999999999", 9).ok(),
            Some(99_999_999_999_999_999_999_999_999_999_999_999_999)
        );
        assert_eq!(parse_decimal("7", 0).ok(), Some(7));
        assert!(parse_decimal("1.23", 1).is_err(), "no rounding");
        assert!(parse_decimal("abc", 2).is_err());
        assert!(parse_decimal("", 2).is_err());
    }

    #[test]
    fn unsupported_arrow_types_name_the_column() {
        let schema = Schema::new(vec![Field::new("big", DataType::LargeUtf8, true)]);
        let err = check_supported(&schema, "s.t").expect_err("unsupported");
        assert!(err.to_string().contains("`big`"), "{err}");
        assert!(!err.is_retryable());
    }
}
