//! Checking a raw workflow: merge the defaults into each table, then check every table is
//! complete and consistent, collecting every problem with its JSON path.

use std::collections::HashSet;

use super::merge::merge_table;
use super::model::{
    default_iceberg_catalog, default_schema_version, Extraction, IcebergConfig, PartitionSize,
    SourceTable, Synchronization, TableConfig, TargetTable, WorkflowConfig,
};
use super::raw::{
    ExtractionKind, IcebergMigrationStrategy, PartitionSizeKeyword, RawIcebergConfig,
    RawPartitionSize, RawTableConfig, RawWorkflowConfig, SynchronizationKind, TableType,
};
use crate::problem::{child_index, child_key, Problems};
use crate::SourcePlatform;

/// The schema major version this build reads.
pub const SUPPORTED_SCHEMA_MAJOR: u64 = 1;

/// Validates a raw workflow. `platform` enables the checks that depend on the source platform
/// (unload is Redshift-only); `None` skips them.
pub fn validate_workflow(
    raw: RawWorkflowConfig,
    platform: Option<SourcePlatform>,
) -> Result<WorkflowConfig, Problems> {
    let mut problems = Problems::default();
    let schema_version = match raw.schema_version {
        Some(version) => {
            check_schema_version(&version, &mut problems);
            version
        }
        None => default_schema_version(),
    };
    if let Some(affinity) = &raw.affinity {
        if affinity.trim().is_empty() {
            problems.push(
                "affinity",
                "must not be empty: remove it to let every worker take the workflow",
            );
        }
    }
    if raw.tables.is_empty() {
        problems.push("tables", "must contain at least one table");
    }
    let default = raw.default_table_configuration.unwrap_or_default();
    let mut tables = Vec::with_capacity(raw.tables.len());
    for (index, table) in raw.tables.iter().enumerate() {
        let merged = merge_table(&default, table);
        let path = child_index("tables", index);
        if let Some(table) = validate_table(&path, &merged, platform, &mut problems) {
            tables.push(table);
        }
    }
    check_distinct_targets(&tables, &mut problems);
    problems.into_result(WorkflowConfig {
        schema_version,
        tables,
        affinity: raw.affinity,
    })
}

/// `"1"`, `"1.0"` or `"1.0.0"`, with a major version this build reads.
fn check_schema_version(version: &str, problems: &mut Problems) {
    let parts: Vec<&str> = version.split('.').collect();
    let well_formed = (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        problems.push(
            "schemaVersion",
            format!("`{version}` is not a version: use \"major\", \"major.minor\" or \"major.minor.patch\", e.g. \"1.0.0\""),
        );
        return;
    }
    match parts[0].parse::<u64>() {
        Ok(SUPPORTED_SCHEMA_MAJOR) => {}
        _ => problems.push(
            "schemaVersion",
            format!("`{version}` is not supported: this version reads schema version {SUPPORTED_SCHEMA_MAJOR}.x"),
        ),
    }
}

/// Two entries loading the same target table would overwrite each other's partitions.
fn check_distinct_targets(tables: &[TableConfig], problems: &mut Problems) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        let key = format!(
            "{}.{}.{}",
            table.target.database_name, table.target.schema_name, table.target.table_name
        );
        if let Some((_, first)) = seen.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            problems.push(
                child_key(&child_index("tables", index), "target"),
                format!(
                    "names the same table as tables[{first}] ({key}): each table may appear once"
                ),
            );
        } else {
            seen.push((key, index));
        }
    }
}

