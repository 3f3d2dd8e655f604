//! One dialect per source platform: SQL text and type decisions, no I/O.
//!
//! [`Dialect`] is a plain value wrapping the [`SourcePlatform`]; each method matches on it.
//! Everything that reaches SQL text is either a quoted identifier (never a raw name), a number
//! we computed, a literal rendered from a typed [`KeyValue`], or the one user fragment
//! `whereClauseCriteria`, checked by [`check_where_clause`]. Catalog lookups take names as
//! bound parameters.
//!
//! Adding a platform: add the variant to `SourcePlatform` and the compiler lists every `match`
//! that must decide for it (no `match` on a platform has a `_ =>` arm, so none is skipped
//! silently). The files that hold those decisions:
//!
//! - `crates/config-schema/src/platform.rs`: the variant, its name and `ALL`;
//! - `crates/config-schema/src/where_clause.rs` (quoting rules of `whereClauseCriteria`) and
//!   `crates/config-schema/src/worker/model.rs` (the worker's connection settings);
//! - this module: quoting, object names, catalog parameters, probe and extraction SQL, and
//!   `checksum.rs` (the content checksum query), `literal.rs` (key literals),
//!   `type_mapping.rs` (type rules), plus its catalog queries under `sql/`
//!   (`<platform>_columns.sql`, `_primary_key.sql`, `_stats.sql`);
//! - `crates/core/src/source/catalog.rs` (catalog spelling of names),
//!   `crates/core/src/source/connection_string.rs` and `crates/core/src/source/odbc/options.rs`
//!   (connecting; narrow or wide text, columnar or row-by-row fetch),
//!   `crates/core/src/source/odbc/columnar.rs` (SQL Server's UTF-16 length probe),
//!   `crates/core/src/plan/partition_size.rs` (size profiles) and
//!   `crates/core/src/plan/target_predicate.rs` (which key types a target predicate can use);
//! - snapshot tests in `tests.rs` and a conformance run in `crates/core/tests/`.
//!
//! Object names per platform: PostgreSQL and Redshift read `schema.table` in the connected
//! database; SQL Server reads `[database].[schema].[table]`; Teradata has no schema layer and
//! reads `"schemaName"."tableName"` (the workflow's `schemaName` names the Teradata database);
//! SQLite reads the table in the connected database file.

pub mod checksum;
mod error;
pub mod literal;
pub mod type_mapping;
mod typed_column;
pub mod where_clause;

use arrow::datatypes::DataType;
use config_schema::SourcePlatform;

use crate::key_range::condition::{Condition, KeyOrder, NullOrder};
use crate::key_range::key_value::KeyValue;
use crate::key_range::partition::Partition;
use crate::source::catalog::{CatalogQuery, SourceColumn, TableRef};

pub use error::DialectError;
pub use type_mapping::{
    classify, ColumnKind, ColumnType, Extraction, NumericProfile, UnsupportedType,
};
pub use typed_column::TypedColumn;
pub use where_clause::{check_where_clause, WhereClauseError};

/// The SQL dialect of one source platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    platform: SourcePlatform,
}

/// Everything the extraction query of one partition needs.
#[derive(Debug, Clone, Copy)]
pub struct ExtractionRequest<'a> {
    pub table: &'a TableRef,
    pub columns: &'a [TypedColumn],
    /// The partition key columns, in key order (empty: unpartitioned).
    pub keys: &'a [TypedColumn],
    pub partition: &'a Partition,
    /// `whereClauseCriteria`, checked again here.
    pub where_clause: Option<&'a str>,
    /// Watermark sync: only rows with `column > value`.
    pub watermark: Option<(&'a TypedColumn, &'a KeyValue)>,
}

impl Dialect {
    pub fn new(platform: SourcePlatform) -> Dialect {
        Dialect { platform }
    }

    pub fn platform(&self) -> SourcePlatform {
        self.platform
    }

    /// Where NULL sorts under a plain ascending `ORDER BY col` on this platform.
    pub fn null_order(&self) -> NullOrder {
        match self.platform {
            SourcePlatform::Postgresql | SourcePlatform::Redshift => NullOrder::Last,
            SourcePlatform::Sqlserver | SourcePlatform::Teradata | SourcePlatform::Sqlite => {
                NullOrder::First
            }
        }
    }

