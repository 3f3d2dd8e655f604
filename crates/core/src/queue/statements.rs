//! The queue operations embedded from `sql/queue/`, rendered for the configured metadata
//! names and prepared for both transports.

use crate::metadata_names::{MetadataNames, MetadataNamesSql};
use crate::sql_script::{
    render_template, replace_placeholders, to_positional, PositionalStatement,
};

use super::operation::{Operation, OperationParseError};
use super::procedure::{call_sql, create_procedure_sql, drop_retired_sql};

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
    /// `CALL schema.PROCEDURE(?, ...)`; parameter names are the arguments in order. `None` for
    /// the operations without a procedure (push, expire).
    pub call: Option<PositionalStatement>,
}

impl PreparedOperation {
    fn new(operation: Operation, schema_sql: &str) -> Self {
        let direct_steps = operation
            .steps
            .iter()
            .map(|step| (direct_statement(&operation, &step.sql), step.repeat))
            .collect();
        let direct_result = direct_statement(&operation, &operation.result);
        let call = call_sql(&operation, schema_sql).map(|sql| PositionalStatement {
            sql,
            parameter_names: operation
                .params
                .iter()
                .map(|param| param.name.clone())
                .collect(),
        });
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
    to_positional(&crate::sql_script::strip_comments(&typed))
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

/// The statements that deploy the procedure transport: `DROP PROCEDURE IF EXISTS` for the
/// retired signatures, then `CREATE OR REPLACE PROCEDURE` for each worker operation.
pub fn procedures_ddl(names: &MetadataNames) -> Result<Vec<String>, OperationParseError> {
    let schema_sql = names.migration_schema_sql();
    let mut ddl = drop_retired_sql(&schema_sql);
    ddl.extend(
        parse_all(names)?
            .iter()
            .filter_map(|operation| create_procedure_sql(operation, &schema_sql)),
    );
    Ok(ddl)
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
        assert_eq!(
            statements.pull.operation.procedure.as_deref(),
            Some("PULL_TASKS")
        );
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
            statements.pull.call.as_ref().map(|call| call.sql.as_str()),
            Some("CALL SNOWCONVERT_AI.DATA_MIGRATION.PULL_TASKS(?, ?, ?)")
        );
    }

    #[test]
    fn procedures_exist_for_the_worker_operations_only_and_fix_the_executor_type() {
        let statements = QueueStatements::load(&names()).expect("valid");
        let with_procedure: Vec<&str> = [
            &statements.push,
            &statements.pull,
            &statements.heartbeat,
            &statements.complete,
            &statements.fail,
            &statements.release,
            &statements.expire,
        ]
        .iter()
        .filter_map(|prepared| prepared.operation.procedure.as_deref())
        .collect();
        assert_eq!(
            with_procedure,
            [
                "PULL_TASKS",
                "HEARTBEAT_TASK",
                "COMPLETE_TASK",
                "FAIL_TASK",
                "RELEASE_TASKS"
            ]
        );
        assert!(statements.push.call.is_none() && statements.expire.call.is_none());
        for prepared in [
            &statements.pull,
            &statements.heartbeat,
            &statements.complete,
            &statements.fail,
            &statements.release,
        ] {
            let operation = &prepared.operation;
            assert!(
                operation.uses_executor_type,
                "{} must be fenced by the executor type",
                operation.file
            );
            let call = prepared.call.as_ref().expect("a procedure");
            assert!(
                !call
                    .parameter_names
                    .iter()
                    .any(|name| name == "executor_type"),
                "{}: the executor type is never an argument",
                operation.file
            );
            for (statement, _) in &prepared.direct_steps {
                if statement.sql.contains("CLAIM_TOKEN = ?") {
                    assert!(
                        statement
                            .parameter_names
                            .iter()
                            .any(|name| name == "executor_type"),
                        "{}: a fenced step also requires the executor type: {}",
                        operation.file,
                        statement.sql
                    );
                }
            }
        }
        let ddl = procedures_ddl(&names()).expect("valid").join("\n");
        assert_eq!(
            ddl.matches("executor_type VARCHAR DEFAULT 'worker';")
                .count(),
            5,
            "{ddl}"
        );
        assert!(!ddl.contains("EXECUTOR_TYPE VARCHAR,"), "{ddl}");
    }

    #[test]
    fn deploy_drops_the_retired_signatures_first() {
        let ddl = procedures_ddl(&names()).expect("valid");
        assert_eq!(
            &ddl[..3],
            [
                "DROP PROCEDURE IF EXISTS SNOWCONVERT_AI.DATA_MIGRATION.PULL_TASKS(VARCHAR, VARCHAR, VARCHAR, BIGINT)",
                "DROP PROCEDURE IF EXISTS SNOWCONVERT_AI.DATA_MIGRATION.PUSH_TASKS(BIGINT, VARCHAR, VARCHAR)",
                "DROP PROCEDURE IF EXISTS SNOWCONVERT_AI.DATA_MIGRATION.EXPIRE_LEASES()",
            ]
        );
        assert_eq!(ddl.len(), 3 + 5);
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
        let schema_sql = names.migration_schema_sql();
        for operation in parse_all(&names).expect("valid") {
            let (Some(procedure), Some(ddl)) = (
                operation.procedure.as_deref(),
                create_procedure_sql(&operation, &schema_sql),
            ) else {
                continue;
            };
            insta::assert_snapshot!(format!("procedure_{}", procedure.to_lowercase()), ddl);
        }
    }

    /// The snapshot names predate direct-only operations: they are named after the procedure
    /// each operation used to have.
    fn direct_snapshot_name(file_stem: &str) -> &'static str {
        match file_stem {
            "push" => "push_tasks",
            "pull" => "pull_tasks",
            "heartbeat" => "heartbeat_task",
            "complete" => "complete_task",
            "fail" => "fail_task",
            "release" => "release_tasks",
            "expire" => "expire_leases",
            other => panic!("no snapshot name for sql/queue/{other}.sql"),
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
            let name = prepared.operation.file.trim_end_matches(".sql").to_owned();
            insta::assert_snapshot!(format!("direct_{}", direct_snapshot_name(&name)), text);
        }
    }
}
