//! Checking a raw validation configuration: the platforms, the levels and every object,
//! collecting every problem with its JSON path, then applying the defaults of [`super::model`]
//! in the order the module docs of `validation` give.

use serde::{Deserialize, Deserializer};

use super::model::{
    default_target_platform, default_tolerance, ComparisonConfig, ValidationLevels,
    ValidationObject, ValidationWorkflowConfig,
};
use super::raw::{RawValidationConfig, RawValidationLevels, RawValidationObject};
use crate::platform::SourcePlatform;
use crate::problem::{child_index, child_key, Problems};
use crate::where_clause::{check_snowflake_where_clause, check_where_clause_on};

/// Applying the file's overrides belongs to validation, so the model does not depend on the raw
/// structs.
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

impl TryFrom<RawValidationConfig> for ValidationWorkflowConfig {
    type Error = Problems;

    fn try_from(raw: RawValidationConfig) -> Result<Self, Self::Error> {
        validate_validation_config(raw, None)
    }
}

/// A stored configuration reads back through [`RawValidationConfig`] and is checked again.
impl<'de> Deserialize<'de> for ValidationWorkflowConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawValidationConfig::deserialize(deserializer)?;
        ValidationWorkflowConfig::try_from(raw).map_err(serde::de::Error::custom)
    }
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
