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

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{check_and_validate, parse_json, schema_value, ConfigError};
use crate::problem::{child_index, child_key, Problems};
use crate::where_clause::{check_snowflake_where_clause, check_where_clause_on};
use crate::SourcePlatform;

const WHAT: &str = "the validation configuration";

// ---------------------------------------------------------------------------------------------
// Raw structs.
// ---------------------------------------------------------------------------------------------

/// A data-validation workflow configuration.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Data-validation workflow configuration")]
pub struct RawValidationConfig {
    /// Source dialect, e.g. "SqlServer", "Redshift" (case-insensitive). Must match
    /// --source-platform.
    pub source_platform: String,
    /// Default "Snowflake" (the only target).
    pub target_platform: Option<String>,
    /// Default target database for objects that do not name one.
    pub target_database: Option<String>,
    /// Global validation levels and options.
    pub validation_configuration: Option<RawValidationLevels>,
    /// Numeric tolerance and optional type mapping file.
    pub comparison_configuration: Option<RawComparison>,
    /// Source database name -> Snowflake database name.
    pub database_mappings: Option<BTreeMap<String, String>>,
    /// Source schema name -> Snowflake schema name.
    pub schema_mappings: Option<BTreeMap<String, String>>,
    /// Tables (or views) to validate; at least one.
    #[schemars(length(min = 1))]
    pub tables: Vec<RawValidationObject>,
    /// Additional views, same shape as tables.
    pub views: Option<Vec<RawValidationObject>>,
    /// Affinity group, as for data-migration workflows.
    pub affinity: Option<String>,
    /// Use Snowflake-side computation where supported. Default false.
    pub use_snowflake_compute: Option<bool>,
}

/// `validation_configuration` (global or per object).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawValidationLevels {
    /// Level 1: schema / column consistency. Default true.
    pub schema_validation: Option<bool>,
    /// Level 2: statistical metrics comparison. Default true.
    pub metrics_validation: Option<bool>,
    /// Level 3: row- or cell-level comparison. Default false.
    pub row_validation: Option<bool>,
    /// "row" (default) or "cell".
    pub row_validation_mode: Option<RowValidationMode>,
    /// Go on to the next level after a failure. Default false.
    pub continue_on_failure: Option<bool>,
    /// Cap on failed rows reported by row validation (> 0). Default 100.
    #[schemars(range(min = 1))]
    pub max_failed_rows_number: Option<u64>,
    /// Exclude unsupported metric columns. Default false.
    pub exclude_metrics: Option<bool>,
    /// Apply metric column modifiers. Default true.
    pub apply_metric_column_modifier: Option<bool>,
}

/// Granularity of row validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RowValidationMode {
    Row,
    Cell,
}

/// `comparison_configuration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawComparison {
    /// Numeric tolerance for metrics (> 0). Default 0.001.
    pub tolerance: Option<f64>,
    /// Path of a custom type mapping file for comparisons.
    pub type_mapping_file_path: Option<String>,
}

/// One entry of `tables` or `views`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawValidationObject {
    /// Source object name (format depends on the source platform, e.g. "db.schema.table").
    pub fully_qualified_name: String,
    /// Treat column_selection_list as columns to exclude. Default false.
    pub use_column_selection_as_exclude_list: Option<bool>,
    /// Columns to include (or exclude).
    pub column_selection_list: Option<Vec<String>>,
    /// Target object name override.
    pub target_name: Option<String>,
    /// Target database override.
    pub target_database: Option<String>,
    /// Target schema override.
    pub target_schema: Option<String>,
    /// Filter on the source side.
    pub where_clause: Option<String>,
    /// Filter on the target side.
    pub target_where_clause: Option<String>,
    /// Columns aligning rows on the source.
    pub index_column_list: Option<Vec<String>>,
    /// Columns aligning rows on the target.
    pub target_index_column_list: Option<Vec<String>>,
    /// Source column -> target column.
    pub column_mappings: Option<BTreeMap<String, String>>,
    /// Case sensitivity of identifiers. Default false.
    pub is_case_sensitive: Option<bool>,
    /// Chunking hint (> 0).
    #[schemars(range(min = 1))]
    pub chunk_number: Option<u64>,
    /// Overrides the global cap for this object (> 0).
    #[schemars(range(min = 1))]
    pub max_failed_rows_number: Option<u64>,
    /// Per-object metrics exclusion override.
    pub exclude_metrics: Option<bool>,
    /// Per-object modifier override.
    pub apply_metric_column_modifier: Option<bool>,
    /// "TABLE" or "VIEW". Default TABLE in `tables`, VIEW in `views`.
    pub object_type: Option<String>,
    /// Partition column for chunked validation.
    pub partition_column: Option<String>,
    /// Overrides of the global validation_configuration for this object only.
    pub validation_configuration: Option<RawValidationLevels>,
}

