//! Table-level content verification: the target table's rows, read back from Snowflake as
//! Arrow batch by batch, checksummed with [`ContentChecksum`] and compared with the sum of the
//! checksums the workers computed while extracting each partition.
//!
//! Both sides go through the same normaliser; the read-back is marked from the plan's target
//! types with the same rule the extraction uses ([`extraction_field`]), so text the source
//! carried for a `NUMBER` or a `VARIANT` column is compared with what Snowflake holds as the
//! number or the JSON value it means. Memory does not grow with the table: each batch is
//! checksummed as it arrives and dropped.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::error::ArrowError;

use crate::snowflake::{Session, SnowflakeError};
use crate::source::content_checksum::{extraction_field, ContentChecksum};

/// What verification found for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableVerification {
    pub source: String,
    pub target: String,
    pub rows_extracted: u64,
    pub rows_in_target: u64,
    pub extracted_checksum: ContentChecksum,
    pub target_checksum: ContentChecksum,
}

impl TableVerification {
    pub fn counts_match(&self) -> bool {
        self.rows_extracted == self.rows_in_target
    }

    pub fn checksums_match(&self) -> bool {
        self.extracted_checksum == self.target_checksum
    }
}

/// A stored checksum that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stored checksum `{0}` is not 32 hexadecimal digits (a worker older than this orchestrator may have extracted the partition): extract the partition again with a current worker"
)]
pub struct BadChecksum(pub String);

/// Parses a checksum as the workers store it (32 lowercase hex digits).
pub fn parse_checksum(text: &str) -> Result<ContentChecksum, BadChecksum> {
    ContentChecksum::from_hex(text.trim().trim_matches('"'))
        .ok_or_else(|| BadChecksum(text.to_string()))
}

/// Adds partition checksums: the checksum of a table is the sum of its partitions'.
pub fn sum_checksums<'a>(
    partitions: impl IntoIterator<Item = &'a str>,
) -> Result<ContentChecksum, BadChecksum> {
    partitions
        .into_iter()
        .try_fold(ContentChecksum::default(), |sum, text| {
            Ok(sum.combine(parse_checksum(text)?))
        })
}

/// A target column as verify reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBackColumn {
    /// The column as written in SQL (quoted when needed).
    pub sql_name: String,
    /// The column's Snowflake type in the plan (after `columnTypeMappings`).
    pub snowflake_type: String,
}

/// `SELECT col1, col2, ... FROM table`: the columns in extraction order, since a row hash
/// depends on column order.
pub fn read_back_sql(qualified_table: &str, columns: &[ReadBackColumn]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.sql_name.as_str()).collect();
    format!("SELECT {} FROM {qualified_table}", names.join(", "))
}

/// What the read-back of a target table found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadBack {
    pub rows: u64,
    pub checksum: ContentChecksum,
    /// Batches the driver delivered (each was checksummed and dropped before the next).
    pub batches: u64,
    /// The most rows one batch held.
    pub largest_batch_rows: u64,
}

/// Reads the target table batch by batch and checksums it, each batch marked like the
/// extraction marked the source ([`mark_read_back`]).
pub fn target_checksum(
    session: &mut Session,
    qualified_table: &str,
    columns: &[ReadBackColumn],
) -> Result<ReadBack, SnowflakeError> {
    let sql = read_back_sql(qualified_table, columns);
    let mut read_back = ReadBack::default();
    let mut marked_schema: Option<(SchemaRef, SchemaRef)> = None;
    let mut failure: Option<ArrowError> = None;
    session.query_each(&sql, &[], |batch| {
        if failure.is_some() {
            return;
        }
        let schema = match &marked_schema {
            Some((driver, marked)) if *driver == batch.schema() => marked.clone(),
            _ => {
                let marked = marked_schema_for(batch.schema_ref(), columns);
                marked_schema = Some((batch.schema(), marked.clone()));
                marked
            }
        };
        match RecordBatch::try_new(schema, batch.columns().to_vec()) {
            Ok(marked) => {
                read_back.checksum.add_batch(&marked);
                read_back.rows += marked.num_rows() as u64;
                read_back.batches += 1;
                read_back.largest_batch_rows =
                    read_back.largest_batch_rows.max(marked.num_rows() as u64);
            }
            Err(error) => failure = Some(error),
        }
    })?;
    match failure {
        Some(error) => Err(SnowflakeError::Result {
            sql: crate::snowflake::first_line(&sql),
            message: error.to_string(),
        }),
        None => Ok(read_back),
    }
}

