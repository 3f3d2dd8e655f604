//! Turning driver errors into [`ExtractError`]s: a missing driver, a rejected login, a value
//! above its limit or grown since it was measured, a missing table, and whether a retry may
//! help (the SQLSTATE rules of `source::sqlstate`).

use arrow::datatypes::{DataType, Schema};
use arrow_odbc::odbc_api;

use super::buffers::BufferSizes;
use super::options::{OdbcReadOptions, OdbcText};
use crate::source::connection_string::ConnectionString;
use crate::source::extract_error::ExtractError;
use crate::source::sqlstate;
use crate::source::value_limits::ValueKind;

fn diagnostic(error: &odbc_api::Error) -> Option<(String, String)> {
    match error {
        odbc_api::Error::Diagnostics { record, .. } => {
            Some((record.state.as_str().to_string(), record.to_string()))
        }
        _ => None,
    }
}

pub(super) fn connect_error(
    cs: &ConnectionString,
    target: &str,
    error: &odbc_api::Error,
) -> ExtractError {
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
pub(super) fn statement_error(
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

pub(super) fn reader_error(table: &str, schema: &Schema, error: arrow_odbc::Error) -> ExtractError {
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

#[cfg(test)]
mod tests {
    use arrow::datatypes::Field;
    use config_schema::SourcePlatform;

    use super::*;

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
}
