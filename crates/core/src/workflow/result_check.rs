//! The checks the orchestrator applies to what a worker reported before it loads anything.
//!
//! An extract result is a value in TASK_QUEUE.RESULT, written by whoever held the extract
//! task's lease. The orchestrator never takes a stage location from it: it derives the attempt
//! folder from the task itself ([`super::attempt_folder`] of the results stage, the workflow,
//! the table index, the partition index and the extract task's ATTEMPTS) and requires the
//! reported folder to be exactly that one, and every reported file to be a plain file name in
//! it, listed once. Only then does any SQL run.

use std::collections::BTreeSet;

use super::payload::ExtractResult;
use super::stage_path::is_plain_file_name;

/// Why an extract result is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultCheckError {
    #[error(
        "it names stage folder `{reported}`, but the files of this attempt are in `{expected}`"
    )]
    ForeignFolder { reported: String, expected: String },
    #[error("file name `{name}` is not a plain file name (letters, digits, `_`, `.`, `-`)")]
    BadFileName { name: String },
    #[error("file `{name}` is listed twice")]
    DuplicateFile { name: String },
}

/// Checks `result` against the folder the orchestrator derived; on success the listed file
/// names, in the worker's order.
///
/// A total that differs from the sum of the files is not refused here: the load compares what
/// COPY loaded with both, and reports the difference as a row-count mismatch.
pub fn check_extract_result(
    result: &ExtractResult,
    expected_folder: &str,
) -> Result<Vec<String>, ResultCheckError> {
    if result.stage_folder != expected_folder {
        return Err(ResultCheckError::ForeignFolder {
            reported: result.stage_folder.clone(),
            expected: expected_folder.to_owned(),
        });
    }
    let mut seen = BTreeSet::new();
    for file in &result.files {
        if !is_plain_file_name(&file.name) {
            return Err(ResultCheckError::BadFileName {
                name: file.name.clone(),
            });
        }
        if !seen.insert(file.name.as_str()) {
            return Err(ResultCheckError::DuplicateFile {
                name: file.name.clone(),
            });
        }
    }
    Ok(result.files.iter().map(|file| file.name.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::ExtractedFileResult;

    const FOLDER: &str =
        "@DB.DATA_MIGRATION.TASK_RESULTS/workflows/1/tables/0/partition_2/attempt_1/";

    fn result(folder: &str, names: &[&str]) -> ExtractResult {
        ExtractResult {
            stage_folder: folder.to_owned(),
            files: names
                .iter()
                .map(|name| ExtractedFileResult {
                    name: (*name).to_owned(),
                    rows: 1,
                    bytes: 10,
                })
                .collect(),
            rows: names.len() as u64,
            bytes: 10,
            checksum: "x".to_owned(),
        }
    }

    #[test]
    fn the_derived_folder_and_plain_names_pass() {
        let names = check_extract_result(&result(FOLDER, &["a.parquet", "b.parquet"]), FOLDER)
            .expect("a faithful result");
        assert_eq!(names, ["a.parquet", "b.parquet"]);
        assert_eq!(
            check_extract_result(&result(FOLDER, &[]), FOLDER),
            Ok(vec![])
        );
    }

    #[test]
    fn other_folders_and_names_that_are_not_file_names_are_refused() {
        for folder in [
            "@DB.DATA_MIGRATION.TASK_RESULTS/workflows/1/tables/0/partition_1/attempt_1/",
            "@DB.DATA_MIGRATION.TASK_RESULTS/workflows/1/tables/0/partition_2/attempt_2/",
            "@OTHER.PUBLIC.S/x/",
            "'s3://bucket/x/'",
        ] {
            let error = check_extract_result(&result(folder, &["a.parquet"]), FOLDER).unwrap_err();
            assert!(
                matches!(error, ResultCheckError::ForeignFolder { .. }),
                "{error}"
            );
        }
        for name in ["a'.parquet", "../x.parquet", "sub/a.parquet", ".."] {
            let error = check_extract_result(&result(FOLDER, &[name]), FOLDER).unwrap_err();
            assert_eq!(
                error,
                ResultCheckError::BadFileName {
                    name: name.to_owned()
                }
            );
        }
        let error =
            check_extract_result(&result(FOLDER, &["a.parquet", "a.parquet"]), FOLDER).unwrap_err();
        assert_eq!(error.to_string(), "file `a.parquet` is listed twice");
    }
}
