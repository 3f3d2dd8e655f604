//! The rules for names written in configuration files, in one place: the offline checks of
//! this crate, the worker and the orchestrator's plan all call these functions, so a name is
//! accepted or refused the same way everywhere.
//!
//! - A **source name** (table, schema, database, column of the source) is used exactly as
//!   written: unquoted, in double quotes (`"My""Table"`, a `"` inside doubled) or in SQL Server
//!   brackets (`[My Table]`, a `]` inside doubled). Quotes must close and must not be empty.
//! - A **Snowflake object name** (the target database, schema and table, which go into
//!   Snowflake SQL text) is either a plain identifier (letters, digits, `_`, `$`, not starting
//!   with a digit or `$`; Snowflake folds it to upper case) or written in double quotes.
//! - A **target column name** may be written like a source name: the orchestrator stores it
//!   exactly (quoted) or upper-cased (unquoted) and quotes it itself when it writes SQL.

/// Snowflake's longest identifier.
pub const MAX_IDENTIFIER_LENGTH: usize = 255;

/// Whether `name` can appear unquoted in Snowflake SQL: letters, digits, `_` and `$`, not
/// starting with a digit or `$`, at most 255 characters (ASCII only).
pub fn is_plain_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$')
        && name.len() <= MAX_IDENTIFIER_LENGTH
}

/// A name as the user wrote it, split into the name itself and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenName {
    /// The name without its quotes or brackets; doubled quotes are undoubled.
    pub name: String,
    /// Written in double quotes or brackets.
    pub quoted: bool,
}

/// Checks a source name (see the module docs) and returns what it names. The message follows
/// the setting's path.
pub fn parse_source_name(written: &str) -> Result<WrittenName, String> {
    let name = written.trim();
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.starts_with('"') {
        return parse_double_quoted(written, name);
    }
    if let Some(rest) = name.strip_prefix('[') {
        let Some(inner) = rest.strip_suffix(']') else {
            return Err(format!(
                "`{written}` opens a bracketed identifier but does not close it: end it with `]`"
            ));
        };
        if inner.is_empty() {
            return Err(format!("`{written}` is an empty bracketed identifier"));
        }
        if inner.replace("]]", "").contains(']') {
            return Err(format!(
                "`{written}` is not a valid bracketed identifier: double any `]` inside the brackets"
            ));
        }
        return Ok(WrittenName {
            name: inner.replace("]]", "]"),
            quoted: true,
        });
    }
    Ok(WrittenName {
        name: name.to_string(),
        quoted: false,
    })
}

/// [`parse_source_name`] when only the verdict matters.
pub fn check_source_name(written: &str) -> Result<(), String> {
    parse_source_name(written).map(|_| ())
}

/// Checks the name of a Snowflake database, schema or table (see the module docs).
pub fn check_snowflake_name(written: &str) -> Result<(), String> {
    if written.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    if written.starts_with('"') {
        return parse_double_quoted(written, written).map(|_| ());
    }
    if is_plain_identifier(written) {
        return Ok(());
    }
    Err(format!(
        "`{written}` is not a Snowflake identifier: use letters, digits, `_` or `$` (not starting with a digit), or write it in double quotes, e.g. \"\\\"{}\\\"\"",
        written.trim().replace('"', "\"\"")
    ))
}

/// The key Snowflake compares column names by when loading with
/// `MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE`: the stored name, upper-cased.
pub fn case_insensitive_key(written_column: &str) -> String {
    let name = match parse_source_name(written_column) {
        Ok(parsed) => parsed.name,
        Err(_) => written_column.to_string(),
    };
    name.to_uppercase()
}

fn parse_double_quoted(written: &str, name: &str) -> Result<WrittenName, String> {
    let Some(inner) = name
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|_| name.len() >= 2)
    else {
        return Err(format!(
            "`{written}` opens a quoted identifier but does not close it: end it with `\"`"
        ));
    };
    if inner.is_empty() || inner.replace("\"\"", "").contains('"') {
        return Err(format!(
            "`{written}` is not a valid quoted identifier: double any `\"` inside the quotes"
        ));
    }
    Ok(WrittenName {
        name: inner.replace("\"\"", "\""),
        quoted: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers() {
        for ok in ["orders", "_x", "A1$", "SNOWCONVERT_AI"] {
            assert!(is_plain_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "$a", "my table", "a-b", "naïve", "\"A\""] {
            assert!(!is_plain_identifier(bad), "{bad}");
        }
        assert!(!is_plain_identifier(&"a".repeat(256)));
    }

    #[test]
    fn source_names_keep_their_quoting() {
        let parse = |s: &str| parse_source_name(s).unwrap();
        assert_eq!(
            parse("\"My\"\"Table\""),
            WrittenName {
                name: "My\"Table".into(),
                quoted: true
            }
        );
        assert_eq!(parse("[My]]Table]").name, "My]Table");
        assert_eq!(
            parse(" orders "),
            WrittenName {
                name: "orders".into(),
                quoted: false
            }
        );
        assert_eq!(parse("my table").name, "my table");
    }

    #[test]
    fn malformed_source_names_are_refused() {
        let cases = [
            "", "  ", "\"", "\"\"", "\"open", "\"a\"b\"", "[open", "[]", "[a]b]",
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:?} => {}", parse_source_name(c).unwrap_err()))
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }

    #[test]
    fn snowflake_names_are_plain_or_double_quoted() {
        for ok in ["ORDERS", "orders", "\"Mixed Case\"", "\"a\"\"b\""] {
            assert_eq!(check_snowflake_name(ok), Ok(()), "{ok}");
        }
        for bad in ["my table", "[Orders]", "1st", "\"open", " ORDERS", ""] {
            assert!(check_snowflake_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_snowflake_name("my table").unwrap_err(),
            "`my table` is not a Snowflake identifier: use letters, digits, `_` or `$` (not starting with a digit), or write it in double quotes, e.g. \"\\\"my table\\\"\""
        );
    }

    #[test]
    fn case_insensitive_keys() {
        assert_eq!(case_insensitive_key("\"Name\""), "NAME");
        assert_eq!(case_insensitive_key("name"), "NAME");
        assert_eq!(case_insensitive_key("[Name]"), "NAME");
        assert_ne!(case_insensitive_key("\"Name \""), "NAME");
    }
}
