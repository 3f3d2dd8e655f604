//! The data-validation workflow JSON (snake_case).
//!
//! Defaults, when `validation_configuration` or `comparison_configuration` (or any field of
//! them) is omitted: schema and metrics validation on, row validation off, row_validation_mode
//! `row`, continue_on_failure false, max_failed_rows_number 100, exclude_metrics false,
//! apply_metric_column_modifier true, tolerance 0.001.
//!
//! Each table or view gets its effective settings in this order, later wins: the defaults, the
//! global `validation_configuration`, the object's own `validation_configuration`, then the
//! object's direct `max_failed_rows_number` / `exclude_metrics` / `apply_metric_column_modifier`.
//!
//! `raw` mirrors the file, `validate` checks it and builds the `model` types. Dependencies
//! point one way: `choices` (the enums the file and the model share) depends on nothing; `raw`
//! and `model` on it; `validate` on `raw` and `model`; this module on all of them.

pub mod choices;
pub mod model;
pub mod raw;
pub mod validate;

pub use model::{
    default_apply_metric_column_modifier, default_continue_on_failure, default_exclude_metrics,
    default_max_failed_rows_number, default_metrics_validation, default_row_validation,
    default_row_validation_mode, default_schema_validation, default_target_platform,
    default_tolerance, ComparisonConfig, ValidationLevels, ValidationObject,
    ValidationWorkflowConfig,
};
pub use raw::{
    RawComparison, RawValidationConfig, RawValidationLevels, RawValidationObject, RowValidationMode,
};
pub use validate::validate_validation_config;

use crate::document::{check_and_validate, parse_json, schema_value, ConfigError};
use crate::platform::SourcePlatform;

const WHAT: &str = "the validation configuration";

/// Parses and validates validation JSON text. `cli_platform` is the `--source-platform` flag;
/// when given, the file's `source_platform` must name the same platform.
pub fn parse_validation_config(
    text: &str,
    cli_platform: Option<SourcePlatform>,
) -> Result<ValidationWorkflowConfig, ConfigError> {
    let value = parse_json(WHAT, text)?;
    parse_validation_value(&value, cli_platform)
}

/// Validates an already parsed validation document.
pub fn parse_validation_value(
    value: &serde_json::Value,
    cli_platform: Option<SourcePlatform>,
) -> Result<ValidationWorkflowConfig, ConfigError> {
    check_and_validate::<RawValidationConfig, _>(WHAT, value, |raw| {
        validate_validation_config(raw, cli_platform)
    })
}

