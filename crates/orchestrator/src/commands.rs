//! The Snowflake-side commands: create workflows, deploy the metadata.

use anyhow::Context as _;
use config_schema::validation::ValidationWorkflowConfig;
use config_schema::workflow::WorkflowConfig;
use config_schema::SourcePlatform;
use migration_core::metadata::{
    self, DeployOptions, DeployReport, MetadataNames, NewWorkflow, WorkflowType,
};
use migration_core::queue::Transport;
use migration_core::snowflake::{ConnectParams, Session};

/// Where the commands connect and which metadata they use.
#[derive(Debug, Clone)]
pub struct Target {
    pub params: ConnectParams,
    pub names: MetadataNames,
    pub transport: Transport,
}

impl Target {
    pub fn connect(&self) -> anyhow::Result<Session> {
        crate::connect::connect(&self.params)
    }

    fn deploy_options(&self) -> DeployOptions {
        DeployOptions {
            procedures: self.transport == Transport::Procedure,
            deployer: format!("orchestrator-cli-{}", uuid::Uuid::new_v4()),
            ..DeployOptions::default()
        }
    }
}

/// The WORKFLOW row of a validated data-migration workflow.
pub fn migration_workflow(
    name: &str,
    platform: SourcePlatform,
    workflow: &WorkflowConfig,
    connection_name: Option<String>,
) -> anyhow::Result<NewWorkflow> {
    Ok(NewWorkflow {
        name: name.to_owned(),
        workflow_type: WorkflowType::DataMigration,
        source_platform: platform,
        affinity: workflow.affinity.clone(),
        configuration: serde_json::to_value(workflow).context("cannot store the workflow")?,
        connection_name,
    })
}

/// The WORKFLOW row of a validated data-validation workflow.
pub fn validation_workflow(
    name: &str,
    platform: SourcePlatform,
    config: &ValidationWorkflowConfig,
    connection_name: Option<String>,
) -> anyhow::Result<NewWorkflow> {
    Ok(NewWorkflow {
        name: name.to_owned(),
        workflow_type: WorkflowType::DataValidation,
        source_platform: platform,
        affinity: None,
        configuration: serde_json::to_value(config)
            .context("cannot store the validation workflow")?,
        connection_name,
    })
}

/// Deploys the metadata when needed (a no-op when up to date) and inserts the pending workflow.
pub fn create_workflow(target: &Target, workflow: &NewWorkflow) -> anyhow::Result<i64> {
    let mut session = target.connect()?;
    metadata::deploy(&mut session, &target.names, &target.deploy_options())
        .context("cannot deploy the metadata objects")?;
    let id = metadata::create_workflow(&mut session, &target.names, workflow)?;
    Ok(id)
}

/// Deploys or upgrades the metadata objects.
pub fn deploy(target: &Target) -> anyhow::Result<DeployReport> {
    let mut session = target.connect()?;
    metadata::deploy(&mut session, &target.names, &target.deploy_options())
        .context("cannot deploy the metadata objects")
}

/// Every statement a deployment would run, as one script.
pub fn deployment_script(names: &MetadataNames) -> anyhow::Result<String> {
    let statements = metadata::render_deployment(names)?;
    Ok(statements
        .iter()
        .map(|statement| format!("{};\n", statement.trim_end().trim_end_matches(';')))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// What `deploy` prints.
pub fn describe_deploy(report: &DeployReport) -> String {
    if report.is_noop() {
        return "the metadata objects are up to date".to_owned();
    }
    let versions: Vec<String> = report.applied.iter().map(|v| format!("V{v:03}")).collect();
    let mut text = if versions.is_empty() {
        "no migration applied".to_owned()
    } else {
        format!("applied {}", versions.join(", "))
    };
    if report.procedures_deployed {
        text.push_str("; queue procedures deployed");
    }
    text
}
