//! Finding and loading a Snowflake connection profile the way Snowflake's own tools do.
//!
//! Folders searched: `$SNOWFLAKE_HOME` alone when it is set; otherwise `~/.snowflake`, then the
//! XDG config folder (`$XDG_CONFIG_HOME/snowflake`, else `~/.config/snowflake`). In each folder
//! `connections.toml` (top-level `[NAME]` tables) is read before `config.toml`
//! (`[connections.NAME]` and `default_connection_name`); the first file that defines a name
//! wins.
//!
//! The connection name is, in order: the one passed explicitly (`--connection-name`),
//! `SNOWFLAKE_CONNECTION_NAME`, the first `default_connection_name` found, then `default`.
//!
//! Everything except reading files is pure: the environment is a lookup closure, so tests use
//! temporary folders and never the real home directory.

use std::path::{Path, PathBuf};

use config_schema::connection_profile::{self, ConnectionProfile, ProfileFile, ProfileFileKind};

/// Environment variable naming the connection.
pub const ENV_CONNECTION_NAME: &str = "SNOWFLAKE_CONNECTION_NAME";
/// Environment variable naming the folder of connections.toml / config.toml.
pub const ENV_SNOWFLAKE_HOME: &str = "SNOWFLAKE_HOME";
/// The name used when nothing else names a connection.
pub const DEFAULT_CONNECTION_NAME: &str = "default";

/// A profile could not be found or used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no connections.toml or config.toml found in {}: create one with a [{name}] connection, or set SNOWFLAKE_HOME to the folder that holds it", list_paths(searched))]
    NoFiles {
        name: String,
        searched: Vec<PathBuf>,
    },
    #[error("connection `{name}` ({origin}) is not defined: known connections are {} (read {}); add [{name}] to connections.toml or choose another name", list_names(known), list_paths(files))]
    NotFound {
        name: String,
        origin: NameOrigin,
        known: Vec<String>,
        files: Vec<PathBuf>,
    },
    #[error("cannot read `{path}`: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: {source}")]
    Invalid {
        path: PathBuf,
        #[source]
        source: connection_profile::ProfileError,
    },
}

/// Where the connection name came from (shown in errors so the user knows what to change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    Explicit,
    Environment,
    DefaultConnectionName,
    BuiltInDefault,
}

impl std::fmt::Display for NameOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameOrigin::Explicit => "given on the command line",
            NameOrigin::Environment => "from SNOWFLAKE_CONNECTION_NAME",
            NameOrigin::DefaultConnectionName => "from default_connection_name",
            NameOrigin::BuiltInDefault => "the built-in default",
        })
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// A profile and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProfile {
    pub profile: ConnectionProfile,
    pub file: PathBuf,
    /// Unused keys in the profile or the file, worth logging at WARN.
    pub warnings: Vec<String>,
}

/// One profile file that exists, parsed.
#[derive(Debug, Clone)]
pub struct FoundFile {
    pub path: PathBuf,
    pub file: ProfileFile,
}

/// The folders to search, in order. `env` looks up environment variables.
pub fn search_dirs(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let non_empty = |key: &str| env(key).filter(|v| !v.trim().is_empty());
    let home = non_empty("HOME").map(PathBuf::from);
    let expand = |value: String| match (value.strip_prefix("~/"), &home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(value),
    };
    if let Some(snowflake_home) = non_empty(ENV_SNOWFLAKE_HOME) {
        return vec![expand(snowflake_home)];
    }
    let mut dirs = Vec::new();
    if let Some(home) = &home {
        dirs.push(home.join(".snowflake"));
    }
    match (non_empty("XDG_CONFIG_HOME"), &home) {
        (Some(xdg), _) => dirs.push(expand(xdg).join("snowflake")),
        (None, Some(home)) => dirs.push(home.join(".config").join("snowflake")),
        (None, None) => {}
    }
    dirs
}

/// The files to read, in order, with their layout.
pub fn candidate_files(dirs: &[PathBuf]) -> Vec<(PathBuf, ProfileFileKind)> {
    dirs.iter()
        .flat_map(|dir| {
            [
                (
                    dir.join("connections.toml"),
                    ProfileFileKind::ConnectionsToml,
                ),
                (dir.join("config.toml"), ProfileFileKind::ConfigToml),
            ]
        })
        .collect()
}

