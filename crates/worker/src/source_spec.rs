//! From the worker TOML's `[connections.source.<platform>]` to the extraction pipeline's
//! [`SourceSpec`]: secrets resolved (inline, `_env` or `_file`), ODBC connection strings built
//! per platform, PostgreSQL read natively unless `extraction_path = "odbc"`.

use std::path::Path;
use std::time::Duration;

use config_schema::secret::{SecretError, SecretSource};
use config_schema::worker::{
    PostgresExtractionPath, PostgresqlConnection, RedshiftAuth, SourceConnection,
};
use config_schema::SourcePlatform;
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning, RedshiftIam,
};
use migration_core::source::extract::SourceSpec;
use migration_core::source::odbc::{OdbcFetch, OdbcReadOptions};
use migration_core::source::postgres_native::{PgConnectParams, PgReadOptions};

/// How long connecting to PostgreSQL natively may take.
pub const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// `application_name` of the worker's PostgreSQL sessions (visible in `pg_stat_activity`).
pub const POSTGRES_APPLICATION_NAME: &str = "snowflake-migration-worker";

/// A source section that cannot be turned into a connection.
#[derive(Debug, thiserror::Error)]
pub enum SourceConfigError {
    #[error("[connections.source.{platform}] {source}")]
    Secret {
        platform: SourcePlatform,
        #[source]
        source: SecretError,
    },
    #[error("[connections.source.sqlite] database file `{path}` does not exist: fix `database` (the worker never creates a source database)")]
    SqliteMissing { path: std::path::PathBuf },
    #[error("[connections.source.postgresql] ssl_mode = \"{ssl_mode}\" needs TLS, which the native extraction path does not speak: set extraction_path = \"odbc\" or use ssl_mode = \"disable\" or \"prefer\"")]
    NativeWithoutTls { ssl_mode: String },
}

/// Builds the source connection, reading secrets from the real environment and files. A SQLite
/// database file must exist: the SQLite ODBC driver would silently create an empty one.
pub fn source_spec(source: &SourceConnection) -> Result<SourceSpec, SourceConfigError> {
    if let SourceConnection::Sqlite(c) = source {
        if !c.database.is_file() {
            return Err(SourceConfigError::SqliteMissing {
                path: c.database.clone(),
            });
        }
    }
    source_spec_with(source, &|name| std::env::var(name).ok(), &|path| {
        std::fs::read_to_string(path)
    })
}

type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;
type FileRead<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// [`source_spec`] with an explicit environment and file reader (tests).
pub fn source_spec_with(
    source: &SourceConnection,
    env: EnvLookup<'_>,
    read_file: FileRead<'_>,
) -> Result<SourceSpec, SourceConfigError> {
    let platform = source.platform();
    let secret =
        |key: &str, value: &Option<SecretSource>| -> Result<Option<String>, SourceConfigError> {
            value
                .as_ref()
                .map(|s| {
                    s.resolve(key, env, read_file)
                        .map(|secret| secret.expose().to_owned())
                        .map_err(|source| SourceConfigError::Secret { platform, source })
                })
                .transpose()
        };
    let settings = match source {
        SourceConnection::Postgresql(c) => {
            let password = secret("password", &c.password)?;
            if c.extraction_path == PostgresExtractionPath::Native {
                return postgres_native(c, password);
            }
            OdbcSettings {
                driver_name: c.driver_name.clone(),
                host: Some(c.host.clone()),
                port: Some(c.port),
                database: c.database.clone(),
                username: Some(c.username.clone()),
                password,
                ssl_mode: c.ssl_mode.clone(),
                extra_options: c.extra_options.clone(),
                ..OdbcSettings::default()
            }
        }
        SourceConnection::Sqlite(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            database: c.database.display().to_string(),
            ..OdbcSettings::default()
        },
        SourceConnection::Sqlserver(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            host: Some(c.host.clone()),
            port: Some(c.port),
            database: c.database.clone(),
            username: Some(c.username.clone()),
            password: secret("password", &c.password)?,
            encrypt: Some(c.encrypt),
            trust_server_certificate: Some(c.trust_server_certificate),
            extra_options: c.extra_options.clone(),
            ..OdbcSettings::default()
        },
        SourceConnection::Teradata(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            host: Some(c.host.clone()),
            port: Some(c.port),
            database: c.database.clone(),
            username: Some(c.username.clone()),
            password: secret("password", &c.password)?,
            extra_options: c.extra_options.clone(),
            ..OdbcSettings::default()
        },
        SourceConnection::Redshift(c) => {
            let mut settings = OdbcSettings {
                driver_name: c.driver_name.clone(),
                port: Some(c.port),
                database: c.database.clone(),
                username: Some(c.username.clone()),
                extra_options: c.extra_options.clone(),
                ..OdbcSettings::default()
            };
            match &c.auth {
                RedshiftAuth::Standard { host, password } => {
                    settings.host = Some(host.clone());
                    settings.password = secret("password", &Some(password.clone()))?;
                }
                RedshiftAuth::IamProvisionedCluster {
                    host,
                    cluster_id,
                    region,
                    access_key_id,
                    secret_access_key,
                    session_token,
                } => {
                    settings.host = host.clone();
                    settings.redshift_iam = Some(RedshiftIam {
                        cluster_id: cluster_id.clone(),
                        region: region.clone(),
                        access_key_id: secret("access_key_id", &Some(access_key_id.clone()))?
                            .unwrap_or_default(),
                        secret_access_key: secret(
                            "secret_access_key",
                            &Some(secret_access_key.clone()),
                        )?
                        .unwrap_or_default(),
                        session_token: secret("session_token", session_token)?,
                    });
                }
            }
            settings
        }
    };
    Ok(SourceSpec::Odbc {
        connection_string: build_connection_string(platform, &settings, &OdbcTuning::default()),
        read: OdbcReadOptions {
            fetch: OdbcFetch::for_platform(platform),
            ..OdbcReadOptions::default()
        },
    })
}

