//! Reading the boundary query's result (`row_num, key_0, key_1, ...`) from Arrow into typed
//! [`BoundaryRow`]s.

use arrow::array::{
    Array, AsArray, BooleanArray, Decimal128Array, Float32Array, Float64Array, RecordBatch,
};
use arrow::datatypes::{
    DataType, Date32Type, Int16Type, Int32Type, Int64Type, Int8Type, Time64MicrosecondType,
    TimeUnit, TimestampMicrosecondType, UInt8Type,
};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta};

use super::partition_plan::BoundaryRow;
use crate::decimal;
use crate::key_range::key_value::KeyValue;
use crate::source::dialect::{ColumnKind, TypedColumn};

/// Converts one batch of the boundary query. `keys` are the key columns in key order.
pub fn boundary_rows_from_batch(
    batch: &RecordBatch,
    keys: &[TypedColumn],
) -> Result<Vec<BoundaryRow>, String> {
    if batch.num_columns() != keys.len() + 1 {
        return Err(format!(
            "boundary result has {} columns, expected row_num and {} key columns",
            batch.num_columns(),
            keys.len()
        ));
    }
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let row_number = match key_value(batch.column(0).as_ref(), row, None)? {
            KeyValue::Int(n) if n > 0 => n as u64,
            other => return Err(format!("row_num must be a positive integer, got {other:?}")),
        };
        let values = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                key_value(
                    batch.column(i + 1).as_ref(),
                    row,
                    Some(key.column_type.kind),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(BoundaryRow { row_number, values });
    }
    Ok(rows)
}

/// One Arrow value as a typed key value. A naive timestamp read for a zoned column (arrow-odbc
/// reads zoned timestamps without their zone; the session is UTC) becomes a UTC timestamp.
pub fn key_value(
    array: &dyn Array,
    row: usize,
    kind: Option<ColumnKind>,
) -> Result<KeyValue, String> {
    if array.is_null(row) {
        return Ok(KeyValue::Null);
    }
    let value = match array.data_type() {
        DataType::Boolean => KeyValue::Bool(
            array
                .as_any()
                .downcast_ref::<BooleanArray>()
                .expect("boolean array")
                .value(row),
        ),
        DataType::Int8 => KeyValue::Int(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::UInt8 => KeyValue::Int(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::Int16 => KeyValue::Int(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => KeyValue::Int(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => KeyValue::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Decimal128(_, scale) => {
            let raw = array
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .expect("decimal array")
                .value(row);
            KeyValue::decimal(&decimal::unscaled_to_text(raw, *scale))
                .ok_or_else(|| format!("decimal {raw} with scale {scale} has no exact text"))?
        }
        DataType::Float32 => float(
            array
                .as_any()
                .downcast_ref::<Float32Array>()
                .expect("float32 array")
                .value(row)
                .into(),
        )?,
        DataType::Float64 => float(
            array
                .as_any()
                .downcast_ref::<Float64Array>()
                .expect("float64 array")
                .value(row),
        )?,
        DataType::Utf8 => KeyValue::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => KeyValue::Text(array.as_string::<i64>().value(row).to_string()),
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
            KeyValue::Date(
                epoch
                    .checked_add_signed(TimeDelta::days(days.into()))
                    .ok_or_else(|| format!("date {days} days from 1970 is out of range"))?,
            )
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            let micros = array.as_primitive::<Time64MicrosecondType>().value(row);
            let secs = u32::try_from(micros.div_euclid(1_000_000))
                .map_err(|_| format!("time {micros} µs is out of range"))?;
            let nanos = (micros.rem_euclid(1_000_000) * 1_000) as u32;
            KeyValue::Time(
                NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                    .ok_or_else(|| format!("time {micros} µs is out of range"))?,
            )
        }
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>().value(row);
            let utc = DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| format!("timestamp {micros} µs is out of range"))?;
            let zoned = tz.is_some() || matches!(kind, Some(ColumnKind::TimestampTz { .. }));
            if zoned {
                KeyValue::TimestampTz(utc)
            } else {
                KeyValue::Timestamp(utc.naive_utc())
            }
        }
        other => {
            return Err(format!(
                "Arrow type {other} cannot be a partition key value"
            ))
        }
    };
    Ok(value)
}

fn float(value: f64) -> Result<KeyValue, String> {
    KeyValue::float(value).ok_or_else(|| format!("{value} is not a finite partition key value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    use crate::source::dialect::{ColumnType, Extraction};

    #[test]
    fn decimal_text_places_the_point() {
        assert_eq!(decimal::unscaled_to_text(12345, 2), "123.45");
        assert_eq!(decimal::unscaled_to_text(-5, 3), "-0.005");
        assert_eq!(decimal::unscaled_to_text(7, 0), "7");
        assert_eq!(decimal::unscaled_to_text(7, -2), "700");
    }

    #[test]
    fn batch_rows_become_typed_boundaries() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("row_num", DataType::Int64, false),
            Field::new("key_0", DataType::Utf8, true),
            Field::new(
                "key_1",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 6])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(0),
                    Some(1_500_000),
                ])),
            ],
        )
        .expect("valid batch");
        let key = |kind| TypedColumn {
            name: "k".into(),
            data_type: "x".into(),
            column_type: ColumnType {
                kind,
                extraction: Extraction::Native,
            },
            nullable: true,
        };
        let keys = [
            key(ColumnKind::Text { max_length: None }),
            key(ColumnKind::TimestampTz { fraction_digits: 6 }),
        ];
        let rows = boundary_rows_from_batch(&batch, &keys).expect("converts");
        assert_eq!(rows[1].row_number, 6);
        assert_eq!(rows[1].values[0], KeyValue::Null);
        assert!(matches!(rows[1].values[1], KeyValue::TimestampTz(_)));
    }
}
