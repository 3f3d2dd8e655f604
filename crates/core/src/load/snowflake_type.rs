//! The Snowflake column types the project writes into `CREATE TABLE`, checked against a small
//! grammar. The types of a table come from the worker's analyze result (a value in
//! TASK_QUEUE.RESULT), so the orchestrator re-checks them before any DDL: a type is text that
//! lands verbatim in SQL, and only type names may get there.
//!
//! Grammar (case-insensitive, spaces between tokens allowed):
//!
//! ```text
//! type   := name [ "(" number [ "," number ] ")" ]
//! name   := one of TYPE_NAMES (multi-word names such as DOUBLE PRECISION included)
//! number := 1 to 9 decimal digits
//! ```

/// Every Snowflake data type name the grammar accepts.
const TYPE_NAMES: &[&str] = &[
    "NUMBER",
    "DECIMAL",
    "DEC",
    "NUMERIC",
    "INT",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "BYTEINT",
    "FLOAT",
    "FLOAT4",
    "FLOAT8",
    "DOUBLE",
    "DOUBLE PRECISION",
    "REAL",
    "VARCHAR",
    "CHAR",
    "CHARACTER",
    "CHAR VARYING",
    "CHARACTER VARYING",
    "NCHAR",
    "NCHAR VARYING",
    "NVARCHAR",
    "NVARCHAR2",
    "STRING",
    "TEXT",
    "BINARY",
    "VARBINARY",
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP_LTZ",
    "TIMESTAMP_NTZ",
    "TIMESTAMP_TZ",
    "VARIANT",
    "OBJECT",
    "ARRAY",
    "GEOGRAPHY",
    "GEOMETRY",
];

/// Checks a type against the grammar; the type in a normal spelling (upper case, single
/// spaces between words, no spaces around the arguments), or why it is not a type.
pub fn checked_snowflake_type(text: &str) -> Result<String, String> {
    let upper = text.trim().to_ascii_uppercase();
    let (name_part, arguments) = match upper.split_once('(') {
        None => (upper.as_str(), None),
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("`{}` opens `(` but does not end with `)`", text.trim()))?;
            (name, Some(inner))
        }
    };
    let name = name_part.split_whitespace().collect::<Vec<_>>().join(" ");
    if !TYPE_NAMES.contains(&name.as_str()) {
        return Err(format!("`{}` is not a Snowflake type name", text.trim()));
    }
    let Some(arguments) = arguments else {
        return Ok(name);
    };
    let numbers: Vec<&str> = arguments.split(',').map(str::trim).collect();
    let well_formed = (1..=2).contains(&numbers.len())
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(format!(
            "`{}` has arguments that are not one or two numbers",
            text.trim()
        ));
    }
    Ok(format!("{name}({})", numbers.join(",")))
}

/// Whether a column of this type holds semi-structured values (VARIANT, OBJECT, ARRAY): such
/// columns are loaded through `PARSE_JSON`, because a Parquet string loaded into them as it is
/// would stay a string.
pub fn is_semi_structured(snowflake_type: &str) -> bool {
    let upper = snowflake_type.trim().to_ascii_uppercase();
    let name = upper.split(['(', ' ']).next().unwrap_or_default();
    matches!(name, "VARIANT" | "OBJECT" | "ARRAY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_with_arguments_are_accepted_and_normalised() {
        for (text, normal) in [
            ("NUMBER(38,4)", "NUMBER(38,4)"),
            ("number( 10 , 0 )", "NUMBER(10,0)"),
            ("TIMESTAMP_TZ(6)", "TIMESTAMP_TZ(6)"),
            ("VARCHAR", "VARCHAR"),
            ("double   precision", "DOUBLE PRECISION"),
            ("BINARY(100)", "BINARY(100)"),
            ("VARIANT", "VARIANT"),
        ] {
            assert_eq!(
                checked_snowflake_type(text).as_deref(),
                Ok(normal),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_that_is_more_than_a_type_is_refused() {
        for text in [
            "NUMBER) AS SELECT 1 A --",
            "VARCHAR, INJECTED NUMBER",
            "VARCHAR(10), X NUMBER(1)",
            "NUMBER(38,4,1)",
            "NUMBER(a)",
            "NUMBER(",
            "VARCHAR COLLATE 'x'",
            "",
            "TEXT; DROP TABLE T",
        ] {
            assert!(checked_snowflake_type(text).is_err(), "{text} was accepted");
        }
        assert_eq!(
            checked_snowflake_type("VARCHAR, INJECTED NUMBER").unwrap_err(),
            "`VARCHAR, INJECTED NUMBER` is not a Snowflake type name"
        );
    }

    #[test]
    fn semi_structured_types_are_recognised() {
        assert!(is_semi_structured("VARIANT"));
        assert!(is_semi_structured("object"));
        assert!(is_semi_structured("ARRAY"));
        assert!(!is_semi_structured("VARCHAR"));
        assert!(!is_semi_structured("NUMBER(38,0)"));
    }
}
