//! A fresh PostgreSQL schema per test, on the server at 127.0.0.1:5432 (user postgres).

use postgres::{Client, NoTls};

const HOST: &str = "127.0.0.1";
const PORT: u16 = 5432;
const USER: &str = "postgres";
const DATABASE: &str = "postgres";
const START_HINT: &str =
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

/// A schema created for one test; dropped (with its contents) when this value is dropped.
#[derive(Debug)]
pub struct PostgresSchema {
    /// The schema name (lower case, unique).
    pub schema: String,
}

impl PostgresSchema {
    /// libpq-style connection parameters of the server.
    pub fn connection_string(&self) -> String {
        format!("host={HOST} port={PORT} user={USER} dbname={DATABASE}")
    }

    /// An ODBC connection string for the `PostgreSQL Unicode` driver.
    pub fn odbc_connection_string(&self) -> String {
        format!("Driver={{PostgreSQL Unicode}};Server={HOST};Port={PORT};Database={DATABASE};Uid={USER};")
    }

    /// A client whose `search_path` is this schema.
    pub fn client(&self) -> Client {
        let mut client = connect();
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .expect("set search_path");
        client
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        // Best effort: a leftover schema has a unique name and harms no other test.
        if let Ok(mut client) = Client::connect(&self.connection_string(), NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

fn connect() -> Client {
    let config = format!("host={HOST} port={PORT} user={USER} dbname={DATABASE}");
    Client::connect(&config, NoTls).unwrap_or_else(|error| {
        panic!(
            "PostgreSQL is not reachable on {HOST}:{PORT} as user {USER} ({error}); {START_HINT}"
        )
    })
}

/// Creates a fresh schema for one test.
pub fn postgres() -> PostgresSchema {
    let schema = crate::unique_name::unique_name("t").to_ascii_lowercase();
    let mut client = connect();
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap_or_else(|error| panic!("cannot create PostgreSQL schema {schema}: {error}"));
    PostgresSchema { schema }
}
