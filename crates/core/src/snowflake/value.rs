//! Bound parameters (`?` placeholders) and the text rendering of result values.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(value: &str) -> Self {
        SqlValue::Text(value.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(value: String) -> Self {
        SqlValue::Text(value)
    }
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        SqlValue::Int(value)
    }
}

impl From<bool> for SqlValue {
    fn from(value: bool) -> Self {
        SqlValue::Bool(value)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(SqlValue::Null, Into::into)
    }
}

/// One row holding the parameters, one column per placeholder in order, as ADBC binds them.
/// A NULL is bound as a NULL string, which Snowflake casts to any column type.
pub fn params_batch(params: &[SqlValue]) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::with_capacity(params.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(params.len());
    for (index, value) in params.iter().enumerate() {
        let (data_type, column): (DataType, ArrayRef) = match value {
            SqlValue::Null => (
                DataType::Utf8,
                Arc::new(StringArray::from(vec![None::<&str>])),
            ),
            SqlValue::Bool(b) => (DataType::Boolean, Arc::new(BooleanArray::from(vec![*b]))),
            SqlValue::Int(i) => (DataType::Int64, Arc::new(Int64Array::from(vec![*i]))),
            SqlValue::Float(f) => (DataType::Float64, Arc::new(Float64Array::from(vec![*f]))),
            SqlValue::Text(s) => (
                DataType::Utf8,
                Arc::new(StringArray::from(vec![s.as_str()])),
            ),
        };
        fields.push(Field::new(format!("{}", index + 1), data_type, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Renders every value as text (NULL as `None`), row by row across all batches.
pub fn batches_to_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, ArrowError> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| {
                    (!column.is_null(row)).then(|| formatter.value(row).to_string())
                })
                .collect();
            rows.push(values);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_one_row_with_positional_columns() {
        let batch = params_batch(&[
            SqlValue::Int(7),
            SqlValue::Text("x".to_owned()),
            SqlValue::Null,
            SqlValue::Bool(true),
            SqlValue::Float(1.5),
        ])
        .expect("valid batch");
        assert_eq!(batch.num_rows(), 1);
        let names: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["1", "2", "3", "4", "5"]);
        assert!(batch.column(2).is_null(0));
    }

    #[test]
    fn rows_render_values_as_text_and_nulls_as_none() {
        let batch = params_batch(&[SqlValue::Int(7), SqlValue::Null, SqlValue::Bool(false)])
            .expect("valid batch");
        let rows = batches_to_rows(&[batch]).expect("renders");
        assert_eq!(
            rows,
            vec![vec![Some("7".to_owned()), None, Some("false".to_owned())]]
        );
    }
}
