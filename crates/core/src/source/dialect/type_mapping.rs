//! Type decisions: what a source column is ([`ColumnKind`]), how the extraction query selects
//! it ([`Extraction`]), the Arrow type the pipeline reads it as and the Snowflake type the
//! target column gets.
//!
//! Rules (reference: the existing tool's default mappings), never losing data:
//! - exact numerics keep precision and scale: `NUMBER(p,s)`; integers map by width
//!   (`NUMBER(5,0)`, `NUMBER(10,0)`, `NUMBER(19,0)`); money becomes `NUMBER(19,4)`/`NUMBER(38,4)`;
//! - an exact numeric without a usable precision (PostgreSQL bare `numeric`, Teradata `NUMBER`,
//!   SQLite `NUMERIC`, any precision above 38) is extracted as its exact decimal text. Its
//!   Snowflake type is `NUMBER(38,s)` when a [`NumericProfile`] of the data shows every value
//!   fits (integer digits <= 38 - s, s = the largest scale seen, no NaN or infinity), else
//!   `VARCHAR`: Snowflake cannot hold more than 38 digits and we never round silently;
//! - timestamps keep zone semantics: without zone -> `TIMESTAMP_NTZ(p)` read as Arrow
//!   `Timestamp(µs)`, with zone -> `TIMESTAMP_TZ(p)` read as `Timestamp(µs, "UTC")` (the
//!   session time zone must be UTC). Fractions finer than microseconds (SQL Server `(7)`) and
//!   per-row offsets (SQL Server `datetimeoffset`) are extracted as ISO text instead;
//! - character types keep their length: `VARCHAR(n)` (unbounded -> `VARCHAR`);
//! - json/jsonb/super -> `VARIANT`, arrays -> `ARRAY` (as JSON text), geometry -> WKT text;
//! - everything else with a text form (interval, inet, enum, xml, ...) -> `VARCHAR`.
//!
//! arrow-odbc 26 reads `Timestamp(µs)` only without a zone: read the column naive (it is UTC)
//! and attach the zone afterwards (a metadata-only cast).

use arrow::datatypes::{DataType, TimeUnit};
use config_schema::SourcePlatform;
use serde::{Deserialize, Serialize};

use crate::source::catalog::SourceColumn;

/// The largest VARCHAR Snowflake accepts (characters), defined once in config-schema.
pub const SNOWFLAKE_MAX_VARCHAR: i64 =
    config_schema::snowflake_type::SNOWFLAKE_MAX_VARCHAR_BYTES as i64;
/// The largest BINARY Snowflake accepts (bytes).
pub const SNOWFLAKE_MAX_BINARY: i64 = 8_388_608;

/// The logical type of a source column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnKind {
    Boolean,
    Int8,
    /// SQL Server `tinyint` (0..=255).
    UInt8,
    Int16,
    Int32,
    Int64,
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// Exact numeric without usable precision; extracted as exact decimal text.
    UnboundedDecimal,
    Float32,
    Float64,
    Text {
        max_length: Option<i64>,
    },
    Binary {
        max_length: Option<i64>,
    },
    Date,
    Time {
        fraction_digits: u8,
    },
    Timestamp {
        fraction_digits: u8,
    },
    TimestampTz {
        fraction_digits: u8,
    },
    Uuid,
    /// JSON documents -> VARIANT.
    Variant,
    /// Arrays, extracted as JSON text -> ARRAY.
    Array,
    Geography,
    Geometry,
    /// Any other type with a text form -> VARCHAR.
    OtherText,
}

/// How the extraction query selects a column. Only names, never SQL text: each dialect renders
/// them, so a payload carrying them cannot inject SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extraction {
    /// The column itself.
    Native,
    /// The platform's text rendering of the value.
    Text,
    /// Arrays as JSON text (PostgreSQL `array_to_json`, Redshift `JSON_SERIALIZE`).
    JsonText,
    /// Spatial values as well-known text.
    WellKnownText,
    /// ISO-8601 text keeping every fractional digit and the offset (SQL Server style 126/127).
    IsoText,
    /// A cast to an exact decimal (PostgreSQL `money`).
    DecimalCast { precision: u8, scale: u8 },
}

