//! Canonical JSON: one text per JSON value, whoever serialised it.
//!
//! Snowflake re-serialises a VARIANT (its own key order, spacing and number format), PostgreSQL
//! `jsonb` reorders keys and `json` keeps the user's text; all of them mean the same value. The
//! canonical form is the value parsed (RFC 8259) and written back with
//! - no whitespace;
//! - object members sorted by key (by the key's UTF-8 bytes, i.e. code point order; members with
//!   equal keys keep their order);
//! - numbers as exact decimals in the checksum's number form (`2.50` = `2.5`, `1e3` = `1000`,
//!   `-0` = `0`, `1E+300` = `1e300`): JSON numbers are decimal text, and Snowflake keeps
//!   every number that fits 38 digits exactly;
//! - strings with only `"`, `\` and control characters escaped (`\b \f \n \r \t`, others
//!   `\u00XX`), every other character as itself (so `"\u00e9"` = `"é"`).
//!
//! Anything that is not one JSON value (trailing text, a lone surrogate escape, nesting deeper
//! than [`MAX_DEPTH`]) is an error: the caller then hashes the text as text.

use crate::decimal::write_canonical as write_decimal_digits;

/// Deeper nesting is refused rather than recursed into.
const MAX_DEPTH: usize = 256;

/// Why a text is not canonicalised (the caller falls back to the raw text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NotJson;

