//! How the daemon runs: where it connects, which queue transport the workers use, how often it
//! polls, how many tasks it runs at once, and the lease and retry settings of the tasks it
//! pushes.

use std::time::Duration;

use migration_core::metadata::MetadataNames;
use migration_core::queue::{RetryPolicy, Transport};
use migration_core::snowflake::{ConnectParams, SessionTimeouts};
use migration_core::workflow::TaskSettings;

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
    /// STATEMENT_TIMEOUT_IN_SECONDS of the sessions that plan and load (COPY INTO). The loop's
    /// and the lease keeper's sessions derive theirs from the lease.
    pub load_statement_timeout: Duration,
    /// After a stop request: how long running tasks may take to finish (their leases are
    /// renewed meanwhile) before the daemon exits anyway and leaves them to lease expiry.
    pub shutdown_grace: Duration,
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
            load_statement_timeout: migration_core::snowflake::default_loading_statement_timeout(),
            shutdown_grace: default_shutdown_grace(),
        }
    }

    /// Connection parameters of the loop's and the lease keeper's sessions: timeouts well
    /// within the lease ([`SessionTimeouts::for_control`]).
    pub fn control_connection(&self) -> ConnectParams {
        let mut params = self.connection.clone();
        params.timeouts = SessionTimeouts::for_control(self.task_lease);
        params
    }

    /// Connection parameters of the plan and load sessions.
    pub fn task_connection(&self) -> ConnectParams {
        let mut params = self.connection.clone();
        params.timeouts =
            SessionTimeouts::for_loading(self.task_lease, self.load_statement_timeout);
        params
    }

    /// The lease and retry settings of every task this orchestrator pushes.
    pub fn task_settings(&self) -> TaskSettings {
        TaskSettings {
            lease: self.task_lease,
            retry: self.retry,
        }
    }

    /// Refuses settings under which leases cannot be kept: a lease must outlast several polls
    /// and renewals (each renewal comes every third of the lease, and a round of the loop can
    /// take a poll interval and more).
    pub fn check(&self) -> Result<(), String> {
        check_lease(self.task_lease, self.poll_interval)
    }
}

/// See [`DaemonConfig::check`].
pub fn check_lease(lease: Duration, poll_interval: Duration) -> Result<(), String> {
    if lease < MIN_LEASE {
        return Err(format!(
            "the task lease ({} s) must be at least {} s: its holder renews it every third of \
             it, and a renewal must fit between two; raise --task-lease-seconds",
            lease.as_secs_f64(),
            MIN_LEASE.as_secs()
        ));
    }
    if lease < poll_interval * LEASE_PER_POLL {
        return Err(format!(
            "the task lease ({} s) must be at least {LEASE_PER_POLL} times the poll interval \
             ({} ms), or leases expire between two rounds of the loop; raise \
             --task-lease-seconds or lower --poll-interval-ms",
            lease.as_secs_f64(),
            poll_interval.as_millis()
        ));
    }
    Ok(())
}

/// The shortest task lease [`DaemonConfig::check`] accepts.
pub const MIN_LEASE: Duration = Duration::from_secs(3);
/// How many poll intervals a lease must span at least.
pub const LEASE_PER_POLL: u32 = 4;

/// Default [`DaemonConfig::shutdown_grace`]: well inside the 30 s a service manager usually
/// gives between SIGTERM and SIGKILL.
pub fn default_shutdown_grace() -> Duration {
    Duration::from_secs(20)
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

    fn config(lease_seconds: u64, poll_ms: u64) -> DaemonConfig {
        let mut config = DaemonConfig::new(
            ConnectParams::new(
                "acct",
                "user",
                migration_core::snowflake::Auth::Password("pw".into()),
            ),
            MetadataNames::default(),
        );
        config.task_lease = Duration::from_secs(lease_seconds);
        config.poll_interval = Duration::from_millis(poll_ms);
        config
    }

    #[test]
    fn a_lease_not_comfortably_longer_than_the_poll_interval_is_refused() {
        let error = config(5, 5000).check().expect_err("lease = poll interval");
        insta::assert_snapshot!(error, @"the task lease (5 s) must be at least 4 times the poll interval (5000 ms), or leases expire between two rounds of the loop; raise --task-lease-seconds or lower --poll-interval-ms");
        let error = config(2, 100).check().expect_err("too short to renew");
        assert!(
            error.starts_with("the task lease (2 s) must be at least 3 s"),
            "{error}"
        );
        assert_eq!(config(20, 5000).check(), Ok(()));
        assert_eq!(config(300, 5000).check(), Ok(()), "the defaults");
        assert_eq!(config(10, 200).check(), Ok(()), "the fault tests' settings");
    }

    #[test]
    fn sessions_time_out_within_the_lease_and_loads_get_their_own_statement_timeout() {
        let mut config = config(40, 200);
        config.load_statement_timeout = Duration::from_secs(900);
        let control = config.control_connection().timeouts;
        assert_eq!(control.lock, Duration::from_secs(10));
        assert_eq!(control.statement, Duration::from_secs(20));
        let task = config.task_connection().timeouts;
        assert_eq!(task.lock, Duration::from_secs(10));
        assert_eq!(task.statement, Duration::from_secs(900));
    }

    #[test]
    fn defaults_are_pinned() {
        assert_eq!(default_shutdown_grace(), Duration::from_secs(20));
        assert_eq!(default_poll_interval(), Duration::from_secs(5));
        assert_eq!(default_max_parallel_tasks(), 4);
        assert!(default_consumer_id().starts_with("orchestrator-"));
    }
}