// ---------------------------------------------------------------------------------------------
// Validated types (serialize back to the same snake_case shape, defaults written out).
// ---------------------------------------------------------------------------------------------

pub fn default_schema_validation() -> bool {
    true
}
pub fn default_metrics_validation() -> bool {
    true
}
pub fn default_row_validation() -> bool {
    false
}
pub fn default_row_validation_mode() -> RowValidationMode {
    RowValidationMode::Row
}
pub fn default_continue_on_failure() -> bool {
    false
}
pub fn default_max_failed_rows_number() -> u64 {
    100
}
pub fn default_exclude_metrics() -> bool {
    false
}
pub fn default_apply_metric_column_modifier() -> bool {
    true
}
pub fn default_tolerance() -> f64 {
    0.001
}
pub fn default_target_platform() -> String {
    "Snowflake".to_string()
}

/// Validation levels and options with every default applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValidationLevels {
    pub schema_validation: bool,
    pub metrics_validation: bool,
    pub row_validation: bool,
    pub row_validation_mode: RowValidationMode,
    pub continue_on_failure: bool,
    pub max_failed_rows_number: u64,
    pub exclude_metrics: bool,
    pub apply_metric_column_modifier: bool,
}

impl Default for ValidationLevels {
    fn default() -> Self {
        ValidationLevels {
            schema_validation: default_schema_validation(),
            metrics_validation: default_metrics_validation(),
            row_validation: default_row_validation(),
            row_validation_mode: default_row_validation_mode(),
            continue_on_failure: default_continue_on_failure(),
            max_failed_rows_number: default_max_failed_rows_number(),
            exclude_metrics: default_exclude_metrics(),
            apply_metric_column_modifier: default_apply_metric_column_modifier(),
        }
    }
}

impl ValidationLevels {
    /// These levels with every field `raw` sets overriding.
    pub fn overridden_by(self, raw: &RawValidationLevels) -> ValidationLevels {
        ValidationLevels {
            schema_validation: raw.schema_validation.unwrap_or(self.schema_validation),
            metrics_validation: raw.metrics_validation.unwrap_or(self.metrics_validation),
            row_validation: raw.row_validation.unwrap_or(self.row_validation),
            row_validation_mode: raw.row_validation_mode.unwrap_or(self.row_validation_mode),
            continue_on_failure: raw.continue_on_failure.unwrap_or(self.continue_on_failure),
            max_failed_rows_number: raw
                .max_failed_rows_number
                .unwrap_or(self.max_failed_rows_number),
            exclude_metrics: raw.exclude_metrics.unwrap_or(self.exclude_metrics),
            apply_metric_column_modifier: raw
                .apply_metric_column_modifier
                .unwrap_or(self.apply_metric_column_modifier),
        }
    }
}

/// `comparison_configuration` with defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonConfig {
    pub tolerance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_mapping_file_path: Option<String>,
}

