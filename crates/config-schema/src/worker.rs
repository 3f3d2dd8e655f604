//! The worker TOML (`configuration.toml`).
//!
//! ```toml
//! selected_task_source = "snowflake_stored_procedure"
//!
//! [application]
//! max_parallel_tasks = 4
//! task_fetch_interval = 5
//!
//! [connections.source.postgresql]
//! username = "migrator"
//! password_env = "SOURCE_PASSWORD"
//! database = "shop"
//! host = "127.0.0.1"
//!
//! [connections.target.snowflake_connection_name]
//! connection_name = "production"
//! ```
//!
//! Exactly one `[connections.source.<platform>]` table must be present. Every secret field `x`
//! may also be written `x_env` or `x_file` (see [`crate::secret`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{check_and_validate, parse_toml, schema_value, ConfigError};
use crate::identifier::is_plain_identifier;
use crate::metadata_names::{
    DEFAULT_DATA_MIGRATION_SCHEMA, DEFAULT_DATA_VALIDATION_SCHEMA, DEFAULT_METADATA_DATABASE,
};
use crate::problem::{child_key, Problems};
use crate::secret::{Secret, SecretSource};
use crate::SourcePlatform;

const WHAT: &str = "the worker configuration";

// ---------------------------------------------------------------------------------------------
// Raw structs: mirror the file.
// ---------------------------------------------------------------------------------------------

/// The worker configuration file (TOML).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Worker configuration")]
pub struct RawWorkerConfig {
    /// How the worker talks to the task queue: `snowflake_stored_procedure` (default; calls the
    /// PULL_TASKS / COMPLETE_TASK / FAIL_TASK procedures) or `snowflake_direct_sql` (runs the same
    /// statements itself in one transaction; for accounts or emulators without procedures).
    pub selected_task_source: Option<TaskSourceKind>,
    /// Worker settings.
    #[serde(default)]
    pub application: RawApplication,
    /// Source and target connections.
    pub connections: RawConnections,
}

/// How the worker reaches the task queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskSourceKind {
    /// Call the task-queue stored procedures (needs only USAGE on them).
    SnowflakeStoredProcedure,
    /// Run the queue statements directly in one transaction.
    SnowflakeDirectSql,
}

/// `[application]`: worker settings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    /// Maximum number of tasks processed at the same time. Default 4.
    #[schemars(range(min = 1))]
    pub max_parallel_tasks: Option<u32>,
    /// Seconds to wait after an empty pull before asking for tasks again. Default 5.
    #[schemars(range(min = 1))]
    pub task_fetch_interval: Option<u64>,
    /// Database holding the task queue. Default SNOWCONVERT_AI; must match the orchestrator's
    /// CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA.
    pub snowflake_database_for_metadata: Option<String>,
    /// Schema holding the data-migration task queue. Default DATA_MIGRATION; must match the
    /// orchestrator's CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_MIGRATION_METADATA.
    pub snowflake_schema_for_data_migration_metadata: Option<String>,
    /// Schema holding data-validation results. Default DATA_VALIDATION; must match the
    /// orchestrator's CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_VALIDATION_METADATA.
    pub snowflake_schema_for_data_validation_metadata: Option<String>,
    /// Affinity group: the worker takes only tasks of workflows with the same affinity, tasks
    /// without affinity, and tasks matching a `*` pattern. Unset: the worker takes every task.
    pub affinity: Option<String>,
    /// Largest single text or binary value the worker reads, in bytes (UTF-8 bytes for text).
    /// Default 16777216 (16 MiB, Snowflake's VARCHAR limit); binary values are also held to
    /// Snowflake's BINARY limit of 8388608 bytes. A larger value fails its partition with an error
    /// naming the table, the column and this key. Lower it to bound the worker's memory (fetch
    /// buffers never exceed it per value).
    #[schemars(range(min = 1, max = 16777216))]
    pub max_value_bytes: Option<u64>,
}

/// `[connections]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConnections {
    /// The source system: exactly one of the platform tables.
    #[schemars(schema_with = "exactly_one_source_schema")]
    pub source: RawSourceConnections,
    /// The Snowflake target connection. Omitted: the connection named by
    /// SNOWFLAKE_CONNECTION_NAME, else `default_connection_name`, else `default`.
    #[serde(default)]
    pub target: RawTargetConnections,
}

