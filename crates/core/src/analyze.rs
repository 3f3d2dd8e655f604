//! The I/O of the `analyze` task: run the dialect's catalog queries (columns, primary key,
//! row count and size) on the source, then the probe queries the pure planner asks for
//! (boundaries, numeric profile, out-of-range check), and hand everything to
//! [`build_table_plan`].
//!
//! It sits above both `source` (the connections and dialects) and `plan` (the pure planner),
//! so that the planner can use the dialects without the source module depending on it.
//!
//! The source is reached through the same connection code the extraction pipeline uses: the
//! `postgres` crate for [`SourceSpec::PostgresNative`], ODBC for [`SourceSpec::Odbc`]. Catalog
//! lookups bind the table's names as parameters; the boundary query is read through the same
//! Arrow readers as an extraction, so its values have exactly the types the extraction
//! predicates compare against.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_odbc::odbc_api::buffers::TextRowSet;
use arrow_odbc::odbc_api::{Connection, Cursor, IntoParameter};
use config_schema::workflow::{Extraction, TableConfig};
use config_schema::SourcePlatform;
use postgres::types::ToSql;

use crate::plan::boundary_rows::boundary_rows_from_batch;
use crate::plan::{
    build_table_plan, prepare_analysis, BoundaryRow, ExtractionStrategy, NameMapping,
    PartitionSize, PlanError, PlanInput, Probes, TableOptions, TablePlan, TypeMapping,
};
use crate::source::catalog::{numbered_placeholders, CatalogQuery, TableRef, TableStats};
use crate::source::dialect::{
    source_column, CatalogColumnRow, ColumnKind, Dialect, NumericProfile, TypedColumn,
};
use crate::source::extract::{BatchReader, ExtractError, SourceSpec};
use crate::source::odbc::{self, OdbcReadOptions};
use crate::source::postgres_native;
use crate::source::sqlstate;

/// Rows fetched per round trip by catalog queries over ODBC.
const CATALOG_BATCH_ROWS: usize = 256;
/// Largest text value a catalog query returns (type names, column names).
const CATALOG_MAX_TEXT: usize = 4096;

/// Why a table could not be analyzed. Every variant names the table.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// Connecting to or reading from the source failed (carries its own retry decision).
    #[error(transparent)]
    Source(#[from] ExtractError),
    #[error("table `{table}` does not exist on the source (its catalog lists no columns): check `databaseName`, `schemaName` and `tableName`, and quote names that are case-sensitive")]
    TableNotFound { table: String },
    #[error("{query} query on table `{table}` failed: {message}{}", if *retryable { " (will be retried)" } else { "" })]
    Catalog {
        table: String,
        query: &'static str,
        message: String,
        retryable: bool,
    },
    #[error("{query} query on table `{table}` returned an unexpected result: {message}")]
    UnexpectedResult {
        table: String,
        query: &'static str,
        message: String,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("table `{table}` is configured for the `{strategy}` extraction strategy, which this worker does not run: use the regular strategy")]
    UnsupportedStrategy {
        table: String,
        strategy: &'static str,
    },
}

impl AnalyzeError {
    /// May analyzing again succeed without anyone changing anything?
    pub fn is_retryable(&self) -> bool {
        match self {
            AnalyzeError::Source(error) => error.is_retryable(),
            AnalyzeError::Catalog { retryable, .. } => *retryable,
            AnalyzeError::TableNotFound { .. }
            | AnalyzeError::UnexpectedResult { .. }
            | AnalyzeError::Plan(_)
            | AnalyzeError::UnsupportedStrategy { .. } => false,
        }
    }
}

