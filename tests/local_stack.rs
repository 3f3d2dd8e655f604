//! The shell library behind `scripts/demo` and `scripts/bench-end-to-end`
//! (`scripts/lib/local-stack.sh`): a run whose copy is not complete and verified exits 1 and
//! says so on stderr, and reports no number after it. The orchestrator is a stub script here,
//! so these tests pin the library's decisions; the demo and the end-to-end tests run the real
//! binaries.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `body` in bash with the library sourced, `$bin/orchestrator` being `stub`.
fn run_with_stub(stub: &str, body: &str) -> Output {
    let dir = tempfile::tempdir().expect("a folder for the run");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin folder");
    let orchestrator = bin.join("orchestrator");
    std::fs::write(&orchestrator, format!("#!/usr/bin/env bash\n{stub}\n")).expect("stub");
    std::fs::set_permissions(&orchestrator, std::fs::Permissions::from_mode(0o755))
        .expect("make the stub executable");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = format!(
        "set -euo pipefail\nroot='{}'\nwork='{}'\nbin='{}'\n. \"$root/scripts/lib/local-stack.sh\"\n{body}\n",
        root.display(),
        dir.path().display(),
        bin.display()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run bash")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const VERIFY_DIFFERS: &str = r#"case "$1" in
    verify) echo "main.main.orders -> ORDERS: 10 rows extracted, 7 rows in target, CHECKSUM DIFFERS"; exit 1 ;;
    status) echo "workflow DEMO: 1 failed partition" ;;
esac"#;

#[test]
fn a_copy_that_is_not_verified_fails_the_run_and_reports_no_number() {
    let output = run_with_stub(
        VERIFY_DIFFERS,
        "stack_require_verified DEMO\necho 'migrated 10 rows in 1 s = 10 rows/s'",
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("workflow DEMO is NOT a complete and verified copy"),
        "{stderr}"
    );
    assert!(
        stdout.contains("CHECKSUM DIFFERS") && stdout.contains("1 failed partition"),
        "the verify report and the status are shown: {stdout}"
    );
    assert!(
        !stdout.contains("rows/s"),
        "no number after a failed copy: {stdout}"
    );
}

#[test]
fn a_verified_copy_lets_the_run_go_on() {
    let output = run_with_stub(
        r#"[ "$1" = verify ] && echo "4 of 4 table(s) verified""#,
        "stack_require_verified DEMO\necho 'reported after the check'",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("4 of 4 table(s) verified") && stdout.contains("reported after the check"),
        "{stdout}"
    );
}

#[test]
fn a_daemon_that_exits_during_the_watch_fails_the_run() {
    // `status --watch` never ends by itself here; the worker exits at once.
    let output = run_with_stub(
        r#"[ "$1" = status ] && exec sleep 60"#,
        "echo 'worker died' > \"$work/worker.log\"\n\
         sleep 0 &\n\
         stack_track_daemon $! worker \"$work/worker.log\"\n\
         stack_watch DEMO 30\n\
         echo 'watch ended normally'",
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the worker exited before workflow DEMO completed")
            && stderr.contains("worker died"),
        "{stderr}"
    );
    assert!(!stdout.contains("watch ended normally"), "{stdout}");
}
