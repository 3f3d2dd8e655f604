//! What the driver is asked for, given the catalog schema: the Arrow types the reader can fill,
//! and timestamps with their zone removed (put back on each batch).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::source::extract_error::ExtractError;

/// What the driver is asked for: the catalog schema with time zones removed (arrow-odbc reads
/// timestamps as naive values; the zone label is put back on each batch).
pub(super) fn fetch_schema(schema: &Schema) -> Schema {
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
pub(super) fn zoned_columns(schema: &Schema) -> Vec<(usize, Arc<str>)> {
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
pub(super) fn check_supported(schema: &Schema, table: &str) -> Result<(), ExtractError> {
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

/// [`fetch_schema`] as a shared schema.
pub(super) fn fetch_schema_ref(schema: &SchemaRef) -> SchemaRef {
    Arc::new(fetch_schema(schema))
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
