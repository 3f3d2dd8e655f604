//! Command-line interface of `orchestrator`: the argument structs (their doc comments are the
//! `--help` text) and the offline commands. Commands that need Snowflake validate their input
//! here (an invalid file never reaches Snowflake) and then hand over to the library.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use config_schema::json_schema::{json_schema, SchemaKind};
use config_schema::validation::{parse_validation_value, ValidationWorkflowConfig};
use config_schema::workflow::{check_workflow_value, validate_workflow_name, WorkflowConfig};
use config_schema::{Checked, Note, SourcePlatform};
use migration_core::daemon::{cancel_on_stop_signals, connect_params, init_tracing};

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
    /// Show the state of workflows: per table, partitions by phase, rows extracted and loaded,
    /// elapsed time and an example error.
    Status(StatusArgs),
    /// Deploy or upgrade the metadata objects without starting the daemon.
    Deploy(DeployArgs),
    /// Prove a completed workflow's copy: row counts and content checksums per table.
    ///
    /// Per table, the rows in the target must equal the rows extracted, and the target's
    /// content checksum (read back from Snowflake as Arrow) must equal the sum of the checksums
    /// the workers computed while extracting. Exits with status 1 on any difference.
    Verify(VerifyArgs),
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

    /// The workers' queue transport: `procedure` (deploy the queue procedures the workers CALL)
    /// or `direct` (deploy none; needed on the local emulator). The orchestrator's own queue
    /// operations always run in its client transactions, whatever this says.
    #[arg(long, env = "DATA_MIGRATION_QUEUE_TRANSPORT", default_value = "procedure", global = true,
        value_parser = orchestrator::settings::parse_transport)]
    pub queue_transport: migration_core::queue::Transport,

    /// Pause between two rounds of the daemon loop, in milliseconds.
    #[arg(
        long,
        env = "DATA_MIGRATION_ORCHESTRATOR_POLL_INTERVAL_MS",
        default_value_t = 5000
    )]
    pub poll_interval_ms: u64,

    /// Plan and load tasks run at once, each with its own Snowflake session.
    #[arg(
        long,
        env = "DATA_MIGRATION_ORCHESTRATOR_MAX_PARALLEL_TASKS",
        default_value_t = 4
    )]
    pub max_parallel_tasks: usize,

    /// Lease of every task the orchestrator pushes, in seconds: a task whose holder stops
    /// renewing it for this long is handed to another worker or orchestrator. At least 3 s and
    /// 4 poll intervals. Every Snowflake session of the daemons waits at most a quarter of it
    /// for a lock, and a queue statement runs at most half of it.
    #[arg(long, env = "DATA_MIGRATION_TASK_LEASE_SECONDS", default_value_t = 300)]
    pub task_lease_seconds: u64,

    /// Statement timeout of the sessions that plan and load (COPY INTO), in seconds.
    #[arg(
        long,
        env = "DATA_MIGRATION_LOAD_STATEMENT_TIMEOUT_SECONDS",
        default_value_t = 3600
    )]
    pub load_statement_timeout_seconds: u64,

    /// After SIGTERM or SIGINT: how long running plans and loads may take to finish, in
    /// seconds (their leases are renewed meanwhile); then the daemon exits and leaves them to
    /// lease expiry.
    #[arg(
        long,
        env = "DATA_MIGRATION_ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 20
    )]
    pub shutdown_grace_seconds: u64,

    /// Delay before the first retry of a failed task, in seconds; each further retry doubles it
    /// (at most 600 s).
    #[arg(
        long,
        env = "DATA_MIGRATION_TASK_RETRY_BACKOFF_SECONDS",
        default_value_t = 30
    )]
    pub retry_backoff_seconds: u64,
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
    #[arg(long)]
    pub workflow: Option<String>,

    /// Refresh every 2 seconds until every shown workflow is completed.
    #[arg(long)]
    pub watch: bool,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The workflow to verify (name or id).
    #[arg(long)]
    pub workflow: String,
}

/// Arguments of `deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Print the deployment script instead of running it (no connection needed).
    #[arg(long)]
    pub print: bool,
}

fn platform_parser() -> impl TypedValueParser<Value = SourcePlatform> {
    PossibleValuesParser::new(SourcePlatform::ALL.map(SourcePlatform::as_str))
        .try_map(|s| s.parse::<SourcePlatform>())
}

