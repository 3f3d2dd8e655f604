//! Checking a raw worker configuration: exactly one source, complete credentials for the chosen
//! authentication, metadata names the orchestrator accepts. Every problem is collected with
//! its TOML path; defaults come from [`super::model`].

use std::path::PathBuf;

use super::model::{
    default_max_parallel_tasks, default_max_value_bytes, default_task_fetch_interval_secs,
    default_task_source, ApplicationConfig, PostgresqlConnection, RedshiftAuth, RedshiftConnection,
    SourceConnection, SqlServerConnection, SqliteConnection, TeradataConnection, WorkerConfig,
    DEFAULT_POSTGRESQL_DRIVER, DEFAULT_POSTGRESQL_PORT, DEFAULT_REDSHIFT_DRIVER,
    DEFAULT_REDSHIFT_PORT, DEFAULT_SQLITE_DRIVER, DEFAULT_SQLSERVER_DRIVER, DEFAULT_SQLSERVER_PORT,
    DEFAULT_TERADATA_PORT,
};
use super::raw::{
    PostgresExtractionPath, RawApplication, RawPostgresql, RawRedshift, RawSourceConnections,
    RawSqlServer, RawTeradata, RawWorkerConfig, RedshiftAuthMethod,
};
use crate::identifier::is_plain_identifier;
use crate::metadata_names::{
    DEFAULT_DATA_MIGRATION_SCHEMA, DEFAULT_DATA_VALIDATION_SCHEMA, DEFAULT_METADATA_DATABASE,
};
use crate::problem::{child_key, Problems};
use crate::secret::{Secret, SecretSource};
use crate::snowflake_type::SNOWFLAKE_MAX_VARCHAR_BYTES;

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