/// What the type mapping decided for one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    pub kind: ColumnKind,
    pub extraction: Extraction,
}

/// Largest integer digits and scale seen in an unbounded numeric column, and how many values
/// are not numbers at all (PostgreSQL `NaN`, `Infinity`), from the numeric profile query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NumericProfile {
    pub max_integer_digits: u32,
    pub max_scale: u32,
    pub special_values: u64,
}

/// A source type no rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedType {
    pub data_type: String,
}

impl ColumnType {
    fn native(kind: ColumnKind) -> Self {
        ColumnType {
            kind,
            extraction: Extraction::Native,
        }
    }

    fn text(kind: ColumnKind) -> Self {
        ColumnType {
            kind,
            extraction: Extraction::Text,
        }
    }

    /// The Arrow type the extraction pipeline reads the selected expression as (also the type of
    /// the boundary query's key columns).
    pub fn arrow_type(&self) -> DataType {
        if self.extraction != Extraction::Native {
            if let Extraction::DecimalCast { precision, scale } = self.extraction {
                return DataType::Decimal128(precision, scale as i8);
            }
            return DataType::Utf8;
        }
        match self.kind {
            ColumnKind::Boolean => DataType::Boolean,
            ColumnKind::Int8 => DataType::Int8,
            ColumnKind::UInt8 => DataType::UInt8,
            ColumnKind::Int16 => DataType::Int16,
            ColumnKind::Int32 => DataType::Int32,
            ColumnKind::Int64 => DataType::Int64,
            ColumnKind::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            ColumnKind::Float32 => DataType::Float32,
            ColumnKind::Float64 => DataType::Float64,
            ColumnKind::Binary { .. } => DataType::Binary,
            ColumnKind::Date => DataType::Date32,
            ColumnKind::Time { .. } => DataType::Time64(TimeUnit::Microsecond),
            ColumnKind::Timestamp { .. } => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnKind::TimestampTz { .. } => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            ColumnKind::UnboundedDecimal
            | ColumnKind::Text { .. }
            | ColumnKind::Uuid
            | ColumnKind::Variant
            | ColumnKind::Array
            | ColumnKind::Geography
            | ColumnKind::Geometry
            | ColumnKind::OtherText => DataType::Utf8,
        }
    }

    /// The Snowflake column type. `profile` sizes unbounded numerics (see the module docs).
    pub fn snowflake_type(&self, profile: Option<NumericProfile>) -> String {
        match self.kind {
            ColumnKind::Boolean => "BOOLEAN".into(),
            ColumnKind::Int8 | ColumnKind::UInt8 => "NUMBER(3,0)".into(),
            ColumnKind::Int16 => "NUMBER(5,0)".into(),
            ColumnKind::Int32 => "NUMBER(10,0)".into(),
            ColumnKind::Int64 => "NUMBER(19,0)".into(),
            ColumnKind::Decimal { precision, scale } => format!("NUMBER({precision},{scale})"),
            ColumnKind::UnboundedDecimal => match profile {
                Some(p)
                    if p.special_values == 0
                        && p.max_scale <= 37
                        && p.max_integer_digits <= 38 - p.max_scale =>
                {
                    format!("NUMBER(38,{})", p.max_scale)
                }
                _ => "VARCHAR".into(),
            },
            ColumnKind::Float32 | ColumnKind::Float64 => "FLOAT".into(),
            ColumnKind::Text { max_length } => match max_length {
                Some(n) if n > 0 && n <= SNOWFLAKE_MAX_VARCHAR => format!("VARCHAR({n})"),
                _ => "VARCHAR".into(),
            },
            ColumnKind::Binary { max_length } => match max_length {
                Some(n) if n > 0 && n <= SNOWFLAKE_MAX_BINARY => format!("BINARY({n})"),
                _ => "BINARY".into(),
            },
            ColumnKind::Date => "DATE".into(),
            ColumnKind::Time { fraction_digits } => format!("TIME({})", fraction_digits.min(9)),
            ColumnKind::Timestamp { fraction_digits } => {
                format!("TIMESTAMP_NTZ({})", fraction_digits.min(9))
            }
            ColumnKind::TimestampTz { fraction_digits } => {
                format!("TIMESTAMP_TZ({})", fraction_digits.min(9))
            }
            ColumnKind::Uuid => "VARCHAR(36)".into(),
            ColumnKind::Variant => "VARIANT".into(),
            ColumnKind::Array => "ARRAY".into(),
            ColumnKind::Geography => "GEOGRAPHY".into(),
            ColumnKind::Geometry => "GEOMETRY".into(),
            ColumnKind::OtherText => "VARCHAR".into(),
        }
    }

