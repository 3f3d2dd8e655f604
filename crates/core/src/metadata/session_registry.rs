//! The registry of daemon sessions (DAEMON_SESSION, `sql/sessions/`).
//!
//! A client killed with SIGKILL never logs out. Snowflake keeps its session, and an explicit
//! transaction that session had open keeps its locks, until the session expires, hours later.
//! Every queue operation of the direct transport, and every plan and load, updates TASK_QUEUE
//! inside such a transaction, so one kill at the wrong moment would stall the whole queue.
//!
//! So each daemon registers every session that may hold locks right after its login (its
//! `CURRENT_SESSION()`, consumer id, host and process id), and a daemon that starts on a host
//! ends the registered sessions of the processes on that host that no longer exist
//! (`SYSTEM$ABORT_SESSION`), which rolls back their transactions and frees their locks at
//! once. Only processes of the same host are judged, since only there can their absence be
//! seen; a process id that was reused by another process keeps its sessions (a miss, never a
//! wrong abort). Everything here is best effort: a failure is reported to the caller, which
//! logs it and goes on (the lock timeouts still bound every wait).

use crate::metadata_names::MetadataNames;
use crate::snowflake::{Session, SnowflakeError, SqlValue};
use crate::sql_script::{statement_text, to_positional};

const REGISTER: &str = include_str!("../../../../sql/sessions/register.sql");
const ON_HOST: &str = include_str!("../../../../sql/sessions/on_host.sql");
const FORGET: &str = include_str!("../../../../sql/sessions/forget.sql");

/// The daemon process a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonProcess {
    pub consumer_id: String,
    pub host: String,
    pub pid: u32,
}

impl DaemonProcess {
    /// This process, under `consumer_id`.
    pub fn this(consumer_id: &str) -> DaemonProcess {
        DaemonProcess {
            consumer_id: consumer_id.to_owned(),
            host: host_name(),
            pid: std::process::id(),
        }
    }
}

/// The host name: `$HOSTNAME`, else `/etc/hostname`, else `unknown-host`.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Whether process `pid` exists on this host. Where that cannot be seen (no `/proc`), every
/// process counts as alive, so nothing is aborted.
pub fn process_exists(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// A registered session of a process that is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadSession {
    pub session_id: String,
    pub pid: u32,
    pub consumer_id: String,
}

/// Registers `session` as one of `process`'s sessions.
pub fn register(
    session: &mut Session,
    names: &MetadataNames,
    process: &DaemonProcess,
) -> Result<(), SnowflakeError> {
    let statement = to_positional(&statement_text(REGISTER, names));
    let params: Vec<SqlValue> = statement
        .parameter_names
        .iter()
        .map(|name| match name.as_str() {
            "consumer_id" => SqlValue::Text(process.consumer_id.clone()),
            "host" => SqlValue::Text(process.host.clone()),
            _ => SqlValue::Int(i64::from(process.pid)),
        })
        .collect();
    session.execute(&statement.sql, &params)?;
    Ok(())
}

/// [`register`], logging a failure instead of returning it: a session that is not registered
/// still works, it only cannot be ended early if its process is killed.
pub fn register_or_warn(session: &mut Session, names: &MetadataNames, process: &DaemonProcess) {
    if let Err(error) = register(session, names, process) {
        tracing::warn!(%error, "cannot register the session in DAEMON_SESSION; if this process is killed, locks its session holds stay until the session expires");
    }
}

/// [`end_dead_sessions`] with this host's processes, logging what it did or why it could not.
pub fn end_dead_sessions_or_warn(
    session: &mut Session,
    names: &MetadataNames,
    process: &DaemonProcess,
) {
    match end_dead_sessions(session, names, process, process_exists) {
        Ok(ended) => {
            for gone in ended {
                tracing::info!(
                    session_id = %gone.session_id,
                    pid = gone.pid,
                    consumer = %gone.consumer_id,
                    "ended a session of a dead daemon on this host (its transaction and locks are gone)"
                );
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot end the sessions of dead daemons on this host");
        }
    }
}

/// The registered sessions on `process`'s host whose process is gone (`exists` says which
/// exist; never `process` itself).
pub fn dead_sessions(
    session: &mut Session,
    names: &MetadataNames,
    process: &DaemonProcess,
    exists: impl Fn(u32) -> bool,
) -> Result<Vec<DeadSession>, SnowflakeError> {
    let statement = to_positional(&statement_text(ON_HOST, names));
    let rows = session.query_rows(&statement.sql, &[SqlValue::Text(process.host.clone())])?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let session_id = row.first()?.clone()?;
            let pid = row.get(1)?.as_deref()?.trim().parse::<u32>().ok()?;
            let consumer_id = row.get(2).cloned().flatten().unwrap_or_default();
            Some(DeadSession {
                session_id,
                pid,
                consumer_id,
            })
        })
        .filter(|dead| dead.pid != process.pid && !exists(dead.pid))
        .collect())
}

/// `SELECT SYSTEM$ABORT_SESSION(<id>)`; `None` for an id that is not a plain number (the
/// function takes a constant, so the id goes into the text: only digits may).
pub fn abort_session_sql(session_id: &str) -> Option<String> {
    let id = session_id.trim();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("SELECT SYSTEM$ABORT_SESSION({id})"))
}

/// Ends every registered session of the dead processes on `process`'s host and forgets them;
/// the sessions ended. A session that cannot be aborted (already gone, not ours to abort) is
/// forgotten as well: trying again at every start would not help.
pub fn end_dead_sessions(
    session: &mut Session,
    names: &MetadataNames,
    process: &DaemonProcess,
    exists: impl Fn(u32) -> bool,
) -> Result<Vec<DeadSession>, SnowflakeError> {
    let dead = dead_sessions(session, names, process, exists)?;
    let mut ended = Vec::new();
    for gone in &dead {
        let Some(sql) = abort_session_sql(&gone.session_id) else {
            continue;
        };
        match session.query_rows(&sql, &[]) {
            Ok(_) => ended.push(gone.clone()),
            Err(error) => tracing::debug!(
                session_id = %gone.session_id,
                pid = gone.pid,
                %error,
                "a dead daemon's session could not be aborted (probably gone already)"
            ),
        }
    }
    let mut pids: Vec<u32> = dead.iter().map(|gone| gone.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let statement = to_positional(&statement_text(FORGET, names));
    for pid in pids {
        let params: Vec<SqlValue> = statement
            .parameter_names
            .iter()
            .map(|name| match name.as_str() {
                "host" => SqlValue::Text(process.host.clone()),
                _ => SqlValue::Int(i64::from(pid)),
            })
            .collect();
        session.execute(&statement.sql, &params)?;
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_numbers_are_aborted() {
        assert_eq!(
            abort_session_sql(" 1234567890123 ").as_deref(),
            Some("SELECT SYSTEM$ABORT_SESSION(1234567890123)")
        );
        assert_eq!(abort_session_sql("12); DROP TABLE T; --"), None);
        assert_eq!(abort_session_sql(""), None);
    }

    #[test]
    fn this_process_exists_and_an_impossible_pid_does_not() {
        assert!(process_exists(std::process::id()));
        if std::path::Path::new("/proc").is_dir() {
            assert!(!process_exists(u32::MAX));
        }
    }
}