    /// Quotes an exact identifier: `"a""b"`, or `[a]]b]` on SQL Server.
    pub fn quote_ident(&self, name: &str) -> String {
        match self.platform {
            SourcePlatform::Sqlserver => format!("[{}]", name.replace(']', "]]")),
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Teradata
            | SourcePlatform::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The table as it appears in FROM (see the module docs for the parts used).
    pub fn table_name(&self, table: &TableRef) -> String {
        let p = self.platform;
        let q = |ident: &crate::source::catalog::Ident| self.quote_ident(&ident.catalog_name(p));
        match p {
            SourcePlatform::Postgresql | SourcePlatform::Redshift | SourcePlatform::Teradata => {
                format!("{}.{}", q(&table.schema), q(&table.table))
            }
            SourcePlatform::Sqlserver => format!(
                "{}.{}.{}",
                q(&table.database),
                q(&table.schema),
                q(&table.table)
            ),
            SourcePlatform::Sqlite => q(&table.table),
        }
    }

    /// Teradata reads every row without waiting for writers' locks, like the existing tool.
    fn lock_prefix(&self) -> &'static str {
        match self.platform {
            SourcePlatform::Teradata => "LOCKING ROW FOR ACCESS\n",
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Sqlserver
            | SourcePlatform::Sqlite => "",
        }
    }

    /// Parameters naming the table in catalog queries: schema and table in catalog spelling
    /// (SQLite: the table only).
    fn catalog_params(&self, table: &TableRef) -> Vec<String> {
        let p = self.platform;
        match p {
            SourcePlatform::Sqlite => vec![table.table.catalog_name(p)],
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Sqlserver
            | SourcePlatform::Teradata => {
                vec![table.schema.catalog_name(p), table.table.catalog_name(p)]
            }
        }
    }

    fn fill_catalog_sql(&self, template: &str, table: &TableRef) -> String {
        template
            .replace(
                "{database}",
                &self.quote_ident(&table.database.catalog_name(self.platform)),
            )
            .replace("{table}", &self.table_name(table))
            // Some drivers (SQLite's) refuse anything, even a newline, after the statement.
            .trim_end()
            .to_string()
    }

    /// Columns of the table. Result columns, in order: column_name, data_type,
    /// numeric_precision, numeric_scale, char_length, is_nullable ('YES'/'NO'),
    /// ordinal_position. Turn rows into [`SourceColumn`]s with [`source_column`].
    pub fn columns_query(&self, table: &TableRef) -> CatalogQuery {
        let template = match self.platform {
            SourcePlatform::Postgresql => include_str!("sql/postgresql_columns.sql"),
            SourcePlatform::Redshift => include_str!("sql/redshift_columns.sql"),
            SourcePlatform::Sqlserver => include_str!("sql/sqlserver_columns.sql"),
            SourcePlatform::Teradata => include_str!("sql/teradata_columns.sql"),
            SourcePlatform::Sqlite => include_str!("sql/sqlite_columns.sql"),
        };
        CatalogQuery {
            sql: self.fill_catalog_sql(template, table),
            params: self.catalog_params(table),
        }
    }

    /// Primary-key columns in key order; one result column, column_name.
    pub fn primary_key_query(&self, table: &TableRef) -> CatalogQuery {
        let template = match self.platform {
            SourcePlatform::Postgresql => include_str!("sql/postgresql_primary_key.sql"),
            SourcePlatform::Redshift => include_str!("sql/redshift_primary_key.sql"),
            SourcePlatform::Sqlserver => include_str!("sql/sqlserver_primary_key.sql"),
            SourcePlatform::Teradata => include_str!("sql/teradata_primary_key.sql"),
            SourcePlatform::Sqlite => include_str!("sql/sqlite_primary_key.sql"),
        };
        CatalogQuery {
            sql: self.fill_catalog_sql(template, table),
            params: self.catalog_params(table),
        }
    }

    /// Row count and size; one row with row_count and size_bytes (both integers).
    pub fn stats_query(&self, table: &TableRef) -> CatalogQuery {
        let (template, params) = match self.platform {
            SourcePlatform::Postgresql => (
                include_str!("sql/postgresql_stats.sql"),
                self.catalog_params(table),
            ),
            SourcePlatform::Redshift => (
                include_str!("sql/redshift_stats.sql"),
                self.catalog_params(table),
            ),
            SourcePlatform::Sqlserver => (include_str!("sql/sqlserver_stats.sql"), {
                let p = self.catalog_params(table);
                [p.clone(), p].concat()
            }),
            SourcePlatform::Teradata => (
                include_str!("sql/teradata_stats.sql"),
                self.catalog_params(table),
            ),
            SourcePlatform::Sqlite => (include_str!("sql/sqlite_stats.sql"), Vec::new()),
        };
        CatalogQuery {
            sql: self.fill_catalog_sql(template, table),
            params,
        }
    }

    /// For PostgreSQL tables with unconstrained `numeric` columns: one row with, per such
    /// column in the given order, three outputs: its largest scale, its largest integer-digit
    /// count (both NULL for an empty table) and its count of NaN/infinity values. `None` when
    /// no column needs it or the platform has no profile.
    pub fn numeric_profile_query(
        &self,
        table: &TableRef,
        columns: &[TypedColumn],
    ) -> Option<String> {
        if self.platform != SourcePlatform::Postgresql {
            return None;
        }
        let outputs: Vec<String> = columns
            .iter()
            .filter(|c| c.column_type.kind == ColumnKind::UnboundedDecimal)
            .enumerate()
            .map(|(i, c)| {
                let col = self.quote_ident(&c.name);
                format!(
                    "MAX(scale({col})) AS scale_{i}, \
                     MAX(length(CAST(trunc(abs({col})) AS TEXT))) AS integer_digits_{i}, \
                     COUNT(CASE WHEN {col} IS NOT NULL AND scale({col}) IS NULL THEN 1 END) AS special_{i}"
                )
            })
            .collect();
        if outputs.is_empty() {
            return None;
        }
        Some(
            include_str!("sql/postgresql_numeric_profile.sql")
                .replace("{profile_columns}", &outputs.join(",\n       "))
                .replace("{table}", &self.table_name(table))
                .trim_end()
                .to_string(),
        )
    }

    /// Dates and timestamps the ODBC driver would silently corrupt (psqlODBC turns `infinity`
    /// into 9999-12-31 or today's date, and years outside 1..=9999 wrap): one row with, per
    /// natively extracted date/timestamp column in the given order, the count of such values.
    /// PostgreSQL and Redshift only; `None` when no column needs it.
    pub fn out_of_range_query(&self, table: &TableRef, columns: &[TypedColumn]) -> Option<String> {
        let finite_check = match self.platform {
            SourcePlatform::Postgresql => true,
            SourcePlatform::Redshift => false,
            SourcePlatform::Sqlserver | SourcePlatform::Teradata | SourcePlatform::Sqlite => {
                return None
            }
        };
        let outputs: Vec<String> = columns
            .iter()
            .filter(|c| {
                c.column_type.extraction == Extraction::Native
                    && matches!(
                        c.column_type.kind,
                        ColumnKind::Date
                            | ColumnKind::Timestamp { .. }
                            | ColumnKind::TimestampTz { .. }
                    )
            })
            .enumerate()
            .map(|(i, c)| {
                let col = self.quote_ident(&c.name);
                let not_finite = if finite_check {
                    format!("NOT isfinite({col}) OR ")
                } else {
                    String::new()
                };
                format!(
                    "COUNT(CASE WHEN {not_finite}EXTRACT(YEAR FROM {col}) NOT BETWEEN 1 AND 9999 THEN 1 END) AS out_of_range_{i}"
                )
            })
            .collect();
        if outputs.is_empty() {
            return None;
        }
        Some(format!(
            "SELECT {} FROM {}",
            outputs.join(", "),
            self.table_name(table)
        ))
    }

    /// The expression selecting a column for extraction (aliased to its own name when it is
    /// not the bare column).
    pub fn select_item(&self, column: &TypedColumn) -> String {
        let expr = self.select_expr(column);
        let quoted = self.quote_ident(&column.name);
        if expr == quoted {
            quoted
        } else {
            format!("{expr} AS {quoted}")
        }
    }

    /// The expression producing a column's value in the form the pipeline reads.
    pub fn select_expr(&self, column: &TypedColumn) -> String {
        let c = self.quote_ident(&column.name);
        let p = self.platform;
        match column.column_type.extraction {
            Extraction::Native if p == SourcePlatform::Sqlite && column.column_type.is_float() => {
                sqlite_exact_real(&c)
            }
            Extraction::Native => c,
            Extraction::Text => self.text_expr(&c),
            Extraction::JsonText => match p {
                SourcePlatform::Postgresql => format!("CAST(array_to_json({c}) AS TEXT)"),
                SourcePlatform::Redshift => format!("JSON_SERIALIZE({c})"),
                SourcePlatform::Sqlserver | SourcePlatform::Teradata | SourcePlatform::Sqlite => {
                    self.text_expr(&c)
                }
            },
            Extraction::WellKnownText => match p {
                SourcePlatform::Postgresql | SourcePlatform::Redshift => format!("ST_AsText({c})"),
                SourcePlatform::Sqlserver => format!("{c}.STAsText()"),
                SourcePlatform::Teradata => format!("{c}.ST_AsText()"),
                SourcePlatform::Sqlite => self.text_expr(&c),
            },
            Extraction::IsoText => match p {
                // Style 126: yyyy-mm-ddThh:mi:ss.fffffff, plus the offset for datetimeoffset.
                SourcePlatform::Sqlserver => format!("CONVERT(VARCHAR(40), {c}, 126)"),
                SourcePlatform::Postgresql
                | SourcePlatform::Redshift
                | SourcePlatform::Teradata
                | SourcePlatform::Sqlite => self.text_expr(&c),
            },
            Extraction::DecimalCast { precision, scale } => {
                format!("CAST({c} AS NUMERIC({precision},{scale}))")
            }
        }
    }

    /// The platform's exact text form of any value.
    fn text_expr(&self, c: &str) -> String {
        match self.platform {
            SourcePlatform::Postgresql | SourcePlatform::Sqlite => format!("CAST({c} AS TEXT)"),
            SourcePlatform::Redshift => format!("CAST({c} AS VARCHAR(65535))"),
            SourcePlatform::Sqlserver => format!("CONVERT(NVARCHAR(MAX), {c})"),
            SourcePlatform::Teradata => format!("CAST({c} AS VARCHAR(64000))"),
        }
    }

    /// How the boundary query selects a key column. Usually the extraction expression; SQLite
    /// dates and timestamps are stored as text, so their bounds are the stored text itself
    /// (a driver-parsed value rendered back could compare differently).
    pub fn key_select_expr(&self, key: &TypedColumn) -> String {
        if self.key_is_stored_text(key) {
            return self.text_expr(&self.quote_ident(&key.name));
        }
        self.select_expr(key)
    }

    /// The Arrow type of a key column in the boundary query's result.
    pub fn key_arrow_type(&self, key: &TypedColumn) -> DataType {
        if self.key_is_stored_text(key) {
            return DataType::Utf8;
        }
        key.column_type.arrow_type()
    }

    fn key_is_stored_text(&self, key: &TypedColumn) -> bool {
        self.platform == SourcePlatform::Sqlite
            && matches!(
                key.column_type.kind,
                ColumnKind::Date | ColumnKind::Timestamp { .. } | ColumnKind::Time { .. }
            )
    }

    /// The boundary query: numbers the rows in key order and returns, in order, the first row
    /// of each of `buckets` buckets plus the last row, as `row_num, key_0, key_1, ...`
    /// (see `sql/boundary.sql`). `total_rows` is the catalog's row count (> 0).
    pub fn boundary_query(
        &self,
        table: &TableRef,
        keys: &[TypedColumn],
        buckets: u64,
        total_rows: u64,
    ) -> String {
        let aliases: Vec<String> = (0..keys.len()).map(|i| format!("key_{i}")).collect();
        let selects: Vec<String> = keys
            .iter()
            .zip(&aliases)
            .map(|(k, alias)| format!("{} AS {alias}", self.key_select_expr(k)))
            .collect();
        let order_by: Vec<String> = keys.iter().map(|k| self.quote_ident(&k.name)).collect();
        let bucket_start = match self.platform {
            SourcePlatform::Teradata => format!("MOD((row_num - 1) * {buckets}, {total_rows})"),
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Sqlserver
            | SourcePlatform::Sqlite => format!("((row_num - 1) * {buckets}) % {total_rows}"),
        };
        include_str!("sql/boundary.sql")
            .replace("{lock}", self.lock_prefix())
            .replace("{key_aliases}", &aliases.join(", "))
            .replace("{key_selects}", &selects.join(", "))
            .replace("{order_by}", &order_by.join(", "))
            .replace("{table}", &self.table_name(table))
            .replace("{bucket_start}", &bucket_start)
            .replace("{buckets}", &buckets.to_string())
            .replace("{total_rows}", &total_rows.to_string())
            .trim_end()
            .to_string()
    }

    /// Can rows be split into ranges of this column? Its type must order meaningfully, and the
    /// platform must be able to sort and compare it (SQL Server `text`/`ntext` and Teradata
    /// CLOB cannot be sorted).
    pub fn can_partition_by(&self, column: &TypedColumn) -> bool {
        let data_type = column.data_type.to_lowercase();
        let unsortable = match self.platform {
            SourcePlatform::Sqlserver => matches!(data_type.as_str(), "text" | "ntext"),
            SourcePlatform::Teradata => data_type == "co",
            SourcePlatform::Postgresql | SourcePlatform::Redshift | SourcePlatform::Sqlite => false,
        };
        column.column_type.is_partitionable() && !unsortable
    }

    /// The ordering facts the planner needs for each key column.
    pub fn key_orders(&self, keys: &[TypedColumn]) -> Vec<KeyOrder> {
        keys.iter()
            .map(|k| KeyOrder {
                nulls: self.null_order(),
                nullable: k.nullable,
            })
            .collect()
    }

    /// The SQL predicate of one partition (`None` when it selects every row).
    pub fn partition_predicate(
        &self,
        keys: &[TypedColumn],
        partition: &Partition,
    ) -> Result<Option<String>, DialectError> {
        for bound in partition.lower.iter().chain(partition.upper.iter()) {
            if bound.values.len() != keys.len() {
                return Err(DialectError::KeyArity {
                    values: bound.values.len(),
                    keys: keys.len(),
                });
            }
        }
        let condition = partition.condition(&self.key_orders(keys));
        match condition {
            Condition::True => Ok(None),
            other => self.render_condition(&other, keys).map(Some),
        }
    }

    /// Renders a condition tree; ANDs inside ORs get parentheses.
    pub fn render_condition(
        &self,
        condition: &Condition,
        keys: &[TypedColumn],
    ) -> Result<String, DialectError> {
        let column = |i: usize| self.quote_ident(&keys[i].name);
        Ok(match condition {
            Condition::True => "1 = 1".into(),
            Condition::False => "1 = 0".into(),
            Condition::Cmp {
                column: i,
                op,
                value,
            } => format!(
                "{} {} {}",
                column(*i),
                op.sql(),
                self.literal(value, &keys[*i])?
            ),
            Condition::IsNull(i) => format!("{} IS NULL", column(*i)),
            Condition::IsNotNull(i) => format!("{} IS NOT NULL", column(*i)),
            Condition::And(parts) | Condition::Or(parts) => {
                let joiner = if matches!(condition, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let rendered: Result<Vec<String>, DialectError> = parts
                    .iter()
                    .map(|part| {
                        let text = self.render_condition(part, keys)?;
                        Ok(match part {
                            Condition::And(_) | Condition::Or(_) => format!("({text})"),
                            _ => text,
                        })
                    })
                    .collect();
                rendered?.join(joiner)
            }
        })
    }

    /// A typed value as a literal comparable with `column`.
    pub fn literal(&self, value: &KeyValue, column: &TypedColumn) -> Result<String, DialectError> {
        literal::render(self.platform, value, column).map_err(|reason| DialectError::InvalidValue {
            column: column.name.clone(),
            reason,
        })
    }

    /// The conditions of an extraction or checksum query: partition predicate, user filter,
    /// watermark; each parenthesised and ANDed.
    fn filters(&self, request: &ExtractionRequest<'_>) -> Result<Vec<String>, DialectError> {
        let mut filters = Vec::new();
        if let Some(predicate) = self.partition_predicate(request.keys, request.partition)? {
            filters.push(format!("({predicate})"));
        }
        if let Some(fragment) = request.where_clause {
            check_where_clause(self.platform, fragment)?;
            filters.push(format!("({})", fragment.trim()));
        }
        if let Some((column, value)) = request.watermark {
            filters.push(format!(
                "{} > {}",
                self.quote_ident(&column.name),
                self.literal(value, column)?
            ));
        }
        Ok(filters)
    }

    /// The SELECT extracting one partition.
    pub fn extraction_query(
        &self,
        request: &ExtractionRequest<'_>,
    ) -> Result<String, DialectError> {
        let columns: Vec<String> = request
            .columns
            .iter()
            .map(|c| self.select_item(c))
            .collect();
        let mut sql = format!(
            "{}SELECT {} FROM {}",
            self.lock_prefix(),
            columns.join(", "),
            self.table_name(request.table)
        );
        let filters = self.filters(request)?;
        if !filters.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&filters.join(" AND "));
        }
        Ok(sql)
    }
}

