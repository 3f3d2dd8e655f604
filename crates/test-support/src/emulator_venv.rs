//! The emulator's Python environment (fakesnow, the ADBC Snowflake driver, sqlfluff, the
//! Snowflake connector): where it is, how it is created, and what tests take from it.
//!
//! The environment is created by `scripts/lib/prerequisites.sh` (`prerequisites_emulator`),
//! the one bootstrap that `.ci/run`, `scripts/demo` and `scripts/snowflake-emulator` use too;
//! Rust only calls it. The driver library is found with the product's own venv lookup
//! ([`migration_core::snowflake::driver_library::library_in_venv`]), not a second one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use migration_core::snowflake::driver_library::library_in_venv;

/// What to do when the environment cannot be made ready.
pub const VENV_HINT: &str = "run `bash .ci/run` or `scripts/snowflake-emulator` once to create it";

/// The environment's folder: `$SFEMU_VENV`, default `~/.cache/sfemu-venv` (as in
/// `prerequisites_venv`).
pub fn venv_dir() -> PathBuf {
    if let Some(venv) = std::env::var_os("SFEMU_VENV") {
        return PathBuf::from(venv);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cache/sfemu-venv")
}

/// The repository root (holds `emulator/` and `scripts/`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's `emulator/` folder: the Python package `sfemu`, its requirements and its
/// helper scripts.
pub fn emulator_source_dir() -> PathBuf {
    repository_root().join("emulator")
}

/// The environment's Python, after making sure the environment is complete (created or
/// reinstalled when `emulator/requirements.txt` changed). Panics with [`VENV_HINT`] when it
/// cannot be.
pub fn emulator_python() -> PathBuf {
    match ready_venv() {
        Ok(venv) => venv.python,
        Err(message) => panic!("{message}"),
    }
}

/// The environment, checked once per test binary.
#[derive(Debug, Clone)]
pub(crate) struct ReadyVenv {
    pub(crate) python: PathBuf,
    pub(crate) driver_path: PathBuf,
}

/// Runs the bootstrap once per process and finds the driver; the error says how to fix it.
pub(crate) fn ready_venv() -> Result<ReadyVenv, String> {
    static READY: OnceLock<Result<ReadyVenv, String>> = OnceLock::new();
    READY.get_or_init(prepare).clone()
}

fn prepare() -> Result<ReadyVenv, String> {
    let venv = venv_dir();
    bootstrap(&venv)?;
    let driver_path = driver_in(&venv).ok_or_else(|| {
        format!(
            "the ADBC Snowflake driver is not installed in {}; {VENV_HINT}",
            venv.display()
        )
    })?;
    Ok(ReadyVenv {
        python: venv.join("bin/python"),
        driver_path,
    })
}

/// `prerequisites_emulator` of scripts/lib/prerequisites.sh, for `venv`: idempotent, quick when
/// the environment is already complete.
fn bootstrap(venv: &Path) -> Result<(), String> {
    let script = r#"set -euo pipefail; root="$1"; . "$root/scripts/lib/prerequisites.sh"; prerequisites_emulator"#;
    let output = Command::new("bash")
        .args(["-c", script, "bash"])
        .arg(repository_root())
        .env("SFEMU_VENV", venv)
        .output()
        .map_err(|error| format!("cannot run bash for the emulator's environment: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "the Snowflake emulator's Python environment {} is missing and could not be created ({}); {VENV_HINT}",
        venv.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// The driver library inside `venv`, if one is there.
fn driver_in(venv: &Path) -> Option<PathBuf> {
    library_in_venv(venv)
        .into_iter()
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_is_found_in_a_venv_layout() {
        let venv = tempfile::tempdir().expect("temp dir");
        let package = venv
            .path()
            .join("lib/python3.11/site-packages/adbc_driver_snowflake");
        std::fs::create_dir_all(&package).expect("package folder");
        assert_eq!(driver_in(venv.path()), None, "no library file yet");
        let library = package.join("libadbc_driver_snowflake.so");
        std::fs::write(&library, b"").expect("library file");
        assert_eq!(driver_in(venv.path()), Some(library));
    }
}