/// The table reference and planning options of one workflow table.
pub fn plan_request(table: &TableConfig) -> Result<(TableRef, TableOptions), AnalyzeError> {
    let source = &table.source;
    let table_ref = TableRef::parse(
        &source.database_name,
        &source.schema_name,
        &source.table_name,
    );
    let extraction_strategy = match &table.extraction {
        Extraction::Regular => ExtractionStrategy::Regular,
        Extraction::Unload { .. } => {
            return Err(AnalyzeError::UnsupportedStrategy {
                table: table_ref.display_name(),
                strategy: "unload",
            })
        }
    };
    let partition_size = match table.partition_size {
        config_schema::workflow::PartitionSize::Auto => PartitionSize::Auto,
        config_schema::workflow::PartitionSize::TargetSizeMb(mb) => PartitionSize::TargetSizeMb(mb),
        config_schema::workflow::PartitionSize::MaxRowsPerPartition(rows) => {
            PartitionSize::MaxRowsPerPartition(rows)
        }
    };
    let options = TableOptions {
        partition_columns: table.column_names_to_partition_by.clone(),
        primary_key_columns: table.primary_key_columns.clone(),
        column_type_mappings: table
            .column_type_mappings
            .iter()
            .map(|m| TypeMapping {
                source_type: m.source_type.clone(),
                target_type: m.target_type.clone(),
            })
            .collect(),
        column_name_mappings: table
            .column_name_mappings
            .iter()
            .map(|m| NameMapping {
                source_name: m.source_name.clone(),
                target_name: m.target_name.clone(),
            })
            .collect(),
        partition_size,
        extraction_strategy,
        where_clause: table.where_clause_criteria.clone(),
    };
    Ok((table_ref, options))
}

/// Analyzes one table on the source and plans its partitions.
pub fn analyze_table(
    source: &SourceSpec,
    platform: SourcePlatform,
    table: TableRef,
    options: TableOptions,
) -> Result<TablePlan, AnalyzeError> {
    let started = std::time::Instant::now();
    let mut client = SourceClient::connect(source)?;
    let input = read_catalog(&mut client, platform, table, options)?;
    let analysis = prepare_analysis(&input)?;
    let table_name = input.table.display_name();

    let numeric_profiles = match &analysis.numeric_profile_query {
        Some(sql) => {
            let unbounded = analysis
                .columns
                .iter()
                .filter(|c| c.column_type.kind == ColumnKind::UnboundedDecimal)
                .count();
            numeric_profiles(&mut client, sql, unbounded, &table_name)?
        }
        None => Vec::new(),
    };
    let out_of_range_counts = match &analysis.out_of_range_query {
        Some(sql) => out_of_range_counts(&mut client, sql, &table_name)?,
        None => Vec::new(),
    };
    // Last: over ODBC the boundary reader takes the connection.
    let boundary_rows = match &analysis.boundary_query {
        Some(sql) => {
            let schema = boundary_schema(&Dialect::new(platform), &analysis.keys);
            let batches = client.arrow_batches(sql, schema, &table_name)?;
            boundary_rows(&batches, &analysis.keys, &table_name)?
        }
        None => Vec::new(),
    };
    let plan = build_table_plan(
        &input,
        &Probes {
            boundary_rows,
            numeric_profiles,
            out_of_range_counts,
        },
    )?;
    tracing::info!(
        table = %table_name,
        rows = plan.stats.row_count,
        bytes = plan.stats.size_bytes,
        partitions = plan.partitions.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "table analyzed"
    );
    Ok(plan)
}