/// Runs the command line. Errors are returned for `main` to print once.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run_daemon(cli.daemon),
        Some(Command::CreateDataMigrationWorkflow(args)) => {
            create_migration_workflow(args, &cli.daemon)
        }
        Some(Command::CreateDataValidationWorkflow(args)) => {
            create_validation_workflow(args, &cli.daemon)
        }
        Some(Command::Validate(args)) => validate(args),
        Some(Command::Schema(args)) => print_schema(args),
        Some(Command::Status(args)) => show_status(args, &cli.daemon),
        Some(Command::Deploy(args)) => deploy(args, &cli.daemon),
        Some(Command::Verify(args)) => verify(args, &cli.daemon),
    }
}

fn metadata_names() -> migration_core::metadata::MetadataNames {
    migration_core::metadata::MetadataNames::from_env(|key| std::env::var(key).ok())
}

/// The connection (profile lookup) and metadata the Snowflake-side commands use.
fn target(daemon: &DaemonArgs) -> anyhow::Result<orchestrator::commands::Target> {
    Ok(orchestrator::commands::Target {
        params: connect_params(daemon.connection_name.as_deref())?,
        names: metadata_names(),
        transport: daemon.queue_transport,
    })
}

/// Runs the daemon until SIGINT or SIGTERM; a second signal exits at once.
fn run_daemon(args: DaemonArgs) -> anyhow::Result<()> {
    init_tracing();
    // Settings that cannot keep leases are refused before anything else (run checks again).
    orchestrator::settings::check_lease(
        std::time::Duration::from_secs(args.task_lease_seconds.max(1)),
        std::time::Duration::from_millis(args.poll_interval_ms.max(10)),
    )
    .map_err(anyhow::Error::msg)?;
    let mut config = orchestrator::DaemonConfig::new(
        connect_params(args.connection_name.as_deref())?,
        metadata_names(),
    );
    config.transport = args.queue_transport;
    config.affinity = args.affinity.filter(|affinity| !affinity.trim().is_empty());
    config.poll_interval = std::time::Duration::from_millis(args.poll_interval_ms.max(10));
    config.max_parallel_tasks = args.max_parallel_tasks.max(1);
    config.task_lease = std::time::Duration::from_secs(args.task_lease_seconds.max(1));
    config.retry.backoff_base = std::time::Duration::from_secs(args.retry_backoff_seconds);
    config.load_statement_timeout =
        std::time::Duration::from_secs(args.load_statement_timeout_seconds.max(1));
    config.shutdown_grace = std::time::Duration::from_secs(args.shutdown_grace_seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async move {
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(cancel_on_stop_signals(shutdown.clone()));
        orchestrator::run(config, shutdown).await
    });
    // A task thread still blocked in a Snowflake call (the shutdown grace ran out, or
    // Snowflake does not answer) is not waited for: its lease expires.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// Validates the workflow offline (an invalid file writes nothing), then inserts it.
fn create_migration_workflow(args: CreateMigrationArgs, daemon: &DaemonArgs) -> anyhow::Result<()> {
    validate_workflow_name(&args.name).map_err(anyhow::Error::msg)?;
    let document = read_json(&args.config_file)?;
    let Checked {
        config: workflow,
        notes,
    } = load_workflow(&args.config_file, &document, Some(args.source_platform))?;
    if !notes.is_empty() {
        print_stdout(&describe_notes(&notes))?;
    }
    let row = orchestrator::commands::migration_workflow(
        &args.name,
        args.source_platform,
        &workflow,
        daemon.connection_name.clone(),
    )?;
    let id = orchestrator::commands::create_workflow(&target(daemon)?, &row)?;
    print_stdout(&format!(
        "created data-migration workflow {} (id {id}, {} table(s)); a running orchestrator picks it up",
        args.name,
        workflow.tables.len()
    ))
}

/// Validates the validation file offline, then inserts a pending data-validation workflow.
fn create_validation_workflow(
    args: CreateValidationArgs,
    daemon: &DaemonArgs,
) -> anyhow::Result<()> {
    validate_workflow_name(&args.name).map_err(anyhow::Error::msg)?;
    let document = read_json(&args.config_file)?;
    let config = load_validation(&args.config_file, &document, Some(args.source_platform))?;
    let row = orchestrator::commands::validation_workflow(
        &args.name,
        args.source_platform,
        &config,
        daemon.connection_name.clone(),
    )?;
    let id = orchestrator::commands::create_workflow(&target(daemon)?, &row)?;
    print_stdout(&format!(
        "created data-validation workflow {} (id {id}, {} table(s))",
        args.name,
        config.tables.len()
    ))
}

fn deploy(args: DeployArgs, daemon: &DaemonArgs) -> anyhow::Result<()> {
    if args.print {
        return print_stdout(&orchestrator::commands::deployment_script(
            &metadata_names(),
        )?);
    }
    let report = orchestrator::commands::deploy(&target(daemon)?)?;
    print_stdout(&orchestrator::commands::describe_deploy(&report))
}

fn verify(args: VerifyArgs, daemon: &DaemonArgs) -> anyhow::Result<()> {
    let target = target(daemon)?;
    let statements = orchestrator::sql::Statements::new(&target.names);
    let mut session = target.connect()?;
    let workflows =
        orchestrator::status::read_status(&mut session, &statements, Some(&args.workflow))?;
    let Some(workflow) = workflows.first() else {
        bail!(
            "no workflow is named or numbered `{}`; run `orchestrator status` to list them",
            args.workflow
        );
    };
    let verdicts = orchestrator::verify::verify_workflow(&mut session, &statements, workflow.id)
        .with_context(|| format!("cannot verify workflow `{}`", workflow.name))?;
    print_stdout(&orchestrator::verify::render(&verdicts))?;
    if verdicts.is_empty() || !verdicts.iter().all(|v| v.is_proven()) {
        bail!("workflow `{}` is not verified", workflow.name);
    }
    Ok(())
}

fn show_status(args: StatusArgs, daemon: &DaemonArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let target = target(daemon)?;
    let statements = orchestrator::sql::Statements::new(&target.names);
    let mut session = target.connect()?;
    let terminal = std::io::stdout().is_terminal();
    loop {
        let workflows =
            orchestrator::status::read_status(&mut session, &statements, args.workflow.as_deref())?;
        if args.workflow.is_some() && workflows.is_empty() {
            bail!(
                "no workflow is named or numbered `{}`; run `orchestrator status` to list them",
                args.workflow.as_deref().unwrap_or_default()
            );
        }
        let text = orchestrator::status::render(&workflows, chrono::Utc::now().naive_utc());
        if args.watch && terminal {
            // Clear the screen and redraw in place.
            print!("\x1b[2J\x1b[H");
        }
        print_stdout(text.trim_end())?;
        if !args.watch || orchestrator::status::all_completed(&workflows) {
            return Ok(());
        }
        if !terminal {
            print_stdout("")?;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
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
            let checked = load_workflow(&args.config_file, &document, args.source_platform)?;
            describe_workflow(&args.config_file, &checked.config, &checked.notes)?
        }
        FileKind::Validation => {
            let config = load_validation(&args.config_file, &document, args.source_platform)?;
            describe_validation(&args.config_file, &config)?
        }
    };
    print_stdout(&output)
}

/// The summary line, the notes (inherited values a table ignores), then the merged JSON.
fn describe_workflow(
    path: &Path,
    workflow: &WorkflowConfig,
    notes: &[Note],
) -> anyhow::Result<String> {
    let json = serde_json::to_string_pretty(workflow).context("cannot print the workflow")?;
    let separator = if notes.is_empty() {
        "; ".to_string()
    } else {
        format!("\n{}\n", describe_notes(notes))
    };
    Ok(format!(
        "{} is a valid data-migration workflow ({} table(s)){separator}merged configuration:\n{json}",
        path.display(),
        workflow.tables.len()
    ))
}

/// One `note:` line per note.
fn describe_notes(notes: &[Note]) -> String {
    notes
        .iter()
        .map(|note| format!("note: {note}"))
        .collect::<Vec<_>>()
        .join("\n")
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
    Ok(migration_core::daemon::print_stdout(text)?)
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
) -> anyhow::Result<Checked<WorkflowConfig>> {
    check_workflow_value(document, platform).with_context(|| format!("`{}`", path.display()))
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
