//! An order-independent content checksum over Arrow values.
//!
//! The extraction reports it so the orchestrator can later tell whether two extractions (or an
//! extraction and a read-back) carried the same rows, whatever their order or file split.
//!
//! Definition (stable; change it only together with a version bump of the stored results):
//! - every value is hashed to 64 bits from a canonical encoding of its *logical* value:
//!   NULL is one constant; integers of any width, and decimals whose value is integral, hash as
//!   the same signed 64-bit integer; other decimals hash as (unscaled i128, scale) after
//!   trailing fractional zeros are stripped (1.50 = 1.5); floats hash as f64 bits with -0.0
//!   folded into 0.0 and every NaN into one NaN; booleans, dates (days since 1970-01-01),
//!   times and timestamps (nanoseconds; with and without zone tagged apart), UTF-8 text and
//!   binary each carry their own tag so `'1'`, `1` and `true` differ;
//! - text that stands for a fixed-point number is the exception: a source type the extraction
//!   carries as its exact decimal text (SQLite `DECIMAL(p,s)`, PostgreSQL bare `numeric`) and
//!   Snowflake loads into `NUMBER`. Its field carries the metadata [`CHECKSUM_AS_KEY`] =
//!   [`CHECKSUM_AS_DECIMAL`] ([`extraction_field`] sets it from the target type), and each value
//!   hashes as the decimal it spells (`12.3`, `12.30`, `1.23e1` and the `NUMBER` 12.30 agree;
//!   a value Snowflake would round does not); text that is no plain decimal hashes as text;
//! - a row hash folds its value hashes in column order, `h = fmix64(rotl(h, 23) ^ v)`;
//! - the checksum is the wrapping sum of `fmix64(row hash)` over all rows.
//!
//! A wrapping sum is commutative and associative, so partitions and files can be checksummed
//! apart and added; it is a 64-bit checksum for detecting change, not a cryptographic digest.

use std::fmt;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Field, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::{Serialize, Serializer};

const ROW_SEED: u64 = 0x243F_6A88_85A3_08D3;
const NULL_HASH: u64 = 0x9E37_79B9_7F4A_7C15;
const TAG_INT: u64 = 0x1000_0000_0000_0001;
const TAG_FLOAT: u64 = 0x2000_0000_0000_0002;
const TAG_BOOL: u64 = 0x3000_0000_0000_0003;
const TAG_DECIMAL: u64 = 0x4000_0000_0000_0004;
const TAG_TEXT: u64 = 0x5000_0000_0000_0005;
const TAG_BINARY: u64 = 0x6000_0000_0000_0006;
const TAG_DATE: u64 = 0x7000_0000_0000_0007;
const TAG_TIME: u64 = 0x8000_0000_0000_0008;
const TAG_TIMESTAMP_NTZ: u64 = 0x9000_0000_0000_0009;
const TAG_TIMESTAMP_TZ: u64 = 0xA000_0000_0000_000A;
const TAG_OTHER: u64 = 0xB000_0000_0000_000B;
const MUL: u64 = 0x9FB2_1C65_1E98_DF25;

/// Field metadata key that tells the checksum how to read a column's values.
pub const CHECKSUM_AS_KEY: &str = "migration.checksum_as";
/// [`CHECKSUM_AS_KEY`] value: the UTF-8 values are decimal numbers in text form.
pub const CHECKSUM_AS_DECIMAL: &str = "decimal";

/// The Arrow field an extraction reads a column as: `data_type` as the dialect decided, marked
/// with [`CHECKSUM_AS_DECIMAL`] when the values arrive as text but the target column
/// (`snowflake_type`, after `columnTypeMappings`) is a fixed-point number, so the extract
/// checksum hashes what the target will hold.
pub fn extraction_field(
    name: &str,
    data_type: DataType,
    nullable: bool,
    snowflake_type: &str,
) -> Field {
    let field = Field::new(name, data_type, nullable);
    let text = matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8);
    if text && is_fixed_point(snowflake_type) {
        let metadata = [(CHECKSUM_AS_KEY.to_owned(), CHECKSUM_AS_DECIMAL.to_owned())];
        return field.with_metadata(std::collections::HashMap::from(metadata));
    }
    field
}

