//! Snowflake connection profiles, read the way Snowflake's own tools read them.
//!
//! `connections.toml` holds one top-level table per connection (`[production]`); `config.toml`
//! holds them under `[connections.NAME]` plus an optional top-level `default_connection_name`.
//! Which files are read, and in what order, is decided by `migration_core::snowflake::profile`;
//! this module only turns text into [`ProfileFile`]s and one table into a [`ConnectionProfile`].
//!
//! Unknown keys are tolerated (Snowflake's tools accept many more than we use) and reported as
//! warnings, so a typo such as `pasword` is still visible.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::problem::{closest_match, Problems};
use crate::secret::Secret;

/// Keys this project reads from a connection profile.
pub const KNOWN_KEYS: [&str; 17] = [
    "account",
    "user",
    "password",
    "authenticator",
    "token",
    "token_file_path",
    "private_key_file",
    "private_key_path",
    "private_key_file_pwd",
    "role",
    "warehouse",
    "database",
    "schema",
    "host",
    "port",
    "protocol",
    "region",
];

/// How the session authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authenticator {
    /// User name and password (`snowflake`, the default).
    Snowflake,
    /// Key-pair authentication (`SNOWFLAKE_JWT`, needs `private_key_file`).
    SnowflakeJwt,
    /// Programmatic access token (`PROGRAMMATIC_ACCESS_TOKEN`, needs `token`, `token_file_path`
    /// or the token as `password`).
    ProgrammaticAccessToken,
    /// OAuth access token (`oauth`, needs `token` or `token_file_path`).
    Oauth,
}

impl Authenticator {
    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "snowflake" => Some(Authenticator::Snowflake),
            "snowflake_jwt" => Some(Authenticator::SnowflakeJwt),
            "programmatic_access_token" => Some(Authenticator::ProgrammaticAccessToken),
            "oauth" => Some(Authenticator::Oauth),
            _ => None,
        }
    }

    /// The spelling Snowflake's drivers use.
    pub fn as_str(self) -> &'static str {
        match self {
            Authenticator::Snowflake => "snowflake",
            Authenticator::SnowflakeJwt => "SNOWFLAKE_JWT",
            Authenticator::ProgrammaticAccessToken => "PROGRAMMATIC_ACCESS_TOKEN",
            Authenticator::Oauth => "oauth",
        }
    }
}

/// `http` (local emulator) or `https` (default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

/// One named connection.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionProfile {
    pub name: String,
    pub account: String,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub authenticator: Authenticator,
    pub token: Option<Secret>,
    pub token_file_path: Option<PathBuf>,
    pub private_key_file: Option<PathBuf>,
    pub private_key_file_pwd: Option<Secret>,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub protocol: Option<Protocol>,
    /// Keys present but not used by this project, with a suggestion when one looks like a typo.
    pub warnings: Vec<String>,
}

impl fmt::Debug for ConnectionProfile {
    // Written by hand so no secret can reach a log, even through a new field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionProfile")
            .field("name", &self.name)
            .field("account", &self.account)
            .field("user", &self.user)
            .field("authenticator", &self.authenticator)
            .field("role", &self.role)
            .field("warehouse", &self.warehouse)
            .field("database", &self.database)
            .field("schema", &self.schema)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// Which layout a profile file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFileKind {
    /// `connections.toml`: `[NAME]` tables at the top level.
    ConnectionsToml,
    /// `config.toml`: `[connections.NAME]` tables and `default_connection_name`.
    ConfigToml,
}

/// A profile file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("connection `{connection}` has {count} problem(s):\n{problems}", count = problems.len())]
    Invalid {
        connection: String,
        problems: Problems,
    },
    #[error("`{key}` must be {expected}")]
    WrongType { key: String, expected: &'static str },
}

/// The connections found in one file, unparsed until one is chosen (a broken profile the user
/// does not select must not stop the program).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileFile {
    pub default_connection_name: Option<String>,
    connections: BTreeMap<String, toml::Table>,
    /// Top-level entries that are neither connections nor known settings.
    pub warnings: Vec<String>,
}

