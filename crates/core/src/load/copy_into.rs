//! `COPY INTO` from one partition attempt's stage folder, and reading its answer.
//!
//! Exactly-once: every attempt writes to its own folder, so a COPY names exactly the files of
//! one attempt. Snowflake's load history skips files it already loaded into the table, which
//! makes a repeated COPY (after a crash between COPY and bookkeeping) a no-op.

use super::LoadError;

/// Builds the COPY for a stage folder such as
/// `@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/orders/partition_3/attempt_1/`.
///
/// The file format is given explicitly (never inherited from the stage), Parquet columns are
/// matched to table columns by name, case-insensitively (Parquet field names are the target
/// column names), and one bad value fails the whole partition (`ABORT_STATEMENT`) so a
/// partition is either fully loaded or not at all.
pub fn copy_into_sql(qualified_table: &str, stage_folder: &str) -> String {
    format!(
        "COPY INTO {qualified_table}\n\
         FROM {stage_folder}\n\
         FILE_FORMAT = (TYPE = PARQUET)\n\
         MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE\n\
         ON_ERROR = ABORT_STATEMENT"
    )
}

/// One row of COPY's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFileResult {
    pub file: String,
    pub status: String,
    pub rows_loaded: u64,
    pub first_error: Option<String>,
}

/// The whole answer: what was loaded now, and whether everything had been loaded before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    pub files: Vec<CopyFileResult>,
    pub rows_loaded: u64,
}

/// Reads COPY's answer. Snowflake answers one row per file with columns `file, status,
/// rows_parsed, rows_loaded, ..., first_error, ...`; when nothing was left to load it answers a
/// single row whose status says `Copy executed with 0 files processed.`
pub fn parse_copy_result(
    table: &str,
    header: &[String],
    rows: &[Vec<Option<String>>],
) -> Result<CopyOutcome, LoadError> {
    let position = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let unreadable = |detail: String| LoadError::UnreadableCopyResult {
        table: table.to_string(),
        detail,
    };
    let (Some(file_at), Some(status_at), Some(loaded_at)) = (
        position("file"),
        position("status"),
        position("rows_loaded"),
    ) else {
        // "Copy executed with 0 files processed." comes back as a one-column answer.
        if header.len() == 1 {
            return Ok(CopyOutcome {
                files: Vec::new(),
                rows_loaded: 0,
            });
        }
        return Err(unreadable(format!("unexpected columns {header:?}")));
    };
    let error_at = position("first_error");
    let mut files = Vec::with_capacity(rows.len());
    for row in rows {
        let cell = |at: usize| row.get(at).cloned().flatten();
        let loaded = cell(loaded_at).unwrap_or_default();
        let rows_loaded = loaded
            .trim()
            .parse::<u64>()
            .map_err(|_| unreadable(format!("rows_loaded `{loaded}` is not a count")))?;
        files.push(CopyFileResult {
            file: cell(file_at).unwrap_or_default(),
            status: cell(status_at).unwrap_or_default(),
            rows_loaded,
            first_error: error_at.and_then(cell),
        });
    }
    let rows_loaded = files.iter().map(|f| f.rows_loaded).sum();
    Ok(CopyOutcome { files, rows_loaded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn copy_sql_is_explicit_about_format_and_errors() {
        insta::assert_snapshot!(
            copy_into_sql("TGT.PUBLIC.ORDERS", "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/orders/partition_3/attempt_1/"),
            @r"
        COPY INTO TGT.PUBLIC.ORDERS
        FROM @SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/orders/partition_3/attempt_1/
        FILE_FORMAT = (TYPE = PARQUET)
        MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
        ON_ERROR = ABORT_STATEMENT
        "
        );
    }

    #[test]
    fn per_file_rows_are_summed() {
        let header = strings(&[
            "file",
            "status",
            "rows_parsed",
            "rows_loaded",
            "first_error",
        ]);
        let rows = vec![
            vec![
                Some("a.parquet".into()),
                Some("LOADED".into()),
                Some("10".into()),
                Some("10".into()),
                None,
            ],
            vec![
                Some("b.parquet".into()),
                Some("LOADED".into()),
                Some("5".into()),
                Some("5".into()),
                None,
            ],
        ];
        let outcome = parse_copy_result("T", &header, &rows).unwrap();
        assert_eq!(outcome.rows_loaded, 15);
        assert_eq!(outcome.files.len(), 2);
        assert_eq!(outcome.files[1].file, "b.parquet");
    }

    #[test]
    fn nothing_left_to_load_is_zero_rows() {
        let header = strings(&["status"]);
        let rows = vec![vec![Some("Copy executed with 0 files processed.".into())]];
        let outcome = parse_copy_result("T", &header, &rows).unwrap();
        assert_eq!(
            outcome,
            CopyOutcome {
                files: vec![],
                rows_loaded: 0
            }
        );
    }

    #[test]
    fn unreadable_counts_name_the_table() {
        let header = strings(&["file", "status", "rows_loaded"]);
        let rows = vec![vec![
            Some("a".into()),
            Some("LOADED".into()),
            Some("many".into()),
        ]];
        let err = parse_copy_result("TGT.PUBLIC.T", &header, &rows)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "COPY INTO TGT.PUBLIC.T returned an answer that cannot be read: rows_loaded `many` is not a count"
        );
    }
}
