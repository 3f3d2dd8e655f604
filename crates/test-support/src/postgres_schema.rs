//! A fresh PostgreSQL schema per test, on the server of [`crate::postgres_server`].

use postgres::{Client, NoTls};

use crate::postgres_server::{
    postgres_client, postgres_connection_string, POSTGRES_DATABASE, POSTGRES_HOST, POSTGRES_PORT,
    POSTGRES_USER,
};

/// A schema created for one test; dropped (with its contents) when this value is dropped.
#[derive(Debug)]
pub struct PostgresSchema {
    /// The schema name (lower case, unique).
    pub schema: String,
}

impl PostgresSchema {
    /// libpq-style connection parameters of the server.
    pub fn connection_string(&self) -> String {
        postgres_connection_string()
    }

    /// An ODBC connection string for the `PostgreSQL Unicode` driver.
    pub fn odbc_connection_string(&self) -> String {
        format!(
            "Driver={{PostgreSQL Unicode}};Server={POSTGRES_HOST};Port={POSTGRES_PORT};\
             Database={POSTGRES_DATABASE};Uid={POSTGRES_USER};"
        )
    }

    /// A client whose `search_path` is this schema.
    pub fn client(&self) -> Client {
        let mut client = postgres_client();
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

/// Creates a fresh schema for one test.
pub fn postgres() -> PostgresSchema {
    let schema = crate::unique_name("t").to_ascii_lowercase();
    let mut client = postgres_client();
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap_or_else(|error| panic!("cannot create PostgreSQL schema {schema}: {error}"));
    PostgresSchema { schema }
}
