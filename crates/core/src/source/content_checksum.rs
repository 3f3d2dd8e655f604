//! An order-independent content checksum over Arrow values, and the one normaliser behind it.
//!
//! The worker computes it over the batches it extracts (before Parquet); `orchestrator verify`
//! computes it over the target table read back from Snowflake. Both call this module, so a
//! table copied right checksums alike on both sides, whatever the row order, the partitioning,
//! the file split, the Arrow widths or the engines' formatting.
//!
//! # Definition (stable; change it only together with the stored checksums' format)
//!
//! 1. **Value → canonical text.** Every non-NULL value becomes a tagged text that depends only
//!    on its logical value ([`canonical`] has the table): integers and decimals of any width
//!    and scale as one exact decimal (`n:12.3`), floats as their shortest round-trip digits
//!    (`f:1e300`), timestamps with a zone as the UTC instant (`z:…Z`), JSON as canonical JSON
//!    (`j:…`, keys sorted, numbers exact), binary as hex, and so on. Two kinds of *text* are
//!    read as what the target will hold, because the extraction carries them as text while
//!    Snowflake stores a typed value: a field whose metadata [`CHECKSUM_AS_KEY`] is
//!    [`CHECKSUM_AS_DECIMAL`] (SQLite `DECIMAL(p,s)`, PostgreSQL bare `numeric` into `NUMBER`)
//!    or [`CHECKSUM_AS_JSON`] (`json`/`jsonb`/`SUPER` into `VARIANT`/`OBJECT`/`ARRAY`).
//!    [`extraction_field`] sets that mark from the target type; verify marks the read-back
//!    the same way from the same plan.
//! 2. **Row → 128-bit hash.** The row's values in column order are framed (NULL: one byte 0;
//!    a value: byte 1, the length of its canonical text in bytes as an unsigned LEB128
//!    varint, the text) and hashed with SHA-256; the first 16 bytes, little-endian, are the
//!    row hash.
//! 3. **Table → sum.** The checksum is the sum of the row hashes modulo 2^128, shown as 32
//!    hexadecimal digits.
//!
//! # Why a sum, and why two errors cannot cancel out
//!
//! A sum is commutative and associative, so batches, files and partitions are checksummed
//! apart, in parallel, and added in any order: the checksum of a table is the sum of its
//! partitions'. It is a hash of the *multiset* of rows (the additive multiset hash of Clarke,
//! Devadas, van Dijk, Gassend and Suh, 2003): a duplicated row counts twice, a lost row not at
//! all.
//!
//! When a copy differs from its source, the two sums differ by `Σ c_r · H(r)` over the distinct
//! canonical rows `r` whose number of copies changed by `c_r ≠ 0`. SHA-256 output behaves like
//! independent uniform values for distinct inputs, and the framing makes distinct rows distinct
//! inputs, so that difference is zero with probability at most 2^-(128-v) when 2^v divides every
//! `c_r`: 2^-128 for any change of single rows, and still below 2^-88 unless one row is
//! duplicated more than 2^40 times. In particular two rows changed by opposite amounts cancel
//! only by that chance. The checksum this replaced summed 64-bit values of a keyless, invertible
//! mixing of each value, and hashed a decimal differently depending on whether its unscaled
//! integer fit 64 bits: such changes could be *constructed*
//! (`two_rows_changed_by_opposite_deltas_do_not_cancel_out`), and `NUMBER(38,9)` `10000000000`
//! differed from the same value read as text.
//!
//! This protects a copy against faults (lost, duplicated, truncated or altered rows, wrong
//! conversions), not against someone forging data on purpose who can pick millions of rows:
//! additive hashes over 128 bits yield to generalised-birthday searches. Use a keyed digest
//! for that.

mod canonical;
mod checksum_as;
mod json;

use std::fmt;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, Field};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use checksum_as::{CHECKSUM_AS_DECIMAL, CHECKSUM_AS_JSON, CHECKSUM_AS_KEY};

/// Frame byte of a NULL.
const FRAME_NULL: u8 = 0;
/// Frame byte before a value's length and canonical text.
const FRAME_VALUE: u8 = 1;

