//! The shared front half of every loader: parse text, check it against the shipped JSON Schema
//! (every unknown key, wrong type and bad enum value at once), then deserialize the raw struct.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::Problems;
use crate::schema_check::check_document;

/// A configuration file that could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not JSON / TOML at all.
    #[error("{what} is not valid {format}: {message}")]
    Syntax {
        what: &'static str,
        format: &'static str,
        message: String,
    },
    /// The document parsed but breaks rules; every problem is listed.
    #[error("{what} has {count} problem(s):\n{problems}", count = problems.len())]
    Invalid {
        what: &'static str,
        problems: Problems,
    },
}

impl ConfigError {
    /// The individual problems, when the document parsed.
    pub fn problems(&self) -> Option<&Problems> {
        match self {
            ConfigError::Invalid { problems, .. } => Some(problems),
            ConfigError::Syntax { .. } => None,
        }
    }
}

/// The JSON Schema of `T` as a JSON value.
pub(crate) fn schema_value<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a JSON Schema always serializes")
}

/// Parses JSON text into a value.
pub(crate) fn parse_json(what: &'static str, text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|error| ConfigError::Syntax {
        what,
        format: "JSON",
        message: error.to_string(),
    })
}

/// Parses TOML text into a JSON value (so one checker serves both formats).
pub(crate) fn parse_toml(what: &'static str, text: &str) -> Result<Value, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|error| ConfigError::Syntax {
        what,
        format: "TOML",
        message: error.to_string().trim_end().to_string(),
    })?;
    serde_json::to_value(table).map_err(|error| ConfigError::Syntax {
        what,
        format: "TOML",
        message: error.to_string(),
    })
}

/// Checks `value` against the schema of `T` and deserializes it. Returns `None` (with the
/// problems recorded) when the document does not fit.
pub(crate) fn check_and_deserialize<T: DeserializeOwned + JsonSchema>(
    value: &Value,
    problems: &mut Problems,
) -> Option<T> {
    let before = problems.len();
    check_document(&schema_value::<T>(), value, problems);
    if problems.len() > before {
        return None;
    }
    match serde_json::from_value(value.clone()) {
        Ok(raw) => Some(raw),
        Err(error) => {
            // The schema check should have caught it; keep serde's words as a fallback.
            problems.push("", format!("does not fit the expected structure: {error}"));
            None
        }
    }
}