    /// Is the value a binary floating-point number (read as Arrow Float32/Float64)?
    pub fn is_float(&self) -> bool {
        self.extraction == Extraction::Native
            && matches!(self.kind, ColumnKind::Float32 | ColumnKind::Float64)
    }

    /// Can rows be split into ranges of this column? Ordering must be meaningful and the same
    /// in the boundary query and the predicates.
    pub fn is_partitionable(&self) -> bool {
        matches!(
            self.kind,
            ColumnKind::Boolean
                | ColumnKind::Int8
                | ColumnKind::UInt8
                | ColumnKind::Int16
                | ColumnKind::Int32
                | ColumnKind::Int64
                | ColumnKind::Decimal { .. }
                | ColumnKind::UnboundedDecimal
                | ColumnKind::Float32
                | ColumnKind::Float64
                | ColumnKind::Text { .. }
                | ColumnKind::Date
                | ColumnKind::Time { .. }
                | ColumnKind::Timestamp { .. }
                | ColumnKind::TimestampTz { .. }
                | ColumnKind::Uuid
        )
    }
}

/// Classifies a catalog column for a platform.
pub fn classify(
    platform: SourcePlatform,
    column: &SourceColumn,
) -> Result<ColumnType, UnsupportedType> {
    let name = column.data_type.trim().to_lowercase();
    let found = match platform {
        SourcePlatform::Postgresql => classify_postgres(&name, column),
        SourcePlatform::Redshift => classify_redshift(&name, column),
        SourcePlatform::Sqlserver => classify_sqlserver(&name, column),
        SourcePlatform::Teradata => classify_teradata(&name, column),
        SourcePlatform::Sqlite => Some(classify_sqlite(&name, column)),
    };
    found.ok_or(UnsupportedType {
        data_type: column.data_type.clone(),
    })
}

/// `numeric(p,s)` with 1 <= p <= 38 and 0 <= s <= p; anything else is unbounded.
fn decimal(column: &SourceColumn) -> ColumnType {
    match (column.precision, column.scale) {
        (Some(p @ 1..=38), s) => {
            let s = s.unwrap_or(0);
            if (0..=p as i32).contains(&s) {
                return ColumnType::native(ColumnKind::Decimal {
                    precision: p as u8,
                    scale: s as i8,
                });
            }
            ColumnType::text(ColumnKind::UnboundedDecimal)
        }
        _ => ColumnType::text(ColumnKind::UnboundedDecimal),
    }
}

fn fraction_digits(column: &SourceColumn, default: u8) -> u8 {
    column
        .scale
        .and_then(|s| u8::try_from(s).ok())
        .unwrap_or(default)
}

fn text(column: &SourceColumn) -> ColumnType {
    ColumnType::native(ColumnKind::Text {
        max_length: column.char_length.filter(|n| *n > 0),
    })
}

fn binary(column: &SourceColumn) -> ColumnType {
    ColumnType::native(ColumnKind::Binary {
        max_length: column.char_length.filter(|n| *n > 0),
    })
}

