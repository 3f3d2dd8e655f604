//! Deployment and upgrade of the metadata objects in the `SNOWCONVERT_AI` database (names
//! configurable, [`MetadataNames`]), and the rows written when a workflow is created.
//!
//! The objects are plain SQL files in `sql/metadata/`, applied as versioned, idempotent
//! migrations under a lease-style lock ([`deploy`]); the queue procedures are generated from
//! `sql/queue/` ([`crate::queue::procedure`]) and deployed with them.

mod deploy;
mod error;
pub mod migrations;
pub mod session_registry;
mod workflow;

// The names and the SQL text helpers live in leaf modules (the queue needs them too); these
// re-exports keep the paths `metadata::MetadataNames` and `metadata::sql_script` working.
pub use crate::metadata_names::{MetadataNames, MetadataNamesSql};
pub use crate::sql_script;

pub use deploy::{
    deploy, deploy_migrations, render_deployment, DeployOptions, DeployReport,
    PROCEDURES_LEDGER_VERSION,
};
pub use error::MetadataError;
pub use migrations::{migrations, Migration};
pub use workflow::{create_workflow, NewWorkflow, WorkflowType};
