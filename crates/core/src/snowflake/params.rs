//! What a session needs to log in: account, user, credentials, context and endpoint.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config_schema::connection_profile::{self, Authenticator, ConnectionProfile};

use super::error::SnowflakeError;
use super::session_settings::SessionTimeouts;

/// How the session authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// User and password.
    Password(String),
    /// Key-pair authentication (JWT). The key file is PEM (PKCS#8); an encrypted key needs its
    /// passphrase.
    KeyPair {
        private_key_file: PathBuf,
        passphrase: Option<String>,
    },
    /// A programmatic access token.
    ProgrammaticAccessToken(String),
    /// An OAuth access token.
    OAuth(String),
}

impl fmt::Debug for Auth {
    // Secrets never reach logs: only the method and the key file path are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Password(_) => f.write_str("Password(***)"),
            Auth::KeyPair {
                private_key_file,
                passphrase,
            } => f
                .debug_struct("KeyPair")
                .field("private_key_file", private_key_file)
                .field("passphrase", &passphrase.as_ref().map(|_| "***"))
                .finish(),
            Auth::ProgrammaticAccessToken(_) => f.write_str("ProgrammaticAccessToken(***)"),
            Auth::OAuth(_) => f.write_str("OAuth(***)"),
        }
    }
}

/// The transport protocol of the Snowflake endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Https,
    /// Plain HTTP: only for the local emulator.
    Http,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Https => "https",
            Protocol::Http => "http",
        }
    }
}

/// Everything needed to open a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectParams {
    pub account: String,
    pub user: String,
    pub auth: Auth,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub database: Option<String>,
    pub schema: Option<String>,
    /// Overrides `<account>.snowflakecomputing.com`.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub protocol: Protocol,
    /// The ADBC Snowflake driver library; found automatically when `None`
    /// (see [`super::driver_library`]).
    pub driver_path: Option<PathBuf>,
    /// How long logging in may take, retries included.
    pub login_timeout: Duration,
    /// Lock and statement timeouts set right after each login (with TIMEZONE = 'UTC').
    pub timeouts: SessionTimeouts,
}

/// Default for [`ConnectParams::login_timeout`].
pub fn default_login_timeout() -> Duration {
    Duration::from_secs(60)
}

impl ConnectParams {
    /// Parameters with password authentication and defaults for everything optional.
    pub fn new(account: impl Into<String>, user: impl Into<String>, auth: Auth) -> Self {
        ConnectParams {
            account: account.into(),
            user: user.into(),
            auth,
            role: None,
            warehouse: None,
            database: None,
            schema: None,
            host: None,
            port: None,
            protocol: Protocol::default(),
            driver_path: None,
            login_timeout: default_login_timeout(),
            timeouts: SessionTimeouts::default(),
        }
    }

    /// Parameters from a connection profile. A `token_file_path` is read here (trailing
    /// whitespace removed); the driver library is found automatically.
    pub fn from_profile(profile: &ConnectionProfile) -> Result<Self, SnowflakeError> {
        let auth = profile_auth(profile)?;
        let user = match (&profile.user, profile.authenticator) {
            (Some(user), _) => user.clone(),
            // An OAuth token names its user.
            (None, Authenticator::Oauth) => String::new(),
            (None, _) => {
                return Err(SnowflakeError::InvalidParams {
                    field: "user",
                    message: format!("connection `{}` has no `user`; add one", profile.name),
                })
            }
        };
        let mut params = ConnectParams::new(profile.account.clone(), user, auth);
        params.role = profile.role.clone();
        params.warehouse = profile.warehouse.clone();
        params.database = profile.database.clone();
        params.schema = profile.schema.clone();
        params.host = profile.host.clone();
        params.port = profile.port;
        params.protocol = match profile.protocol {
            Some(connection_profile::Protocol::Http) => Protocol::Http,
            Some(connection_profile::Protocol::Https) | None => Protocol::Https,
        };
        Ok(params)
    }

    /// The endpoint as shown in messages, e.g. `https://acme.snowflakecomputing.com:443`.
    pub fn endpoint(&self) -> String {
        let host = self
            .host
            .clone()
            .unwrap_or_else(|| format!("{}.snowflakecomputing.com", self.account));
        let port = self.port.unwrap_or(match self.protocol {
            Protocol::Https => 443,
            Protocol::Http => 80,
        });
        format!("{}://{host}:{port}", self.protocol.as_str())
    }
}