/// Columns, primary key and stats of the table; a table without columns does not exist.
fn read_catalog(
    client: &mut SourceClient,
    platform: SourcePlatform,
    table: TableRef,
    options: TableOptions,
) -> Result<PlanInput, AnalyzeError> {
    let dialect = Dialect::new(platform);
    let name = table.display_name();
    let column_rows = client.text_rows(&dialect.columns_query(&table), &name, "columns")?;
    if column_rows.is_empty() {
        return Err(AnalyzeError::TableNotFound { table: name });
    }
    let columns = column_rows
        .into_iter()
        .map(|row| catalog_column_row(&row, &name).map(|row| source_column(platform, row)))
        .collect::<Result<Vec<_>, _>>()?;
    let primary_key = client
        .text_rows(&dialect.primary_key_query(&table), &name, "primary key")?
        .into_iter()
        .map(|row| required_text(&row, 0, &name, "primary key"))
        .collect::<Result<Vec<_>, _>>()?;
    let stats_rows = client.text_rows(&dialect.stats_query(&table), &name, "stats")?;
    let stats_row = stats_rows
        .first()
        .ok_or_else(|| unexpected(&name, "stats", "no row"))?;
    let stats = TableStats {
        row_count: count(stats_row, 0, &name, "stats")?,
        size_bytes: count(stats_row, 1, &name, "stats")?,
    };
    Ok(PlanInput {
        platform,
        table,
        columns,
        primary_key,
        stats,
        options,
    })
}

fn catalog_column_row(
    row: &[Option<String>],
    table: &str,
) -> Result<CatalogColumnRow, AnalyzeError> {
    let optional_int = |index: usize| -> Result<Option<i64>, AnalyzeError> {
        match row.get(index).and_then(Option::as_deref) {
            None => Ok(None),
            Some(text) => parse_int(text)
                .map(Some)
                .ok_or_else(|| unexpected(table, "columns", format!("`{text}` is not an integer"))),
        }
    };
    Ok(CatalogColumnRow {
        column_name: required_text(row, 0, table, "columns")?,
        data_type: row.get(1).cloned().flatten().unwrap_or_default(),
        numeric_precision: optional_int(2)?,
        numeric_scale: optional_int(3)?,
        char_length: optional_int(4)?,
        is_nullable: row
            .get(5)
            .cloned()
            .flatten()
            .unwrap_or_else(|| "YES".into()),
        ordinal_position: optional_int(6)?.unwrap_or(0),
    })
}

fn numeric_profiles(
    client: &mut SourceClient,
    sql: &str,
    columns: usize,
    table: &str,
) -> Result<Vec<NumericProfile>, AnalyzeError> {
    let query = CatalogQuery {
        sql: sql.to_owned(),
        params: Vec::new(),
    };
    let rows = client.text_rows(&query, table, "numeric profile")?;
    let Some(row) = rows.first() else {
        return Ok(Vec::new());
    };
    profiles_from_row(row, columns, table)
}

/// Per column, in order: the largest scale, the largest integer-digit count and (when the
/// query reports it) the number of NaN/infinity values. NULL (an empty table) counts as 0.
fn profiles_from_row(
    row: &[Option<String>],
    columns: usize,
    table: &str,
) -> Result<Vec<NumericProfile>, AnalyzeError> {
    let width = row.len().checked_div(columns).unwrap_or(0);
    if !(2..=3).contains(&width) || !row.len().is_multiple_of(columns) {
        return Err(unexpected(
            table,
            "numeric profile",
            format!("{} values for {columns} columns", row.len()),
        ));
    }
    row.chunks(width)
        .map(|group| {
            Ok(NumericProfile {
                max_scale: small_count(group, 0, table)?,
                max_integer_digits: small_count(group, 1, table)?,
                special_values: if width == 3 {
                    count(group, 2, table, "numeric profile")?
                } else {
                    0
                },
            })
        })
        .collect()
}

fn small_count(row: &[Option<String>], index: usize, table: &str) -> Result<u32, AnalyzeError> {
    let value = count(row, index, table, "numeric profile")?;
    u32::try_from(value)
        .map_err(|_| unexpected(table, "numeric profile", format!("{value} is too large")))
}

fn out_of_range_counts(
    client: &mut SourceClient,
    sql: &str,
    table: &str,
) -> Result<Vec<u64>, AnalyzeError> {
    let query = CatalogQuery {
        sql: sql.to_owned(),
        params: Vec::new(),
    };
    let rows = client.text_rows(&query, table, "out-of-range")?;
    let Some(row) = rows.first() else {
        return Ok(Vec::new());
    };
    (0..row.len())
        .map(|i| count(row, i, table, "out-of-range"))
        .collect()
}

