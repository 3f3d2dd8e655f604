//! The error of preparing or checking a load, on its own so that the SQL builders (COPY INTO,
//! DDL, identifiers) can return it without depending on the module that re-exports them.

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