/// The credentials a profile names for its authenticator.
fn profile_auth(profile: &ConnectionProfile) -> Result<Auth, SnowflakeError> {
    let missing = |field: &'static str, what: &str| SnowflakeError::InvalidParams {
        field,
        message: format!(
            "connection `{}` uses {what} but has no `{field}`; add it",
            profile.name
        ),
    };
    let token = || -> Result<Option<String>, SnowflakeError> {
        if let Some(token) = &profile.token {
            return Ok(Some(token.expose().to_owned()));
        }
        match &profile.token_file_path {
            Some(path) => read_token_file(path).map(Some),
            None => Ok(None),
        }
    };
    match profile.authenticator {
        Authenticator::Snowflake => profile
            .password
            .as_ref()
            .map(|password| Auth::Password(password.expose().to_owned()))
            .ok_or_else(|| missing("password", "password authentication")),
        Authenticator::SnowflakeJwt => {
            let private_key_file = profile
                .private_key_file
                .clone()
                .ok_or_else(|| missing("private_key_file", "key-pair authentication"))?;
            Ok(Auth::KeyPair {
                private_key_file,
                passphrase: profile
                    .private_key_file_pwd
                    .as_ref()
                    .map(|pwd| pwd.expose().to_owned()),
            })
        }
        Authenticator::ProgrammaticAccessToken => {
            // Snowflake's tools also accept the token written as the password.
            let from_password = profile.password.as_ref().map(|p| p.expose().to_owned());
            token()?
                .or(from_password)
                .map(Auth::ProgrammaticAccessToken)
                .ok_or_else(|| missing("token", "a programmatic access token"))
        }
        Authenticator::Oauth => token()?
            .map(Auth::OAuth)
            .ok_or_else(|| missing("token", "OAuth")),
    }
}

fn read_token_file(path: &Path) -> Result<String, SnowflakeError> {
    let text = std::fs::read_to_string(path).map_err(|source| SnowflakeError::SecretFile {
        what: "token file",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use config_schema::connection_profile::{ProfileFile, ProfileFileKind};

    fn profile(toml_text: &str) -> ConnectionProfile {
        let text = format!("[test]\n{toml_text}");
        ProfileFile::parse(ProfileFileKind::ConnectionsToml, &text)
            .expect("valid toml")
            .profile("test")
            .expect("profile present")
            .expect("valid profile")
    }

    #[test]
    fn password_profile_becomes_params() {
        let params = ConnectParams::from_profile(&profile(
            r#"
            account = "acme"
            user = "loader"
            password = "pw"
            role = "LOADER"
            warehouse = "WH"
            host = "127.0.0.1"
            port = 8089
            protocol = "http"
            "#,
        ))
        .expect("complete profile");
        assert_eq!(params.auth, Auth::Password("pw".to_owned()));
        assert_eq!(params.role.as_deref(), Some("LOADER"));
        assert_eq!(params.endpoint(), "http://127.0.0.1:8089");
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(&mut file, b"tok-123\n").expect("write token");
        let text = format!(
            "account = \"acme\"\nuser = \"loader\"\nauthenticator = \"PROGRAMMATIC_ACCESS_TOKEN\"\ntoken_file_path = {:?}\n",
            file.path().display().to_string()
        );
        let params = ConnectParams::from_profile(&profile(&text)).expect("token profile");
        assert_eq!(
            params.auth,
            Auth::ProgrammaticAccessToken("tok-123".to_owned())
        );
    }

    #[test]
    fn key_pair_profile_keeps_the_passphrase() {
        let params = ConnectParams::from_profile(&profile(
            r#"
            account = "acme"
            user = "loader"
            authenticator = "SNOWFLAKE_JWT"
            private_key_file = "/keys/rsa_key.p8"
            private_key_file_pwd = "secret"
            "#,
        ))
        .expect("key pair profile");
        assert_eq!(
            params.auth,
            Auth::KeyPair {
                private_key_file: PathBuf::from("/keys/rsa_key.p8"),
                passphrase: Some("secret".to_owned()),
            }
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let params = ConnectParams::new("acme", "loader", Auth::Password("hunter2".to_owned()));
        let shown = format!("{params:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let key = Auth::KeyPair {
            private_key_file: PathBuf::from("/keys/rsa.p8"),
            passphrase: Some("s3cret".to_owned()),
        };
        let shown = format!("{key:?}");
        assert!(
            shown.contains("/keys/rsa.p8") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn endpoint_defaults_to_the_account_host() {
        let mut params = ConnectParams::new("acme", "loader", Auth::OAuth("t".to_owned()));
        assert_eq!(params.endpoint(), "https://acme.snowflakecomputing.com:443");
        params.host = Some("127.0.0.1".to_owned());
        params.port = Some(8089);
        params.protocol = Protocol::Http;
        assert_eq!(params.endpoint(), "http://127.0.0.1:8089");
    }
}
