//! `COPY INTO` of the files of one partition attempt, and reading its answer.
//!
//! The COPY names exactly the files the worker listed (`FILES = (...)`), inside the attempt
//! folder the orchestrator derived itself, with the Parquet file format the metadata deploys
//! (`USE_LOGICAL_TYPE = TRUE`, `BINARY_AS_TEXT = FALSE`). It runs with `FORCE = TRUE`: Snowflake's
//! load metadata is not what makes loading exactly-once; the orchestrator's ledger is, committed
//! in the same transaction as the rows (see the orchestrator's `load_task`).
//!
//! Tables with semi-structured columns (VARIANT, OBJECT, ARRAY) load through a transformation
//! that parses those columns (`PARSE_JSON($1:"J")`): a Parquet string loaded into a VARIANT
//! column by name would stay a string. `MATCH_BY_COLUMN_NAME` cannot be combined with a
//! transformation, so such a COPY lists its columns; every other table keeps
//! `MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE` (Parquet field names are the exact target names,
//! and names differing only in case are refused when the table is planned).

use super::error::LoadError;
use super::identifier::quote_stored;
use crate::workflow::is_plain_file_name;

/// Snowflake accepts at most this many names in one `FILES = (...)`; a partition with more
/// files is loaded by several COPY statements in the same transaction.
pub const MAX_FILES_PER_COPY: usize = 1000;

/// A column of the files and of the target table: its exact name (the Parquet field name and
/// the stored column name) and whether it is parsed as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadColumn {
    pub name: String,
    pub semi_structured: bool,
}

/// One COPY of listed files of an attempt folder.
#[derive(Debug, Clone, Copy)]
pub struct CopyFiles<'a> {
    /// The qualified target table for SQL (`"DB"."SCHEMA"."TABLE"`).
    pub table: &'a str,
    /// The columns of the files, in order.
    pub columns: &'a [LoadColumn],
    /// The attempt folder, `@DB.SCHEMA.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/`.
    pub stage_folder: &'a str,
    /// Plain file names inside the folder, at most [`MAX_FILES_PER_COPY`].
    pub files: &'a [String],
    /// The qualified name of the Parquet file format, `DB.SCHEMA.PARQUET_FILE_FORMAT`.
    pub file_format: &'a str,
}

/// Builds the COPY of `copy.files`. One bad value fails the whole statement
/// (`ON_ERROR = ABORT_STATEMENT`), so a partition is loaded completely or not at all.
pub fn copy_files_sql(copy: &CopyFiles<'_>) -> Result<String, LoadError> {
    let invalid = |reason: String| LoadError::InvalidCopy {
        table: copy.table.to_string(),
        reason,
    };
    if copy.files.is_empty() || copy.files.len() > MAX_FILES_PER_COPY {
        return Err(invalid(format!(
            "a COPY names 1 to {MAX_FILES_PER_COPY} files, not {}",
            copy.files.len()
        )));
    }
    if let Some(bad) = copy.files.iter().find(|name| !is_plain_file_name(name)) {
        return Err(invalid(format!(
            "`{bad}` is not a plain file name (letters, digits, `_`, `.`, `-`)"
        )));
    }
    let folder_ok = copy.stage_folder.starts_with('@')
        && copy.stage_folder.ends_with('/')
        && copy
            .stage_folder
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '_' | '.' | '$' | '/' | '-'));
    if !folder_ok {
        return Err(invalid(format!(
            "stage folder `{}` is not of the form `@DB.SCHEMA.STAGE/path/`",
            copy.stage_folder
        )));
    }
    let format_ok = !copy.file_format.is_empty()
        && copy
            .file_format
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'));
    if !format_ok {
        return Err(invalid(format!(
            "file format `{}` is not a qualified plain name",
            copy.file_format
        )));
    }
    let files = copy
        .files
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let options = format!(
        "FILES = ({files})\n\
         FILE_FORMAT = (FORMAT_NAME = '{}')",
        copy.file_format
    );
    let tail = "ON_ERROR = ABORT_STATEMENT\nFORCE = TRUE";
    if !copy.columns.iter().any(|column| column.semi_structured) {
        return Ok(format!(
            "COPY INTO {}\nFROM {}\n{options}\nMATCH_BY_COLUMN_NAME = CASE_INSENSITIVE\n{tail}",
            copy.table, copy.stage_folder
        ));
    }
    let mut targets = Vec::with_capacity(copy.columns.len());
    let mut values = Vec::with_capacity(copy.columns.len());
    for column in copy.columns {
        if column.name.is_empty() || column.name.contains('"') {
            return Err(invalid(format!(
                "column `{}` cannot be named in a COPY transformation (empty or with a double quote): rename it with `columnNameMappings`",
                column.name
            )));
        }
        targets.push(quote_stored(&column.name));
        let element = format!("$1:\"{}\"", column.name);
        values.push(if column.semi_structured {
            format!("PARSE_JSON({element})")
        } else {
            element
        });
    }
    Ok(format!(
        "COPY INTO {} ({})\nFROM (SELECT {} FROM {})\n{options}\n{tail}",
        copy.table,
        targets.join(", "),
        values.join(", "),
        copy.stage_folder
    ))
}

