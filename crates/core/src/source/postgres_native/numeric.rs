//! PostgreSQL's binary `numeric`: base-10000 digits with a weight, a sign and a display scale,
//! decoded exactly into a `Decimal128` unscaled value or rendered as PostgreSQL's own text.
//! Neither rounds: a value that does not fit the target precision and scale is an error.

use crate::decimal;

pub(super) const NUMERIC_POS: u16 = 0x0000;
pub(super) const NUMERIC_NEG: u16 = 0x4000;
pub(super) const NUMERIC_NAN: u16 = 0xC000;
pub(super) const NUMERIC_PINF: u16 = 0xD000;
pub(super) const NUMERIC_NINF: u16 = 0xF000;

/// The parts of a binary `numeric`: base-10000 digits, the power of 10000 of the first digit,
/// the sign and the display scale.
struct Numeric<'a> {
    digits: &'a [u8],
    ndigits: usize,
    weight: i16,
    negative: bool,
    dscale: u16,
}

impl Numeric<'_> {
    fn parse(value: &[u8]) -> Result<Numeric<'_>, String> {
        if value.len() < 8 {
            return Err("numeric value is truncated".into());
        }
        let ndigits = u16::from_be_bytes([value[0], value[1]]) as usize;
        let weight = i16::from_be_bytes([value[2], value[3]]);
        let sign = u16::from_be_bytes([value[4], value[5]]);
        let dscale = u16::from_be_bytes([value[6], value[7]]);
        let digits = &value[8..];
        if digits.len() != ndigits * 2 {
            return Err("numeric value is truncated".into());
        }
        let negative = match sign {
            NUMERIC_POS => false,
            NUMERIC_NEG => true,
            NUMERIC_NAN => return Err("numeric NaN cannot be stored in a NUMBER column; map the column to a float or text type".into()),
            NUMERIC_PINF | NUMERIC_NINF => {
                return Err("numeric infinity cannot be stored in a NUMBER column; map the column to a float or text type".into())
            }
            other => return Err(format!("unknown numeric sign {other:#x}")),
        };
        Ok(Numeric {
            digits,
            ndigits,
            weight,
            negative,
            dscale,
        })
    }

    /// The base-10000 digit at `index` (0 = first), zero outside the stored digits.
    fn digit(&self, index: i32) -> i128 {
        if index < 0 || index as usize >= self.ndigits {
            return 0;
        }
        let i = index as usize * 2;
        i16::from_be_bytes([self.digits[i], self.digits[i + 1]]) as i128
    }
}

/// Decodes a binary `numeric` into a Decimal128 unscaled value with exactly `scale` fractional
/// digits. Fails, rather than rounds, when the value has more fractional digits than `scale`
/// or more digits than `precision`.
pub(super) fn numeric_to_decimal(value: &[u8], precision: u8, scale: i8) -> Result<i128, String> {
    let numeric = Numeric::parse(value)?;
    let overflow = || format!("value does not fit NUMBER({precision},{scale})");
    let scale = i32::from(scale);
    let mut acc: i128 = 0;
    // Exponent of 10 of the last digit folded into `acc`, relative to the target scale.
    let mut exponent: i32 = 0;
    for index in 0..numeric.ndigits as i32 {
        let digit = numeric.digit(index);
        let power = i32::from(numeric.weight) - index;
        let e = 4 * power + scale;
        if e >= 0 {
            acc = acc
                .checked_mul(10_000)
                .and_then(|a| a.checked_add(digit))
                .ok_or_else(overflow)?;
            exponent = e;
        } else if e > -4 {
            let cut = 10i128.pow((-e) as u32);
            if digit % cut != 0 {
                return Err(format!("value has more than {scale} fractional digits"));
            }
            acc = acc
                .checked_mul(10i128.pow((4 + e) as u32))
                .and_then(|a| a.checked_add(digit / cut))
                .ok_or_else(overflow)?;
            exponent = 0;
        } else if digit != 0 {
            return Err(format!("value has more than {scale} fractional digits"));
        }
    }
    if exponent > 0 {
        acc = 10i128
            .checked_pow(exponent as u32)
            .and_then(|m| acc.checked_mul(m))
            .ok_or_else(overflow)?;
    }
    if !decimal::fits_precision(acc, precision) {
        return Err(overflow());
    }
    Ok(if numeric.negative { -acc } else { acc })
}

