//! What a session needs to log in: account, user, credentials, context and endpoint.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
