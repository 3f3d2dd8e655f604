//! Where a partition attempt's files live on the stage. Every attempt has its own folder, so a
//! COPY of that folder loads exactly one attempt's files, and files of an abandoned attempt are
//! never loaded by mistake.
//!
//! Both sides render the folders here: the orchestrator when it pushes an extract and when it
//! derives the folder a load reads ([`table_results_folder`]), the worker when it checks the
//! folder a payload names before any PUT ([`checked_table_folder`]). A tampered queue can
//! therefore neither point uploads at another stage nor smuggle SQL into the PUT statement.

use crate::metadata::{MetadataNames, MetadataNamesSql};

/// The stage every worker uploads to, `@DB.SCHEMA.TASK_RESULTS` of the metadata names.
pub fn results_stage(names: &MetadataNames) -> String {
    format!("@{}.TASK_RESULTS", names.migration_schema_sql())
}

/// `@DB.SCHEMA.TASK_RESULTS/workflows/{wf}/tables/{table_index}` of the metadata names: the
/// folder of one table of a workflow on the results stage.
pub fn table_results_folder(names: &MetadataNames, workflow_id: i64, table_index: u32) -> String {
    table_folder(&results_stage(names), workflow_id, table_index)
}

/// A payload's stage folder that a worker refuses to write to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stage folder `{folder}` is not a folder of `{expected}` made of letters, digits, `_`, `-`, `.` and `/`: the task was not pushed by an orchestrator using this worker's metadata database and schema (check snowflake_database_for_metadata and snowflake_schema_for_data_migration_metadata)")]
pub struct StageFolderError {
    pub folder: String,
    pub expected: String,
}

/// Checks a table stage folder from a payload against the results stage of `names` (any case)
/// and returns it without a trailing `/`.
pub fn checked_table_folder(
    folder: &str,
    names: &MetadataNames,
) -> Result<String, StageFolderError> {
    let expected = results_stage(names);
    let refuse = || StageFolderError {
        folder: folder.to_owned(),
        expected: expected.clone(),
    };
    let prefix_len = expected.len();
    let (prefix, rest) = (
        folder.get(..prefix_len).ok_or_else(refuse)?,
        folder.get(prefix_len..).ok_or_else(refuse)?,
    );
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    let valid = prefix.eq_ignore_ascii_case(&expected)
        && rest.starts_with('/')
        && rest.chars().all(plain)
        && !rest.split('/').any(|part| part == ".." || part == ".");
    if !valid {
        return Err(refuse());
    }
    Ok(folder.trim_end_matches('/').to_owned())
}

/// Whether `name` is a plain file name inside a folder: letters, digits, `_`, `.` and `-`,
/// not only dots (so neither `..` nor a path nor SQL text).
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.chars().any(|c| c != '.')
}

/// `@DB.SCHEMA.TASK_RESULTS/workflows/{wf}/tables/{table_index}`. Tables are numbered by their
/// position in the workflow, so a name needing quotes never has to appear in a stage path.
pub fn table_folder(stage: &str, workflow_id: i64, table_index: u32) -> String {
    format!("{stage}/workflows/{workflow_id}/tables/{table_index}")
}

/// `{table_folder}/partition_{n}`.
pub fn partition_folder(table_folder: &str, partition_index: u32) -> String {
    format!(
        "{}/partition_{partition_index}",
        table_folder.trim_end_matches('/')
    )
}

/// `{table_folder}/partition_{n}/attempt_{k}/`, with the trailing slash COPY needs so that
/// `attempt_1` never matches `attempt_10`.
pub fn attempt_folder(table_folder: &str, partition_index: u32, attempt: i64) -> String {
    format!(
        "{}/attempt_{attempt}/",
        partition_folder(table_folder, partition_index)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_file_names_are_file_names_only() {
        for good in ["part_3_1_00000.parquet", "a-b.c", "X"] {
            assert!(is_plain_file_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a'b",
            "a b",
            "a\"b",
            "é.parquet",
            "a;b",
        ] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_results_stage_is_in_the_migration_schema() {
        assert_eq!(
            results_stage(&MetadataNames::default()),
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS"
        );
    }

    #[test]
    fn the_orchestrator_renders_the_folders_the_worker_accepts() {
        let names = MetadataNames {
            database: "Snowconvert_AI".into(),
            ..MetadataNames::default()
        };
        let folder = table_results_folder(&names, 7, 0);
        assert_eq!(
            folder,
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0"
        );
        assert_eq!(checked_table_folder(&folder, &names), Ok(folder.clone()));
        assert_eq!(
            checked_table_folder(&format!("{folder}/"), &names),
            Ok(folder)
        );
    }

    fn names() -> MetadataNames {
        MetadataNames {
            database: "Snowconvert_AI".into(),
            ..MetadataNames::default()
        }
    }

    #[test]
    fn folders_of_the_own_results_stage_are_accepted() {
        assert_eq!(
            checked_table_folder(
                "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/",
                &names()
            ),
            Ok("@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0".to_owned())
        );
        assert!(checked_table_folder(
            "@snowconvert_ai.data_migration.task_results/workflows/7/tables/0",
            &names()
        )
        .is_ok());
    }

    #[test]
    fn other_stages_and_odd_characters_are_refused() {
        for folder in [
            "@OTHER.DATA_MIGRATION.TASK_RESULTS/workflows/7",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS_X/workflows/7",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/w 1",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/w';DROP TABLE T--",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/../x",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS",
            "SNOWCONVERT_AI",
        ] {
            let err = checked_table_folder(folder, &names()).unwrap_err();
            assert_eq!(err.folder, folder);
        }
        let message = checked_table_folder("@X.Y.Z/a", &names())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS`"),
            "{message}"
        );
    }

    #[test]
    fn refusal_message_is_pinned() {
        let err = checked_table_folder("@OTHER.PUBLIC.STAGE/x", &names()).unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn folders_nest_and_end_in_a_slash() {
        let table = table_folder("@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS", 7, 2);
        assert_eq!(
            table,
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/2"
        );
        assert_eq!(
            attempt_folder(&table, 3, 1),
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/2/partition_3/attempt_1/"
        );
        assert_eq!(
            partition_folder(&format!("{table}/"), 0),
            format!("{table}/partition_0")
        );
    }
}
