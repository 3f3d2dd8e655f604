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

mod buffers;
mod columnar;
mod error;
mod fetch_schema;
mod options;
mod row_by_row;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{SchemaRef, TimestampMicrosecondType};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow_odbc::odbc_api::{self, Connection, ConnectionOptions, ResultSetMetadata};
use arrow_odbc::{ConcurrentOdbcReader, OdbcReader, OdbcReaderBuilder};

pub use buffers::{plan_buffers, transit_buffer, BufferSizes, DeclaredColumn, Longest};
use columnar::size_buffers;
use error::{connect_error, reader_error, statement_error};
use fetch_schema::{check_supported, fetch_schema, zoned_columns};
pub use options::{OdbcFetch, OdbcReadOptions, OdbcText, LONG_VALUE_BYTES};
use row_by_row::{RowByRow, RowError};

use super::connection_string::ConnectionString;
use super::extract_error::ExtractError;
use super::pipeline::BatchReader;

type OwnedCursor = odbc_api::OwnedCursor<Connection<'static>>;

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
