//! The canonical text of one Arrow value: what the content checksum hashes.
//!
//! Each value becomes a short tag, a colon and a text that depends only on the value's logical
//! meaning, never on its Arrow width, scale, unit or on an engine's formatting:
//!
//! | tag | values | canonical text |
//! |---|---|---|
//! | `n:` | integers of any width, decimals, text that spells a decimal for a `NUMBER` target | exact positional decimal: no exponent, no leading zeros, no trailing fractional zeros, `-` only before a non-zero value (`-12.3`, `0`, `0.0000000001`); beyond 10^±64 `<digits>e<exponent>` |
//! | `f:` | floating point of any width | the shortest digits that read back as the same `f64`, in exponent form (`1e300`, `-5e-324`, `1.5e0`); `-0.0` is `0e0`, every NaN `NaN`, infinities `inf` / `-inf` |
//! | `b:` | booleans | `true` / `false` |
//! | `s:` | UTF-8 text | the text itself |
//! | `x:` | binary | lowercase hexadecimal |
//! | `d:` | dates | ISO 8601, proleptic Gregorian (`2024-02-29`; years outside 0..=9999 signed, `-0044`) |
//! | `t:` | times of day | `HH:MM:SS` and, when not zero, `.` and the fraction to nanoseconds without trailing zeros |
//! | `l:` | timestamps without zone | `YYYY-MM-DDTHH:MM:SS[.fraction]` like dates and times |
//! | `z:` | timestamps with zone | the instant, in UTC: as `l:` plus `Z` (the Arrow zone name only chooses how an instant is shown, so it is not part of the value) |
//! | `j:` | text that holds JSON for a `VARIANT`/`OBJECT`/`ARRAY` target | canonical JSON (see `json.rs`) |
//! | `o:` | any other Arrow type | arrow's display text |
//!
//! Text marked as a decimal or as JSON that is not one keeps the `s:` form, so it differs from
//! every value of the target type.

use std::io::Write as _;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Field, Float32Type,
    Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, Time32MillisecondType,
    Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::checksum_as::{CHECKSUM_AS_DECIMAL, CHECKSUM_AS_JSON, CHECKSUM_AS_KEY};
use super::json::write_canonical_json;
use crate::decimal::{self, unsigned_digits, write_canonical as write_decimal_digits};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Writes the canonical text of the non-NULL value at a row into a buffer.
pub(super) type ValueWriter<'a> = Box<dyn Fn(usize, &mut Vec<u8>) + 'a>;

/// How a text column is read, from its field's [`CHECKSUM_AS_KEY`] metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextReading {
    Text,
    Decimal,
    Json,
}

fn text_reading(field: &Field) -> TextReading {
    match field.metadata().get(CHECKSUM_AS_KEY).map(String::as_str) {
        Some(CHECKSUM_AS_DECIMAL) => TextReading::Decimal,
        Some(CHECKSUM_AS_JSON) => TextReading::Json,
        _ => TextReading::Text,
    }
}

macro_rules! primitive {
    ($array:expr, $type:ty, $write:expr) => {{
        let values = $array.as_primitive::<$type>().values().clone();
        Box::new(move |row: usize, out: &mut Vec<u8>| $write(values[row], out))
    }};
}

