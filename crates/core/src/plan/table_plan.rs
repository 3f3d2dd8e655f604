//! The pure core of the `analyze` task.
//!
//! The worker runs the catalog queries, then [`prepare_analysis`] classifies the columns,
//! resolves the partition key (`columnNamesToPartitionBy`, else the primary key), computes the
//! partition count and hands back the probe queries: the boundary query, and where needed the
//! numeric profile (PostgreSQL bare `numeric`) and the out-of-range date check (PostgreSQL,
//! Redshift). The worker runs those and [`build_table_plan`] turns everything into a
//! [`TablePlan`]: columns with target names and Snowflake types, the Arrow schema of the
//! extracted files, and the partitions.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use config_schema::identifier::is_plain_identifier;
use config_schema::SourcePlatform;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::partition_plan::{partitions_from_boundaries, BoundaryRow, Partition};
use super::partition_size::{partition_count, ExtractionStrategy, PartitionSize};
use crate::source::catalog::{Ident, SourceColumn, TableRef, TableStats};
use crate::source::dialect::{
    check_where_clause, ColumnKind, Dialect, DialectError, NumericProfile, TypedColumn,
    WhereClauseError,
};

/// One `columnTypeMappings` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeMapping {
    pub source_type: String,
    pub target_type: String,
}

/// One `columnNameMappings` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameMapping {
    pub source_name: String,
    pub target_name: String,
}

/// The table-configuration fields the analysis uses (after defaults are merged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOptions {
    /// `columnNamesToPartitionBy`; empty means "use the primary key".
    pub partition_columns: Vec<String>,
    /// `primaryKeyColumns`; when set it is used instead of the catalog's primary key.
    pub primary_key_columns: Vec<String>,
    pub column_type_mappings: Vec<TypeMapping>,
    pub column_name_mappings: Vec<NameMapping>,
    pub partition_size: PartitionSize,
    pub extraction_strategy: ExtractionStrategy,
    pub where_clause: Option<String>,
}

/// What the catalog queries returned, plus the table's configuration.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub platform: SourcePlatform,
    pub table: TableRef,
    pub columns: Vec<SourceColumn>,
    /// The catalog's primary key, in key order.
    pub primary_key: Vec<String>,
    pub stats: TableStats,
    pub options: TableOptions,
}

/// Why a table cannot be planned. Every variant names the table.
#[derive(Debug, Error)]
pub enum PlanError {
    #[error(transparent)]
    Dialect(#[from] DialectError),
    #[error(
        "table `{table}` has no column `{column}` (named in `{field}`): columns are {available}"
    )]
    ColumnNotFound {
        table: String,
        column: String,
        field: &'static str,
        available: String,
    },
    #[error(
        "table `{table}`: `{column}` in `{field}` matches several columns ({matches}) that differ only in case: quote the name"
    )]
    AmbiguousColumn {
        table: String,
        column: String,
        field: &'static str,
        matches: String,
    },
    #[error(
        "table `{table}`: column `{column}` of type `{data_type}` cannot partition the table: choose other `columnNamesToPartitionBy`"
    )]
    UnpartitionableKey {
        table: String,
        column: String,
        data_type: String,
    },
    #[error(
        "table `{table}` needs {partitions} partitions but has no partition key: set `columnNamesToPartitionBy` or `primaryKeyColumns`"
    )]
    PartitionKeyRequired { table: String, partitions: u64 },
    #[error(
        "table `{table}`: target type `{target_type}` for source type `{source_type}` in `columnTypeMappings` is not a type name: write one Snowflake type, e.g. `NUMBER(38,2)` or `VARCHAR(100)`"
    )]
    InvalidTargetType {
        table: String,
        source_type: String,
        target_type: String,
    },
    #[error(
        "table `{table}`: columns `{first}` and `{second}` both map to target column `{target}`: fix `columnNameMappings`"
    )]
    DuplicateTargetName {
        table: String,
        first: String,
        second: String,
        target: String,
    },
    #[error(
        "table `{table}`: column `{column}` has {rows} values that cannot be extracted exactly (infinity or a year outside 1..=9999): filter them with `whereClauseCriteria` or map the column in a view"
    )]
    OutOfRangeValues {
        table: String,
        column: String,
        rows: u64,
    },
    #[error("table `{table}`: {source}")]
    WhereClause {
        table: String,
        source: WhereClauseError,
    },
}

