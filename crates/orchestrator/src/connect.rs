//! Connecting to the target Snowflake account from a connection profile.

use anyhow::Context as _;
use migration_core::snowflake::profile::load_profile;
use migration_core::snowflake::{ConnectParams, Session};

/// The parameters of the connection named explicitly, by SNOWFLAKE_CONNECTION_NAME, by
/// `default_connection_name`, or `default`.
pub fn connect_params(connection_name: Option<&str>) -> anyhow::Result<ConnectParams> {
    let loaded = load_profile(connection_name)?;
    for warning in &loaded.warnings {
        tracing::warn!(file = %loaded.file.display(), "{warning}");
    }
    ConnectParams::from_profile(&loaded.profile).with_context(|| {
        format!(
            "connection `{}` in `{}` cannot be used",
            loaded.profile.name,
            loaded.file.display()
        )
    })
}

/// Logs in.
pub fn connect(params: &ConnectParams) -> anyhow::Result<Session> {
    Session::connect(params)
        .with_context(|| format!("cannot connect to Snowflake at {}", params.endpoint()))
}
