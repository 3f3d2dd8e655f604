//! From the worker TOML's `[connections.source.<platform>]` to the extraction pipeline's
//! [`SourceSpec`]: the mapping itself is `SourceSpec::from_connection` (secrets resolved, ODBC
//! connection strings per platform, PostgreSQL native unless `extraction_path = "odbc"`); this
//! module adds the worker's own checks and resolves secrets from the real environment.

use std::path::Path;

use config_schema::secret::SecretSource;
use config_schema::worker::SourceConnection;
use config_schema::SourcePlatform;
use migration_core::source::connection_string::OdbcTuning;
use migration_core::source::extract::{ExtractError, SourceSpec};
use migration_core::source::odbc::OdbcReadOptions;

/// A source section that cannot be turned into a connection.
#[derive(Debug, thiserror::Error)]
pub enum SourceConfigError {
    #[error("[connections.source.{platform}] {message}")]
    Invalid {
        platform: SourcePlatform,
        message: String,
    },
    #[error("[connections.source.sqlite] database file `{path}` does not exist: fix `database` (the worker never creates a source database)")]
    SqliteMissing { path: std::path::PathBuf },
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
    let resolve = |secret: &SecretSource, key: &str| secret.resolve(key, env, read_file);
    SourceSpec::from_connection(
        source,
        &resolve,
        &OdbcTuning::default(),
        OdbcReadOptions::default(),
    )
    .map_err(|error| SourceConfigError::Invalid {
        platform: source.platform(),
        message: match error {
            ExtractError::Configuration { message } => message,
            other => other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use config_schema::worker::parse_worker_config;
    use migration_core::source::odbc::OdbcFetch;

    fn spec(toml: &str, env: &[(&str, &str)]) -> Result<SourceSpec, SourceConfigError> {
        let config = parse_worker_config(toml).expect("valid worker TOML");
        spec_of(&config.source, env)
    }

    fn spec_of(
        source: &SourceConnection,
        env: &[(&str, &str)],
    ) -> Result<SourceSpec, SourceConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        source_spec_with(
            source,
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

    /// The native path speaks TLS when `ssl_mode` requires it.
    #[test]
    fn native_postgresql_speaks_required_tls() {
        let toml = r#"
            [connections.source.postgresql]
            username = "u"
            database = "shop"
            host = "db"
            ssl_mode = "require"
        "#;
        let Ok(SourceSpec::PostgresNative { params, .. }) = spec(toml, &[]) else {
            panic!("the native path speaks TLS");
        };
        assert_eq!(
            params.tls.mode,
            migration_core::source::postgres_native::SslMode::Require
        );
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
            ssl_mode = "verify_full"
        "#;
        // The spelling is checked where the file is read (config-schema), for both paths.
        let messages = [
            spec(missing_env, &[]).unwrap_err().to_string(),
            parse_worker_config(tls).unwrap_err().to_string(),
        ]
        .join("\n");
        insta::assert_snapshot!(messages);
    }
}