/// The Arrow field a column is checksummed as: `data_type` as the reader produces it, marked
/// with [`CHECKSUM_AS_DECIMAL`] or [`CHECKSUM_AS_JSON`] when the values are text but the
/// Snowflake column (`snowflake_type`, after `columnTypeMappings`) is a fixed-point number or
/// a semi-structured type, so that the checksum hashes what the target holds. The extraction
/// reads with it; verify marks the read-back with it from the same plan.
pub fn extraction_field(
    name: &str,
    data_type: DataType,
    nullable: bool,
    snowflake_type: &str,
) -> Field {
    let field = Field::new(name, data_type, nullable);
    let text = matches!(
        field.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let reading = match target_type_name(snowflake_type).as_str() {
        _ if !text => None,
        "NUMBER" | "DECIMAL" | "NUMERIC" | "INT" | "INTEGER" | "BIGINT" | "SMALLINT"
        | "TINYINT" | "BYTEINT" => Some(CHECKSUM_AS_DECIMAL),
        "VARIANT" | "OBJECT" | "ARRAY" => Some(CHECKSUM_AS_JSON),
        _ => None,
    };
    match reading {
        Some(reading) => {
            let metadata = [(CHECKSUM_AS_KEY.to_owned(), reading.to_owned())];
            field.with_metadata(std::collections::HashMap::from(metadata))
        }
        None => field,
    }
}

/// `NUMBER(38,2)` → `NUMBER`, ` decimal ` → `DECIMAL`.
fn target_type_name(snowflake_type: &str) -> String {
    let upper = snowflake_type.trim().to_ascii_uppercase();
    upper
        .split('(')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The sum of row hashes modulo 2^128; add batches in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ContentChecksum(pub u128);

impl ContentChecksum {
    /// Adds every row of `batch`.
    pub fn add_batch(&mut self, batch: &RecordBatch) {
        let columns = RowEncoder::new(batch);
        let mut frame = Vec::with_capacity(256);
        let mut value = Vec::with_capacity(64);
        for row in 0..batch.num_rows() {
            frame.clear();
            columns.frame_row(row, &mut frame, &mut value);
            self.0 = self.0.wrapping_add(row_hash(&frame));
        }
    }

    /// Combines the checksums of two disjoint sets of rows.
    pub fn combine(self, other: ContentChecksum) -> ContentChecksum {
        ContentChecksum(self.0.wrapping_add(other.0))
    }

    /// Parses the 32 hexadecimal digits [`Display`](fmt::Display) writes.
    pub fn from_hex(text: &str) -> Option<ContentChecksum> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(ContentChecksum)
    }
}

impl fmt::Display for ContentChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Serialized as 32 lowercase hex digits (JSON numbers cannot hold a u128 exactly).
impl Serialize for ContentChecksum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The canonical text of every value of `batch`, row by row (`None` for NULL): what the
/// checksum hashes, for tests that check the normaliser against another reader and for
/// reports that show where two sides differ.
pub fn canonical_rows(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
    let columns = RowEncoder::new(batch);
    let mut value = Vec::new();
    (0..batch.num_rows())
        .map(|row| {
            (0..columns.writers.len())
                .map(|column| {
                    value.clear();
                    columns
                        .write_value(column, row, &mut value)
                        .then(|| String::from_utf8_lossy(&value).into_owned())
                })
                .collect()
        })
        .collect()
}

/// The first 16 bytes of SHA-256, little-endian.
fn row_hash(frame: &[u8]) -> u128 {
    let digest = Sha256::digest(frame);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

/// One batch's columns, ready to write rows.
struct RowEncoder<'a> {
    writers: Vec<canonical::ValueWriter<'a>>,
    nulls: Vec<Option<arrow::buffer::NullBuffer>>,
}

impl<'a> RowEncoder<'a> {
    fn new(batch: &'a RecordBatch) -> RowEncoder<'a> {
        let schema = batch.schema_ref();
        RowEncoder {
            writers: schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| canonical::value_writer(field, column))
                .collect(),
            // Logical nulls, so that a `Null`-typed column counts as all NULL.
            nulls: batch.columns().iter().map(|c| c.logical_nulls()).collect(),
        }
    }

    /// Writes the canonical text of one value; false (and nothing written) for NULL.
    fn write_value(&self, column: usize, row: usize, out: &mut Vec<u8>) -> bool {
        if self.nulls[column].as_ref().is_some_and(|n| n.is_null(row)) {
            return false;
        }
        (self.writers[column])(row, out);
        true
    }

    /// Appends the framed row: per value a NULL byte, or the value byte, the text's length
    /// (unsigned LEB128) and the text. `value` is scratch space.
    fn frame_row(&self, row: usize, frame: &mut Vec<u8>, value: &mut Vec<u8>) {
        for column in 0..self.writers.len() {
            value.clear();
            if self.write_value(column, row, value) {
                frame.push(FRAME_VALUE);
                push_leb128(value.len() as u64, frame);
                frame.extend_from_slice(value);
            } else {
                frame.push(FRAME_NULL);
            }
        }
    }
}

/// Unsigned LEB128: seven bits per byte, low bits first, the high bit set on all but the last.
fn push_leb128(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
        Float64Array, Int16Array, Int32Array, Int64Array, NullArray, StringArray,
        Time64MicrosecondArray, TimestampMicrosecondArray, TimestampNanosecondArray,
        TimestampSecondArray, UInt64Array,
    };
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(columns: Vec<ArrayRef>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("valid batch")
    }

    fn checksum(columns: Vec<ArrayRef>) -> ContentChecksum {
        let mut c = ContentChecksum::default();
        c.add_batch(&batch(columns));
        c
    }

    fn marked(snowflake_type: &str, values: Vec<Option<&str>>) -> RecordBatch {
        let field = extraction_field("c0", DataType::Utf8, true, snowflake_type);
        let schema = Arc::new(Schema::new(vec![field]));
        RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values))])
            .expect("valid batch")
    }

    fn marked_checksum(snowflake_type: &str, values: Vec<Option<&str>>) -> ContentChecksum {
        let mut c = ContentChecksum::default();
        c.add_batch(&marked(snowflake_type, values));
        c
    }

    fn decimals(values: Vec<Option<i128>>, precision: u8, scale: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(precision, scale)
                .expect("decimal"),
        )
    }

    fn texts(columns: Vec<ArrayRef>) -> Vec<Vec<Option<String>>> {
        canonical_rows(&batch(columns))
    }

    #[test]
    fn row_order_and_batches_do_not_matter_but_values_and_columns_do() {
        let a = checksum(vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
        ]);
        let b = checksum(vec![
            Arc::new(Int64Array::from(vec![3, 1, 2])),
            Arc::new(StringArray::from(vec!["c", "a", "b"])),
        ]);
        assert_eq!(a, b);
        let first = checksum(vec![
            Arc::new(Int64Array::from(vec![2])),
            Arc::new(StringArray::from(vec!["b"])),
        ]);
        let rest = checksum(vec![
            Arc::new(Int64Array::from(vec![3, 1])),
            Arc::new(StringArray::from(vec!["c", "a"])),
        ]);
        assert_eq!(a, rest.combine(first));
        let swapped_pairs = checksum(vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["b", "a", "c"])),
        ]);
        assert_ne!(a, swapped_pairs);
        let columns_swapped = checksum(vec![
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        ]);
        assert_ne!(a, columns_swapped);
    }

    #[test]
    fn a_duplicated_row_counts_and_values_do_not_run_into_each_other() {
        let once = checksum(vec![Arc::new(StringArray::from(vec!["a", "b"]))]);
        let twice = checksum(vec![Arc::new(StringArray::from(vec!["a", "b", "b"]))]);
        assert_ne!(once, twice);
        // Framing: ("ab", "") and ("a", "b") are different rows.
        let left = checksum(vec![
            Arc::new(StringArray::from(vec!["ab"])),
            Arc::new(StringArray::from(vec![""])),
        ]);
        let right = checksum(vec![
            Arc::new(StringArray::from(vec!["a"])),
            Arc::new(StringArray::from(vec!["b"])),
        ]);
        assert_ne!(left, right);
        let null = checksum(vec![Arc::new(StringArray::from(vec![None::<&str>]))]);
        let empty = checksum(vec![Arc::new(StringArray::from(vec![""]))]);
        assert_ne!(null, empty);
        let null_type = checksum(vec![Arc::new(NullArray::new(1))]);
        assert_eq!(null, null_type, "a NULL is a NULL whatever its column type");
    }

    #[test]
    fn one_logical_value_has_one_text_across_widths_scales_and_units() {
        let ints = texts(vec![Arc::new(Int32Array::from(vec![
            Some(7),
            None,
            Some(-2),
        ]))]);
        let longs = texts(vec![Arc::new(Int64Array::from(vec![
            Some(7),
            None,
            Some(-2),
        ]))]);
        let decimal = texts(vec![decimals(vec![Some(7_000), None, Some(-2_000)], 38, 3)]);
        assert_eq!(ints, longs);
        assert_eq!(ints, decimal);
        assert_eq!(
            texts(vec![decimals(vec![Some(150)], 10, 2)]),
            texts(vec![decimals(vec![Some(15)], 10, 1)]),
            "1.50 == 1.5"
        );
        assert_ne!(
            texts(vec![decimals(vec![Some(15)], 10, 2)]),
            texts(vec![decimals(vec![Some(15)], 10, 1)]),
            "0.15 != 1.5"
        );
        // A value whose unscaled integer needs more than 64 bits at one scale and not at the
        // other (the cause of the false CHECKSUM DIFFERS for bare numeric into NUMBER(38,9)).
        assert_eq!(
            texts(vec![decimals(
                vec![Some(10_000_000_000_000_000_000)],
                38,
                9
            )]),
            texts(vec![Arc::new(Int64Array::from(vec![10_000_000_000]))])
        );
        assert_eq!(
            texts(vec![Arc::new(UInt64Array::from(vec![u64::MAX]))]),
            texts(vec![decimals(vec![Some(u64::MAX.into())], 20, 0)])
        );
        let micros = texts(vec![Arc::new(TimestampMicrosecondArray::from(vec![
            1_000_000,
        ]))]);
        let seconds = texts(vec![Arc::new(TimestampSecondArray::from(vec![1]))]);
        let nanos = texts(vec![Arc::new(TimestampNanosecondArray::from(vec![
            1_000_000_000,
        ]))]);
        assert_eq!(micros, seconds);
        assert_eq!(micros, nanos);
        assert_eq!(
            texts(vec![Arc::new(Float32Array::from(vec![0.5]))]),
            texts(vec![Arc::new(Float64Array::from(vec![0.5]))])
        );
    }

    #[test]
    fn an_instant_compares_as_an_instant() {
        let utc = texts(vec![Arc::new(
            TimestampMicrosecondArray::from(vec![1]).with_timezone("UTC"),
        )]);
        let paris = texts(vec![Arc::new(
            TimestampMicrosecondArray::from(vec![1]).with_timezone("+02:00"),
        )]);
        assert_eq!(utc, paris);
        assert_eq!(
            utc,
            vec![vec![Some("z:1970-01-01T00:00:00.000001Z".to_owned())]]
        );
        let ntz = texts(vec![Arc::new(TimestampMicrosecondArray::from(vec![1]))]);
        assert_ne!(ntz, utc, "with and without zone are tagged apart");
    }

    #[test]
    fn types_are_tagged_apart() {
        let rows = texts(vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(BooleanArray::from(vec![true])),
            Arc::new(StringArray::from(vec!["1"])),
            Arc::new(BinaryArray::from(vec![b"1".as_ref()])),
            Arc::new(Date32Array::from(vec![1])),
            Arc::new(Time64MicrosecondArray::from(vec![1])),
            Arc::new(Int16Array::from(vec![None])),
        ]);
        assert_eq!(
            rows,
            vec![vec![
                Some("n:1".to_owned()),
                Some("f:1e0".to_owned()),
                Some("b:true".to_owned()),
                Some("s:1".to_owned()),
                Some("x:31".to_owned()),
                Some("d:1970-01-02".to_owned()),
                Some("t:00:00:00.000001".to_owned()),
                None,
            ]]
        );
        let zero = checksum(vec![Arc::new(Float64Array::from(vec![0.0]))]);
        let negative_zero = checksum(vec![Arc::new(Float64Array::from(vec![-0.0]))]);
        assert_eq!(zero, negative_zero);
    }

    #[test]
    fn decimal_text_hashes_as_the_number_the_target_holds() {
        let loaded = checksum(vec![decimals(
            vec![Some(1230), None, Some(-500_000), Some(0), Some(700)],
            38,
            2,
        )]);
        let sqlite_text = vec![Some("12.3"), None, Some("-5000"), Some("0"), Some("7")];
        let postgres_text = vec![
            Some("12.30"),
            None,
            Some("-5000.00"),
            Some("-0.00"),
            Some("7.00"),
        ];
        let exponents = vec![
            Some("1.23e1"),
            None,
            Some("-5.0E+03"),
            Some("0e0"),
            Some("+7."),
        ];
        assert_eq!(marked_checksum("NUMBER(10,2)", sqlite_text), loaded);
        assert_eq!(marked_checksum("NUMBER(10,2)", postgres_text), loaded);
        assert_eq!(marked_checksum("NUMBER(10,2)", exponents), loaded);
        assert_eq!(
            marked_checksum("NUMBER(38,5)", vec![Some("1.0e-05")]),
            checksum(vec![decimals(vec![Some(1)], 38, 5)])
        );
        assert_ne!(
            marked_checksum("NUMBER(38,2)", vec![Some("0.125")]),
            checksum(vec![decimals(vec![Some(13)], 38, 2)]),
            "a value Snowflake rounds differs"
        );
        let plain_text = checksum(vec![Arc::new(StringArray::from(vec!["12.3"]))]);
        assert_ne!(
            plain_text,
            checksum(vec![decimals(vec![Some(1230)], 38, 2)]),
            "unmarked text stays text"
        );
        assert_eq!(
            marked_checksum("NUMBER", vec![Some("NaN")]),
            checksum(vec![Arc::new(StringArray::from(vec!["NaN"]))]),
            "text that is no decimal stays text"
        );
    }

    #[test]
    fn json_text_hashes_as_the_value_snowflake_holds() {
        let source = marked_checksum("VARIANT", vec![Some(r#"{"b":1,"a":[1,2.50]}"#), None]);
        let snowflake = marked_checksum(
            "VARIANT",
            vec![
                Some("{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"b\": 1\n}"),
                None,
            ],
        );
        assert_eq!(source, snowflake);
        assert_ne!(
            source,
            marked_checksum("VARIANT", vec![Some(r#"{"b":1,"a":[1,2.51]}"#), None])
        );
        // A JSON string is not the object it spells (a VARIANT loaded as a string).
        assert_ne!(
            source,
            marked_checksum("VARIANT", vec![Some(r#""{\"b\":1,\"a\":[1,2.50]}""#), None])
        );
        assert_eq!(
            marked_checksum("ARRAY", vec![Some("not json")]),
            checksum(vec![Arc::new(StringArray::from(vec!["not json"]))]),
            "text that is no JSON stays text"
        );
    }

    #[test]
    fn only_text_loaded_into_numbers_or_semi_structured_types_is_marked() {
        let reading = |data_type: DataType, snowflake_type: &str| {
            extraction_field("c", data_type, true, snowflake_type)
                .metadata()
                .get(CHECKSUM_AS_KEY)
                .cloned()
        };
        let decimal = Some(CHECKSUM_AS_DECIMAL.to_owned());
        let json = Some(CHECKSUM_AS_JSON.to_owned());
        assert_eq!(reading(DataType::Utf8, "NUMBER(38,2)"), decimal);
        assert_eq!(reading(DataType::Utf8, " decimal "), decimal);
        assert_eq!(reading(DataType::LargeUtf8, "int"), decimal);
        assert_eq!(reading(DataType::Utf8, "VARIANT"), json);
        assert_eq!(reading(DataType::Utf8, "object"), json);
        assert_eq!(reading(DataType::Utf8, "ARRAY"), json);
        assert_eq!(reading(DataType::Utf8, "VARCHAR"), None);
        assert_eq!(reading(DataType::Utf8, "FLOAT"), None);
        assert_eq!(reading(DataType::Decimal128(10, 2), "NUMBER(10,2)"), None);
    }

    #[test]
    fn the_checksum_prints_and_parses_as_32_hex_digits() {
        let c = ContentChecksum(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(c.to_string(), "0123456789abcdef0011223344556677");
        assert_eq!(ContentChecksum::from_hex(&c.to_string()), Some(c));
        assert_eq!(serde_json::to_string(&c).expect("json"), format!("\"{c}\""));
        for bad in [
            "",
            "0123456789abcdef",
            "0123456789abcdef001122334455667g",
            "+123456789abcdef0011223344556677",
        ] {
            assert_eq!(ContentChecksum::from_hex(bad), None, "{bad}");
        }
        assert_eq!(
            ContentChecksum(u128::MAX).combine(ContentChecksum(2)),
            ContentChecksum(1),
            "sums wrap modulo 2^128"
        );
    }

    #[test]
    fn pinned_value() {
        // Pins the definition: a change here changes every stored checksum.
        let c = checksum(vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec![Some("héllo 🌍"), None])),
        ]);
        insta::assert_snapshot!(c.to_string());
        // The rows framed by hand: [1, 3, "n:1", 1, 13, "s:héllo 🌍"] and [1, 3, "n:2", 0].
        let mut first = vec![FRAME_VALUE, 3];
        first.extend_from_slice(b"n:1");
        first.extend_from_slice(&[FRAME_VALUE, 2 + "héllo 🌍".len() as u8]);
        first.extend_from_slice("s:héllo 🌍".as_bytes());
        let mut second = vec![FRAME_VALUE, 3];
        second.extend_from_slice(b"n:2");
        second.push(FRAME_NULL);
        assert_eq!(c.0, row_hash(&first).wrapping_add(row_hash(&second)));
        let mut leb = Vec::new();
        for v in [0, 127, 128, 300, u64::MAX] {
            push_leb128(v, &mut leb);
        }
        assert_eq!(
            leb,
            [0, 127, 0x80, 1, 0xac, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]
        );
    }

    /// The 64-bit scheme this checksum replaced: per value a keyless bijective mix, per row a
    /// fold, the table a wrapping sum. Kept here to show its weakness.
    mod replaced_scheme {
        const ROW_SEED: u64 = 0x243F_6A88_85A3_08D3;
        const TAG_INT: u64 = 0x1000_0000_0000_0001;
        const M1: u64 = 0xFF51_AFD7_ED55_8CCD;
        const M2: u64 = 0xC4CE_B9FE_1A85_EC53;

        fn fmix64(mut k: u64) -> u64 {
            k ^= k >> 33;
            k = k.wrapping_mul(M1);
            k ^= k >> 33;
            k = k.wrapping_mul(M2);
            k ^ (k >> 33)
        }

        /// The multiplicative inverse of an odd number modulo 2^64 (Newton's iteration).
        fn inverse(a: u64) -> u64 {
            let mut x = a;
            for _ in 0..6 {
                x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
            }
            x
        }

        fn fmix64_inverse(mut k: u64) -> u64 {
            // `k ^= k >> 33` is its own inverse.
            k ^= k >> 33;
            k = k.wrapping_mul(inverse(M2));
            k ^= k >> 33;
            k = k.wrapping_mul(inverse(M1));
            k ^ (k >> 33)
        }

        /// What a one-column Int64 row with value `x` added to the old checksum.
        pub fn contribution(x: i64) -> u64 {
            let value = fmix64(x as u64 ^ TAG_INT);
            fmix64(fmix64(ROW_SEED.rotate_left(23) ^ value))
        }

        /// The value whose row adds `c` to the old checksum.
        pub fn value_contributing(c: u64) -> i64 {
            let value = fmix64_inverse(fmix64_inverse(c)) ^ ROW_SEED.rotate_left(23);
            (fmix64_inverse(value) ^ TAG_INT) as i64
        }
    }

    #[test]
    fn two_rows_changed_by_opposite_deltas_do_not_cancel_out() {
        // Row 1 changes from 1 to 3; row 2 changes from 2 to the value whose old contribution
        // makes up the difference exactly.
        let delta = replaced_scheme::contribution(3).wrapping_sub(replaced_scheme::contribution(1));
        let compensating = replaced_scheme::value_contributing(
            replaced_scheme::contribution(2).wrapping_sub(delta),
        );
        assert_eq!(
            replaced_scheme::contribution(compensating),
            replaced_scheme::contribution(2).wrapping_sub(delta)
        );
        let old_sum = |rows: &[i64]| {
            rows.iter().fold(0u64, |sum, &x| {
                sum.wrapping_add(replaced_scheme::contribution(x))
            })
        };
        assert_eq!(
            old_sum(&[1, 2]),
            old_sum(&[3, compensating]),
            "the old scheme is blind"
        );

        let source = checksum(vec![Arc::new(Int64Array::from(vec![1, 2]))]);
        let damaged = checksum(vec![Arc::new(Int64Array::from(vec![3, compensating]))]);
        assert_ne!(source, damaged, "two wrong rows must not cancel out");
    }
}
