//! Command-line interface of `orchestrator`: the argument structs (their doc comments are the
//! `--help` text) and the offline commands. Commands that need Snowflake validate their input
//! here and then hand over to the daemon library; until that exists they stop with a clear
//! "not built yet" error.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use config_schema::json_schema::{json_schema, SchemaKind};
use config_schema::validation::{parse_validation_value, ValidationWorkflowConfig};
use config_schema::workflow::{parse_workflow_value, validate_workflow_name, WorkflowConfig};
use config_schema::SourcePlatform;

/// Moves tables from a source database into Snowflake, fault-tolerantly and in parallel, and
/// validates the copy.
///
/// Without a subcommand the orchestrator runs as a daemon: it deploys its metadata objects
/// (SNOWCONVERT_AI by default), plans pending workflows into tasks for the workers, loads the
/// extracted files with COPY INTO and completes workflows. Stop it at any time; it resumes where
/// it left off.
#[derive(Debug, Parser)]
#[command(name = "orchestrator", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a data-migration workflow from a workflow JSON file.
    ///
    /// The file is validated completely first (every problem is listed with its JSON path), then
    /// defaultTableConfiguration is merged into each table and a pending workflow holding the
    /// merged configuration is inserted for the daemon to plan.
    CreateDataMigrationWorkflow(CreateMigrationArgs),
    /// Create a data-validation workflow from a validation JSON file.
    ///
    /// The file's source_platform must name the same platform as --source-platform (any case).
    CreateDataValidationWorkflow(CreateValidationArgs),
    /// Check a workflow or validation file offline, without connecting to anything.
    ///
    /// The kind of file is detected from its keys (source_platform means a validation file).
    /// Prints every problem and exits with status 1, or prints the configuration with defaults
    /// applied (for a workflow: each table after merging defaultTableConfiguration).
    Validate(ValidateArgs),
    /// Print the JSON Schema of a configuration file, for editors and CI checks.
    Schema(SchemaArgs),
    /// Show the state of workflows (not built yet).
    Status(StatusArgs),
    /// Deploy or upgrade the metadata objects without starting the daemon (not built yet).
    Deploy(DeployArgs),
}

/// Options of the daemon (no subcommand).
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Snowflake connection to use: a name in connections.toml or config.toml
    /// ($SNOWFLAKE_HOME, ~/.snowflake, ~/.config/snowflake). Default: default_connection_name
    /// of config.toml, else "default".
    #[arg(long, env = "SNOWFLAKE_CONNECTION_NAME", global = true)]
    pub connection_name: Option<String>,

    /// Affinity group: process only workflows with this affinity, workflows without one, and
    /// workflows matching a pattern with `*`. Unset: process every workflow.
    #[arg(long, env = "DATA_MIGRATION_ORCHESTRATOR_AFFINITY")]
    pub affinity: Option<String>,
}

/// Arguments of `create-data-migration-workflow`.
#[derive(Debug, Args)]
pub struct CreateMigrationArgs {
    /// Workflow configuration file (JSON).
    pub config_file: PathBuf,

    /// Workflow name: letters, digits and underscores, not starting with a digit; unique.
    #[arg(long)]
    pub name: String,

    /// Source platform of every table in the workflow.
    #[arg(long, ignore_case = true, value_parser = platform_parser())]
    pub source_platform: SourcePlatform,
}

/// Arguments of `create-data-validation-workflow`.
#[derive(Debug, Args)]
pub struct CreateValidationArgs {
    /// Validation configuration file (JSON).
    pub config_file: PathBuf,

    /// Source platform; must match source_platform in the file (any case).
    #[arg(long, ignore_case = true, value_parser = platform_parser())]
    pub source_platform: SourcePlatform,

    /// Workflow name: letters, digits and underscores, not starting with a digit.
    #[arg(long, default_value = "MY_VALIDATION_WORKFLOW")]
    pub name: String,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Workflow or validation configuration file (JSON).
    pub config_file: PathBuf,

    /// Also run the checks that depend on the source platform (unload is Redshift-only; a
    /// validation file's source_platform must match).
    #[arg(long, ignore_case = true, value_parser = platform_parser())]
    pub source_platform: Option<SourcePlatform>,
}

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema to print. Default: all three, as one JSON object keyed by kind.
    #[arg(value_parser = PossibleValuesParser::new(["workflow", "validation", "worker"])
        .try_map(|s| s.parse::<SchemaKind>()))]
    pub kind: Option<SchemaKind>,
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Show only this workflow (name or id). Default: every workflow.
    pub workflow: Option<String>,
}

/// Arguments of `deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {}

fn platform_parser() -> impl TypedValueParser<Value = SourcePlatform> {
    PossibleValuesParser::new(SourcePlatform::ALL.map(SourcePlatform::as_str))
        .try_map(|s| s.parse::<SourcePlatform>())
}

/// Runs the command line. Errors are returned for `main` to print once.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run_daemon(cli.daemon),
        Some(Command::CreateDataMigrationWorkflow(args)) => {
            create_migration_workflow(args, cli.daemon.connection_name)
        }
        Some(Command::CreateDataValidationWorkflow(args)) => {
            create_validation_workflow(args, cli.daemon.connection_name)
        }
        Some(Command::Validate(args)) => validate(args),
        Some(Command::Schema(args)) => print_schema(args),
        Some(Command::Status(_)) => not_built_yet("status"),
        Some(Command::Deploy(_)) => not_built_yet("deploy"),
    }
}

