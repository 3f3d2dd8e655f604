//! Where the metadata objects live: the database and the two schemas named by the
//! `CUSTOM_SNOWFLAKE_*` environment variables (read by `config-schema`), as they appear in SQL.
//!
//! A leaf module: the metadata deployment, the queue and the SQL templates all need the names,
//! so they live below all three.

use config_schema::identifier::is_plain_identifier;
use config_schema::metadata_names::{
    ENV_DATABASE, ENV_DATA_MIGRATION_SCHEMA, ENV_DATA_VALIDATION_SCHEMA,
};

pub use config_schema::metadata_names::MetadataNames;

/// A metadata name that cannot be placed into SQL text without quoting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{setting}` is `{value}`, which is not a plain Snowflake identifier; use letters, digits, `_` and `$`, starting with a letter or `_`")]
pub struct InvalidMetadataName {
    pub setting: &'static str,
    pub value: String,
}

/// How the metadata names appear in SQL text. Names are unquoted Snowflake identifiers, so they
/// resolve case-insensitively (rendered upper case) exactly as the Python tools resolve them.
pub trait MetadataNamesSql {
    /// Checks that every name is a plain identifier (letters, digits, `_`, `$`, not starting
    /// with a digit or `$`), so it can be placed into SQL text without quoting.
    fn validate(&self) -> Result<(), InvalidMetadataName>;
    /// The database as it appears in SQL text.
    fn database_sql(&self) -> String;
    /// The migration schema name alone, upper case (as INFORMATION_SCHEMA reports it).
    fn migration_schema_name(&self) -> String;
    /// The validation schema name alone, upper case.
    fn validation_schema_name(&self) -> String;
    /// `DATABASE.MIGRATION_SCHEMA`.
    fn migration_schema_sql(&self) -> String;
    /// `DATABASE.VALIDATION_SCHEMA`.
    fn validation_schema_sql(&self) -> String;
}

impl MetadataNamesSql for MetadataNames {
    fn validate(&self) -> Result<(), InvalidMetadataName> {
        for (setting, value) in [
            (ENV_DATABASE, &self.database),
            (ENV_DATA_MIGRATION_SCHEMA, &self.data_migration_schema),
            (ENV_DATA_VALIDATION_SCHEMA, &self.data_validation_schema),
        ] {
            if !is_plain_identifier(value) {
                return Err(InvalidMetadataName {
                    setting,
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }

    fn database_sql(&self) -> String {
        self.database.to_ascii_uppercase()
    }

    fn migration_schema_name(&self) -> String {
        self.data_migration_schema.to_ascii_uppercase()
    }

    fn validation_schema_name(&self) -> String {
        self.data_validation_schema.to_ascii_uppercase()
    }

    fn migration_schema_sql(&self) -> String {
        format!("{}.{}", self.database_sql(), self.migration_schema_name())
    }

    fn validation_schema_sql(&self) -> String {
        format!("{}.{}", self.database_sql(), self.validation_schema_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_product_page() {
        let names = MetadataNames::default();
        assert_eq!(
            names.migration_schema_sql(),
            "SNOWCONVERT_AI.DATA_MIGRATION"
        );
        assert_eq!(
            names.validation_schema_sql(),
            "SNOWCONVERT_AI.DATA_VALIDATION"
        );
        assert!(names.validate().is_ok());
    }

    #[test]
    fn names_that_would_need_quoting_are_refused() {
        for bad in ["", "1DB", "my-db", "a.b", "x y", "\"Q\"", "$X"] {
            let names = MetadataNames {
                database: bad.to_owned(),
                ..MetadataNames::default()
            };
            let error = names.validate().expect_err(bad).to_string();
            assert!(
                error.contains("CUSTOM_SNOWFLAKE_DATABASE_FOR_METADATA"),
                "{error}"
            );
        }
        let names = MetadataNames {
            database: "t_1$a".to_owned(),
            ..MetadataNames::default()
        };
        assert!(names.validate().is_ok());
        assert_eq!(names.database_sql(), "T_1$A");
    }

    #[test]
    fn invalid_name_message() {
        let names = MetadataNames {
            data_validation_schema: "dv-1".to_owned(),
            ..MetadataNames::default()
        };
        insta::assert_snapshot!(names.validate().expect_err("invalid").to_string());
    }
}