/// `row_num` and one column per key, typed as the boundary query selects them.
fn boundary_schema(dialect: &Dialect, keys: &[TypedColumn]) -> SchemaRef {
    let mut fields = vec![Field::new("row_num", DataType::Int64, false)];
    fields.extend(
        keys.iter()
            .enumerate()
            .map(|(i, key)| Field::new(format!("key_{i}"), dialect.key_arrow_type(key), true)),
    );
    Arc::new(Schema::new(fields))
}

fn boundary_rows(
    batches: &[RecordBatch],
    keys: &[TypedColumn],
    table: &str,
) -> Result<Vec<BoundaryRow>, AnalyzeError> {
    let mut rows = Vec::new();
    for batch in batches {
        rows.extend(
            boundary_rows_from_batch(batch, keys)
                .map_err(|message| unexpected(table, "boundary", message))?,
        );
    }
    Ok(rows)
}

fn required_text(
    row: &[Option<String>],
    index: usize,
    table: &str,
    query: &'static str,
) -> Result<String, AnalyzeError> {
    row.get(index)
        .cloned()
        .flatten()
        .ok_or_else(|| unexpected(table, query, format!("column {index} is NULL")))
}

/// A non-negative count; NULL (an empty table's estimate) counts as 0.
fn count(
    row: &[Option<String>],
    index: usize,
    table: &str,
    query: &'static str,
) -> Result<u64, AnalyzeError> {
    match row.get(index).and_then(Option::as_deref) {
        None => Ok(0),
        Some(text) => parse_int(text)
            .map(|n| u64::try_from(n).unwrap_or(0))
            .ok_or_else(|| unexpected(table, query, format!("`{text}` is not a count"))),
    }
}

/// Integers as catalogs render them: `42`, ` 42 `, `42.0` (an estimate as a float).
fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        let value = text.parse::<f64>().ok()?;
        (value.is_finite() && value.abs() < 9.0e18).then(|| value.round() as i64)
    })
}

fn unexpected(table: &str, query: &'static str, message: impl Into<String>) -> AnalyzeError {
    AnalyzeError::UnexpectedResult {
        table: table.to_owned(),
        query,
        message: message.into(),
    }
}

/// One connection to the source, by the extraction pipeline's connection code.
enum SourceClient {
    Postgres(Box<postgres::Client>),
    Odbc {
        connection: Connection<'static>,
        read: OdbcReadOptions,
    },
}

impl SourceClient {
    fn connect(source: &SourceSpec) -> Result<SourceClient, AnalyzeError> {
        Ok(match source {
            SourceSpec::PostgresNative { params, .. } => {
                SourceClient::Postgres(Box::new(postgres_native::connect(params)?))
            }
            SourceSpec::Odbc {
                connection_string,
                read,
            } => SourceClient::Odbc {
                connection: odbc::connect(connection_string)?,
                read: *read,
            },
        })
    }

    /// Runs a query with text parameters; every value rendered as text (NULL as `None`).
    fn text_rows(
        &mut self,
        query: &CatalogQuery,
        table: &str,
        what: &'static str,
    ) -> Result<Vec<Vec<Option<String>>>, AnalyzeError> {
        match self {
            SourceClient::Postgres(client) => pg_text_rows(client, query, table, what),
            SourceClient::Odbc { connection, .. } => odbc_text_rows(connection, query, table, what),
        }
    }

