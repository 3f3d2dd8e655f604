//! Exact decimal numbers as the migration moves them: text read from a driver, Arrow
//! `Decimal128` unscaled integers at a scale, and the text forms partition bounds and checksums
//! are written in. One home for the rules, so a decimal reads and prints the same in the ODBC
//! reader, the native PostgreSQL reader, the planner's key values and the content checksum.
//!
//! Nothing here rounds: a value that does not fit the requested scale or precision is an error.
//!
//! - [`parse`]: `-12.30`, `.5`, `+7.`, `1.0e-05` into sign, digits and a power of ten;
//!   [`Decimal::to_unscaled`] places it at a scale.
//! - [`parse_unscaled`]: positional text (no exponent) straight to an unscaled `i128`.
//! - [`unscaled_to_text`] and [`unsigned_digits`]: the way back; [`write_canonical`]: the
//!   content checksum's one text of a value at any scale.
//! - [`is_plain`] and [`compare_plain`]: the strict `-?digits(.digits)?` form key values travel
//!   in, compared by value.
//! - [`fits_precision`]: at most `precision` digits.

use std::cmp::Ordering;
use std::io::Write as _;

/// A decimal read exactly from text: `(-1)^negative × digits × 10^exponent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    /// ASCII digits of the mantissa without the point; leading zeros allowed.
    pub digits: Vec<u8>,
    pub exponent: i64,
}

/// Parses a plain decimal with an optional exponent (`-12.30`, `.5`, `1.0e-05`, `+7.`);
/// `None` for anything else (`NaN`, `Inf`, blanks, `1_0`, a lone `.`).
pub fn parse(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], parse_exponent(&text[at + 1..])?),
        None => (text, 0),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut digits = Vec::with_capacity(whole.len() + fraction.len());
    digits.extend_from_slice(whole.as_bytes());
    digits.extend_from_slice(fraction.as_bytes());
    let exponent = exponent.checked_sub(i64::try_from(fraction.len()).ok()?)?;
    Some(Decimal {
        negative,
        digits,
        exponent,
    })
}

/// `[+-]digits`, as an exponent small enough that no caller overflows with it.
fn parse_exponent(text: &str) -> Option<i64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    (value.unsigned_abs() <= 1 << 40).then_some(value)
}

impl Decimal {
    /// The unscaled value with exactly `scale` fractional digits, or `None` when the value has
    /// more fractional digits than `scale` (never rounded) or does not fit an `i128`.
    pub fn to_unscaled(&self, scale: i8) -> Option<i128> {
        let significant = self.digits.iter().position(|&d| d != b'0');
        let Some(first) = significant else {
            return Some(0);
        };
        let digits = &self.digits[first..];
        let trailing = digits.iter().rev().take_while(|&&d| d == b'0').count();
        let digits = &digits[..digits.len() - trailing];
        // Power of ten the remaining digits must be multiplied by at the target scale.
        let shift = self
            .exponent
            .checked_add(trailing as i64)?
            .checked_add(i64::from(scale))?;
        if shift < 0 {
            return None;
        }
        let mut value: i128 = 0;
        for &digit in digits {
            value = value
                .checked_mul(10)?
                .checked_add(i128::from(digit - b'0'))?;
        }
        let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        let value = value.checked_mul(factor)?;
        Some(if self.negative { -value } else { value })
    }
}

/// Positional decimal text (`-123.45`, `+7`, `.5`; `1e3` is not accepted) to an unscaled value
/// with `scale` fractional digits. More fractional digits than `scale` is an error, never a
/// rounding.
pub fn parse_unscaled(text: &str, scale: i8) -> Result<i128, String> {
    let invalid =
        || format!("`{text}` is not a decimal number with at most {scale} fractional digits");
    if text.contains(['e', 'E']) {
        return Err(invalid());
    }
    parse(text)
        .and_then(|decimal| decimal.to_unscaled(scale.max(0)))
        .ok_or_else(invalid)
}

/// Whether `unscaled` has at most `precision` digits (`NUMBER(precision, s)` holds it).
pub fn fits_precision(unscaled: i128, precision: u8) -> bool {
    match 10u128.checked_pow(u32::from(precision)) {
        Some(limit) => unscaled.unsigned_abs() < limit,
        None => true,
    }
}

/// `12345` at scale 2 is `123.45`; negative scales append zeros (`7` at -2 is `700`). Every
/// fractional digit of the scale is written (`-5` at 3 is `-0.005`, `100` at 2 is `1.00`).
pub fn unscaled_to_text(unscaled: i128, scale: i8) -> String {
    let mut buffer = [0u8; 40];
    let digits = unsigned_digits(unscaled.unsigned_abs(), &mut buffer);
    let mut text = String::with_capacity(digits.len() + 4);
    if unscaled < 0 {
        text.push('-');
    }
    let digits = std::str::from_utf8(digits).expect("ASCII digits");
    if scale <= 0 {
        text.push_str(digits);
        text.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        return text;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        text.push_str(whole);
        text.push('.');
        text.push_str(fraction);
    } else {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', scale - digits.len()));
        text.push_str(digits);
    }
    text
}

