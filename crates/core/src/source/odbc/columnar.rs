//! The columnar fetch: describe the statement, measure its long columns with the dialect's
//! length probe, and size the bound buffers to fit (see `buffers`).

use arrow::datatypes::{DataType, Schema};
use arrow_odbc::odbc_api::{self, Connection, Cursor, ResultSetMetadata};
use config_schema::SourcePlatform;

use super::buffers::{plan_buffers, transit_buffer, BufferSizes, DeclaredColumn};
use super::error::statement_error;
use super::options::OdbcReadOptions;
use super::row_by_row::get;
use crate::source::dialect::Dialect;
use crate::source::extract_error::ExtractError;
use crate::source::value_limits::ValueKind;

/// Describes the statement, measures its long text and binary columns over the same rows, and
/// plans the transit buffers; fails before any row is fetched when a value is above its limit.
pub(super) fn size_buffers(
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
