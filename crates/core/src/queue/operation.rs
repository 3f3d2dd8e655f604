//! One queue operation as written in `sql/queue/*.sql`: its header (procedure name,
//! arguments, server-computed variables, result columns) and its statements.
//!
//! File format (directives are `-- @` comment lines, so the file stays plain SQL):
//!
//! ```text
//! -- @procedure PULL_TASKS                      name of the generated worker procedure;
//!                                                without it the operation runs only as
//!                                                direct statements (the schema owner's)
//! -- @executor_type                              declares `:executor_type` (VARCHAR): the
//!                                                trusted caller's executor type in a direct
//!                                                transaction, the constant 'worker' in a
//!                                                procedure (never a procedure argument)
//! -- @param consumer_id VARCHAR                  an argument the caller passes
//! -- @variable now TIMESTAMP_NTZ = SYSDATE()     computed: by Snowflake in the procedure,
//!                                                by the client in a direct transaction
//! -- @returns ID BIGINT, STATUS VARCHAR          columns of the result
//!
//! -- @step claim                                 a statement run for its effect
//! UPDATE ...;
//! -- @step cascade_failure repeat                run again until it changes no row
//! UPDATE ...;
//! -- @result                                     the final query, whose rows are returned
//! SELECT ...;
//! ```
//!
//! Comment lines before a directive document the file and are not part of the statement.

use std::collections::BTreeSet;

use crate::sql_script::{placeholders, split_statements};

/// SQL types used by queue arguments, variables and result columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Bigint,
    Varchar,
    Boolean,
    TimestampNtz,
    Variant,
}

impl SqlType {
    fn parse(text: &str) -> Option<SqlType> {
        match text.to_ascii_uppercase().as_str() {
            "BIGINT" => Some(SqlType::Bigint),
            "VARCHAR" => Some(SqlType::Varchar),
            "BOOLEAN" => Some(SqlType::Boolean),
            "TIMESTAMP_NTZ" => Some(SqlType::TimestampNtz),
            "VARIANT" => Some(SqlType::Variant),
            _ => None,
        }
    }

    /// The type's name in Snowflake SQL.
    pub fn as_sql(self) -> &'static str {
        match self {
            SqlType::Bigint => "BIGINT",
            SqlType::Varchar => "VARCHAR",
            SqlType::Boolean => "BOOLEAN",
            SqlType::TimestampNtz => "TIMESTAMP_NTZ",
            SqlType::Variant => "VARIANT",
        }
    }
}

/// An argument of the operation (a procedure parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub sql_type: SqlType,
}

/// A value computed when the operation runs (the current time, a fresh token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub sql_type: SqlType,
    /// The SQL expression the procedure uses to compute it, e.g. `SYSDATE()`.
    pub default_sql: String,
}

/// A column of the operation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
}

/// A statement run for its effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    /// Run again until it changes no row (transitive cascades).
    pub repeat: bool,
    pub sql: String,
}

/// The placeholder `-- @executor_type` declares.
pub const EXECUTOR_TYPE: &str = "executor_type";

/// A parsed queue operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The file it came from, for error messages.
    pub file: &'static str,
    /// The generated procedure's name; `None` for operations that only the owner of the
    /// metadata schema runs, as direct statements (push, expire).
    pub procedure: Option<String>,
    /// Whether the statements use `:executor_type` (`-- @executor_type`).
    pub uses_executor_type: bool,
    pub params: Vec<Param>,
    pub variables: Vec<Variable>,
    pub returns: Vec<Column>,
    pub steps: Vec<Step>,
    pub result: String,
}

/// A problem in a `sql/queue` file: a bug in this repository, reported with the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue statement file `sql/queue/{file}` is malformed: {message}")]
pub struct OperationParseError {
    pub file: &'static str,
    pub message: String,
}

