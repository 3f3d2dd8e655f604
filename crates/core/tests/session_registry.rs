//! The registry of daemon sessions against the emulator: a daemon that starts ends the
//! registered sessions of dead processes on its host, and with them the locks their open
//! transactions held, at once; live processes and other hosts are left alone.

#[path = "queue_support/mod.rs"]
mod support;

use std::time::Duration;

use migration_core::metadata::session_registry::{
    dead_sessions, end_dead_sessions, register, DaemonProcess,
};
use migration_core::snowflake::{ErrorKind, SessionTimeouts};
use support::Metadata;

fn process(consumer_id: &str, host: &str, pid: u32) -> DaemonProcess {
    DaemonProcess {
        consumer_id: consumer_id.to_owned(),
        host: host.to_owned(),
        pid,
    }
}

#[test]
fn a_dead_daemons_session_is_ended_and_its_locks_go_with_it() {
    let metadata = Metadata::deployed("registry");
    let table = metadata.object("REGISTRY_PROBE");
    let mut setup = metadata.session();
    setup
        .execute(
            &format!("CREATE TABLE {table} (ID INTEGER, V INTEGER)"),
            &[],
        )
        .expect("create");
    setup
        .execute(&format!("INSERT INTO {table} VALUES (1, 0)"), &[])
        .expect("insert");

    // The "killed" daemon: registered, a transaction open with a lock, never ended.
    let dead = process("worker-dead", "host-a", 4_000_001);
    let mut killed = metadata.session();
    register(&mut killed, &metadata.names, &dead).expect("register the dead daemon's session");
    killed.execute("BEGIN", &[]).expect("begin");
    killed
        .execute(&format!("UPDATE {table} SET V = 1 WHERE ID = 1"), &[])
        .expect("hold the lock");
    // A live daemon on the same host and a dead one elsewhere are left alone.
    let live = process("worker-live", "host-a", 4_000_002);
    let mut live_session = metadata.session();
    register(&mut live_session, &metadata.names, &live).expect("register");
    let elsewhere = process("worker-elsewhere", "host-b", 4_000_003);
    let mut elsewhere_session = metadata.session();
    register(&mut elsewhere_session, &metadata.names, &elsewhere).expect("register");

    // The restarted daemon on host-a: only 4_000_002 (and itself) exist.
    let restarted = process("worker-restarted", "host-a", 4_000_004);
    let mut params = metadata.database.connect_params();
    params.timeouts = SessionTimeouts {
        lock: Duration::from_secs(2),
        statement: Duration::from_secs(30),
    };
    let mut session = migration_core::snowflake::Session::connect(&params).expect("connect");
    let exists = |pid: u32| pid == 4_000_002 || pid == 4_000_004;
    let blocked = session
        .execute(&format!("UPDATE {table} SET V = 2 WHERE ID = 1"), &[])
        .expect_err("the dead daemon's transaction still holds the lock");
    assert_eq!(blocked.kind(), ErrorKind::LockTimeout, "{blocked}");

    let found = dead_sessions(&mut session, &metadata.names, &restarted, exists).expect("look");
    assert_eq!(
        found
            .iter()
            .map(|d| d.consumer_id.as_str())
            .collect::<Vec<_>>(),
        vec!["worker-dead"],
        "only the dead process of this host: {found:?}"
    );
    let ended =
        end_dead_sessions(&mut session, &metadata.names, &restarted, exists).expect("end them");
    assert_eq!(ended.len(), 1, "{ended:?}");
    session
        .execute(&format!("UPDATE {table} SET V = 2 WHERE ID = 1"), &[])
        .expect("the lock went with the aborted session");

    let left = metadata.rows(
        &mut session,
        &format!(
            "SELECT CONSUMER_ID FROM {} ORDER BY CONSUMER_ID",
            metadata.object("DAEMON_SESSION")
        ),
    );
    assert_eq!(
        left,
        vec![
            vec![Some("worker-elsewhere".to_owned())],
            vec![Some("worker-live".to_owned())]
        ],
        "the dead process is forgotten, the others stay registered"
    );
    assert_eq!(
        metadata.rows(&mut session, &format!("SELECT V FROM {table}")),
        vec![vec![Some("2".to_owned())]],
        "the aborted transaction's update was rolled back"
    );
    assert!(
        killed.execute("COMMIT", &[]).is_err(),
        "the aborted session cannot commit its transaction any more"
    );
}
