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
//! [`OdbcReadOptions::max_bytes_per_batch`]. Text and binary columns the driver declares
//! unbounded or very long (`text`, `bytea`, `varchar(max)`: more than [`LONG_VALUE_BYTES`]) are
//! measured first: one aggregate query over the partition's own SELECT returns the longest value
//! of each such column (PostgreSQL computes `octet_length` from the value header, without
//! reading the value), and the buffers are sized to that, so a `text` column of short strings
//! fetches in batches as large as a `varchar(n)` column of the same data. A value above
//! `max_value_bytes` (or Snowflake's VARCHAR/BINARY limit) fails the task before any row is
//! fetched, with an error naming the column, the limit and the setting; a value that grew
//! between the measurement and the fetch fails the attempt (retried), never a silent
//! truncation. With `concurrent_fetch` a second buffer lets the driver fill batch n+1 while
//! batch n is converted (off by default: the pipeline already overlaps fetching with Parquet
//! encoding, see `bench/RESULTS.md`).
//!
//! Text is fetched as UTF-8 (`SQL_C_CHAR`) from drivers that deliver UTF-8 whatever the locale
//! (psqlODBC Unicode, SQLite, Teradata with `CharacterSet=UTF8`) and as UTF-16 (`SQL_C_WCHAR`)
//! from SQL Server, whose driver converts narrow text to the client locale's code page (under
//! `LANG=C` every non-ASCII character would become `?`).

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

use arrow_odbc::odbc_api::buffers::BufferDesc;
use config_schema::SourcePlatform;

use super::connection_string::ConnectionString;
use super::dialect::Dialect;
use super::extract_error::ExtractError;
use super::pipeline::BatchReader;
use super::sqlstate;
use super::value_limits::{ValueKind, ValueLimits};
use crate::decimal;

type OwnedCursor = odbc_api::OwnedCursor<Connection<'static>>;

/// Limits of the ODBC transit buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdbcReadOptions {
    pub max_rows_per_batch: usize,
    /// Upper bound of one transit buffer (two with `concurrent_fetch`).
    pub max_bytes_per_batch: usize,
    /// `[application] max_value_bytes`: the largest text (UTF-8 bytes) or binary value read.
    pub max_value_bytes: usize,
    pub concurrent_fetch: bool,
    pub fetch: OdbcFetch,
    pub text: OdbcText,
    /// The source platform, for the SQL that measures long columns. `None`: long columns are not
    /// measured and their buffers take `max_value_bytes` per row (correct, but few rows per
    /// fetch).
    pub platform: Option<SourcePlatform>,
}

/// Columns the driver declares longer than this (or not at all) are measured before the fetch.
pub const LONG_VALUE_BYTES: usize = 8192;

/// How text leaves the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdbcText {
    /// UTF-8 bytes (`SQL_C_CHAR`): exact where the driver always produces UTF-8.
    Narrow,
    /// UTF-16 (`SQL_C_WCHAR`): defined by ODBC as Unicode, independent of the client locale.
    Wide,
}

impl OdbcText {
    /// SQL Server's driver converts `SQL_C_CHAR` data to the process locale's code page, so it
    /// is read wide; every other supported driver delivers UTF-8 narrow, which is faster.
    pub fn for_platform(platform: SourcePlatform) -> OdbcText {
        match platform {
            SourcePlatform::Sqlserver => OdbcText::Wide,
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Teradata
            | SourcePlatform::Sqlite => OdbcText::Narrow,
        }
    }

    fn encoding(self) -> TextEncoding {
        match self {
            OdbcText::Narrow => TextEncoding::Utf8,
            OdbcText::Wide => TextEncoding::Utf16,
        }
    }
}

/// How values leave the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdbcFetch {
    /// Bound column buffers, many rows per call (fast). Text and binary buffers are as wide as
    /// the driver declares the column, or as the longest value measured for long columns.
    Columnar,
    /// One row at a time, long values fetched in pieces (`SQLGetData`), so no value is ever too
    /// long. For drivers whose declared lengths do not bound the data: SQLite declares `TEXT` as
    /// 65,536 characters and `BLOB` as 255 bytes yet stores values of any length.
    RowByRow,
}