impl ProfileFile {
    /// Parses the text of a `connections.toml` or `config.toml`.
    pub fn parse(kind: ProfileFileKind, text: &str) -> Result<ProfileFile, ProfileError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| ProfileError::Syntax(crate::document::toml_syntax_message(text, &e)))?;
        let mut file = ProfileFile::default();
        for (key, value) in table {
            match (kind, key.as_str(), value) {
                (_, "default_connection_name", toml::Value::String(name)) => {
                    file.default_connection_name = Some(name)
                }
                (_, "default_connection_name", _) => {
                    return Err(ProfileError::WrongType {
                        key,
                        expected: "a string",
                    })
                }
                (ProfileFileKind::ConfigToml, "connections", toml::Value::Table(connections)) => {
                    for (name, value) in connections {
                        match value {
                            toml::Value::Table(t) => {
                                file.connections.insert(name, t);
                            }
                            _ => {
                                return Err(ProfileError::WrongType {
                                    key: format!("connections.{name}"),
                                    expected: "a table",
                                })
                            }
                        }
                    }
                }
                (ProfileFileKind::ConnectionsToml, _, toml::Value::Table(t)) => {
                    file.connections.insert(key, t);
                }
                (_, _, _) => file
                    .warnings
                    .push(format!("ignoring top-level key `{key}`")),
            }
        }
        Ok(file)
    }

    /// Connection names in this file, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.connections.keys().map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.connections.contains_key(name)
    }

    /// The named connection, parsed and checked; `None` if the file has no such name.
    pub fn profile(&self, name: &str) -> Option<Result<ConnectionProfile, ProfileError>> {
        self.connections
            .get(name)
            .map(|table| parse_profile(name, table))
    }
}