/// A checked validation workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawValidationConfig")]
pub struct ValidationWorkflowConfig {
    pub source_platform: SourcePlatform,
    pub target_platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    /// The global levels (defaults plus the file's `validation_configuration`).
    pub validation_configuration: ValidationLevels,
    pub comparison_configuration: ComparisonConfig,
    pub database_mappings: BTreeMap<String, String>,
    pub schema_mappings: BTreeMap<String, String>,
    pub tables: Vec<ValidationObject>,
    pub views: Vec<ValidationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
    pub use_snowflake_compute: bool,
}

/// One table or view with its effective settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationObject {
    pub fully_qualified_name: String,
    pub use_column_selection_as_exclude_list: bool,
    pub column_selection_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// The object's target database, else the file's `target_database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub where_clause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_where_clause: Option<String>,
    pub index_column_list: Vec<String>,
    pub target_index_column_list: Vec<String>,
    pub column_mappings: BTreeMap<String, String>,
    pub is_case_sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_number: Option<u64>,
    pub object_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_column: Option<String>,
    /// Effective levels for this object.
    pub validation_configuration: ValidationLevels,
}

impl TryFrom<RawValidationConfig> for ValidationWorkflowConfig {
    type Error = Problems;

    fn try_from(raw: RawValidationConfig) -> Result<Self, Self::Error> {
        validate_validation_config(raw, None)
    }
}

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

/// Checks a raw validation configuration and applies every default.
pub fn validate_validation_config(
    raw: RawValidationConfig,
    cli_platform: Option<SourcePlatform>,
) -> Result<ValidationWorkflowConfig, Problems> {
    let mut problems = Problems::default();
    let source_platform = match raw.source_platform.parse::<SourcePlatform>() {
        Ok(platform) => {
            if let Some(flag) = cli_platform.filter(|flag| *flag != platform) {
                problems.push(
                    "source_platform",
                    format!(
                        "is `{}` but --source-platform is {flag}: make them name the same platform",
                        raw.source_platform
                    ),
                );
            }
            Some(platform)
        }
        Err(_) => {
            problems.push(
                "source_platform",
                format!(
                    "`{}` is not supported: use one of sqlserver, redshift, postgresql, teradata, sqlite (any case)",
                    raw.source_platform
                ),
            );
            None
        }
    };
    let target_platform = raw.target_platform.unwrap_or_else(default_target_platform);
    if !target_platform.eq_ignore_ascii_case("snowflake") {
        problems.push(
            "target_platform",
            format!("`{target_platform}` is not supported: the target is always Snowflake"),
        );
    }
    let global_raw = raw.validation_configuration.unwrap_or_default();
    check_levels("validation_configuration", &global_raw, &mut problems);
    let global = ValidationLevels::default().overridden_by(&global_raw);
    let comparison = raw.comparison_configuration.unwrap_or_default();
    let tolerance = comparison.tolerance.unwrap_or_else(default_tolerance);
    if !(tolerance > 0.0 && tolerance.is_finite()) {
        problems.push(
            "comparison_configuration.tolerance",
            format!("must be greater than 0, found {tolerance}"),
        );
    }
    if raw.affinity.as_deref().is_some_and(|a| a.trim().is_empty()) {
        problems.push(
            "affinity",
            "must not be empty: remove it to let every worker take the workflow",
        );
    }
    if raw.tables.is_empty() {
        problems.push("tables", "must contain at least one table");
    }
    let target_database = raw.target_database;
    let resolve = |kind: &str,
                   default_type: &str,
                   objects: &[RawValidationObject],
                   problems: &mut Problems| {
        objects
            .iter()
            .enumerate()
            .map(|(index, object)| {
                let path = child_index(kind, index);
                validate_object(
                    &path,
                    object,
                    global,
                    default_type,
                    target_database.as_deref(),
                    source_platform,
                    problems,
                )
            })
            .collect::<Vec<_>>()
    };
    let tables = resolve("tables", "TABLE", &raw.tables, &mut problems);
    let views = resolve(
        "views",
        "VIEW",
        raw.views.as_deref().unwrap_or_default(),
        &mut problems,
    );
    let Some(source_platform) = source_platform else {
        return Err(problems);
    };
    problems.into_result(ValidationWorkflowConfig {
        source_platform,
        target_platform,
        target_database,
        validation_configuration: global,
        comparison_configuration: ComparisonConfig {
            tolerance,
            type_mapping_file_path: comparison.type_mapping_file_path,
        },
        database_mappings: raw.database_mappings.unwrap_or_default(),
        schema_mappings: raw.schema_mappings.unwrap_or_default(),
        tables,
        views,
        affinity: raw.affinity,
        use_snowflake_compute: raw.use_snowflake_compute.unwrap_or(false),
    })
}

