//! The queue operations embedded from `sql/queue/`, rendered for the configured metadata
//! names and prepared for both transports.

use crate::metadata::sql_script::{
    render_template, replace_placeholders, to_positional, PositionalStatement,
};
use crate::metadata::{MetadataNames, MetadataNamesSql};

use super::operation::{Operation, OperationParseError};
use super::procedure::{call_sql, create_procedure_sql};

/// The source files, in the order the procedures are deployed.
pub const QUEUE_FILES: [(&str, &str); 7] = [
    ("push.sql", include_str!("../../../../sql/queue/push.sql")),
    ("pull.sql", include_str!("../../../../sql/queue/pull.sql")),
    (
        "heartbeat.sql",
        include_str!("../../../../sql/queue/heartbeat.sql"),
    ),
    (
        "complete.sql",
        include_str!("../../../../sql/queue/complete.sql"),
    ),
    ("fail.sql", include_str!("../../../../sql/queue/fail.sql")),
    (
        "release.sql",
        include_str!("../../../../sql/queue/release.sql"),
    ),
    (
        "expire.sql",
        include_str!("../../../../sql/queue/expire.sql"),
    ),
];

/// One operation ready to run: its definition, its statements with positional parameters
/// for a client transaction, and its CALL for the procedure transport.
#[derive(Debug, Clone)]
pub struct PreparedOperation {
    pub operation: Operation,
    /// `(statement, repeat)` for each step.
    pub direct_steps: Vec<(PositionalStatement, bool)>,
    pub direct_result: PositionalStatement,
    /// `CALL schema.PROCEDURE(?, ...)`; parameter names are the arguments in order.
    pub call: PositionalStatement,
}

impl PreparedOperation {
    fn new(operation: Operation, schema_sql: &str) -> Self {
        let direct_steps = operation
            .steps
            .iter()
            .map(|step| (direct_statement(&operation, &step.sql), step.repeat))
            .collect();
        let direct_result = direct_statement(&operation, &operation.result);
        let call = PositionalStatement {
            sql: call_sql(&operation, schema_sql),
            parameter_names: operation
                .params
                .iter()
                .map(|param| param.name.clone())
                .collect(),
        };
        PreparedOperation {
            operation,
            direct_steps,
            direct_result,
            call,
        }
    }
}

/// A statement for a client transaction: each placeholder becomes `CAST(? AS <type>)`, so the
/// server knows the parameter's type however it is used (the emulator cannot infer the type
/// of a bare `? IS NULL`), and comment lines are left out.
fn direct_statement(operation: &Operation, sql: &str) -> PositionalStatement {
    let typed = replace_placeholders(sql, |name| {
        let sql_type = operation
            .value_type(name)
            .expect("Operation::parse checked that every placeholder is declared");
        format!("CAST(:{name} AS {})", sql_type.as_sql())
    });
    to_positional(&crate::metadata::sql_script::strip_comments(&typed))
}

/// Every queue operation, prepared for one set of metadata names.
#[derive(Debug, Clone)]
pub struct QueueStatements {
    pub push: PreparedOperation,
    pub pull: PreparedOperation,
    pub heartbeat: PreparedOperation,
    pub complete: PreparedOperation,
    pub fail: PreparedOperation,
    pub release: PreparedOperation,
    pub expire: PreparedOperation,
}

impl QueueStatements {
    pub fn load(names: &MetadataNames) -> Result<QueueStatements, OperationParseError> {
        let schema_sql = names.migration_schema_sql();
        let mut prepared = parse_all(names)?
            .into_iter()
            .map(|operation| PreparedOperation::new(operation, &schema_sql));
        let mut next = || {
            prepared
                .next()
                .expect("QUEUE_FILES lists exactly seven operations")
        };
        Ok(QueueStatements {
            push: next(),
            pull: next(),
            heartbeat: next(),
            complete: next(),
            fail: next(),
            release: next(),
            expire: next(),
        })
    }
}