/// Turns one connection table into a profile, collecting every problem.
pub fn parse_profile(name: &str, table: &toml::Table) -> Result<ConnectionProfile, ProfileError> {
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    for key in table.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            let hint = closest_match(key, KNOWN_KEYS)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            warnings.push(format!("connection `{name}`: ignoring key `{key}`{hint}"));
        }
    }
    let mut string = |key: &str| -> Option<String> {
        match table.get(key) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                problems.push(key, "must be a string");
                None
            }
        }
    };
    let account = string("account");
    let user = string("user");
    let password = string("password").map(Secret::new);
    let authenticator_text = string("authenticator");
    let token = string("token").map(Secret::new);
    let token_file_path = string("token_file_path").map(PathBuf::from);
    let private_key_file = string("private_key_file")
        .or_else(|| string("private_key_path"))
        .map(PathBuf::from);
    let private_key_file_pwd = string("private_key_file_pwd").map(Secret::new);
    let role = string("role");
    let warehouse = string("warehouse");
    let database = string("database");
    let schema = string("schema");
    let host = string("host");
    let protocol_text = string("protocol");

    let authenticator = match authenticator_text.as_deref() {
        None => Authenticator::Snowflake,
        Some(text) => Authenticator::parse(text).unwrap_or_else(|| {
            problems.push(
                "authenticator",
                format!("`{text}` is not supported: use snowflake, SNOWFLAKE_JWT, PROGRAMMATIC_ACCESS_TOKEN or oauth"),
            );
            Authenticator::Snowflake
        }),
    };
    let protocol = match protocol_text
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("http") => Some(Protocol::Http),
        Some("https") => Some(Protocol::Https),
        Some(other) => {
            problems.push(
                "protocol",
                format!("`{other}` is not supported: use http or https"),
            );
            None
        }
    };
    let port = match table.get("port") {
        None => None,
        Some(toml::Value::Integer(p)) => u16::try_from(*p).ok().or_else(|| {
            problems.push("port", format!("{p} is not a TCP port: use 1 to 65535"));
            None
        }),
        Some(toml::Value::String(s)) => s.trim().parse::<u16>().ok().or_else(|| {
            problems.push("port", format!("`{s}` is not a TCP port: use 1 to 65535"));
            None
        }),
        Some(_) => {
            problems.push("port", "must be an integer");
            None
        }
    };
    if account.is_none() {
        problems.push(
            "account",
            "is required: set it to your account identifier (orgname-accountname)",
        );
    }
    match authenticator {
        Authenticator::SnowflakeJwt if private_key_file.is_none() => {
            problems.push("private_key_file", "is required when authenticator is SNOWFLAKE_JWT")
        }
        Authenticator::Oauth if token.is_none() && token_file_path.is_none() => problems.push(
            "token",
            "is required when authenticator is oauth: set `token` or `token_file_path`",
        ),
        Authenticator::ProgrammaticAccessToken
            if token.is_none() && token_file_path.is_none() && password.is_none() =>
        {
            problems.push(
                "token",
                "is required when authenticator is PROGRAMMATIC_ACCESS_TOKEN: set `token`, `token_file_path` or `password`",
            )
        }
        _ => {}
    }
    if !problems.is_empty() {
        return Err(ProfileError::Invalid {
            connection: name.to_string(),
            problems,
        });
    }
    Ok(ConnectionProfile {
        name: name.to_string(),
        account: account.expect("checked above"),
        user,
        password,
        authenticator,
        token,
        token_file_path,
        private_key_file,
        private_key_file_pwd,
        role,
        warehouse,
        database,
        schema,
        host,
        port,
        protocol,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMULATOR: &str = r#"
        [emulator]
        account = "fakesnow"
        user = "any"
        password = "secret-pw"
        host = "127.0.0.1"
        port = 8091
        protocol = "http"
        warehouse = "WH"
        client_session_keep_alive = true
        pasword = "typo"
    "#;

    #[test]
    fn reads_connections_toml() {
        let file = ProfileFile::parse(ProfileFileKind::ConnectionsToml, EMULATOR).unwrap();
        assert_eq!(file.names().collect::<Vec<_>>(), ["emulator"]);
        let profile = file.profile("emulator").unwrap().unwrap();
        assert_eq!(profile.account, "fakesnow");
        assert_eq!(profile.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(profile.port, Some(8091));
        assert_eq!(profile.protocol, Some(Protocol::Http));
        assert_eq!(profile.authenticator, Authenticator::Snowflake);
        assert_eq!(
            profile.password.as_ref().map(Secret::expose),
            Some("secret-pw")
        );
        assert_eq!(
            profile.warnings,
            [
                "connection `emulator`: ignoring key `client_session_keep_alive`",
                "connection `emulator`: ignoring key `pasword` (did you mean `password`?)",
            ]
        );
        assert!(!format!("{profile:?}").contains("secret-pw"), "{profile:?}");
        assert!(file.profile("other").is_none());
    }

    #[test]
    fn reads_config_toml() {
        let text = r#"
            default_connection_name = "prod"
            [connections.prod]
            account = "org-acct"
            authenticator = "programmatic_access_token"
            token_file_path = "/secrets/pat"
            role = "MIGRATOR"
            database = "DB"
            schema = "PUBLIC"
            [cli.logs]
            save_logs = true
        "#;
        let file = ProfileFile::parse(ProfileFileKind::ConfigToml, text).unwrap();
        assert_eq!(file.default_connection_name.as_deref(), Some("prod"));
        assert_eq!(file.warnings, ["ignoring top-level key `cli`"]);
        let profile = file.profile("prod").unwrap().unwrap();
        assert_eq!(
            profile.authenticator,
            Authenticator::ProgrammaticAccessToken
        );
        assert_eq!(profile.token_file_path, Some(PathBuf::from("/secrets/pat")));
        assert_eq!(profile.role.as_deref(), Some("MIGRATOR"));
        assert_eq!(
            (profile.database.as_deref(), profile.schema.as_deref()),
            (Some("DB"), Some("PUBLIC"))
        );
    }

    #[test]
    fn key_pair_profile() {
        let text = "[kp]\naccount = \"a\"\nuser = \"u\"\nauthenticator = \"SNOWFLAKE_JWT\"\nprivate_key_file = \"/k.p8\"\nprivate_key_file_pwd = \"pw\"\n";
        let file = ProfileFile::parse(ProfileFileKind::ConnectionsToml, text).unwrap();
        let profile = file.profile("kp").unwrap().unwrap();
        assert_eq!(profile.authenticator, Authenticator::SnowflakeJwt);
        assert_eq!(profile.private_key_file, Some(PathBuf::from("/k.p8")));
        assert_eq!(
            profile.private_key_file_pwd.as_ref().map(Secret::expose),
            Some("pw")
        );
    }

    #[test]
    fn reports_every_problem_of_the_chosen_connection() {
        let text = "[bad]\nauthenticator = \"externalbrowser\"\nport = 70000\nprotocol = \"ftp\"\nrole = 3\n[jwt]\naccount = \"a\"\nauthenticator = \"snowflake_jwt\"\n[oauth]\naccount = \"a\"\nauthenticator = \"OAUTH\"\n";
        let file = ProfileFile::parse(ProfileFileKind::ConnectionsToml, text).unwrap();
        let message = file.profile("bad").unwrap().unwrap_err().to_string();
        for expected in [
            "role must be a string",
            "authenticator `externalbrowser` is not supported",
            "protocol `ftp` is not supported",
            "port 70000 is not a TCP port",
            "account is required",
        ] {
            assert!(
                message.contains(expected),
                "missing {expected:?} in {message}"
            );
        }
        let message = file.profile("jwt").unwrap().unwrap_err().to_string();
        assert!(
            message.contains("private_key_file is required when authenticator is SNOWFLAKE_JWT"),
            "{message}"
        );
        let message = file.profile("oauth").unwrap().unwrap_err().to_string();
        assert!(
            message.contains("token is required when authenticator is oauth"),
            "{message}"
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(
            ProfileFile::parse(ProfileFileKind::ConfigToml, "[connections"),
            Err(ProfileError::Syntax(_))
        ));
    }
}
