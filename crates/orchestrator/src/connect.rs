//! Logging in to the target Snowflake account. The connection profile is found by
//! `migration_core::daemon::connect_params`, shared with the worker.

use anyhow::Context as _;
use migration_core::snowflake::{ConnectParams, Session};

/// Logs in.
pub fn connect(params: &ConnectParams) -> anyhow::Result<Session> {
    Session::connect(params)
        .with_context(|| format!("cannot connect to Snowflake at {}", params.endpoint()))
}