/// The schema of `[connections.source]`: the platform tables, exactly one of them present.
fn exactly_one_source_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    let mut schema = gen.subschema_for::<RawSourceConnections>().into_object();
    let reference = schemars::schema::Schema::Object(std::mem::take(&mut schema));
    schema.subschemas().all_of = Some(vec![reference]);
    schema.object().min_properties = Some(1);
    schema.object().max_properties = Some(1);
    schema.metadata().description =
        Some("The source system: exactly one of the platform tables.".to_string());
    schemars::schema::Schema::Object(schema)
}

/// `[connections.source.<platform>]`: give exactly one.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSourceConnections {
    pub sqlserver: Option<RawSqlServer>,
    pub redshift: Option<RawRedshift>,
    pub postgresql: Option<RawPostgresql>,
    pub teradata: Option<RawTeradata>,
    pub sqlite: Option<RawSqlite>,
}

/// `[connections.target]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetConnections {
    pub snowflake_connection_name: Option<RawSnowflakeConnectionName>,
}

/// `[connections.target.snowflake_connection_name]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSnowflakeConnectionName {
    /// Name of a connection in connections.toml or config.toml.
    pub connection_name: String,
}

/// `[connections.source.sqlserver]`: SQL Server over ODBC (standard authentication).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSqlServer {
    pub username: String,
    /// Password (secret; or `password_env` / `password_file`).
    pub password: Option<Secret>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// File holding the password.
    pub password_file: Option<PathBuf>,
    pub database: String,
    pub host: String,
    /// Default 1433.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// ODBC driver name. Default "ODBC Driver 18 for SQL Server".
    pub driver_name: Option<String>,
    /// Encrypt the connection. Default true.
    pub encrypt: Option<bool>,
    /// Accept the server certificate without validation. Default false.
    pub trust_server_certificate: Option<bool>,
    /// Extra ODBC connection-string attributes, added as `KEY=value;`.
    #[serde(default)]
    pub extra_options: BTreeMap<String, String>,
}

/// `[connections.source.redshift]`: Amazon Redshift over ODBC, standard or IAM authentication.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRedshift {
    pub username: String,
    /// Password for `auth_method = "standard"` (secret; or `password_env` / `password_file`).
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub database: String,
    /// Cluster endpoint. Required for standard authentication.
    pub host: Option<String>,
    /// Default 5439.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// `standard` (default) or `iam-provisioned-cluster`.
    pub auth_method: Option<RedshiftAuthMethod>,
    /// Cluster identifier (IAM authentication).
    pub cluster_id: Option<String>,
    /// AWS region (IAM authentication), e.g. us-west-2.
    pub region: Option<String>,
    /// AWS access key id (IAM authentication; secret; or `_env` / `_file`).
    pub access_key_id: Option<Secret>,
    pub access_key_id_env: Option<String>,
    pub access_key_id_file: Option<PathBuf>,
    /// AWS secret access key (IAM authentication; secret; or `_env` / `_file`).
    pub secret_access_key: Option<Secret>,
    pub secret_access_key_env: Option<String>,
    pub secret_access_key_file: Option<PathBuf>,
    /// Temporary AWS session token (optional; secret; or `_env` / `_file`).
    pub session_token: Option<Secret>,
    pub session_token_env: Option<String>,
    pub session_token_file: Option<PathBuf>,
    /// ODBC driver name. Default "Amazon Redshift (x64)".
    pub driver_name: Option<String>,
    /// Extra ODBC connection-string attributes, added as `KEY=value;`.
    #[serde(default)]
    pub extra_options: BTreeMap<String, String>,
}

/// Redshift authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RedshiftAuthMethod {
    /// User name and password.
    #[serde(rename = "standard")]
    Standard,
    /// IAM credentials for a provisioned cluster (cluster_id, region, access keys).
    #[serde(rename = "iam-provisioned-cluster")]
    IamProvisionedCluster,
}

/// `[connections.source.postgresql]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPostgresql {
    pub username: String,
    /// Password (secret; or `password_env` / `password_file`). Optional for trust authentication.
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub database: String,
    pub host: String,
    /// Default 5432.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// `native` (default; the PostgreSQL wire protocol) or `odbc`.
    pub extraction_path: Option<PostgresExtractionPath>,
    /// ODBC driver name for `extraction_path = "odbc"`. Default "PostgreSQL Unicode".
    pub driver_name: Option<String>,
    /// libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full. Unset: the
    /// driver's default (prefer). Both paths honour it (the native path through rustls).
    pub ssl_mode: Option<PgSslMode>,
    /// Extra ODBC connection-string attributes, added as `KEY=value;`.
    #[serde(default)]
    pub extra_options: BTreeMap<String, String>,
}