impl Operation {
    /// Parses one file of `sql/queue/`.
    pub fn parse(file: &'static str, text: &str) -> Result<Operation, OperationParseError> {
        let error = |message: String| OperationParseError { file, message };
        let mut procedure = None;
        let mut uses_executor_type = false;
        let mut params = Vec::new();
        let mut variables = Vec::new();
        let mut returns = Vec::new();
        let mut steps = Vec::new();
        let mut result = None;

        for chunk in split_statements(text) {
            let mut role = None;
            let mut body = Vec::new();
            for line in chunk.lines() {
                let Some(directive) = line.trim().strip_prefix("-- @") else {
                    if role.is_some() {
                        body.push(line);
                    } else if !line.trim().is_empty() && !line.trim().starts_with("--") {
                        return Err(error(format!(
                            "statement text `{}` comes before its `-- @step` or `-- @result` line",
                            line.trim()
                        )));
                    }
                    continue;
                };
                let (keyword, rest) = directive.split_once(' ').unwrap_or((directive, ""));
                let rest = rest.trim();
                match keyword {
                    "procedure" => procedure = Some(rest.to_owned()),
                    "executor_type" if rest.is_empty() => uses_executor_type = true,
                    "executor_type" => {
                        return Err(error(format!(
                        "`@executor_type` takes no arguments (its type is VARCHAR), found `{rest}`"
                    )))
                    }
                    "param" => params.push(parse_param(rest).map_err(error)?),
                    "variable" => variables.push(parse_variable(rest).map_err(error)?),
                    "returns" => returns = parse_columns(rest).map_err(error)?,
                    "step" => {
                        let mut words = rest.split_whitespace();
                        let name = words
                            .next()
                            .ok_or_else(|| error("`@step` needs a name".to_owned()))?;
                        let repeat = match words.next() {
                            None => false,
                            Some("repeat") => true,
                            Some(other) => {
                                return Err(error(format!("unknown `@step` option `{other}`")))
                            }
                        };
                        role = Some(Role::Step(name.to_owned(), repeat));
                    }
                    "result" => role = Some(Role::Result),
                    other => return Err(error(format!("unknown directive `@{other}`"))),
                }
            }
            let sql = body.join("\n").trim().to_owned();
            match role {
                None if sql.is_empty() => {}
                None => {
                    return Err(error(
                        "a statement lacks a `-- @step` or `-- @result` line".to_owned(),
                    ))
                }
                Some(Role::Step(name, repeat)) => steps.push(Step { name, repeat, sql }),
                Some(Role::Result) => {
                    if result.replace(sql).is_some() {
                        return Err(error("more than one `-- @result`".to_owned()));
                    }
                }
            }
        }

        let operation = Operation {
            file,
            procedure,
            uses_executor_type,
            params,
            variables,
            returns,
            steps,
            result: result.ok_or_else(|| error("missing `-- @result`".to_owned()))?,
        };
        operation.check().map_err(error)?;
        Ok(operation)
    }

    /// The type of a declared argument or variable.
    pub fn value_type(&self, name: &str) -> Option<SqlType> {
        if self.uses_executor_type && name == EXECUTOR_TYPE {
            return Some(SqlType::Varchar);
        }
        self.params
            .iter()
            .find(|param| param.name == name)
            .map(|param| param.sql_type)
            .or_else(|| {
                self.variables
                    .iter()
                    .find(|variable| variable.name == name)
                    .map(|variable| variable.sql_type)
            })
    }

    /// Every statement text: the steps, then the result.
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .map(|step| step.sql.as_str())
            .chain(std::iter::once(self.result.as_str()))
    }

    /// Every placeholder is declared, every declaration is used, no name is declared twice.
    fn check(&self) -> Result<(), String> {
        let mut declared = BTreeSet::new();
        let executor_type = EXECUTOR_TYPE.to_owned();
        for name in self
            .uses_executor_type
            .then_some(&executor_type)
            .into_iter()
            .chain(self.params.iter().map(|param| &param.name))
            .chain(self.variables.iter().map(|variable| &variable.name))
        {
            if !declared.insert(name.as_str()) {
                return Err(format!("`{name}` is declared twice"));
            }
        }
        let mut used = BTreeSet::new();
        for statement in self.statements() {
            for placeholder in placeholders(statement) {
                if !declared.contains(placeholder.name.as_str()) {
                    return Err(format!(
                        "placeholder `:{}` is not declared with `@param`, `@variable` or `@executor_type`",
                        placeholder.name
                    ));
                }
                used.insert(placeholder.name);
            }
        }
        // A procedure runs with its owner's rights: the executor type it serves is fixed inside
        // it, never taken from the caller (a worker must not act as the orchestrator).
        if self.procedure.is_some() && self.params.iter().any(|param| param.name == EXECUTOR_TYPE) {
            return Err(format!(
                "`{EXECUTOR_TYPE}` is an argument of a procedure; declare it with `-- @executor_type`, which the generated procedure fixes to its executor"
            ));
        }
        if let Some(unused) = declared.iter().find(|name| !used.contains(**name)) {
            return Err(format!("`{unused}` is declared but never used"));
        }
        if self.returns.is_empty() {
            return Err("missing `-- @returns`".to_owned());
        }
        Ok(())
    }
}

enum Role {
    Step(String, bool),
    Result,
}

fn parse_type(text: &str) -> Result<SqlType, String> {
    SqlType::parse(text).ok_or_else(|| {
        format!("unknown type `{text}` (use BIGINT, VARCHAR, BOOLEAN, TIMESTAMP_NTZ or VARIANT)")
    })
}

fn parse_param(text: &str) -> Result<Param, String> {
    let (name, sql_type) = text
        .split_once(' ')
        .ok_or_else(|| format!("`@param {text}` needs a name and a type"))?;
    Ok(Param {
        name: name.to_ascii_lowercase(),
        sql_type: parse_type(sql_type.trim())?,
    })
}

