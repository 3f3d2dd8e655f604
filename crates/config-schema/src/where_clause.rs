//! `whereClauseCriteria`: the one user-written SQL fragment that reaches the source.
//!
//! It is ANDed into the extraction query as `AND (<fragment>)`, so it must be one boolean
//! expression and nothing else. This is the only check of that rule: the offline `validate`,
//! the create commands, the worker's analysis and every extraction query call
//! [`check_where_clause`], so a fragment is accepted or refused the same way everywhere.
//!
//! The check is deliberately conservative (a scanner, not a parser). It splits the fragment
//! into the tokens the platform's own tokenizer would see: string literals (`'...'`, a doubled
//! quote escapes itself), double-quoted identifiers, and on the platforms that have them
//! bracketed identifiers (`[...]`: SQL Server doubles `]` inside, SQLite ends at the first `]`)
//! and backtick identifiers (SQLite, doubled backtick inside). Outside those tokens it rejects
//! `;`, comments, statement keywords and `$` (PostgreSQL dollar quoting could hide text from
//! the scanner), and it never lets a parenthesis close one it did not open, so the fragment
//! cannot leave the `(...)` it is wrapped in. `\` is refused anywhere, even inside literals,
//! because backslash escapes (`E'\''`, or any string on a server with
//! standard_conforming_strings off, such as Redshift) would make the server and this scanner
//! disagree on where a literal ends.
//!
//! When the platform is not known (`orchestrator validate` without `--source-platform`), the
//! fragment must pass the scanner of every platform.

use thiserror::Error;

use crate::platform::SourcePlatform;

/// Why a `whereClauseCriteria` fragment was refused. `Display` names the setting; [`reason`]
/// is the same sentence to follow a JSON path.
///
/// [`reason`]: WhereClauseError::reason
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`whereClauseCriteria` {}", self.reason())]
pub enum WhereClauseError {
    Empty,
    /// A character sequence that has no place in a condition (`;`, comments, `$`, `\`).
    Forbidden(String),
    /// A word that starts or joins statements.
    Keyword(String),
    /// A literal or quoted identifier that never ends (what it is, e.g. "string literal").
    Unterminated(&'static str),
    UnbalancedParentheses,
}

impl WhereClauseError {
    /// What is wrong and what to do, phrased to follow the setting's path
    /// (`tables[0].whereClauseCriteria must be a single expression: remove `;``).
    pub fn reason(&self) -> String {
        match self {
            WhereClauseError::Empty => {
                "must not be empty: remove it to migrate every row, or write a condition such as `is_deleted = 0`".to_string()
            }
            WhereClauseError::Forbidden(text) if is_comment(text) => {
                format!("must not contain comments: remove `{text}`")
            }
            WhereClauseError::Forbidden(text) => {
                format!("must be a single expression: remove `{text}`")
            }
            WhereClauseError::Keyword(word) => format!(
                "must be a single expression, not a statement: remove the keyword `{word}`"
            ),
            WhereClauseError::Unterminated(what) => format!("has an unterminated {what}: close it"),
            WhereClauseError::UnbalancedParentheses => {
                "has unbalanced parentheses: check `(` and `)`".to_string()
            }
        }
    }
}

fn is_comment(text: &str) -> bool {
    matches!(text, "--" | "/*" | "*/")
}

/// Words that start or join statements; none belongs in a filter condition.
const STATEMENT_KEYWORDS: &[&str] = &[
    "ALTER",
    "ATTACH",
    "BEGIN",
    "BULK",
    "CALL",
    "COMMIT",
    "COPY",
    "CREATE",
    "DBCC",
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
    "WAITFOR",
    "WITH",
];

/// How `[` opens an identifier on a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Brackets {
    /// `[` is an ordinary character (PostgreSQL array subscripts, Teradata).
    None,
    /// `[...]` with `]]` standing for one `]` (SQL Server).
    DoubledClose,
    /// `[...]` ending at the first `]`, no escape (SQLite's tokenizer).
    FirstClose,
}

/// The quoting rules of one platform's tokenizer that matter to the scanner.
#[derive(Debug, Clone, Copy)]
struct Quoting {
    brackets: Brackets,
    backticks: bool,
}

impl Quoting {
    fn of(platform: SourcePlatform) -> Quoting {
        match platform {
            SourcePlatform::Postgresql | SourcePlatform::Redshift | SourcePlatform::Teradata => {
                Quoting {
                    brackets: Brackets::None,
                    backticks: false,
                }
            }
            SourcePlatform::Sqlserver => Quoting {
                brackets: Brackets::DoubledClose,
                backticks: false,
            },
            SourcePlatform::Sqlite => Quoting {
                brackets: Brackets::FirstClose,
                backticks: true,
            },
        }
    }
}

/// Checks that `fragment` is a single boolean expression for `platform` (see the module docs).
pub fn check_where_clause(
    platform: SourcePlatform,
    fragment: &str,
) -> Result<(), WhereClauseError> {
    scan(Quoting::of(platform), fragment)
}

/// [`check_where_clause`] when the platform may be unknown: `None` requires the fragment to
/// pass on every platform.
pub fn check_where_clause_on(
    platform: Option<SourcePlatform>,
    fragment: &str,
) -> Result<(), WhereClauseError> {
    match platform {
        Some(platform) => check_where_clause(platform, fragment),
        None => SourcePlatform::ALL
            .into_iter()
            .try_for_each(|platform| check_where_clause(platform, fragment)),
    }
}

/// Checks a filter that runs on Snowflake (a validation workflow's `target_where_clause`).
/// Snowflake quotes like PostgreSQL (`'...'`, `"..."`); its backslash escapes and `$$`
/// strings are refused by the shared rules.
pub fn check_snowflake_where_clause(fragment: &str) -> Result<(), WhereClauseError> {
    scan(Quoting::of(SourcePlatform::Postgresql), fragment)
}

