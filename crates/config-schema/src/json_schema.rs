//! The JSON Schemas we ship, so editors can check configuration files as they are written.
//! They are generated from the raw structs, the same schemas the loaders check against.

use std::fmt;
use std::str::FromStr;

/// Which file a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// The data-migration workflow JSON.
    Workflow,
    /// The data-validation workflow JSON.
    Validation,
    /// The worker TOML (as the JSON it maps to).
    Worker,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 3] = [
        SchemaKind::Workflow,
        SchemaKind::Validation,
        SchemaKind::Worker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SchemaKind::Workflow => "workflow",
            SchemaKind::Validation => "validation",
            SchemaKind::Worker => "worker",
        }
    }
}

impl fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemaKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemaKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown schema `{s}`: expected workflow, validation or worker"))
    }
}

/// The JSON Schema (draft-07) of one kind of file.
pub fn json_schema(kind: SchemaKind) -> serde_json::Value {
    match kind {
        SchemaKind::Workflow => crate::workflow::workflow_json_schema(),
        SchemaKind::Validation => crate::validation::validation_json_schema(),
        SchemaKind::Worker => crate::worker::worker_json_schema(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_has_a_title_and_forbids_unknown_top_level_keys() {
        for kind in SchemaKind::ALL {
            let schema = json_schema(kind);
            assert!(schema["title"].is_string(), "{kind}: {schema}");
            assert_eq!(schema["additionalProperties"], false, "{kind}");
            assert_eq!(kind.as_str().parse::<SchemaKind>(), Ok(kind));
        }
    }

    #[test]
    fn workflow_schema_snapshot() {
        insta::assert_json_snapshot!(json_schema(SchemaKind::Workflow));
    }
}