impl Dialect {
    /// The longest value of each of `columns` (result columns of `select_sql`, with `true` for
    /// binary ones) over the rows `select_sql` returns: one row, one integer (or NULL) per
    /// column, in order. The lengths are what ODBC buffers need: UTF-8 bytes of text (for
    /// PostgreSQL `octet_length`, computed from the value's header without reading it) and
    /// bytes of binary; SQL Server reports `DATALENGTH` bytes (two per UTF-16 unit for national
    /// types), Teradata three bytes per character (its `UNICODE` characters need at most three
    /// in UTF-8).
    pub fn value_length_probe(&self, select_sql: &str, columns: &[(String, bool)]) -> String {
        let outputs: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (name, binary))| {
                let c = self.quote_ident(name);
                let length = match (self.platform, binary) {
                    (SourcePlatform::Postgresql, _) | (SourcePlatform::Redshift, false) => {
                        format!("octet_length({c})")
                    }
                    (SourcePlatform::Redshift, true) => format!("LEN({c})"),
                    (SourcePlatform::Sqlserver, _) => format!("DATALENGTH({c})"),
                    (SourcePlatform::Teradata, false) => format!("CHARACTER_LENGTH({c}) * 3"),
                    (SourcePlatform::Teradata, true) => format!("BYTES({c})"),
                    (SourcePlatform::Sqlite, _) => format!("length(CAST({c} AS BLOB))"),
                };
                format!("MAX({length}) AS length_{i}")
            })
            .collect();
        // Teradata's lock modifier must lead the whole statement.
        let lock = self.lock_prefix();
        let inner = select_sql.strip_prefix(lock).unwrap_or(select_sql);
        format!(
            "{lock}SELECT {} FROM ({inner}) AS length_probe",
            outputs.join(", ")
        )
    }
}

