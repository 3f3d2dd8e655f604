//! The binary COPY stream, value by value: framing of the header, tuples and trailer, and one
//! decoder per column that turns a value in its type's binary send format into the Arrow type
//! the catalog chose.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, TimeUnit};
use postgres::types::{Kind, Type};

use super::numeric::{numeric_to_decimal, numeric_to_string};

/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
pub(super) const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Header,
    Tuple,
    Trailer,
}

/// The length of the first complete framing unit in `bytes`, or `None` if more bytes are needed.
pub(super) fn frame(bytes: &[u8], header_seen: bool) -> Result<Option<(usize, Unit)>, String> {
    if !header_seen {
        if bytes.len() < 19 {
            return Ok(None);
        }
        if &bytes[..11] != COPY_SIGNATURE {
            return Err("the copy stream does not start with the binary signature".into());
        }
        let extension = u32::from_be_bytes(bytes[15..19].try_into().expect("4 bytes")) as usize;
        let len = 19 + extension;
        return Ok((bytes.len() >= len).then_some((len, Unit::Header)));
    }
    if bytes.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([bytes[0], bytes[1]]);
    if count == -1 {
        return Ok(Some((2, Unit::Trailer)));
    }
    let mut pos = 2usize;
    for _ in 0..count {
        if bytes.len() < pos + 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        pos += 4;
        if len > 0 {
            pos += len as usize;
        }
    }
    Ok((bytes.len() >= pos).then_some((pos, Unit::Tuple)))
}

pub(super) fn describe_mismatch(pg_type: &Type, arrow_type: &DataType) -> String {
    format!("{} (read as Arrow {arrow_type})", pg_type.name())
}

/// The PostgreSQL type whose binary format a value arrives in: domains arrive as their base.
fn wire_type(pg_type: &Type) -> &Type {
    match pg_type.kind() {
        Kind::Domain(inner) => wire_type(inner),
        _ => pg_type,
    }
}

/// One column's decoder: the source wire format and the Arrow builder it fills.
pub(super) enum ColumnDecoder {
    Bool(BooleanBuilder),
    Int16(Int16Builder),
    Int32(Int32Builder, usize),
    Int64(Int64Builder, usize),
    Float32(Float32Builder),
    Float64(Float64Builder, usize),
    Decimal {
        builder: Decimal128Builder,
        precision: u8,
        scale: i8,
    },
    NumericText(StringBuilder),
    Text(StringBuilder),
    Jsonb(StringBuilder),
    Uuid(StringBuilder),
    Bytes(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Time(Time64MicrosecondBuilder),
}

impl ColumnDecoder {
    /// The decoder for `pg_type` read as `arrow_type`, or `None` if that pair is unsupported.
    pub(super) fn new(pg_type: &Type, arrow_type: &DataType) -> Option<ColumnDecoder> {
        let wire = wire_type(pg_type);
        let is_text_like = matches!(wire.kind(), Kind::Enum(_))
            || [
                Type::TEXT,
                Type::VARCHAR,
                Type::BPCHAR,
                Type::NAME,
                Type::JSON,
                Type::CHAR,
            ]
            .contains(wire)
            // An extension type (no fixed OID) whose binary form is its text.
            || wire.name() == "citext";
        // Byte width of the integer on the wire; 0 marks OID, an unsigned 32-bit value.
        let int_width = match *wire {
            Type::INT2 => Some(2),
            Type::INT4 => Some(4),
            Type::INT8 => Some(8),
            Type::OID => Some(0),
            _ => None,
        };
        let decoder = match (arrow_type, int_width) {
            (DataType::Int16, Some(2)) => ColumnDecoder::Int16(Int16Builder::new()),
            (DataType::Int32, Some(w)) if w <= 4 && *wire != Type::OID => {
                ColumnDecoder::Int32(Int32Builder::new(), w)
            }
            (DataType::Int64, Some(w)) => ColumnDecoder::Int64(Int64Builder::new(), w),
            (DataType::Boolean, _) if *wire == Type::BOOL => {
                ColumnDecoder::Bool(BooleanBuilder::new())
            }
            (DataType::Float32, _) if *wire == Type::FLOAT4 => {
                ColumnDecoder::Float32(Float32Builder::new())
            }
            (DataType::Float64, _) if *wire == Type::FLOAT4 => {
                ColumnDecoder::Float64(Float64Builder::new(), 4)
            }
            (DataType::Float64, _) if *wire == Type::FLOAT8 => {
                ColumnDecoder::Float64(Float64Builder::new(), 8)
            }
            (DataType::Decimal128(precision, scale), _) if *wire == Type::NUMERIC => {
                ColumnDecoder::Decimal {
                    builder: Decimal128Builder::new(),
                    precision: *precision,
                    scale: *scale,
                }
            }
            (DataType::Utf8, _) if *wire == Type::NUMERIC => {
                ColumnDecoder::NumericText(StringBuilder::new())
            }
            (DataType::Utf8, _) if is_text_like => ColumnDecoder::Text(StringBuilder::new()),
            (DataType::Utf8, _) if *wire == Type::JSONB => {
                ColumnDecoder::Jsonb(StringBuilder::new())
            }
            (DataType::Utf8, _) if *wire == Type::UUID => ColumnDecoder::Uuid(StringBuilder::new()),
            (DataType::Binary, _) if *wire == Type::BYTEA => {
                ColumnDecoder::Bytes(BinaryBuilder::new())
            }
            (DataType::Date32, _) if *wire == Type::DATE => {
                ColumnDecoder::Date(Date32Builder::new())
            }
            (DataType::Timestamp(TimeUnit::Microsecond, None), _) if *wire == Type::TIMESTAMP => {
                ColumnDecoder::Timestamp(TimestampMicrosecondBuilder::new(), None)
            }
            (DataType::Timestamp(TimeUnit::Microsecond, Some(zone)), _)
                if *wire == Type::TIMESTAMPTZ =>
            {
                ColumnDecoder::Timestamp(TimestampMicrosecondBuilder::new(), Some(zone.clone()))
            }
            (DataType::Time64(TimeUnit::Microsecond), _) if *wire == Type::TIME => {
                ColumnDecoder::Time(Time64MicrosecondBuilder::new())
            }
            _ => return None,
        };
        Some(decoder)
    }

