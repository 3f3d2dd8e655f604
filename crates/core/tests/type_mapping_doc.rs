//! Keeps docs/type-mapping.md equal to what the code decides: for representative catalog
//! types of every source platform, the Snowflake column type and the Arrow type the worker
//! reads it as. Regenerate after a deliberate change with
//! `UPDATE_DOCS=1 cargo test -p migration-core --test type_mapping_doc`.

use config_schema::SourcePlatform;
use migration_core::source::catalog::SourceColumn;
use migration_core::source::dialect::type_mapping::{classify, NumericProfile};

/// (catalog type, precision, scale, char length) as the platform's catalog reports them.
type Sample = (&'static str, Option<u32>, Option<i32>, Option<i64>);

fn samples(platform: SourcePlatform) -> Vec<Sample> {
    match platform {
        SourcePlatform::Postgresql => vec![
            ("boolean", None, None, None),
            ("smallint", None, None, None),
            ("integer", None, None, None),
            ("bigint", None, None, None),
            ("numeric", Some(38), Some(9), None),
            ("numeric", None, None, None),
            ("real", None, None, None),
            ("double precision", None, None, None),
            ("money", None, None, None),
            ("character varying", None, None, Some(120)),
            ("text", None, None, None),
            ("bytea", None, None, None),
            ("date", None, None, None),
            ("time without time zone", None, Some(6), None),
            ("timestamp without time zone", None, Some(6), None),
            ("timestamp with time zone", None, Some(6), None),
            ("uuid", None, None, None),
            ("jsonb", None, None, None),
            ("interval", None, None, None),
        ],
        SourcePlatform::Redshift => vec![
            ("boolean", None, None, None),
            ("integer", None, None, None),
            ("bigint", None, None, None),
            ("numeric", Some(18), Some(4), None),
            ("double precision", None, None, None),
            ("character varying", None, None, Some(256)),
            ("date", None, None, None),
            ("timestamp without time zone", None, Some(6), None),
            ("timestamp with time zone", None, Some(6), None),
            ("super", None, None, None),
            ("varbyte", None, None, Some(64)),
        ],
        SourcePlatform::Sqlserver => vec![
            ("bit", None, None, None),
            ("tinyint", None, None, None),
            ("int", None, None, None),
            ("bigint", None, None, None),
            ("decimal", Some(19), Some(4), None),
            ("money", None, None, None),
            ("float", None, None, None),
            ("nvarchar", None, None, Some(50)),
            ("varchar", None, None, Some(-1)),
            ("uniqueidentifier", None, None, None),
            ("varbinary", None, None, Some(-1)),
            ("date", None, None, None),
            ("datetime", None, Some(3), None),
            ("datetime2", None, Some(3), None),
            ("datetime2", None, Some(7), None),
            ("datetimeoffset", None, Some(7), None),
            ("xml", None, None, None),
        ],
        SourcePlatform::Teradata => vec![
            ("I1", None, None, None),
            ("I", None, None, None),
            ("I8", None, None, None),
            ("D", Some(18), Some(2), None),
            ("N", None, None, None),
            ("F", None, None, None),
            ("CV", None, None, Some(100)),
            ("BV", None, None, Some(100)),
            ("DA", None, None, None),
            ("TS", None, Some(6), None),
            ("SZ", None, Some(6), None),
            ("JN", None, None, None),
        ],
        SourcePlatform::Sqlite => vec![
            ("INTEGER", None, None, None),
            ("DECIMAL", Some(12), Some(2), None),
            ("NUMERIC", None, None, None),
            ("REAL", None, None, None),
            ("DOUBLE", None, None, None),
            ("BOOLEAN", None, None, None),
            ("VARCHAR", None, None, Some(120)),
            ("TEXT", None, None, None),
            ("BLOB", None, None, None),
            ("DATE", None, None, None),
            ("TIMESTAMP", None, None, None),
        ],
    }
}

fn describe(sample: &Sample) -> String {
    let (name, precision, scale, length) = *sample;
    match (precision, scale, length) {
        (Some(p), Some(s), _) => format!("{name}({p},{s})"),
        (_, _, Some(-1)) => format!("{name}(max)"),
        (_, _, Some(n)) => format!("{name}({n})"),
        (None, Some(s), None) => format!("{name}, {s} fractional digits"),
        _ => name.to_string(),
    }
}

fn render() -> String {
    let mut out = String::from(
        "# Type mapping\n\n\
         Generated from the code by `crates/core/tests/type_mapping_doc.rs` (a test fails when\n\
         this file and the code disagree). For each source platform: the catalog type, the\n\
         Snowflake type of the target column the orchestrator creates (when the target table\n\
         does not exist yet; `columnTypeMappings` overrides it), and the Arrow type the worker\n\
         reads the column as and writes to Parquet.\n\n\
         Rules: exact numerics keep precision and scale; a numeric without precision is read as\n\
         exact text and sized from a profile of the data (`NUMBER(38,s)` when every value fits,\n\
         else `VARCHAR`; never rounded); timestamps keep zone semantics; text keeps its length.\n\
         A type that is not listed and has no text form fails the table with a message naming\n\
         the column.\n\n\
         Limits: a text value above 16,777,216 bytes (Snowflake's VARCHAR limit) or a binary value\n\
         above 8,388,608 bytes (its BINARY limit), or above the worker's `max_value_bytes`, fails\n\
         its partition before any file is uploaded, with a message naming the column and the limit.\n\
         Doubles keep every bit: SQLite `REAL` is selected as exact text (17 digits, large\n\
         magnitudes scaled by a power of two) because its ODBC driver converts through 15 digits.\n\
         SQL Server text is fetched as UTF-16, independent of the worker's locale.\n",
    );
    for platform in SourcePlatform::ALL {
        out.push_str(&format!(
            "\n## {platform}\n\n| source type | Snowflake type | Arrow type (extraction) |\n|---|---|---|\n"
        ));
        for sample in samples(platform) {
            let (name, precision, scale, length) = sample;
            let mut column = SourceColumn::new("c", name, 1);
            column.precision = precision;
            column.scale = scale;
            column.char_length = length;
            let row = match classify(platform, &column) {
                Ok(t) => {
                    // Unbounded numerics are sized from a profile of the data: show a profile
                    // of values with at most 10 integer digits and 4 decimals.
                    let profile = NumericProfile {
                        max_integer_digits: 10,
                        max_scale: 4,
                        special_values: 0,
                    };
                    let (unprofiled, profiled) =
                        (t.snowflake_type(None), t.snowflake_type(Some(profile)));
                    let snowflake = if unprofiled == profiled {
                        unprofiled
                    } else {
                        format!("{profiled} when the data fits (here: 10 digits, 4 decimals), else {unprofiled}")
                    };
                    format!(
                        "| {} | {snowflake} | {} |\n",
                        describe(&sample),
                        t.arrow_type()
                    )
                }
                Err(_) => format!("| {} | not supported | |\n", describe(&sample)),
            };
            out.push_str(&row);
        }
    }
    out
}

#[test]
fn type_mapping_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/type-mapping.md");
    let rendered = render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/type-mapping.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == rendered,
        "docs/type-mapping.md is out of date with the type decisions in the code; regenerate it with \
         `UPDATE_DOCS=1 cargo test -p migration-core --test type_mapping_doc` and review the diff"
    );
}
