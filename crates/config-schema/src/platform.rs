//! The source platforms a workflow can read from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A source system the worker can extract from. `sqlite` is the embedded demo source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourcePlatform {
    Sqlserver,
    Redshift,
    Postgresql,
    Teradata,
    Sqlite,
}

impl SourcePlatform {
    /// Every platform, in the order the CLI lists them.
    pub const ALL: [SourcePlatform; 5] = [
        SourcePlatform::Sqlserver,
        SourcePlatform::Redshift,
        SourcePlatform::Postgresql,
        SourcePlatform::Teradata,
        SourcePlatform::Sqlite,
    ];

    /// The lowercase name used on the command line, in TOML sections and in metadata rows.
    pub fn as_str(self) -> &'static str {
        match self {
            SourcePlatform::Sqlserver => "sqlserver",
            SourcePlatform::Redshift => "redshift",
            SourcePlatform::Postgresql => "postgresql",
            SourcePlatform::Teradata => "teradata",
            SourcePlatform::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for SourcePlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parsing is case-insensitive, so `SqlServer` in a validation file matches `sqlserver` on the
/// command line.
impl FromStr for SourcePlatform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        SourcePlatform::ALL
            .into_iter()
            .find(|p| p.as_str() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown source platform `{s}`: expected one of sqlserver, redshift, postgresql, teradata, sqlite"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        assert_eq!(
            "SqlServer".parse::<SourcePlatform>(),
            Ok(SourcePlatform::Sqlserver)
        );
        assert_eq!(
            "postgresql".parse::<SourcePlatform>(),
            Ok(SourcePlatform::Postgresql)
        );
        assert!("oracle"
            .parse::<SourcePlatform>()
            .unwrap_err()
            .contains("oracle"));
    }
}
