//! Raw structs mirroring the worker TOML exactly as written; `validate` checks them and applies
//! the defaults. Every secret field `x` may also be written `x_env` or `x_file` (see
//! [`crate::secret`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

pub use super::choices::{PgSslMode, PostgresExtractionPath, RedshiftAuthMethod, TaskSourceKind};
use crate::secret::Secret;

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