impl OdbcFetch {
    /// The safe default for a platform (SQLite enforces no lengths; every other platform does).
    pub fn for_platform(platform: SourcePlatform) -> OdbcFetch {
        match platform {
            SourcePlatform::Sqlite => OdbcFetch::RowByRow,
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Sqlserver
            | SourcePlatform::Teradata => OdbcFetch::Columnar,
        }
    }
}

impl Default for OdbcReadOptions {
    fn default() -> Self {
        OdbcReadOptions {
            max_rows_per_batch: 65_535,
            max_bytes_per_batch: 64 << 20,
            max_value_bytes: ValueLimits::default().max_value_bytes,
            // Measured on the benchmark table: the pipeline already encodes Parquet on its own
            // thread, so a second fetch buffer only costs memory (+30 MB) and was 4 % slower.
            concurrent_fetch: false,
            fetch: OdbcFetch::Columnar,
            text: OdbcText::Narrow,
            platform: None,
        }
    }
}

impl OdbcReadOptions {
    /// The defaults with the fetch mode, text encoding and length probe of `platform`.
    pub fn for_platform(platform: SourcePlatform) -> Self {
        OdbcReadOptions::default().with_platform(platform)
    }

    /// These options with the fetch mode, text encoding and length probe of `platform`.
    pub fn with_platform(self, platform: SourcePlatform) -> Self {
        OdbcReadOptions {
            fetch: OdbcFetch::for_platform(platform),
            text: OdbcText::for_platform(platform),
            platform: Some(platform),
            ..self
        }
    }

    fn limits(&self) -> ValueLimits {
        ValueLimits::new(self.max_value_bytes)
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
    let rejected = sqlstate::is_login_rejection(&state)
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

/// Classifies an error raised while executing or fetching. `buffers` are the transit buffer
/// sizes (text, binary) the fetch used.
fn statement_error(
    table: &str,
    schema: &Schema,
    error: &odbc_api::Error,
    options: &OdbcReadOptions,
    buffers: BufferSizes,
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
        let (kind, buffer, length) = match schema.fields().get(*buffer_index).map(|f| f.data_type())
        {
            Some(DataType::Binary) => (ValueKind::Binary, buffers.binary, *indicator),
            // The indicator of a wide buffer counts bytes of UTF-16.
            _ if options.text == OdbcText::Wide => {
                (ValueKind::Text, buffers.text, indicator.map(|n| n / 2))
            }
            _ => (ValueKind::Text, buffers.text, *indicator),
        };
        let limits = options.limits();
        let limit = limits.limit(kind);
        if length.map_or(buffer >= limit, |n| n > limit) {
            return limits.error(table, &column, kind, length);
        }
        // Below the limit but longer than the measured maximum: the row changed in between.
        return ExtractError::ValueGrew {
            table: table.to_string(),
            column,
            measured: buffer,
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
    let retryable = sqlstate::is_retryable(&state);
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
    buffers: BufferSizes,
}

/// The largest text (UTF-8 bytes, or UTF-16 units when wide) and binary (bytes) transit
/// buffer per value: arrow-odbc gives each column its declared size capped by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    pub text: usize,
    pub binary: usize,
}

impl BufferSizes {
    /// Buffers as large as the limits allow (long columns not measured).
    fn at_limits(limits: &ValueLimits) -> BufferSizes {
        BufferSizes {
            text: limits.limit(ValueKind::Text),
            binary: limits.limit(ValueKind::Binary),
        }
    }
}

/// What the driver declares for one result column and, for long columns, the longest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredColumn {
    /// Text or binary; `None` for fixed-size columns (their buffers do not depend on lengths).
    pub kind: Option<ValueKind>,
    /// The buffer the declared type needs per value, in the unit of [`BufferSizes`]; `None`
    /// when the driver declares no length.
    pub declared: Option<usize>,
    /// A national (`W...`) SQL type: lengths measured in bytes are twice the UTF-16 units.
    pub national: bool,
    pub longest: Longest,
}

/// The measured longest value of a long column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Longest {
    /// Declared short enough to be buffered at its declared size.
    NotLong,
    /// Long, not measured: buffered at the limit.
    Unmeasured,
    /// Long, and its longest value in the partition (0: no value or only NULLs).
    Measured(usize),
}