fn classify_postgres(name: &str, column: &SourceColumn) -> Option<ColumnType> {
    let native = ColumnType::native;
    let t = match name {
        "boolean" | "bool" => native(ColumnKind::Boolean),
        "smallint" | "int2" | "smallserial" => native(ColumnKind::Int16),
        "integer" | "int" | "int4" | "serial" => native(ColumnKind::Int32),
        "bigint" | "int8" | "bigserial" | "oid" => native(ColumnKind::Int64),
        "numeric" | "decimal" => decimal(column),
        "real" | "float4" => native(ColumnKind::Float32),
        "double precision" | "float8" => native(ColumnKind::Float64),
        "money" => ColumnType {
            kind: ColumnKind::Decimal {
                precision: 38,
                scale: 4,
            },
            extraction: Extraction::DecimalCast {
                precision: 38,
                scale: 4,
            },
        },
        "character varying" | "varchar" | "character" | "char" | "bpchar" | "text" | "name"
        | "citext" => text(column),
        "bytea" => native(ColumnKind::Binary { max_length: None }),
        "date" => native(ColumnKind::Date),
        "time without time zone" | "time" => native(ColumnKind::Time {
            fraction_digits: fraction_digits(column, 6),
        }),
        "timestamp without time zone" | "timestamp" => native(ColumnKind::Timestamp {
            fraction_digits: fraction_digits(column, 6),
        }),
        "timestamp with time zone" | "timestamptz" => native(ColumnKind::TimestampTz {
            fraction_digits: fraction_digits(column, 6),
        }),
        "uuid" => ColumnType::text(ColumnKind::Uuid),
        "json" | "jsonb" => ColumnType::text(ColumnKind::Variant),
        "array" => ColumnType {
            kind: ColumnKind::Array,
            extraction: Extraction::JsonText,
        },
        "geography" => ColumnType {
            kind: ColumnKind::Geography,
            extraction: Extraction::WellKnownText,
        },
        "geometry" => ColumnType {
            kind: ColumnKind::Geometry,
            extraction: Extraction::WellKnownText,
        },
        // Text forms are exact for all of these; Snowflake has no equivalent column type.
        "time with time zone"
        | "timetz"
        | "interval"
        | "xml"
        | "bit"
        | "bit varying"
        | "varbit"
        | "inet"
        | "cidr"
        | "macaddr"
        | "macaddr8"
        | "tsvector"
        | "tsquery"
        | "point"
        | "line"
        | "lseg"
        | "box"
        | "path"
        | "polygon"
        | "circle"
        | "int4range"
        | "int8range"
        | "numrange"
        | "tsrange"
        | "tstzrange"
        | "daterange"
        | "enum"
        | "vector"
        | "halfvec"
        | "pg_lsn"
        | "regclass"
        | "regtype" => ColumnType::text(ColumnKind::OtherText),
        _ => return None,
    };
    Some(t)
}

fn classify_redshift(name: &str, column: &SourceColumn) -> Option<ColumnType> {
    let native = ColumnType::native;
    let t = match name {
        "boolean" | "bool" => native(ColumnKind::Boolean),
        "smallint" | "int2" => native(ColumnKind::Int16),
        "integer" | "int" | "int4" => native(ColumnKind::Int32),
        "bigint" | "int8" => native(ColumnKind::Int64),
        "oid" => native(ColumnKind::Int64),
        "numeric" | "decimal" => decimal(column),
        "real" | "float4" => native(ColumnKind::Float32),
        "double precision" | "float8" | "float" => native(ColumnKind::Float64),
        "character varying" | "varchar" | "character" | "char" | "bpchar" | "nchar"
        | "nvarchar" | "text" => text(column),
        "varbyte" | "varbinary" | "binary varying" => binary(column),
        "date" => native(ColumnKind::Date),
        "time without time zone" | "time" => native(ColumnKind::Time {
            fraction_digits: fraction_digits(column, 6),
        }),
        "timestamp without time zone" | "timestamp" => native(ColumnKind::Timestamp {
            fraction_digits: fraction_digits(column, 6),
        }),
        "timestamp with time zone" | "timestamptz" => native(ColumnKind::TimestampTz {
            fraction_digits: fraction_digits(column, 6),
        }),
        "super" => ColumnType {
            kind: ColumnKind::Variant,
            extraction: Extraction::JsonText,
        },
        "geometry" => ColumnType {
            kind: ColumnKind::Geometry,
            extraction: Extraction::WellKnownText,
        },
        "geography" => ColumnType {
            kind: ColumnKind::Geography,
            extraction: Extraction::WellKnownText,
        },
        "time with time zone"
        | "timetz"
        | "hllsketch"
        | "interval"
        | "interval year to month"
        | "interval day to second" => ColumnType::text(ColumnKind::OtherText),
        _ => return None,
    };
    Some(t)
}

