//! The PostgreSQL server every test uses: 127.0.0.1:5432, user `postgres`, trust auth, database
//! `postgres`. Its address, the hint that says how to start it, and the ways tests reach it (a
//! client, the native extraction path's parameters) are written here once.

use std::time::Duration;

use migration_core::source::postgres_native::PgConnectParams;
use postgres::{Client, NoTls};

pub const POSTGRES_HOST: &str = "127.0.0.1";
pub const POSTGRES_PORT: u16 = 5432;
pub const POSTGRES_USER: &str = "postgres";
pub const POSTGRES_DATABASE: &str = "postgres";

/// How to start the server when it is down (what `.ci/run` does).
pub const POSTGRES_START_HINT: &str =
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

/// libpq-style connection parameters of the server.
pub fn postgres_connection_string() -> String {
    format!(
        "host={POSTGRES_HOST} port={POSTGRES_PORT} user={POSTGRES_USER} dbname={POSTGRES_DATABASE}"
    )
}

/// A client of the server; panics with [`POSTGRES_START_HINT`] when it is not reachable.
pub fn postgres_client() -> Client {
    Client::connect(&postgres_connection_string(), NoTls)
        .unwrap_or_else(|error| panic!("{}", unreachable_message(&error)))
}

/// The message of a failed connection to the server: what failed and how to start it.
pub fn unreachable_message(error: &dyn std::fmt::Display) -> String {
    format!(
        "PostgreSQL is not reachable on {POSTGRES_HOST}:{POSTGRES_PORT} as user {POSTGRES_USER} \
         ({error}); {POSTGRES_START_HINT}"
    )
}

/// The native extraction path's parameters for the server (no password, TLS as libpq's
/// default, a 10 s connect timeout), with `application_name` naming the test.
pub fn pg_connect_params(application_name: &str) -> PgConnectParams {
    PgConnectParams {
        host: POSTGRES_HOST.into(),
        port: POSTGRES_PORT,
        user: POSTGRES_USER.into(),
        password: None,
        database: POSTGRES_DATABASE.into(),
        connect_timeout: Duration::from_secs(10),
        application_name: application_name.into(),
        tls: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unreachable_message_says_how_to_start_the_server() {
        let message = unreachable_message(&"connection refused");
        assert!(message.contains("127.0.0.1:5432"), "{message}");
        assert!(message.contains("(connection refused)"), "{message}");
        assert!(message.ends_with(POSTGRES_START_HINT), "{message}");
    }
}