/// How the worker reads PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostgresExtractionPath {
    Native,
    Odbc,
}

/// libpq's `sslmode` values, spelled as libpq spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PgSslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl PgSslMode {
    pub const ALL: [PgSslMode; 6] = [
        PgSslMode::Disable,
        PgSslMode::Allow,
        PgSslMode::Prefer,
        PgSslMode::Require,
        PgSslMode::VerifyCa,
        PgSslMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PgSslMode::Disable => "disable",
            PgSslMode::Allow => "allow",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }

    /// The mode named `text` (libpq's spelling, any case).
    pub fn parse(text: &str) -> Option<PgSslMode> {
        PgSslMode::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(text))
    }
}

/// `[connections.source.teradata]`: Teradata over ODBC.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTeradata {
    /// ODBC driver name, e.g. "Teradata Database ODBC Driver 17.20".
    pub driver_name: String,
    pub host: String,
    /// Default 1025.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    pub database: String,
    pub username: String,
    /// Password (secret; or `password_env` / `password_file`).
    pub password: Option<Secret>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Extra ODBC connection-string attributes, added as `KEY=value;`.
    #[serde(default)]
    pub extra_options: BTreeMap<String, String>,
}

/// `[connections.source.sqlite]`: a SQLite database file (the embedded demo source).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSqlite {
    /// Path of the database file.
    pub database: PathBuf,
    /// ODBC driver name. Default "SQLite3".
    pub driver_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Validated types.
// ---------------------------------------------------------------------------------------------

pub fn default_task_source() -> TaskSourceKind {
    TaskSourceKind::SnowflakeStoredProcedure
}
pub fn default_max_parallel_tasks() -> u32 {
    4
}
pub fn default_task_fetch_interval_secs() -> u64 {
    5
}
/// Snowflake's VARCHAR limit in bytes: no larger text value can be loaded.
pub const SNOWFLAKE_MAX_VARCHAR_BYTES: u64 = 16_777_216;
pub fn default_max_value_bytes() -> u64 {
    SNOWFLAKE_MAX_VARCHAR_BYTES
}
pub const DEFAULT_SQLSERVER_PORT: u16 = 1433;
pub const DEFAULT_SQLSERVER_DRIVER: &str = "ODBC Driver 18 for SQL Server";
pub const DEFAULT_REDSHIFT_PORT: u16 = 5439;
pub const DEFAULT_REDSHIFT_DRIVER: &str = "Amazon Redshift (x64)";
pub const DEFAULT_POSTGRESQL_PORT: u16 = 5432;
pub const DEFAULT_POSTGRESQL_DRIVER: &str = "PostgreSQL Unicode";
pub const DEFAULT_TERADATA_PORT: u16 = 1025;
pub const DEFAULT_SQLITE_DRIVER: &str = "SQLite3";

/// A checked worker configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    pub task_source: TaskSourceKind,
    pub application: ApplicationConfig,
    pub source: SourceConnection,
    /// `[connections.target.snowflake_connection_name] connection_name`; `None` means the
    /// usual profile lookup (SNOWFLAKE_CONNECTION_NAME, default_connection_name, `default`).
    pub target_connection_name: Option<String>,
}

/// `[application]` with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationConfig {
    pub max_parallel_tasks: u32,
    pub task_fetch_interval_secs: u64,
    pub snowflake_database_for_metadata: String,
    pub snowflake_schema_for_data_migration_metadata: String,
    pub snowflake_schema_for_data_validation_metadata: String,
    pub affinity: Option<String>,
    /// `max_value_bytes`: the largest single text or binary value read.
    pub max_value_bytes: u64,
}

/// The one source connection of a worker.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceConnection {
    Sqlserver(SqlServerConnection),
    Redshift(RedshiftConnection),
    Postgresql(PostgresqlConnection),
    Teradata(TeradataConnection),
    Sqlite(SqliteConnection),
}

