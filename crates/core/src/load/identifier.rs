//! Snowflake identifiers as they appear in generated SQL.
//!
//! Every name the project writes into Snowflake SQL is quoted, so reserved words (`ORDER`,
//! `GROUP`, `ROWS`), spaces and mixed case all work. A configured name keeps Snowflake's own
//! resolution: a plain name (`orders`) means what it would mean unquoted, the upper-case
//! `"ORDERS"`; a name written in double quotes (`"MixedCase Text"`) keeps its case.

use config_schema::identifier::is_plain_identifier;

use super::error::LoadError;

/// Renders a configured name for SQL, always in double quotes. A name already in double quotes
/// is kept verbatim (its embedded quotes must be doubled); any other name must be a plain
/// identifier and is rendered as the upper-case name Snowflake would resolve it to.
pub fn sql_identifier(name: &str) -> Result<String, LoadError> {
    let invalid = |reason: &str| LoadError::InvalidIdentifier {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if let Some(inner) = name.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| invalid("a quoted name must end with a double quote"))?;
        if inner.is_empty() {
            return Err(invalid("a quoted name must not be empty"));
        }
        if inner.replace("\"\"", "").contains('"') {
            return Err(invalid(
                "a double quote inside a quoted name must be doubled",
            ));
        }
        return Ok(name.to_string());
    }
    if is_plain_identifier(name) {
        Ok(quote_stored(&name.to_ascii_uppercase()))
    } else {
        Err(invalid(
            "use letters, digits, `_` or `$` (not starting with a digit), or write it in double quotes",
        ))
    }
}

/// How Snowflake stores a configured name (what INFORMATION_SCHEMA reports): a quoted name
/// without its quotes, a plain name in upper case.
pub fn stored_name(configured: &str) -> String {
    match configured
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) if !inner.is_empty() => inner.replace("\"\"", "\""),
        _ => configured.to_ascii_uppercase(),
    }
}

/// A stored name (exact, as INFORMATION_SCHEMA reports it) in double quotes for SQL.
pub fn quote_stored(stored: &str) -> String {
    format!("\"{}\"", stored.replace('"', "\"\""))
}

/// The name a source column gets in Snowflake when no `columnNameMappings` entry renames it:
/// a plain identifier stays unquoted (and so folds to upper case); anything else (spaces,
/// punctuation, non-ASCII) is quoted so it survives exactly.
pub fn target_column_name(source_name: &str) -> String {
    if is_plain_identifier(source_name) {
        source_name.to_string()
    } else {
        format!("\"{}\"", source_name.replace('"', "\"\""))
    }
}

/// `"DATABASE"."SCHEMA"."TABLE"`, each part rendered with [`sql_identifier`].
pub fn qualified_name(database: &str, schema: &str, table: &str) -> Result<String, LoadError> {
    Ok(format!(
        "{}.{}.{}",
        sql_identifier(database)?,
        sql_identifier(schema)?,
        sql_identifier(table)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_fold_to_upper_case_and_quoted_names_are_kept() {
        assert_eq!(sql_identifier("orders").unwrap(), "\"ORDERS\"");
        assert_eq!(sql_identifier("order").unwrap(), "\"ORDER\"");
        assert_eq!(sql_identifier("\"MyTable\"").unwrap(), "\"MyTable\"");
        assert_eq!(
            sql_identifier("\"MixedCase Text\"").unwrap(),
            "\"MixedCase Text\""
        );
        assert_eq!(sql_identifier("\"a\"\"b\"").unwrap(), "\"a\"\"b\"");
        assert_eq!(
            qualified_name("tgt", "public", "\"Orders\"").unwrap(),
            "\"TGT\".\"PUBLIC\".\"Orders\""
        );
    }

    #[test]
    fn stored_names_resolve_like_snowflake_and_quote_back() {
        assert_eq!(stored_name("public"), "PUBLIC");
        assert_eq!(stored_name("\"MyTable\""), "MyTable");
        assert_eq!(stored_name("\"a\"\"b\""), "a\"b");
        assert_eq!(quote_stored("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_stored("Order Date"), "\"Order Date\"");
    }

    #[test]
    fn unsafe_names_are_refused_with_the_name() {
        for bad in [
            "",
            "1abc",
            "a b",
            "x;drop table y",
            "\"open",
            "\"a\"b\"",
            "\"\"",
        ] {
            let err = sql_identifier(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn source_columns_that_are_not_plain_get_quoted() {
        assert_eq!(target_column_name("order_id"), "order_id");
        assert_eq!(target_column_name("Order Date"), "\"Order Date\"");
        assert_eq!(target_column_name("naïve"), "\"naïve\"");
        assert_eq!(target_column_name("a\"b"), "\"a\"\"b\"");
    }
}
