//! The error of metadata deployment and workflow creation, on its own so that every step of
//! the deployment can return it without depending on the module that re-exports the steps.

use std::time::Duration;

use crate::metadata_names::InvalidMetadataName;
use crate::queue::OperationParseError;
use crate::snowflake::{ErrorKind, SnowflakeError};

/// Errors of metadata deployment and workflow creation.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    InvalidName(#[from] InvalidMetadataName),

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
