//! What the source catalog tells us about one table: its name as the user wrote it, its columns
//! as the catalog reports them, its primary key and its size.
//!
//! Identifiers keep the user's quoting. The product contract says a name that needs quoting is
//! written quoted inside the JSON string (`"tableName": "\"MyTable\""`): such a name is matched
//! and rendered exactly. An unquoted name follows the platform's folding rule when it is looked
//! up in the catalog (PostgreSQL and Redshift fold to lower case; SQL Server, Teradata and
//! SQLite compare names case-insensitively, so the name is passed as written).

use config_schema::SourcePlatform;
use serde::{Deserialize, Serialize};

/// One identifier (database, schema, table or column name) as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ident {
    /// The name without surrounding quotes; doubled quotes inside are already undoubled.
    pub name: String,
    /// True when the user wrote the name in double quotes (or SQL Server brackets).
    pub quoted: bool,
}

impl Ident {
    /// Parses a name from the workflow JSON: `"My""Table"` is quoted (`My"Table`), `[My Table]`
    /// is quoted (SQL Server style), anything else is unquoted and kept as written (trimmed).
    pub fn parse(raw: &str) -> Ident {
        let raw = raw.trim();
        if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
            let inner = &raw[1..raw.len() - 1];
            return Ident {
                name: inner.replace("\"\"", "\""),
                quoted: true,
            };
        }
        if raw.len() >= 2 && raw.starts_with('[') && raw.ends_with(']') {
            let inner = &raw[1..raw.len() - 1];
            return Ident {
                name: inner.replace("]]", "]"),
                quoted: true,
            };
        }
        Ident {
            name: raw.to_string(),
            quoted: false,
        }
    }

    /// A name taken verbatim from a catalog (already exact).
    pub fn exact(name: impl Into<String>) -> Ident {
        Ident {
            name: name.into(),
            quoted: true,
        }
    }

    /// The name as the platform's catalog stores it: quoted names are exact; unquoted names are
    /// folded to lower case on PostgreSQL and Redshift and passed as written elsewhere (those
    /// catalogs compare case-insensitively).
    pub fn catalog_name(&self, platform: SourcePlatform) -> String {
        if self.quoted {
            return self.name.clone();
        }
        match platform {
            SourcePlatform::Postgresql | SourcePlatform::Redshift => self.name.to_lowercase(),
            SourcePlatform::Sqlserver | SourcePlatform::Teradata | SourcePlatform::Sqlite => {
                self.name.clone()
            }
        }
    }
}

/// A source table: `database.schema.table`. How many parts reach the SQL depends on the
/// platform (see `Dialect::table_name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableRef {
    pub database: Ident,
    pub schema: Ident,
    pub table: Ident,
}

impl TableRef {
    /// Builds a table reference from the three names of the workflow JSON (`databaseName`,
    /// `schemaName`, `tableName`), keeping the user's quoting.
    pub fn parse(database: &str, schema: &str, table: &str) -> TableRef {
        TableRef {
            database: Ident::parse(database),
            schema: Ident::parse(schema),
            table: Ident::parse(table),
        }
    }

    /// `database.schema.table` as written, for messages and logs.
    pub fn display_name(&self) -> String {
        format!(
            "{}.{}.{}",
            self.database.name, self.schema.name, self.table.name
        )
    }
}

/// One column as the source catalog reports it.
///
/// `data_type` is the catalog's type name (lower-cased for PostgreSQL/Redshift/SQL Server, the
/// two-letter code for Teradata, the declared type's name for SQLite). `precision` and `scale`
/// are decimal digits for exact numerics; for time and timestamp types `scale` holds the
/// fractional-second digits. `char_length` is in characters (-1 means unbounded, e.g.
/// `varchar(max)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceColumn {
    pub name: String,
    pub data_type: String,
    pub precision: Option<u32>,
    pub scale: Option<i32>,
    pub char_length: Option<i64>,
    pub nullable: bool,
    /// 1-based position in the table.
    pub ordinal: u32,
}

impl SourceColumn {
    /// A column with only a name and a type; used by tests and by callers that fill the other
    /// fields afterwards.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>, ordinal: u32) -> Self {
        SourceColumn {
            name: name.into(),
            data_type: data_type.into(),
            precision: None,
            scale: None,
            char_length: None,
            nullable: true,
            ordinal,
        }
    }
}

/// Row count and size of a table as the catalog estimates them (PostgreSQL: an exact count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableStats {
    pub row_count: u64,
    pub size_bytes: u64,
}

