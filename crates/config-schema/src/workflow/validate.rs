//! Checking a raw workflow: merge the defaults into each table, then check every table is
//! complete and consistent, collecting every problem with its JSON path.
//!
//! **Who wrote a value decides where a problem with it is reported.** The merge records for
//! every value whether the table wrote it or inherited it from `defaultTableConfiguration`
//! ([`Origins`]). A value that is wrong in itself (a bad identifier, an empty stage, a
//! `whereClauseCriteria` with `;`) is reported once, at the path where it was written. A value
//! that a table's other settings do not use (a `watermarkColumn` when the table's strategy is
//! `checksum`, an `externalStage` with `regular` extraction, `icebergConfig` on a native
//! table, a `migrationStrategy` its catalog cannot use, ...) is refused only when the table
//! wrote it; when the table inherited it, it is ignored for that table and a [`Note`] says so.
//! An inherited value that no table inheriting it uses is refused at its path in the defaults.
//!
//! Reading a stored configuration back is validating it again, so the `Deserialize` impls of
//! the model's [`WorkflowConfig`] and [`TableConfig`] live here too: they read the raw structs
//! and check them (see [`validate_stored_workflow`]).

use std::collections::HashSet;

use serde::{Deserialize, Deserializer};

use super::merge::{merge_table_traced, Origin, Origins};
use super::model::{
    default_iceberg_catalog, default_schema_version, Extraction, IcebergConfig, PartitionSize,
    SourceTable, Synchronization, TableConfig, TargetTable, WorkflowConfig,
};
use super::raw::{
    ColumnNameMapping, ColumnTypeMapping, ExtractionKind, IcebergMigrationStrategy,
    PartitionSizeKeyword, RawIcebergConfig, RawPartitionSize, RawTableConfig, RawWorkflowConfig,
    SynchronizationKind, TableType,
};
use crate::identifier::{case_insensitive_key, check_snowflake_name, check_source_name};
use crate::platform::SourcePlatform;
use crate::problem::{child_index, child_key, path_within, Checked, Note, Problems};
use crate::snowflake_type::check_snowflake_type;
use crate::where_clause::check_where_clause_on;

/// The schema major version this build reads.
pub const SUPPORTED_SCHEMA_MAJOR: u64 = 1;

/// Where defaults are written.
const DEFAULTS: &str = "defaultTableConfiguration";

/// Validates a raw workflow. `platform` enables the checks that depend on the source platform
/// (unload is Redshift-only, the `whereClauseCriteria` scanner); `None` skips the first and
/// applies the scanner of every platform.
pub fn validate_workflow(
    raw: RawWorkflowConfig,
    platform: Option<SourcePlatform>,
) -> Result<WorkflowConfig, Problems> {
    check_workflow(raw, platform).map(|checked| checked.config)
}

/// [`validate_workflow`], also returning the notes: inherited values that a table ignores.
pub fn check_workflow(
    raw: RawWorkflowConfig,
    platform: Option<SourcePlatform>,
) -> Result<Checked<WorkflowConfig>, Problems> {
    check(raw, platform, false)
}

/// Reads back a configuration stored by `create-data-migration-workflow` (the WORKFLOW row
/// holds no platform beside it here). It was checked against its platform when it was
/// created, and the plan and every extraction check `whereClauseCriteria` again with the
/// platform, so the platform-dependent scan is left to them: a SQL Server filter such as
/// `[it's] = 1` must read back although other platforms' scanners refuse it.
fn validate_stored_workflow(raw: RawWorkflowConfig) -> Result<WorkflowConfig, Problems> {
    check(raw, None, true).map(|checked| checked.config)
}

impl TryFrom<RawWorkflowConfig> for WorkflowConfig {
    type Error = Problems;

    /// Validates a stored configuration, without the platform-specific checks.
    fn try_from(raw: RawWorkflowConfig) -> Result<Self, Self::Error> {
        validate_stored_workflow(raw)
    }
}

impl TryFrom<RawTableConfig> for TableConfig {
    type Error = Problems;

