//! Snowflake type names as users write them in `columnTypeMappings[].targetType`. The text goes
//! into `CREATE TABLE`, so it must be a type and nothing more: the offline checks and the
//! worker's plan both call [`check_snowflake_type`].
//!
//! Accepted: one or more words (`NUMBER`, `DOUBLE PRECISION`, `TIMESTAMP_NTZ`) followed by at
//! most one parenthesised list of one or two sizes or words (`NUMBER(38,2)`, `VARCHAR(100)`,
//! `VECTOR(FLOAT, 256)`), and nothing after it.
//!
//! Snowflake's VARCHAR limit, which the worker configuration and core's type mapping both
//! enforce, is defined here once.

/// Snowflake's VARCHAR limit: the largest `n` of `VARCHAR(n)` (characters) and the largest text
/// value it stores (bytes). No larger text value can be loaded; the worker's
/// `max_value_bytes` may not exceed it, and the type mapping never declares a longer VARCHAR.
pub const SNOWFLAKE_MAX_VARCHAR_BYTES: u64 = 16_777_216;

/// Checks a Snowflake type name (see the module docs).
pub fn check_snowflake_type(text: &str) -> Result<(), String> {
    if is_type(text.trim()) {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a Snowflake type: write a type name with at most one list of sizes in parentheses, e.g. `NUMBER(38,2)`, `VARCHAR(100)` or `TIMESTAMP_NTZ(9)`"
        ))
    }
}

fn is_type(text: &str) -> bool {
    let (name, arguments) = match text.split_once('(') {
        None => (text, None),
        Some((name, rest)) => match rest.strip_suffix(')') {
            Some(inside) => (name, Some(inside)),
            None => return false,
        },
    };
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() || !words.iter().all(|w| is_word(w)) {
        return false;
    }
    match arguments {
        None => true,
        Some(inside) => {
            let items: Vec<&str> = inside.split(',').map(str::trim).collect();
            items.len() <= 2
                && items.iter().all(|item| {
                    !item.is_empty() && (item.chars().all(|c| c.is_ascii_digit()) || is_word(item))
                })
        }
    }
}

fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_pass() {
        for ok in [
            "NUMBER",
            "DECIMAL(19,4)",
            "number(38, 0)",
            "VARCHAR(100)",
            "DOUBLE PRECISION",
            "TIMESTAMP_NTZ(9)",
            "VECTOR(FLOAT, 256)",
            " BOOLEAN ",
            "TIMESTAMP WITH TIME ZONE",
        ] {
            assert_eq!(check_snowflake_type(ok), Ok(()), "{ok}");
        }
    }

    /// F1b: texts that pass a character filter but are not one type.
    #[test]
    fn anything_more_than_a_type_is_refused() {
        for bad in [
            "",
            "VARCHAR, EXTRA NUMBER",
            "NUMBER) AS SELECT 1 AS",
            "NUMBER(38,4); DROP TABLE x",
            "NUMBER(1,2,3)",
            "NUMBER(38)(2)",
            "NUMBER(38) NOT NULL DEFAULT 1, X INT",
            "VARCHAR(",
            "VARCHAR()",
            "1NUMBER",
            "NUMBER(38,)",
            "VARCHAR(10) COLLATE 'en-ci'",
        ] {
            assert!(check_snowflake_type(bad).is_err(), "{bad}");
        }
    }
}