/// The writer for one column of a batch.
pub(super) fn value_writer<'a>(field: &Field, array: &'a ArrayRef) -> ValueWriter<'a> {
    match array.data_type() {
        DataType::Int8 => primitive!(array, Int8Type, |v: i8, out| write_integer(v.into(), out)),
        DataType::Int16 => primitive!(array, Int16Type, |v: i16, out| write_integer(v.into(), out)),
        DataType::Int32 => primitive!(array, Int32Type, |v: i32, out| write_integer(v.into(), out)),
        DataType::Int64 => primitive!(array, Int64Type, |v: i64, out| write_integer(v.into(), out)),
        DataType::UInt8 => primitive!(array, UInt8Type, |v: u8, out| write_integer(v.into(), out)),
        DataType::UInt16 => {
            primitive!(array, UInt16Type, |v: u16, out| write_integer(
                v.into(),
                out
            ))
        }
        DataType::UInt32 => {
            primitive!(array, UInt32Type, |v: u32, out| write_integer(
                v.into(),
                out
            ))
        }
        DataType::UInt64 => {
            primitive!(array, UInt64Type, |v: u64, out| write_integer(
                v.into(),
                out
            ))
        }
        DataType::Float32 => {
            primitive!(array, Float32Type, |v: f32, out| write_float(v.into(), out))
        }
        DataType::Float64 => primitive!(array, Float64Type, write_float),
        DataType::Decimal128(_, scale) => {
            let scale = i64::from(*scale);
            primitive!(array, Decimal128Type, |v: i128, out| write_decimal_i128(
                v, scale, out
            ))
        }
        DataType::Decimal256(_, scale) => {
            let scale = i64::from(*scale);
            primitive!(
                array,
                Decimal256Type,
                |v: arrow::datatypes::i256, out: &mut Vec<u8>| {
                    let text = v.to_string();
                    let (negative, digits) = match text.strip_prefix('-') {
                        Some(digits) => (true, digits),
                        None => (false, text.as_str()),
                    };
                    out.extend_from_slice(b"n:");
                    write_decimal_digits(negative, digits.as_bytes(), -scale, out);
                }
            )
        }
        DataType::Boolean => {
            let values = array.as_boolean().clone();
            Box::new(move |row, out| {
                out.extend_from_slice(if values.value(row) {
                    b"b:true"
                } else {
                    b"b:false"
                })
            })
        }
        DataType::Utf8 => {
            let values = array.as_string::<i32>();
            text_writer(text_reading(field), move |row| values.value(row))
        }
        DataType::LargeUtf8 => {
            let values = array.as_string::<i64>();
            text_writer(text_reading(field), move |row| values.value(row))
        }
        DataType::Utf8View => {
            let values = array.as_string_view();
            text_writer(text_reading(field), move |row| values.value(row))
        }
        DataType::Binary => {
            let values = array.as_binary::<i32>();
            Box::new(move |row, out| write_binary(values.value(row), out))
        }
        DataType::LargeBinary => {
            let values = array.as_binary::<i64>();
            Box::new(move |row, out| write_binary(values.value(row), out))
        }
        DataType::BinaryView => {
            let values = array.as_binary_view();
            Box::new(move |row, out| write_binary(values.value(row), out))
        }
        DataType::FixedSizeBinary(_) => {
            let values = array.as_fixed_size_binary();
            Box::new(move |row, out| write_binary(values.value(row), out))
        }
        DataType::Date32 => primitive!(array, Date32Type, |v: i32, out: &mut Vec<u8>| {
            out.extend_from_slice(b"d:");
            write_date(v.into(), out);
        }),
        DataType::Date64 => primitive!(array, Date64Type, |v: i64, out: &mut Vec<u8>| {
            out.extend_from_slice(b"d:");
            write_date(v.div_euclid(SECONDS_PER_DAY * 1_000), out);
        }),
        DataType::Time32(TimeUnit::Second) => {
            primitive!(array, Time32SecondType, |v: i32, out| write_time(
                i64::from(v) * NANOS_PER_SECOND,
                out
            ))
        }
        DataType::Time32(_) => {
            primitive!(array, Time32MillisecondType, |v: i32, out| write_time(
                i64::from(v) * 1_000_000,
                out
            ))
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            primitive!(array, Time64MicrosecondType, |v: i64, out| write_time(
                v.saturating_mul(1_000),
                out
            ))
        }
        DataType::Time64(_) => primitive!(array, Time64NanosecondType, write_time),
        DataType::Timestamp(unit, zone) => {
            let with_zone = zone.is_some();
            match unit {
                TimeUnit::Second => {
                    primitive!(array, TimestampSecondType, |v: i64, out| write_timestamp(
                        i128::from(v) * i128::from(NANOS_PER_SECOND),
                        with_zone,
                        out
                    ))
                }
                TimeUnit::Millisecond => {
                    primitive!(array, TimestampMillisecondType, |v: i64, out| {
                        write_timestamp(i128::from(v) * 1_000_000, with_zone, out)
                    })
                }
                TimeUnit::Microsecond => {
                    primitive!(array, TimestampMicrosecondType, |v: i64, out| {
                        write_timestamp(i128::from(v) * 1_000, with_zone, out)
                    })
                }
                TimeUnit::Nanosecond => {
                    primitive!(array, TimestampNanosecondType, |v: i64, out| {
                        write_timestamp(i128::from(v), with_zone, out)
                    })
                }
            }
        }
        _ => display_writer(array),
    }
}

fn text_writer<'a>(reading: TextReading, value: impl Fn(usize) -> &'a str + 'a) -> ValueWriter<'a> {
    match reading {
        TextReading::Text => Box::new(move |row, out| write_text(value(row), out)),
        TextReading::Decimal => Box::new(move |row, out| write_decimal_text(value(row), out)),
        TextReading::Json => Box::new(move |row, out| write_json_text(value(row), out)),
    }
}