    /// Validates one stored table: every value is its own, paths are relative to the table.
    fn try_from(raw: RawTableConfig) -> Result<Self, Self::Error> {
        let origins = Origins::all_own(&raw);
        let mut ctx = TableContext::new("", 0, &raw, &origins);
        ctx.stored = true;
        let mut report = Report::default();
        let table = validate_table(&ctx, &raw, None, &mut report);
        match table {
            Some(table) if report.problems.is_empty() => Ok(table),
            _ => Err(report.problems),
        }
    }
}

/// A stored configuration reads back through [`RawWorkflowConfig`] and is checked again.
impl<'de> Deserialize<'de> for WorkflowConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawWorkflowConfig::deserialize(deserializer)?;
        WorkflowConfig::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// A stored table reads back through [`RawTableConfig`] and is checked again.
impl<'de> Deserialize<'de> for TableConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawTableConfig::deserialize(deserializer)?;
        TableConfig::try_from(raw).map_err(serde::de::Error::custom)
    }
}

fn check(
    raw: RawWorkflowConfig,
    platform: Option<SourcePlatform>,
    stored: bool,
) -> Result<Checked<WorkflowConfig>, Problems> {
    let mut report = Report::default();
    let schema_version = match raw.schema_version {
        Some(version) => {
            check_schema_version(&version, &mut report.problems);
            version
        }
        None => default_schema_version(),
    };
    if let Some(affinity) = &raw.affinity {
        if affinity.trim().is_empty() {
            report.problems.push(
                "affinity",
                "must not be empty: remove it to let every worker take the workflow",
            );
        }
    }
    if raw.tables.is_empty() {
        report
            .problems
            .push("tables", "must contain at least one table");
    }
    let default = raw.default_table_configuration.unwrap_or_default();
    let mut tables = Vec::with_capacity(raw.tables.len());
    let mut origins = Vec::with_capacity(raw.tables.len());
    for (index, table) in raw.tables.iter().enumerate() {
        let merged = merge_table_traced(&default, table);
        let path = child_index("tables", index);
        let mut ctx = TableContext::new(&path, index, &merged.table, &merged.origins);
        ctx.stored = stored;
        if let Some(table) = validate_table(&ctx, &merged.table, platform, &mut report) {
            tables.push(table);
        }
        origins.push(merged.origins);
    }
    let contradictions = defaults_contradictions(&default, platform, stored);
    report.refuse_defaults_no_table_uses(&origins, &contradictions);
    check_distinct_targets(&tables, &mut report.problems);
    report.problems.dedup();
    let Report {
        problems, notes, ..
    } = report;
    problems.into_result(Checked {
        config: WorkflowConfig {
            schema_version,
            tables,
            affinity: raw.affinity,
        },
        notes,
    })
}

/// The values of the defaults that the defaults' own settings do not use (e.g.
/// `watermarkColumn` next to `"strategy": "checksum"`): the defaults contradict themselves.
/// Found by checking the defaults as the whole configuration of a table of their own.
fn defaults_contradictions(
    default: &RawTableConfig,
    platform: Option<SourcePlatform>,
    stored: bool,
) -> HashSet<&'static str> {
    let merged = merge_table_traced(default, &RawTableConfig::default());
    let mut scratch = Report::default();
    let mut ctx = TableContext::new(DEFAULTS, usize::MAX, &merged.table, &merged.origins);
    ctx.stored = stored;
    let _ = validate_table(&ctx, &merged.table, platform, &mut scratch);
    scratch.ignored.iter().map(|ignored| ignored.path).collect()
}

/// What the checks found: problems, notes, and which inherited values each table ignored.
#[derive(Default)]
struct Report {
    problems: Problems,
    notes: Vec<Note>,
    ignored: Vec<Ignored>,
}

/// An inherited value a table does not use.
struct Ignored {
    table: usize,
    /// Relative to the table, e.g. `synchronization.watermarkColumn` or `target.icebergConfig`.
    path: &'static str,
    why: String,
}

