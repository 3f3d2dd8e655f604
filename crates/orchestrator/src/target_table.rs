//! The target table of a planned table: its name and columns for the DDL, created when
//! missing, checked when it exists.

use config_schema::workflow::TableConfig;
use migration_core::load::{
    check_existing_columns, create_database_sql, create_schema_sql, create_table_sql,
    sql_identifier, ExistingColumn, LoadError, TargetColumn, TargetTable,
};
use migration_core::plan::TablePlan;
use migration_core::snowflake::{Session, SqlValue};

use crate::context::{cell, execute, query, Context};
use crate::sql::Binds;
use crate::task_error::TaskError;

/// Where a configured table lands.
pub fn target_table(table: &TableConfig) -> TargetTable {
    TargetTable {
        database: table.target.database_name.clone(),
        schema: table.target.schema_name.clone(),
        table: table.target.table_name.clone(),
    }
}

/// The columns of the target table from the plan (names and types after `columnNameMappings`
/// and `columnTypeMappings`). Plan names are Snowflake's stored names; a name Snowflake would
/// not store as written unquoted is quoted.
pub fn target_columns(plan: &TablePlan) -> Vec<TargetColumn> {
    plan.columns
        .iter()
        .map(|column| TargetColumn {
            name: column_sql_name(&column.target_name),
            snowflake_type: column.snowflake_type.clone(),
            nullable: column.nullable,
        })
        .collect()
}

/// A stored column name as it must be written in SQL: unquoted when it is an upper-case plain
/// identifier, else in double quotes.
pub fn column_sql_name(stored: &str) -> String {
    let plain = stored
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && stored
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        stored.to_owned()
    } else {
        format!("\"{}\"", stored.replace('"', "\"\""))
    }
}

/// How Snowflake stores a configured name: a quoted name without its quotes, a plain name in
/// upper case (what INFORMATION_SCHEMA reports).
pub fn stored_identifier(configured: &str) -> String {
    match configured
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => inner.replace("\"\"", "\""),
        None => configured.to_ascii_uppercase(),
    }
}

/// What [`prepare`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    Created,
    ExistingMatches,
}

/// Creates the database, schema and table when missing; checks an existing table's columns.
/// DDL commits on its own in Snowflake, so this runs outside any transaction, and every
/// statement is `IF NOT EXISTS`: repeating it after a crash is harmless.
pub fn prepare(
    context: &Context,
    session: &mut Session,
    target: &TargetTable,
    columns: &[TargetColumn],
) -> Result<Prepared, TaskError> {
    execute(
        session,
        "create the target database",
        &create_database_sql(target)?,
        &[],
    )?;
    execute(
        session,
        "create the target schema",
        &create_schema_sql(target)?,
        &[],
    )?;
    let existing = existing_columns(context, session, target)?;
    if existing.is_empty() {
        execute(
            session,
            "create the target table",
            &create_table_sql(target, columns)?,
            &[],
        )?;
        return Ok(Prepared::Created);
    }
    check_existing_columns(target, columns, &existing)?;
    Ok(Prepared::ExistingMatches)
}

/// The columns of the target table; empty when it does not exist.
pub fn existing_columns(
    context: &Context,
    session: &mut Session,
    target: &TargetTable,
) -> Result<Vec<ExistingColumn>, TaskError> {
    let statement = context
        .statements
        .target_columns(&sql_identifier(&target.database)?);
    let binds = Binds::from([
        (
            "schema_name",
            SqlValue::Text(stored_identifier(&target.schema)),
        ),
        (
            "table_name",
            SqlValue::Text(stored_identifier(&target.table)),
        ),
    ]);
    let rows = query(
        session,
        "read the target table's columns",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(ExistingColumn {
                name: cell(row, 0)?.to_owned(),
                data_type: cell(row, 1).unwrap_or_default().to_owned(),
            })
        })
        .collect())
}

/// The qualified target name for SQL.
pub fn qualified(target: &TargetTable) -> Result<String, LoadError> {
    target.qualified()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_quoted_only_when_needed() {
        assert_eq!(column_sql_name("ORDER_ID"), "ORDER_ID");
        assert_eq!(column_sql_name("Order Date"), "\"Order Date\"");
        assert_eq!(column_sql_name("id"), "\"id\"");
        assert_eq!(column_sql_name("A\"B"), "\"A\"\"B\"");
        assert_eq!(column_sql_name("1X"), "\"1X\"");
    }

    #[test]
    fn configured_names_resolve_like_snowflake() {
        assert_eq!(stored_identifier("public"), "PUBLIC");
        assert_eq!(stored_identifier("\"MyTable\""), "MyTable");
        assert_eq!(stored_identifier("\"a\"\"b\""), "a\"b");
    }
}