fn classify_sqlserver(name: &str, column: &SourceColumn) -> Option<ColumnType> {
    let native = ColumnType::native;
    let digits = fraction_digits(column, 7);
    let t = match name {
        "bit" => native(ColumnKind::Boolean),
        "tinyint" => native(ColumnKind::UInt8),
        "smallint" => native(ColumnKind::Int16),
        "int" => native(ColumnKind::Int32),
        "bigint" => native(ColumnKind::Int64),
        "decimal" | "numeric" => decimal(column),
        "money" => native(ColumnKind::Decimal {
            precision: 19,
            scale: 4,
        }),
        "smallmoney" => native(ColumnKind::Decimal {
            precision: 10,
            scale: 4,
        }),
        "real" => native(ColumnKind::Float32),
        // float(n) with n <= 24 is stored as real.
        "float" if column.precision.is_some_and(|p| p <= 24) => native(ColumnKind::Float32),
        "float" => native(ColumnKind::Float64),
        "char" | "varchar" | "text" | "nchar" | "nvarchar" | "ntext" | "sysname" => text(column),
        "uniqueidentifier" => ColumnType::text(ColumnKind::Uuid),
        "binary" | "varbinary" | "image" => binary(column),
        "timestamp" | "rowversion" => native(ColumnKind::Binary {
            max_length: Some(8),
        }),
        "date" => native(ColumnKind::Date),
        // 100 ns fractions do not fit microseconds: ISO text keeps all seven digits.
        "time" if digits > 6 => ColumnType {
            kind: ColumnKind::Time {
                fraction_digits: digits,
            },
            extraction: Extraction::IsoText,
        },
        "time" => native(ColumnKind::Time {
            fraction_digits: digits,
        }),
        "datetime" => native(ColumnKind::Timestamp { fraction_digits: 3 }),
        "smalldatetime" => native(ColumnKind::Timestamp { fraction_digits: 0 }),
        "datetime2" if digits > 6 => ColumnType {
            kind: ColumnKind::Timestamp {
                fraction_digits: digits,
            },
            extraction: Extraction::IsoText,
        },
        "datetime2" => native(ColumnKind::Timestamp {
            fraction_digits: digits,
        }),
        // The per-row offset is part of the value: ISO text keeps it.
        "datetimeoffset" => ColumnType {
            kind: ColumnKind::TimestampTz {
                fraction_digits: digits,
            },
            extraction: Extraction::IsoText,
        },
        "json" => ColumnType::text(ColumnKind::Variant),
        "geography" => ColumnType {
            kind: ColumnKind::Geography,
            extraction: Extraction::WellKnownText,
        },
        "geometry" => ColumnType {
            kind: ColumnKind::Geometry,
            extraction: Extraction::WellKnownText,
        },
        "xml" | "sql_variant" | "hierarchyid" => ColumnType::text(ColumnKind::OtherText),
        _ => return None,
    };
    Some(t)
}