impl Report {
    /// Refuses, at their path in the defaults, the inherited values that every table inheriting
    /// them ignores and that the defaults' own settings do not use either (`contradictions`):
    /// such a value is wrong wherever it goes. A value the defaults use themselves but every
    /// table overrides only gets the per-table notes: the user wrote nothing wrong.
    fn refuse_defaults_no_table_uses(
        &mut self,
        origins: &[Origins],
        contradictions: &HashSet<&'static str>,
    ) {
        let mut reported: HashSet<&'static str> = HashSet::new();
        let inherited: std::collections::BTreeSet<&str> =
            origins.iter().flat_map(Origins::inherited).collect();
        for value in inherited {
            let heirs: Vec<usize> = (0..origins.len())
                .filter(|&i| origins[i].is_inherited(value))
                .collect();
            let ignored_by = |table: usize| {
                self.ignored
                    .iter()
                    .find(|ig| ig.table == table && path_within(value, ig.path))
            };
            if heirs.is_empty() || !heirs.iter().all(|&t| ignored_by(t).is_some()) {
                continue;
            }
            let Some(first) = ignored_by(heirs[0]) else {
                continue;
            };
            // Report a whole ignored object once when none of its inherited fields is used.
            let path = first.path;
            if !contradictions.contains(path) {
                continue;
            }
            if !reported.insert(path) {
                continue;
            }
            let tables = heirs
                .iter()
                .map(|&t| format!("tables[{t}]"))
                .collect::<Vec<_>>()
                .join(", ");
            self.problems.push(
                child_key(DEFAULTS, path),
                format!(
                    "is not used by any table that inherits it ({tables}): {}; remove it or change those tables",
                    first.why
                ),
            );
        }
    }
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

/// A value that a table's other settings make pointless: what to tell the user who wrote it on
/// the table, and why it is ignored when the table inherited it.
struct Unused {
    /// The message after the table's path, e.g. `is only used when strategy is "unload": ...`.
    refusal: String,
    /// Why the value does not apply, for notes and for the defaults' problem.
    why: String,
}

impl Unused {
    /// `is only used when {condition}: {remedy}`.
    fn only_when(condition: &str, remedy: &str) -> Unused {
        Unused {
            refusal: format!("is only used when {condition}: {remedy}"),
            why: format!("it is only used when {condition}"),
        }
    }
}

/// What became of a value that a table does not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not given at all.
    Absent,
    /// Written on the table: refused.
    Refused,
    /// Inherited from the defaults: ignored for this table, with a note.
    Ignored,
}

/// One table being checked: its path, a label for messages and where its values came from.
struct TableContext<'a> {
    path: &'a str,
    index: usize,
    label: String,
    origins: &'a Origins,
    /// A stored configuration read back without its platform (see
    /// [`validate_stored_workflow`]).
    stored: bool,
}

impl<'a> TableContext<'a> {
    fn new(path: &'a str, index: usize, raw: &RawTableConfig, origins: &'a Origins) -> Self {
        let label = raw
            .source
            .as_ref()
            .and_then(|s| s.table_name.as_deref())
            .map(|name| format!(" (table {name})"))
            .unwrap_or_default();
        TableContext {
            path,
            index,
            label,
            origins,
            stored: false,
        }
    }

    /// The path of the value at `relative` on this table (`tables[2].relative`).
    fn own(&self, relative: &str) -> String {
        child_key(self.path, relative)
    }

    /// Where the value at `relative` was written: on the table, or in the defaults.
    fn written_at(&self, relative: &str) -> String {
        if self.origins.is_inherited(relative) {
            child_key(DEFAULTS, relative)
        } else {
            self.own(relative)
        }
    }

    /// The table label for a message about the value at `relative` (none for a value of the
    /// defaults, which concerns every table inheriting it).
    fn label_for(&self, relative: &str) -> &str {
        if self.origins.is_inherited(relative) {
            ""
        } else {
            &self.label
        }
    }

    /// A problem with the value at `relative` itself, reported where it was written.
    fn invalid(&self, report: &mut Report, relative: &str, message: impl Into<String>) {
        report.problems.push(self.written_at(relative), message);
    }