/// Types the pipeline never produces: their display text, tagged apart.
fn display_writer(array: &ArrayRef) -> ValueWriter<'_> {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array.as_ref(), &options) {
        Ok(formatter) => Box::new(move |row, out| {
            out.extend_from_slice(b"o:");
            // Writing into a Vec cannot fail; a formatter error leaves the tag alone.
            let _ = write!(out, "{}", formatter.value(row));
        }),
        Err(_) => Box::new(|_, out| out.extend_from_slice(b"o:")),
    }
}

fn write_integer(v: i128, out: &mut Vec<u8>) {
    out.extend_from_slice(b"n:");
    if v < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 40];
    out.extend_from_slice(unsigned_digits(v.unsigned_abs(), &mut digits));
}

fn write_decimal_i128(unscaled: i128, scale: i64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 40];
    let digits = unsigned_digits(unscaled.unsigned_abs(), &mut digits);
    out.extend_from_slice(b"n:");
    write_decimal_digits(unscaled < 0, digits, -scale, out);
}

/// `v` in exactly `width` digits (the value is known to fit).
fn push_padded(v: u32, width: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + width, b'0');
    let mut v = v;
    for at in (start..start + width).rev() {
        out[at] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn write_decimal_text(text: &str, out: &mut Vec<u8>) {
    match decimal::parse(text) {
        Some(decimal) => {
            out.extend_from_slice(b"n:");
            write_decimal_digits(decimal.negative, &decimal.digits, decimal.exponent, out);
        }
        None => write_text(text, out),
    }
}

fn write_json_text(text: &str, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(b"j:");
    if write_canonical_json(text, out).is_err() {
        out.truncate(start);
        write_text(text, out);
    }
}

fn write_text(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"s:");
    out.extend_from_slice(text.as_bytes());
}

fn write_binary(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"x:");
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0x0f)]);
    }
}

fn write_float(v: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"f:");
    if v == 0.0 {
        out.extend_from_slice(b"0e0");
    } else if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
    } else {
        // Ryū gives the shortest digits that read back as the same f64 (`1e300`, `1.5`,
        // `123456.0`, `1.2e-7`); they are rewritten as `d[.ddd]e<exponent>`.
        let mut buffer = ryu::Buffer::new();
        write_exponent_form(buffer.format_finite(v).as_bytes(), out);
    }
}

/// `[-]digits[.digits][e[-]digits]` (a non-zero number) as `[-]d[.ddd]e<exponent>`.
fn write_exponent_form(text: &[u8], out: &mut Vec<u8>) {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (
            &text[..at],
            std::str::from_utf8(&text[at + 1..])
                .ok()
                .and_then(|e| e.parse::<i64>().ok())
                .unwrap_or(0),
        ),
        None => (text, 0),
    };
    let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    let mut digits = [0u8; 40];
    let mut count = 0;
    for &d in whole.iter().chain(fraction) {
        if count < digits.len() {
            digits[count] = d;
            count += 1;
        }
    }
    let digits = &digits[..count];
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    let significant = &digits[leading..];
    let trailing = significant.iter().rev().take_while(|&&d| d == b'0').count();
    let significant = &significant[..significant.len() - trailing];
    if significant.is_empty() {
        out.extend_from_slice(b"0e0");
        return;
    }
    let point = whole.len() as i64 - leading as i64 - 1 + exponent;
    if negative {
        out.push(b'-');
    }
    out.push(significant[0]);
    if significant.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&significant[1..]);
    }
    out.push(b'e');
    if point < 0 {
        out.push(b'-');
    }
    let mut buffer = [0u8; 40];
    out.extend_from_slice(unsigned_digits(
        u128::from(point.unsigned_abs()),
        &mut buffer,
    ));
}

/// `(year, month, day)` of a day count since 1970-01-01, proleptic Gregorian (the civil-date
/// algorithm of eras of 400 years: 146,097 days each).
pub(super) fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097); // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn write_date(days: i64, out: &mut Vec<u8>) {
    let (year, month, day) = civil_date(days);
    if (0..=9999).contains(&year) {
        push_padded(year as u32, 4, out);
    } else {
        // Outside ISO's four digits: a sign and at least four digits. Writing into a Vec
        // cannot fail.
        let _ = write!(out, "{year:+05}");
    }
    out.push(b'-');
    push_padded(month, 2, out);
    out.push(b'-');
    push_padded(day, 2, out);
}

