//! Loading into Snowflake: target DDL, COPY INTO from a partition attempt's stage folder, and
//! interpretation of COPY's per-file answer. SQL generation only; the orchestrator executes it.
//!
//! Identifiers: a name written with double quotes in the workflow JSON (`"\"MyTable\""`) is
//! kept exactly, quotes included; any other name must be a plain identifier and is left
//! unquoted, so Snowflake folds it to upper case as it would for hand-written DDL.

mod copy_into;
mod identifier;
mod target_ddl;

pub use copy_into::{copy_into_sql, parse_copy_result, CopyFileResult, CopyOutcome};
pub use identifier::{qualified_name, sql_identifier, target_column_name};
pub use target_ddl::{
    check_existing_columns, create_database_sql, create_schema_sql, create_table_sql,
    ExistingColumn, TargetColumn, TargetTable,
};

/// What can go wrong while preparing or checking a load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("identifier `{name}` is not valid: {reason}")]
    InvalidIdentifier { name: String, reason: String },
    #[error("table {table} has no columns to create")]
    NoColumns { table: String },
    #[error(
        "table {table} already exists but does not match the source: {problems}; \
         fix the target table or add columnTypeMappings/columnNameMappings"
    )]
    TargetMismatch { table: String, problems: String },
    #[error("COPY INTO {table} returned an answer that cannot be read: {detail}")]
    UnreadableCopyResult { table: String, detail: String },
}