    /// Runs a query through the extraction readers into batches of `schema`. Consumes the
    /// client: the ODBC reader owns its connection.
    fn arrow_batches(
        self,
        sql: &str,
        schema: SchemaRef,
        table: &str,
    ) -> Result<Vec<RecordBatch>, AnalyzeError> {
        let mut batches = Vec::new();
        match self {
            SourceClient::Postgres(mut client) => {
                let mut reader =
                    postgres_native::PgCopyReader::start(client.as_mut(), sql, schema, table)?;
                while let Some(batch) = reader.next_batch()? {
                    batches.push(batch);
                }
            }
            SourceClient::Odbc { connection, read } => {
                // The boundary query returns a few hundred rows but scans the whole table:
                // read them row by row, so long text keys need neither a length probe (which
                // would run the query twice) nor buffers sized for the largest value.
                let read = OdbcReadOptions {
                    fetch: odbc::OdbcFetch::RowByRow,
                    ..read
                };
                let mut reader =
                    odbc::OdbcBatchReader::start(connection, sql, schema, table, read)?;
                while let Some(batch) = reader.next_batch()? {
                    batches.push(batch);
                }
            }
        }
        Ok(batches)
    }
}

fn pg_text_rows(
    client: &mut postgres::Client,
    query: &CatalogQuery,
    table: &str,
    what: &'static str,
) -> Result<Vec<Vec<Option<String>>>, AnalyzeError> {
    let params: Vec<&(dyn ToSql + Sync)> = query
        .params
        .iter()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect();
    let rows = client
        .query(&numbered_placeholders(&query.sql), &params)
        .map_err(|error| AnalyzeError::Catalog {
            table: table.to_owned(),
            query: what,
            retryable: error.as_db_error().is_none()
                || error
                    .code()
                    .is_some_and(|code| sqlstate::is_retryable(code.code())),
            message: match error.as_db_error() {
                Some(db) => format!("{} ({})", db.message(), db.code().code()),
                None => error.to_string(),
            },
        })?;
    Ok(rows
        .iter()
        .map(|row| (0..row.len()).map(|i| pg_text(row, i)).collect())
        .collect())
}

/// A catalog value as text, whatever its (small) SQL type.
fn pg_text(row: &postgres::Row, index: usize) -> Option<String> {
    if let Ok(value) = row.try_get::<_, Option<String>>(index) {
        return value;
    }
    if let Ok(value) = row.try_get::<_, Option<i64>>(index) {
        return value.map(|v| v.to_string());
    }
    if let Ok(value) = row.try_get::<_, Option<i32>>(index) {
        return value.map(|v| v.to_string());
    }
    if let Ok(value) = row.try_get::<_, Option<i16>>(index) {
        return value.map(|v| v.to_string());
    }
    if let Ok(value) = row.try_get::<_, Option<f64>>(index) {
        return value.map(|v| v.to_string());
    }
    if let Ok(value) = row.try_get::<_, Option<f32>>(index) {
        return value.map(|v| v.to_string());
    }
    if let Ok(value) = row.try_get::<_, Option<bool>>(index) {
        return value.map(|v| v.to_string());
    }
    None
}