/// Checks one merged table at `path` (`tables[3]`, or empty for a stored table). Returns the
/// table when it is complete; problems go to `problems` either way.
pub(crate) fn validate_table(
    path: &str,
    raw: &RawTableConfig,
    platform: Option<SourcePlatform>,
    problems: &mut Problems,
) -> Option<TableConfig> {
    let label = raw
        .source
        .as_ref()
        .and_then(|s| s.table_name.as_deref())
        .map(|name| format!(" (table {name})"))
        .unwrap_or_default();
    let ctx = TableContext {
        path,
        label: &label,
    };

    let source = validate_source(&ctx, raw, problems);
    let target = validate_target(&ctx, raw, problems);
    let partition_columns = match &raw.column_names_to_partition_by {
        None => {
            ctx.missing(problems, "columnNamesToPartitionBy", "");
            None
        }
        Some(columns) => {
            let columns_path = child_key(path, "columnNamesToPartitionBy");
            if columns.is_empty() {
                problems.push(
                    &columns_path,
                    format!("must name at least one column{label}"),
                );
            }
            check_column_list(&columns_path, columns, problems);
            Some(columns.clone())
        }
    };
    let primary_key_columns = raw.primary_key_columns.clone().unwrap_or_default();
    check_column_list(
        &child_key(path, "primaryKeyColumns"),
        &primary_key_columns,
        problems,
    );
    let extraction = validate_extraction(path, raw, platform, problems);
    let synchronization = validate_synchronization(path, raw, &primary_key_columns, problems);
    let partition_size = validate_partition_size(path, raw, problems);
    let column_type_mappings = raw.column_type_mappings.clone().unwrap_or_default();
    check_type_mappings(path, &column_type_mappings, problems);
    let column_name_mappings = raw.column_name_mappings.clone().unwrap_or_default();
    check_name_mappings(path, &column_name_mappings, problems);
    if let Some(criteria) = &raw.where_clause_criteria {
        if let Err(message) = check_single_expression(criteria) {
            problems.push(child_key(path, "whereClauseCriteria"), message);
        }
    }
    Some(TableConfig {
        source: source?,
        target: target?,
        column_names_to_partition_by: partition_columns?,
        extraction: extraction?,
        synchronization: synchronization?,
        column_type_mappings,
        column_name_mappings,
        primary_key_columns,
        partition_size: partition_size?,
        where_clause_criteria: raw.where_clause_criteria.clone(),
    })
}

fn validate_source(
    ctx: &TableContext,
    raw: &RawTableConfig,
    problems: &mut Problems,
) -> Option<SourceTable> {
    let Some(source) = &raw.source else {
        ctx.missing(problems, "source", "source");
        return None;
    };
    let path = child_key(ctx.path, "source");
    // Check all three before giving up, so every missing name is reported.
    let database_name = ctx.identifier(
        problems,
        &path,
        "databaseName",
        source.database_name.as_deref(),
        "source",
    );
    let schema_name = ctx.identifier(
        problems,
        &path,
        "schemaName",
        source.schema_name.as_deref(),
        "source",
    );
    let table_name = ctx.identifier(
        problems,
        &path,
        "tableName",
        source.table_name.as_deref(),
        "source",
    );
    Some(SourceTable {
        database_name: database_name?,
        schema_name: schema_name?,
        table_name: table_name?,
    })
}

struct TableContext<'a> {
    path: &'a str,
    label: &'a str,
}

impl TableContext<'_> {
    /// Records that `key` (relative to the table) is missing after merging.
    fn missing(&self, problems: &mut Problems, key: &str, default_section: &str) {
        let default_path = if default_section.is_empty() {
            format!(
                "defaultTableConfiguration.{}",
                key.rsplit('.').next().unwrap_or(key)
            )
        } else {
            format!("defaultTableConfiguration.{default_section}")
        };
        problems.push(
            child_key(self.path, key),
            format!(
                "is required{}: set it on the table or in {default_path}",
                self.label
            ),
        );
    }

    /// A required identifier: present, non-empty and properly quoted.
    fn identifier(
        &self,
        problems: &mut Problems,
        parent: &str,
        key: &str,
        value: Option<&str>,
        default_section: &str,
    ) -> Option<String> {
        let path = child_key(parent, key);
        match value {
            None => {
                problems.push(
                    &path,
                    format!(
                        "is required{}: set it on the table or in defaultTableConfiguration.{default_section}",
                        self.label
                    ),
                );
                None
            }
            Some(name) => match check_identifier(name) {
                Ok(()) => Some(name.to_string()),
                Err(message) => {
                    problems.push(&path, message);
                    None
                }
            },
        }
    }
}

/// An identifier is non-empty; a quoted one (`"..."` or `[...]`) is closed, and a `"` inside
/// double quotes is doubled. Quotes and case are kept exactly as written.
pub fn check_identifier(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    if let Some(rest) = name.strip_prefix('"') {
        let Some(inner) = rest.strip_suffix('"') else {
            return Err(format!(
                "`{name}` opens a quoted identifier but does not close it: end it with `\"`"
            ));
        };
        if inner.is_empty() || inner.replace("\"\"", "").contains('"') {
            return Err(format!(
                "`{name}` is not a valid quoted identifier: double any `\"` inside the quotes"
            ));
        }
    } else if name.starts_with('[') && !name.ends_with(']') {
        return Err(format!(
            "`{name}` opens a bracketed identifier but does not close it: end it with `]`"
        ));
    }
    Ok(())
}

