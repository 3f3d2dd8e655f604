//! Where the orchestrator deploys its metadata objects, from the `CUSTOM_*` environment
//! variables. Workers that call the task-queue procedures must use the same names.

/// Default metadata database.
pub const DEFAULT_METADATA_DATABASE: &str = "SNOWCONVERT_AI";
/// Default schema of workflows, the task queue and migration metadata.
pub const DEFAULT_DATA_MIGRATION_SCHEMA: &str = "DATA_MIGRATION";
/// Default schema of data-validation results.
pub const DEFAULT_DATA_VALIDATION_SCHEMA: &str = "DATA_VALIDATION";

/// Overrides [`DEFAULT_METADATA_DATABASE`].
pub const ENV_DATABASE: &str = "CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA";
/// Overrides [`DEFAULT_DATA_MIGRATION_SCHEMA`].
pub const ENV_DATA_MIGRATION_SCHEMA: &str = "CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_MIGRATION_METADATA";
/// Overrides [`DEFAULT_DATA_VALIDATION_SCHEMA`].
pub const ENV_DATA_VALIDATION_SCHEMA: &str = "CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_VALIDATION_METADATA";

/// The database and schemas of the metadata objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataNames {
    pub database: String,
    pub data_migration_schema: String,
    pub data_validation_schema: String,
}

impl Default for MetadataNames {
    fn default() -> Self {
        MetadataNames {
            database: DEFAULT_METADATA_DATABASE.to_string(),
            data_migration_schema: DEFAULT_DATA_MIGRATION_SCHEMA.to_string(),
            data_validation_schema: DEFAULT_DATA_VALIDATION_SCHEMA.to_string(),
        }
    }
}

impl MetadataNames {
    /// Reads the `CUSTOM_*` variables through `lookup` (pass `|k| std::env::var(k).ok()`).
    /// Unset or blank variables keep the default.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |key: &str, default: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        MetadataNames {
            database: read(ENV_DATABASE, DEFAULT_METADATA_DATABASE),
            data_migration_schema: read(ENV_DATA_MIGRATION_SCHEMA, DEFAULT_DATA_MIGRATION_SCHEMA),
            data_validation_schema: read(
                ENV_DATA_VALIDATION_SCHEMA,
                DEFAULT_DATA_VALIDATION_SCHEMA,
            ),
        }
    }

    /// `DATABASE.DATA_MIGRATION_SCHEMA`.
    pub fn data_migration_qualified(&self) -> String {
        format!("{}.{}", self.database, self.data_migration_schema)
    }

    /// `DATABASE.DATA_VALIDATION_SCHEMA`.
    pub fn data_validation_qualified(&self) -> String {
        format!("{}.{}", self.database, self.data_validation_schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_unset_or_blank() {
        let names = MetadataNames::from_env(|k| (k == ENV_DATABASE).then(|| "  ".to_string()));
        assert_eq!(names, MetadataNames::default());
        assert_eq!(
            names.data_migration_qualified(),
            "SNOWCONVERT_AI.DATA_MIGRATION"
        );
        assert_eq!(
            names.data_validation_qualified(),
            "SNOWCONVERT_AI.DATA_VALIDATION"
        );
    }

    #[test]
    fn reads_each_variable() {
        let names = MetadataNames::from_env(|k| match k {
            "CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA" => Some("META".into()),
            "CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_MIGRATION_METADATA" => Some("DM".into()),
            "CUSTOM_SNOWFLAKE_SCHEMA_FOR_DATA_VALIDATION_METADATA" => Some("DV".into()),
            _ => None,
        });
        assert_eq!(
            names,
            MetadataNames {
                database: "META".into(),
                data_migration_schema: "DM".into(),
                data_validation_schema: "DV".into(),
            }
        );
    }
}