/// Teradata reports two-letter type codes (`DBC.ColumnsV.ColumnType`).
fn classify_teradata(code: &str, column: &SourceColumn) -> Option<ColumnType> {
    let native = ColumnType::native;
    let digits = fraction_digits(column, 6);
    let t = match code {
        "i1" => native(ColumnKind::Int8),
        "i2" => native(ColumnKind::Int16),
        "i" => native(ColumnKind::Int32),
        "i8" => native(ColumnKind::Int64),
        "d" => decimal(column),
        // NUMBER: precision is reported as -128 when unspecified (a floating decimal).
        "n" => decimal(column),
        "f" => native(ColumnKind::Float64),
        "cf" | "cv" | "co" => text(column),
        "bf" | "bv" | "bo" => binary(column),
        "da" => native(ColumnKind::Date),
        "at" if digits <= 6 => native(ColumnKind::Time {
            fraction_digits: digits,
        }),
        "ts" if digits <= 6 => native(ColumnKind::Timestamp {
            fraction_digits: digits,
        }),
        "sz" => ColumnType {
            kind: ColumnKind::TimestampTz {
                fraction_digits: digits,
            },
            extraction: Extraction::IsoText,
        },
        "jn" => ColumnType::text(ColumnKind::Variant),
        // TIME WITH TIME ZONE, periods, intervals, XML, UDTs: exact text forms.
        "tz" | "pd" | "pt" | "ps" | "pm" | "pz" | "yr" | "ym" | "mo" | "dy" | "dh" | "dm"
        | "ds" | "hr" | "hm" | "hs" | "mi" | "ms" | "sc" | "xm" | "ut" => {
            ColumnType::text(ColumnKind::OtherText)
        }
        _ => return None,
    };
    Some(t)
}