    pub(super) fn append_null(&mut self) {
        match self {
            ColumnDecoder::Bool(b) => b.append_null(),
            ColumnDecoder::Int16(b) => b.append_null(),
            ColumnDecoder::Int32(b, _) => b.append_null(),
            ColumnDecoder::Int64(b, _) => b.append_null(),
            ColumnDecoder::Float32(b) => b.append_null(),
            ColumnDecoder::Float64(b, _) => b.append_null(),
            ColumnDecoder::Decimal { builder, .. } => builder.append_null(),
            ColumnDecoder::NumericText(b)
            | ColumnDecoder::Text(b)
            | ColumnDecoder::Jsonb(b)
            | ColumnDecoder::Uuid(b) => b.append_null(),
            ColumnDecoder::Bytes(b) => b.append_null(),
            ColumnDecoder::Date(b) => b.append_null(),
            ColumnDecoder::Timestamp(b, _) => b.append_null(),
            ColumnDecoder::Time(b) => b.append_null(),
        }
    }

    /// Appends one non-NULL value in PostgreSQL's binary format.
    pub(super) fn append(&mut self, value: &[u8]) -> Result<(), String> {
        match self {
            ColumnDecoder::Bool(b) => b.append_value(fixed::<1>(value)?[0] != 0),
            ColumnDecoder::Int16(b) => b.append_value(i16::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Int32(b, width) => b.append_value(read_int(value, *width)? as i32),
            ColumnDecoder::Int64(b, width) => b.append_value(read_int(value, *width)?),
            ColumnDecoder::Float32(b) => b.append_value(f32::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Float64(b, 4) => {
                b.append_value(f32::from_be_bytes(fixed(value)?).into())
            }
            ColumnDecoder::Float64(b, _) => b.append_value(f64::from_be_bytes(fixed(value)?)),
            ColumnDecoder::Decimal {
                builder,
                precision,
                scale,
            } => builder.append_value(numeric_to_decimal(value, *precision, *scale)?),
            ColumnDecoder::NumericText(b) => b.append_value(numeric_to_string(value)?),
            ColumnDecoder::Text(b) => b.append_value(utf8(value)?),
            ColumnDecoder::Jsonb(b) => match value.split_first() {
                Some((1, json)) => b.append_value(utf8(json)?),
                _ => return Err("unknown jsonb binary version".into()),
            },
            ColumnDecoder::Uuid(b) => {
                let uuid =
                    uuid::Uuid::from_slice(value).map_err(|e| format!("invalid uuid: {e}"))?;
                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                b.append_value(uuid.hyphenated().encode_lower(&mut text));
            }
            ColumnDecoder::Bytes(b) => b.append_value(value),
            ColumnDecoder::Date(b) => {
                let days = i32::from_be_bytes(fixed(value)?);
                if days == i32::MAX || days == i32::MIN {
                    return Err("date is infinity, which the target cannot store; filter it or cast it in the source".into());
                }
                b.append_value(days.checked_add(PG_EPOCH_DAYS).ok_or("date out of range")?)
            }
            ColumnDecoder::Timestamp(b, _) => {
                let micros = i64::from_be_bytes(fixed(value)?);
                if micros == i64::MAX || micros == i64::MIN {
                    return Err("timestamp is infinity, which the target cannot store; filter it or cast it in the source".into());
                }
                b.append_value(
                    micros
                        .checked_add(PG_EPOCH_MICROS)
                        .ok_or("timestamp out of range")?,
                )
            }
            ColumnDecoder::Time(b) => b.append_value(i64::from_be_bytes(fixed(value)?)),
        }
        Ok(())
    }

    pub(super) fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnDecoder::Bool(b) => Arc::new(b.finish()),
            ColumnDecoder::Int16(b) => Arc::new(b.finish()),
            ColumnDecoder::Int32(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Int64(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Float32(b) => Arc::new(b.finish()),
            ColumnDecoder::Float64(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Decimal {
                builder,
                precision,
                scale,
            } => Arc::new(
                builder
                    .finish()
                    .with_precision_and_scale(*precision, *scale)
                    .expect("precision and scale were accepted by the schema"),
            ),
            ColumnDecoder::NumericText(b)
            | ColumnDecoder::Text(b)
            | ColumnDecoder::Jsonb(b)
            | ColumnDecoder::Uuid(b) => Arc::new(b.finish()),
            ColumnDecoder::Bytes(b) => Arc::new(b.finish()),
            ColumnDecoder::Date(b) => Arc::new(b.finish()),
            ColumnDecoder::Timestamp(b, zone) => {
                Arc::new(b.finish().with_timezone_opt(zone.clone()))
            }
            ColumnDecoder::Time(b) => Arc::new(b.finish()),
        }
    }
}

fn fixed<const N: usize>(value: &[u8]) -> Result<[u8; N], String> {
    value
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", value.len()))
}

fn read_int(value: &[u8], width: usize) -> Result<i64, String> {
    Ok(match width {
        2 => i16::from_be_bytes(fixed(value)?).into(),
        0 => u32::from_be_bytes(fixed(value)?).into(),
        4 => i32::from_be_bytes(fixed(value)?).into(),
        _ => i64::from_be_bytes(fixed(value)?),
    })
}

fn utf8(value: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(value).map_err(|e| format!("text is not valid UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_header_tuples_and_trailer() {
        let mut header = COPY_SIGNATURE.to_vec();
        header.extend_from_slice(&0u32.to_be_bytes());
        header.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(frame(&header[..10], false), Ok(None));
        assert_eq!(frame(&header, false), Ok(Some((19, Unit::Header))));
        let mut tuple = 2i16.to_be_bytes().to_vec();
        tuple.extend_from_slice(&(-1i32).to_be_bytes());
        tuple.extend_from_slice(&3i32.to_be_bytes());
        tuple.extend_from_slice(b"abc");
        assert_eq!(frame(&tuple[..9], true), Ok(None));
        assert_eq!(frame(&tuple, true), Ok(Some((13, Unit::Tuple))));
        assert_eq!(
            frame(&(-1i16).to_be_bytes(), true),
            Ok(Some((2, Unit::Trailer)))
        );
        assert!(frame(b"not a copy stream at all", false).is_err());
    }

    #[test]
    fn decoders_follow_the_catalog_type() {
        assert!(ColumnDecoder::new(&Type::INT4, &DataType::Int64).is_some());
        assert!(
            ColumnDecoder::new(&Type::INT8, &DataType::Int32).is_none(),
            "no narrowing"
        );
        assert!(
            ColumnDecoder::new(&Type::FLOAT8, &DataType::Float32).is_none(),
            "no precision loss"
        );
        assert!(ColumnDecoder::new(
            &Type::TIMESTAMPTZ,
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        )
        .is_none());
        assert!(ColumnDecoder::new(&Type::INTERVAL, &DataType::Utf8).is_none());
        assert_eq!(
            describe_mismatch(&Type::INTERVAL, &DataType::Utf8),
            "interval (read as Arrow Utf8)"
        );
    }

    #[test]
    fn oid_is_unsigned() {
        let mut d = ColumnDecoder::new(&Type::OID, &DataType::Int64).expect("oid");
        d.append(&u32::MAX.to_be_bytes()).expect("oid");
        let array = d.finish();
        let values = array
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("int64");
        assert_eq!(values.value(0), i64::from(u32::MAX));
        assert!(ColumnDecoder::new(&Type::OID, &DataType::Int32).is_none());
    }

    #[test]
    fn dates_and_timestamps_shift_to_unix_epoch() {
        let mut d = ColumnDecoder::new(&Type::DATE, &DataType::Date32).expect("date");
        d.append(&0i32.to_be_bytes()).expect("date");
        assert!(d
            .append(&i32::MAX.to_be_bytes())
            .expect_err("infinity")
            .contains("infinity"));
        let array = d.finish();
        let dates = array
            .as_any()
            .downcast_ref::<arrow::array::Date32Array>()
            .expect("dates");
        assert_eq!(dates.value(0), 10_957);
        let tz: Arc<str> = Arc::from("UTC");
        let mut t = ColumnDecoder::new(
            &Type::TIMESTAMPTZ,
            &DataType::Timestamp(TimeUnit::Microsecond, Some(tz)),
        )
        .expect("timestamptz");
        t.append(&1i64.to_be_bytes()).expect("timestamp");
        let array = t.finish();
        assert_eq!(
            array.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
    }
}
