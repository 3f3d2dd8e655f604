//! Sessions to a test's emulator database: the one place that turns a [`TestDatabase`] into
//! [`ConnectParams`], so every test logs in the same way (password, plain HTTP, the emulator's
//! warehouse, the driver of its Python environment, a bounded login).

use std::time::Duration;

use migration_core::snowflake::{Auth, ConnectParams, Protocol, Session};

use crate::{Emulator, TestDatabase};

/// How long a test's login may take: the emulator answers at once, unless it is still starting.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

impl TestDatabase {
    /// Parameters that log in to this database (schema PUBLIC) on the emulator.
    pub fn connect_params(&self) -> ConnectParams {
        let mut params = ConnectParams::new(
            &self.account,
            &self.user,
            Auth::Password(self.password.clone()),
        );
        params.host = Some(self.host.clone());
        params.port = Some(self.port);
        params.protocol = Protocol::Http;
        params.database = Some(self.name.clone());
        params.schema = Some(self.schema.clone());
        params.warehouse = Some("SFEMU_WH".to_owned());
        params.driver_path = Some(self.driver_path.clone());
        params.login_timeout = LOGIN_TIMEOUT;
        params
    }

    /// A new session on this database; panics pointing at the emulator's log when the login
    /// fails.
    pub fn session(&self) -> Session {
        Session::connect(&self.connect_params()).unwrap_or_else(|error| {
            panic!(
                "cannot connect to the Snowflake emulator ({error}); see its log at {}",
                Emulator::start().log_path().display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn params_name_the_database_and_the_emulator() {
        let database = TestDatabase {
            name: "T_1".to_owned(),
            schema: "PUBLIC".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 4242,
            account: "sfemu".to_owned(),
            user: "sfemu".to_owned(),
            password: "sfemu".to_owned(),
            driver_path: PathBuf::from("/x.so"),
        };
        let params = database.connect_params();
        assert_eq!(params.account, "sfemu");
        assert_eq!(params.auth, Auth::Password("sfemu".to_owned()));
        assert_eq!(params.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(params.port, Some(4242));
        assert_eq!(params.protocol, Protocol::Http);
        assert_eq!(params.database.as_deref(), Some("T_1"));
        assert_eq!(params.schema.as_deref(), Some("PUBLIC"));
        assert_eq!(params.warehouse.as_deref(), Some("SFEMU_WH"));
        assert_eq!(params.driver_path, Some(PathBuf::from("/x.so")));
        assert_eq!(params.login_timeout, LOGIN_TIMEOUT);
    }
}