/// Whether a Snowflake type is a fixed-point number (`NUMBER(38,2)`, `DECIMAL`, `INT`, ...).
fn is_fixed_point(snowflake_type: &str) -> bool {
    let upper = snowflake_type.trim().to_ascii_uppercase();
    let name = upper.split('(').next().unwrap_or_default().trim();
    matches!(
        name,
        "NUMBER"
            | "DECIMAL"
            | "NUMERIC"
            | "INT"
            | "INTEGER"
            | "BIGINT"
            | "SMALLINT"
            | "TINYINT"
            | "BYTEINT"
    )
}

/// The wrapping sum of row hashes; add batches in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ContentChecksum(pub u64);

impl ContentChecksum {
    /// Adds every row of `batch`.
    pub fn add_batch(&mut self, batch: &RecordBatch) {
        let mut rows = vec![ROW_SEED; batch.num_rows()];
        let schema = batch.schema();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            if is_decimal_text(field) {
                fold_decimal_text(&mut rows, column);
            } else {
                fold_column(&mut rows, column);
            }
        }
        for row in rows {
            self.0 = self.0.wrapping_add(fmix64(row));
        }
    }

    /// Combines the checksums of two disjoint sets of rows.
    pub fn combine(self, other: ContentChecksum) -> ContentChecksum {
        ContentChecksum(self.0.wrapping_add(other.0))
    }
}

impl fmt::Display for ContentChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Serialized as 16 lowercase hex digits (JSON numbers cannot hold every u64 exactly).
impl Serialize for ContentChecksum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// MurmurHash3's 64-bit finalizer.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    k ^= k >> 33;
    k = k.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    k ^ (k >> 33)
}

fn hash_int(v: i64) -> u64 {
    fmix64(v as u64 ^ TAG_INT)
}

fn hash_float(v: f64) -> u64 {
    let canonical = if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    fmix64(canonical.to_bits() ^ TAG_FLOAT)
}

fn hash_wide(v: i128, tag: u64) -> u64 {
    fmix64(fmix64(v as u64 ^ tag) ^ ((v >> 64) as u64))
}

fn hash_decimal(v: i128, scale: i8) -> u64 {
    // Most decimals fit in 64 bits, where division is much cheaper.
    if let Ok(small) = i64::try_from(v) {
        let (mut v, mut scale) = (small, scale);
        while scale > 0 && v % 10 == 0 {
            v /= 10;
            scale -= 1;
        }
        while scale < 0 {
            let Some(up) = v.checked_mul(10) else { break };
            v = up;
            scale += 1;
        }
        if scale == 0 || v == 0 {
            return hash_int(v);
        }
        return fmix64(hash_wide(v.into(), TAG_DECIMAL) ^ (scale as u8 as u64));
    }
    let (mut v, mut scale) = (v, scale);
    while scale > 0 && v % 10 == 0 {
        v /= 10;
        scale -= 1;
    }
    while scale < 0 {
        let Some(up) = v.checked_mul(10) else { break };
        v = up;
        scale += 1;
    }
    fmix64(hash_wide(v, TAG_DECIMAL) ^ (scale as u8 as u64))
}

/// Parses a plain decimal (`-12.30`, `.5`, `1.0e-05`) exactly into (unscaled, scale); `None`
/// for anything else (`NaN`, `Inf`, blanks, more digits than an i128 holds).
fn parse_decimal(text: &str) -> Option<(i128, i8)> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (negative, digits) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut unscaled: i128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        unscaled = unscaled
            .checked_mul(10)?
            .checked_add(i128::from(byte - b'0'))?;
    }
    let scale = i32::try_from(fraction.len()).ok()?.checked_sub(exponent)?;
    let scale = i8::try_from(scale).ok()?;
    Some((if negative { -unscaled } else { unscaled }, scale))
}

fn hash_decimal_text(text: &str) -> u64 {
    match parse_decimal(text) {
        Some((unscaled, scale)) => hash_decimal(unscaled, scale),
        None => hash_bytes(text.as_bytes(), TAG_TEXT),
    }
}

fn is_decimal_text(field: &Field) -> bool {
    field.metadata().get(CHECKSUM_AS_KEY).map(String::as_str) == Some(CHECKSUM_AS_DECIMAL)
        && matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8)
}

