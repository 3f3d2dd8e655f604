//! Generates the Snowflake Scripting procedures (transport `procedure`) from the same
//! operations the direct transport runs. Placeholders stay `:name`: inside a Snowflake
//! Scripting block that is how a statement reads an argument or a variable.
//!
//! Shape of every procedure: the variables are computed by Snowflake (`SYSDATE()`,
//! `UUID_STRING()`), the steps run in one transaction, `repeat` steps loop until they change
//! no row (bounded), and the result query is returned as a table. Any error rolls back and is
//! raised again. `EXECUTE AS OWNER` lets a worker role with only USAGE on the procedure work
//! the queue without any privilege on the tables.
//!
//! The procedures exist for the workers only (pull, heartbeat, complete, fail, release):
//! because they run with the owner's rights, they never take the executor type from the
//! caller. `:executor_type` is a variable fixed to [`PROCEDURE_EXECUTOR`] inside the body, so
//! a worker role can neither claim nor touch an orchestrator task. Push and expire have no
//! procedure; the orchestrator, which owns the schema, runs them as direct statements.

use std::fmt::Write as _;

use super::operation::{Operation, SqlType, EXECUTOR_TYPE};
use super::task::ExecutorType;

/// The executor every generated procedure serves.
pub const PROCEDURE_EXECUTOR: ExecutorType = ExecutorType::Worker;

/// Procedures earlier versions deployed whose signature is gone: Snowflake overloads
/// procedures by argument types, so `CREATE OR REPLACE` with a new signature would leave the
/// old one callable. Each is dropped by every deploy (`IF EXISTS`).
pub const RETIRED_PROCEDURES: [(&str, &[SqlType]); 3] = [
    // took the executor type from the caller
    (
        "PULL_TASKS",
        &[
            SqlType::Varchar,
            SqlType::Varchar,
            SqlType::Varchar,
            SqlType::Bigint,
        ],
    ),
    // let a worker push tasks of its own
    (
        "PUSH_TASKS",
        &[SqlType::Bigint, SqlType::Varchar, SqlType::Varchar],
    ),
    // the orchestrator's, run as direct statements now
    ("EXPIRE_LEASES", &[]),
];

/// `DROP PROCEDURE IF EXISTS` for every retired signature.
pub fn drop_retired_sql(schema_sql: &str) -> Vec<String> {
    RETIRED_PROCEDURES
        .iter()
        .map(|(name, types)| {
            let types = types
                .iter()
                .map(|sql_type| sql_type.as_sql())
                .collect::<Vec<_>>()
                .join(", ");
            format!("DROP PROCEDURE IF EXISTS {schema_sql}.{name}({types})")
        })
        .collect()
}

/// Upper bound of passes of a `repeat` step: the depth of the deepest task DAG we expect.
pub const MAX_REPEAT_PASSES: u32 = 1000;

/// `CREATE OR REPLACE PROCEDURE` for one operation, with object names already rendered, or
/// `None` when the operation has no procedure. `schema_sql` is the fully qualified schema the
/// procedure is created in.
pub fn create_procedure_sql(operation: &Operation, schema_sql: &str) -> Option<String> {
    let name = operation.procedure.as_deref()?;
    let arguments = operation
        .params
        .iter()
        .map(|param| {
            format!(
                "{} {}",
                param.name.to_ascii_uppercase(),
                param.sql_type.as_sql()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let returns = operation
        .returns
        .iter()
        .map(|column| format!("{} {}", column.name, column.sql_type.as_sql()))
        .collect::<Vec<_>>()
        .join(", ");

    let mut body = String::new();
    body.push_str("DECLARE\n");
    if operation.uses_executor_type {
        let _ = writeln!(
            body,
            "    {EXECUTOR_TYPE} VARCHAR DEFAULT '{}';",
            PROCEDURE_EXECUTOR.as_str()
        );
    }
    for variable in &operation.variables {
        let _ = writeln!(
            body,
            "    {} {} DEFAULT {};",
            variable.name,
            variable.sql_type.as_sql(),
            variable.default_sql
        );
    }
    body.push_str("    result_rows RESULTSET;\n");
    body.push_str("BEGIN\n");
    body.push_str("    BEGIN TRANSACTION;\n");
    for step in &operation.steps {
        let _ = writeln!(body, "    -- step: {}", step.name);
        if step.repeat {
            let _ = writeln!(body, "    FOR pass IN 1 TO {MAX_REPEAT_PASSES} DO");
            let _ = writeln!(body, "{};", indent(&step.sql, 8));
            body.push_str("        IF (SQLROWCOUNT = 0) THEN\n");
            body.push_str("            BREAK;\n");
            body.push_str("        END IF;\n");
            body.push_str("    END FOR;\n");
        } else {
            let _ = writeln!(body, "{};", indent(&step.sql, 4));
        }
    }
    body.push_str("    -- result\n");
    let _ = writeln!(
        body,
        "    result_rows := (\n{}\n    );",
        indent(&operation.result, 8)
    );
    body.push_str("    COMMIT;\n");
    body.push_str("    RETURN TABLE(result_rows);\n");
    body.push_str("EXCEPTION\n");
    body.push_str("    WHEN OTHER THEN\n");
    body.push_str("        ROLLBACK;\n");
    body.push_str("        RAISE;\n");
    body.push_str("END");

    Some(format!(
        "CREATE OR REPLACE PROCEDURE {schema_sql}.{name}({arguments})\n\
         RETURNS TABLE ({returns})\n\
         LANGUAGE SQL\n\
         EXECUTE AS OWNER\n\
         AS\n\
         $$\n\
         {body}\n\
         $$"
    ))
}

/// `CALL schema.PROCEDURE(?, ?, ...)`, one `?` per argument in declaration order, or `None`
/// when the operation has no procedure.
pub fn call_sql(operation: &Operation, schema_sql: &str) -> Option<String> {
    let name = operation.procedure.as_deref()?;
    let placeholders = vec!["?"; operation.params.len()].join(", ");
    Some(format!("CALL {schema_sql}.{name}({placeholders})"))
}

fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
