//! The shared front half of every loader: parse text, check it against the shipped JSON Schema
//! (every unknown key, wrong type and bad enum value at once), then deserialize the raw struct.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::Problems;
use crate::schema_check::{check_document, paths_overlap, prune};

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
        message: toml_syntax_message(text, &error),
    })?;
    serde_json::to_value(table).map_err(|error| ConfigError::Syntax {
        what,
        format: "TOML",
        message: error.to_string(),
    })
}

/// Where a TOML syntax error is and what it is, without the offending line: the `toml` crate's
/// own message quotes that line, and in a worker configuration or a connection profile it can
/// hold a password, token or key passphrase.
pub(crate) fn toml_syntax_message(text: &str, error: &toml::de::Error) -> String {
    let reason = error.message().trim().replace('\n', "; ");
    match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{reason} at line {line}, column {column} (the line is not shown: it may hold a secret)")
        }
        None => reason,
    }
}

/// Removes the values serde quotes in its messages (between backticks), which could be a
/// secret written with the wrong type.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '`' {
            if !inside {
                out.push_str("`...`");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

/// Checks `value` against the schema of `T`, deserializes it and runs `validate`, returning
/// every problem of both stages at once. Values with structural problems (unknown key, wrong
/// type) are pruned before deserializing so the semantic checks still run on the rest; their
/// findings about the pruned values are dropped as duplicates.
pub(crate) fn check_and_validate<T: DeserializeOwned + JsonSchema, U>(
    what: &'static str,
    value: &Value,
    validate: impl FnOnce(T) -> Result<U, Problems>,
) -> Result<U, ConfigError> {
    let mut structural = Problems::default();
    let rejected = check_document(&schema_value::<T>(), value, &mut structural);
    let document = if structural.is_empty() {
        value.clone()
    } else {
        prune(value, &rejected)
    };
    let semantic = match serde_json::from_value::<T>(document) {
        Ok(raw) => match validate(raw) {
            Ok(valid) if structural.is_empty() => return Ok(valid),
            Ok(_) => Problems::default(),
            Err(problems) => problems,
        },
        Err(error) => {
            if structural.is_empty() {
                // The schema check should have caught it; keep serde's words as a fallback.
                structural.push(
                    "",
                    format!(
                        "does not fit the expected structure: {}",
                        without_quoted_values(&error.to_string())
                    ),
                );
            }
            Problems::default()
        }
    };
    let mut problems = structural.clone();
    for problem in semantic.0 {
        if !structural
            .iter()
            .any(|s| paths_overlap(&s.path, &problem.path))
        {
            problems.0.push(problem);
        }
    }
    Err(ConfigError::Invalid { what, problems })
}