/// The decimal digits of `v`, written at the end of `buffer`. Works in 64-bit pieces: a
/// 128-bit division per digit costs more than the rest of a row's checksum.
pub fn unsigned_digits(v: u128, buffer: &mut [u8; 40]) -> &[u8] {
    const TEN_19: u128 = 10_000_000_000_000_000_000;
    let mut at = buffer.len();
    let mut high = v;
    loop {
        let (rest, mut piece) = if high >= TEN_19 {
            (high / TEN_19, (high % TEN_19) as u64)
        } else {
            (0, high as u64)
        };
        if rest == 0 {
            loop {
                at -= 1;
                buffer[at] = b'0' + (piece % 10) as u8;
                piece /= 10;
                if piece == 0 {
                    return &buffer[at..];
                }
            }
        }
        // A full piece of 19 digits, leading zeros included.
        for _ in 0..19 {
            at -= 1;
            buffer[at] = b'0' + (piece % 10) as u8;
            piece /= 10;
        }
        high = rest;
    }
}

/// The strict form of a decimal key value: optional minus, digits, optional point followed by
/// digits (`-12.3400`; not `+1`, `.5`, `5.` or `1e3`).
pub fn is_plain(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Compares two [`is_plain`] decimals by value (`1.50` equals `1.5`, `-0.0` equals `0`).
pub fn compare_plain(a: &str, b: &str) -> Ordering {
    let (negative_a, magnitude_a) = split_sign(a);
    let (negative_b, magnitude_b) = split_sign(b);
    let negative_a = negative_a && !is_zero(magnitude_a);
    let negative_b = negative_b && !is_zero(magnitude_b);
    match (negative_a, negative_b) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => compare_magnitude(magnitude_a, magnitude_b),
        (true, true) => compare_magnitude(magnitude_b, magnitude_a),
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    }
}

fn is_zero(magnitude: &str) -> bool {
    magnitude.bytes().all(|b| b == b'0' || b == b'.')
}

fn compare_magnitude(a: &str, b: &str) -> Ordering {
    let (whole_a, fraction_a) = a.split_once('.').unwrap_or((a, ""));
    let (whole_b, fraction_b) = b.split_once('.').unwrap_or((b, ""));
    let whole_a = whole_a.trim_start_matches('0');
    let whole_b = whole_b.trim_start_matches('0');
    whole_a
        .len()
        .cmp(&whole_b.len())
        .then_with(|| whole_a.cmp(whole_b))
        .then_with(|| {
            fraction_a
                .trim_end_matches('0')
                .cmp(fraction_b.trim_end_matches('0'))
        })
}

/// Beyond this decimal exponent [`write_canonical`] writes `<digits>e<exponent>`; every
/// `NUMBER` (at most 38 digits, scale 0..=37) stays positional.
const MAX_POSITIONAL_EXPONENT: i64 = 64;

