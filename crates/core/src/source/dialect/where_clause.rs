//! `whereClauseCriteria`: the one user-written SQL fragment that reaches the source.
//!
//! The check lives in `config_schema::where_clause` (it is pure), so the offline `validate`,
//! the create commands, the analysis and every extraction query apply the same scanner with the
//! same messages. It is re-exported here for the dialects, which call it with their platform:
//! SQL Server and SQLite quote identifiers with `[...]` (and SQLite with backticks), and a `;`
//! or a keyword hidden inside such a name must not pass while a legitimate `[Order Date]` must.

pub use config_schema::where_clause::{check_where_clause, WhereClauseError};

#[cfg(test)]
mod tests {
    use config_schema::SourcePlatform;

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
            for platform in SourcePlatform::ALL {
                assert_eq!(check_where_clause(platform, ok), Ok(()), "{platform}: {ok}");
            }
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
            .map(
                |c| match check_where_clause(SourcePlatform::Postgresql, c) {
                    Ok(()) => format!("{c:?} => accepted"),
                    Err(e) => format!("{c:?} => {e}"),
                },
            )
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }

    /// F9: the scanner knows each platform's identifier quotes.
    #[test]
    fn bracket_and_backtick_identifiers_are_scanned_per_platform() {
        let hidden = "[a'] = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR [b'] = 1";
        assert!(check_where_clause(SourcePlatform::Sqlserver, hidden).is_err());
        assert!(check_where_clause(SourcePlatform::Sqlite, hidden).is_err());
        let hidden = "`a'` = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR `b'` = 1";
        assert!(check_where_clause(SourcePlatform::Sqlite, hidden).is_err());
        for platform in [SourcePlatform::Sqlserver, SourcePlatform::Sqlite] {
            assert_eq!(
                check_where_clause(platform, "[Order Date] > '2024-01-01' AND [it's] = 1"),
                Ok(())
            );
        }
    }
}
