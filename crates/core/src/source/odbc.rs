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
//! lets the driver fill batch n+1 while batch n is converted.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow_odbc::odbc_api::{self, Connection, ConnectionOptions, ResultSetMetadata};
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
}

impl Default for OdbcReadOptions {
    fn default() -> Self {
        OdbcReadOptions {
            max_rows_per_batch: 65_535,
            max_bytes_per_batch: 64 << 20,
            max_text_bytes: 1 << 20,
            max_binary_bytes: 1 << 20,
            concurrent_fetch: true,
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
    if let odbc_api::Error::TooLargeValueForBuffer { buffer_index, .. } = error {
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

enum Batches {
    Sequential(OdbcReader<OwnedCursor>),
    Concurrent(ConcurrentOdbcReader<OwnedCursor>),
}

impl Batches {
    fn next(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        match self {
            Batches::Sequential(reader) => reader.next(),
            Batches::Concurrent(reader) => reader.next(),
        }
    }
}

/// Streams one SELECT over ODBC as batches of the catalog schema.
pub struct OdbcBatchReader {
    batches: Batches,
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
            Batches::Concurrent(concurrent)
        } else {
            Batches::Sequential(reader)
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
        match self.batches.next() {
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
    fn unsupported_arrow_types_name_the_column() {
        let schema = Schema::new(vec![Field::new("big", DataType::LargeUtf8, true)]);
        let err = check_supported(&schema, "s.t").expect_err("unsupported");
        assert!(err.to_string().contains("`big`"), "{err}");
        assert!(!err.is_retryable());
    }
}