    /// Records that `key` (relative to the table) is missing after merging.
    fn missing(&self, report: &mut Report, key: &str, default_section: &str) {
        let default_path = if default_section.is_empty() {
            child_key(DEFAULTS, key.rsplit('.').next().unwrap_or(key))
        } else {
            child_key(DEFAULTS, default_section)
        };
        report.problems.push(
            self.own(key),
            format!(
                "is required{}: set it on the table or in {default_path}",
                self.label
            ),
        );
    }

    /// The value at `relative` is not used by this table: refused when the table wrote it,
    /// ignored with a note when it inherited it.
    /// A stored configuration drops such a value silently: it was accepted when it was created,
    /// possibly by a release with fewer of these rules, and must still read back.
    fn unused(&self, report: &mut Report, relative: &'static str, unused: Unused) -> Verdict {
        match self.origins.of(relative) {
            Origin::Absent => Verdict::Absent,
            _ if self.stored => Verdict::Ignored,
            Origin::Own => {
                report.problems.push(self.own(relative), unused.refusal);
                Verdict::Refused
            }
            Origin::Inherited => {
                report.notes.push(Note::new(
                    self.own(relative),
                    format!(
                        "is inherited from {DEFAULTS} and ignored{}: {}",
                        self.label, unused.why
                    ),
                ));
                report.ignored.push(Ignored {
                    table: self.index,
                    path: relative,
                    why: unused.why,
                });
                Verdict::Ignored
            }
        }
    }

    /// A required source identifier: present, non-empty and properly quoted.
    fn source_name(
        &self,
        report: &mut Report,
        relative: &str,
        value: Option<&str>,
    ) -> Option<String> {
        self.name(report, relative, value, check_source_name)
    }

    /// A required Snowflake object name.
    fn snowflake_name(
        &self,
        report: &mut Report,
        relative: &str,
        value: Option<&str>,
    ) -> Option<String> {
        self.name(report, relative, value, check_snowflake_name)
    }

    fn name(
        &self,
        report: &mut Report,
        relative: &str,
        value: Option<&str>,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        let Some(name) = value else {
            let section = relative.split('.').next().unwrap_or(relative);
            report.problems.push(
                self.own(relative),
                format!(
                    "is required{}: set it on the table or in {DEFAULTS}.{section}",
                    self.label
                ),
            );
            return None;
        };
        match check(name) {
            Ok(()) => Some(name.to_string()),
            Err(message) => {
                self.invalid(report, relative, message);
                None
            }
        }
    }
}

