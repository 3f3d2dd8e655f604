//! Shared by the `queue_*` and `metadata_*` emulator tests: sessions to a per-test emulator
//! database with the metadata deployed (by default without the queue procedures; the queue
//! suite deploys them for its procedure transport).

#![allow(dead_code)]

use std::time::Duration;

use config_schema::SourcePlatform;
use migration_core::metadata::{self, DeployOptions, MetadataNames, NewWorkflow, WorkflowType};
use migration_core::snowflake::Session;
use test_support::{Emulator, TestDatabase};

/// One test's database and the metadata names inside it.
pub struct Metadata {
    pub database: TestDatabase,
    pub names: MetadataNames,
}

impl Metadata {
    /// A fresh emulator database, not deployed yet.
    pub fn fresh(prefix: &str) -> Metadata {
        let database = Emulator::start().database(prefix);
        let names = MetadataNames {
            database: database.name.clone(),
            ..MetadataNames::default()
        };
        Metadata { database, names }
    }

    /// A fresh emulator database with the metadata deployed.
    pub fn deployed(prefix: &str) -> Metadata {
        let metadata = Metadata::fresh(prefix);
        let mut session = metadata.session();
        metadata::deploy(&mut session, &metadata.names, &emulator_deploy_options())
            .expect("deploy the metadata to the emulator");
        metadata
    }

    /// A new session on this database.
    pub fn session(&self) -> Session {
        self.database.session()
    }

    /// `DB.DATA_MIGRATION.<object>`.
    pub fn object(&self, name: &str) -> String {
        format!("{}.DATA_MIGRATION.{name}", self.database.name)
    }

    /// Inserts a pending data-migration workflow and returns its id.
    pub fn workflow(&self, session: &mut Session, name: &str, affinity: Option<&str>) -> i64 {
        let workflow = NewWorkflow {
            name: name.to_owned(),
            workflow_type: WorkflowType::DataMigration,
            source_platform: SourcePlatform::Sqlite,
            affinity: affinity.map(str::to_owned),
            configuration: serde_json::json!({"tables": []}),
            connection_name: None,
        };
        metadata::create_workflow(session, &self.names, &workflow).expect("create workflow")
    }

    /// Runs a query and returns the rows as text.
    pub fn rows(&self, session: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
        session
            .query_rows(sql, &[])
            .unwrap_or_else(|error| panic!("query `{sql}` failed: {error}"))
    }
}

/// Deploy options for the emulator: no procedures (set `procedures: true` to get them), short
/// lock polling.
pub fn emulator_deploy_options() -> DeployOptions {
    DeployOptions {
        procedures: false,
        deployer: "test".to_owned(),
        lock_poll: Duration::from_millis(100),
        lock_wait: Duration::from_secs(120),
        ..DeployOptions::default()
    }
}

pub fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}