fn run_daemon(_args: DaemonArgs) -> anyhow::Result<()> {
    not_built_yet("the orchestrator daemon")
}

/// Validates the workflow offline; the Snowflake part is not built yet.
fn create_migration_workflow(
    args: CreateMigrationArgs,
    _connection_name: Option<String>,
) -> anyhow::Result<()> {
    validate_workflow_name(&args.name).map_err(anyhow::Error::msg)?;
    let document = read_json(&args.config_file)?;
    let _workflow = load_workflow(&args.config_file, &document, Some(args.source_platform))?;
    not_built_yet("create-data-migration-workflow")
}

/// Validates the validation file offline; the Snowflake part is not built yet.
fn create_validation_workflow(
    args: CreateValidationArgs,
    _connection_name: Option<String>,
) -> anyhow::Result<()> {
    validate_workflow_name(&args.name).map_err(anyhow::Error::msg)?;
    let document = read_json(&args.config_file)?;
    let _config = load_validation(&args.config_file, &document, Some(args.source_platform))?;
    not_built_yet("create-data-validation-workflow")
}

fn not_built_yet(what: &str) -> anyhow::Result<()> {
    bail!("{what} is not built yet: it needs the Snowflake session, which arrives with a later release; `orchestrator validate` checks files offline today")
}

/// Which kind of configuration a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    Validation,
}

/// Validation files are snake_case and always carry `source_platform`; workflow files are
/// camelCase.
pub fn detect_file_kind(document: &serde_json::Value) -> FileKind {
    const VALIDATION_KEYS: [&str; 4] = [
        "source_platform",
        "validation_configuration",
        "comparison_configuration",
        "views",
    ];
    let is_validation = document
        .as_object()
        .is_some_and(|map| VALIDATION_KEYS.iter().any(|key| map.contains_key(*key)));
    if is_validation {
        FileKind::Validation
    } else {
        FileKind::Workflow
    }
}

fn validate(args: ValidateArgs) -> anyhow::Result<()> {
    let document = read_json(&args.config_file)?;
    let output = match detect_file_kind(&document) {
        FileKind::Workflow => {
            let workflow = load_workflow(&args.config_file, &document, args.source_platform)?;
            describe_workflow(&args.config_file, &workflow)?
        }
        FileKind::Validation => {
            let config = load_validation(&args.config_file, &document, args.source_platform)?;
            describe_validation(&args.config_file, &config)?
        }
    };
    print_stdout(&output)
}

fn describe_workflow(path: &Path, workflow: &WorkflowConfig) -> anyhow::Result<String> {
    let json = serde_json::to_string_pretty(workflow).context("cannot print the workflow")?;
    Ok(format!(
        "{} is a valid data-migration workflow ({} table(s)); merged configuration:\n{json}",
        path.display(),
        workflow.tables.len()
    ))
}

fn describe_validation(path: &Path, config: &ValidationWorkflowConfig) -> anyhow::Result<String> {
    let json = serde_json::to_string_pretty(config).context("cannot print the configuration")?;
    Ok(format!(
        "{} is a valid data-validation workflow ({} table(s), {} view(s)); configuration with defaults:\n{json}",
        path.display(),
        config.tables.len(),
        config.views.len()
    ))
}

fn print_schema(args: SchemaArgs) -> anyhow::Result<()> {
    let schema = match args.kind {
        Some(kind) => json_schema(kind),
        None => serde_json::Value::Object(
            SchemaKind::ALL
                .into_iter()
                .map(|kind| (kind.as_str().to_string(), json_schema(kind)))
                .collect(),
        ),
    };
    let text = serde_json::to_string_pretty(&schema).context("cannot print the schema")?;
    print_stdout(&text)
}

/// Prints a result; a closed pipe (`orchestrator schema | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not valid JSON", path.display()))
}

fn load_workflow(
    path: &Path,
    document: &serde_json::Value,
    platform: Option<SourcePlatform>,
) -> anyhow::Result<WorkflowConfig> {
    parse_workflow_value(document, platform).with_context(|| format!("`{}`", path.display()))
}

fn load_validation(
    path: &Path,
    document: &serde_json::Value,
    platform: Option<SourcePlatform>,
) -> anyhow::Result<ValidationWorkflowConfig> {
    parse_validation_value(document, platform).with_context(|| format!("`{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn detects_the_file_kind() {
        let validation = serde_json::json!({"source_platform": "x", "tables": []});
        let workflow = serde_json::json!({"tables": []});
        assert_eq!(detect_file_kind(&validation), FileKind::Validation);
        assert_eq!(detect_file_kind(&workflow), FileKind::Workflow);
    }

    #[test]
    fn platform_flag_is_case_insensitive() {
        let cli = Cli::try_parse_from([
            "orchestrator",
            "create-data-migration-workflow",
            "wf.json",
            "--name",
            "wf",
            "--source-platform",
            "SqlServer",
        ])
        .expect("parses");
        let Some(Command::CreateDataMigrationWorkflow(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(args.source_platform, SourcePlatform::Sqlserver);
    }
}