/// The first half of the analysis: what to run next on the source.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub columns: Vec<TypedColumn>,
    pub keys: Vec<TypedColumn>,
    pub partition_count: u64,
    /// Run when `partition_count > 1`; its rows go to [`build_table_plan`].
    pub boundary_query: Option<String>,
    /// Run when present; one [`NumericProfile`] per unbounded numeric column, in column order.
    pub numeric_profile_query: Option<String>,
    /// Run when present; one count per natively extracted date/timestamp column, in column
    /// order (see `Dialect::out_of_range_query`).
    pub out_of_range_query: Option<String>,
}

/// What the worker learned by running the [`Analysis`] queries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Probes {
    /// The boundary query's rows (empty when there is one partition).
    pub boundary_rows: Vec<BoundaryRow>,
    /// One per unbounded numeric column, in column order (may be empty: VARCHAR then).
    pub numeric_profiles: Vec<NumericProfile>,
    /// One count per column checked by the out-of-range query, in its order (may be empty).
    pub out_of_range_counts: Vec<u64>,
}

/// One column of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedColumn {
    pub source: TypedColumn,
    /// The exact Snowflake column name (also the Parquet field name).
    pub target_name: String,
    /// The Snowflake type, after `columnTypeMappings`.
    pub snowflake_type: String,
    pub nullable: bool,
}

/// The result of the analysis of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TablePlan {
    pub platform: SourcePlatform,
    pub table: TableRef,
    pub columns: Vec<PlannedColumn>,
    pub keys: Vec<TypedColumn>,
    pub stats: TableStats,
    pub partitions: Vec<Partition>,
    pub where_clause: Option<String>,
}

impl TablePlan {
    /// The Arrow schema of the extracted record batches and Parquet files: target names, the
    /// types the dialect decided.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    Field::new(
                        &c.target_name,
                        c.source.column_type.arrow_type(),
                        c.nullable,
                    )
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// The schema an extraction reads: source names, the types the dialect decided, and the
    /// checksum's reading of text that lands in a fixed-point column
    /// ([`crate::source::content_checksum::extraction_field`]).
    pub fn extraction_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    crate::source::content_checksum::extraction_field(
                        &c.source.name,
                        c.source.column_type.arrow_type(),
                        c.nullable,
                        &c.snowflake_type,
                    )
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// The source columns in extraction order.
    pub fn source_columns(&self) -> Vec<TypedColumn> {
        self.columns.iter().map(|c| c.source.clone()).collect()
    }
}

