//! DDL for the target database, schema and table, the checks of the planned columns (types
//! and names) and of an existing table, and the statements that look into or empty it.

use super::error::LoadError;
use super::identifier::{qualified_name, sql_identifier, stored_name};
use super::snowflake_type::checked_snowflake_type;

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

/// One column of the target table: its name as configured (plain, or quoted to keep its case:
/// see [`sql_identifier`]) and its Snowflake type.
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

/// `CREATE TABLE IF NOT EXISTS` with one line per column, every name quoted and every type
/// checked ([`checked_snowflake_type`]). Nullability is not carried over: a migration must
/// never fail a load because the source allowed a NULL the catalog hid.
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
            checked_type(&table, column)?
        ));
    }
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n{}\n)",
        lines.join(",\n")
    ))
}

fn checked_type(table: &str, column: &TargetColumn) -> Result<String, LoadError> {
    checked_snowflake_type(&column.snowflake_type).map_err(|reason| LoadError::InvalidType {
        table: table.to_string(),
        column: stored_name(&column.name),
        snowflake_type: column.snowflake_type.clone(),
        reason,
    })
}

/// Checks the planned columns before any DDL runs: every type is a type name, and no two
/// names differ only in case (COPY matches Parquet fields to columns case-insensitively, so
/// such a pair would load one value into both or neither). `source_names` are the source
/// columns in the same order, for the message.
pub fn check_planned_columns(
    target: &TargetTable,
    columns: &[TargetColumn],
    source_names: &[String],
) -> Result<(), LoadError> {
    let table = target.qualified()?;
    for column in columns {
        checked_type(&table, column)?;
    }
    for (index, column) in columns.iter().enumerate() {
        let name = stored_name(&column.name);
        let twin = columns[..index]
            .iter()
            .position(|earlier| stored_name(&earlier.name).to_lowercase() == name.to_lowercase());
        if let Some(earlier) = twin {
            let source = |at: usize| {
                source_names
                    .get(at)
                    .cloned()
                    .unwrap_or_else(|| stored_name(&columns[at].name))
            };
            return Err(LoadError::CaseOnlyDuplicate {
                table,
                first_source: source(earlier),
                first_target: stored_name(&columns[earlier].name),
                second_source: source(index),
                second_target: name,
            });
        }
    }
    Ok(())
}

/// `SELECT COUNT(*)` of the target table (Snowflake answers it from metadata).
pub fn count_rows_sql(target: &TargetTable) -> Result<String, LoadError> {
    Ok(format!("SELECT COUNT(*) FROM {}", target.qualified()?))
}

/// `TRUNCATE TABLE` of the target table: DML in Snowflake, so it commits or rolls back with
/// the transaction it runs in.
pub fn truncate_table_sql(target: &TargetTable) -> Result<String, LoadError> {
    Ok(format!("TRUNCATE TABLE {}", target.qualified()?))
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
        CREATE TABLE IF NOT EXISTS "TGT"."PUBLIC"."Orders" (
            "ID" NUMBER(19,0),
            "Order Date" TIMESTAMP_NTZ(6)
        )
        "#);
        assert_eq!(
            create_schema_sql(&target()).unwrap(),
            "CREATE SCHEMA IF NOT EXISTS \"TGT\".\"PUBLIC\""
        );
        assert_eq!(
            create_database_sql(&target()).unwrap(),
            "CREATE DATABASE IF NOT EXISTS \"TGT\""
        );
    }

    #[test]
    fn reserved_words_spaces_and_case_are_quoted_everywhere() {
        let target = TargetTable {
            database: "tgt".into(),
            schema: "\"My Schema\"".into(),
            table: "\"MixedCase Text\"".into(),
        };
        let sql = create_table_sql(
            &target,
            &[
                column("order", "NUMBER(10,0)"),
                column("\"group\"", "VARCHAR"),
                column("\"Mixed Name\"", "VARIANT"),
            ],
        )
        .unwrap();
        insta::assert_snapshot!(sql, @r#"
        CREATE TABLE IF NOT EXISTS "TGT"."My Schema"."MixedCase Text" (
            "ORDER" NUMBER(10,0),
            "group" VARCHAR,
            "Mixed Name" VARIANT
        )
        "#);
        assert_eq!(
            count_rows_sql(&target).unwrap(),
            "SELECT COUNT(*) FROM \"TGT\".\"My Schema\".\"MixedCase Text\""
        );
        assert_eq!(
            truncate_table_sql(&target).unwrap(),
            "TRUNCATE TABLE \"TGT\".\"My Schema\".\"MixedCase Text\""
        );
    }

    #[test]
    fn a_type_that_is_more_than_a_type_name_is_refused_before_any_ddl() {
        let bad = [
            column("id", "NUMBER(19,0)"),
            column("a", "NUMBER) AS SELECT 1 A --"),
        ];
        let err = create_table_sql(&target(), &bad).unwrap_err().to_string();
        insta::assert_snapshot!(err, @r#"table "TGT"."PUBLIC"."Orders": the type of column A is refused: `NUMBER) AS SELECT 1 A --` is not a Snowflake type name; the analysis was changed by hand or comes from an incompatible worker: fix `columnTypeMappings` or create the workflow again"#);
        let again = check_planned_columns(&target(), &bad, &[]).unwrap_err();
        assert_eq!(again.to_string(), err);
        let injected = [column("b", "VARCHAR, INJECTED NUMBER")];
        assert!(check_planned_columns(&target(), &injected, &[]).is_err());
    }

    #[test]
    fn names_differing_only_in_case_are_refused_naming_both_source_columns() {
        let columns = [
            column("id", "NUMBER(19,0)"),
            column("\"Name\"", "VARCHAR"),
            column("name", "VARCHAR"),
        ];
        let sources = ["id".to_string(), "Name".to_string(), "name".to_string()];
        let err = check_planned_columns(&target(), &columns, &sources)
            .unwrap_err()
            .to_string();
        insta::assert_snapshot!(err, @r#"table "TGT"."PUBLIC"."Orders": source columns `Name` and `name` map to target columns `Name` and `NAME`, which differ only in case (COPY matches columns case-insensitively): rename one of them with `columnNameMappings`"#);
        check_planned_columns(&target(), &columns[..2], &sources[..2]).unwrap();
    }

    #[test]
    fn create_table_without_columns_names_the_table() {
        let err = create_table_sql(&target(), &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            "table \"TGT\".\"PUBLIC\".\"Orders\" has no columns to create"
        );
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
            err.starts_with("table \"TGT\".\"PUBLIC\".\"Orders\" already exists"),
            "{err}"
        );
    }
}
