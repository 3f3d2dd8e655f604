//! Secrets in configuration files.
//!
//! Every secret field `x` of the worker TOML may be written three ways: `x = "value"` (as the
//! product page shows), `x_env = "VAR"` (read from an environment variable) or
//! `x_file = "/path"` (read from a file, trailing newline removed). This crate only records
//! which form was used; [`SecretSource::resolve`] does the lookup with closures the caller
//! provides, so the crate stays free of I/O and tests need no environment.
//!
//! Neither [`Secret`] nor [`SecretSource`] ever prints a secret value: `Debug` and `Display`
//! show `***`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::problem::Problems;

/// A secret value. Printing it shows `***`; use [`Secret::expose`] where the value is needed.
/// In files it is a plain string.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl schemars::JsonSchema for Secret {
    fn is_referenceable() -> bool {
        false
    }

    fn schema_name() -> String {
        "Secret".to_string()
    }

    /// A string marked `writeOnly`: editors may treat it as a password, and the structural
    /// checker never quotes its value in a message.
    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = String::json_schema(gen).into_object();
        schema.metadata().write_only = true;
        schemars::schema::Schema::Object(schema)
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call this only where the value is handed to a driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from, as written in the configuration file.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the file itself (`password = "..."`).
    Inline(Secret),
    /// Named environment variable (`password_env = "SOURCE_PASSWORD"`).
    Env(String),
    /// File holding the secret (`password_file = "/run/secrets/source_password"`).
    File(PathBuf),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("Inline(***)"),
            SecretSource::Env(name) => write!(f, "Env({name})"),
            SecretSource::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable `{variable}` named by `{key}_env` is not set: export it or use `{key}_file`")]
    EnvMissing { key: String, variable: String },
    #[error("cannot read `{path}` named by `{key}_file`: {source}")]
    FileUnreadable {
        key: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret `{key}` is empty: put the value in the environment variable or file it names")]
    Empty { key: String },
}

impl SecretSource {
    /// Builds the source from the three optional fields `key`, `key_env` and `key_file` of one
    /// table. Giving more than one is a problem recorded at `path.key`. Returns `None` when none
    /// is given.
    pub fn from_fields(
        path: &str,
        key: &str,
        inline: Option<&Secret>,
        env: Option<&str>,
        file: Option<&Path>,
        problems: &mut Problems,
    ) -> Option<SecretSource> {
        let given = [inline.is_some(), env.is_some(), file.is_some()]
            .iter()
            .filter(|g| **g)
            .count();
        if given > 1 {
            problems.push(
                crate::problem::child_key(path, key),
                format!(
                    "is given more than once: use only one of `{key}`, `{key}_env`, `{key}_file`"
                ),
            );
            return None;
        }
        if let Some(name) = env {
            if name.trim().is_empty() {
                problems.push(
                    crate::problem::child_key(path, &format!("{key}_env")),
                    "must name an environment variable",
                );
                return None;
            }
            return Some(SecretSource::Env(name.to_string()));
        }
        if let Some(file) = file {
            return Some(SecretSource::File(file.to_path_buf()));
        }
        inline.map(|value| SecretSource::Inline(value.clone()))
    }

    /// Reads the secret. `env` looks up an environment variable; `read_file` reads a file. A
    /// trailing newline in a file is removed (editors and `echo` add one).
    pub fn resolve(
        &self,
        key: &str,
        env: impl Fn(&str) -> Option<String>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Secret, SecretError> {
        let value = match self {
            SecretSource::Inline(secret) => return Ok(secret.clone()),
            SecretSource::Env(variable) => {
                env(variable).ok_or_else(|| SecretError::EnvMissing {
                    key: key.to_string(),
                    variable: variable.clone(),
                })?
            }
            SecretSource::File(path) => {
                let text = read_file(path).map_err(|source| SecretError::FileUnreadable {
                    key: key.to_string(),
                    path: path.clone(),
                    source,
                })?;
                text.trim_end_matches(['\r', '\n']).to_string()
            }
        };
        if value.is_empty() {
            return Err(SecretError::Empty {
                key: key.to_string(),
            });
        }
        Ok(Secret::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn no_file(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ))
    }

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "*** ***");
        let source = SecretSource::Inline(secret);
        assert_eq!(format!("{source:?} {source}"), "Inline(***) ***");
    }

    #[test]
    fn resolves_each_form() {
        let inline = SecretSource::Inline(Secret::new("a"));
        assert_eq!(
            inline
                .resolve("password", no_env, no_file)
                .unwrap()
                .expose(),
            "a"
        );

        let env = SecretSource::Env("PW".into());
        let lookup = |name: &str| (name == "PW").then(|| "from-env".to_string());
        assert_eq!(
            env.resolve("password", lookup, no_file).unwrap().expose(),
            "from-env"
        );
        let missing = env
            .resolve("password", no_env, no_file)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("`PW`") && missing.contains("password_env"),
            "{missing}"
        );

        let file = SecretSource::File("/s".into());
        let read = |_: &Path| Ok("from-file\n".to_string());
        assert_eq!(
            file.resolve("password", no_env, read).unwrap().expose(),
            "from-file"
        );
        let unreadable = file
            .resolve("password", no_env, no_file)
            .unwrap_err()
            .to_string();
        assert!(
            unreadable.contains("/s") && unreadable.contains("password_file"),
            "{unreadable}"
        );

        let empty = |_: &Path| Ok("\n".to_string());
        assert!(matches!(
            file.resolve("password", no_env, empty),
            Err(SecretError::Empty { .. })
        ));
    }

    #[test]
    fn rejects_two_forms_at_once() {
        let mut problems = Problems::default();
        let source = SecretSource::from_fields(
            "connections.source.sqlserver",
            "password",
            Some(&Secret::new("x")),
            Some("PW"),
            None,
            &mut problems,
        );
        assert!(source.is_none());
        assert_eq!(
            problems.to_string(),
            "  - connections.source.sqlserver.password is given more than once: use only one of `password`, `password_env`, `password_file`"
        );
    }
}