/// Chooses the connection name and its profile among `files` (already read, in search order).
pub fn resolve(
    explicit: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    files: &[FoundFile],
    searched: &[PathBuf],
) -> Result<LoadedProfile, ProfileError> {
    let (name, origin) = choose_name(explicit, env, files);
    if files.is_empty() {
        return Err(ProfileError::NoFiles {
            name,
            searched: searched.to_vec(),
        });
    }
    let Some(found) = files.iter().find(|f| f.file.contains(&name)) else {
        let mut known: Vec<String> = files
            .iter()
            .flat_map(|f| f.file.names().map(str::to_string))
            .collect();
        known.sort();
        known.dedup();
        return Err(ProfileError::NotFound {
            name,
            origin,
            known,
            files: files.iter().map(|f| f.path.clone()).collect(),
        });
    };
    let profile = found
        .file
        .profile(&name)
        .expect("the file was chosen because it defines the name")
        .map_err(|source| ProfileError::Invalid {
            path: found.path.clone(),
            source,
        })?;
    let mut warnings: Vec<String> = found
        .file
        .warnings
        .iter()
        .map(|w| format!("{}: {w}", found.path.display()))
        .collect();
    warnings.extend(
        profile
            .warnings
            .iter()
            .map(|w| format!("{}: {w}", found.path.display())),
    );
    Ok(LoadedProfile {
        profile,
        file: found.path.clone(),
        warnings,
    })
}

fn choose_name(
    explicit: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    files: &[FoundFile],
) -> (String, NameOrigin) {
    if let Some(name) = explicit.filter(|n| !n.trim().is_empty()) {
        return (name.to_string(), NameOrigin::Explicit);
    }
    if let Some(name) = env(ENV_CONNECTION_NAME).filter(|n| !n.trim().is_empty()) {
        return (name, NameOrigin::Environment);
    }
    if let Some(name) = files
        .iter()
        .find_map(|f| f.file.default_connection_name.clone())
    {
        return (name, NameOrigin::DefaultConnectionName);
    }
    (
        DEFAULT_CONNECTION_NAME.to_string(),
        NameOrigin::BuiltInDefault,
    )
}

/// Reads every candidate file that exists. `read` returns `Ok(None)` for a missing file.
pub fn read_files(
    dirs: &[PathBuf],
    read: &dyn Fn(&Path) -> std::io::Result<Option<String>>,
) -> Result<Vec<FoundFile>, ProfileError> {
    let mut found = Vec::new();
    for (path, kind) in candidate_files(dirs) {
        let text = read(&path).map_err(|source| ProfileError::Unreadable {
            path: path.clone(),
            source,
        })?;
        let Some(text) = text else { continue };
        let file = ProfileFile::parse(kind, &text).map_err(|source| ProfileError::Invalid {
            path: path.clone(),
            source,
        })?;
        found.push(FoundFile { path, file });
    }
    Ok(found)
}

/// Loads a profile with an explicit environment and file reader (for tests and embedding).
pub fn load_profile_with(
    explicit: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    read: &dyn Fn(&Path) -> std::io::Result<Option<String>>,
) -> Result<LoadedProfile, ProfileError> {
    let dirs = search_dirs(env);
    let files = read_files(&dirs, read)?;
    resolve(
        explicit,
        env,
        &files,
        &candidate_files(&dirs)
            .into_iter()
            .map(|(p, _)| p)
            .collect::<Vec<_>>(),
    )
}

/// Loads a profile from the real environment and file system.
pub fn load_profile(explicit: Option<&str>) -> Result<LoadedProfile, ProfileError> {
    load_profile_with(explicit, &|key| std::env::var(key).ok(), &read_if_exists)
}

