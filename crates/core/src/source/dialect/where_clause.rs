//! `whereClauseCriteria`: the one user-written SQL fragment that reaches the source.
//!
//! It is ANDed into the extraction query as `AND (<fragment>)`, so it must be one boolean
//! expression and nothing else. The check is deliberately conservative (it is a scanner, not a
//! parser): outside string literals and double-quoted identifiers it rejects `;`, comments,
//! statement keywords and `$` (PostgreSQL dollar quoting could hide text from the scanner);
//! `\` is refused anywhere, even inside literals, because backslash escapes (`E'\''`, or any
//! string on a server with standard_conforming_strings off) would make the server and this
//! scanner disagree on where a literal ends. Quotes and parentheses must balance.

use thiserror::Error;

/// Why a `whereClauseCriteria` fragment was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WhereClauseError {
    #[error(
        "`whereClauseCriteria` is empty: remove it or write a condition such as `is_deleted = 0`"
    )]
    Empty,
    #[error("`whereClauseCriteria` must be a single condition: remove `{0}`")]
    Forbidden(String),
    #[error(
        "`whereClauseCriteria` must be a single condition, not a statement: remove the keyword `{0}`"
    )]
    Keyword(String),
    #[error("`whereClauseCriteria` has an unterminated {0}: close it")]
    Unterminated(&'static str),
    #[error("`whereClauseCriteria` has unbalanced parentheses: check `(` and `)`")]
    UnbalancedParentheses,
}

/// Words that start or join statements; none belongs in a filter condition.
const STATEMENT_KEYWORDS: &[&str] = &[
    "ALTER",
    "ATTACH",
    "BEGIN",
    "CALL",
    "COMMIT",
    "COPY",
    "CREATE",
    "DECLARE",
    "DELETE",
    "DETACH",
    "DROP",
    "EXEC",
    "EXECUTE",
    "EXCEPT",
    "GRANT",
    "INSERT",
    "INTERSECT",
    "INTO",
    "LOCK",
    "MERGE",
    "MINUS",
    "PRAGMA",
    "REVOKE",
    "ROLLBACK",
    "SELECT",
    "SET",
    "SHUTDOWN",
    "TRUNCATE",
    "UNION",
    "UNLOAD",
    "UPDATE",
    "USE",
    "VACUUM",
    "WITH",
];

/// Checks that `fragment` is a single boolean expression (see the module docs).
pub fn check_where_clause(fragment: &str) -> Result<(), WhereClauseError> {
    if fragment.trim().is_empty() {
        return Err(WhereClauseError::Empty);
    }
    if fragment.contains('\\') {
        return Err(WhereClauseError::Forbidden("\\".into()));
    }
    let chars: Vec<char> = fragment.chars().collect();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' => {
                i = skip_quoted(&chars, i)?;
                continue;
            }
            ';' | '$' => return Err(WhereClauseError::Forbidden(c.to_string())),
            '-' if next == Some('-') => return Err(WhereClauseError::Forbidden("--".into())),
            '/' if next == Some('*') => return Err(WhereClauseError::Forbidden("/*".into())),
            '*' if next == Some('/') => return Err(WhereClauseError::Forbidden("*/".into())),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(WhereClauseError::UnbalancedParentheses);
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect::<String>().to_uppercase();
                if STATEMENT_KEYWORDS.contains(&word.as_str()) {
                    return Err(WhereClauseError::Keyword(word));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err(WhereClauseError::UnbalancedParentheses);
    }
    Ok(())
}

/// Skips a `'...'` literal or `"..."` identifier starting at `start` (a doubled quote is an
/// escaped quote); returns the index after the closing quote.
fn skip_quoted(chars: &[char], start: usize) -> Result<usize, WhereClauseError> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        i += 1;
    }
    Err(WhereClauseError::Unterminated(if quote == '\'' {
        "string literal"
    } else {
        "quoted identifier"
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_conditions() {
        for ok in [
            "is_deleted = 0",
            "status IN ('open', 'it''s; -- fine') AND (a > 1 OR b IS NULL)",
            "\"Select\" = 1",
            "created_at >= DATE '2024-01-01' AND name LIKE 'a%'",
            "amount BETWEEN -5 AND 5.5",
            "x <> 'DROP TABLE t'",
        ] {
            assert_eq!(check_where_clause(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_statements_comments_and_unbalanced_input() {
        let cases = [
            "",
            "1=1; DROP TABLE t",
            "a = 1 -- comment",
            "a = 1 /* c */",
            "a = 1) OR (1=1",
            "(a = 1",
            "a = 'open",
            "\"col = 1",
            "id IN (SELECT id FROM other)",
            "1=1 UNION ALL SELECT 1",
            "a = $$x$$",
            "a = E'\\''",
            "a = 'C:\\temp'",
            "a = 1 INTO x",
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|c| match check_where_clause(c) {
                Ok(()) => format!("{c:?} => accepted"),
                Err(e) => format!("{c:?} => {e}"),
            })
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }
}
