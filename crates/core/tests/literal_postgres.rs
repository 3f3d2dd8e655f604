//! Text key literals read back by a real server as the value they were rendered from (F8).
//!
//! PostgreSQL's own literals are checked with `standard_conforming_strings` both on and off.
//! Redshift's are checked on the same server with `standard_conforming_strings = off`, the
//! parsing Redshift always applies (a backslash in a string literal is an escape). The server is
//! the local PostgreSQL on 127.0.0.1:5432.

use config_schema::SourcePlatform;
use migration_core::plan::key_value::KeyValue;
use migration_core::source::catalog::{SourceColumn, TableRef};
use migration_core::source::dialect::{Dialect, TypedColumn};

const VALUES: [&str; 9] = [
    "a\\",
    "C:\\dir\\",
    "it's",
    "a\\'b",
    "\\'",
    "'\\\\''",
    "\\x41",
    "end'",
    "plain",
];

fn literal(platform: SourcePlatform, data_type: &str, value: &str) -> String {
    let table = TableRef::parse("d", "s", "t");
    let column = TypedColumn::classify(platform, &table, &SourceColumn::new("k", data_type, 1))
        .expect("a text column");
    Dialect::new(platform)
        .literal(&KeyValue::Text(value.into()), &column)
        .expect("renders")
}

/// Runs `SELECT <literal>` for every value and returns what the server read.
fn read_back(client: &mut postgres::Client, literals: &[String]) -> Vec<String> {
    literals
        .iter()
        .map(|literal| {
            let row = client
                .query_one(&format!("SELECT ({literal})::text"), &[])
                .unwrap_or_else(|e| panic!("the server refused {literal}: {e}"));
            row.get(0)
        })
        .collect()
}

#[test]
fn postgresql_literals_read_back_exactly_whatever_the_string_setting() {
    let schema = test_support::postgres();
    let mut client = schema.client();
    let literals: Vec<String> = VALUES
        .iter()
        .map(|v| literal(SourcePlatform::Postgresql, "text", v))
        .collect();
    for setting in ["on", "off"] {
        client
            .batch_execute(&format!(
                "SET standard_conforming_strings = {setting}; SET escape_string_warning = off"
            ))
            .expect("set the string mode");
        assert_eq!(
            read_back(&mut client, &literals),
            VALUES,
            "standard_conforming_strings = {setting}"
        );
    }
}

#[test]
fn redshift_literals_read_back_exactly_with_backslash_escapes() {
    let schema = test_support::postgres();
    let mut client = schema.client();
    client
        .batch_execute("SET standard_conforming_strings = off; SET escape_string_warning = off")
        .expect("parse strings the way Redshift does");
    let literals: Vec<String> = VALUES
        .iter()
        .map(|v| literal(SourcePlatform::Redshift, "character varying", v))
        .collect();
    assert_eq!(read_back(&mut client, &literals), VALUES);
}