impl DeclaredColumn {
    /// Reads the declaration of a column of Arrow type `data_type` from the driver's SQL type.
    pub fn from_sql_type(
        data_type: &DataType,
        sql_type: odbc_api::DataType,
        display_size: Option<usize>,
        text: OdbcText,
    ) -> DeclaredColumn {
        let national = matches!(
            sql_type,
            odbc_api::DataType::WVarchar { .. }
                | odbc_api::DataType::WChar { .. }
                | odbc_api::DataType::WLongVarchar { .. }
        );
        let (kind, declared) = match data_type {
            DataType::Utf8 => {
                let len = match text {
                    OdbcText::Narrow => sql_type.utf8_len(),
                    OdbcText::Wide => sql_type.utf16_len(),
                };
                (Some(ValueKind::Text), len.map(|n| n.get()).or(display_size))
            }
            DataType::Binary => (
                Some(ValueKind::Binary),
                sql_type.column_size().map(|n| n.get()),
            ),
            _ => (None, None),
        };
        let longest = match (kind, declared) {
            (None, _) => Longest::NotLong,
            (Some(_), Some(n)) if n <= LONG_VALUE_BYTES => Longest::NotLong,
            _ => Longest::Unmeasured,
        };
        DeclaredColumn {
            kind,
            declared,
            national,
            longest,
        }
    }

    fn is_long(&self) -> bool {
        self.longest != Longest::NotLong
    }

    /// Records a measured length, in bytes as the probe reports it: UTF-8 bytes of text (an
    /// upper bound of its UTF-16 units too: no character takes more units than UTF-8 bytes) or
    /// bytes of binary. `utf16_bytes`: the probe counted UTF-16 bytes (SQL Server's `DATALENGTH`
    /// of a national column), two per unit.
    fn measured(self, length: Option<usize>, text: OdbcText, utf16_bytes: bool) -> DeclaredColumn {
        let length = length.unwrap_or(0);
        let length = if utf16_bytes
            && self.national
            && text == OdbcText::Wide
            && self.kind == Some(ValueKind::Text)
        {
            length.div_ceil(2)
        } else {
            length
        };
        DeclaredColumn {
            longest: Longest::Measured(length),
            ..self
        }
    }
}

/// Sizes the transit buffers from the declared and measured lengths: each kind's buffer is as
/// large as its largest need, so every declared-short column keeps its declared size and every
/// long column holds its longest value. A measured value above the limit is an error
/// `(column index, kind, length)`.
pub fn plan_buffers(
    columns: &[DeclaredColumn],
    limits: &ValueLimits,
) -> Result<BufferSizes, (usize, ValueKind, usize)> {
    let mut sizes = BufferSizes { text: 1, binary: 1 };
    for (index, column) in columns.iter().enumerate() {
        let Some(kind) = column.kind else {
            continue;
        };
        let limit = limits.limit(kind);
        let need = match column.longest {
            Longest::NotLong => column.declared.unwrap_or(limit).min(limit),
            Longest::Unmeasured => limit,
            Longest::Measured(length) if length > limit => return Err((index, kind, length)),
            Longest::Measured(length) => length,
        };
        match kind {
            ValueKind::Text => sizes.text = sizes.text.max(need),
            ValueKind::Binary => sizes.binary = sizes.binary.max(need),
        }
    }
    Ok(sizes)
}