/// Renders a binary `numeric` exactly as PostgreSQL's text output does (display scale kept).
pub(super) fn numeric_to_string(value: &[u8]) -> Result<String, String> {
    let bytes = value;
    if bytes.len() >= 6 {
        let sign = u16::from_be_bytes([bytes[4], bytes[5]]);
        match sign {
            NUMERIC_NAN => return Ok("NaN".into()),
            NUMERIC_PINF => return Ok("Infinity".into()),
            NUMERIC_NINF => return Ok("-Infinity".into()),
            _ => {}
        }
    }
    let numeric = Numeric::parse(value)?;
    let mut text = String::with_capacity(numeric.ndigits * 4 + 4);
    if numeric.negative && numeric.ndigits > 0 {
        text.push('-');
    }
    let weight = i32::from(numeric.weight);
    if weight < 0 {
        text.push('0');
    } else {
        for index in 0..=weight {
            let digit = numeric.digit(index);
            if index == 0 {
                text.push_str(&digit.to_string());
            } else {
                text.push_str(&format!("{digit:04}"));
            }
        }
    }
    let dscale = usize::from(numeric.dscale);
    if dscale > 0 {
        text.push('.');
        let mut fraction = String::with_capacity(dscale + 4);
        let mut index = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", numeric.digit(index)));
            index += 1;
        }
        fraction.truncate(dscale);
        text.push_str(&fraction);
    }
    Ok(text)
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Builds PostgreSQL's binary numeric from its parts.
    fn numeric(digits: &[i16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_decodes_exactly() {
        // 12345.6789 = [1, 2345, 6789] weight 1
        let v = numeric(&[1, 2345, 6789], 1, NUMERIC_POS, 4);
        assert_eq!(numeric_to_decimal(&v, 18, 4), Ok(123_456_789));
        assert_eq!(numeric_to_decimal(&v, 18, 6), Ok(12_345_678_900));
        assert!(numeric_to_decimal(&v, 18, 2).is_err(), "would lose digits");
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("12345.6789"));
        // -0.000000001 = [1000] at power -3 (0.0000 0000 0001 000)
        let v = numeric(&[1000], -3, NUMERIC_NEG, 9);
        assert_eq!(numeric_to_decimal(&v, 38, 9), Ok(-1));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("-0.000000001"));
        // 20000 = [2] weight 1 (trailing zero groups omitted)
        let v = numeric(&[2], 1, NUMERIC_POS, 0);
        assert_eq!(numeric_to_decimal(&v, 10, 0), Ok(20_000));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("20000"));
        // zero with display scale
        let v = numeric(&[], 0, NUMERIC_POS, 3);
        assert_eq!(numeric_to_decimal(&v, 10, 3), Ok(0));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("0.000"));
        let v = numeric(&[], 0, NUMERIC_NAN, 0);
        assert!(numeric_to_decimal(&v, 10, 0)
            .expect_err("NaN")
            .contains("NaN"));
        assert_eq!(numeric_to_string(&v).as_deref(), Ok("NaN"));
    }

    #[test]
    fn numeric_at_full_precision_38_9() {
        // 99999999999999999999999999999.999999999 (29 integer digits, 9 fractional)
        let v = numeric(
            &[
                9, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9000,
            ],
            7,
            NUMERIC_POS,
            9,
        );
        let expected: i128 = "99999999999999999999999999999999999999"
            .parse()
            .expect("i128");
        assert_eq!(numeric_to_decimal(&v, 38, 9), Ok(expected));
        assert_eq!(
            numeric_to_string(&v).as_deref(),
            Ok("99999999999999999999999999999.999999999")
        );
        assert!(
            numeric_to_decimal(&v, 37, 9).is_err(),
            "precision is enforced"
        );
    }
}
