//! Typed key values rendered as SQL literals, per platform.
//!
//! Only validated forms reach the text: integers and decimal/float text that passed their
//! checks, dates and times formatted by us, and strings with every quote doubled. A value
//! whose year falls outside 1..=9999 is refused (no source renders it portably).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use config_schema::SourcePlatform;

use crate::key_range::key_value::KeyValue;

use super::typed_column::TypedColumn;

/// Renders `value` so it compares correctly with `column` on `platform`.
pub fn render(
    platform: SourcePlatform,
    value: &KeyValue,
    column: &TypedColumn,
) -> Result<String, String> {
    use SourcePlatform as P;
    Ok(match value {
        KeyValue::Null => return Err("NULL is not a comparable value".into()),
        KeyValue::Bool(b) => match platform {
            P::Postgresql | P::Redshift => if *b { "TRUE" } else { "FALSE" }.into(),
            P::Sqlserver | P::Teradata | P::Sqlite => if *b { "1" } else { "0" }.into(),
        },
        KeyValue::Int(i) => i.to_string(),
        KeyValue::Decimal(d) => d.as_str().to_string(),
        KeyValue::Float(f) => match platform {
            P::Postgresql | P::Redshift => format!("CAST({} AS DOUBLE PRECISION)", f.as_str()),
            P::Sqlserver | P::Teradata => format!("CAST({} AS FLOAT)", f.as_str()),
            P::Sqlite => f.as_str().to_string(),
        },
        KeyValue::Text(s) => string_literal(platform, s, column)?,
        KeyValue::Date(d) => {
            let text = date_text(*d)?;
            match platform {
                P::Postgresql | P::Redshift | P::Teradata => format!("DATE '{text}'"),
                P::Sqlserver => format!("CAST('{text}' AS DATE)"),
                P::Sqlite => format!("'{text}'"),
            }
        }
        KeyValue::Time(t) => {
            let text = time_text(*t);
            match platform {
                P::Postgresql | P::Redshift | P::Teradata => format!("TIME '{text}'"),
                P::Sqlserver => format!("CAST('{text}' AS TIME(7))"),
                P::Sqlite => format!("'{text}'"),
            }
        }
        KeyValue::Timestamp(ts) => {
            let text = timestamp_text(*ts)?;
            match platform {
                P::Postgresql | P::Redshift | P::Teradata => format!("TIMESTAMP '{text}'"),
                // datetime2(7) holds every datetime/smalldatetime/datetime2 value exactly.
                P::Sqlserver => format!("CAST('{}' AS DATETIME2(7))", text.replacen(' ', "T", 1)),
                P::Sqlite => format!("'{text}'"),
            }
        }
        KeyValue::TimestampTz(ts) => {
            let text = timestamp_text(ts.naive_utc())?;
            match platform {
                P::Postgresql | P::Redshift => format!("TIMESTAMPTZ '{text}+00:00'"),
                P::Teradata => format!("TIMESTAMP '{text}+00:00'"),
                P::Sqlserver => format!(
                    "CAST('{}+00:00' AS DATETIMEOFFSET(7))",
                    text.replacen(' ', "T", 1)
                ),
                P::Sqlite => format!("'{text}'"),
            }
        }
        KeyValue::Uuid(u) => format!("'{}'", u.hyphenated()),
    })
}

/// `'it''s'`; on SQL Server `N'...'` for national character columns so the comparison stays
/// on the column's type (an N literal against a varchar column would convert the column).
///
/// A backslash is an escape character in some string literals, and the text comes from the
/// source data (a key value that became a partition boundary), so it must never end a literal
/// early:
/// - PostgreSQL: a value with a backslash is written as `E'...'` with the backslash doubled,
///   which reads the same whether or not the server has `standard_conforming_strings` on (with
///   it off, a plain literal would treat `\'` as an escaped quote);
/// - Redshift always treats `\` in a string literal as an escape (its own `QUOTE_LITERAL`
///   doubles backslashes and quotes), so both are doubled: `'C:\\dir\\'`;
/// - SQL Server, Teradata and SQLite read backslashes literally; only quotes are doubled.
///
/// NUL cannot be written in a literal on most platforms and is refused.
fn string_literal(
    platform: SourcePlatform,
    s: &str,
    column: &TypedColumn,
) -> Result<String, String> {
    if s.contains('\0') {
        return Err("the value contains a NUL character: choose another partition key".into());
    }
    let escaped = s.replace('\'', "''");
    match platform {
        SourcePlatform::Postgresql if s.contains('\\') => {
            return Ok(format!("E'{}'", escaped.replace('\\', "\\\\")));
        }
        SourcePlatform::Redshift => return Ok(format!("'{}'", escaped.replace('\\', "\\\\"))),
        SourcePlatform::Postgresql
        | SourcePlatform::Sqlserver
        | SourcePlatform::Teradata
        | SourcePlatform::Sqlite => {}
    }
    let national = platform == SourcePlatform::Sqlserver
        && matches!(
            column.data_type.to_lowercase().as_str(),
            "nchar" | "nvarchar" | "ntext" | "sysname"
        );
    Ok(if national {
        format!("N'{escaped}'")
    } else {
        format!("'{escaped}'")
    })
}

fn check_year(year: i32) -> Result<(), String> {
    if (1..=9999).contains(&year) {
        Ok(())
    } else {
        Err(format!("year {year} is outside 1..=9999"))
    }
}

fn date_text(d: NaiveDate) -> Result<String, String> {
    check_year(d.year())?;
    Ok(d.format("%Y-%m-%d").to_string())
}

fn time_text(t: NaiveTime) -> String {
    t.format("%H:%M:%S%.6f").to_string()
}

fn timestamp_text(ts: NaiveDateTime) -> Result<String, String> {
    check_year(ts.year())?;
    Ok(ts.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
}

#[cfg(test)]
mod tests {
    use config_schema::SourcePlatform;

    use super::*;
    use crate::source::catalog::{SourceColumn, TableRef};

    /// Text values that a backslash or quote could end early.
    const TRICKY_TEXT: [&str; 7] = [
        "a\\",
        "C:\\dir\\",
        "it's",
        "a\\'b",
        "\\'",
        "'\\\\''",
        "plain",
    ];

    fn text_column(platform: SourcePlatform) -> TypedColumn {
        let data_type = match platform {
            SourcePlatform::Postgresql => "text",
            SourcePlatform::Redshift => "character varying",
            SourcePlatform::Sqlserver => "nvarchar",
            SourcePlatform::Teradata => "CV",
            SourcePlatform::Sqlite => "TEXT",
        };
        let table = TableRef::parse("d", "s", "t");
        TypedColumn::classify(platform, &table, &SourceColumn::new("k", data_type, 1))
            .expect("a text column")
    }

    /// F8: every platform's literal of values with `\` and `'`, pinned.
    #[test]
    fn text_literals_with_backslashes_and_quotes() {
        let mut lines = Vec::new();
        for platform in SourcePlatform::ALL {
            let column = text_column(platform);
            for value in TRICKY_TEXT {
                let literal =
                    render(platform, &KeyValue::Text(value.into()), &column).expect("renders");
                lines.push(format!("{:<10} {value:<10} {literal}", platform.as_str()));
            }
        }
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn redshift_doubles_backslashes() {
        let column = text_column(SourcePlatform::Redshift);
        let render_text = |v: &str| {
            render(SourcePlatform::Redshift, &KeyValue::Text(v.into()), &column).expect("renders")
        };
        assert_eq!(render_text("a\\"), "'a\\\\'");
        assert_eq!(render_text("a\\'b"), "'a\\\\''b'");
    }
}