/// `HH:MM:SS[.fraction]` of nanoseconds since midnight.
fn write_clock(nanos_of_day: i64, out: &mut Vec<u8>) {
    let seconds = (nanos_of_day / NANOS_PER_SECOND) as u32;
    let fraction = (nanos_of_day % NANOS_PER_SECOND) as u32;
    push_padded(seconds / 3_600, 2, out);
    out.push(b':');
    push_padded(seconds / 60 % 60, 2, out);
    out.push(b':');
    push_padded(seconds % 60, 2, out);
    if fraction != 0 {
        out.push(b'.');
        let start = out.len();
        push_padded(fraction, 9, out);
        let zeros = out[start..]
            .iter()
            .rev()
            .take_while(|&&d| d == b'0')
            .count();
        out.truncate(out.len() - zeros);
    }
}

fn write_time(nanos_of_day: i64, out: &mut Vec<u8>) {
    if !(0..SECONDS_PER_DAY * NANOS_PER_SECOND).contains(&nanos_of_day) {
        // Not a time of day: keep the raw count, tagged apart.
        let _ = write!(out, "o:{nanos_of_day}ns");
        return;
    }
    out.extend_from_slice(b"t:");
    write_clock(nanos_of_day, out);
}

fn write_timestamp(nanos: i128, with_zone: bool, out: &mut Vec<u8>) {
    let nanos_per_day = i128::from(SECONDS_PER_DAY * NANOS_PER_SECOND);
    // Any i64 count of seconds, ms, µs or ns divided by a day's nanoseconds fits an i64.
    let days = nanos.div_euclid(nanos_per_day) as i64;
    let nanos_of_day = nanos.rem_euclid(nanos_per_day) as i64;
    out.extend_from_slice(if with_zone { b"z:" } else { b"l:" });
    write_date(days, out);
    out.push(b'T');
    write_clock(nanos_of_day, out);
    if with_zone {
        out.push(b'Z');
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).expect("canonical text is UTF-8")
    }

    fn decimal(unscaled: i128, scale: i64) -> String {
        text(|out| write_decimal_i128(unscaled, scale, out))
    }

    #[test]
    fn decimals_are_positional_without_redundant_zeros() {
        assert_eq!(decimal(1230, 2), "n:12.3");
        assert_eq!(decimal(-500_000, 2), "n:-5000");
        assert_eq!(decimal(0, 10), "n:0");
        assert_eq!(decimal(1, 10), "n:0.0000000001");
        assert_eq!(decimal(-1, 10), "n:-0.0000000001");
        assert_eq!(decimal(15, -3), "n:15000");
        assert_eq!(
            decimal(99_999_999_999_999_999_999_999_999_999_999_999_999, 0),
            "n:99999999999999999999999999999999999999"
        );
        assert_eq!(
            decimal(-99_999_999_999_999_999_999_999_999_999_999_999_999, 10),
            "n:-9999999999999999999999999999.9999999999"
        );
        assert_eq!(
            decimal(i128::MIN, 0),
            "n:-170141183460469231731687303715884105728"
        );
        assert_eq!(
            text(|out| write_integer(i64::MIN.into(), out)),
            "n:-9223372036854775808"
        );
        assert_eq!(
            text(|out| write_integer(u64::MAX.into(), out)),
            "n:18446744073709551615"
        );
        // The same value at any scale or width: one text (the 64-bit/128-bit split of the old
        // checksum hashed 10000000000 at scale 9 differently from the integer).
        assert_eq!(decimal(10_000_000_000_000_000_000, 9), "n:10000000000");
        assert_eq!(
            text(|out| write_integer(10_000_000_000, out)),
            "n:10000000000"
        );
    }

    #[test]
    fn decimal_text_reads_every_plain_spelling() {
        let read = |t: &str| text(|out| write_decimal_text(t, out));
        for (spelling, canonical) in [
            ("12.30", "n:12.3"),
            ("-5000.00", "n:-5000"),
            ("-0.00", "n:0"),
            ("0e0", "n:0"),
            ("1.23e1", "n:12.3"),
            ("-5.0E+03", "n:-5000"),
            ("+7.", "n:7"),
            (".5", "n:0.5"),
            ("1.0e-05", "n:0.00001"),
            ("000123.4500", "n:123.45"),
            (
                "123456789012345678901234567890123456789012.5",
                "n:123456789012345678901234567890123456789012.5",
            ),
        ] {
            assert_eq!(read(spelling), canonical, "{spelling}");
        }
        for not_decimal in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1.2.3",
            " 1",
            "Inf",
            "NaN",
            "1e9999999999999",
            "1_0",
        ] {
            assert_eq!(
                read(not_decimal),
                format!("s:{not_decimal}"),
                "{not_decimal:?}"
            );
        }
    }

    #[test]
    fn floats_use_the_shortest_round_trip_digits() {
        let float = |v: f64| text(|out| write_float(v, out));
        assert_eq!(float(1e300), "f:1e300");
        assert_eq!(float(-1e300), "f:-1e300");
        assert_eq!(float(5e-324), "f:5e-324");
        assert_eq!(float(1.5), "f:1.5e0");
        // Exactly halfway between two 17-digit spellings: Ryū takes the even one (as Python does;
        // Rust's `{:e}` writes `...913e14`).
        assert_eq!(
            float(-189_740_039_033_319.0 - 0.125),
            "f:-1.8974003903331912e14"
        );
        assert_eq!(float(0.1), "f:1e-1");
        assert_eq!(float(-0.0), "f:0e0");
        assert_eq!(float(f64::NAN), "f:NaN");
        assert_eq!(float(f64::INFINITY), "f:inf");
        assert_eq!(float(f64::NEG_INFINITY), "f:-inf");
        assert_eq!(
            float(f64::from(3.402_823_5e38_f32)),
            "f:3.4028234663852886e38"
        );
    }

    #[test]
    fn dates_times_and_timestamps() {
        let date = |days: i64| text(|out| write_date(days, out));
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_782), "2024-02-29");
        assert_eq!(date(-719_162), "0001-01-01");
        assert_eq!(date(2_932_896), "9999-12-31");
        assert_eq!(date(-719_163), "0000-12-31");
        assert_eq!(date(-719_529), "-0001-12-31");
        assert_eq!(date(2_932_897), "+10000-01-01");
        let time = |nanos: i64| text(|out| write_time(nanos, out));
        assert_eq!(time(0), "t:00:00:00");
        assert_eq!(time(86_399_999_999_000), "t:23:59:59.999999");
        assert_eq!(time(43_200_500_000_000), "t:12:00:00.5");
        assert_eq!(time(-1), "o:-1ns");
        let timestamp = |micros: i64, zone: bool| {
            text(|out| write_timestamp(i128::from(micros) * 1_000, zone, out))
        };
        assert_eq!(timestamp(1, false), "l:1970-01-01T00:00:00.000001");
        assert_eq!(timestamp(-1, true), "z:1969-12-31T23:59:59.999999Z");
        assert_eq!(
            timestamp(-62_135_596_800_000_000, false),
            "l:0001-01-01T00:00:00"
        );
        assert_eq!(
            timestamp(253_402_300_799_999_999, true),
            "z:9999-12-31T23:59:59.999999Z"
        );
    }

    proptest! {
        #[test]
        fn civil_dates_agree_with_chrono(days in -3_000_000i64..3_000_000) {
            let expected = NaiveDate::from_ymd_opt(1970, 1, 1)
                .expect("epoch")
                .checked_add_signed(chrono::Duration::days(days))
                .expect("in chrono's range");
            let (year, month, day) = civil_date(days);
            prop_assert_eq!(
                (year, month, day),
                (i64::from(expected.year()), expected.month(), expected.day())
            );
        }

        #[test]
        fn floats_print_as_rusts_shortest_exponent_form(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            let expected = if v == 0.0 {
                "f:0e0".to_owned()
            } else if v.is_nan() {
                "f:NaN".to_owned()
            } else {
                format!("f:{v:e}")
            };
            let ours = text(|out| write_float(v, out));
            if ours != expected {
                // Only a tie may differ: a value exactly halfway between two shortest spellings
                // (e.g. -189740039033319.125, `...912e14` or `...913e14`). Both read back as
                // the same f64 and are as short; the checksum only needs one writer on both sides.
                let read = |t: &str| t[2..].parse::<f64>().map(f64::to_bits).ok();
                prop_assert_eq!(read(&ours), read(&expected), "{} vs {}", ours, expected);
                prop_assert_eq!(ours.len(), expected.len(), "{} vs {}", ours, expected);
            }
        }

        #[test]
        fn decimal_text_and_decimal128_agree(unscaled in any::<i64>(), scale in 0i64..20) {
            let as_text = {
                let digits = unscaled.unsigned_abs().to_string();
                let sign = if unscaled < 0 { "-" } else { "" };
                format!("{sign}{digits}e-{scale}")
            };
            prop_assert_eq!(
                text(|out| write_decimal_text(&as_text, out)),
                decimal(unscaled.into(), scale)
            );
        }
    }
}