/// The JSON Schema of the validation JSON.
pub fn validation_json_schema() -> serde_json::Value {
    schema_value::<RawValidationConfig>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ValidationWorkflowConfig {
        parse_validation_config(text, None).unwrap_or_else(|e| panic!("{e}"))
    }

    fn problems(text: &str, flag: Option<SourcePlatform>) -> String {
        parse_validation_config(text, flag).unwrap_err().to_string()
    }

    const MINIMAL: &str = r#"{"source_platform": "SqlServer", "tables": [{"fully_qualified_name": "db.dbo.orders"}]}"#;

    #[test]
    fn applies_documented_defaults_when_sections_are_omitted() {
        let config = parse(MINIMAL);
        assert_eq!(config.source_platform, SourcePlatform::Sqlserver);
        assert_eq!(config.target_platform, "Snowflake");
        assert_eq!(
            config.validation_configuration,
            ValidationLevels {
                schema_validation: true,
                metrics_validation: true,
                row_validation: false,
                row_validation_mode: RowValidationMode::Row,
                continue_on_failure: false,
                max_failed_rows_number: 100,
                exclude_metrics: false,
                apply_metric_column_modifier: true,
            }
        );
        assert_eq!(config.comparison_configuration.tolerance, 0.001);
        assert_eq!(config.comparison_configuration.type_mapping_file_path, None);
        assert!(!config.use_snowflake_compute);
        assert!(config.views.is_empty() && config.database_mappings.is_empty());
        let table = &config.tables[0];
        assert_eq!(table.object_type, "TABLE");
        assert!(!table.use_column_selection_as_exclude_list && !table.is_case_sensitive);
        assert_eq!(
            table.validation_configuration,
            config.validation_configuration
        );
    }

    #[test]
    fn reads_every_property() {
        let config = parse(
            r#"{
            "source_platform": "redshift", "target_platform": "snowflake", "target_database": "TGT",
            "validation_configuration": {"schema_validation": false, "metrics_validation": false, "row_validation": true,
                "row_validation_mode": "cell", "continue_on_failure": true, "max_failed_rows_number": 5,
                "exclude_metrics": true, "apply_metric_column_modifier": false},
            "comparison_configuration": {"tolerance": 0.5, "type_mapping_file_path": "types.yaml"},
            "database_mappings": {"src": "TGT"}, "schema_mappings": {"public": "PUBLIC"},
            "tables": [{
                "fully_qualified_name": "src.public.t", "use_column_selection_as_exclude_list": true,
                "column_selection_list": ["secret"], "target_name": "T2", "target_database": "OTHER",
                "target_schema": "S2", "where_clause": "id > 0", "target_where_clause": "ID > 0",
                "index_column_list": ["id"], "target_index_column_list": ["ID"],
                "column_mappings": {"id": "ID"}, "is_case_sensitive": true, "chunk_number": 4,
                "max_failed_rows_number": 7, "exclude_metrics": false, "apply_metric_column_modifier": true,
                "object_type": "table", "partition_column": "id",
                "validation_configuration": {"row_validation_mode": "row", "max_failed_rows_number": 9}
            }],
            "views": [{"fully_qualified_name": "src.public.v"}],
            "affinity": "eu", "use_snowflake_compute": true
        }"#,
        );
        assert_eq!(config.source_platform, SourcePlatform::Redshift);
        assert_eq!(config.target_database.as_deref(), Some("TGT"));
        assert_eq!(config.comparison_configuration.tolerance, 0.5);
        assert_eq!(
            config
                .comparison_configuration
                .type_mapping_file_path
                .as_deref(),
            Some("types.yaml")
        );
        assert_eq!(config.database_mappings["src"], "TGT");
        assert_eq!(config.schema_mappings["public"], "PUBLIC");
        assert_eq!(config.affinity.as_deref(), Some("eu"));
        assert!(config.use_snowflake_compute);
        let global = config.validation_configuration;
        assert!(!global.schema_validation && !global.metrics_validation && global.row_validation);
        assert_eq!(
            (global.row_validation_mode, global.max_failed_rows_number),
            (RowValidationMode::Cell, 5)
        );
        assert!(
            global.continue_on_failure
                && global.exclude_metrics
                && !global.apply_metric_column_modifier
        );

        let table = &config.tables[0];
        assert_eq!(table.target_database.as_deref(), Some("OTHER"));
        assert_eq!(table.target_name.as_deref(), Some("T2"));
        assert_eq!(table.target_schema.as_deref(), Some("S2"));
        assert_eq!(table.column_selection_list, ["secret"]);
        assert!(table.use_column_selection_as_exclude_list && table.is_case_sensitive);
        assert_eq!(table.where_clause.as_deref(), Some("id > 0"));
        assert_eq!(table.target_where_clause.as_deref(), Some("ID > 0"));
        assert_eq!(
            (
                table.index_column_list.as_slice(),
                table.target_index_column_list.as_slice()
            ),
            (&["id".to_string()][..], &["ID".to_string()][..])
        );
        assert_eq!(table.column_mappings["id"], "ID");
        assert_eq!(table.chunk_number, Some(4));
        assert_eq!(table.object_type, "TABLE");
        assert_eq!(table.partition_column.as_deref(), Some("id"));
        let levels = table.validation_configuration;
        assert_eq!(
            levels.row_validation_mode,
            RowValidationMode::Row,
            "nested override"
        );
        assert_eq!(
            levels.max_failed_rows_number, 7,
            "direct field beats nested"
        );
        assert!(
            !levels.exclude_metrics && levels.apply_metric_column_modifier,
            "direct overrides"
        );
        assert!(
            levels.row_validation && levels.continue_on_failure,
            "inherited from global"
        );

        let view = &config.views[0];
        assert_eq!(view.object_type, "VIEW");
        assert_eq!(
            view.target_database.as_deref(),
            Some("TGT"),
            "file-level target database"
        );
        assert_eq!(view.validation_configuration, global);
    }

    #[test]
    fn source_platform_must_match_the_flag_case_insensitively() {
        assert!(parse_validation_config(MINIMAL, Some(SourcePlatform::Sqlserver)).is_ok());
        let message = problems(MINIMAL, Some(SourcePlatform::Postgresql));
        assert!(
            message.contains("source_platform is `SqlServer` but --source-platform is postgresql"),
            "{message}"
        );
    }

    #[test]
    fn rejects_bad_values_with_paths() {
        let message = problems(
            r#"{"source_platform": "oracle", "target_platform": "bigquery",
                "validation_configuration": {"max_failed_rows_number": 0},
                "comparison_configuration": {"tolerance": 0},
                "tables": [{"fully_qualified_name": "", "chunk_number": 0, "object_type": "proc",
                            "validation_configuration": {"row_validation_mode": "cell"}}]}"#,
            None,
        );
        for expected in [
            "validation_configuration.max_failed_rows_number must be at least 1, found 0",
            "tables[0].chunk_number must be at least 1, found 0",
        ] {
            assert!(
                message.contains(expected),
                "missing {expected:?} in {message}"
            );
        }
        let message = problems(
            r#"{"source_platform": "oracle", "target_platform": "bigquery",
                "comparison_configuration": {"tolerance": 0},
                "tables": [{"fully_qualified_name": " ", "object_type": "proc"}]}"#,
            None,
        );
        for expected in [
            "source_platform `oracle` is not supported",
            "target_platform `bigquery` is not supported",
            "comparison_configuration.tolerance must be greater than 0, found 0",
            "tables[0].fully_qualified_name must not be empty",
            "tables[0].object_type `PROC` is not supported",
        ] {
            assert!(
                message.contains(expected),
                "missing {expected:?} in {message}"
            );
        }
    }

    #[test]
    fn filters_get_the_where_clause_check_of_their_side() {
        let message = problems(
            r#"{"source_platform": "sqlserver", "tables": [{"fully_qualified_name": "d.s.t",
                "where_clause": "[a'] = 1) ; DROP TABLE t ; SELECT 1 WHERE (1=1 OR [b'] = 1",
                "target_where_clause": "A = 1; DROP TABLE T"}]}"#,
            None,
        );
        assert!(
            message.contains("tables[0].where_clause has unbalanced parentheses"),
            "{message}"
        );
        assert!(
            message
                .contains("tables[0].target_where_clause must be a single expression: remove `;`"),
            "{message}"
        );
        let ok = parse(
            r#"{"source_platform": "sqlserver", "tables": [{"fully_qualified_name": "d.s.t",
                "where_clause": "[Order Date] > '2024-01-01'", "target_where_clause": "\"Order Date\" > '2024-01-01'"}]}"#,
        );
        assert_eq!(ok.tables.len(), 1);
    }

    #[test]
    fn unknown_keys_and_types_name_the_path() {
        let message = problems(
            r#"{"source_platform": "postgresql", "validation_configuration": {"row_validaton": true},
                "tables": [{"fully_qualified_name": "a.b", "column_mapings": {}, "chunk_number": "4"}],
                "comparison_configuration": {"tolerance": "small"}}"#,
            None,
        );
        for expected in [
            "validation_configuration.row_validaton is not a known key: did you mean `row_validation`?",
            "tables[0].column_mapings is not a known key: did you mean `column_mappings`?",
            "tables[0].chunk_number must be an integer, found a string \"4\"",
            "comparison_configuration.tolerance must be a number, found a string \"small\"",
        ] {
            assert!(message.contains(expected), "missing {expected:?} in {message}");
        }
        let message = problems(r#"{"source_platform": "postgresql", "tables": []}"#, None);
        assert!(
            message.contains("tables must contain at least 1 item(s)"),
            "{message}"
        );
        let message = problems(r#"{"tables": [{"fully_qualified_name": "x"}]}"#, None);
        assert!(message.contains("source_platform is required"), "{message}");
        let message = problems(r#"{"source_platform": "postgresql", "tables": [{}]}"#, None);
        assert!(
            message.contains("tables[0].fully_qualified_name is required"),
            "{message}"
        );
    }

    #[test]
    fn resolved_configuration_round_trips() {
        let config = parse(MINIMAL);
        let stored = serde_json::to_string(&config).expect("serializes");
        let back: ValidationWorkflowConfig =
            serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}\n{stored}"));
        assert_eq!(back, config);
    }
}
