//! Loading into Snowflake: target DDL, COPY INTO from a partition attempt's stage folder, and
//! interpretation of COPY's per-file answer. SQL generation only; the orchestrator executes it.
//!
//! Identifiers: every name is quoted in the SQL ([`sql_identifier`]). A name written with
//! double quotes in the workflow JSON (`"\"MyTable\""`) keeps its case; any other name must be a
//! plain identifier and means the upper-case name, as Snowflake resolves an unquoted name.
//! Column types are checked against a small grammar ([`checked_snowflake_type`]) before they
//! reach any DDL.

mod copy_into;
mod error;
mod identifier;
mod snowflake_type;
mod target_ddl;

pub use copy_into::{
    copy_files_sql, copy_into_sql, parse_copy_result, CopyFileResult, CopyFiles, CopyOutcome,
    LoadColumn, MAX_FILES_PER_COPY,
};
pub use error::LoadError;
pub use identifier::{
    qualified_name, quote_stored, sql_identifier, stored_name, target_column_name,
};
pub use snowflake_type::{checked_snowflake_type, is_semi_structured};
pub use target_ddl::{
    check_existing_columns, check_planned_columns, count_rows_sql, create_database_sql,
    create_schema_sql, create_table_sql, truncate_table_sql, ExistingColumn, TargetColumn,
    TargetTable,
};