fn read_if_exists(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixture {
        dir: tempfile::TempDir,
        env: HashMap<String, String>,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut env = HashMap::new();
            env.insert(
                "HOME".to_string(),
                dir.path().join("home").display().to_string(),
            );
            Fixture { dir, env }
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.dir.path().join(relative);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
            path
        }

        fn set(&mut self, key: &str, value: String) {
            self.env.insert(key.to_string(), value);
        }

        fn load(&self, explicit: Option<&str>) -> Result<LoadedProfile, ProfileError> {
            let env = |key: &str| self.env.get(key).cloned();
            load_profile_with(explicit, &env, &read_if_exists)
        }
    }

    fn profile(account: &str) -> String {
        format!("account = \"{account}\"\nuser = \"u\"\npassword = \"p\"\n")
    }

    #[test]
    fn search_order_without_snowflake_home() {
        let env = |key: &str| match key {
            "HOME" => Some("/h".to_string()),
            _ => None,
        };
        assert_eq!(
            search_dirs(&env),
            [
                PathBuf::from("/h/.snowflake"),
                PathBuf::from("/h/.config/snowflake")
            ]
        );
        let xdg = |key: &str| match key {
            "HOME" => Some("/h".to_string()),
            "XDG_CONFIG_HOME" => Some("/x".to_string()),
            _ => None,
        };
        assert_eq!(
            search_dirs(&xdg),
            [
                PathBuf::from("/h/.snowflake"),
                PathBuf::from("/x/snowflake")
            ]
        );
        let home = |key: &str| match key {
            "HOME" => Some("/h".to_string()),
            "SNOWFLAKE_HOME" => Some("~/sf".to_string()),
            _ => None,
        };
        assert_eq!(search_dirs(&home), [PathBuf::from("/h/sf")]);
    }

    #[test]
    fn explicit_name_from_connections_toml_in_snowflake_home() {
        let mut fx = Fixture::new();
        let path = fx.write(
            "sf/connections.toml",
            &format!(
                "[emulator]\n{}port = 8091\nprotocol = \"http\"\n",
                profile("fakesnow")
            ),
        );
        fx.set(
            "SNOWFLAKE_HOME",
            fx.dir.path().join("sf").display().to_string(),
        );
        let loaded = fx.load(Some("emulator")).expect("found");
        assert_eq!(loaded.profile.account, "fakesnow");
        assert_eq!(loaded.profile.port, Some(8091));
        assert_eq!(loaded.file, path);
    }

    #[test]
    fn name_precedence_explicit_env_default_then_builtin() {
        let mut fx = Fixture::new();
        fx.write(
            "home/.snowflake/config.toml",
            &format!(
                "default_connection_name = \"b\"\n[connections.a]\n{}[connections.b]\n{}[connections.c]\n{}[connections.default]\n{}",
                profile("A"),
                profile("B"),
                profile("C"),
                profile("D")
            ),
        );
        assert_eq!(
            fx.load(None).expect("b").profile.account,
            "B",
            "default_connection_name"
        );
        fx.set(ENV_CONNECTION_NAME, "c".to_string());
        assert_eq!(
            fx.load(None).expect("c").profile.account,
            "C",
            "environment beats the file"
        );
        assert_eq!(
            fx.load(Some("a")).expect("a").profile.account,
            "A",
            "explicit beats everything"
        );

        let fx = Fixture::new();
        fx.write(
            "home/.snowflake/connections.toml",
            &format!("[default]\n{}", profile("D")),
        );
        assert_eq!(
            fx.load(None).expect("default").profile.account,
            "D",
            "built-in default"
        );
    }

    #[test]
    fn connections_toml_wins_over_config_toml_and_xdg_is_searched() {
        let mut fx = Fixture::new();
        fx.write(
            "home/.snowflake/connections.toml",
            &format!("[x]\n{}", profile("FROM_CONNECTIONS")),
        );
        fx.write(
            "home/.snowflake/config.toml",
            &format!("[connections.x]\n{}", profile("FROM_CONFIG")),
        );
        fx.write(
            "xdg/snowflake/connections.toml",
            &format!("[y]\n{}", profile("FROM_XDG")),
        );
        fx.set(
            "XDG_CONFIG_HOME",
            fx.dir.path().join("xdg").display().to_string(),
        );
        assert_eq!(
            fx.load(Some("x")).expect("x").profile.account,
            "FROM_CONNECTIONS"
        );
        assert_eq!(fx.load(Some("y")).expect("y").profile.account, "FROM_XDG");
    }

    #[test]
    fn unknown_name_lists_names_and_files() {
        let fx = Fixture::new();
        let a = fx.write(
            "home/.snowflake/connections.toml",
            &format!("[alpha]\n{}", profile("A")),
        );
        let b = fx.write(
            "home/.config/snowflake/config.toml",
            &format!("[connections.beta]\n{}", profile("B")),
        );
        let message = fx.load(Some("gamma")).unwrap_err().to_string();
        assert!(
            message.contains("connection `gamma` (given on the command line) is not defined"),
            "{message}"
        );
        assert!(
            message.contains("known connections are alpha, beta"),
            "{message}"
        );
        assert!(
            message.contains(&a.display().to_string())
                && message.contains(&b.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn no_files_says_where_it_looked() {
        let fx = Fixture::new();
        let message = fx.load(None).unwrap_err().to_string();
        assert!(
            message.starts_with("no connections.toml or config.toml found in"),
            "{message}"
        );
        assert!(message.contains(".snowflake/connections.toml"), "{message}");
        assert!(message.contains("[default]"), "{message}");
    }

    #[test]
    fn broken_files_name_the_file() {
        let fx = Fixture::new();
        let path = fx.write("home/.snowflake/connections.toml", "[broken\n");
        let message = fx.load(None).unwrap_err().to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("not valid TOML"),
            "{message}"
        );

        let fx = Fixture::new();
        fx.write("home/.snowflake/connections.toml", "[bad]\nuser = \"u\"\n");
        let message = format!("{:#}", fx.load(Some("bad")).unwrap_err());
        assert!(message.contains("connections.toml"), "{message}");
    }

    #[test]
    fn warnings_carry_the_file() {
        let fx = Fixture::new();
        fx.write(
            "home/.snowflake/connections.toml",
            &format!("[w]\n{}pasword = \"x\"\n", profile("A")),
        );
        let loaded = fx.load(Some("w")).expect("found");
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("did you mean `password`?"),
            "{:?}",
            loaded.warnings
        );
    }
}
