//! A partition's range as a Snowflake predicate over the target columns, for statements that
//! touch one partition in the target (`DELETE` before re-loading a changed partition in
//! checksum sync, `full-replace`).
//!
//! The tree is the same one the source predicate comes from (see [`super::condition`]): NULL
//! placement is spelled out with IS NULL / IS NOT NULL, so Snowflake's own NULL ordering does
//! not matter. What does matter is that Snowflake compares the values in the same order as the
//! source did. [`same_order_in_snowflake`] says when that holds; for other keys (text under a
//! linguistic source collation, SQL Server `uniqueidentifier`, numerics kept as VARCHAR) a
//! range in the target may not hold exactly the rows extracted for the partition, and the
//! caller must not rely on it.

use config_schema::SourcePlatform;
use thiserror::Error;

use crate::key_range::condition::{Condition, KeyOrder};
use crate::key_range::key_value::KeyValue;
use crate::key_range::partition::Partition;
use crate::source::dialect::{ColumnKind, TypedColumn};

/// A key column as it exists in the target.
#[derive(Debug, Clone)]
pub struct TargetKey<'a> {
    /// The exact Snowflake column name (rendered quoted).
    pub name: &'a str,
    pub source: &'a TypedColumn,
    /// The Snowflake type of the target column.
    pub snowflake_type: &'a str,
}

#[derive(Debug, Error)]
pub enum TargetPredicateError {
    #[error(
        "partition bound has {values} values but the key has {keys} columns: re-plan the table"
    )]
    KeyArity { values: usize, keys: usize },
    #[error("key value for target column `{column}` cannot be used in SQL: {reason}")]
    InvalidValue { column: String, reason: String },
}

/// Does Snowflake order this key's values exactly like the source did?
pub fn same_order_in_snowflake(platform: SourcePlatform, key: &TargetKey<'_>) -> bool {
    let target_is_number = key
        .snowflake_type
        .trim()
        .to_uppercase()
        .starts_with("NUMBER");
    match key.source.column_type.kind {
        ColumnKind::Boolean
        | ColumnKind::Int8
        | ColumnKind::UInt8
        | ColumnKind::Int16
        | ColumnKind::Int32
        | ColumnKind::Int64
        | ColumnKind::Decimal { .. }
        | ColumnKind::Float32
        | ColumnKind::Float64
        | ColumnKind::Date
        | ColumnKind::Time { .. }
        | ColumnKind::Timestamp { .. }
        | ColumnKind::TimestampTz { .. } => true,
        // Exact decimal text is compared as a number only if the target column is a NUMBER.
        ColumnKind::UnboundedDecimal => target_is_number,
        // PostgreSQL orders uuid by its 16 bytes, which is the order of its lower-case text;
        // SQL Server orders uniqueidentifier by byte groups from the end.
        ColumnKind::Uuid => platform == SourcePlatform::Postgresql,
        _ => false,
    }
}

/// The Snowflake predicate of a partition over the target columns (`None`: every row).
pub fn target_predicate(
    partition: &Partition,
    keys: &[TargetKey<'_>],
    orders: &[KeyOrder],
) -> Result<Option<String>, TargetPredicateError> {
    for bound in partition.lower.iter().chain(partition.upper.iter()) {
        if bound.values.len() != keys.len() {
            return Err(TargetPredicateError::KeyArity {
                values: bound.values.len(),
                keys: keys.len(),
            });
        }
    }
    match partition.condition(orders) {
        Condition::True => Ok(None),
        condition => render(&condition, keys).map(Some),
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn render(condition: &Condition, keys: &[TargetKey<'_>]) -> Result<String, TargetPredicateError> {
    Ok(match condition {
        Condition::True => "TRUE".into(),
        Condition::False => "FALSE".into(),
        Condition::Cmp { column, op, value } => format!(
            "{} {} {}",
            quote(keys[*column].name),
            op.sql(),
            literal(value, &keys[*column])?
        ),
        Condition::IsNull(i) => format!("{} IS NULL", quote(keys[*i].name)),
        Condition::IsNotNull(i) => format!("{} IS NOT NULL", quote(keys[*i].name)),
        Condition::And(parts) | Condition::Or(parts) => {
            let joiner = if matches!(condition, Condition::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let mut rendered = Vec::with_capacity(parts.len());
            for part in parts {
                let text = render(part, keys)?;
                rendered.push(match part {
                    Condition::And(_) | Condition::Or(_) => format!("({text})"),
                    _ => text,
                });
            }
            rendered.join(joiner)
        }
    })
}

/// Snowflake literals. Single-quoted strings in Snowflake also read backslash escapes, so both
/// `'` and `\` are escaped.
fn literal(value: &KeyValue, key: &TargetKey<'_>) -> Result<String, TargetPredicateError> {
    let text = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    Ok(match value {
        KeyValue::Null => {
            return Err(TargetPredicateError::InvalidValue {
                column: key.name.to_string(),
                reason: "NULL is not a comparable value".into(),
            })
        }
        KeyValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        KeyValue::Int(i) => i.to_string(),
        KeyValue::Decimal(d) => d.as_str().to_string(),
        KeyValue::Float(f) => format!("CAST({} AS DOUBLE)", f.as_str()),
        KeyValue::Text(s) => text(s),
        KeyValue::Date(d) => format!("'{}'::DATE", d.format("%Y-%m-%d")),
        KeyValue::Time(t) => format!("'{}'::TIME", t.format("%H:%M:%S%.6f")),
        KeyValue::Timestamp(ts) => {
            format!("'{}'::TIMESTAMP_NTZ", ts.format("%Y-%m-%d %H:%M:%S%.6f"))
        }
        KeyValue::TimestampTz(ts) => format!(
            "'{}'::TIMESTAMP_TZ",
            ts.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f +00:00")
        ),
        KeyValue::Uuid(u) => format!("'{}'", u.hyphenated()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::condition::{Bound, NullOrder};
    use crate::source::dialect::{ColumnType, Extraction};

    fn column(kind: ColumnKind) -> TypedColumn {
        TypedColumn {
            name: "src".into(),
            data_type: "x".into(),
            column_type: ColumnType {
                kind,
                extraction: Extraction::Native,
            },
            nullable: true,
        }
    }

    #[test]
    fn renders_snowflake_ranges_over_target_names() {
        let id = column(ColumnKind::Int64);
        let name = column(ColumnKind::Text { max_length: None });
        let keys = [
            TargetKey {
                name: "ORDER_ID",
                source: &id,
                snowflake_type: "NUMBER(19,0)",
            },
            TargetKey {
                name: "Region",
                source: &name,
                snowflake_type: "VARCHAR",
            },
        ];
        let orders = [KeyOrder {
            nulls: NullOrder::Last,
            nullable: true,
        }; 2];
        let p = Partition {
            index: 2,
            lower: Some(Bound {
                values: vec![KeyValue::Int(10), KeyValue::Text("it's C:\\".into())],
                inclusive: true,
            }),
            upper: Some(Bound {
                values: vec![KeyValue::Int(20), KeyValue::Null],
                inclusive: false,
            }),
            estimated_rows: 0,
        };
        let sql = target_predicate(&p, &keys, &orders)
            .expect("renders")
            .expect("bounded");
        insta::assert_snapshot!(sql);
        assert_eq!(
            target_predicate(&Partition::whole_table(0), &keys, &orders).expect("renders"),
            None
        );
        assert!(same_order_in_snowflake(
            SourcePlatform::Postgresql,
            &keys[0]
        ));
        assert!(!same_order_in_snowflake(
            SourcePlatform::Postgresql,
            &keys[1]
        ));
    }
}
