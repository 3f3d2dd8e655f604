//! How long a task is leased by default. The queue grants it per claim and per heartbeat, and
//! the Snowflake session timeouts are derived from it (a control session must give up well
//! before the lease runs out), so it lives in a leaf module below both.

use std::time::Duration;

/// Lease granted per claim and per heartbeat by default.
pub fn default_lease() -> Duration {
    Duration::from_secs(300)
}