/// SQLite has type affinity, not types: the declared type decides (SQLite's own rules in
/// order: INT -> integer; CHAR/CLOB/TEXT -> text; BLOB -> binary; REAL/FLOA/DOUB -> double).
/// Declared dates and times are stored as ISO text in practice and read through the driver;
/// NUMERIC/DECIMAL values are integers or doubles, extracted as their exact text.
fn classify_sqlite(name: &str, column: &SourceColumn) -> ColumnType {
    let native = ColumnType::native;
    if name.contains("int") {
        return native(ColumnKind::Int64);
    }
    if name.contains("char") || name.contains("clob") || name.contains("text") {
        return text(column);
    }
    if name.contains("blob") {
        return native(ColumnKind::Binary { max_length: None });
    }
    if name.contains("real") || name.contains("floa") || name.contains("doub") {
        return native(ColumnKind::Float64);
    }
    match name {
        "boolean" | "bool" => native(ColumnKind::Boolean),
        "date" => native(ColumnKind::Date),
        "datetime" | "timestamp" => native(ColumnKind::Timestamp { fraction_digits: 6 }),
        "decimal" | "numeric" => match decimal(column) {
            ColumnType {
                kind: kind @ ColumnKind::Decimal { .. },
                ..
            } => ColumnType::text(kind),
            unbounded => unbounded,
        },
        // No declared type (or an unknown one): any value, kept as its text.
        _ => ColumnType::text(ColumnKind::OtherText),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(data_type: &str, precision: Option<u32>, scale: Option<i32>) -> SourceColumn {
        let mut c = SourceColumn::new("c", data_type, 1);
        c.precision = precision;
        c.scale = scale;
        c
    }

    fn decide(platform: SourcePlatform, c: &SourceColumn) -> String {
        match classify(platform, c) {
            Ok(t) => format!(
                "{:<32} {:<16} {:<45} {}",
                format!(
                    "{}({},{},{})",
                    c.data_type,
                    c.precision.map_or("-".into(), |p| p.to_string()),
                    c.scale.map_or("-".into(), |s| s.to_string()),
                    c.char_length.map_or("-".into(), |l| l.to_string())
                ),
                format!("{:?}", t.extraction),
                format!("{:?}", t.arrow_type()),
                t.snowflake_type(None)
            ),
            Err(e) => format!("{:<32} unsupported: {}", c.data_type, e.data_type),
        }
    }

    fn table(platform: SourcePlatform, columns: &[SourceColumn]) -> String {
        columns
            .iter()
            .map(|c| decide(platform, c))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn with_len(mut c: SourceColumn, len: i64) -> SourceColumn {
        c.char_length = Some(len);
        c
    }

    #[test]
    fn postgres_type_mapping() {
        let cols = vec![
            col("boolean", None, None),
            col("smallint", Some(16), Some(0)),
            col("integer", Some(32), Some(0)),
            col("bigint", Some(64), Some(0)),
            col("numeric", Some(38), Some(9)),
            col("numeric", None, None),
            col("numeric", Some(50), Some(2)),
            col("real", None, None),
            col("double precision", None, None),
            col("money", None, None),
            with_len(col("character varying", None, None), 20),
            col("text", None, None),
            with_len(col("character", None, None), 3),
            col("bytea", None, None),
            col("date", None, None),
            col("time without time zone", None, Some(6)),
            col("timestamp without time zone", None, Some(3)),
            col("timestamp with time zone", None, Some(6)),
            col("uuid", None, None),
            col("json", None, None),
            col("jsonb", None, None),
            col("ARRAY", None, None),
            col("interval", None, None),
            col("enum", None, None),
            col("geometry", None, None),
            col("txid_snapshot", None, None),
        ];
        insta::assert_snapshot!(table(SourcePlatform::Postgresql, &cols));
    }

    #[test]
    fn sqlserver_type_mapping() {
        let cols = vec![
            col("bit", None, None),
            col("tinyint", None, None),
            col("int", None, None),
            col("decimal", Some(18), Some(4)),
            col("money", None, None),
            col("float", Some(53), None),
            col("float", Some(24), None),
            with_len(col("nvarchar", None, None), 50),
            with_len(col("varchar", None, None), -1),
            col("uniqueidentifier", None, None),
            col("datetime", None, None),
            col("datetime2", None, Some(7)),
            col("datetime2", None, Some(3)),
            col("datetimeoffset", None, Some(7)),
            col("time", None, Some(7)),
            with_len(col("varbinary", None, None), 16),
            col("rowversion", None, None),
            col("geography", None, None),
            col("xml", None, None),
            col("cursor", None, None),
        ];
        insta::assert_snapshot!(table(SourcePlatform::Sqlserver, &cols));
    }

    #[test]
    fn redshift_teradata_and_sqlite_type_mapping() {
        let redshift = table(
            SourcePlatform::Redshift,
            &[
                col("numeric", Some(18), Some(0)),
                col("timestamp with time zone", None, Some(6)),
                col("super", None, None),
                col("varbyte", None, None),
            ],
        );
        let teradata = table(
            SourcePlatform::Teradata,
            &[
                col("I1", None, None),
                col("D", Some(15), Some(2)),
                col("N", None, Some(-128)),
                with_len(col("CV", None, None), 100),
                col("TS", None, Some(6)),
                col("SZ", None, Some(6)),
                col("PD", None, None),
            ],
        );
        let sqlite = table(
            SourcePlatform::Sqlite,
            &[
                col("integer", None, None),
                col("decimal", Some(10), Some(2)),
                col("numeric", None, None),
                col("varchar", None, None),
                col("real", None, None),
                col("blob", None, None),
                col("datetime", None, None),
                col("", None, None),
            ],
        );
        insta::assert_snapshot!(format!(
            "redshift\n{redshift}\n\nteradata\n{teradata}\n\nsqlite\n{sqlite}"
        ));
    }

    #[test]
    fn unbounded_numeric_uses_the_profile_or_varchar() {
        let t = classify(SourcePlatform::Postgresql, &col("numeric", None, None))
            .expect("numeric is supported");
        assert_eq!(t.snowflake_type(None), "VARCHAR");
        let fits = NumericProfile {
            max_integer_digits: 20,
            max_scale: 9,
            special_values: 0,
        };
        assert_eq!(t.snowflake_type(Some(fits)), "NUMBER(38,9)");
        let too_wide = NumericProfile {
            max_integer_digits: 30,
            max_scale: 9,
            special_values: 0,
        };
        assert_eq!(t.snowflake_type(Some(too_wide)), "VARCHAR");
        let nan = NumericProfile {
            special_values: 1,
            ..fits
        };
        assert_eq!(t.snowflake_type(Some(nan)), "VARCHAR");
    }
}