impl SourceConnection {
    pub fn platform(&self) -> SourcePlatform {
        match self {
            SourceConnection::Sqlserver(_) => SourcePlatform::Sqlserver,
            SourceConnection::Redshift(_) => SourcePlatform::Redshift,
            SourceConnection::Postgresql(_) => SourcePlatform::Postgresql,
            SourceConnection::Teradata(_) => SourcePlatform::Teradata,
            SourceConnection::Sqlite(_) => SourcePlatform::Sqlite,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqlServerConnection {
    pub username: String,
    pub password: Option<SecretSource>,
    pub database: String,
    pub host: String,
    pub port: u16,
    pub driver_name: String,
    pub encrypt: bool,
    pub trust_server_certificate: bool,
    pub extra_options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RedshiftConnection {
    pub username: String,
    pub database: String,
    pub port: u16,
    pub driver_name: String,
    pub auth: RedshiftAuth,
    pub extra_options: BTreeMap<String, String>,
}

/// Redshift credentials, checked for completeness.
#[derive(Debug, Clone, PartialEq)]
pub enum RedshiftAuth {
    Standard {
        host: String,
        password: SecretSource,
    },
    IamProvisionedCluster {
        /// Endpoint, when given; otherwise the driver resolves it from the cluster id.
        host: Option<String>,
        cluster_id: String,
        region: String,
        access_key_id: SecretSource,
        secret_access_key: SecretSource,
        session_token: Option<SecretSource>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostgresqlConnection {
    pub username: String,
    pub password: Option<SecretSource>,
    pub database: String,
    pub host: String,
    pub port: u16,
    pub extraction_path: PostgresExtractionPath,
    pub driver_name: String,
    /// One of [`PgSslMode`]'s spellings (checked), as given to libpq / psqlODBC.
    pub ssl_mode: Option<String>,
    pub extra_options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeradataConnection {
    pub driver_name: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub password: Option<SecretSource>,
    pub extra_options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqliteConnection {
    pub database: PathBuf,
    pub driver_name: String,
}

/// Parses and validates worker TOML text.
pub fn parse_worker_config(text: &str) -> Result<WorkerConfig, ConfigError> {
    let value = parse_toml(WHAT, text)?;
    check_and_validate::<RawWorkerConfig, _>(WHAT, &value, |raw| {
        let mut problems = Problems::default();
        match validate_worker_config(raw, &mut problems) {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(problems),
        }
    })
}

/// The JSON Schema of the worker TOML (as JSON).
pub fn worker_json_schema() -> serde_json::Value {
    schema_value::<RawWorkerConfig>()
}

/// Checks a raw worker configuration and applies defaults. Problems go to `problems`.
pub fn validate_worker_config(
    raw: RawWorkerConfig,
    problems: &mut Problems,
) -> Option<WorkerConfig> {
    let application = validate_application(raw.application, problems);
    let source = validate_source(raw.connections.source, problems);
    let target_connection_name = raw
        .connections
        .target
        .snowflake_connection_name
        .map(|t| t.connection_name);
    if let Some(name) = &target_connection_name {
        if name.trim().is_empty() {
            problems.push(
                "connections.target.snowflake_connection_name.connection_name",
                "must not be empty: name a connection of connections.toml or config.toml",
            );
        }
    }
    Some(WorkerConfig {
        task_source: raw.selected_task_source.unwrap_or_else(default_task_source),
        application,
        source: source?,
        target_connection_name,
    })
}

fn validate_application(raw: RawApplication, problems: &mut Problems) -> ApplicationConfig {
    // The orchestrator places these names into SQL unquoted and refuses any other than a plain
    // identifier (its CUSTOM_SNOWFLAKE_* variables); the worker must name the same objects.
    let non_empty = |key: &str, value: Option<String>, default: &str, problems: &mut Problems| {
        match value {
            Some(v) if v.trim().is_empty() => {
                problems.push(
                    child_key("application", key),
                    format!("must not be empty: remove it to use {default}"),
                );
                default.to_string()
            }
            Some(v) if !is_plain_identifier(&v) => {
                problems.push(
                    child_key("application", key),
                    format!("`{v}` is not a plain Snowflake identifier: use letters, digits, `_` or `$`, not starting with a digit (the orchestrator's CUSTOM_SNOWFLAKE_* settings follow the same rule)"),
                );
                v
            }
            Some(v) => v,
            None => default.to_string(),
        }
    };
    if raw.affinity.as_deref().is_some_and(|a| a.trim().is_empty()) {
        problems.push(
            "application.affinity",
            "must not be empty: remove it to take every task",
        );
    }
    ApplicationConfig {
        max_parallel_tasks: raw
            .max_parallel_tasks
            .unwrap_or_else(default_max_parallel_tasks),
        task_fetch_interval_secs: raw
            .task_fetch_interval
            .unwrap_or_else(default_task_fetch_interval_secs),
        snowflake_database_for_metadata: non_empty(
            "snowflake_database_for_metadata",
            raw.snowflake_database_for_metadata,
            DEFAULT_METADATA_DATABASE,
            problems,
        ),
        snowflake_schema_for_data_migration_metadata: non_empty(
            "snowflake_schema_for_data_migration_metadata",
            raw.snowflake_schema_for_data_migration_metadata,
            DEFAULT_DATA_MIGRATION_SCHEMA,
            problems,
        ),
        snowflake_schema_for_data_validation_metadata: non_empty(
            "snowflake_schema_for_data_validation_metadata",
            raw.snowflake_schema_for_data_validation_metadata,
            DEFAULT_DATA_VALIDATION_SCHEMA,
            problems,
        ),
        affinity: raw.affinity,
        max_value_bytes: match raw.max_value_bytes {
            Some(bytes @ 1..=SNOWFLAKE_MAX_VARCHAR_BYTES) => bytes,
            Some(_) => {
                problems.push(
                    "application.max_value_bytes",
                    format!("must be between 1 and {SNOWFLAKE_MAX_VARCHAR_BYTES} (Snowflake's VARCHAR limit; larger values cannot be loaded)"),
                );
                default_max_value_bytes()
            }
            None => default_max_value_bytes(),
        },
    }
}

fn validate_source(raw: RawSourceConnections, problems: &mut Problems) -> Option<SourceConnection> {
    let given: Vec<&str> = [
        raw.sqlserver.as_ref().map(|_| "sqlserver"),
        raw.redshift.as_ref().map(|_| "redshift"),
        raw.postgresql.as_ref().map(|_| "postgresql"),
        raw.teradata.as_ref().map(|_| "teradata"),
        raw.sqlite.as_ref().map(|_| "sqlite"),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.len() {
        0 => {
            problems.push(
                "connections.source",
                "must contain one source connection: add [connections.source.sqlserver], .redshift, .postgresql, .teradata or .sqlite",
            );
            return None;
        }
        1 => {}
        _ => {
            problems.push(
                "connections.source",
                format!(
                    "must contain exactly one source connection, found {}: keep one",
                    given.join(", ")
                ),
            );
            return None;
        }
    }
    if let Some(raw) = raw.sqlserver {
        return validate_sqlserver(raw, problems).map(SourceConnection::Sqlserver);
    }
    if let Some(raw) = raw.redshift {
        return validate_redshift(raw, problems).map(SourceConnection::Redshift);
    }
    if let Some(raw) = raw.postgresql {
        return validate_postgresql(raw, problems).map(SourceConnection::Postgresql);
    }
    if let Some(raw) = raw.teradata {
        return validate_teradata(raw, problems).map(SourceConnection::Teradata);
    }
    raw.sqlite.map(|raw| {
        SourceConnection::Sqlite(SqliteConnection {
            database: raw.database,
            driver_name: raw
                .driver_name
                .unwrap_or_else(|| DEFAULT_SQLITE_DRIVER.to_string()),
        })
    })
}

fn secret(
    path: &str,
    key: &str,
    inline: &Option<Secret>,
    env: &Option<String>,
    file: &Option<PathBuf>,
    problems: &mut Problems,
) -> Option<SecretSource> {
    SecretSource::from_fields(
        path,
        key,
        inline.as_ref(),
        env.as_deref(),
        file.as_deref(),
        problems,
    )
}

fn validate_sqlserver(raw: RawSqlServer, problems: &mut Problems) -> Option<SqlServerConnection> {
    let path = "connections.source.sqlserver";
    let password = secret(
        path,
        "password",
        &raw.password,
        &raw.password_env,
        &raw.password_file,
        problems,
    );
    Some(SqlServerConnection {
        username: raw.username,
        password,
        database: raw.database,
        host: raw.host,
        port: raw.port.unwrap_or(DEFAULT_SQLSERVER_PORT),
        driver_name: raw
            .driver_name
            .unwrap_or_else(|| DEFAULT_SQLSERVER_DRIVER.to_string()),
        encrypt: raw.encrypt.unwrap_or(true),
        trust_server_certificate: raw.trust_server_certificate.unwrap_or(false),
        extra_options: raw.extra_options,
    })
}

fn validate_redshift(raw: RawRedshift, problems: &mut Problems) -> Option<RedshiftConnection> {
    let path = "connections.source.redshift";
    let method = raw.auth_method.unwrap_or(RedshiftAuthMethod::Standard);
    let password = secret(
        path,
        "password",
        &raw.password,
        &raw.password_env,
        &raw.password_file,
        problems,
    );
    let access_key_id = secret(
        path,
        "access_key_id",
        &raw.access_key_id,
        &raw.access_key_id_env,
        &raw.access_key_id_file,
        problems,
    );
    let secret_access_key = secret(
        path,
        "secret_access_key",
        &raw.secret_access_key,
        &raw.secret_access_key_env,
        &raw.secret_access_key_file,
        problems,
    );
    let session_token = secret(
        path,
        "session_token",
        &raw.session_token,
        &raw.session_token_env,
        &raw.session_token_file,
        problems,
    );
    let require = |key: &str, present: bool, problems: &mut Problems| {
        if !present {
            let method = match method {
                RedshiftAuthMethod::Standard => "standard",
                RedshiftAuthMethod::IamProvisionedCluster => "iam-provisioned-cluster",
            };
            problems.push(
                child_key(path, key),
                format!("is required when auth_method is \"{method}\""),
            );
        }
    };
    let auth = match method {
        RedshiftAuthMethod::Standard => {
            require("host", raw.host.is_some(), problems);
            require("password", password.is_some(), problems);
            RedshiftAuth::Standard {
                host: raw.host?,
                password: password?,
            }
        }
        RedshiftAuthMethod::IamProvisionedCluster => {
            require("cluster_id", raw.cluster_id.is_some(), problems);
            require("region", raw.region.is_some(), problems);
            require("access_key_id", access_key_id.is_some(), problems);
            require("secret_access_key", secret_access_key.is_some(), problems);
            RedshiftAuth::IamProvisionedCluster {
                host: raw.host,
                cluster_id: raw.cluster_id?,
                region: raw.region?,
                access_key_id: access_key_id?,
                secret_access_key: secret_access_key?,
                session_token,
            }
        }
    };
    Some(RedshiftConnection {
        username: raw.username,
        database: raw.database,
        port: raw.port.unwrap_or(DEFAULT_REDSHIFT_PORT),
        driver_name: raw
            .driver_name
            .unwrap_or_else(|| DEFAULT_REDSHIFT_DRIVER.to_string()),
        auth,
        extra_options: raw.extra_options,
    })
}

fn validate_postgresql(
    raw: RawPostgresql,
    problems: &mut Problems,
) -> Option<PostgresqlConnection> {
    let path = "connections.source.postgresql";
    let password = secret(
        path,
        "password",
        &raw.password,
        &raw.password_env,
        &raw.password_file,
        problems,
    );
    let extraction_path = raw
        .extraction_path
        .unwrap_or(PostgresExtractionPath::Native);
    let ssl_mode = raw.ssl_mode.map(|mode| mode.as_str().to_string());
    Some(PostgresqlConnection {
        username: raw.username,
        password,
        database: raw.database,
        host: raw.host,
        port: raw.port.unwrap_or(DEFAULT_POSTGRESQL_PORT),
        extraction_path,
        driver_name: raw
            .driver_name
            .unwrap_or_else(|| DEFAULT_POSTGRESQL_DRIVER.to_string()),
        ssl_mode,
        extra_options: raw.extra_options,
    })
}

fn validate_teradata(raw: RawTeradata, problems: &mut Problems) -> Option<TeradataConnection> {
    let path = "connections.source.teradata";
    let password = secret(
        path,
        "password",
        &raw.password,
        &raw.password_env,
        &raw.password_file,
        problems,
    );
    Some(TeradataConnection {
        driver_name: raw.driver_name,
        host: raw.host,
        port: raw.port.unwrap_or(DEFAULT_TERADATA_PORT),
        database: raw.database,
        username: raw.username,
        password,
        extra_options: raw.extra_options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> String {
        match parse_worker_config(text) {
            Ok(config) => panic!("expected problems, got {config:?}"),
            Err(error) => error.to_string(),
        }
    }

    const POSTGRES: &str = r#"
        [connections.source.postgresql]
        username = "postgres"
        database = "shop"
        host = "127.0.0.1"
    "#;

    #[test]
    fn applies_defaults() {
        let config = parse_worker_config(POSTGRES).unwrap();
        assert_eq!(config.task_source, TaskSourceKind::SnowflakeStoredProcedure);
        assert_eq!(
            config.application,
            ApplicationConfig {
                max_parallel_tasks: 4,
                task_fetch_interval_secs: 5,
                snowflake_database_for_metadata: "SNOWCONVERT_AI".into(),
                snowflake_schema_for_data_migration_metadata: "DATA_MIGRATION".into(),
                snowflake_schema_for_data_validation_metadata: "DATA_VALIDATION".into(),
                affinity: None,
                max_value_bytes: 16_777_216,
            }
        );
        let SourceConnection::Postgresql(pg) = &config.source else {
            panic!("expected postgresql, got {:?}", config.source)
        };
        assert_eq!(pg.port, 5432);
        assert_eq!(pg.extraction_path, PostgresExtractionPath::Native);
        assert_eq!(pg.driver_name, "PostgreSQL Unicode");
        assert_eq!(pg.password, None);
        assert_eq!(config.target_connection_name, None);
    }

    #[test]
    fn reads_every_application_key() {
        let text = format!(
            r#"
            selected_task_source = "snowflake_direct_sql"
            [application]
            max_parallel_tasks = 8
            task_fetch_interval = 2
            snowflake_database_for_metadata = "META"
            snowflake_schema_for_data_migration_metadata = "DM"
            snowflake_schema_for_data_validation_metadata = "DV"
            affinity = "eu-*"
            max_value_bytes = 1048576
            [connections.target.snowflake_connection_name]
            connection_name = "emulator"
            {POSTGRES}"#
        );
        let config = parse_worker_config(&text).unwrap();
        assert_eq!(config.task_source, TaskSourceKind::SnowflakeDirectSql);
        assert_eq!(config.application.max_parallel_tasks, 8);
        assert_eq!(config.application.max_value_bytes, 1 << 20);
        assert_eq!(config.application.task_fetch_interval_secs, 2);
        assert_eq!(config.application.snowflake_database_for_metadata, "META");
        assert_eq!(
            config
                .application
                .snowflake_schema_for_data_migration_metadata,
            "DM"
        );
        assert_eq!(
            config
                .application
                .snowflake_schema_for_data_validation_metadata,
            "DV"
        );
        assert_eq!(config.application.affinity.as_deref(), Some("eu-*"));
        assert_eq!(config.target_connection_name.as_deref(), Some("emulator"));
    }

    #[test]
    fn reads_redshift_iam_as_documented() {
        let config = parse_worker_config(
            r#"
            [connections.source.redshift]
            username = "demo-user"
            database = "demo_db"
            auth_method = "iam-provisioned-cluster"
            cluster_id = "my-aws-cluster"
            region = "us-west-2"
            access_key_id = "your-access-key-id"
            secret_access_key_env = "AWS_SECRET_ACCESS_KEY"
            "#,
        )
        .unwrap();
        let SourceConnection::Redshift(rs) = config.source else {
            panic!("not redshift")
        };
        let RedshiftAuth::IamProvisionedCluster {
            cluster_id,
            region,
            secret_access_key,
            ..
        } = rs.auth
        else {
            panic!("not iam")
        };
        assert_eq!(
            (cluster_id.as_str(), region.as_str()),
            ("my-aws-cluster", "us-west-2")
        );
        assert_eq!(
            secret_access_key,
            SecretSource::Env("AWS_SECRET_ACCESS_KEY".into())
        );
        assert_eq!(rs.port, 5439);
    }

    #[test]
    fn redshift_iam_without_keys_names_each_missing_key() {
        let message = problems_of(
            r#"
            [connections.source.redshift]
            username = "u"
            database = "d"
            auth_method = "iam-provisioned-cluster"
            "#,
        );
        for key in ["cluster_id", "region", "access_key_id", "secret_access_key"] {
            assert!(
                message.contains(&format!(
                    "connections.source.redshift.{key} is required when auth_method is \"iam-provisioned-cluster\""
                )),
                "{message}"
            );
        }
    }

    #[test]
    fn redshift_standard_needs_host_and_password() {
        let message = problems_of(
            r#"
            [connections.source.redshift]
            username = "u"
            database = "d"
            "#,
        );
        assert!(
            message.contains(
                "connections.source.redshift.host is required when auth_method is \"standard\""
            ),
            "{message}"
        );
        assert!(
            message.contains("connections.source.redshift.password is required"),
            "{message}"
        );
    }

    #[test]
    fn requires_exactly_one_source() {
        let none = problems_of("[connections.source]\n");
        assert!(
            none.contains("connections.source must contain one source connection"),
            "{none}"
        );
        let two = problems_of(&format!(
            "{POSTGRES}\n[connections.source.sqlite]\ndatabase = \"demo.db\"\n"
        ));
        assert!(two.contains("found postgresql, sqlite"), "{two}");
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let message = problems_of(&format!("{POSTGRES}\npasword = \"x\"\n"));
        assert!(
            message.contains("connections.source.postgresql.pasword is not a known key: did you mean `password`?"),
            "{message}"
        );
        let message = problems_of(&format!("[aplication]\nmax_parallel_tasks = 1\n{POSTGRES}"));
        assert!(
            message.contains("aplication is not a known key: did you mean `application`?"),
            "{message}"
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_key() {
        let message = problems_of(&format!(
            "selected_task_source = \"api\"\n[application]\nmax_parallel_tasks = \"four\"\ntask_fetch_interval = 0\n{POSTGRES}extraction_path = \"jdbc\"\n"
        ));
        assert!(
            message.contains("selected_task_source must be one of"),
            "{message}"
        );
        assert!(
            message.contains(
                "application.max_parallel_tasks must be an integer, found a string \"four\""
            ),
            "{message}"
        );
        assert!(
            message.contains("application.task_fetch_interval must be at least 1"),
            "{message}"
        );
        assert!(
            message.contains(
                "connections.source.postgresql.extraction_path must be one of \"native\", \"odbc\""
            ),
            "{message}"
        );
    }

    #[test]
    fn secrets_accept_env_and_file_forms() {
        let config = parse_worker_config(
            r#"
            [connections.source.sqlserver]
            username = "sa"
            password_file = "/run/secrets/sql"
            database = "db"
            host = "h"
            "#,
        )
        .unwrap();
        let SourceConnection::Sqlserver(ss) = config.source else {
            panic!("not sqlserver")
        };
        assert_eq!(
            ss.password,
            Some(SecretSource::File("/run/secrets/sql".into()))
        );
        assert_eq!(
            (ss.port, ss.driver_name.as_str()),
            (1433, "ODBC Driver 18 for SQL Server")
        );
        assert!(
            !format!("{ss:?}").contains("sql\""),
            "debug output must not leak"
        );
    }

    #[test]
    fn inline_secrets_never_print() {
        let config = parse_worker_config(&format!("{POSTGRES}password = \"hunter2\"\n")).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn ports_must_be_tcp_ports() {
        let message = problems_of(&format!("{POSTGRES}port = 70000\n"));
        assert!(
            message
                .contains("connections.source.postgresql.port must be at most 65535, found 70000"),
            "{message}"
        );
    }

    #[test]
    fn raw_structs_never_print_secrets_either() {
        let raw: RawWorkerConfig =
            toml::from_str(&format!("{POSTGRES}password = \"hunter2\"\n")).expect("parses");
        assert!(!format!("{raw:?}").contains("hunter2"));
    }

    #[test]
    fn teradata_requires_driver_name() {
        let message = problems_of(
            "[connections.source.teradata]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\n",
        );
        assert!(
            message.contains("connections.source.teradata.driver_name is required"),
            "{message}"
        );
    }

    #[test]
    fn ssl_mode_is_a_libpq_mode_on_both_paths() {
        let message = problems_of(&format!("{POSTGRES}ssl_mode = \"requir\"\n"));
        assert!(
            message.contains("connections.source.postgresql.ssl_mode must be one of \"disable\", \"allow\", \"prefer\", \"require\", \"verify-ca\", \"verify-full\", found \"requir\": did you mean \"require\"?"),
            "{message}"
        );
        // Every mode is accepted on the native path, which speaks TLS.
        for mode in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            let config =
                parse_worker_config(&format!("{POSTGRES}ssl_mode = \"{mode}\"\n")).unwrap();
            let SourceConnection::Postgresql(pg) = config.source else {
                panic!("postgresql")
            };
            assert_eq!(pg.ssl_mode.as_deref(), Some(mode));
        }
        let odbc = parse_worker_config(&format!(
            "{POSTGRES}extraction_path = \"odbc\"\nssl_mode = \"verify-full\"\n"
        ))
        .unwrap();
        let SourceConnection::Postgresql(pg) = odbc.source else {
            panic!("postgresql")
        };
        assert_eq!(pg.ssl_mode.as_deref(), Some("verify-full"));
    }

    #[test]
    fn metadata_names_follow_the_orchestrators_rule() {
        let message = problems_of(&format!(
            "[application]\nsnowflake_database_for_metadata = \"my db\"\nsnowflake_schema_for_data_migration_metadata = \"DM;\"\n{POSTGRES}"
        ));
        assert!(
            message.contains("application.snowflake_database_for_metadata `my db` is not a plain Snowflake identifier"),
            "{message}"
        );
        assert!(
            message.contains("application.snowflake_schema_for_data_migration_metadata `DM;` is not a plain Snowflake identifier"),
            "{message}"
        );
    }

    #[test]
    fn syntax_errors_say_toml() {
        let error = parse_worker_config("[connections").unwrap_err().to_string();
        assert!(
            error.starts_with("the worker configuration is not valid TOML"),
            "{error}"
        );
    }
}
