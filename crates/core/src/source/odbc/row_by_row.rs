//! The row-by-row fetch (`SQLGetData`), for drivers whose declared lengths do not bound their
//! values: each value arrives whole, in pieces, into Arrow builders.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder, UInt8Builder,
};
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use arrow_odbc::odbc_api::{self, Bit, Connection, Cursor, CursorRow, Nullable};

use super::fetch_schema::fetch_schema_ref;
use super::options::{OdbcReadOptions, OdbcText};
use crate::decimal;
use crate::source::extract_error::ExtractError;
use crate::source::value_limits::{ValueKind, ValueLimits};

type OwnedCursor = odbc_api::OwnedCursor<Connection<'static>>;

/// Row-at-a-time fetching with `SQLGetData`: text and binary values of any length arrive in
/// pieces, so nothing is sized from the driver's declared lengths. Values above the limits
/// fail the task.
pub(super) struct RowByRow {
    cursor: OwnedCursor,
    columns: Vec<RowColumn>,
    scratch: Vec<u8>,
    wide_scratch: Vec<u16>,
    text: OdbcText,
    limits: ValueLimits,
}

pub(super) enum RowError {
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
    pub(super) fn new(
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

    pub(super) fn next_batch(
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
pub(super) fn get<T>(row: &mut CursorRow<'_>, col: u16) -> Result<Option<T>, odbc_api::Error>
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
}