/// The buffer arrow-odbc binds for a column with these sizes: wide (`SQL_C_WCHAR`) or narrow
/// text, or binary, as long as the declaration but at most the planned size.
pub fn transit_buffer(
    column: &DeclaredColumn,
    sizes: BufferSizes,
    text: OdbcText,
) -> Option<BufferDesc> {
    let capped = |max: usize| column.declared.map_or(max, |declared| declared.min(max));
    Some(match column.kind? {
        ValueKind::Text => match text {
            OdbcText::Narrow => BufferDesc::Text {
                max_str_len: capped(sizes.text),
            },
            OdbcText::Wide => BufferDesc::WText {
                max_str_len: capped(sizes.text),
            },
        },
        ValueKind::Binary => BufferDesc::Binary {
            max_bytes: capped(sizes.binary),
        },
    })
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
        let limits = options.limits();
        let buffers = match options.fetch {
            OdbcFetch::Columnar => size_buffers(&connection, select_sql, &schema, table, &options)?,
            OdbcFetch::RowByRow => BufferSizes::at_limits(&limits),
        };
        let mut cursor = connection
            .into_cursor(select_sql, (), None)
            .map_err(|e| statement_error(table, &schema, &e.error, &options, buffers))?
            .ok_or_else(|| ExtractError::InvalidRequest {
                table: table.to_string(),
                message: "the extraction statement returned no result set".into(),
            })?;
        let columns = cursor
            .num_result_cols()
            .map_err(|e| statement_error(table, &schema, &e, &options, buffers))?;
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
                buffers,
            });
        }
        let reader = OdbcReaderBuilder::new()
            .with_schema(Arc::new(fetch_schema(&schema)))
            .with_max_num_rows_per_batch(options.max_rows_per_batch.max(1))
            .with_max_bytes_per_batch(options.max_bytes_per_batch.max(1))
            .with_max_text_size(buffers.text.max(1))
            .with_max_binary_size(buffers.binary.max(1))
            .with_payload_text_encoding(options.text.encoding())
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
            buffers,
        })
    }

    fn arrow_error(&self, error: ArrowError) -> ExtractError {
        if let ArrowError::ExternalError(inner) = &error {
            if let Some(odbc) = inner.downcast_ref::<odbc_api::Error>() {
                return statement_error(
                    &self.table,
                    &self.schema,
                    odbc,
                    &self.options,
                    self.buffers,
                );
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

/// Describes the statement, measures its long text and binary columns over the same rows, and
/// plans the transit buffers; fails before any row is fetched when a value is above its limit.
fn size_buffers(
    connection: &Connection<'static>,
    select_sql: &str,
    schema: &Schema,
    table: &str,
    options: &OdbcReadOptions,
) -> Result<BufferSizes, ExtractError> {
    let limits = options.limits();
    let unsized_buffers = BufferSizes::at_limits(&limits);
    let failed = |e: odbc_api::Error| statement_error(table, schema, &e, options, unsized_buffers);
    let mut columns = {
        let mut prepared = connection.prepare(select_sql).map_err(failed)?;
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (index, field) in schema.fields().iter().enumerate() {
            let col = index as u16 + 1;
            if !matches!(field.data_type(), DataType::Utf8 | DataType::Binary) {
                columns.push(DeclaredColumn::from_sql_type(
                    field.data_type(),
                    odbc_api::DataType::Unknown,
                    None,
                    options.text,
                ));
                continue;
            }
            let sql_type = prepared.col_data_type(col).map_err(failed)?;
            let display_size = prepared
                .col_display_size(col)
                .map_err(failed)?
                .map(|n| n.get());
            columns.push(DeclaredColumn::from_sql_type(
                field.data_type(),
                sql_type,
                display_size,
                options.text,
            ));
        }
        columns
    };
    let long: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].is_long())
        .collect();
    if let (false, Some(platform)) = (long.is_empty(), options.platform) {
        let probed: Vec<(String, bool)> = long
            .iter()
            .map(|&i| {
                (
                    schema.field(i).name().clone(),
                    columns[i].kind == Some(ValueKind::Binary),
                )
            })
            .collect();
        let sql = Dialect::new(platform).value_length_probe(select_sql, &probed);
        let lengths = longest_values(connection, &sql, long.len()).map_err(failed)?;
        for (&index, length) in long.iter().zip(lengths) {
            columns[index] = columns[index].measured(
                length,
                options.text,
                platform == SourcePlatform::Sqlserver,
            );
        }
    }
    let sizes = plan_buffers(&columns, &limits).map_err(|(index, kind, length)| {
        limits.error(table, schema.field(index).name(), kind, Some(length))
    })?;
    let buffers: Vec<_> = columns
        .iter()
        .filter_map(|c| transit_buffer(c, sizes, options.text))
        .collect();
    tracing::debug!(
        table,
        ?sizes,
        ?buffers,
        long_columns = long.len(),
        "odbc transit buffers"
    );
    Ok(sizes)
}

/// Runs the length probe: one row of `count` lengths (NULL: no value).
fn longest_values(
    connection: &Connection<'static>,
    sql: &str,
    count: usize,
) -> Result<Vec<Option<usize>>, odbc_api::Error> {
    let mut lengths = vec![None; count];
    let Some(mut cursor) = connection.execute(sql, (), None)? else {
        return Ok(lengths);
    };
    if let Some(mut row) = cursor.next_row()? {
        for (index, length) in lengths.iter_mut().enumerate() {
            *length =
                get::<i64>(&mut row, index as u16 + 1)?.map(|n| usize::try_from(n).unwrap_or(0));
        }
    }
    Ok(lengths)
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
                        self.buffers,
                    ))
                }
                Err(RowError::TooLong {
                    column,
                    kind,
                    length,
                }) => {
                    return Err(self.options.limits().error(
                        &self.table,
                        self.schema.field(column).name(),
                        kind,
                        Some(length),
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
/// pieces, so nothing is sized from the driver's declared lengths. Values above the limits
/// fail the task.
struct RowByRow {
    cursor: OwnedCursor,
    columns: Vec<RowColumn>,
    scratch: Vec<u8>,
    wide_scratch: Vec<u16>,
    text: OdbcText,
    limits: ValueLimits,
}

enum RowError {
    Odbc(odbc_api::Error),
    Value {
        column: usize,
        message: String,
    },
    TooLong {
        column: usize,
        kind: ValueKind,
        length: usize,
    },
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
        options: &OdbcReadOptions,
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
            wide_scratch: Vec::new(),
            text: options.text,
            limits: options.limits(),
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
                let mut scratch = Scratch {
                    bytes: &mut self.scratch,
                    wide: &mut self.wide_scratch,
                    text: self.text,
                    limits: &self.limits,
                };
                bytes += column.append(&mut row, index, &mut scratch)?;
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

/// The reusable buffers of one row-by-row fetch and what bounds them.
struct Scratch<'a> {
    bytes: &'a mut Vec<u8>,
    wide: &'a mut Vec<u16>,
    text: OdbcText,
    limits: &'a ValueLimits,
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
        buffers: &mut Scratch<'_>,
    ) -> Result<usize, RowError> {
        let too_long = |kind: ValueKind, length: usize| RowError::TooLong {
            column: index,
            kind,
            length,
        };
        let limits = *buffers.limits;
        let text_mode = buffers.text;
        let scratch: &mut Vec<u8> = buffers.bytes;
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
                    b.append_value(
                        decimal::parse_unscaled(text.trim(), *scale).map_err(value_error)?,
                    );
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
                let present = match text_mode {
                    OdbcText::Narrow => row.get_text(col, scratch)?,
                    OdbcText::Wide => {
                        let present = row.get_wide_text(col, buffers.wide)?;
                        if present {
                            let text = String::from_utf16(buffers.wide).map_err(|e| {
                                value_error(format!("text is not valid UTF-16: {e}"))
                            })?;
                            scratch.clear();
                            scratch.extend_from_slice(text.as_bytes());
                        }
                        present
                    }
                };
                if present {
                    if scratch.len() > limits.limit(ValueKind::Text) {
                        return Err(too_long(ValueKind::Text, scratch.len()));
                    }
                    let text = std::str::from_utf8(scratch)
                        .map_err(|e| value_error(format!("text is not valid UTF-8: {e}")))?;
                    b.append_value(text);
                    return Ok(scratch.len());
                }
                b.append_null();
            }
            RowColumn::Binary(b) => {
                if row.get_binary(col, scratch)? {
                    if scratch.len() > limits.limit(ValueKind::Binary) {
                        return Err(too_long(ValueKind::Binary, scratch.len()));
                    }
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
    parse_float(&text)
        .map(Some)
        .map_err(|message| RowError::Value {
            column: usize::MAX,
            message,
        })
}

/// Parses a double from its decimal text, optionally scaled by a power of two: `<digits>*2^<n>`
/// (the form `sqlite_exact_real` selects for large magnitudes). Both steps are exact: the
/// decimal parse rounds correctly and a power of two only moves the exponent.
fn parse_float(text: &str) -> Result<f64, String> {
    let not_a_number = || format!("`{text}` is not a number");
    let text = text.trim();
    let (digits, exponent) = match text.split_once("*2^") {
        Some((digits, exponent)) => (digits, exponent.parse::<i32>().map_err(|_| not_a_number())?),
        None => (text, 0),
    };
    let value = digits.parse::<f64>().map_err(|_| not_a_number())?;
    if exponent == 0 {
        return Ok(value);
    }
    if !(1..=1023).contains(&exponent) {
        return Err(not_a_number());
    }
    // 2^exponent built from its bits: exact, unlike a pow() that may round.
    let scale = f64::from_bits(((1023 + exponent) as u64) << 52);
    Ok(value * scale)
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
    fn float_text_parses_exactly_also_when_scaled_by_a_power_of_two() {
        assert_eq!(parse_float(" 0.30000000000000004 "), Ok(0.1 + 0.2));
        assert_eq!(parse_float("4.9406564584124654e-324"), Ok(5e-324));
        assert_eq!(parse_float("-Inf"), Ok(f64::NEG_INFINITY));
        // f64::MAX / 2^806, as SQLite prints it, and back.
        let scaled = f64::MAX / f64::from_bits((1023 + 806) << 52);
        let text = format!("{scaled:e}*2^806");
        assert_eq!(parse_float(&text), Ok(f64::MAX));
        assert_eq!(parse_float("-1.5*2^806").map(f64::is_finite), Ok(true));
        assert!(parse_float("1.5*2^2000").is_err());
        assert!(parse_float("abc").unwrap_err().contains("`abc`"));
    }

    fn nz(n: usize) -> Option<std::num::NonZeroUsize> {
        std::num::NonZeroUsize::new(n)
    }

    #[test]
    fn sql_server_text_is_fetched_wide_so_no_locale_can_touch_it() {
        let options = OdbcReadOptions::for_platform(SourcePlatform::Sqlserver);
        assert_eq!(options.text, OdbcText::Wide);
        assert_eq!(options.text.encoding(), TextEncoding::Utf16);
        // nvarchar(50) and nvarchar(max) as ODBC Driver 18 describes them; DATALENGTH of the
        // latter counts two bytes per UTF-16 unit.
        let nvarchar = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::WVarchar { length: nz(50) },
            None,
            options.text,
        );
        let nvarchar_max = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::WLongVarchar { length: None },
            None,
            options.text,
        )
        .measured(Some(600), options.text, true);
        let sizes = plan_buffers(&[nvarchar, nvarchar_max], &options.limits()).expect("fits");
        assert_eq!(
            transit_buffer(&nvarchar, sizes, options.text),
            Some(BufferDesc::WText { max_str_len: 100 }),
            "SQL_C_WCHAR, two UTF-16 units per character"
        );
        assert_eq!(
            transit_buffer(&nvarchar_max, sizes, options.text),
            Some(BufferDesc::WText { max_str_len: 300 })
        );
        // Every other platform reads UTF-8 (its drivers deliver UTF-8 whatever the locale).
        for platform in [
            SourcePlatform::Postgresql,
            SourcePlatform::Redshift,
            SourcePlatform::Teradata,
            SourcePlatform::Sqlite,
        ] {
            assert_eq!(
                OdbcText::for_platform(platform),
                OdbcText::Narrow,
                "{platform}"
            );
        }
        let narrow = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::Varchar { length: nz(50) },
            None,
            OdbcText::Narrow,
        );
        assert_eq!(
            transit_buffer(
                &narrow,
                BufferSizes {
                    text: 200,
                    binary: 1
                },
                OdbcText::Narrow
            ),
            Some(BufferDesc::Text { max_str_len: 200 })
        );
    }

    #[test]
    fn long_columns_are_buffered_at_their_measured_length() {
        let limits = ValueLimits::default();
        let text = |sql_type| {
            DeclaredColumn::from_sql_type(&DataType::Utf8, sql_type, None, OdbcText::Narrow)
        };
        // psqlODBC: `text` as LongVarchar(MaxLongVarcharSize), varchar(20), bytea unbounded.
        let long_text = text(odbc_api::DataType::LongVarchar {
            length: nz(1 << 20),
        });
        assert_eq!(long_text.longest, Longest::Unmeasured);
        let short = text(odbc_api::DataType::Varchar { length: nz(20) });
        assert_eq!(short.longest, Longest::NotLong);
        let bytea = DeclaredColumn::from_sql_type(
            &DataType::Binary,
            odbc_api::DataType::LongVarbinary { length: None },
            None,
            OdbcText::Narrow,
        );
        let id = DeclaredColumn::from_sql_type(
            &DataType::Int64,
            odbc_api::DataType::BigInt,
            None,
            OdbcText::Narrow,
        );
        let columns = [
            id,
            short,
            long_text.measured(Some(37), OdbcText::Narrow, false),
            bytea.measured(None, OdbcText::Narrow, false),
        ];
        assert_eq!(
            plan_buffers(&columns, &limits),
            Ok(BufferSizes {
                text: 80,
                binary: 1
            }),
            "the bounded varchar(20) needs 80 bytes, more than the longest text (37)"
        );
        // Unmeasured long columns take the limit; measured ones above it are refused.
        assert_eq!(
            plan_buffers(&[long_text], &ValueLimits::new(4096)),
            Ok(BufferSizes {
                text: 4096,
                binary: 1
            })
        );
        let too_long = [long_text.measured(Some(5000), OdbcText::Narrow, false)];
        assert_eq!(
            plan_buffers(&too_long, &ValueLimits::new(4096)),
            Err((0, ValueKind::Text, 5000))
        );
        let huge_binary = [bytea.measured(Some(9 << 20), OdbcText::Narrow, false)];
        assert_eq!(
            plan_buffers(&huge_binary, &limits),
            Err((0, ValueKind::Binary, 9 << 20)),
            "Snowflake's 8 MiB BINARY limit applies even under a 16 MiB cap"
        );
    }

    #[test]
    fn truncated_values_name_the_limit_or_are_retried() {
        let schema = Schema::new(vec![Field::new("t", DataType::Utf8, true)]);
        let options = OdbcReadOptions {
            max_value_bytes: 4096,
            ..OdbcReadOptions::for_platform(SourcePlatform::Postgresql)
        };
        let buffers = BufferSizes {
            text: 100,
            binary: 1,
        };
        let truncated = |indicator| odbc_api::Error::TooLargeValueForBuffer {
            indicator,
            buffer_index: 0,
        };
        let over = statement_error("s.t", &schema, &truncated(Some(5000)), &options, buffers);
        assert!(
            matches!(over, ExtractError::ValueTooLong { limit: 4096, .. }),
            "{over}"
        );
        let grew = statement_error("s.t", &schema, &truncated(Some(200)), &options, buffers);
        assert!(matches!(grew, ExtractError::ValueGrew { .. }), "{grew}");
        assert!(grew.is_retryable());
        let at_limit = BufferSizes {
            text: 4096,
            binary: 1,
        };
        let unknown = statement_error("s.t", &schema, &truncated(None), &options, at_limit);
        assert!(
            matches!(unknown, ExtractError::ValueTooLong { .. }),
            "{unknown}"
        );
    }

    #[test]
    fn decimal_text_parses_exactly() {
        assert_eq!(
            decimal::parse_unscaled("-123.450", 4).ok(),
            Some(-1_234_500)
        );
        assert_eq!(
            decimal::parse_unscaled("99999999999999999999999999999.999999999", 9).ok(),
            Some(99_999_999_999_999_999_999_999_999_999_999_999_999)
        );
        assert_eq!(decimal::parse_unscaled("7", 0).ok(), Some(7));
        assert!(decimal::parse_unscaled("1.23", 1).is_err(), "no rounding");
        assert!(decimal::parse_unscaled("abc", 2).is_err());
        assert!(decimal::parse_unscaled("", 2).is_err());
    }

    #[test]
    fn unsupported_arrow_types_name_the_column() {
        let schema = Schema::new(vec![Field::new("big", DataType::LargeUtf8, true)]);
        let err = check_supported(&schema, "s.t").expect_err("unsupported");
        assert!(err.to_string().contains("`big`"), "{err}");
        assert!(!err.is_retryable());
    }
}