/// Writes the canonical text (the content checksum's, shortest exact positional form, with an
/// exponent beyond ±64) of `(-1)^negative × digits × 10^exponent`; `digits` are ASCII
/// digits, leading zeros allowed.
pub fn write_canonical(negative: bool, digits: &[u8], exponent: i64, out: &mut Vec<u8>) {
    let first = digits.iter().position(|&d| d != b'0');
    let Some(first) = first else {
        out.push(b'0');
        return;
    };
    let digits = &digits[first..];
    let trailing = digits.iter().rev().take_while(|&&d| d == b'0').count();
    let digits = &digits[..digits.len() - trailing];
    let exponent = exponent.saturating_add(trailing as i64);
    if negative {
        out.push(b'-');
    }
    if !(-MAX_POSITIONAL_EXPONENT..=MAX_POSITIONAL_EXPONENT).contains(&exponent) {
        out.extend_from_slice(digits);
        // Writing into a Vec cannot fail.
        let _ = write!(out, "e{exponent}");
        return;
    }
    if exponent >= 0 {
        out.extend_from_slice(digits);
        out.resize(out.len() + exponent as usize, b'0');
        return;
    }
    let fraction = exponent.unsigned_abs() as usize;
    if digits.len() > fraction {
        let (whole, part) = digits.split_at(digits.len() - fraction);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(part);
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + fraction - digits.len(), b'0');
        out.extend_from_slice(digits);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn text_parses_at_a_scale_exactly() {
        assert_eq!(parse_unscaled("-123.450", 4), Ok(-1_234_500));
        assert_eq!(parse_unscaled("+7", 0), Ok(7));
        assert_eq!(parse_unscaled(".5", 1), Ok(5));
        assert_eq!(parse_unscaled("5.", 0), Ok(5));
        assert_eq!(parse_unscaled("0007.10", 1), Ok(71));
        assert!(parse_unscaled("1.23", 1).is_err(), "no rounding");
        assert!(parse_unscaled("1e3", 0).is_err(), "no exponent");
        for bad in ["", ".", "-", "abc", "1_0", " 1", "NaN"] {
            assert!(parse_unscaled(bad, 2).is_err(), "{bad:?}");
        }
        let too_big = "1".repeat(40);
        assert!(parse_unscaled(&too_big, 0).is_err(), "beyond i128");
        assert_eq!(parse_unscaled("-1.5", 2), Ok(-150));
        assert!(parse_unscaled("x", 2)
            .expect_err("not a number")
            .contains("`x` is not a decimal number with at most 2 fractional digits"));
    }

    #[test]
    fn exponent_forms_place_the_point() {
        let d = parse("1.0e-05").expect("decimal");
        assert_eq!(
            (d.negative, d.digits.as_slice(), d.exponent),
            (false, &b"10"[..], -6)
        );
        assert_eq!(d.to_unscaled(5), Some(1));
        assert_eq!(d.to_unscaled(4), None, "would need a rounding");
        assert_eq!(parse("-12.30").and_then(|d| d.to_unscaled(2)), Some(-1230));
        assert_eq!(parse("0e999").and_then(|d| d.to_unscaled(0)), Some(0));
        assert_eq!(
            parse("1e40").and_then(|d| d.to_unscaled(0)),
            None,
            "beyond i128"
        );
        assert!(parse("1e").is_none());
        assert!(parse("inf").is_none());
    }

    #[test]
    fn unscaled_values_print_with_their_scale() {
        assert_eq!(unscaled_to_text(12345, 2), "123.45");
        assert_eq!(unscaled_to_text(-5, 3), "-0.005");
        assert_eq!(unscaled_to_text(7, 0), "7");
        assert_eq!(unscaled_to_text(7, -2), "700");
        assert_eq!(unscaled_to_text(100, 2), "1.00");
        assert_eq!(
            unscaled_to_text(i128::MIN, 0),
            "-170141183460469231731687303715884105728"
        );
    }

    #[test]
    fn precision_counts_digits() {
        assert!(fits_precision(99_999, 5));
        assert!(!fits_precision(100_000, 5));
        assert!(!fits_precision(-100_000, 5));
        assert!(fits_precision(i128::MAX, 39));
        assert!(fits_precision(i128::MIN, 40));
    }

    #[test]
    fn plain_decimals_compare_by_value() {
        assert!(is_plain("-12.3400"));
        for not_plain in ["+1", ".5", "5.", "1e3", "", "-", "1; DROP"] {
            assert!(!is_plain(not_plain), "{not_plain:?}");
        }
        assert_eq!(compare_plain("1.50", "1.5"), Ordering::Equal);
        assert_eq!(compare_plain("-0.0", "0"), Ordering::Equal);
        assert_eq!(compare_plain("-2.5", "-2.25"), Ordering::Less);
        assert_eq!(compare_plain("10", "9.99"), Ordering::Greater);
        assert_eq!(compare_plain("007", "7"), Ordering::Equal);
    }

    proptest! {
        #[test]
        fn text_round_trips_at_every_scale(unscaled in any::<i128>(), scale in 0i8..=38) {
            let text = unscaled_to_text(unscaled, scale);
            prop_assert!(is_plain(&text), "{}", text);
            prop_assert_eq!(parse_unscaled(&text, scale), Ok(unscaled));
        }

        #[test]
        fn digits_match_display(v in any::<u128>()) {
            let mut buffer = [0u8; 40];
            let expected = v.to_string();
            prop_assert_eq!(unsigned_digits(v, &mut buffer), expected.as_bytes());
        }

        #[test]
        fn plain_comparison_agrees_with_the_numbers(
            a in any::<i64>(), b in any::<i64>(), scale_a in 0i8..=18, scale_b in 0i8..=18,
        ) {
            // a × 10^-scale_a against b × 10^-scale_b, compared exactly at a common scale.
            let common = scale_a.max(scale_b);
            let at_common = |v: i64, s: i8| i128::from(v) * 10i128.pow((common - s) as u32);
            let expected = at_common(a, scale_a).cmp(&at_common(b, scale_b));
            prop_assert_eq!(
                compare_plain(&unscaled_to_text(a.into(), scale_a), &unscaled_to_text(b.into(), scale_b)),
                expected
            );
        }

        #[test]
        fn fits_precision_agrees_with_the_digit_count(v in any::<i128>(), precision in 1u8..=38) {
            let digits = v.unsigned_abs().to_string().len();
            prop_assert_eq!(fits_precision(v, precision), v == 0 || digits <= usize::from(precision));
        }
    }

    #[test]
    fn huge_exponents_keep_an_exponent() {
        let write = |digits: &str, exponent: i64| {
            let mut out = Vec::new();
            write_canonical(false, digits.as_bytes(), exponent, &mut out);
            String::from_utf8(out).expect("ASCII")
        };
        assert_eq!(write("1", 64), format!("1{}", "0".repeat(64)));
        assert_eq!(write("1", 65), "1e65");
        assert_eq!(write("1500", 300), "15e302");
        assert_eq!(write("25", -400), "25e-400");
        assert_eq!(write("000", 9), "0");
    }
}