/// Checks one merged table. Returns the table when it is complete; problems and notes go to
/// `report` either way.
fn validate_table(
    ctx: &TableContext,
    raw: &RawTableConfig,
    platform: Option<SourcePlatform>,
    report: &mut Report,
) -> Option<TableConfig> {
    let source = validate_source(ctx, raw, report);
    let target = validate_target(ctx, raw, report);
    let partition_columns = match &raw.column_names_to_partition_by {
        None => {
            ctx.missing(report, "columnNamesToPartitionBy", "");
            None
        }
        Some(columns) => {
            let relative = "columnNamesToPartitionBy";
            if columns.is_empty() {
                ctx.invalid(
                    report,
                    relative,
                    format!("must name at least one column{}", ctx.label_for(relative)),
                );
            }
            check_column_list(ctx, report, relative, columns);
            Some(columns.clone())
        }
    };
    let primary_key_columns = raw.primary_key_columns.clone().unwrap_or_default();
    check_column_list(ctx, report, "primaryKeyColumns", &primary_key_columns);
    let extraction = validate_extraction(ctx, raw, platform, report);
    let synchronization = validate_synchronization(ctx, raw, &primary_key_columns, report);
    let partition_size = validate_partition_size(ctx, raw, report);
    let column_type_mappings = raw.column_type_mappings.clone().unwrap_or_default();
    check_type_mappings(ctx, report, &column_type_mappings);
    let column_name_mappings = raw.column_name_mappings.clone().unwrap_or_default();
    check_name_mappings(ctx, report, &column_name_mappings);
    if let Some(criteria) = raw.where_clause_criteria.as_ref().filter(|_| !ctx.stored) {
        if let Err(error) = check_where_clause_on(platform, criteria) {
            ctx.invalid(report, "whereClauseCriteria", error.reason());
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
    report: &mut Report,
) -> Option<SourceTable> {
    let Some(source) = &raw.source else {
        ctx.missing(report, "source", "source");
        return None;
    };
    // Check all three before giving up, so every missing name is reported.
    let database_name = ctx.source_name(
        report,
        "source.databaseName",
        source.database_name.as_deref(),
    );
    let schema_name = ctx.source_name(report, "source.schemaName", source.schema_name.as_deref());
    let table_name = ctx.source_name(report, "source.tableName", source.table_name.as_deref());
    Some(SourceTable {
        database_name: database_name?,
        schema_name: schema_name?,
        table_name: table_name?,
    })
}

fn validate_target(
    ctx: &TableContext,
    raw: &RawTableConfig,
    report: &mut Report,
) -> Option<TargetTable> {
    let Some(target) = &raw.target else {
        ctx.missing(report, "target", "target");
        return None;
    };
    let database_name = ctx.snowflake_name(
        report,
        "target.databaseName",
        target.database_name.as_deref(),
    );
    let schema_name =
        ctx.snowflake_name(report, "target.schemaName", target.schema_name.as_deref());
    let table_name = ctx.snowflake_name(report, "target.tableName", target.table_name.as_deref());
    let table_type = target.table_type.unwrap_or_default();
    let iceberg_config = match table_type {
        TableType::Native => {
            if target.iceberg_config.is_some() {
                let unused = Unused::only_when(
                    "tableType is \"iceberg\"",
                    "remove it or set tableType to \"iceberg\"",
                );
                if ctx.unused(report, "target.icebergConfig", unused) == Verdict::Refused {
                    return None;
                }
            }
            None
        }
        TableType::Iceberg => match &target.iceberg_config {
            None => {
                report.problems.push(
                    ctx.own("target.icebergConfig"),
                    format!("is required when tableType is \"iceberg\"{}", ctx.label),
                );
                return None;
            }
            Some(raw) => Some(validate_iceberg(ctx, raw, report)?),
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
    ctx: &TableContext,
    raw: &RawIcebergConfig,
    report: &mut Report,
) -> Option<IcebergConfig> {
    let before = report.problems.len();
    let catalog = raw.catalog.clone().unwrap_or_else(default_iceberg_catalog);
    let managed = catalog.eq_ignore_ascii_case("SNOWFLAKE");
    let inferred = if managed {
        IcebergMigrationStrategy::CopyFiles
    } else {
        IcebergMigrationStrategy::CatalogLink
    };
    let strategy = match raw.migration_strategy {
        None => inferred,
        Some(given) => {
            let conflict = match given {
                IcebergMigrationStrategy::CopyFiles if !managed => Some(Unused {
                    refusal: "\"copy_files\" needs catalog SNOWFLAKE: use \"catalog_link\" or \"convert_to_managed\" with an external catalog".to_string(),
                    why: format!("\"copy_files\" needs catalog SNOWFLAKE, so \"{}\" is inferred from catalog `{catalog}`", strategy_name(inferred)),
                }),
                IcebergMigrationStrategy::CatalogLink
                | IcebergMigrationStrategy::ConvertToManaged
                    if managed =>
                {
                    Some(Unused {
                        refusal: "needs an external catalog: set catalog to a catalog integration name, or use \"copy_files\"".to_string(),
                        why: format!("\"{}\" needs an external catalog, so \"copy_files\" is inferred for catalog SNOWFLAKE", strategy_name(given)),
                    })
                }
                _ => None,
            };
            match conflict {
                None => given,
                Some(unused) => {
                    ctx.unused(report, "target.icebergConfig.migrationStrategy", unused);
                    inferred
                }
            }
        }
    };
    if managed && raw.external_volume.is_none() {
        report.problems.push(
            ctx.own("target.icebergConfig.externalVolume"),
            "is required when catalog is SNOWFLAKE: name the external volume for the table's data",
        );
    }
    if !managed && raw.catalog_table_name.is_none() {
        report.problems.push(
            ctx.own("target.icebergConfig.catalogTableName"),
            format!("is required when catalog is an external catalog (`{catalog}`): give the table's name in that catalog, e.g. \"glue_db.my_table\""),
        );
    }
    // Fields that only one kind of catalog uses.
    let mut keep = |present: bool, relative: &'static str, unused: fn() -> Unused| {
        !present || ctx.unused(report, relative, unused()) == Verdict::Absent
    };
    let managed_only = || {
        Unused::only_when(
            "catalog is SNOWFLAKE",
            "remove it, or use it on a Snowflake-managed table",
        )
    };
    let external_only = || {
        Unused::only_when(
            "catalog is an external catalog",
            "remove it, or set catalog to a catalog integration name",
        )
    };
    let (base_location_prefix, catalog_sync, source_data_stage, catalog_table_name) = if managed {
        let keep_table_name = keep(
            raw.catalog_table_name.is_some(),
            "target.icebergConfig.catalogTableName",
            external_only,
        );
        (
            raw.base_location_prefix.clone(),
            raw.catalog_sync.clone(),
            raw.source_data_stage.clone(),
            raw.catalog_table_name.clone().filter(|_| keep_table_name),
        )
    } else {
        let keep_prefix = keep(
            raw.base_location_prefix.is_some(),
            "target.icebergConfig.baseLocationPrefix",
            managed_only,
        );
        let keep_sync = keep(
            raw.catalog_sync.is_some(),
            "target.icebergConfig.catalogSync",
            managed_only,
        );
        let keep_stage = keep(
            raw.source_data_stage.is_some(),
            "target.icebergConfig.sourceDataStage",
            managed_only,
        );
        (
            raw.base_location_prefix.clone().filter(|_| keep_prefix),
            raw.catalog_sync.clone().filter(|_| keep_sync),
            raw.source_data_stage.clone().filter(|_| keep_stage),
            raw.catalog_table_name.clone(),
        )
    };
    if let Some(stage) = &source_data_stage {
        if !stage.starts_with('@') {
            ctx.invalid(
                report,
                "target.icebergConfig.sourceDataStage",
                format!("`{stage}` must start with `@`, e.g. \"@DB.SCHEMA.STAGE/path\""),
            );
        }
    }
    for (key, value) in [
        ("target.icebergConfig.catalog", raw.catalog.as_deref()),
        (
            "target.icebergConfig.externalVolume",
            raw.external_volume.as_deref(),
        ),
        (
            "target.icebergConfig.catalogTableName",
            catalog_table_name.as_deref(),
        ),
        ("target.icebergConfig.catalogSync", catalog_sync.as_deref()),
    ] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            ctx.invalid(report, key, "must not be empty");
        }
    }
    if report.problems.len() > before {
        return None;
    }
    Some(IcebergConfig {
        catalog,
        external_volume: raw.external_volume.clone(),
        base_location_prefix,
        catalog_table_name,
        catalog_sync,
        source_data_stage,
        migration_strategy: strategy,
    })
}

fn strategy_name(strategy: IcebergMigrationStrategy) -> &'static str {
    match strategy {
        IcebergMigrationStrategy::CatalogLink => "catalog_link",
        IcebergMigrationStrategy::ConvertToManaged => "convert_to_managed",
        IcebergMigrationStrategy::CopyFiles => "copy_files",
    }
}