fn scan(quoting: Quoting, fragment: &str) -> Result<(), WhereClauseError> {
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
            '\'' => {
                i = skip_quoted(&chars, i, '\'', "string literal")?;
                continue;
            }
            '"' => {
                i = skip_quoted(&chars, i, '"', "quoted identifier")?;
                continue;
            }
            '`' if quoting.backticks => {
                i = skip_quoted(&chars, i, '`', "backtick-quoted identifier")?;
                continue;
            }
            '[' if quoting.brackets == Brackets::DoubledClose => {
                i = skip_quoted(&chars, i, ']', "bracketed identifier")?;
                continue;
            }
            '[' if quoting.brackets == Brackets::FirstClose => {
                i = skip_to(&chars, i, ']', "bracketed identifier")?;
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

/// Skips a quoted token from its opening character at `start` to `close`, where a doubled
/// `close` stands for one; returns the index after the closing character.
fn skip_quoted(
    chars: &[char],
    start: usize,
    close: char,
    what: &'static str,
) -> Result<usize, WhereClauseError> {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == close {
            if chars.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        i += 1;
    }
    Err(WhereClauseError::Unterminated(what))
}

/// Skips from the opening character at `start` to the first `close` (no escape); returns the
/// index after it.
fn skip_to(
    chars: &[char],
    start: usize,
    close: char,
    what: &'static str,
) -> Result<usize, WhereClauseError> {
    chars[start + 1..]
        .iter()
        .position(|&c| c == close)
        .map(|offset| start + 1 + offset + 1)
        .ok_or(WhereClauseError::Unterminated(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourcePlatform as P;

    fn verdicts(platform: SourcePlatform, cases: &[&str]) -> String {
        cases
            .iter()
            .map(|c| match check_where_clause(platform, c) {
                Ok(()) => format!("{c:?} => accepted"),
                Err(e) => format!("{c:?} => {e}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn ordinary_conditions_pass_on_every_platform() {
        for ok in [
            "is_deleted = 0",
            "status IN ('open', 'it''s; -- fine') AND (a > 1 OR b IS NULL)",
            "\"Select\" = 1",
            "created_at >= DATE '2024-01-01' AND name LIKE 'a%'",
            "amount BETWEEN -5 AND 5.5",
            "x <> 'DROP TABLE t'",
            "region = N'Zoë'",
        ] {
            assert_eq!(check_where_clause_on(None, ok), Ok(()), "{ok}");
        }
    }

    /// F9: a `'` inside `[...]` or backticks must not start a string for the scanner, or a
    /// `;` and a second statement hide behind it.
    #[test]
    fn brackets_and_backticks_cannot_hide_statements() {
        let bracket = "[a'] = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR [b'] = 1";
        let backtick = "`a'` = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR `b'` = 1";
        assert!(check_where_clause(P::Sqlserver, bracket).is_err());
        assert!(check_where_clause(P::Sqlite, bracket).is_err());
        assert!(check_where_clause(P::Sqlite, backtick).is_err());
        assert!(check_where_clause_on(None, bracket).is_err());
        assert!(check_where_clause_on(None, backtick).is_err());
        // SQLite ends a bracketed name at the first `]`: `]]` is no escape there, so the
        // scanner must not read `[a]]; DROP TABLE t; --]` as one name.
        let sqlite_close = "[a]]; DROP TABLE t; --] = 1";
        assert!(check_where_clause(P::Sqlite, sqlite_close).is_err());
        // On SQL Server `]]` is an escaped `]`, so the same text is one bracketed name.
        assert_eq!(check_where_clause(P::Sqlserver, "[a]]b] = 1"), Ok(()));
    }

    #[test]
    fn legitimate_bracketed_and_backtick_names_pass() {
        for ok in [
            "[Order Date] > '2024-01-01'",
            "[it's] = 1",
            "[x;y] = 2 AND [drop] = 3",
        ] {
            assert_eq!(check_where_clause(P::Sqlserver, ok), Ok(()), "{ok}");
            assert_eq!(check_where_clause(P::Sqlite, ok), Ok(()), "{ok}");
        }
        assert_eq!(check_where_clause(P::Sqlite, "`Order Date` > 1"), Ok(()));
        assert_eq!(check_where_clause(P::Sqlite, "`it``s` = 1"), Ok(()));
        // PostgreSQL array subscripts are not identifiers.
        assert_eq!(check_where_clause(P::Postgresql, "tags[1] = 'a'"), Ok(()));
    }

    #[test]
    fn per_platform_verdicts_are_pinned() {
        let cases = [
            "[it's] = 1",
            "[a'] = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR [b'] = 1",
            "`a'` = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR `b'` = 1",
            "[a]]; DROP TABLE t; --] = 1",
            "[unclosed = 1",
            "`unclosed = 1",
            "a = 1) OR (1 = 1",
        ];
        let text = SourcePlatform::ALL
            .into_iter()
            .map(|p| format!("## {p}\n{}", verdicts(p, &cases)))
            .collect::<Vec<_>>()
            .join("\n\n");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn reasons_follow_a_path() {
        let error = check_where_clause(P::Postgresql, "a = 1; DROP TABLE x").unwrap_err();
        assert_eq!(error.reason(), "must be a single expression: remove `;`");
        assert_eq!(
            error.to_string(),
            "`whereClauseCriteria` must be a single expression: remove `;`"
        );
        let comment = check_where_clause(P::Postgresql, "a = 1 -- x").unwrap_err();
        assert_eq!(comment.reason(), "must not contain comments: remove `--`");
    }
}
