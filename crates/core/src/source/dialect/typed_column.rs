//! A catalog column with its type decision, the column model the dialect's queries are built
//! from; on its own so that literals and checksums can use it without depending on the dialect
//! module that uses them.

use config_schema::SourcePlatform;
use serde::{Deserialize, Serialize};

use super::error::DialectError;
use super::type_mapping::{classify, ColumnType};
use crate::source::catalog::{SourceColumn, TableRef};

/// A column with its type decision: what extraction, boundary and checksum queries need.
/// Serializable: it travels in task payloads and the worker renders SQL from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedColumn {
    /// The exact catalog name.
    pub name: String,
    /// The catalog's type name (used to pick literal forms, e.g. N'..' for SQL Server nvarchar).
    pub data_type: String,
    pub column_type: ColumnType,
    pub nullable: bool,
}

impl TypedColumn {
    /// Classifies a catalog column; the error names table and column.
    pub fn classify(
        platform: SourcePlatform,
        table: &TableRef,
        column: &SourceColumn,
    ) -> Result<TypedColumn, DialectError> {
        let column_type =
            classify(platform, column).map_err(|e| DialectError::UnsupportedType {
                table: table.display_name(),
                column: column.name.clone(),
                data_type: e.data_type,
                platform,
            })?;
        Ok(TypedColumn {
            name: column.name.clone(),
            data_type: column.data_type.clone(),
            column_type,
            nullable: column.nullable,
        })
    }
}