/// The power of two by which [`sqlite_exact_real`] scales large magnitudes down.
pub const SQLITE_REAL_SCALE_EXPONENT: i32 = 806;

/// A SQLite REAL as text that parses back to the very same double.
///
/// The SQLite ODBC driver hands doubles over through SQLite's own 15-digit text, and SQLite
/// before 3.43 renders even 17 digits (`printf('%!.17g')`) inexactly once the magnitude is near
/// 1e100 or above (its long-double scaling loses the last digit: f64::MAX prints as
/// `1.7976931348623156e+308`). Below that its 17-digit rendering is exact. So values of
/// magnitude 1e90 and more are divided by 2^806 (13 exact divisions by 2^62) and printed as
/// `<digits>*2^806`; the reader multiplies back (exact: powers of two). Values that are not
/// REAL (NULL, text in a column of REAL affinity) keep their text, so the reader fails on text
/// that is not a number instead of reading it as 0.
pub fn sqlite_exact_real(column: &str) -> String {
    let divisions = SQLITE_REAL_SCALE_EXPONENT / 62;
    let scaled = format!(
        "{column}{}",
        " / 4611686018427387904".repeat(divisions as usize)
    );
    format!(
        "CASE WHEN typeof({column}) <> 'real' THEN CAST({column} AS TEXT) \
         WHEN abs({column}) >= 1e90 THEN printf('%!.17g*2^{SQLITE_REAL_SCALE_EXPONENT}', {scaled}) \
         ELSE printf('%!.17g', {column}) END"
    )
}