fn validate_target(
    ctx: &TableContext,
    raw: &RawTableConfig,
    problems: &mut Problems,
) -> Option<TargetTable> {
    let Some(target) = &raw.target else {
        ctx.missing(problems, "target", "target");
        return None;
    };
    let path = child_key(ctx.path, "target");
    let database_name = ctx.identifier(
        problems,
        &path,
        "databaseName",
        target.database_name.as_deref(),
        "target",
    );
    let schema_name = ctx.identifier(
        problems,
        &path,
        "schemaName",
        target.schema_name.as_deref(),
        "target",
    );
    let table_name = ctx.identifier(
        problems,
        &path,
        "tableName",
        target.table_name.as_deref(),
        "target",
    );
    let table_type = target.table_type.unwrap_or_default();
    let iceberg_config = match table_type {
        TableType::Native => None,
        TableType::Iceberg => match &target.iceberg_config {
            None => {
                problems.push(
                    child_key(&path, "icebergConfig"),
                    format!("is required when tableType is \"iceberg\"{}", ctx.label),
                );
                return None;
            }
            Some(raw) => Some(validate_iceberg(
                &child_key(&path, "icebergConfig"),
                raw,
                problems,
            )?),
        },
    };
    Some(TargetTable {
        database_name: database_name?,
        schema_name: schema_name?,
        table_name: table_name?,
        table_type,
        iceberg_config,
        existing_rows: target.existing_rows.unwrap_or_default(),
    })
}

fn validate_iceberg(
    path: &str,
    raw: &RawIcebergConfig,
    problems: &mut Problems,
) -> Option<IcebergConfig> {
    let before = problems.len();
    let catalog = raw.catalog.clone().unwrap_or_else(default_iceberg_catalog);
    let managed = catalog.eq_ignore_ascii_case("SNOWFLAKE");
    let strategy = raw.migration_strategy.unwrap_or(if managed {
        IcebergMigrationStrategy::CopyFiles
    } else {
        IcebergMigrationStrategy::CatalogLink
    });
    if managed && raw.external_volume.is_none() {
        problems.push(
            child_key(path, "externalVolume"),
            "is required when catalog is SNOWFLAKE: name the external volume for the table's data",
        );
    }
    if !managed && raw.catalog_table_name.is_none() {
        problems.push(
            child_key(path, "catalogTableName"),
            format!("is required when catalog is an external catalog (`{catalog}`): give the table's name in that catalog, e.g. \"glue_db.my_table\""),
        );
    }
    match strategy {
        IcebergMigrationStrategy::CopyFiles if !managed => problems.push(
            child_key(path, "migrationStrategy"),
            "\"copy_files\" needs catalog SNOWFLAKE: use \"catalog_link\" or \"convert_to_managed\" with an external catalog",
        ),
        IcebergMigrationStrategy::CatalogLink | IcebergMigrationStrategy::ConvertToManaged if managed => {
            problems.push(
                child_key(path, "migrationStrategy"),
                "needs an external catalog: set catalog to a catalog integration name, or use \"copy_files\"",
            )
        }
        _ => {}
    }
    if let Some(stage) = &raw.source_data_stage {
        if !stage.starts_with('@') {
            problems.push(
                child_key(path, "sourceDataStage"),
                format!("`{stage}` must start with `@`, e.g. \"@DB.SCHEMA.STAGE/path\""),
            );
        }
        // An external-catalog table may inherit sourceDataStage from the defaults (the product
        // page's own Iceberg example does); it is simply not used there.
    }
    for (key, value) in [
        ("catalog", raw.catalog.as_deref()),
        ("externalVolume", raw.external_volume.as_deref()),
        ("catalogTableName", raw.catalog_table_name.as_deref()),
        ("catalogSync", raw.catalog_sync.as_deref()),
    ] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            problems.push(child_key(path, key), "must not be empty");
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(IcebergConfig {
        catalog,
        external_volume: raw.external_volume.clone(),
        base_location_prefix: raw.base_location_prefix.clone(),
        catalog_table_name: raw.catalog_table_name.clone(),
        catalog_sync: raw.catalog_sync.clone(),
        source_data_stage: raw.source_data_stage.clone(),
        migration_strategy: strategy,
    })
}

