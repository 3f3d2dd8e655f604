//! Deployment and upgrade of the metadata objects in the `SNOWCONVERT_AI` database (names
//! configurable, [`MetadataNames`]), and the rows written when a workflow is created.
//!
//! The objects are plain SQL files in `sql/metadata/`, applied as versioned, idempotent
//! migrations under a lease-style lock ([`deploy`]); the queue procedures are generated from
//! `sql/queue/` ([`crate::queue::procedure`]) and deployed with them.

mod deploy;
pub mod migrations;
mod names;
pub mod sql_script;
mod workflow;

use std::time::Duration;

use crate::queue::OperationParseError;
use crate::snowflake::SnowflakeError;

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

    #[error("cannot {action}: {source}")]
    Snowflake {
        action: &'static str,
        #[source]
        source: Box<SnowflakeError>,
    },

    #[error("metadata migration V{version:03} ({description}) failed at `{statement}`: {source}; fix the cause (privileges on the metadata database?) and deploy again, the version is retried from its start")]
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

impl MetadataError {
    pub(crate) fn snowflake(action: &'static str, source: SnowflakeError) -> Self {
        MetadataError::Snowflake {
            action,
            source: Box::new(source),
        }
    }
}