fn postgres_native(
    c: &PostgresqlConnection,
    password: Option<String>,
) -> Result<SourceSpec, SourceConfigError> {
    // The native path connects without TLS: refuse settings that demand it rather than
    // silently sending data in the clear.
    if let Some(mode) = &c.ssl_mode {
        if !matches!(mode.as_str(), "disable" | "allow" | "prefer") {
            return Err(SourceConfigError::NativeWithoutTls {
                ssl_mode: mode.clone(),
            });
        }
    }
    Ok(SourceSpec::PostgresNative {
        params: PgConnectParams {
            host: c.host.clone(),
            port: c.port,
            user: c.username.clone(),
            password,
            database: c.database.clone(),
            connect_timeout: POSTGRES_CONNECT_TIMEOUT,
            application_name: POSTGRES_APPLICATION_NAME.to_owned(),
        },
        read: PgReadOptions::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use config_schema::worker::parse_worker_config;

    fn spec(toml: &str, env: &[(&str, &str)]) -> Result<SourceSpec, SourceConfigError> {
        let config = parse_worker_config(toml).expect("valid worker TOML");
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        source_spec_with(
            &config.source,
            &|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            &|path| Err(std::io::Error::other(format!("no file {}", path.display()))),
        )
    }

    #[test]
    fn postgresql_is_native_by_default_with_the_password_from_the_environment() {
        let toml = r#"
            [connections.source.postgresql]
            username = "u"
            password_env = "PGPW"
            database = "shop"
            host = "db"
        "#;
        let Ok(SourceSpec::PostgresNative { params, .. }) = spec(toml, &[("PGPW", "s3cret")])
        else {
            panic!("native PostgreSQL expected");
        };
        assert_eq!(params.target(), "postgresql://db:5432/shop");
        assert_eq!(params.password.as_deref(), Some("s3cret"));
        assert!(!format!("{params:?}").contains("s3cret"));

        let err = spec(toml, &[]).unwrap_err().to_string();
        assert!(err.contains("`PGPW`"), "{err}");
    }

    #[test]
    fn postgresql_over_odbc_and_sqlite_get_connection_strings() {
        let toml = r#"
            [connections.source.postgresql]
            username = "u"
            password = "pw"
            database = "shop"
            host = "db"
            extraction_path = "odbc"
        "#;
        let Ok(SourceSpec::Odbc {
            connection_string,
            read,
        }) = spec(toml, &[])
        else {
            panic!("ODBC expected");
        };
        assert_eq!(connection_string.driver(), Some("PostgreSQL Unicode"));
        assert_eq!(connection_string.get("UseDeclareFetch"), Some("1"));
        assert_eq!(read.fetch, OdbcFetch::Columnar);

        let sqlite = r#"
            [connections.source.sqlite]
            database = "/data/demo.db"
        "#;
        let Ok(SourceSpec::Odbc {
            connection_string,
            read,
        }) = spec(sqlite, &[])
        else {
            panic!("ODBC expected");
        };
        assert_eq!(connection_string.get("Database"), Some("/data/demo.db"));
        assert_eq!(read.fetch, OdbcFetch::RowByRow);
    }

    #[test]
    fn a_missing_sqlite_file_is_refused_rather_than_created() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("absent.db");
        let config = parse_worker_config(&format!(
            "[connections.source.sqlite]\ndatabase = \"{}\"\n",
            path.display()
        ))
        .expect("valid TOML");
        let err = source_spec(&config.source).unwrap_err().to_string();
        assert!(err.contains("absent.db"), "{err}");
        assert!(!path.exists(), "nothing was created");
        std::fs::write(&path, b"").expect("create the file");
        assert!(source_spec(&config.source).is_ok());
    }

    #[test]
    fn native_postgresql_refuses_required_tls() {
        let toml = r#"
            [connections.source.postgresql]
            username = "u"
            database = "shop"
            host = "db"
            ssl_mode = "require"
        "#;
        let err = spec(toml, &[]).unwrap_err().to_string();
        assert!(err.contains("extraction_path = \"odbc\""), "{err}");
    }

    #[test]
    fn error_messages_are_pinned() {
        let missing_env = r#"
            [connections.source.sqlserver]
            username = "u"
            password_env = "MSSQL_PASSWORD"
            database = "shop"
            host = "db"
        "#;
        let tls = r#"
            [connections.source.postgresql]
            username = "u"
            database = "shop"
            host = "db"
            ssl_mode = "verify-full"
        "#;
        let messages = [spec(missing_env, &[]), spec(tls, &[])]
            .map(|r| r.unwrap_err().to_string())
            .join("\n");
        insta::assert_snapshot!(messages);
    }
}
