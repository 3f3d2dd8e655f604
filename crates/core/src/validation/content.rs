//! Table-level content verification: the target table's rows, read back from Snowflake as
//! Arrow, checksummed with [`ContentChecksum`] and compared with the sum of the checksums the
//! workers computed while extracting each partition.

use crate::snowflake::{Session, SnowflakeError};
use crate::source::content_checksum::ContentChecksum;

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

/// `SELECT col1, col2, ... FROM table`: the columns in extraction order, since a row hash
/// depends on column order.
pub fn read_back_sql(qualified_table: &str, columns: &[String]) -> String {
    format!("SELECT {} FROM {qualified_table}", columns.join(", "))
}

/// Reads the whole target table and checksums it. Memory: the session returns the result as
/// Arrow batches; this is meant for verification runs, not for the load path.
pub fn target_checksum(
    session: &mut Session,
    qualified_table: &str,
    columns: &[String],
) -> Result<(u64, ContentChecksum), SnowflakeError> {
    let batches = session.query(&read_back_sql(qualified_table, columns), &[])?;
    let mut checksum = ContentChecksum::default();
    let mut rows = 0u64;
    for batch in &batches {
        checksum.add_batch(batch);
        rows += batch.num_rows() as u64;
    }
    Ok((rows, checksum))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            read_back_sql("T", &["A".into(), "\"b c\"".into()]),
            "SELECT A, \"b c\" FROM T"
        );
    }
}
