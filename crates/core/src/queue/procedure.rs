//! Generates the Snowflake Scripting procedures (transport `procedure`) from the same
//! operations the direct transport runs. Placeholders stay `:name`: inside a Snowflake
//! Scripting block that is how a statement reads an argument or a variable.
//!
//! Shape of every procedure: the variables are computed by Snowflake (`SYSDATE()`,
//! `UUID_STRING()`), the steps run in one transaction, `repeat` steps loop until they change
//! no row (bounded), and the result query is returned as a table. Any error rolls back and is
//! raised again. `EXECUTE AS OWNER` lets a worker role with only USAGE on the procedure work
//! the queue without any privilege on the tables.

use std::fmt::Write as _;

use super::operation::Operation;

/// Upper bound of passes of a `repeat` step: the depth of the deepest task DAG we expect.
pub const MAX_REPEAT_PASSES: u32 = 1000;

/// `CREATE OR REPLACE PROCEDURE` for one operation, with object names already rendered.
/// `schema_sql` is the fully qualified schema the procedure is created in.
pub fn create_procedure_sql(operation: &Operation, schema_sql: &str) -> String {
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

    format!(
        "CREATE OR REPLACE PROCEDURE {schema_sql}.{name}({arguments})\n\
         RETURNS TABLE ({returns})\n\
         LANGUAGE SQL\n\
         EXECUTE AS OWNER\n\
         AS\n\
         $$\n\
         {body}\n\
         $$",
        name = operation.procedure,
    )
}

/// `CALL schema.PROCEDURE(?, ?, ...)`, one `?` per argument in declaration order.
pub fn call_sql(operation: &Operation, schema_sql: &str) -> String {
    let placeholders = vec!["?"; operation.params.len()].join(", ");
    format!("CALL {schema_sql}.{}({placeholders})", operation.procedure)
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
