//! The error of building source SQL, on its own so that the dialect's parts (column
//! classification, literals) can return it without depending on the dialect module.

use config_schema::SourcePlatform;
use thiserror::Error;

use super::where_clause::WhereClauseError;

/// Errors building source SQL. Each names the offending column or value.
#[derive(Debug, Error)]
pub enum DialectError {
    #[error(
        "column `{column}` of table `{table}` has type `{data_type}`, which {platform} extraction does not support: migrate a view that casts it to a supported type instead"
    )]
    UnsupportedType {
        table: String,
        column: String,
        data_type: String,
        platform: SourcePlatform,
    },
    #[error("key value for column `{column}` cannot be used in SQL: {reason}")]
    InvalidValue { column: String, reason: String },
    #[error(
        "partition bound has {values} values but the key has {keys} columns: re-plan the table"
    )]
    KeyArity { values: usize, keys: usize },
    #[error(transparent)]
    WhereClause(#[from] WhereClauseError),
}
