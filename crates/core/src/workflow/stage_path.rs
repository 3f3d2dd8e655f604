//! Where a partition attempt's files live on the stage. Every attempt has its own folder, so a
//! COPY of that folder loads exactly one attempt's files, and files of an abandoned attempt are
//! never loaded by mistake.

use crate::metadata::{MetadataNames, MetadataNamesSql};

/// The stage every worker uploads to, `@DB.SCHEMA.TASK_RESULTS` of the metadata names.
pub fn results_stage(names: &MetadataNames) -> String {
    format!("@{}.TASK_RESULTS", names.migration_schema_sql())
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