fn check_levels(path: &str, raw: &RawValidationLevels, problems: &mut Problems) {
    if raw.max_failed_rows_number == Some(0) {
        problems.push(
            child_key(path, "max_failed_rows_number"),
            "must be greater than 0",
        );
    }
}

fn validate_object(
    path: &str,
    raw: &RawValidationObject,
    global: ValidationLevels,
    default_type: &str,
    file_target_database: Option<&str>,
    source_platform: Option<SourcePlatform>,
    problems: &mut Problems,
) -> ValidationObject {
    // The same check as a migration's whereClauseCriteria: the filters reach the source and
    // Snowflake as SQL text.
    if let Some(filter) = &raw.where_clause {
        if let Err(error) = check_where_clause_on(source_platform, filter) {
            problems.push(child_key(path, "where_clause"), error.reason());
        }
    }
    if let Some(filter) = &raw.target_where_clause {
        if let Err(error) = check_snowflake_where_clause(filter) {
            problems.push(child_key(path, "target_where_clause"), error.reason());
        }
    }
    if raw.fully_qualified_name.trim().is_empty() {
        problems.push(
            child_key(path, "fully_qualified_name"),
            "must not be empty: name the source object, e.g. \"db.schema.table\"",
        );
    }
    if raw.chunk_number == Some(0) {
        problems.push(child_key(path, "chunk_number"), "must be greater than 0");
    }
    if raw.max_failed_rows_number == Some(0) {
        problems.push(
            child_key(path, "max_failed_rows_number"),
            "must be greater than 0",
        );
    }
    let object_type = raw
        .object_type
        .clone()
        .unwrap_or_else(|| default_type.to_string())
        .to_ascii_uppercase();
    if object_type != "TABLE" && object_type != "VIEW" {
        problems.push(
            child_key(path, "object_type"),
            format!("`{object_type}` is not supported: use TABLE or VIEW"),
        );
    }
    let nested = raw.validation_configuration.clone().unwrap_or_default();
    check_levels(
        &child_key(path, "validation_configuration"),
        &nested,
        problems,
    );
    let direct = RawValidationLevels {
        max_failed_rows_number: raw.max_failed_rows_number,
        exclude_metrics: raw.exclude_metrics,
        apply_metric_column_modifier: raw.apply_metric_column_modifier,
        ..RawValidationLevels::default()
    };
    ValidationObject {
        fully_qualified_name: raw.fully_qualified_name.clone(),
        use_column_selection_as_exclude_list: raw
            .use_column_selection_as_exclude_list
            .unwrap_or(false),
        column_selection_list: raw.column_selection_list.clone().unwrap_or_default(),
        target_name: raw.target_name.clone(),
        target_database: raw
            .target_database
            .clone()
            .or_else(|| file_target_database.map(str::to_string)),
        target_schema: raw.target_schema.clone(),
        where_clause: raw.where_clause.clone(),
        target_where_clause: raw.target_where_clause.clone(),
        index_column_list: raw.index_column_list.clone().unwrap_or_default(),
        target_index_column_list: raw.target_index_column_list.clone().unwrap_or_default(),
        column_mappings: raw.column_mappings.clone().unwrap_or_default(),
        is_case_sensitive: raw.is_case_sensitive.unwrap_or(false),
        chunk_number: raw.chunk_number,
        object_type,
        partition_column: raw.partition_column.clone(),
        validation_configuration: global.overridden_by(&nested).overridden_by(&direct),
    }
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