/// One row of a columns query, as read by whatever client ran it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogColumnRow {
    pub column_name: String,
    pub data_type: String,
    pub numeric_precision: Option<i64>,
    pub numeric_scale: Option<i64>,
    pub char_length: Option<i64>,
    pub is_nullable: String,
    pub ordinal_position: i64,
}

/// Turns a row of [`Dialect::columns_query`] into a [`SourceColumn`]. SQLite's declared type
/// carries its parameters (`DECIMAL(10,2)`), which are split out here.
pub fn source_column(platform: SourcePlatform, row: CatalogColumnRow) -> SourceColumn {
    let ordinal = u32::try_from(row.ordinal_position).unwrap_or(0);
    let nullable = !row.is_nullable.trim().eq_ignore_ascii_case("NO");
    if platform == SourcePlatform::Sqlite {
        return crate::source::catalog::sqlite_column(
            ordinal,
            &row.column_name,
            &row.data_type,
            !nullable,
        );
    }
    SourceColumn {
        name: row.column_name,
        data_type: row.data_type.trim().to_string(),
        precision: row.numeric_precision.and_then(|p| u32::try_from(p).ok()),
        scale: row.numeric_scale.and_then(|s| i32::try_from(s).ok()),
        char_length: row.char_length,
        nullable,
        ordinal,
    }
}

#[cfg(test)]
mod tests;
