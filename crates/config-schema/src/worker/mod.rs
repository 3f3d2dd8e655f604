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
//!
//! `raw` mirrors the file, `validate` checks it and builds the `model` types. Dependencies
//! point one way: `choices` (the enums the file and the model share) depends on nothing; `raw`
//! and `model` on it; `validate` on `raw` and `model`; this module on all of them.

pub mod choices;
pub mod model;
pub mod raw;
pub mod validate;

pub use model::{
    default_max_parallel_tasks, default_max_value_bytes, default_task_fetch_interval_secs,
    default_task_source, ApplicationConfig, PostgresqlConnection, RedshiftAuth, RedshiftConnection,
    SourceConnection, SqlServerConnection, SqliteConnection, TeradataConnection, WorkerConfig,
    DEFAULT_POSTGRESQL_DRIVER, DEFAULT_POSTGRESQL_PORT, DEFAULT_REDSHIFT_DRIVER,
    DEFAULT_REDSHIFT_PORT, DEFAULT_SQLITE_DRIVER, DEFAULT_SQLSERVER_DRIVER, DEFAULT_SQLSERVER_PORT,
    DEFAULT_TERADATA_PORT, SNOWFLAKE_MAX_VARCHAR_BYTES,
};
pub use raw::{
    PgSslMode, PostgresExtractionPath, RawApplication, RawConnections, RawPostgresql, RawRedshift,
    RawSnowflakeConnectionName, RawSourceConnections, RawSqlServer, RawSqlite,
    RawTargetConnections, RawTeradata, RawWorkerConfig, RedshiftAuthMethod, TaskSourceKind,
};
pub use validate::validate_worker_config;

use crate::document::{check_and_validate, parse_toml, schema_value, ConfigError};
use crate::problem::Problems;

const WHAT: &str = "the worker configuration";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretSource;

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