/// Appends the canonical form of the JSON value in `text` to `out`; on error `out` holds a
/// partial write the caller discards.
pub(super) fn write_canonical_json(text: &str, out: &mut Vec<u8>) -> Result<(), NotJson> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    parser.skip_whitespace();
    parser.value(out, 0)?;
    parser.skip_whitespace();
    if parser.at != parser.bytes.len() {
        return Err(NotJson);
    }
    Ok(())
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), NotJson> {
        if self.peek() != Some(byte) {
            return Err(NotJson);
        }
        self.at += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8], out: &mut Vec<u8>) -> Result<(), NotJson> {
        if !self.bytes[self.at..].starts_with(word) {
            return Err(NotJson);
        }
        self.at += word.len();
        out.extend_from_slice(word);
        Ok(())
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), NotJson> {
        if depth > MAX_DEPTH {
            return Err(NotJson);
        }
        match self.peek().ok_or(NotJson)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => {
                let text = self.string()?;
                write_string(&text, out);
                Ok(())
            }
            b't' => self.literal(b"true", out),
            b'f' => self.literal(b"false", out),
            b'n' => self.literal(b"null", out),
            b'-' | b'0'..=b'9' => self.number(out),
            _ => Err(NotJson),
        }
    }

    fn object(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), NotJson> {
        self.expect(b'{')?;
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(NotJson);
                }
                let key = self.string()?;
                self.skip_whitespace();
                self.expect(b':')?;
                self.skip_whitespace();
                let mut value = Vec::new();
                self.value(&mut value, depth + 1)?;
                members.push((key, value));
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(NotJson),
                }
            }
        }
        // A stable sort: members with equal keys keep their order.
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out.push(b'{');
        for (i, (key, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_string(key, out);
            out.push(b':');
            out.extend_from_slice(value);
        }
        out.push(b'}');
        Ok(())
    }

    fn array(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), NotJson> {
        self.expect(b'[')?;
        out.push(b'[');
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            out.push(b']');
            return Ok(());
        }
        let mut first = true;
        loop {
            if !first {
                out.push(b',');
            }
            first = false;
            self.skip_whitespace();
            self.value(out, depth + 1)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    out.push(b']');
                    return Ok(());
                }
                _ => return Err(NotJson),
            }
        }
    }

    /// A string token, unescaped.
    fn string(&mut self) -> Result<String, NotJson> {
        self.expect(b'"')?;
        let mut text = Vec::new();
        loop {
            let byte = self.peek().ok_or(NotJson)?;
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escape = self.peek().ok_or(NotJson)?;
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => text.push(escape),
                        b'b' => text.push(0x08),
                        b'f' => text.push(0x0c),
                        b'n' => text.push(b'\n'),
                        b'r' => text.push(b'\r'),
                        b't' => text.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut utf8 = [0u8; 4];
                            text.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        }
                        _ => return Err(NotJson),
                    }
                }
                0x00..=0x1f => return Err(NotJson),
                _ => text.push(byte),
            }
        }
        // The input is a &str and escapes produce whole characters.
        String::from_utf8(text).map_err(|_| NotJson)
    }

    fn hex4(&mut self) -> Result<u32, NotJson> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(NotJson)?;
        let digits = std::str::from_utf8(digits).map_err(|_| NotJson)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NotJson);
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| NotJson)
    }

    /// The character of `\uXXXX` (the `\u` already read), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, NotJson> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.at..].starts_with(b"\\u") {
                    return Err(NotJson);
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(NotJson);
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(NotJson),
            _ => first,
        };
        char::from_u32(code).ok_or(NotJson)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, written canonically.
    fn number(&mut self, out: &mut Vec<u8>) -> Result<(), NotJson> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let whole = self.digits();
        if whole.is_empty() || (whole.len() > 1 && whole[0] == b'0') {
            return Err(NotJson);
        }
        let mut fraction: &[u8] = &[];
        if self.peek() == Some(b'.') {
            self.at += 1;
            fraction = self.digits();
            if fraction.is_empty() {
                return Err(NotJson);
            }
        }
        let mut exponent: i64 = 0;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            let sign: i64 = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    -1
                }
                Some(b'+') => {
                    self.at += 1;
                    1
                }
                _ => 1,
            };
            let digits = self.digits();
            if digits.is_empty() || digits.len() > 12 {
                return Err(NotJson);
            }
            let magnitude: i64 = std::str::from_utf8(digits)
                .map_err(|_| NotJson)?
                .parse()
                .map_err(|_| NotJson)?;
            exponent = sign * magnitude;
        }
        let mut digits = Vec::with_capacity(whole.len() + fraction.len());
        digits.extend_from_slice(whole);
        digits.extend_from_slice(fraction);
        let exponent = exponent - fraction.len() as i64;
        write_decimal_digits(negative, &digits, exponent, out);
        Ok(())
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let bytes = self.bytes;
        &bytes[start..self.at]
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{00}'..='\u{1f}' => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes())
            }
            _ => {
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Result<String, NotJson> {
        let mut out = Vec::new();
        write_canonical_json(text, &mut out)?;
        Ok(String::from_utf8(out).expect("canonical JSON is UTF-8"))
    }

    #[test]
    fn snowflakes_reserialised_variant_equals_the_source_text() {
        // PostgreSQL jsonb's text, the user's json text and Snowflake's pretty-printed VARIANT.
        let jsonb = r#"{"a": [1, 2.50, "x"], "b": 1, "c": {"y": 1e3, "z": null}}"#;
        let json = r#"{"b":1,"a":[1,2.5,"x"],"c":{"z":null,"y":1000}}"#;
        let snowflake = "{\n  \"a\": [\n    1,\n    2.5,\n    \"x\"\n  ],\n  \"b\": 1,\n  \"c\": {\n    \"y\": 1000,\n    \"z\": null\n  }\n}";
        let expected = r#"{"a":[1,2.5,"x"],"b":1,"c":{"y":1000,"z":null}}"#;
        assert_eq!(canonical(jsonb), Ok(expected.to_owned()));
        assert_eq!(canonical(json), Ok(expected.to_owned()));
        assert_eq!(canonical(snowflake), Ok(expected.to_owned()));
    }

    #[test]
    fn numbers_are_exact_decimals() {
        for (number, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0e5", "0"),
            ("2.50", "2.5"),
            ("1E+300", "1e300"),
            ("1e3", "1000"),
            ("-12.5e-3", "-0.0125"),
            (
                "123456789012345678901234567890.123",
                "123456789012345678901234567890.123",
            ),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(canonical(number), Ok(expected.to_owned()), "{number}");
        }
        for bad in [
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "--1",
            "1e1234567890123",
            "NaN",
        ] {
            assert_eq!(canonical(bad), Err(NotJson), "{bad}");
        }
    }

    #[test]
    fn strings_are_unescaped_and_escaped_minimally() {
        assert_eq!(
            canonical(r#""\u00e9\/\"\\\n\u0001\ud83e\udd84""#),
            Ok("\"é/\\\"\\\\\\n\\u0001🦄\"".to_owned())
        );
        assert_eq!(canonical(r#""é🦄""#), Ok("\"é🦄\"".to_owned()));
        for bad in [
            r#""\ud83e""#,
            r#""\udd84x""#,
            "\"a\u{01}\"",
            r#""\x""#,
            r#""open"#,
        ] {
            assert_eq!(canonical(bad), Err(NotJson), "{bad}");
        }
    }

    #[test]
    fn keys_sort_by_code_point_and_equal_keys_keep_their_order() {
        assert_eq!(
            canonical(r#"{"é":1,"z":2,"A":3,"a":[{"y":1,"x":2}],"z":1}"#),
            Ok(r#"{"A":3,"a":[{"x":2,"y":1}],"z":2,"z":1,"é":1}"#.to_owned())
        );
    }

    #[test]
    fn only_one_json_value_is_accepted() {
        assert_eq!(canonical(" [ ] "), Ok("[]".to_owned()));
        assert_eq!(canonical(" { } "), Ok("{}".to_owned()));
        assert_eq!(canonical("true"), Ok("true".to_owned()));
        for bad in [
            "",
            "[1,]",
            "{\"a\":1,}",
            "[1] [2]",
            "{1:2}",
            "tru",
            "nul",
            "[1 2]",
        ] {
            assert_eq!(canonical(bad), Err(NotJson), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert_eq!(canonical(&deep), Err(NotJson));
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(canonical(&fine).is_ok());
    }
}
