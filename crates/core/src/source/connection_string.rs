//! ODBC connection strings per source platform.
//!
//! Each platform gets the driver settings that make bulk extraction safe and exact (see
//! `extraction-benchmarks.md` in the project references):
//!
//! - PostgreSQL / Redshift through psqlODBC: `UseDeclareFetch=1` (without it the driver buffers
//!   the whole result set in client memory), a `Fetch` size bounded by the byte budget,
//!   `BoolsAsChar=0` (booleans stay booleans), `NumericAs=12` (unconstrained `numeric` arrives
//!   as exact text instead of a `numeric(28,s)` guessed from the first rows),
//!   `MaxLongVarcharSize` (the buffer for `text`), `ByteaAsLongVarBinary=1` and a UTC session
//!   time zone so `timestamptz` arrives as UTC.
//! - SQLite (`SQLite3` driver): `Database=<path>`.
//! - SQL Server (ODBC Driver 18): `Encrypt` and `TrustServerCertificate` from the TOML,
//!   `ApplicationIntent=ReadOnly`.
//! - Redshift with Amazon's driver: standard or IAM credentials.
//! - Teradata: the driver the TOML names.
//!
//! `extra_options` from the TOML come last and override any key set here (keys compare
//! case-insensitively). Values that need it are wrapped in braces. Secrets never appear in
//! `Debug` or `Display` output; [`ConnectionString::expose`] gives the real text to the driver.

use std::collections::BTreeMap;
use std::fmt;

use config_schema::worker::{RedshiftAuth, SourceConnection};
use config_schema::{Secret, SecretError, SecretSource, SourcePlatform};

/// What a connection string is built from: the worker TOML's source section with secrets
/// already resolved.
#[derive(Clone, Default)]
pub struct OdbcSettings {
    pub driver_name: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name; for SQLite the database file path.
    pub database: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// SQL Server: `Encrypt=yes|no` (driver 18 defaults to yes).
    pub encrypt: Option<bool>,
    /// SQL Server: `TrustServerCertificate=yes|no`.
    pub trust_server_certificate: Option<bool>,
    /// PostgreSQL: psqlODBC's `SSLmode` (disable, allow, prefer, require, verify-ca, verify-full).
    pub ssl_mode: Option<String>,
    /// Redshift IAM: cluster id, region and AWS keys (resolved secrets).
    pub redshift_iam: Option<RedshiftIam>,
    /// Appended last; override the keys above.
    pub extra_options: BTreeMap<String, String>,
}

impl fmt::Debug for OdbcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdbcSettings")
            .field("driver_name", &self.driver_name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// Redshift IAM credentials for Amazon's Redshift ODBC driver.
#[derive(Clone)]
pub struct RedshiftIam {
    pub cluster_id: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// Tuning that depends on the extraction, not on the TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdbcTuning {
    /// Rows per server round trip for drivers that fetch in blocks (psqlODBC `Fetch`).
    pub fetch_rows: usize,
    /// The length psqlODBC declares for `text` (`MaxLongVarcharSize`). It only makes the
    /// column "long" for the ODBC reader, which then measures it; values longer than this are
    /// still delivered whole (checked by the conformance suite).
    pub max_text_bytes: usize,
}

impl Default for OdbcTuning {
    fn default() -> Self {
        OdbcTuning {
            fetch_rows: 10_000,
            max_text_bytes: 1 << 20,
        }
    }
}

/// A connection string whose secrets print as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    pairs: Vec<(String, String, bool)>,
}

impl ConnectionString {
    /// The real connection string, for the driver only.
    pub fn expose(&self) -> String {
        self.render(false)
    }

    /// The driver name (`Driver=`), for messages.
    pub fn driver(&self) -> Option<&str> {
        self.get("Driver")
    }

    /// The value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v, _)| v.as_str())
    }

    fn render(&self, redact: bool) -> String {
        let mut out = String::new();
        for (key, value, secret) in &self.pairs {
            out.push_str(key);
            out.push('=');
            if redact && *secret {
                out.push_str("***");
            } else {
                out.push_str(&quote_value(key, value));
            }
            out.push(';');
        }
        out
    }
}

impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(true))
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionString({self})")
    }
}

