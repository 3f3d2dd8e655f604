//! A real Snowflake account for the live tests (`*_live.rs`), which are `#[ignore]`d so they
//! never show as passed without one: run them with `-- --ignored` and
//! `SNOWFLAKE_TEST_CONNECTION` naming a connection in `$SNOWFLAKE_HOME/connections.toml`
//! (default `~/.snowflake/connections.toml`) whose role may create a database.

use std::path::PathBuf;

use config_schema::connection_profile::{ProfileFile, ProfileFileKind};
use migration_core::snowflake::ConnectParams;

/// The environment variable naming the live connection.
pub const LIVE_CONNECTION_GATE: &str = "SNOWFLAKE_TEST_CONNECTION";

/// The connection name from [`LIVE_CONNECTION_GATE`]; panics saying how to set it, for running
/// `purpose` (an ignored test asked for explicitly must not pass without an account).
pub fn live_connection_name(purpose: &str) -> String {
    std::env::var(LIVE_CONNECTION_GATE).unwrap_or_else(|_| {
        panic!(
            "set {LIVE_CONNECTION_GATE} to the name of a connection in connections.toml to run {purpose}"
        )
    })
}

/// `$SNOWFLAKE_HOME/connections.toml`, default `~/.snowflake/connections.toml`.
pub fn connections_file() -> PathBuf {
    let home = std::env::var_os("SNOWFLAKE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".snowflake")
        });
    home.join("connections.toml")
}

/// The parameters of connection `connection` of [`connections_file`]; panics naming the file
/// when it cannot be read or lacks a usable connection of that name.
pub fn live_connect_params(connection: &str) -> ConnectParams {
    let path = connections_file();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{LIVE_CONNECTION_GATE}={connection} but {} cannot be read: {error}",
            path.display()
        )
    });
    let file = ProfileFile::parse(ProfileFileKind::ConnectionsToml, &text)
        .expect("connections.toml parses");
    let profile = file
        .profile(connection)
        .unwrap_or_else(|| panic!("no connection `{connection}` in {}", path.display()))
        .expect("the connection profile is valid");
    ConnectParams::from_profile(&profile).expect("usable connection parameters")
}
