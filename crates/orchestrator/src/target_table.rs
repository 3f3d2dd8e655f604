//! The target table of a planned table: its name and columns for the DDL, checked before any
//! DDL, created when missing, checked when it exists; what it already holds, and what the
//! table's `target.existingRows` says to do about it.

use config_schema::workflow::model::ExistingRows;
use config_schema::workflow::TableConfig;
use migration_core::load::{
    check_existing_columns, check_planned_columns, count_rows_sql, create_database_sql,
    create_schema_sql, create_table_sql, is_semi_structured, quote_stored, sql_identifier,
    truncate_table_sql, ExistingColumn, LoadColumn, LoadError, TargetColumn, TargetTable,
};
use migration_core::plan::TablePlan;
use migration_core::snowflake::{Session, SqlValue};

use crate::context::{cell, execute, int_cell, query, Context};
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
/// and `columnTypeMappings`). Plan names are Snowflake's stored names, so each is quoted
/// exactly.
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

/// The columns a COPY loads from the plan's files: the exact names (the Parquet field names)
/// and whether each is parsed as JSON.
pub fn load_columns(plan: &TablePlan) -> Vec<LoadColumn> {
    plan.columns
        .iter()
        .map(|column| LoadColumn {
            name: column.target_name.clone(),
            semi_structured: is_semi_structured(&column.snowflake_type),
        })
        .collect()
}

/// Checks the plan's columns before any DDL: every type is a type name (the analyze result is
/// a worker's word), and no two target names differ only in case.
pub fn check_plan(target: &TargetTable, plan: &TablePlan) -> Result<(), LoadError> {
    let source_names: Vec<String> = plan
        .columns
        .iter()
        .map(|column| column.source.name.clone())
        .collect();
    check_planned_columns(target, &target_columns(plan), &source_names)
}

/// A stored column name as it must be written in SQL: always in double quotes, so reserved
/// words (`ORDER`), spaces and case all survive.
pub fn column_sql_name(stored: &str) -> String {
    quote_stored(stored)
}

/// How Snowflake stores a configured name: a quoted name without its quotes, a plain name in
/// upper case (what INFORMATION_SCHEMA reports).
pub fn stored_identifier(configured: &str) -> String {
    migration_core::load::stored_name(configured)
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

/// What the plan does about rows already in the target table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingRowsAction {
    /// The table is empty (or was just created): nothing to do.
    None,
    /// `append`: keep the rows.
    Keep,
    /// `truncate`: empty the table in the plan's transaction.
    Truncate,
}

/// Decides what to do with `rows` rows already in the table; `refuse` (the default) fails the
/// table, naming it and the option.
pub fn existing_rows_action(
    table: &str,
    rows: i64,
    policy: ExistingRows,
) -> Result<ExistingRowsAction, TaskError> {
    if rows <= 0 {
        return Ok(ExistingRowsAction::None);
    }
    match policy {
        ExistingRows::Append => Ok(ExistingRowsAction::Keep),
        ExistingRows::Truncate => Ok(ExistingRowsAction::Truncate),
        ExistingRows::Refuse => Err(TaskError::TargetNotEmpty {
            table: table.to_owned(),
            rows,
        }),
    }
}

/// Inside the plan's transaction: counts the rows of an existing target table and refuses,
/// keeps or truncates them as the table's configuration says. TRUNCATE is DML in Snowflake, so
/// it commits only with the partitions and the pushed tasks, and a repeated plan converges.
pub fn handle_existing_rows(
    session: &mut Session,
    target: &TargetTable,
    policy: ExistingRows,
) -> Result<ExistingRowsAction, TaskError> {
    let rows = query(
        session,
        "count the rows of the target table",
        &count_rows_sql(target)?,
        &[],
    )?;
    let count = match rows.first() {
        Some(row) => int_cell(row, 0, "count the rows of the target table")?,
        None => 0,
    };
    let action = existing_rows_action(&target.qualified()?, count, policy)?;
    if action == ExistingRowsAction::Truncate {
        execute(
            session,
            "truncate the target table",
            &truncate_table_sql(target)?,
            &[],
        )?;
        tracing::warn!(table = %target.qualified()?, rows = count, "target table truncated (target.existingRows = \"truncate\")");
    }
    Ok(action)
}

/// The qualified target name for SQL.
pub fn qualified(target: &TargetTable) -> Result<String, LoadError> {
    target.qualified()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_always_quoted() {
        assert_eq!(column_sql_name("ORDER_ID"), "\"ORDER_ID\"");
        assert_eq!(column_sql_name("ORDER"), "\"ORDER\"");
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

    #[test]
    fn rows_in_the_target_are_refused_unless_the_configuration_says_what_to_do() {
        let table = "\"TGT\".\"PUBLIC\".\"ORDERS\"";
        for policy in [
            ExistingRows::Refuse,
            ExistingRows::Append,
            ExistingRows::Truncate,
        ] {
            assert_eq!(
                existing_rows_action(table, 0, policy).unwrap(),
                ExistingRowsAction::None
            );
        }
        assert_eq!(
            existing_rows_action(table, 5, ExistingRows::Append).unwrap(),
            ExistingRowsAction::Keep
        );
        assert_eq!(
            existing_rows_action(table, 5, ExistingRows::Truncate).unwrap(),
            ExistingRowsAction::Truncate
        );
        let error = existing_rows_action(table, 5, ExistingRows::Refuse).unwrap_err();
        insta::assert_snapshot!(error.to_string(), @r#"target table "TGT"."PUBLIC"."ORDERS" already holds 5 rows, and a workflow never appends to a table silently: set the table's `target.existingRows` to "append" (keep them and add the source's rows) or "truncate" (empty the table first), or empty the table yourself, then create the workflow again"#);
        assert!(!error.is_retryable());
    }
}