fn validate_extraction(
    ctx: &TableContext,
    raw: &RawTableConfig,
    platform: Option<SourcePlatform>,
    report: &mut Report,
) -> Option<Extraction> {
    let Some(extraction) = &raw.extraction else {
        return Some(Extraction::Regular);
    };
    let Some(strategy) = extraction.strategy else {
        report.problems.push(
            ctx.own("extraction.strategy"),
            "is required: use \"regular\" or \"unload\"",
        );
        return None;
    };
    match strategy {
        ExtractionKind::Regular => {
            if extraction.external_stage.is_some() {
                let unused = Unused::only_when(
                    "strategy is \"unload\"",
                    "remove it or set strategy to \"unload\"",
                );
                if ctx.unused(report, "extraction.externalStage", unused) == Verdict::Refused {
                    return None;
                }
            }
            Some(Extraction::Regular)
        }
        ExtractionKind::Unload => {
            let mut ok = true;
            if let Some(platform) = platform.filter(|p| *p != SourcePlatform::Redshift) {
                ctx.invalid(
                    report,
                    "extraction.strategy",
                    format!("\"unload\" is only available for redshift sources, not {platform}: use \"regular\""),
                );
                ok = false;
            }
            let stage = match extraction.external_stage.as_deref() {
                None => {
                    report.problems.push(
                        ctx.own("extraction.externalStage"),
                        "is required when strategy is \"unload\": name the Snowflake external stage over the S3 bucket, e.g. \"MY_DB.MY_SCHEMA.S3_STAGE\"",
                    );
                    None
                }
                Some(stage) if stage.trim().is_empty() => {
                    ctx.invalid(report, "extraction.externalStage", "must not be empty");
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
    ctx: &TableContext,
    raw: &RawTableConfig,
    primary_key_columns: &[String],
    report: &mut Report,
) -> Option<Synchronization> {
    let Some(sync) = &raw.synchronization else {
        return Some(Synchronization::None);
    };
    let Some(strategy) = sync.strategy else {
        report.problems.push(
            ctx.own("synchronization.strategy"),
            "is required: use \"none\", \"checksum\" or \"watermark\"",
        );
        return None;
    };
    match strategy {
        SynchronizationKind::None | SynchronizationKind::Checksum => {
            let mut usable = true;
            for (relative, given) in [
                (
                    "synchronization.watermarkColumn",
                    sync.watermark_column.is_some(),
                ),
                (
                    "synchronization.trackModifications",
                    sync.track_modifications.is_some(),
                ),
            ] {
                if given {
                    let unused = Unused::only_when(
                        "strategy is \"watermark\"",
                        "remove it or set strategy to \"watermark\"",
                    );
                    usable &= ctx.unused(report, relative, unused) != Verdict::Refused;
                }
            }
            usable.then_some(if strategy == SynchronizationKind::None {
                Synchronization::None
            } else {
                Synchronization::Checksum
            })
        }
        SynchronizationKind::Watermark => {
            let track_modifications = sync.track_modifications.unwrap_or(false);
            if track_modifications && primary_key_columns.is_empty() {
                ctx.invalid(
                    report,
                    "synchronization.trackModifications",
                    format!(
                        "requires {}: list the primary key columns used to merge modified rows",
                        ctx.own("primaryKeyColumns")
                    ),
                );
            }
            let watermark_column = match sync.watermark_column.as_deref() {
                None => {
                    report.problems.push(
                        ctx.own("synchronization.watermarkColumn"),
                        "is required when strategy is \"watermark\": name a column that increases on every insert and update",
                    );
                    None
                }
                Some(column) => match check_source_name(column) {
                    Ok(()) => Some(column.to_string()),
                    Err(message) => {
                        ctx.invalid(report, "synchronization.watermarkColumn", message);
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

/// `partitionSize` is one value (a table's replaces the default's whole), so its problems are
/// reported where the whole value was written.
fn validate_partition_size(
    ctx: &TableContext,
    raw: &RawTableConfig,
    report: &mut Report,
) -> Option<PartitionSize> {
    let relative = "partitionSize";
    let path = ctx.written_at(relative);
    match &raw.partition_size {
        None | Some(RawPartitionSize::Keyword(PartitionSizeKeyword::Auto)) => {
            Some(PartitionSize::Auto)
        }
        Some(RawPartitionSize::Sized(sized)) => {
            let positive = |key: &str, n: u64, report: &mut Report| {
                if n == 0 {
                    report
                        .problems
                        .push(child_key(&path, key), "must be greater than 0");
                }
                n > 0
            };
            match (sized.target_size_mb, sized.max_rows_per_partition) {
                (Some(_), Some(_)) => {
                    report.problems.push(
                        &path,
                        "must set only one of targetSizeMb and maxRowsPerPartition: remove one",
                    );
                    None
                }
                (None, None) => {
                    report.problems.push(
                        &path,
                        "must set targetSizeMb or maxRowsPerPartition, or be \"auto\"",
                    );
                    None
                }
                (Some(mb), None) => {
                    positive("targetSizeMb", mb, report).then_some(PartitionSize::TargetSizeMb(mb))
                }
                (None, Some(rows)) => positive("maxRowsPerPartition", rows, report)
                    .then_some(PartitionSize::MaxRowsPerPartition(rows)),
            }
        }
    }
}

fn check_column_list(ctx: &TableContext, report: &mut Report, relative: &str, columns: &[String]) {
    let path = ctx.written_at(relative);
    let mut seen = HashSet::new();
    for (index, column) in columns.iter().enumerate() {
        if let Err(message) = check_source_name(column) {
            report.problems.push(child_index(&path, index), message);
        } else if !seen.insert(column.as_str()) {
            report.problems.push(
                child_index(&path, index),
                format!("repeats column `{column}`: list each column once"),
            );
        }
    }
}

fn check_type_mappings(ctx: &TableContext, report: &mut Report, mappings: &[ColumnTypeMapping]) {
    let path = ctx.written_at("columnTypeMappings");
    let mut seen = HashSet::new();
    for (index, mapping) in mappings.iter().enumerate() {
        let item = child_index(&path, index);
        if mapping.source_type.trim().is_empty() {
            report
                .problems
                .push(child_key(&item, "sourceType"), "must not be empty");
        }
        if mapping.target_type.trim().is_empty() {
            report
                .problems
                .push(child_key(&item, "targetType"), "must not be empty");
        } else if let Err(message) = check_snowflake_type(&mapping.target_type) {
            report
                .problems
                .push(child_key(&item, "targetType"), message);
        }
        if !seen.insert(mapping.source_type.to_ascii_uppercase()) {
            report.problems.push(
                child_key(&item, "sourceType"),
                format!(
                    "maps `{}` a second time: keep one mapping per source type",
                    mapping.source_type
                ),
            );
        }
    }
}

/// Source names must be distinct, and so must target names as Snowflake's COPY compares them:
/// it matches Parquet fields to columns by name ignoring case (`MATCH_BY_COLUMN_NAME =
/// CASE_INSENSITIVE`), so `"Name"` and `NAME` would be the same column.
fn check_name_mappings(ctx: &TableContext, report: &mut Report, mappings: &[ColumnNameMapping]) {
    let path = ctx.written_at("columnNameMappings");
    let mut sources = HashSet::new();
    // (comparison key, path, index) of each distinct target name so far.
    let mut targets: Vec<(String, String, usize)> = Vec::new();
    for (index, mapping) in mappings.iter().enumerate() {
        let item = child_index(&path, index);
        for (key, value) in [
            ("sourceName", &mapping.source_name),
            ("targetName", &mapping.target_name),
        ] {
            if let Err(message) = check_source_name(value) {
                report.problems.push(child_key(&item, key), message);
            }
        }
        if !sources.insert(mapping.source_name.as_str()) {
            report.problems.push(
                child_key(&item, "sourceName"),
                format!(
                    "renames `{}` a second time: keep one mapping per column",
                    mapping.source_name
                ),
            );
        }
        let target_path = child_key(&item, "targetName");
        let key = case_insensitive_key(&mapping.target_name);
        let Some((_, first_path, first)) = targets.iter().find(|(k, _, _)| *k == key) else {
            targets.push((key, target_path, index));
            continue;
        };
        let first = &mappings[*first].target_name;
        let message = if *first == mapping.target_name {
            format!(
                "`{first}` is the target of two mappings ({first_path} too): target names must be distinct"
            )
        } else {
            format!(
                "`{}` and {first_path} `{first}` differ only in case, so one COPY cannot load both (it matches Parquet columns to table columns case-insensitively): make the target names differ by more than case",
                mapping.target_name
            )
        };
        report.problems.push(target_path, message);
    }
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