fn fold_decimal_text(rows: &mut [u64], array: &ArrayRef) {
    match array.data_type() {
        DataType::LargeUtf8 => {
            let values = array.as_string::<i64>();
            fold_values(rows, array.as_ref(), |i| hash_decimal_text(values.value(i)))
        }
        _ => {
            let values = array.as_string::<i32>();
            fold_values(rows, array.as_ref(), |i| hash_decimal_text(values.value(i)))
        }
    }
}

fn hash_bytes(bytes: &[u8], tag: u64) -> u64 {
    let mut h = tag ^ (bytes.len() as u64).wrapping_mul(MUL);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact yields 8 bytes"));
        h = (h ^ word).wrapping_mul(MUL).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(tail))
            .wrapping_mul(MUL)
            .rotate_left(29);
    }
    fmix64(h)
}

fn fold_values(rows: &mut [u64], array: &dyn Array, value: impl Fn(usize) -> u64) {
    for (i, row) in rows.iter_mut().enumerate() {
        let v = if array.is_null(i) {
            NULL_HASH
        } else {
            value(i)
        };
        *row = fmix64(row.rotate_left(23) ^ v);
    }
}

macro_rules! fold_primitive {
    ($rows:expr, $array:expr, $type:ty, $hash:expr) => {{
        let values = $array.as_primitive::<$type>().values();
        fold_values($rows, $array.as_ref(), |i| $hash(values[i]))
    }};
}

fn fold_column(rows: &mut [u64], array: &ArrayRef) {
    match array.data_type() {
        DataType::Int8 => fold_primitive!(rows, array, Int8Type, |v: i8| hash_int(v.into())),
        DataType::Int16 => fold_primitive!(rows, array, Int16Type, |v: i16| hash_int(v.into())),
        DataType::Int32 => fold_primitive!(rows, array, Int32Type, |v: i32| hash_int(v.into())),
        DataType::Int64 => fold_primitive!(rows, array, Int64Type, hash_int),
        DataType::UInt8 => fold_primitive!(rows, array, UInt8Type, |v: u8| hash_int(v.into())),
        DataType::UInt16 => fold_primitive!(rows, array, UInt16Type, |v: u16| hash_int(v.into())),
        DataType::UInt32 => fold_primitive!(rows, array, UInt32Type, |v: u32| hash_int(v.into())),
        DataType::UInt64 => {
            fold_primitive!(rows, array, UInt64Type, |v: u64| match i64::try_from(v) {
                Ok(small) => hash_int(small),
                Err(_) => hash_decimal(v.into(), 0),
            })
        }
        DataType::Float32 => {
            fold_primitive!(rows, array, Float32Type, |v: f32| hash_float(v.into()))
        }
        DataType::Float64 => fold_primitive!(rows, array, Float64Type, hash_float),
        DataType::Boolean => {
            let values = array.as_boolean();
            fold_values(rows, array.as_ref(), |i| {
                fmix64(u64::from(values.value(i)) ^ TAG_BOOL)
            })
        }
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            let values = array.as_primitive::<Decimal128Type>();
            fold_values(rows, array.as_ref(), |i| {
                hash_decimal(values.value(i), scale)
            })
        }
        DataType::Utf8 => {
            let values = array.as_string::<i32>();
            fold_values(rows, array.as_ref(), |i| {
                hash_bytes(values.value(i).as_bytes(), TAG_TEXT)
            })
        }
        DataType::LargeUtf8 => {
            let values = array.as_string::<i64>();
            fold_values(rows, array.as_ref(), |i| {
                hash_bytes(values.value(i).as_bytes(), TAG_TEXT)
            })
        }
        DataType::Binary => {
            let values = array.as_binary::<i32>();
            fold_values(rows, array.as_ref(), |i| {
                hash_bytes(values.value(i), TAG_BINARY)
            })
        }
        DataType::LargeBinary => {
            let values = array.as_binary::<i64>();
            fold_values(rows, array.as_ref(), |i| {
                hash_bytes(values.value(i), TAG_BINARY)
            })
        }
        DataType::FixedSizeBinary(_) => {
            let values = array.as_fixed_size_binary();
            fold_values(rows, array.as_ref(), |i| {
                hash_bytes(values.value(i), TAG_BINARY)
            })
        }
        DataType::Date32 => fold_primitive!(rows, array, Date32Type, |v: i32| fmix64(
            v as i64 as u64 ^ TAG_DATE
        )),
        DataType::Date64 => fold_primitive!(rows, array, Date64Type, |v: i64| fmix64(
            v.div_euclid(86_400_000) as u64 ^ TAG_DATE
        )),
        DataType::Time32(TimeUnit::Second) => {
            fold_primitive!(rows, array, Time32SecondType, |v: i32| hash_wide(
                v as i128 * 1_000_000_000,
                TAG_TIME
            ))
        }
        DataType::Time32(_) => {
            fold_primitive!(rows, array, Time32MillisecondType, |v: i32| hash_wide(
                v as i128 * 1_000_000,
                TAG_TIME
            ))
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            fold_primitive!(rows, array, Time64MicrosecondType, |v: i64| hash_wide(
                v as i128 * 1_000,
                TAG_TIME
            ))
        }
        DataType::Time64(_) => {
            fold_primitive!(rows, array, Time64NanosecondType, |v: i64| hash_wide(
                v as i128, TAG_TIME
            ))
        }
        DataType::Timestamp(unit, zone) => {
            let tag = if zone.is_some() {
                TAG_TIMESTAMP_TZ
            } else {
                TAG_TIMESTAMP_NTZ
            };
            match unit {
                TimeUnit::Second => {
                    fold_primitive!(rows, array, TimestampSecondType, |v: i64| hash_wide(
                        v as i128 * 1_000_000_000,
                        tag
                    ))
                }
                TimeUnit::Millisecond => {
                    fold_primitive!(rows, array, TimestampMillisecondType, |v: i64| hash_wide(
                        v as i128 * 1_000_000,
                        tag
                    ))
                }
                TimeUnit::Microsecond => {
                    fold_primitive!(rows, array, TimestampMicrosecondType, |v: i64| hash_wide(
                        v as i128 * 1_000,
                        tag
                    ))
                }
                TimeUnit::Nanosecond => {
                    fold_primitive!(rows, array, TimestampNanosecondType, |v: i64| hash_wide(
                        v as i128, tag
                    ))
                }
            }
        }
        _ => fold_display(rows, array),
    }
}