/// Braces around values that contain separators, braces or edge spaces; `}` doubled inside.
/// The driver name is always braced, as every driver expects.
fn quote_value(key: &str, value: &str) -> String {
    let needs_braces = key.eq_ignore_ascii_case("Driver")
        || value.contains([';', '{', '}', '='])
        || value.starts_with(' ')
        || value.ends_with(' ');
    if needs_braces {
        format!("{{{}}}", value.replace('}', "}}"))
    } else {
        value.to_string()
    }
}

#[derive(Default)]
struct Builder {
    pairs: Vec<(String, String, bool)>,
}

impl Builder {
    fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.put(key, value.into(), false)
    }

    fn secret(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.put(key, value.into(), true)
    }

    fn put(&mut self, key: &str, value: String, secret: bool) -> &mut Self {
        match self
            .pairs
            .iter_mut()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
        {
            Some(pair) => {
                pair.1 = value;
                pair.2 = pair.2 || secret;
            }
            None => self.pairs.push((key.to_string(), value, secret)),
        }
        self
    }

    fn opt(&mut self, key: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(value) = value {
            self.set(key, value.to_string());
        }
        self
    }

    fn credentials(
        &mut self,
        user_key: &str,
        password_key: &str,
        settings: &OdbcSettings,
    ) -> &mut Self {
        self.opt(user_key, settings.username.as_ref());
        if let Some(password) = &settings.password {
            self.secret(password_key, password.clone());
        }
        self
    }

    fn extra(&mut self, extra: &BTreeMap<String, String>) -> &mut Self {
        for (key, value) in extra {
            let secret = is_secret_key(key);
            self.put(key, value.clone(), secret);
        }
        self
    }

    fn build(&mut self) -> ConnectionString {
        ConnectionString {
            pairs: std::mem::take(&mut self.pairs),
        }
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pwd", "password", "secret", "token", "key"]
        .iter()
        .any(|s| key.contains(s))
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Is `driver` psqlODBC (used for PostgreSQL and, optionally, Redshift)?
fn is_psqlodbc(driver: &str) -> bool {
    driver.to_ascii_lowercase().contains("postgresql")
}

/// The connection string for `platform` from `settings`.
pub fn build_connection_string(
    platform: SourcePlatform,
    settings: &OdbcSettings,
    tuning: &OdbcTuning,
) -> ConnectionString {
    let mut b = Builder::default();
    b.set("Driver", settings.driver_name.clone());
    match platform {
        SourcePlatform::Postgresql => psqlodbc(&mut b, settings, tuning),
        SourcePlatform::Redshift if is_psqlodbc(&settings.driver_name) => {
            psqlodbc(&mut b, settings, tuning)
        }
        SourcePlatform::Redshift => redshift(&mut b, settings),
        SourcePlatform::Sqlite => {
            b.set("Database", settings.database.clone());
        }
        SourcePlatform::Sqlserver => sqlserver(&mut b, settings),
        SourcePlatform::Teradata => teradata(&mut b, settings),
    }
    b.extra(&settings.extra_options).build()
}

fn psqlodbc(b: &mut Builder, settings: &OdbcSettings, tuning: &OdbcTuning) {
    b.opt("Server", settings.host.as_ref())
        .opt("Port", settings.port)
        .set("Database", settings.database.clone())
        .credentials("Uid", "Pwd", settings)
        .opt("SSLmode", settings.ssl_mode.as_ref())
        .set("UseDeclareFetch", "1")
        .set("Fetch", tuning.fetch_rows.max(1).to_string())
        .set("BoolsAsChar", "0")
        .set("NumericAs", "12")
        .set("MaxLongVarcharSize", tuning.max_text_bytes.to_string())
        .set("ByteaAsLongVarBinary", "1")
        .set("ConnSettings", "SET TIME ZONE 'UTC'");
}

fn sqlserver(b: &mut Builder, settings: &OdbcSettings) {
    let server = match (&settings.host, settings.port) {
        (Some(host), Some(port)) => Some(format!("tcp:{host},{port}")),
        (Some(host), None) => Some(format!("tcp:{host}")),
        (None, _) => None,
    };
    b.opt("Server", server)
        .set("Database", settings.database.clone())
        .credentials("UID", "PWD", settings)
        .opt("Encrypt", settings.encrypt.map(yes_no))
        .opt(
            "TrustServerCertificate",
            settings.trust_server_certificate.map(yes_no),
        )
        .set("ApplicationIntent", "ReadOnly");
}

fn redshift(b: &mut Builder, settings: &OdbcSettings) {
    b.opt("Server", settings.host.as_ref())
        .opt("Port", settings.port)
        .set("Database", settings.database.clone());
    match &settings.redshift_iam {
        None => {
            b.credentials("UID", "PWD", settings);
        }
        Some(iam) => {
            b.set("IAM", "1")
                .opt("DbUser", settings.username.as_ref())
                .set("ClusterID", iam.cluster_id.clone())
                .set("Region", iam.region.clone())
                .secret("AccessKeyID", iam.access_key_id.clone())
                .secret("SecretAccessKey", iam.secret_access_key.clone());
            if let Some(token) = &iam.session_token {
                b.secret("SessionToken", token.clone());
            }
        }
    }
}

fn teradata(b: &mut Builder, settings: &OdbcSettings) {
    b.opt("DBCName", settings.host.as_ref())
        .opt("TDMSTPortNumber", settings.port)
        .set("DefaultDatabase", settings.database.clone())
        .credentials("UID", "PWD", settings)
        .set("CharacterSet", "UTF8");
}

/// Reads a secret named in the worker TOML. The worker passes [`resolve_secret`]; tests may
/// pass a closure over fixed values.
pub type SecretResolver<'a> = &'a dyn Fn(&SecretSource, &str) -> Result<Secret, SecretError>;

/// Resolves a secret from the process environment or a file.
pub fn resolve_secret(source: &SecretSource, key: &str) -> Result<Secret, SecretError> {
    source.resolve(
        key,
        |name| std::env::var(name).ok(),
        |path| std::fs::read_to_string(path),
    )
}

fn resolve_opt(
    source: Option<&SecretSource>,
    key: &str,
    resolve: SecretResolver<'_>,
) -> Result<Option<String>, SecretError> {
    source
        .map(|s| resolve(s, key).map(|secret| secret.expose().to_string()))
        .transpose()
}

/// ODBC settings from the worker TOML's validated source section, secrets resolved.
pub fn odbc_settings(
    connection: &SourceConnection,
    resolve: SecretResolver<'_>,
) -> Result<OdbcSettings, SecretError> {
    let settings = match connection {
        SourceConnection::Postgresql(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            host: Some(c.host.clone()),
            port: Some(c.port),
            database: c.database.clone(),
            username: Some(c.username.clone()),
            password: resolve_opt(c.password.as_ref(), "password", resolve)?,
            ssl_mode: c.ssl_mode.clone(),
            extra_options: c.extra_options.clone(),
            ..OdbcSettings::default()
        },
        SourceConnection::Sqlserver(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            host: Some(c.host.clone()),
            port: Some(c.port),
            database: c.database.clone(),
            username: Some(c.username.clone()),
            password: resolve_opt(c.password.as_ref(), "password", resolve)?,
            encrypt: Some(c.encrypt),
            trust_server_certificate: Some(c.trust_server_certificate),
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
                    settings.password = Some(resolve(password, "password")?.expose().to_string());
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
                        access_key_id: resolve(access_key_id, "access_key_id")?
                            .expose()
                            .to_string(),
                        secret_access_key: resolve(secret_access_key, "secret_access_key")?
                            .expose()
                            .to_string(),
                        session_token: resolve_opt(
                            session_token.as_ref(),
                            "session_token",
                            resolve,
                        )?,
                    });
                }
            }
            settings
        }
        SourceConnection::Teradata(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            host: Some(c.host.clone()),
            port: Some(c.port),
            database: c.database.clone(),
            username: Some(c.username.clone()),
            password: resolve_opt(c.password.as_ref(), "password", resolve)?,
            extra_options: c.extra_options.clone(),
            ..OdbcSettings::default()
        },
        SourceConnection::Sqlite(c) => OdbcSettings {
            driver_name: c.driver_name.clone(),
            database: c.database.display().to_string(),
            ..OdbcSettings::default()
        },
    };
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(driver: &str) -> OdbcSettings {
        OdbcSettings {
            driver_name: driver.into(),
            host: Some("db.example.com".into()),
            port: Some(5432),
            database: "sales".into(),
            username: Some("loader".into()),
            password: Some("s3cr;et}".into()),
            ..OdbcSettings::default()
        }
    }

    #[test]
    fn postgresql_has_the_safe_psqlodbc_settings() {
        let cs = build_connection_string(
            SourcePlatform::Postgresql,
            &settings("PostgreSQL Unicode"),
            &OdbcTuning::default(),
        );
        insta::assert_snapshot!(cs.expose());
        assert_eq!(cs.get("UseDeclareFetch"), Some("1"));
        assert_eq!(cs.get("BoolsAsChar"), Some("0"));
    }

    #[test]
    fn secrets_never_print() {
        let cs = build_connection_string(
            SourcePlatform::Postgresql,
            &settings("PostgreSQL Unicode"),
            &OdbcTuning::default(),
        );
        assert!(!cs.to_string().contains("s3cr"), "{cs}");
        assert!(!format!("{cs:?}").contains("s3cr"));
        assert!(!format!("{:?}", settings("x")).contains("s3cr"));
        assert!(cs.to_string().contains("Pwd=***;"));
        assert!(cs.expose().contains("Pwd={s3cr;et}}};"), "{}", cs.expose());
    }

    #[test]
    fn sqlite_sqlserver_redshift_teradata() {
        let sqlite = OdbcSettings {
            driver_name: "SQLite3".into(),
            database: "/tmp/demo db.sqlite".into(),
            ..OdbcSettings::default()
        };
        let mut sqlserver = settings("ODBC Driver 18 for SQL Server");
        sqlserver.port = Some(1433);
        sqlserver.encrypt = Some(true);
        sqlserver.trust_server_certificate = Some(true);
        let mut redshift_iam = settings("Amazon Redshift (x64)");
        redshift_iam.password = None;
        redshift_iam.redshift_iam = Some(RedshiftIam {
            cluster_id: "c1".into(),
            region: "us-west-2".into(),
            access_key_id: "AKIA".into(),
            secret_access_key: "hidden".into(),
            session_token: None,
        });
        let mut teradata = settings("Teradata Database ODBC Driver 17.20");
        teradata.port = Some(1025);
        teradata
            .extra_options
            .insert("characterset".into(), "ASCII".into());
        let all = [
            build_connection_string(SourcePlatform::Sqlite, &sqlite, &OdbcTuning::default()),
            build_connection_string(
                SourcePlatform::Sqlserver,
                &sqlserver,
                &OdbcTuning::default(),
            ),
            build_connection_string(
                SourcePlatform::Redshift,
                &settings("Amazon Redshift (x64)"),
                &OdbcTuning::default(),
            ),
            build_connection_string(
                SourcePlatform::Redshift,
                &redshift_iam,
                &OdbcTuning::default(),
            ),
            build_connection_string(
                SourcePlatform::Redshift,
                &settings("PostgreSQL Unicode"),
                &OdbcTuning::default(),
            ),
            build_connection_string(SourcePlatform::Teradata, &teradata, &OdbcTuning::default()),
        ];
        let rendered: Vec<String> = all.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(rendered.join("\n"));
    }

    #[test]
    fn settings_come_from_the_worker_toml() {
        let toml = r#"
            [connections.source.postgresql]
            username = "loader"
            password_env = "PG_PASSWORD_FOR_TEST"
            database = "sales"
            host = "db.example.com"
        "#;
        let config = config_schema::worker::parse_worker_config(toml).expect("valid worker toml");
        let resolve = |source: &SecretSource, key: &str| {
            source.resolve(
                key,
                |name| (name == "PG_PASSWORD_FOR_TEST").then(|| "from-env".to_string()),
                |_| Err(std::io::Error::other("no files in this test")),
            )
        };
        let settings = odbc_settings(&config.source, &resolve).expect("secret resolves");
        assert_eq!(settings.password.as_deref(), Some("from-env"));
        assert_eq!(settings.port, Some(5432));
        let cs =
            build_connection_string(config.source.platform(), &settings, &OdbcTuning::default());
        assert_eq!(cs.get("Pwd"), Some("from-env"));
        assert_eq!(cs.driver(), Some("PostgreSQL Unicode"));

        let missing = |source: &SecretSource, key: &str| {
            source.resolve(key, |_| None, |_| Err(std::io::Error::other("none")))
        };
        assert!(odbc_settings(&config.source, &missing).is_err());
    }

    #[test]
    fn extra_options_override_case_insensitively() {
        let mut s = settings("PostgreSQL Unicode");
        s.extra_options.insert("usedeclarefetch".into(), "0".into());
        s.extra_options.insert("ApiToken".into(), "tok".into());
        let cs = build_connection_string(SourcePlatform::Postgresql, &s, &OdbcTuning::default());
        assert_eq!(cs.get("UseDeclareFetch"), Some("0"));
        assert!(cs.to_string().contains("ApiToken=***"));
    }
}
