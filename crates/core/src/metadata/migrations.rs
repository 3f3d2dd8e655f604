//! The versioned migrations of `sql/metadata/`, embedded in the binary.
//!
//! `V<NNN>__<description>.sql` files apply in version order, each once (recorded in the
//! SCHEMA_MIGRATION ledger). Every statement of a version is idempotent (`IF NOT EXISTS`,
//! `CREATE OR REPLACE VIEW`), because Snowflake commits each DDL statement on its own: a
//! version that failed part-way is simply run again from its first statement by the next
//! deploy. A released version is never edited; a change is a new version.

use sha2::{Digest, Sha256};

use crate::metadata_names::MetadataNames;
use crate::sql_script::{render_template, split_statements};

/// Objects needed before the ledger can be read: database, schemas, ledger, lock.
pub const BOOTSTRAP: &str = include_str!("../../../../sql/metadata/bootstrap.sql");

const MIGRATION_FILES: [(&str, &str); 5] = [
    (
        "V001__workflow_and_task_queue.sql",
        include_str!("../../../../sql/metadata/V001__workflow_and_task_queue.sql"),
    ),
    (
        "V002__tables_partitions_files.sql",
        include_str!("../../../../sql/metadata/V002__tables_partitions_files.sql"),
    ),
    (
        "V003__progress_views.sql",
        include_str!("../../../../sql/metadata/V003__progress_views.sql"),
    ),
    (
        "V004__data_validation.sql",
        include_str!("../../../../sql/metadata/V004__data_validation.sql"),
    ),
    (
        "V005__daemon_sessions.sql",
        include_str!("../../../../sql/metadata/V005__daemon_sessions.sql"),
    ),
];

/// One migration version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: String,
    /// The script with `{{...}}` templates, as stored.
    pub script: String,
}

impl Migration {
    /// Builds a migration from a `V<NNN>__<description>.sql` file name and its text.
    pub fn from_file(file_name: &str, script: &str) -> Option<Migration> {
        let stem = file_name.strip_suffix(".sql")?.strip_prefix('V')?;
        let (version, description) = stem.split_once("__")?;
        Some(Migration {
            version: version.parse().ok()?,
            description: description.replace('_', " "),
            script: script.to_owned(),
        })
    }

    /// The single statements, with object names rendered.
    pub fn statements(&self, names: &MetadataNames) -> Vec<String> {
        split_statements(&render_template(&self.script, names))
    }

    /// SHA-256 of the stored script, recorded in the ledger to notice edited versions.
    pub fn checksum(&self) -> String {
        sha256_hex(&self.script)
    }
}

/// Every migration of this build, in version order.
pub fn migrations() -> Vec<Migration> {
    MIGRATION_FILES
        .iter()
        .map(|(file, script)| {
            Migration::from_file(file, script).expect(
                "embedded migration files are named V<NNN>__<description>.sql (unit tested)",
            )
        })
        .collect()
}

/// The bootstrap statements with object names rendered.
pub fn bootstrap_statements(names: &MetadataNames) -> Vec<String> {
    split_statements(&render_template(BOOTSTRAP, names))
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_unique() {
        let versions: Vec<i64> = migrations().iter().map(|m| m.version).collect();
        assert_eq!(versions, vec![1, 2, 3, 4, 5]);
        assert_eq!(migrations()[0].description, "workflow and task queue");
    }

    #[test]
    fn every_statement_is_idempotent() {
        let names = MetadataNames::default();
        for migration in migrations() {
            for statement in migration.statements(&names) {
                let head = crate::sql_script::strip_comments(&statement)
                    .trim_start()
                    .to_ascii_uppercase();
                assert!(
                    head.contains("IF NOT EXISTS")
                        || head.starts_with("CREATE OR REPLACE VIEW")
                        || head.starts_with("USE SCHEMA"),
                    "V{:03} has a statement that cannot run twice: {head}",
                    migration.version
                );
            }
        }
    }

    #[test]
    fn bad_file_names_are_rejected() {
        assert!(Migration::from_file("V1_missing_double_underscore.sql", "").is_none());
        assert!(Migration::from_file("X001__x.sql", "").is_none());
        assert_eq!(
            Migration::from_file("V010__add_things.sql", "SELECT 1").map(|m| m.version),
            Some(10)
        );
    }
}