fn validate_extraction(
    table_path: &str,
    raw: &RawTableConfig,
    platform: Option<SourcePlatform>,
    problems: &mut Problems,
) -> Option<Extraction> {
    let Some(extraction) = &raw.extraction else {
        return Some(Extraction::Regular);
    };
    let path = child_key(table_path, "extraction");
    let Some(strategy) = extraction.strategy else {
        problems.push(
            child_key(&path, "strategy"),
            "is required: use \"regular\" or \"unload\"",
        );
        return None;
    };
    match strategy {
        ExtractionKind::Regular => {
            if extraction.external_stage.is_some() {
                problems.push(
                    child_key(&path, "externalStage"),
                    "is only used when strategy is \"unload\": remove it or set strategy to \"unload\"",
                );
                return None;
            }
            Some(Extraction::Regular)
        }
        ExtractionKind::Unload => {
            let mut ok = true;
            if let Some(platform) = platform.filter(|p| *p != SourcePlatform::Redshift) {
                problems.push(
                    child_key(&path, "strategy"),
                    format!("\"unload\" is only available for redshift sources, not {platform}: use \"regular\""),
                );
                ok = false;
            }
            let stage = match extraction.external_stage.as_deref() {
                None => {
                    problems.push(
                        child_key(&path, "externalStage"),
                        "is required when strategy is \"unload\": name the Snowflake external stage over the S3 bucket, e.g. \"MY_DB.MY_SCHEMA.S3_STAGE\"",
                    );
                    None
                }
                Some(stage) if stage.trim().is_empty() => {
                    problems.push(child_key(&path, "externalStage"), "must not be empty");
                    None
                }
                Some(stage) => Some(stage.to_string()),
            };
            let external_stage = stage?;
            ok.then_some(Extraction::Unload { external_stage })
        }
    }
}

fn validate_synchronization(
    table_path: &str,
    raw: &RawTableConfig,
    primary_key_columns: &[String],
    problems: &mut Problems,
) -> Option<Synchronization> {
    let Some(sync) = &raw.synchronization else {
        return Some(Synchronization::None);
    };
    let path = child_key(table_path, "synchronization");
    let Some(strategy) = sync.strategy else {
        problems.push(
            child_key(&path, "strategy"),
            "is required: use \"none\", \"checksum\" or \"watermark\"",
        );
        return None;
    };
    let only_for_watermark = |key: &str, given: bool, problems: &mut Problems| {
        if given {
            problems.push(
                child_key(&path, key),
                "is only used when strategy is \"watermark\": remove it or set strategy to \"watermark\"",
            );
        }
        !given
    };
    match strategy {
        SynchronizationKind::None | SynchronizationKind::Checksum => {
            let a =
                only_for_watermark("watermarkColumn", sync.watermark_column.is_some(), problems);
            let b = only_for_watermark(
                "trackModifications",
                sync.track_modifications.is_some(),
                problems,
            );
            (a && b).then_some(if strategy == SynchronizationKind::None {
                Synchronization::None
            } else {
                Synchronization::Checksum
            })
        }
        SynchronizationKind::Watermark => {
            let track_modifications = sync.track_modifications.unwrap_or(false);
            if track_modifications && primary_key_columns.is_empty() {
                problems.push(
                    child_key(&path, "trackModifications"),
                    format!(
                        "requires {}: list the primary key columns used to merge modified rows",
                        child_key(table_path, "primaryKeyColumns")
                    ),
                );
            }
            let watermark_column = match sync.watermark_column.as_deref() {
                None => {
                    problems.push(
                        child_key(&path, "watermarkColumn"),
                        "is required when strategy is \"watermark\": name a column that increases on every insert and update",
                    );
                    None
                }
                Some(column) => match check_identifier(column) {
                    Ok(()) => Some(column.to_string()),
                    Err(message) => {
                        problems.push(child_key(&path, "watermarkColumn"), message);
                        None
                    }
                },
            }?;
            (!track_modifications || !primary_key_columns.is_empty()).then_some(
                Synchronization::Watermark {
                    watermark_column,
                    track_modifications,
                },
            )
        }
    }
}

fn validate_partition_size(
    table_path: &str,
    raw: &RawTableConfig,
    problems: &mut Problems,
) -> Option<PartitionSize> {
    let path = child_key(table_path, "partitionSize");
    match &raw.partition_size {
        None | Some(RawPartitionSize::Keyword(PartitionSizeKeyword::Auto)) => {
            Some(PartitionSize::Auto)
        }
        Some(RawPartitionSize::Sized(sized)) => {
            let positive = |key: &str, n: u64, problems: &mut Problems| {
                if n == 0 {
                    problems.push(child_key(&path, key), "must be greater than 0");
                }
                n > 0
            };
            match (sized.target_size_mb, sized.max_rows_per_partition) {
                (Some(_), Some(_)) => {
                    problems.push(
                        &path,
                        "must set only one of targetSizeMb and maxRowsPerPartition: remove one",
                    );
                    None
                }
                (None, None) => {
                    problems.push(
                        &path,
                        "must set targetSizeMb or maxRowsPerPartition, or be \"auto\"",
                    );
                    None
                }
                (Some(mb), None) => positive("targetSizeMb", mb, problems)
                    .then_some(PartitionSize::TargetSizeMb(mb)),
                (None, Some(rows)) => positive("maxRowsPerPartition", rows, problems)
                    .then_some(PartitionSize::MaxRowsPerPartition(rows)),
            }
        }
    }
}