/// Parses every file of `sql/queue/` with the object names rendered.
pub fn parse_all(names: &MetadataNames) -> Result<Vec<Operation>, OperationParseError> {
    QUEUE_FILES
        .iter()
        .map(|(file, text)| Operation::parse(file, &render_template(text, names)))
        .collect()
}

/// The `CREATE OR REPLACE PROCEDURE` statements of the procedure transport.
pub fn procedures_ddl(names: &MetadataNames) -> Result<Vec<String>, OperationParseError> {
    let schema_sql = names.migration_schema_sql();
    Ok(parse_all(names)?
        .iter()
        .map(|operation| create_procedure_sql(operation, &schema_sql))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> MetadataNames {
        MetadataNames::default()
    }

    #[test]
    fn every_file_parses() {
        let statements = QueueStatements::load(&names()).expect("all queue files are valid");
        assert_eq!(statements.pull.operation.procedure, "PULL_TASKS");
        assert_eq!(statements.expire.operation.params.len(), 0);
        assert!(statements
            .fail
            .operation
            .steps
            .iter()
            .any(|step| step.repeat));
    }

    #[test]
    fn direct_statements_bind_typed_positional_parameters() {
        let statements = QueueStatements::load(&names()).expect("valid");
        let (claim, _) = &statements.pull.direct_steps[0];
        assert!(
            claim.sql.contains("CAST(? AS TIMESTAMP_NTZ)"),
            "{}",
            claim.sql
        );
        assert!(!claim.sql.contains(":now"));
        assert!(
            !claim.sql.contains("--"),
            "comments are stripped: {}",
            claim.sql
        );
        assert_eq!(
            claim.parameter_names.first().map(String::as_str),
            Some("consumer_id")
        );
        assert_eq!(
            statements.pull.call.sql,
            "CALL SNOWCONVERT_AI.DATA_MIGRATION.PULL_TASKS(?, ?, ?, ?)"
        );
    }

    /// The items of the first SELECT list: top-level commas between SELECT and FROM.
    fn select_list_len(sql: &str) -> usize {
        let upper = sql.to_ascii_uppercase();
        let start = upper.find("SELECT").expect("a SELECT") + "SELECT".len();
        let mut depth = 0i32;
        let mut items = 1;
        let bytes = upper.as_bytes();
        for offset in start..bytes.len() {
            match bytes[offset] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                b',' if depth == 0 => items += 1,
                _ if depth == 0 && upper[offset..].starts_with("FROM") => break,
                _ => {}
            }
        }
        items
    }

    #[test]
    fn result_queries_match_the_declared_return_columns() {
        for operation in parse_all(&names()).expect("valid") {
            assert_eq!(
                select_list_len(&operation.result),
                operation.returns.len(),
                "{}: `@returns` and the result SELECT disagree",
                operation.file
            );
        }
    }

    #[test]
    fn procedure_ddl_is_pinned() {
        let names = names();
        for (operation, ddl) in parse_all(&names)
            .expect("valid")
            .iter()
            .zip(procedures_ddl(&names).expect("valid"))
        {
            insta::assert_snapshot!(
                format!("procedure_{}", operation.procedure.to_lowercase()),
                ddl
            );
        }
    }

    #[test]
    fn direct_statements_are_pinned() {
        let statements = QueueStatements::load(&names()).expect("valid");
        for prepared in [
            &statements.push,
            &statements.pull,
            &statements.heartbeat,
            &statements.complete,
            &statements.fail,
            &statements.release,
            &statements.expire,
        ] {
            let mut text = String::new();
            for (statement, repeat) in &prepared.direct_steps {
                text.push_str(&format!(
                    "-- step (repeat: {repeat}) parameters: {}\n{};\n\n",
                    statement.parameter_names.join(", "),
                    statement.sql
                ));
            }
            text.push_str(&format!(
                "-- result parameters: {}\n{};\n",
                prepared.direct_result.parameter_names.join(", "),
                prepared.direct_result.sql
            ));
            insta::assert_snapshot!(
                format!("direct_{}", prepared.operation.procedure.to_lowercase()),
                text
            );
        }
    }
}
