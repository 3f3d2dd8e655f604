//! The validated worker configuration: one source connection, every default applied, secrets
//! resolved to where they are read from (never their value). The named defaults are here so a
//! test can pin them.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use super::choices::{PgSslMode, PostgresExtractionPath, TaskSourceKind};
use crate::platform::SourcePlatform;
use crate::secret::SecretSource;
pub use crate::snowflake_type::SNOWFLAKE_MAX_VARCHAR_BYTES;

pub fn default_task_source() -> TaskSourceKind {
    TaskSourceKind::SnowflakeStoredProcedure
}
pub fn default_max_parallel_tasks() -> u32 {
    4
}
pub fn default_task_fetch_interval_secs() -> u64 {
    5
}
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
