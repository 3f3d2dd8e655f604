//! How the daemon runs: where it connects, which queue transport the workers use, how often it
//! polls, how many tasks it runs at once, and the lease and retry settings of the tasks it
//! pushes.

use std::time::Duration;

use migration_core::metadata::MetadataNames;
use migration_core::queue::{RetryPolicy, Transport};
use migration_core::snowflake::ConnectParams;

/// Environment variable choosing the workers' queue transport: `procedure` (default: the queue
/// procedures are deployed) or `direct` (they are not). The orchestrator's own queue operations
/// always use the direct transport.
pub const ENV_QUEUE_TRANSPORT: &str = "DATA_MIGRATION_QUEUE_TRANSPORT";
/// Environment variable with the orchestrator's affinity group.
pub const ENV_AFFINITY: &str = "DATA_MIGRATION_ORCHESTRATOR_AFFINITY";

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub connection: ConnectParams,
    pub names: MetadataNames,
    /// The workers' queue transport: with `Procedure` the deployment creates the queue
    /// procedures the workers call. The orchestrator's own queue operations always run direct
    /// ([`crate::context::ORCHESTRATOR_TRANSPORT`]), so they join its transactions.
    pub transport: Transport,
    /// Workflows and tasks this orchestrator takes; `None` takes all.
    pub affinity: Option<String>,
    /// Pause between two rounds of the loop.
    pub poll_interval: Duration,
    /// Plan and load tasks running at once (each on its own blocking thread and session).
    pub max_parallel_tasks: usize,
    /// Lease of every task this orchestrator pushes (workers and orchestrators renew it).
    pub task_lease: Duration,
    /// Retries and backoff of every task this orchestrator pushes.
    pub retry: RetryPolicy,
    /// Names this process in TASK_QUEUE.LEASE_OWNER and WORKFLOW.LEASE_OWNER.
    pub consumer_id: String,
}

impl DaemonConfig {
    /// Default settings for a connection and metadata names.
    pub fn new(connection: ConnectParams, names: MetadataNames) -> DaemonConfig {
        DaemonConfig {
            connection,
            names,
            transport: Transport::Procedure,
            affinity: None,
            poll_interval: default_poll_interval(),
            max_parallel_tasks: default_max_parallel_tasks(),
            task_lease: migration_core::queue::task::default_lease(),
            retry: RetryPolicy::default(),
            consumer_id: default_consumer_id(),
        }
    }
}

pub fn default_poll_interval() -> Duration {
    Duration::from_secs(5)
}

pub fn default_max_parallel_tasks() -> usize {
    4
}

/// `orchestrator-<host>-<uuid>`: unique per process.
pub fn default_consumer_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
    format!("orchestrator-{host}-{}", uuid::Uuid::new_v4())
}

/// Parses `procedure` or `direct` (any case).
pub fn parse_transport(value: &str) -> Result<Transport, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "procedure" => Ok(Transport::Procedure),
        "direct" => Ok(Transport::Direct),
        other => Err(format!(
            "unknown queue transport `{other}`: use `procedure` (Snowflake procedures, the default) or `direct` (client transactions, for the emulator)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_and_unknown_ones_are_explained() {
        assert_eq!(parse_transport("Direct"), Ok(Transport::Direct));
        assert_eq!(parse_transport("procedure"), Ok(Transport::Procedure));
        let error = parse_transport("rpc").expect_err("unknown");
        assert!(
            error.starts_with("unknown queue transport `rpc`"),
            "{error}"
        );
    }

    #[test]
    fn defaults_are_pinned() {
        assert_eq!(default_poll_interval(), Duration::from_secs(5));
        assert_eq!(default_max_parallel_tasks(), 4);
        assert!(default_consumer_id().starts_with("orchestrator-"));
    }
}