fn parse_variable(text: &str) -> Result<Variable, String> {
    let (declaration, default_sql) = text
        .split_once('=')
        .ok_or_else(|| format!("`@variable {text}` needs `name TYPE = expression`"))?;
    let param = parse_param(declaration.trim())?;
    Ok(Variable {
        name: param.name,
        sql_type: param.sql_type,
        default_sql: default_sql.trim().to_owned(),
    })
}

fn parse_columns(text: &str) -> Result<Vec<Column>, String> {
    text.split(',')
        .map(|column| {
            let param = parse_param(column.trim())?;
            Ok(Column {
                name: param.name.to_ascii_uppercase(),
                sql_type: param.sql_type,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
-- Documentation of the file.
-- @procedure DO_IT
-- @param task_id BIGINT
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @returns ID BIGINT, STATUS VARCHAR

-- what the step does
-- @step first
UPDATE T SET A = :now
WHERE ID = :task_id;

-- @step again repeat
UPDATE T SET B = 1 WHERE B = 0;

-- @result
SELECT ID, STATUS FROM T WHERE ID = :task_id;
";

    #[test]
    fn parses_header_steps_and_result() {
        let operation = Operation::parse("sample.sql", SAMPLE).expect("valid sample");
        assert_eq!(operation.procedure.as_deref(), Some("DO_IT"));
        assert!(!operation.uses_executor_type);
        assert_eq!(
            operation.params,
            vec![Param {
                name: "task_id".into(),
                sql_type: SqlType::Bigint
            }]
        );
        assert_eq!(operation.variables[0].default_sql, "SYSDATE()");
        assert_eq!(operation.returns.len(), 2);
        assert_eq!(operation.steps.len(), 2);
        assert_eq!(
            operation.steps[0].sql,
            "UPDATE T SET A = :now\nWHERE ID = :task_id"
        );
        assert!(!operation.steps[0].repeat);
        assert!(operation.steps[1].repeat);
        assert_eq!(
            operation.result,
            "SELECT ID, STATUS FROM T WHERE ID = :task_id"
        );
    }

    #[test]
    fn undeclared_placeholder_is_an_error() {
        let text = SAMPLE.replace("WHERE ID = :task_id;", "WHERE ID = :task;");
        let error = Operation::parse("sample.sql", &text).expect_err("undeclared");
        insta::assert_snapshot!(error.to_string());
    }

    #[test]
    fn unused_declaration_is_an_error() {
        let text = SAMPLE.replace(
            "-- @param task_id BIGINT",
            "-- @param task_id BIGINT\n-- @param spare VARCHAR",
        );
        let error = Operation::parse("sample.sql", &text).expect_err("unused");
        assert!(error
            .to_string()
            .contains("`spare` is declared but never used"));
    }

    #[test]
    fn executor_type_is_declared_by_its_own_directive() {
        let text = SAMPLE
            .replace(
                "-- @param task_id BIGINT",
                "-- @param task_id BIGINT\n-- @executor_type",
            )
            .replace(
                "UPDATE T SET B = 1 WHERE B = 0;",
                "UPDATE T SET B = 1 WHERE B = 0 AND E = :executor_type;",
            );
        let operation = Operation::parse("sample.sql", &text).expect("valid");
        assert!(operation.uses_executor_type);
        assert_eq!(operation.value_type(EXECUTOR_TYPE), Some(SqlType::Varchar));
        assert!(
            operation
                .params
                .iter()
                .all(|param| param.name != EXECUTOR_TYPE),
            "not an argument"
        );
    }

    #[test]
    fn a_procedure_never_takes_the_executor_type_as_an_argument() {
        let text = SAMPLE
            .replace(
                "-- @param task_id BIGINT",
                "-- @param task_id BIGINT\n-- @param executor_type VARCHAR",
            )
            .replace(
                "UPDATE T SET B = 1 WHERE B = 0;",
                "UPDATE T SET B = 1 WHERE B = 0 AND E = :executor_type;",
            );
        let error = Operation::parse("sample.sql", &text).expect_err("argument");
        assert!(
            error
                .to_string()
                .contains("declare it with `-- @executor_type`"),
            "{error}"
        );
        let direct_only = text.replace("-- @procedure DO_IT\n", "");
        let operation = Operation::parse("sample.sql", &direct_only).expect("direct only");
        assert_eq!(operation.procedure, None);
    }

    #[test]
    fn statement_without_role_is_an_error() {
        let text = format!("{SAMPLE}\nDELETE FROM T;");
        let error = Operation::parse("sample.sql", &text).expect_err("no role");
        assert!(
            error.to_string().contains("comes before its `-- @step`"),
            "{error}"
        );
    }
}
