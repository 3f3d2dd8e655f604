//! Finding the ADBC Snowflake driver (the Go driver shipped in the `adbc-driver-snowflake`
//! Python wheel) at run time.
//!
//! Order: an explicit path, `ADBC_SNOWFLAKE_DRIVER`, the Python package (asked of `python3`,
//! then known virtual environments such as the emulator's), the system library path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::error::SnowflakeError;

/// The environment variable naming the driver library.
pub const DRIVER_ENV: &str = "ADBC_SNOWFLAKE_DRIVER";
/// The library's file name inside the Python package.
pub const LIBRARY_FILE: &str = "libadbc_driver_snowflake.so";
/// The name the dynamic loader searches for on the system library path.
pub const SYSTEM_NAME: &str = "adbc_driver_snowflake";

/// Where the driver will be loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DriverLibrary {
    /// A file found on disk.
    Path(PathBuf),
    /// Left to the dynamic loader (`LD_LIBRARY_PATH`, ld.so.cache).
    SystemName,
}

/// Finds the driver library. `explicit` (a setting) wins; a named file that does not exist is
/// an error rather than a reason to look elsewhere.
pub fn locate(explicit: Option<&Path>) -> Result<DriverLibrary, SnowflakeError> {
    let env = std::env::var_os(DRIVER_ENV).map(PathBuf::from);
    let named = explicit.map(Path::to_path_buf).or(env);
    if let Some(path) = named {
        if path.is_file() {
            return Ok(DriverLibrary::Path(path));
        }
        return Err(SnowflakeError::DriverNotFound {
            looked_at: vec![format!("{} (no such file)", path.display())],
        });
    }
    // Asking python3 takes a process start: search once per process.
    static FOUND: OnceLock<DriverLibrary> = OnceLock::new();
    Ok(FOUND.get_or_init(search_installed).clone())
}

/// The Python package, then known virtual environments, then the system loader.
fn search_installed() -> DriverLibrary {
    if let Some(path) = python_package_library() {
        return DriverLibrary::Path(path);
    }
    if let Some(path) = known_venv_candidates().into_iter().find(|p| p.is_file()) {
        return DriverLibrary::Path(path);
    }
    DriverLibrary::SystemName
}

/// What [`locate`] looked at, for the "not found" message once the system loader failed too.
pub fn searched_places() -> Vec<String> {
    let mut places = vec![
        format!("{DRIVER_ENV} (unset)"),
        "the adbc_driver_snowflake package of python3".to_owned(),
    ];
    places.extend(
        known_venv_candidates()
            .iter()
            .map(|p| p.display().to_string()),
    );
    places.push(format!("lib{SYSTEM_NAME}.so on the system library path"));
    places
}

/// Asks `python3` where the package lives, without importing it (fast, no pyarrow import).
fn python_package_library() -> Option<PathBuf> {
    let script = "import importlib.util as u; s = u.find_spec('adbc_driver_snowflake'); \
                  print(s.submodule_search_locations[0] if s else '')";
    let output = Command::new("python3").args(["-c", script]).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    if dir.is_empty() {
        return None;
    }
    let path = Path::new(dir).join(LIBRARY_FILE);
    path.is_file().then_some(path)
}

/// The library inside the virtual environments this project creates (the emulator's).
fn known_venv_candidates() -> Vec<PathBuf> {
    let mut venvs = Vec::new();
    if let Some(venv) = std::env::var_os("SFEMU_VENV") {
        venvs.push(PathBuf::from(venv));
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        venvs.push(PathBuf::from(venv));
    }
    if let Some(home) = std::env::var_os("HOME") {
        venvs.push(Path::new(&home).join(".cache/sfemu-venv"));
    }
    venvs
        .iter()
        .flat_map(|venv| library_in_venv(venv))
        .collect()
}

/// `<venv>/lib/python3.*/site-packages/adbc_driver_snowflake/libadbc_driver_snowflake.so`.
pub fn library_in_venv(venv: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| {
            entry
                .path()
                .join("site-packages/adbc_driver_snowflake")
                .join(LIBRARY_FILE)
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_missing_path_is_an_error_with_the_install_hint() {
        let error = locate(Some(Path::new("/nonexistent/libadbc_driver_snowflake.so")))
            .expect_err("the file does not exist");
        let message = error.to_string();
        assert!(
            message.contains("/nonexistent/libadbc_driver_snowflake.so (no such file)"),
            "{message}"
        );
        assert!(
            message.contains("pip install adbc-driver-snowflake==1.11.0"),
            "{message}"
        );
    }

    #[test]
    fn an_explicit_existing_path_is_used_as_is() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let found = locate(Some(file.path())).expect("the file exists");
        assert_eq!(found, DriverLibrary::Path(file.path().to_path_buf()));
    }

    #[test]
    fn venv_layout_is_searched_per_python_version() {
        let venv = tempfile::tempdir().expect("temp dir");
        let package = venv
            .path()
            .join("lib/python3.11/site-packages/adbc_driver_snowflake");
        std::fs::create_dir_all(&package).expect("create package dir");
        assert_eq!(
            library_in_venv(venv.path()),
            vec![package.join(LIBRARY_FILE)]
        );
    }
}
