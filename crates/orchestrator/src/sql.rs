//! The orchestrator's own statements (`sql/orchestrator/`), rendered once for the configured
//! metadata names and bound by placeholder name.

use std::collections::BTreeMap;

use migration_core::metadata::sql_script::{render_template, to_positional, PositionalStatement};
use migration_core::metadata::MetadataNames;
use migration_core::snowflake::SqlValue;

macro_rules! sql_file {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!("../../../sql/orchestrator/", $file)),
        )
    };
}

/// One statement with named placeholders turned into `?`.
#[derive(Debug, Clone)]
pub struct Statement {
    file: &'static str,
    positional: PositionalStatement,
}

/// Values for a statement's placeholders, by name.
pub type Binds = BTreeMap<&'static str, SqlValue>;

impl Statement {
    fn new((file, text): (&'static str, &'static str), names: &MetadataNames) -> Statement {
        Statement {
            file,
            positional: to_positional(&render_template(text, names)),
        }
    }

    /// A statement that also names a target database (`{{target_database}}`, already rendered
    /// for SQL, e.g. `TGT` or `"My Db"`).
    fn with_target_database(
        (file, text): (&'static str, &'static str),
        names: &MetadataNames,
        target_database_sql: &str,
    ) -> Statement {
        let text = text.replace("{{target_database}}", target_database_sql);
        Statement {
            file,
            positional: to_positional(&render_template(&text, names)),
        }
    }

    pub fn sql(&self) -> &str {
        &self.positional.sql
    }

    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The parameters in placeholder order. Every placeholder must be bound: the statements
    /// and their callers are fixed at build time, and unit tests run each caller's binds.
    pub fn params(&self, binds: &Binds) -> Vec<SqlValue> {
        self.positional
            .parameter_names
            .iter()
            .map(|name| {
                binds.get(name.as_str()).cloned().unwrap_or_else(|| {
                    panic!(
                        "sql/orchestrator/{} uses :{name}, which the caller does not bind",
                        self.file
                    )
                })
            })
            .collect()
    }

    pub fn parameter_names(&self) -> &[String] {
        &self.positional.parameter_names
    }
}

/// Every statement of the daemon and the commands.
#[derive(Debug, Clone)]
pub struct Statements {
    names: MetadataNames,
    pub claim_workflows: Statement,
    pub claimed_workflows: Statement,
    pub finish_unreadable_workflow: Statement,
    pub insert_tables: Statement,
    pub workflow_tables: Statement,
    pub predecessor_results: Statement,
    pub table_configuration: Statement,
    pub record_analysis: Statement,
    pub table_partitions: Statement,
    pub insert_partitions: Statement,
    pub pushed_partitions: Statement,
    pub partition_loading: Statement,
    pub ledger_files: Statement,
    pub insert_ledger: Statement,
    pub partition_completed: Statement,
    pub partition_status: Statement,
    pub partition_failed: Statement,
    pub finishing_workflows: Statement,
    pub fail_unfinished_partitions: Statement,
    pub complete_workflow: Statement,
    pub status_workflows: Statement,
    pub status_tables: Statement,
    pub verify_tables: Statement,
}

impl Statements {
    pub fn new(names: &MetadataNames) -> Statements {
        let s = |file| Statement::new(file, names);
        Statements {
            names: names.clone(),
            claim_workflows: s(sql_file!("claim_workflows.sql")),
            claimed_workflows: s(sql_file!("claimed_workflows.sql")),
            finish_unreadable_workflow: s(sql_file!("finish_unreadable_workflow.sql")),
            insert_tables: s(sql_file!("insert_tables.sql")),
            workflow_tables: s(sql_file!("workflow_tables.sql")),
            predecessor_results: s(sql_file!("predecessor_results.sql")),
            table_configuration: s(sql_file!("table_configuration.sql")),
            record_analysis: s(sql_file!("record_analysis.sql")),
            table_partitions: s(sql_file!("table_partitions.sql")),
            insert_partitions: s(sql_file!("insert_partitions.sql")),
            pushed_partitions: s(sql_file!("pushed_partitions.sql")),
            partition_loading: s(sql_file!("partition_loading.sql")),
            ledger_files: s(sql_file!("ledger_files.sql")),
            insert_ledger: s(sql_file!("insert_ledger.sql")),
            partition_completed: s(sql_file!("partition_completed.sql")),
            partition_status: s(sql_file!("partition_status.sql")),
            partition_failed: s(sql_file!("partition_failed.sql")),
            finishing_workflows: s(sql_file!("finishing_workflows.sql")),
            fail_unfinished_partitions: s(sql_file!("fail_unfinished_partitions.sql")),
            complete_workflow: s(sql_file!("complete_workflow.sql")),
            status_workflows: s(sql_file!("status_workflows.sql")),
            status_tables: s(sql_file!("status_tables.sql")),
            verify_tables: s(sql_file!("verify_tables.sql")),
        }
    }

    /// The columns of a table in `target_database_sql`.
    pub fn target_columns(&self, target_database_sql: &str) -> Statement {
        Statement::with_target_database(
            sql_file!("target_columns.sql"),
            &self.names,
            target_database_sql,
        )
    }

    /// The metadata names these statements were rendered for.
    pub fn names(&self) -> &MetadataNames {
        &self.names
    }
}

/// "Now" as the metadata tables store it (UTC, no zone).
pub fn now_value() -> SqlValue {
    SqlValue::Text(migration_core::queue::clock::timestamp_text(
        chrono::Utc::now().naive_utc(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_render_with_the_metadata_names() {
        let statements = Statements::new(&MetadataNames::default());
        insta::assert_snapshot!(statements.claim_workflows.sql());
        assert!(statements
            .target_columns("\"My Db\"")
            .sql()
            .contains("FROM \"My Db\".INFORMATION_SCHEMA.COLUMNS"));
        assert_eq!(
            statements.insert_partitions.parameter_names(),
            ["workflow_id", "table_id", "now", "now", "partitions"]
        );
    }

    #[test]
    #[should_panic(expected = "uses :workflow_id")]
    fn an_unbound_placeholder_names_itself() {
        let statements = Statements::new(&MetadataNames::default());
        statements.workflow_tables.params(&Binds::new());
    }
}
