//! The per-partition checksum for `synchronization.strategy = "checksum"`.
//!
//! One query per partition returns `row_count` and `row_hash_sum`; the pair, joined as
//! `row_count:row_hash_sum`, is compared with the value stored at the previous run (source now
//! versus source then; the target is never hashed).
//!
//! Each row is turned into one canonical text: every column as `<length>:<text>` (or `N` for
//! NULL), concatenated in column order. The length prefix makes the encoding unambiguous
//! (`'a|b', 'c'` and `'a', 'b|c'` differ), and NULL differs from the empty string. The text is
//! hashed with MD5, the first 64 bits are read as a signed integer, and the integers are summed
//! as a 38-digit decimal (no overflow). A sum is order-independent, so no sort is needed.
//!
//! Per platform: PostgreSQL `md5` (timestamptz rendered in UTC, bytea as hex, so the session's
//! settings do not matter); Redshift `MD5` with `STRTOL` of 15 hex digits; SQL Server
//! `HASHBYTES('MD5')` over NVARCHAR text (float style 3, date/time style 126, binary style 2);
//! Teradata has no MD5 built in and uses `HASHROW` over the columns (32 bits, 64 columns per
//! call; unverified: no Teradata here); SQLite has no hash function at all, so its checksum is
//! the row count plus the total length of the canonical texts (a weak check for the demo source).

use config_schema::SourcePlatform;

use super::{ColumnKind, Dialect, DialectError, ExtractionRequest, TypedColumn};

impl Dialect {
    /// The checksum query of one partition (same filters as its extraction query).
    pub fn checksum_query(&self, request: &ExtractionRequest<'_>) -> Result<String, DialectError> {
        let sum = self.row_hash_sum(request.columns);
        let mut sql = format!(
            "{}SELECT COUNT(*) AS row_count, {sum} AS row_hash_sum FROM {}",
            self.lock_prefix(),
            self.table_name(request.table)
        );
        let filters = self.filters(request)?;
        if !filters.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&filters.join(" AND "));
        }
        Ok(sql)
    }

    /// The aggregate over the rows' hashes, as text.
    fn row_hash_sum(&self, columns: &[TypedColumn]) -> String {
        let row_text = || self.canonical_row(columns);
        match self.platform {
            SourcePlatform::Postgresql => format!(
                "CAST(COALESCE(SUM(CAST(CAST(CAST('x' || substr(md5({}), 1, 16) AS BIT(64)) AS BIGINT) AS NUMERIC)), 0) AS TEXT)",
                row_text()
            ),
            SourcePlatform::Redshift => format!(
                "CAST(COALESCE(SUM(CAST(STRTOL(SUBSTRING(MD5({}), 1, 15), 16) AS DECIMAL(38,0))), 0) AS VARCHAR(40))",
                row_text()
            ),
            SourcePlatform::Sqlserver => format!(
                "CAST(COALESCE(SUM(CAST(CAST(SUBSTRING(HASHBYTES('MD5', {}), 1, 8) AS BIGINT) AS DECIMAL(38,0))), 0) AS VARCHAR(40))",
                row_text()
            ),
            SourcePlatform::Sqlite => {
                format!("CAST(COALESCE(SUM(LENGTH({})), 0) AS TEXT)", row_text())
            }
            SourcePlatform::Teradata => self.teradata_hash_sum(columns),
        }
    }

    /// `<length>:<text>` per column, `N` for NULL, concatenated.
    fn canonical_row(&self, columns: &[TypedColumn]) -> String {
        let concat = match self.platform {
            SourcePlatform::Sqlserver => " + ",
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Teradata
            | SourcePlatform::Sqlite => " || ",
        };
        if columns.is_empty() {
            return "''".into();
        }
        columns
            .iter()
            .map(|c| {
                let text = self.canonical_text(c);
                match self.platform {
                    SourcePlatform::Sqlserver => format!(
                        "COALESCE(CAST(DATALENGTH({text}) AS NVARCHAR(20)) + N':' + {text}, N'N')"
                    ),
                    SourcePlatform::Postgresql
                    | SourcePlatform::Redshift
                    | SourcePlatform::Teradata
                    | SourcePlatform::Sqlite => format!(
                        "COALESCE(CAST(LENGTH({text}) AS {}) || ':' || {text}, 'N')",
                        self.short_text_type()
                    ),
                }
            })
            .collect::<Vec<_>>()
            .join(concat)
    }

    fn short_text_type(&self) -> &'static str {
        match self.platform {
            SourcePlatform::Redshift => "VARCHAR(20)",
            SourcePlatform::Postgresql
            | SourcePlatform::Sqlserver
            | SourcePlatform::Teradata
            | SourcePlatform::Sqlite => "TEXT",
        }
    }

    /// A text form of one column that does not depend on session settings.
    fn canonical_text(&self, column: &TypedColumn) -> String {
        let c = self.quote_ident(&column.name);
        let kind = column.column_type.kind;
        match self.platform {
            SourcePlatform::Postgresql => match kind {
                ColumnKind::TimestampTz { .. } => {
                    format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
                }
                ColumnKind::Binary { .. } => format!("encode({c}, 'hex')"),
                _ => format!("CAST({c} AS TEXT)"),
            },
            SourcePlatform::Redshift => match kind {
                ColumnKind::TimestampTz { .. } => {
                    format!("TO_CHAR(CONVERT_TIMEZONE('UTC', {c}), 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
                }
                ColumnKind::Binary { .. } => format!("TO_HEX({c})"),
                ColumnKind::Variant => format!("JSON_SERIALIZE({c})"),
                ColumnKind::Geography | ColumnKind::Geometry => format!("ST_AsText({c})"),
                _ => format!("CAST({c} AS VARCHAR(65535))"),
            },
            SourcePlatform::Sqlserver => match kind {
                ColumnKind::Float32 | ColumnKind::Float64 => {
                    format!("CONVERT(NVARCHAR(MAX), {c}, 3)")
                }
                ColumnKind::Date
                | ColumnKind::Time { .. }
                | ColumnKind::Timestamp { .. }
                | ColumnKind::TimestampTz { .. } => format!("CONVERT(NVARCHAR(MAX), {c}, 126)"),
                ColumnKind::Binary { .. } => format!("CONVERT(NVARCHAR(MAX), {c}, 2)"),
                ColumnKind::Geography | ColumnKind::Geometry => format!("{c}.STAsText()"),
                _ => format!("CONVERT(NVARCHAR(MAX), {c})"),
            },
            SourcePlatform::Sqlite => match kind {
                ColumnKind::Binary { .. } => format!("hex({c})"),
                _ => format!("CAST({c} AS TEXT)"),
            },
            SourcePlatform::Teradata => c,
        }
    }

    /// HASHROW takes at most 64 expressions: hash the columns in slices and add the slices.
    fn teradata_hash_sum(&self, columns: &[TypedColumn]) -> String {
        if columns.is_empty() {
            return "CAST(0 AS VARCHAR(40))".into();
        }
        let slices: Vec<String> = columns
            .chunks(64)
            .map(|chunk| {
                let cols: Vec<String> = chunk.iter().map(|c| self.quote_ident(&c.name)).collect();
                format!(
                    "CAST(FROM_BYTES(HASHROW({}), 'base10') AS DECIMAL(38,0))",
                    cols.join(", ")
                )
            })
            .collect();
        format!(
            "CAST(COALESCE(SUM({}), 0) AS VARCHAR(40))",
            slices.join(" + ")
        )
    }
}