/// Builds a COPY of every file of a folder, matched by column name, with the Parquet options
/// of the deployed file format written inline. For tests and tools that load a folder they
/// wrote themselves; the orchestrator's loads use [`copy_files_sql`].
pub fn copy_into_sql(qualified_table: &str, stage_folder: &str) -> String {
    format!(
        "COPY INTO {qualified_table}\n\
         FROM {stage_folder}\n\
         FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE)\n\
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

    const FOLDER: &str =
        "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/";
    const FORMAT: &str = "SNOWCONVERT_AI.DATA_MIGRATION.PARQUET_FILE_FORMAT";

    fn columns(spec: &[(&str, bool)]) -> Vec<LoadColumn> {
        spec.iter()
            .map(|(name, semi_structured)| LoadColumn {
                name: (*name).to_string(),
                semi_structured: *semi_structured,
            })
            .collect()
    }

    fn copy<'a>(columns: &'a [LoadColumn], files: &'a [String]) -> CopyFiles<'a> {
        CopyFiles {
            table: "\"TGT\".\"PUBLIC\".\"ORDERS\"",
            columns,
            stage_folder: FOLDER,
            files,
            file_format: FORMAT,
        }
    }

    #[test]
    fn copy_names_the_files_the_format_and_forces_the_load() {
        let columns = columns(&[("ID", false), ("order", false)]);
        let files = strings(&["part_3_1_00000.parquet", "part_3_1_00001.parquet"]);
        insta::assert_snapshot!(copy_files_sql(&copy(&columns, &files)).unwrap(), @r#"
        COPY INTO "TGT"."PUBLIC"."ORDERS"
        FROM @SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/
        FILES = ('part_3_1_00000.parquet', 'part_3_1_00001.parquet')
        FILE_FORMAT = (FORMAT_NAME = 'SNOWCONVERT_AI.DATA_MIGRATION.PARQUET_FILE_FORMAT')
        MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
        ON_ERROR = ABORT_STATEMENT
        FORCE = TRUE
        "#);
    }

    #[test]
    fn semi_structured_columns_are_parsed_by_a_transformation() {
        let columns = columns(&[("ID", false), ("Mixed Name", false), ("J", true)]);
        let files = strings(&["a.parquet"]);
        insta::assert_snapshot!(copy_files_sql(&copy(&columns, &files)).unwrap(), @r#"
        COPY INTO "TGT"."PUBLIC"."ORDERS" ("ID", "Mixed Name", "J")
        FROM (SELECT $1:"ID", $1:"Mixed Name", PARSE_JSON($1:"J") FROM @SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/)
        FILES = ('a.parquet')
        FILE_FORMAT = (FORMAT_NAME = 'SNOWCONVERT_AI.DATA_MIGRATION.PARQUET_FILE_FORMAT')
        ON_ERROR = ABORT_STATEMENT
        FORCE = TRUE
        "#);
    }

    #[test]
    fn file_names_folders_and_formats_that_could_carry_sql_are_refused() {
        let plain = columns(&[("ID", false)]);
        for bad in ["a'.parquet", "x/a.parquet", "..", "a b", ""] {
            let files = strings(&[bad]);
            let error = copy_files_sql(&copy(&plain, &files)).unwrap_err();
            assert!(
                error.to_string().contains("is not a plain file name"),
                "{error}"
            );
        }
        let files = strings(&["a.parquet"]);
        for folder in [
            "@S/x/ FILES = ('b')",
            "'s3://bucket/x/'",
            "@S/x",
            "(SELECT 1 FROM @S/x/)",
        ] {
            let mut statement = copy(&plain, &files);
            statement.stage_folder = folder;
            assert!(copy_files_sql(&statement).is_err(), "{folder}");
        }
        let mut statement = copy(&plain, &files);
        statement.file_format = "X') TYPE = CSV --";
        assert!(copy_files_sql(&statement).is_err());
        let none: Vec<String> = Vec::new();
        assert!(copy_files_sql(&copy(&plain, &none)).is_err());
        let quoted = columns(&[("a\"b", false), ("J", true)]);
        assert!(copy_files_sql(&copy(&quoted, &files)).is_err());
    }

    #[test]
    fn a_whole_folder_copy_carries_the_parquet_options_inline() {
        insta::assert_snapshot!(
            copy_into_sql("\"TGT\".\"PUBLIC\".\"ORDERS\"", FOLDER),
            @r#"
        COPY INTO "TGT"."PUBLIC"."ORDERS"
        FROM @SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/
        FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE)
        MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
        ON_ERROR = ABORT_STATEMENT
        "#
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