/// What `Dialect::primary_key_query` returns, in key order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub columns: Vec<String>,
}

/// A catalog query with its parameters. Placeholders are ODBC's `?`, bound in order; use
/// [`numbered_placeholders`] for clients that want `$1`, `$2` (the native PostgreSQL client).
/// Values are never spliced into the SQL text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogQuery {
    pub sql: String,
    pub params: Vec<String>,
}

/// Rewrites `?` placeholders outside string literals, quoted identifiers and `--` comments to
/// `$1`, `$2`, ...
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        if in_comment {
            in_comment = ch != '\n';
            continue;
        }
        match quote {
            // A doubled quote closes and reopens: the state toggles back on the next char.
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None => match ch {
                '\'' | '"' => quote = Some(ch),
                '-' if chars.peek() == Some(&'-') => in_comment = true,
                '?' => {
                    n += 1;
                    out.pop();
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => {}
            },
        }
    }
    out
}

/// Splits a declared type such as `DECIMAL(10, 2)` or `varchar(20)` into its lower-cased name
/// and numeric parameters. Used for SQLite, whose catalog reports the declared type text.
pub fn parse_declared_type(declared: &str) -> (String, Vec<i64>) {
    let declared = declared.trim();
    let Some(open) = declared.find('(') else {
        return (normalize_spaces(declared), Vec::new());
    };
    let name = normalize_spaces(&declared[..open]);
    let close = declared[open..]
        .find(')')
        .map_or(declared.len(), |i| open + i);
    let params = declared[open + 1..close]
        .split(',')
        .filter_map(|p| p.trim().parse::<i64>().ok())
        .collect();
    (name, params)
}

fn normalize_spaces(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Builds a [`SourceColumn`] from one row of SQLite's `pragma_table_info`: the declared type
/// carries the parameters (`DECIMAL(10,2)`, `VARCHAR(20)`), which the other catalogs report
/// in separate columns.
pub fn sqlite_column(
    ordinal: u32,
    name: &str,
    declared_type: &str,
    not_null: bool,
) -> SourceColumn {
    let (data_type, params) = parse_declared_type(declared_type);
    let mut column = SourceColumn::new(name, data_type.clone(), ordinal);
    column.nullable = !not_null;
    let is_char = ["char", "clob", "text"]
        .iter()
        .any(|t| data_type.contains(t));
    match params.as_slice() {
        [len] if is_char => column.char_length = Some(*len),
        [p] => column.precision = u32::try_from(*p).ok(),
        [p, s, ..] => {
            column.precision = u32::try_from(*p).ok();
            column.scale = i32::try_from(*s).ok();
        }
        [] => {}
    }
    column
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_keep_case_and_unquoted_names_fold_per_platform() {
        let quoted = Ident::parse("\"MyTable\"");
        assert_eq!(quoted.name, "MyTable");
        assert!(quoted.quoted);
        assert_eq!(quoted.catalog_name(SourcePlatform::Postgresql), "MyTable");

        let plain = Ident::parse(" MyTable ");
        assert!(!plain.quoted);
        assert_eq!(plain.catalog_name(SourcePlatform::Postgresql), "mytable");
        assert_eq!(plain.catalog_name(SourcePlatform::Redshift), "mytable");
        assert_eq!(plain.catalog_name(SourcePlatform::Sqlserver), "MyTable");

        assert_eq!(Ident::parse("\"a\"\"b\"").name, "a\"b");
        assert_eq!(Ident::parse("[a]]b]").name, "a]b");
    }

    #[test]
    fn placeholders_are_numbered_outside_literals() {
        assert_eq!(
            numbered_placeholders("-- it's ?\nSELECT '?' , \"?\" FROM t WHERE a = ? AND b = ?"),
            "-- it's ?\nSELECT '?' , \"?\" FROM t WHERE a = $1 AND b = $2"
        );
    }

    #[test]
    fn declared_types_split_into_name_and_parameters() {
        assert_eq!(
            parse_declared_type("DECIMAL(10, 2)"),
            ("decimal".to_string(), vec![10, 2])
        );
        assert_eq!(
            parse_declared_type("unsigned  big int"),
            ("unsigned big int".to_string(), vec![])
        );
        let c = sqlite_column(1, "v", "VARCHAR(20)", true);
        assert_eq!(c.char_length, Some(20));
        assert!(!c.nullable);
        let d = sqlite_column(2, "d", "NUMERIC(12,3)", false);
        assert_eq!((d.precision, d.scale), (Some(12), Some(3)));
    }
}