/// Classifies the columns, resolves the key and sizes the partitions.
pub fn prepare_analysis(input: &PlanInput) -> Result<Analysis, PlanError> {
    let table_name = input.table.display_name();
    if let Some(fragment) = &input.options.where_clause {
        check_where_clause(input.platform, fragment).map_err(|source| PlanError::WhereClause {
            table: table_name.clone(),
            source,
        })?;
    }
    let dialect = Dialect::new(input.platform);
    let mut columns: Vec<&SourceColumn> = input.columns.iter().collect();
    columns.sort_by_key(|c| c.ordinal);
    let typed = columns
        .iter()
        .map(|c| TypedColumn::classify(input.platform, &input.table, c))
        .collect::<Result<Vec<_>, _>>()?;

    let (key_names, field) = if !input.options.partition_columns.is_empty() {
        (&input.options.partition_columns, "columnNamesToPartitionBy")
    } else if !input.options.primary_key_columns.is_empty() {
        (&input.options.primary_key_columns, "primaryKeyColumns")
    } else {
        (&input.primary_key, "primary key")
    };
    let keys = key_names
        .iter()
        .map(|name| {
            let i = resolve_column(input.platform, &table_name, &typed, name, field)?;
            let key = typed[i].clone();
            if !dialect.can_partition_by(&key) {
                return Err(PlanError::UnpartitionableKey {
                    table: table_name.clone(),
                    column: key.name.clone(),
                    data_type: key.data_type.clone(),
                });
            }
            Ok(key)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let count = partition_count(
        input.stats.row_count,
        input.stats.size_bytes,
        input.options.partition_size,
        input.platform,
        input.options.extraction_strategy,
    );
    if count > 1 && keys.is_empty() {
        return Err(PlanError::PartitionKeyRequired {
            table: table_name,
            partitions: count,
        });
    }
    let boundary_query = (count > 1)
        .then(|| dialect.boundary_query(&input.table, &keys, count, input.stats.row_count));
    Ok(Analysis {
        numeric_profile_query: dialect.numeric_profile_query(&input.table, &typed),
        out_of_range_query: dialect.out_of_range_query(&input.table, &typed),
        columns: typed,
        keys,
        partition_count: count,
        boundary_query,
    })
}

/// Builds the plan from the catalog facts and what the probe queries returned.
pub fn build_table_plan(input: &PlanInput, probes: &Probes) -> Result<TablePlan, PlanError> {
    let analysis = prepare_analysis(input)?;
    let table_name = input.table.display_name();
    check_out_of_range(input, &analysis, &probes.out_of_range_counts)?;

    let mut target_names = Vec::with_capacity(analysis.columns.len());
    let mut mapped: Vec<Option<String>> = vec![None; analysis.columns.len()];
    for mapping in &input.options.column_name_mappings {
        let i = resolve_column(
            input.platform,
            &table_name,
            &analysis.columns,
            &mapping.source_name,
            "columnNameMappings",
        )?;
        mapped[i] = Some(snowflake_name(&Ident::parse(&mapping.target_name)));
    }
    let mut profiles = probes.numeric_profiles.iter();
    let mut columns = Vec::with_capacity(analysis.columns.len());
    for (column, mapped) in analysis.columns.iter().zip(mapped) {
        let target_name = mapped.unwrap_or_else(|| default_target_name(&column.name));
        if let Some((first, _)) = target_names
            .iter()
            .find(|(_, t): &&(String, String)| *t == target_name)
        {
            return Err(PlanError::DuplicateTargetName {
                table: table_name,
                first: first.clone(),
                second: column.name.clone(),
                target: target_name,
            });
        }
        target_names.push((column.name.clone(), target_name.clone()));
        let profile = if column.column_type.kind == ColumnKind::UnboundedDecimal {
            profiles.next().copied()
        } else {
            None
        };
        let source = input
            .columns
            .iter()
            .find(|c| c.name == column.name)
            .expect("typed columns come from the input columns");
        let snowflake_type = match mapped_type(&input.options.column_type_mappings, source) {
            Some(mapping) => checked_target_type(&table_name, mapping)?,
            None => column.column_type.snowflake_type(profile),
        };
        columns.push(PlannedColumn {
            source: column.clone(),
            target_name,
            snowflake_type,
            nullable: column.nullable,
        });
    }

    let partitions = if analysis.partition_count > 1 {
        partitions_from_boundaries(&probes.boundary_rows, input.stats.row_count)
    } else {
        vec![Partition::whole_table(input.stats.row_count)]
    };
    Ok(TablePlan {
        platform: input.platform,
        table: input.table.clone(),
        columns,
        keys: analysis.keys,
        stats: input.stats,
        partitions,
        where_clause: input.options.where_clause.clone(),
    })
}

/// Fails on the first column whose out-of-range count is not zero (the counts follow the
/// columns the dialect's out-of-range query checks, in order).
fn check_out_of_range(
    input: &PlanInput,
    analysis: &Analysis,
    counts: &[u64],
) -> Result<(), PlanError> {
    let checked = analysis.columns.iter().filter(|c| {
        c.column_type.extraction == crate::source::dialect::Extraction::Native
            && matches!(
                c.column_type.kind,
                ColumnKind::Date | ColumnKind::Timestamp { .. } | ColumnKind::TimestampTz { .. }
            )
    });
    for (column, &rows) in checked.zip(counts) {
        if rows > 0 {
            return Err(PlanError::OutOfRangeValues {
                table: input.table.display_name(),
                column: column.name.clone(),
                rows,
            });
        }
    }
    Ok(())
}

/// Finds a configured column name among the table's columns: a quoted name matches exactly;
/// an unquoted name matches its platform-folded spelling, else the one column equal ignoring
/// case.
fn resolve_column(
    platform: SourcePlatform,
    table: &str,
    columns: &[TypedColumn],
    raw: &str,
    field: &'static str,
) -> Result<usize, PlanError> {
    let ident = Ident::parse(raw);
    let folded = ident.catalog_name(platform);
    if let Some(i) = columns.iter().position(|c| c.name == folded) {
        return Ok(i);
    }
    let not_found = || PlanError::ColumnNotFound {
        table: table.to_string(),
        column: raw.to_string(),
        field,
        available: columns
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    if ident.quoted {
        return Err(not_found());
    }
    let matches: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name.eq_ignore_ascii_case(&ident.name))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(not_found()),
        many => Err(PlanError::AmbiguousColumn {
            table: table.to_string(),
            column: raw.to_string(),
            field,
            matches: many
                .iter()
                .map(|i| format!("`{}`", columns[*i].name))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The Snowflake spelling of a name the user wrote: quoted names are exact, unquoted names are
/// upper-cased (what Snowflake does with an unquoted identifier).
fn snowflake_name(ident: &Ident) -> String {
    if ident.quoted {
        ident.name.clone()
    } else {
        ident.name.to_uppercase()
    }
}

/// The Snowflake name of a source column without a mapping: a name the user could write
/// unquoted ([`is_plain_identifier`], not mixed case) becomes the unquoted, upper-case
/// Snowflake name; anything else (mixed case, spaces, symbols) keeps its exact spelling.
pub fn default_target_name(source_name: &str) -> String {
    let simple = is_plain_identifier(source_name);
    let has_lower = source_name.chars().any(|c| c.is_ascii_lowercase());
    let has_upper = source_name.chars().any(|c| c.is_ascii_uppercase());
    if simple && !(has_lower && has_upper) {
        source_name.to_uppercase()
    } else {
        source_name.to_string()
    }
}

/// The `columnTypeMappings` entry for a column: `sourceType` matches the bare type name
/// (`MONEY`, `varchar`, with common aliases) or the full type (`NUMERIC(10,2)`), ignoring case
/// and spaces. The first match wins.
fn mapped_type<'a>(mappings: &'a [TypeMapping], column: &SourceColumn) -> Option<&'a TypeMapping> {
    let bare = squash(&column.data_type);
    let full = match (column.precision, column.scale, column.char_length) {
        (Some(p), Some(s), _) => Some(format!("{bare}({p},{s})")),
        (Some(p), None, _) => Some(format!("{bare}({p})")),
        (None, _, Some(len)) if len > 0 => Some(format!("{bare}({len})")),
        _ => None,
    };
    let aliases = type_aliases(&bare);
    mappings.iter().find(|m| {
        let wanted = squash(&m.source_type);
        wanted == bare
            || full.as_deref() == Some(wanted.as_str())
            || aliases.contains(&wanted.as_str())
            || full
                .as_deref()
                .is_some_and(|f| aliases.iter().any(|a| f.replacen(&bare, a, 1) == wanted))
    })
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

/// Other spellings of catalog type names (already squashed and upper-cased).
fn type_aliases(bare: &str) -> &'static [&'static str] {
    match bare {
        "CHARACTERVARYING" => &["VARCHAR"],
        "CHARACTER" | "BPCHAR" => &["CHAR"],
        "TIMESTAMPWITHOUTTIMEZONE" => &["TIMESTAMP"],
        "TIMESTAMPWITHTIMEZONE" => &["TIMESTAMPTZ"],
        "TIMEWITHOUTTIMEZONE" => &["TIME"],
        "DOUBLEPRECISION" => &["FLOAT8", "DOUBLE"],
        "INTEGER" => &["INT", "INT4"],
        "INT" => &["INTEGER"],
        "SMALLINT" => &["INT2"],
        "BIGINT" => &["INT8"],
        "BOOLEAN" => &["BOOL"],
        "NUMERIC" => &["DECIMAL"],
        "DECIMAL" => &["NUMERIC"],
        _ => &[],
    }
}

/// A target type goes into CREATE TABLE text: it must be one type name, by the rule the
/// offline checks apply too (`config_schema::snowflake_type`).
fn checked_target_type(table: &str, mapping: &TypeMapping) -> Result<String, PlanError> {
    match config_schema::snowflake_type::check_snowflake_type(&mapping.target_type) {
        Ok(()) => Ok(mapping.target_type.trim().to_string()),
        Err(_) => Err(PlanError::InvalidTargetType {
            table: table.to_string(),
            source_type: mapping.source_type.clone(),
            target_type: mapping.target_type.clone(),
        }),
    }
}

#[cfg(test)]
mod tests;
