//! Deployment and upgrade of the metadata objects in the `SNOWCONVERT_AI` database (names
//! configurable, [`MetadataNames`]), and the rows written when a workflow is created.
//!
//! The objects are plain SQL files in `sql/metadata/`, applied as versioned, idempotent
//! migrations under a lease-style lock ([`deploy`]); the queue procedures are generated from
//! `sql/queue/` ([`crate::queue::procedure`]) and deployed with them.

mod deploy;
pub mod migrations;
mod names;
pub mod session_registry;
pub mod sql_script;
mod workflow;

use std::time::Duration;

use crate::queue::OperationParseError;
use crate::snowflake::{ErrorKind, SnowflakeError};

pub use deploy::{
    deploy, deploy_migrations, render_deployment, DeployOptions, DeployReport,
    PROCEDURES_LEDGER_VERSION,
};
pub use migrations::{migrations, Migration};
pub use names::{MetadataNames, MetadataNamesSql};
pub use workflow::{create_workflow, NewWorkflow, WorkflowType};

/// Errors of metadata deployment and workflow creation.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("`{setting}` is `{value}`, which is not a plain Snowflake identifier; use letters, digits, `_` and `$`, starting with a letter or `_`")]
    InvalidName {
        setting: &'static str,
        value: String,
    },

    #[error("cannot {action}: {source}{}", privilege_hint(source))]
    Snowflake {
        action: &'static str,
        #[source]
        source: Box<SnowflakeError>,
    },

    #[error("metadata migration V{version:03} ({description}) failed at `{statement}`: {source}{}; fix the cause and deploy again, the version is retried from its start", privilege_hint(source))]
    MigrationFailed {
        version: i64,
        description: String,
        statement: String,
        #[source]
        source: Box<SnowflakeError>,
    },

    #[error("another deployer ({}) held the metadata migration lock for longer than {waited:?}; retry later, or clear SCHEMA_MIGRATION_LOCK if that deployer is gone", holder.as_deref().unwrap_or("unknown"))]
    LockTimeout {
        holder: Option<String>,
        waited: Duration,
    },

    #[error("lost the metadata migration lock before version {version}; another deployer took it after our lease ran out, deploy again")]
    LockLost { version: i64 },

    #[error("a workflow named `{name}` already exists; choose another name with --name")]
    WorkflowNameTaken { name: String },

    #[error("cannot {action}: {message}")]
    UnexpectedResult {
        action: &'static str,
        message: String,
    },

    #[error(transparent)]
    QueueStatements(#[from] OperationParseError),
}

/// What to do when the role lacks a privilege on the metadata objects.
fn privilege_hint(source: &SnowflakeError) -> &'static str {
    if source.kind() == ErrorKind::Permission {
        "; the role needs CREATE SCHEMA, CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FILE FORMAT \
         and CREATE PROCEDURE on the metadata database (or have an administrator apply \
         `orchestrator deploy --print`)"
    } else {
        ""
    }
}

impl MetadataError {
    pub(crate) fn snowflake(action: &'static str, source: SnowflakeError) -> Self {
        MetadataError::Snowflake {
            action,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement_error(kind: ErrorKind) -> SnowflakeError {
        SnowflakeError::Statement {
            sql: "CREATE TABLE IF NOT EXISTS X.Y.T (A INT)".to_owned(),
            kind,
            code: Some("003001".to_owned()),
            sqlstate: Some("42501".to_owned()),
            message: "Insufficient privileges to operate on schema 'Y'".to_owned(),
        }
    }

    #[test]
    fn permission_errors_say_what_to_grant() {
        let error = MetadataError::MigrationFailed {
            version: 2,
            description: "tables partitions files".to_owned(),
            statement: "CREATE TABLE IF NOT EXISTS X.Y.T (A INT)".to_owned(),
            source: Box::new(statement_error(ErrorKind::Permission)),
        };
        insta::assert_snapshot!(error.to_string());
        let other = MetadataError::snowflake(
            "read the migration ledger",
            statement_error(ErrorKind::Compilation),
        );
        assert!(!other.to_string().contains("CREATE PROCEDURE"));
    }
}
