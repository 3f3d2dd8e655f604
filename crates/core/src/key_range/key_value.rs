//! Typed values of partition-key columns.
//!
//! Partition bounds travel as JSON (PARTITION_METADATA, task payloads) and the worker rebuilds
//! SQL from them, so a value is never SQL text: it is a tagged, validated value that each
//! dialect renders as a safe literal. Deserialising checks the text forms (decimal digits,
//! ISO dates), so a tampered payload cannot smuggle SQL through a bound.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decimal;

/// One value of one key column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum KeyValue {
    Null,
    Bool(bool),
    Int(i64),
    /// Exact decimal text: optional minus, digits, optional fraction (`-12.3400`).
    Decimal(DecimalText),
    /// A double in Rust's shortest round-trip form; kept as text so JSON never rounds it.
    Float(FloatText),
    Text(String),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Uuid(uuid::Uuid),
}

/// Decimal text that is validated on construction and on deserialisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DecimalText(String);

impl DecimalText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DecimalText {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if decimal::is_plain(&text) {
            Ok(DecimalText(text))
        } else {
            Err(format!("`{text}` is not a decimal number"))
        }
    }
}

impl From<DecimalText> for String {
    fn from(value: DecimalText) -> String {
        value.0
    }
}

/// A finite double kept as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FloatText(String);

impl FloatText {
    pub fn new(value: f64) -> Option<FloatText> {
        value.is_finite().then(|| FloatText(format!("{value:e}")))
    }

    pub fn value(&self) -> f64 {
        self.0.parse().expect("validated on construction")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FloatText {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        // Only digits, sign, point and exponent: `inf`/`nan` parse as f64 but are not literals.
        let allowed = text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
        match text.parse::<f64>() {
            Ok(v) if allowed && v.is_finite() => Ok(FloatText(text)),
            _ => Err(format!("`{text}` is not a finite floating-point number")),
        }
    }
}

impl From<FloatText> for String {
    fn from(value: FloatText) -> String {
        value.0
    }
}

impl KeyValue {
    pub fn decimal(text: &str) -> Option<KeyValue> {
        DecimalText::try_from(text.to_string())
            .ok()
            .map(KeyValue::Decimal)
    }

    pub fn float(value: f64) -> Option<KeyValue> {
        FloatText::new(value).map(KeyValue::Float)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, KeyValue::Null)
    }

    /// SQL comparison of two non-null values of the same kind; `None` when either is NULL or
    /// the kinds differ. Text compares by bytes (a binary collation), which is what the
    /// property tests model; the database applies its own collation to the same predicates.
    pub fn sql_cmp(&self, other: &KeyValue) -> Option<Ordering> {
        use KeyValue as V;
        match (self, other) {
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
            (V::Int(a), V::Int(b)) => Some(a.cmp(b)),
            (V::Decimal(a), V::Decimal(b)) => Some(decimal::compare_plain(a.as_str(), b.as_str())),
            (V::Float(a), V::Float(b)) => a.value().partial_cmp(&b.value()),
            (V::Text(a), V::Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (V::Date(a), V::Date(b)) => Some(a.cmp(b)),
            (V::Time(a), V::Time(b)) => Some(a.cmp(b)),
            (V::Timestamp(a), V::Timestamp(b)) => Some(a.cmp(b)),
            (V::TimestampTz(a), V::TimestampTz(b)) => Some(a.cmp(b)),
            (V::Uuid(a), V::Uuid(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_by_value() {
        let d = |s: &str| KeyValue::decimal(s).expect("valid decimal");
        assert_eq!(d("1.50").sql_cmp(&d("1.5")), Some(Ordering::Equal));
        assert_eq!(d("-2").sql_cmp(&d("1")), Some(Ordering::Less));
        assert_eq!(d("-2.5").sql_cmp(&d("-2.25")), Some(Ordering::Less));
        assert_eq!(d("10").sql_cmp(&d("9.99")), Some(Ordering::Greater));
        assert_eq!(d("-0.0").sql_cmp(&d("0")), Some(Ordering::Equal));
        assert_eq!(KeyValue::Null.sql_cmp(&d("0")), None);
    }

    #[test]
    fn tampered_values_do_not_deserialize() {
        let bad = r#"{"type":"decimal","value":"1; DROP TABLE t"}"#;
        assert!(serde_json::from_str::<KeyValue>(bad).is_err());
        let bad_float = r#"{"type":"float","value":"inf"}"#;
        assert!(serde_json::from_str::<KeyValue>(bad_float).is_err());
        let good = r#"{"type":"decimal","value":"-12.30"}"#;
        assert_eq!(
            serde_json::from_str::<KeyValue>(good).expect("valid"),
            KeyValue::decimal("-12.30").expect("valid")
        );
    }

    #[test]
    fn values_round_trip_through_json() {
        let values = vec![
            KeyValue::Null,
            KeyValue::Int(-5),
            KeyValue::float(1e300).expect("finite"),
            KeyValue::Text("it's".into()),
            KeyValue::Date(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date")),
            KeyValue::Timestamp(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .expect("date")
                    .and_hms_micro_opt(1, 2, 3, 456789)
                    .expect("time"),
            ),
        ];
        let json = serde_json::to_string(&values).expect("serialize");
        let back: Vec<KeyValue> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, values);
        insta::assert_snapshot!(json);
    }
}
