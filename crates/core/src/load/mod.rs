//! Loading into Snowflake: target DDL, COPY INTO from a partition attempt's stage folder, and
//! interpretation of COPY's per-file answer. SQL generation only; the orchestrator executes it.
//!
//! Identifiers: every name is quoted in the SQL ([`sql_identifier`]). A name written with
//! double quotes in the workflow JSON (`"\"MyTable\""`) keeps its case; any other name must be a
//! plain identifier and means the upper-case name, as Snowflake resolves an unquoted name.
//! Column types are checked against a small grammar ([`checked_snowflake_type`]) before they
//! reach any DDL.

mod copy_into;
mod identifier;
mod snowflake_type;
mod target_ddl;

pub use copy_into::{
    copy_files_sql, copy_into_sql, parse_copy_result, CopyFileResult, CopyFiles, CopyOutcome,
    LoadColumn, MAX_FILES_PER_COPY,
};
pub use identifier::{
    qualified_name, quote_stored, sql_identifier, stored_name, target_column_name,
};
pub use snowflake_type::{checked_snowflake_type, is_semi_structured};
pub use target_ddl::{
    check_existing_columns, check_planned_columns, count_rows_sql, create_database_sql,
    create_schema_sql, create_table_sql, truncate_table_sql, ExistingColumn, TargetColumn,
    TargetTable,
};

/// What can go wrong while preparing or checking a load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("identifier `{name}` is not valid: {reason}")]
    InvalidIdentifier { name: String, reason: String },
    #[error("table {table} has no columns to create")]
    NoColumns { table: String },
    #[error(
        "table {table}: the type of column {column} is refused: {reason}; the analysis was changed by hand or comes from an incompatible worker: fix `columnTypeMappings` or create the workflow again"
    )]
    InvalidType {
        table: String,
        column: String,
        snowflake_type: String,
        reason: String,
    },
    #[error(
        "table {table}: source columns `{first_source}` and `{second_source}` map to target columns `{first_target}` and `{second_target}`, which differ only in case (COPY matches columns case-insensitively): rename one of them with `columnNameMappings`"
    )]
    CaseOnlyDuplicate {
        table: String,
        first_source: String,
        first_target: String,
        second_source: String,
        second_target: String,
    },
    #[error(
        "table {table} already exists but does not match the source: {problems}; \
         fix the target table or add columnTypeMappings/columnNameMappings"
    )]
    TargetMismatch { table: String, problems: String },
    #[error("COPY INTO {table} cannot be written: {reason}")]
    InvalidCopy { table: String, reason: String },
    #[error("COPY INTO {table} returned an answer that cannot be read: {detail}")]
    UnreadableCopyResult { table: String, detail: String },
}
