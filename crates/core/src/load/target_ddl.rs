//! DDL for the target database, schema and table, and the check of an existing table.

use super::identifier::{qualified_name, sql_identifier};
use super::LoadError;

/// Where a table lands in Snowflake, as configured (names may be quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTable {
    pub database: String,
    pub schema: String,
    pub table: String,
}

impl TargetTable {
    /// `database.schema.table` for SQL.
    pub fn qualified(&self) -> Result<String, LoadError> {
        qualified_name(&self.database, &self.schema, &self.table)
    }
}

/// One column of the target table: its SQL name (plain or quoted) and Snowflake type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub snowflake_type: String,
    pub nullable: bool,
}

/// A column of a table that already exists, as `INFORMATION_SCHEMA.COLUMNS` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingColumn {
    pub name: String,
    pub data_type: String,
}

pub fn create_database_sql(target: &TargetTable) -> Result<String, LoadError> {
    Ok(format!(
        "CREATE DATABASE IF NOT EXISTS {}",
        sql_identifier(&target.database)?
    ))
}

pub fn create_schema_sql(target: &TargetTable) -> Result<String, LoadError> {
    Ok(format!(
        "CREATE SCHEMA IF NOT EXISTS {}.{}",
        sql_identifier(&target.database)?,
        sql_identifier(&target.schema)?
    ))
}

/// `CREATE TABLE IF NOT EXISTS` with one line per column. Nullability is not carried over:
/// a migration must never fail a load because the source allowed a NULL the catalog hid.
pub fn create_table_sql(
    target: &TargetTable,
    columns: &[TargetColumn],
) -> Result<String, LoadError> {
    let table = target.qualified()?;
    if columns.is_empty() {
        return Err(LoadError::NoColumns { table });
    }
    let mut lines = Vec::with_capacity(columns.len());
    for column in columns {
        lines.push(format!(
            "    {} {}",
            sql_identifier(&column.name)?,
            column.snowflake_type
        ));
    }
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n{}\n)",
        lines.join(",\n")
    ))
}

/// How Snowflake stores a column name: unquoted names fold to upper case, quoted names keep
/// their case without the quotes.
fn stored_name(sql_name: &str) -> String {
    match sql_name
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => inner.replace("\"\"", "\""),
        None => sql_name.to_ascii_uppercase(),
    }
}

/// The family a Snowflake type belongs to, for a loose compatibility check: an existing
/// `NUMBER(10,0)` accepts what we would have created as `NUMBER(19,0)`, but not a `TEXT`.
fn type_family(snowflake_type: &str) -> &'static str {
    let upper = snowflake_type.trim().to_ascii_uppercase();
    let base = upper.split(['(', ' ']).next().unwrap_or_default();
    match base {
        "NUMBER" | "DECIMAL" | "NUMERIC" | "INT" | "INTEGER" | "BIGINT" | "SMALLINT"
        | "TINYINT" | "BYTEINT" | "FIXED" => "number",
        "FLOAT" | "FLOAT4" | "FLOAT8" | "DOUBLE" | "REAL" => "float",
        "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR" => "text",
        "BINARY" | "VARBINARY" => "binary",
        "BOOLEAN" => "boolean",
        "DATE" => "date",
        "TIME" => "time",
        "TIMESTAMP_NTZ" | "DATETIME" | "TIMESTAMP" => "timestamp_ntz",
        "TIMESTAMP_TZ" => "timestamp_tz",
        "TIMESTAMP_LTZ" => "timestamp_ltz",
        "VARIANT" | "OBJECT" | "ARRAY" => "semi_structured",
        _ => "other",
    }
}

/// Checks that an existing target table can take the load: every expected column exists
/// (by Snowflake's name resolution) with a compatible type. Extra target columns are fine.
pub fn check_existing_columns(
    target: &TargetTable,
    expected: &[TargetColumn],
    existing: &[ExistingColumn],
) -> Result<(), LoadError> {
    let mut problems = Vec::new();
    for column in expected {
        let wanted = stored_name(&column.name);
        match existing.iter().find(|e| e.name == wanted) {
            None => problems.push(format!("column {wanted} is missing")),
            Some(found) => {
                let (have, want) = (
                    type_family(&found.data_type),
                    type_family(&column.snowflake_type),
                );
                // Float data fits a NUMBER column only with loss; everything else must match
                // by family. Text can take anything, so an existing VARCHAR is accepted.
                if have != want && have != "text" {
                    problems.push(format!(
                        "column {wanted} is {} but the source needs {}",
                        found.data_type, column.snowflake_type
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(LoadError::TargetMismatch {
        table: target.qualified()?,
        problems: problems.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> TargetTable {
        TargetTable {
            database: "TGT".into(),
            schema: "public".into(),
            table: "\"Orders\"".into(),
        }
    }

    fn column(name: &str, ty: &str) -> TargetColumn {
        TargetColumn {
            name: name.into(),
            snowflake_type: ty.into(),
            nullable: true,
        }
    }

    #[test]
    fn create_table_keeps_quoted_names_and_types() {
        let sql = create_table_sql(
            &target(),
            &[
                column("id", "NUMBER(19,0)"),
                column("\"Order Date\"", "TIMESTAMP_NTZ(6)"),
            ],
        )
        .unwrap();
        insta::assert_snapshot!(sql, @r#"
        CREATE TABLE IF NOT EXISTS TGT.public."Orders" (
            id NUMBER(19,0),
            "Order Date" TIMESTAMP_NTZ(6)
        )
        "#);
        assert_eq!(
            create_schema_sql(&target()).unwrap(),
            "CREATE SCHEMA IF NOT EXISTS TGT.public"
        );
        assert_eq!(
            create_database_sql(&target()).unwrap(),
            "CREATE DATABASE IF NOT EXISTS TGT"
        );
    }

    #[test]
    fn create_table_without_columns_names_the_table() {
        let err = create_table_sql(&target(), &[]).unwrap_err().to_string();
        assert_eq!(err, "table TGT.public.\"Orders\" has no columns to create");
    }

    #[test]
    fn existing_table_with_compatible_columns_passes() {
        let existing = [
            ExistingColumn {
                name: "ID".into(),
                data_type: "NUMBER".into(),
            },
            ExistingColumn {
                name: "Order Date".into(),
                data_type: "TIMESTAMP_NTZ".into(),
            },
            ExistingColumn {
                name: "EXTRA".into(),
                data_type: "TEXT".into(),
            },
        ];
        let expected = [
            column("id", "NUMBER(19,0)"),
            column("\"Order Date\"", "TIMESTAMP_NTZ(6)"),
        ];
        check_existing_columns(&target(), &expected, &existing).unwrap();
    }

    #[test]
    fn existing_table_mismatch_names_every_problem() {
        let existing = [ExistingColumn {
            name: "ID".into(),
            data_type: "DATE".into(),
        }];
        let expected = [column("id", "NUMBER(19,0)"), column("name", "VARCHAR")];
        let err = check_existing_columns(&target(), &expected, &existing)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column ID is DATE but the source needs NUMBER(19,0)"),
            "{err}"
        );
        assert!(err.contains("column NAME is missing"), "{err}");
        assert!(
            err.starts_with("table TGT.public.\"Orders\" already exists"),
            "{err}"
        );
    }
}