fn odbc_text_rows(
    connection: &Connection<'static>,
    query: &CatalogQuery,
    table: &str,
    what: &'static str,
) -> Result<Vec<Vec<Option<String>>>, AnalyzeError> {
    let failed = |error: arrow_odbc::odbc_api::Error| AnalyzeError::Catalog {
        table: table.to_owned(),
        query: what,
        retryable: matches!(&error, arrow_odbc::odbc_api::Error::Diagnostics { record, .. }
            if sqlstate::is_retryable(record.state.as_str())),
        message: error.to_string(),
    };
    let params: Vec<_> = query
        .params
        .iter()
        .map(|p| p.as_str().into_parameter())
        .collect();
    let Some(mut cursor) = connection
        .execute(&query.sql, &params[..], None)
        .map_err(failed)?
    else {
        return Err(unexpected(table, what, "the query returned no result set"));
    };
    let buffer = TextRowSet::for_cursor(CATALOG_BATCH_ROWS, &mut cursor, Some(CATALOG_MAX_TEXT))
        .map_err(failed)?;
    let mut block = cursor.bind_buffer(buffer).map_err(failed)?;
    let mut rows = Vec::new();
    while let Some(batch) = block.fetch().map_err(failed)? {
        for r in 0..batch.num_rows() {
            let row = (0..batch.num_cols())
                .map(|c| {
                    batch
                        .at(c, r)
                        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                })
                .collect();
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_integers_parse_in_every_rendering() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int(" 7 "), Some(7));
        assert_eq!(parse_int("12.0"), Some(12));
        assert_eq!(parse_int("1e3"), Some(1000));
        assert_eq!(parse_int("abc"), None);
    }

    #[test]
    fn counts_treat_null_as_zero_and_reject_text() {
        let row = vec![None, Some("5".to_owned()), Some("x".to_owned())];
        assert_eq!(count(&row, 0, "t", "stats").unwrap(), 0);
        assert_eq!(count(&row, 1, "t", "stats").unwrap(), 5);
        let err = count(&row, 2, "t", "stats").unwrap_err().to_string();
        assert_eq!(
            err,
            "stats query on table `t` returned an unexpected result: `x` is not a count"
        );
    }

    #[test]
    fn numeric_profiles_read_pairs_or_triples() {
        let text = |v: &str| Some(v.to_owned());
        let triples = vec![text("2"), text("10"), text("1"), None, None, text("0")];
        let profiles = profiles_from_row(&triples, 2, "t").expect("two profiles");
        assert_eq!(
            profiles,
            vec![
                NumericProfile {
                    max_scale: 2,
                    max_integer_digits: 10,
                    special_values: 1
                },
                NumericProfile::default()
            ]
        );
        let pairs = vec![text("3"), text("4")];
        assert_eq!(
            profiles_from_row(&pairs, 1, "t").expect("one")[0].max_scale,
            3
        );
        assert!(profiles_from_row(&pairs, 3, "t").is_err());
    }

    #[test]
    fn error_messages_are_pinned() {
        let messages = [
            AnalyzeError::TableNotFound {
                table: "shop.public.orders".into(),
            },
            AnalyzeError::Catalog {
                table: "shop.public.orders".into(),
                query: "columns",
                message: "connection reset".into(),
                retryable: true,
            },
            AnalyzeError::UnsupportedStrategy {
                table: "dev.public.events".into(),
                strategy: "unload",
            },
        ]
        .map(|e| format!("{e} (retryable: {})", e.is_retryable()))
        .join("\n");
        insta::assert_snapshot!(messages);
    }

    #[test]
    fn missing_table_is_terminal_and_named() {
        let err = AnalyzeError::TableNotFound {
            table: "db.public.nope".into(),
        };
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("`db.public.nope`"), "{err}");
    }

    #[test]
    fn table_config_becomes_reference_and_options() {
        let json = serde_json::json!({
            "source": {"databaseName": "shop", "schemaName": "public", "tableName": "\"Orders\""},
            "target": {"databaseName": "T", "schemaName": "S", "tableName": "ORDERS"},
            "columnNamesToPartitionBy": ["id"],
            "partitionSize": {"maxRowsPerPartition": 10},
            "whereClauseCriteria": "id > 3",
            "columnNameMappings": [{"sourceName": "a", "targetName": "B"}]
        });
        let table: TableConfig = serde_json::from_value(json).expect("a valid table");
        let (table_ref, options) = plan_request(&table).expect("regular extraction");
        assert_eq!(table_ref.display_name(), "shop.public.Orders");
        assert!(table_ref.table.quoted);
        assert_eq!(options.partition_columns, vec!["id".to_string()]);
        assert_eq!(
            options.partition_size,
            PartitionSize::MaxRowsPerPartition(10)
        );
        assert_eq!(options.where_clause.as_deref(), Some("id > 3"));
        assert_eq!(options.column_name_mappings[0].target_name, "B");
    }
}
