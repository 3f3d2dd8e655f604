//! How large one text or binary value may be: the worker's `max_value_bytes` and Snowflake's
//! VARCHAR/BINARY limits together, and the check that holds every batch to Snowflake's limits.
//! Every reader and the pipeline use these, so the limit and its message live once.

use arrow::record_batch::RecordBatch;

use super::extract_error::ExtractError;

/// Snowflake's largest VARCHAR (and VARIANT) value, in bytes.
pub const SNOWFLAKE_MAX_TEXT_BYTES: usize =
    super::dialect::type_mapping::SNOWFLAKE_MAX_VARCHAR as usize;
/// Snowflake's largest BINARY value, in bytes.
pub const SNOWFLAKE_MAX_BINARY_BYTES: usize =
    super::dialect::type_mapping::SNOWFLAKE_MAX_BINARY as usize;

/// Text (Arrow Utf8, loaded as VARCHAR/VARIANT) or binary (Arrow Binary, loaded as BINARY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    Binary,
}

impl ValueKind {
    /// Snowflake's limit for values of this kind, in bytes.
    pub fn snowflake_limit(self) -> usize {
        match self {
            ValueKind::Text => SNOWFLAKE_MAX_TEXT_BYTES,
            ValueKind::Binary => SNOWFLAKE_MAX_BINARY_BYTES,
        }
    }

    fn target_type(self) -> &'static str {
        match self {
            ValueKind::Text => "VARCHAR",
            ValueKind::Binary => "BINARY",
        }
    }
}

/// How large one value may be: the worker's `max_value_bytes` and Snowflake's limits together.
/// Every reader holds values to [`ValueLimits::limit`] and reports a larger one with
/// [`ValueLimits::error`], which names the setting to raise or, when the setting is not what
/// stops the value, Snowflake's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueLimits {
    /// `[application] max_value_bytes` of the worker TOML.
    pub max_value_bytes: usize,
}

impl Default for ValueLimits {
    fn default() -> Self {
        ValueLimits {
            max_value_bytes: SNOWFLAKE_MAX_TEXT_BYTES,
        }
    }
}

impl ValueLimits {
    pub fn new(max_value_bytes: usize) -> Self {
        ValueLimits {
            max_value_bytes: max_value_bytes.max(1),
        }
    }

    /// The largest value of `kind` that may pass, in bytes (UTF-8 bytes for text).
    pub fn limit(&self, kind: ValueKind) -> usize {
        self.max_value_bytes.min(kind.snowflake_limit())
    }

    /// The error for a value of `length` bytes (`None`: unknown, but above the limit).
    pub fn error(
        &self,
        table: &str,
        column: &str,
        kind: ValueKind,
        length: Option<usize>,
    ) -> ExtractError {
        if self.max_value_bytes < kind.snowflake_limit() {
            return ExtractError::ValueTooLong {
                table: table.to_string(),
                column: column.to_string(),
                limit: self.max_value_bytes,
                length,
            };
        }
        ExtractError::BeyondSnowflakeLimit {
            table: table.to_string(),
            column: column.to_string(),
            target_type: kind.target_type(),
            limit: kind.snowflake_limit(),
            length,
        }
    }
}

/// Fails on the first text or binary value of `batch` above its Snowflake limit, so such a
/// value never reaches a staged file (COPY would refuse it after the whole upload).
pub fn check_snowflake_limits(batch: &RecordBatch, table: &str) -> Result<(), ExtractError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType;
    let limits = ValueLimits::default();
    for (index, field) in batch.schema().fields().iter().enumerate() {
        let column = batch.column(index);
        let (kind, longest) = match field.data_type() {
            DataType::Utf8 => (
                ValueKind::Text,
                longest_value(column.as_string::<i32>().offsets(), column.nulls()),
            ),
            DataType::Binary => (
                ValueKind::Binary,
                longest_value(column.as_binary::<i32>().offsets(), column.nulls()),
            ),
            _ => continue,
        };
        if longest > kind.snowflake_limit() {
            return Err(limits.error(table, field.name(), kind, Some(longest)));
        }
    }
    Ok(())
}

/// The length of the longest non-null value of a variable-length array.
fn longest_value(
    offsets: &arrow::buffer::OffsetBuffer<i32>,
    nulls: Option<&arrow::buffer::NullBuffer>,
) -> usize {
    offsets
        .windows(2)
        .enumerate()
        .filter(|(row, _)| nulls.is_none_or(|n| n.is_valid(*row)))
        .map(|(_, w)| (w[1] - w[0]).max(0) as usize)
        .max()
        .unwrap_or(0)
}