/// Types the pipeline does not produce today: hash their display text, tagged apart.
fn fold_display(rows: &mut [u64], array: &ArrayRef) {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array.as_ref(), &options) {
        Ok(formatter) => fold_values(rows, array.as_ref(), |i| {
            hash_bytes(formatter.value(i).to_string().as_bytes(), TAG_OTHER)
        }),
        Err(_) => fold_values(rows, array.as_ref(), |_| TAG_OTHER),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
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

    #[test]
    fn row_order_does_not_matter_but_values_and_columns_do() {
        let a = checksum(vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
        ]);
        let b = checksum(vec![
            Arc::new(Int64Array::from(vec![3, 1, 2])),
            Arc::new(StringArray::from(vec!["c", "a", "b"])),
        ]);
        assert_eq!(a, b);
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
    fn logical_values_hash_alike_across_widths_and_scales() {
        let ints = checksum(vec![Arc::new(Int32Array::from(vec![
            Some(7),
            None,
            Some(-2),
        ]))]);
        let longs = checksum(vec![Arc::new(Int64Array::from(vec![
            Some(7),
            None,
            Some(-2),
        ]))]);
        let decimals = checksum(vec![Arc::new(
            Decimal128Array::from(vec![Some(7_000), None, Some(-2_000)])
                .with_precision_and_scale(38, 3)
                .expect("decimal"),
        )]);
        assert_eq!(ints, longs);
        assert_eq!(ints, decimals);
        let a = checksum(vec![Arc::new(
            Decimal128Array::from(vec![150])
                .with_precision_and_scale(10, 2)
                .expect("decimal"),
        )]);
        let b = checksum(vec![Arc::new(
            Decimal128Array::from(vec![15])
                .with_precision_and_scale(10, 1)
                .expect("decimal"),
        )]);
        assert_eq!(a, b, "1.50 == 1.5");
        let c = checksum(vec![Arc::new(
            Decimal128Array::from(vec![15])
                .with_precision_and_scale(10, 2)
                .expect("decimal"),
        )]);
        assert_ne!(a, c, "1.5 != 0.15");
    }

    #[test]
    fn null_zero_empty_and_negative_zero() {
        let null = checksum(vec![Arc::new(StringArray::from(vec![None::<&str>]))]);
        let empty = checksum(vec![Arc::new(StringArray::from(vec![""]))]);
        assert_ne!(null, empty);
        let zero = checksum(vec![Arc::new(Float64Array::from(vec![0.0]))]);
        let negative_zero = checksum(vec![Arc::new(Float64Array::from(vec![-0.0]))]);
        assert_eq!(zero, negative_zero);
        let int_zero = checksum(vec![Arc::new(Int64Array::from(vec![0]))]);
        assert_ne!(zero, int_zero, "float and integer are tagged apart");
    }

    #[test]
    fn timestamps_with_and_without_zone_differ() {
        let ntz = checksum(vec![Arc::new(TimestampMicrosecondArray::from(vec![1]))]);
        let tz = checksum(vec![Arc::new(
            TimestampMicrosecondArray::from(vec![1]).with_timezone("UTC"),
        )]);
        assert_ne!(ntz, tz);
    }

    fn decimal_text(values: Vec<Option<&str>>) -> ContentChecksum {
        let field = extraction_field("c0", DataType::Utf8, true, "NUMBER(10,2)");
        let schema = Arc::new(Schema::new(vec![field]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values))])
            .expect("valid batch");
        let mut c = ContentChecksum::default();
        c.add_batch(&batch);
        c
    }

    fn decimals(values: Vec<Option<i128>>, scale: i8) -> ContentChecksum {
        checksum(vec![Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(38, scale)
                .expect("decimal"),
        )])
    }

    #[test]
    fn decimal_text_hashes_as_the_number_the_target_holds() {
        let loaded = decimals(
            vec![Some(1230), None, Some(-500_000), Some(0), Some(700)],
            2,
        );
        let sqlite_text = decimal_text(vec![
            Some("12.3"),
            None,
            Some("-5000"),
            Some("0"),
            Some("7"),
        ]);
        let postgres_text = decimal_text(vec![
            Some("12.30"),
            None,
            Some("-5000.00"),
            Some("-0.00"),
            Some("7.00"),
        ]);
        let exponents = decimal_text(vec![
            Some("1.23e1"),
            None,
            Some("-5.0E+03"),
            Some("0e0"),
            Some("+7."),
        ]);
        assert_eq!(sqlite_text, loaded);
        assert_eq!(postgres_text, loaded);
        assert_eq!(exponents, loaded);
        assert_eq!(
            decimal_text(vec![Some("1.0e-05")]),
            decimals(vec![Some(1)], 5)
        );
        assert_ne!(
            decimal_text(vec![Some("0.125")]),
            decimals(vec![Some(13)], 2),
            "a value Snowflake rounds differs"
        );
        let plain_text = checksum(vec![Arc::new(StringArray::from(vec!["12.3"]))]);
        assert_ne!(
            plain_text,
            decimals(vec![Some(1230)], 2),
            "unmarked text stays text"
        );
        assert_eq!(
            decimal_text(vec![Some("NaN")]),
            checksum(vec![Arc::new(StringArray::from(vec!["NaN"]))])
        );
    }

    #[test]
    fn only_text_loaded_into_fixed_point_is_marked() {
        let marked = |data_type: DataType, snowflake_type: &str| {
            extraction_field("c", data_type, true, snowflake_type)
                .metadata()
                .contains_key(CHECKSUM_AS_KEY)
        };
        assert!(marked(DataType::Utf8, "NUMBER(38,2)"));
        assert!(marked(DataType::Utf8, " decimal "));
        assert!(marked(DataType::LargeUtf8, "int"));
        assert!(!marked(DataType::Utf8, "VARCHAR"));
        assert!(!marked(DataType::Utf8, "FLOAT"));
        assert!(!marked(DataType::Decimal128(10, 2), "NUMBER(10,2)"));
    }

    #[test]
    fn decimal_parsing() {
        assert_eq!(parse_decimal("-12.30"), Some((-1230, 2)));
        assert_eq!(parse_decimal(".5"), Some((5, 1)));
        assert_eq!(parse_decimal("1.0e+20"), Some((10, -19)));
        assert_eq!(
            parse_decimal("99999999999999999999999999999999999999"),
            Some((99999999999999999999999999999999999999, 0))
        );
        for bad in [
            "", "-", ".", "e5", "1e", "1.2.3", " 1", "Inf", "NaN", "1e999", "1_0",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(
            parse_decimal("999999999999999999999999999999999999999999"),
            None
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
        assert_eq!(serde_json::to_string(&c).expect("json"), format!("\"{c}\""));
    }
}