fn check_column_list(path: &str, columns: &[String], problems: &mut Problems) {
    let mut seen = HashSet::new();
    for (index, column) in columns.iter().enumerate() {
        if let Err(message) = check_identifier(column) {
            problems.push(child_index(path, index), message);
        } else if !seen.insert(column.as_str()) {
            problems.push(
                child_index(path, index),
                format!("repeats column `{column}`: list each column once"),
            );
        }
    }
}

fn check_type_mappings(
    table_path: &str,
    mappings: &[super::raw::ColumnTypeMapping],
    problems: &mut Problems,
) {
    let path = child_key(table_path, "columnTypeMappings");
    let mut seen = HashSet::new();
    for (index, mapping) in mappings.iter().enumerate() {
        let item = child_index(&path, index);
        if mapping.source_type.trim().is_empty() {
            problems.push(child_key(&item, "sourceType"), "must not be empty");
        }
        if mapping.target_type.trim().is_empty() {
            problems.push(child_key(&item, "targetType"), "must not be empty");
        }
        if !seen.insert(mapping.source_type.to_ascii_uppercase()) {
            problems.push(
                child_key(&item, "sourceType"),
                format!(
                    "maps `{}` a second time: keep one mapping per source type",
                    mapping.source_type
                ),
            );
        }
    }
}

fn check_name_mappings(
    table_path: &str,
    mappings: &[super::raw::ColumnNameMapping],
    problems: &mut Problems,
) {
    let path = child_key(table_path, "columnNameMappings");
    let mut sources = HashSet::new();
    let mut targets = HashSet::new();
    for (index, mapping) in mappings.iter().enumerate() {
        let item = child_index(&path, index);
        for (key, value) in [
            ("sourceName", &mapping.source_name),
            ("targetName", &mapping.target_name),
        ] {
            if let Err(message) = check_identifier(value) {
                problems.push(child_key(&item, key), message);
            }
        }
        if !sources.insert(mapping.source_name.as_str()) {
            problems.push(
                child_key(&item, "sourceName"),
                format!(
                    "renames `{}` a second time: keep one mapping per column",
                    mapping.source_name
                ),
            );
        }
        if !targets.insert(mapping.target_name.as_str()) {
            problems.push(
                child_key(&item, "targetName"),
                format!(
                    "`{}` is the target of two mappings: target names must be distinct",
                    mapping.target_name
                ),
            );
        }
    }
}

/// `whereClauseCriteria` is the one piece of user-written SQL the worker runs, so it must be a
/// single expression: no `;`, no comments, balanced parentheses and quotes. (A check against
/// mistakes, not a parser: the worker wraps it in parentheses.)
pub fn check_single_expression(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty: remove it to migrate every row".to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                // Skip the literal or quoted identifier; a doubled quote escapes itself.
                let quote = c;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("has an unclosed {quote} quote: close it")),
                        Some(&q) if q == quote && chars.get(i + 1) == Some(&quote) => i += 2,
                        Some(&q) if q == quote => break,
                        Some(_) => i += 1,
                    }
                }
            }
            ';' => return Err("must be a single expression: remove `;`".to_string()),
            '-' if chars.get(i + 1) == Some(&'-') => {
                return Err("must not contain comments (`--`)".to_string())
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                return Err("must not contain comments (`/*`)".to_string())
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("closes a parenthesis it never opened".to_string());
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err("has an unclosed parenthesis".to_string());
    }
    Ok(())
}

/// Workflow names: letters, digits and underscores, not starting with a digit, at most 255
/// characters.
pub fn validate_workflow_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("workflow name must not be empty".to_string());
    };
    if first.is_ascii_digit() {
        return Err(format!(
            "workflow name `{name}` must not start with a digit"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "workflow name `{name}` may contain only letters, digits and underscores, found `{bad}`"
        ));
    }
    if name.len() > 255 {
        return Err(format!(
            "workflow name is {} characters long: use at most 255",
            name.len()
        ));
    }
    Ok(())
}