/// `batch` with its fields marked from the plan's target types, as [`extraction_field`]
/// marks the source (the driver's own field metadata is not used).
pub fn mark_read_back(
    batch: &RecordBatch,
    columns: &[ReadBackColumn],
) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(
        marked_schema_for(batch.schema_ref(), columns),
        batch.columns().to_vec(),
    )
}

fn marked_schema_for(schema: &Schema, columns: &[ReadBackColumn]) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| match columns.get(i) {
            // Nullable: the read-back may hold NULLs whatever the plan says.
            Some(column) => extraction_field(
                field.name(),
                field.data_type().clone(),
                true,
                &column.snowflake_type,
            ),
            None => field.as_ref().clone().with_nullable(true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, Decimal128Array, StringArray};

    use super::*;
    use crate::source::content_checksum::{canonical_rows, CHECKSUM_AS_KEY};

    fn hex(value: u128) -> String {
        format!("{value:032x}")
    }

    #[test]
    fn partition_checksums_add_up_modulo_2_to_the_128() {
        let sum = sum_checksums([hex(1).as_str(), &format!("\"{}\"", hex(u128::MAX - 1))])
            .expect("valid checksums");
        assert_eq!(sum, ContentChecksum(u128::MAX));
        let wrapped = sum_checksums([hex(u128::MAX).as_str(), hex(2).as_str()]).expect("valid");
        assert_eq!(wrapped, ContentChecksum(1));
        assert_eq!(
            sum_checksums([]).expect("empty"),
            ContentChecksum::default()
        );
    }

    #[test]
    fn a_bad_or_old_checksum_is_named() {
        for bad in ["xyz", "0000000000000001"] {
            let err = sum_checksums([hex(1).as_str(), bad])
                .expect_err("not a checksum")
                .to_string();
            assert_eq!(
                err,
                format!("stored checksum `{bad}` is not 32 hexadecimal digits (a worker older than this orchestrator may have extracted the partition): extract the partition again with a current worker")
            );
        }
    }

    #[test]
    fn verification_compares_counts_and_checksums() {
        let mut v = TableVerification {
            source: "main.orders".into(),
            target: "DEMO.PUBLIC.ORDERS".into(),
            rows_extracted: 3,
            rows_in_target: 3,
            extracted_checksum: ContentChecksum(7),
            target_checksum: ContentChecksum(7),
        };
        assert!(v.counts_match() && v.checksums_match());
        v.target_checksum = ContentChecksum(8);
        assert!(!v.checksums_match());
        let columns = [
            ReadBackColumn {
                sql_name: "A".into(),
                snowflake_type: "NUMBER(38,0)".into(),
            },
            ReadBackColumn {
                sql_name: "\"b c\"".into(),
                snowflake_type: "VARCHAR".into(),
            },
        ];
        assert_eq!(read_back_sql("T", &columns), "SELECT A, \"b c\" FROM T");
    }

    #[test]
    fn the_read_back_is_marked_from_the_plan_not_from_the_driver() {
        // The driver returns a VARIANT as text; the plan says VARIANT, so it is read as JSON.
        let driver_field = Field::new("J", arrow::datatypes::DataType::Utf8, false).with_metadata(
            std::collections::HashMap::from([("logicalType".to_owned(), "OBJECT".to_owned())]),
        );
        let number = Decimal128Array::from(vec![Some(1230)])
            .with_precision_and_scale(38, 2)
            .expect("decimal");
        let schema = Arc::new(Schema::new(vec![
            driver_field,
            Field::new("N", number.data_type().clone(), true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["{ \"b\": 1, \"a\": 2 }"])),
                Arc::new(number),
            ],
        )
        .expect("batch");
        let columns = [
            ReadBackColumn {
                sql_name: "J".into(),
                snowflake_type: "VARIANT".into(),
            },
            ReadBackColumn {
                sql_name: "N".into(),
                snowflake_type: "NUMBER(38,2)".into(),
            },
        ];
        let marked = mark_read_back(&batch, &columns).expect("marked");
        assert!(marked
            .schema()
            .field(0)
            .metadata()
            .contains_key(CHECKSUM_AS_KEY));
        assert!(marked.schema().field(0).is_nullable());
        assert_eq!(
            canonical_rows(&marked),
            vec![vec![
                Some("j:{\"a\":2,\"b\":1}".to_owned()),
                Some("n:12.3".to_owned())
            ]]
        );
    }
}
