//! Snapshot tests pinning every dialect's SQL.

use chrono::NaiveDate;
use config_schema::SourcePlatform;

use super::*;
use crate::plan::condition::Bound;
use crate::source::catalog::TableRef;

fn table() -> TableRef {
    TableRef::parse("SalesDB", "dbo", "\"Order Lines\"")
}

fn column(platform: SourcePlatform, name: &str, data_type: &str, nullable: bool) -> TypedColumn {
    let mut c = SourceColumn::new(name, data_type, 1);
    c.nullable = nullable;
    if ["numeric", "decimal", "D"].contains(&data_type) {
        c.precision = Some(18);
        c.scale = Some(2);
    }
    TypedColumn::classify(platform, &table(), &c).expect("supported type")
}

/// A representative column set per platform: an integer key, a text key, a decimal, a
/// timestamp with zone and a type that needs a cast.
fn columns(platform: SourcePlatform) -> Vec<TypedColumn> {
    let types: [&str; 5] = match platform {
        SourcePlatform::Postgresql => [
            "bigint",
            "text",
            "numeric",
            "timestamp with time zone",
            "uuid",
        ],
        SourcePlatform::Redshift => [
            "bigint",
            "character varying",
            "numeric",
            "timestamp with time zone",
            "super",
        ],
        SourcePlatform::Sqlserver => [
            "bigint",
            "nvarchar",
            "decimal",
            "datetimeoffset",
            "geography",
        ],
        SourcePlatform::Teradata => ["I8", "CV", "D", "SZ", "JN"],
        SourcePlatform::Sqlite => ["integer", "text", "decimal", "datetime", "blob"],
    };
    let names = ["id", "Region", "amount", "created_at", "extra"];
    names
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (name, t))| column(platform, name, t, i != 0))
        .collect()
}

fn all_sql(platform: SourcePlatform) -> String {
    let d = Dialect::new(platform);
    let t = table();
    let cols = columns(platform);
    let keys = vec![cols[0].clone(), cols[1].clone()];
    let mut out = String::new();
    let mut section = |title: &str, body: String| {
        out.push_str(&format!("-- ==== {title} ====\n{body}\n\n"));
    };
    for (title, q) in [
        ("columns", d.columns_query(&t)),
        ("primary key", d.primary_key_query(&t)),
        ("stats", d.stats_query(&t)),
    ] {
        section(
            title,
            format!("{}\n-- params: {:?}", q.sql.trim_end(), q.params),
        );
    }
    section(
        "boundary (one key)",
        d.boundary_query(&t, &keys[..1], 4, 1_000_000),
    );
    section(
        "boundary (two keys)",
        d.boundary_query(&t, &keys, 10, 5_000),
    );

    let lower = Bound {
        values: vec![KeyValue::Int(100), KeyValue::Text("North's".into())],
        inclusive: true,
    };
    let upper = Bound {
        values: vec![KeyValue::Int(200), KeyValue::Null],
        inclusive: false,
    };
    let interior = Partition {
        index: 3,
        lower: Some(lower),
        upper: Some(upper),
        estimated_rows: 10,
    };
    let request = ExtractionRequest {
        table: &t,
        columns: &cols,
        keys: &keys,
        partition: &interior,
        where_clause: Some("is_deleted = 0"),
        watermark: Some((
            &cols[3],
            &KeyValue::TimestampTz(
                NaiveDate::from_ymd_opt(2024, 5, 1)
                    .expect("date")
                    .and_hms_micro_opt(12, 30, 0, 250)
                    .expect("time")
                    .and_utc(),
            ),
        )),
    };
    section(
        "extraction (interior partition, two keys, filter, watermark)",
        d.extraction_query(&request).expect("renders"),
    );
    let edge = Partition {
        index: 0,
        lower: None,
        upper: Some(Bound {
            values: vec![KeyValue::Int(100)],
            inclusive: false,
        }),
        estimated_rows: 0,
    };
    let single = ExtractionRequest {
        keys: &keys[..1],
        partition: &edge,
        where_clause: None,
        watermark: None,
        ..request
    };
    section(
        "extraction (lower edge, one key)",
        d.extraction_query(&single).expect("renders"),
    );
    section(
        "checksum (interior partition)",
        d.checksum_query(&ExtractionRequest {
            watermark: None,
            ..request
        })
        .expect("renders"),
    );
    let mut unbounded = cols[2].clone();
    unbounded.name = "raw_amount".into();
    unbounded.column_type.kind = ColumnKind::UnboundedDecimal;
    if let Some(check) = d.out_of_range_query(&t, &cols) {
        section("out-of-range dates", check);
    }
    if let Some(profile) = d.numeric_profile_query(&t, &[cols[0].clone(), unbounded]) {
        section("numeric profile", profile);
    }
    out
}

/// Drivers split statements on `;` without reading comments (SQLite's ODBC driver refuses the
/// query): no generated SQL may contain one, comments included.
#[test]
fn no_sql_contains_a_semicolon() {
    for platform in SourcePlatform::ALL {
        let sql = all_sql(platform);
        assert!(!sql.contains(';'), "{platform}: {sql}");
    }
}

#[test]
fn postgresql_sql() {
    insta::assert_snapshot!(all_sql(SourcePlatform::Postgresql));
}

#[test]
fn redshift_sql() {
    insta::assert_snapshot!(all_sql(SourcePlatform::Redshift));
}

#[test]
fn sqlserver_sql() {
    insta::assert_snapshot!(all_sql(SourcePlatform::Sqlserver));
}

#[test]
fn teradata_sql() {
    insta::assert_snapshot!(all_sql(SourcePlatform::Teradata));
}

#[test]
fn sqlite_sql() {
    insta::assert_snapshot!(all_sql(SourcePlatform::Sqlite));
}

#[test]
fn identifiers_are_quoted_and_escaped() {
    let pg = Dialect::new(SourcePlatform::Postgresql);
    let ms = Dialect::new(SourcePlatform::Sqlserver);
    assert_eq!(pg.quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(ms.quote_ident("a]b"), "[a]]b]");
    // Unquoted names fold on PostgreSQL, quoted ones keep their case.
    let t = TableRef::parse("db", "Sales", "\"MyTable\"");
    assert_eq!(pg.table_name(&t), "\"sales\".\"MyTable\"");
    assert_eq!(ms.table_name(&t), "[db].[Sales].[MyTable]");
}

#[test]
fn literals_escape_quotes_and_pick_national_strings() {
    let ms = Dialect::new(SourcePlatform::Sqlserver);
    let nvarchar = column(SourcePlatform::Sqlserver, "n", "nvarchar", true);
    let varchar = column(SourcePlatform::Sqlserver, "v", "varchar", true);
    let text = KeyValue::Text("O'Brien".into());
    assert_eq!(
        ms.literal(&text, &nvarchar).expect("renders"),
        "N'O''Brien'"
    );
    assert_eq!(ms.literal(&text, &varchar).expect("renders"), "'O''Brien'");
    let far = KeyValue::Date(NaiveDate::from_ymd_opt(10_000, 1, 1).expect("date"));
    let err = ms
        .literal(&far, &varchar)
        .expect_err("year 10000 is refused");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn postgres_backslashes_use_escape_strings_and_nul_is_refused() {
    let pg = Dialect::new(SourcePlatform::Postgresql);
    let text = column(SourcePlatform::Postgresql, "t", "text", true);
    let value = KeyValue::Text("a\\'b".into());
    assert_eq!(pg.literal(&value, &text).expect("renders"), "E'a\\\\''b'");
    let ms = Dialect::new(SourcePlatform::Sqlserver);
    let varchar = column(SourcePlatform::Sqlserver, "v", "varchar", true);
    assert_eq!(ms.literal(&value, &varchar).expect("renders"), "'a\\''b'");
    let nul = KeyValue::Text("a\0b".into());
    assert!(pg.literal(&nul, &text).is_err());
}

#[test]
fn extraction_rechecks_the_where_clause() {
    let d = Dialect::new(SourcePlatform::Postgresql);
    let t = table();
    let cols = columns(SourcePlatform::Postgresql);
    let whole = Partition::whole_table(0);
    let request = ExtractionRequest {
        table: &t,
        columns: &cols,
        keys: &[],
        partition: &whole,
        where_clause: Some("1=1; DROP TABLE x"),
        watermark: None,
    };
    let err = d.extraction_query(&request).expect_err("statement refused");
    assert!(err.to_string().contains("whereClauseCriteria"), "{err}");
}

#[test]
fn unsortable_types_cannot_partition() {
    let ms = Dialect::new(SourcePlatform::Sqlserver);
    assert!(!ms.can_partition_by(&column(SourcePlatform::Sqlserver, "n", "ntext", true)));
    assert!(ms.can_partition_by(&column(SourcePlatform::Sqlserver, "n", "nvarchar", true)));
    let pg = Dialect::new(SourcePlatform::Postgresql);
    assert!(!pg.can_partition_by(&column(SourcePlatform::Postgresql, "j", "jsonb", true)));
    assert!(pg.can_partition_by(&column(SourcePlatform::Postgresql, "u", "uuid", true)));
}

#[test]
fn bounds_must_match_the_key() {
    let d = Dialect::new(SourcePlatform::Postgresql);
    let cols = columns(SourcePlatform::Postgresql);
    let p = Partition {
        index: 0,
        lower: Some(Bound {
            values: vec![KeyValue::Int(1), KeyValue::Int(2)],
            inclusive: true,
        }),
        upper: None,
        estimated_rows: 0,
    };
    let err = d
        .partition_predicate(&cols[..1], &p)
        .expect_err("arity mismatch");
    assert!(matches!(err, DialectError::KeyArity { values: 2, keys: 1 }));
}

#[test]
fn unsupported_types_name_table_and_column() {
    let c = SourceColumn::new("blob_col", "txid_snapshot", 3);
    let err =
        TypedColumn::classify(SourcePlatform::Postgresql, &table(), &c).expect_err("unsupported");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn catalog_rows_become_source_columns() {
    let row = CatalogColumnRow {
        column_name: "amount".into(),
        data_type: "numeric".into(),
        numeric_precision: Some(12),
        numeric_scale: Some(3),
        char_length: None,
        is_nullable: "NO".into(),
        ordinal_position: 2,
    };
    let c = source_column(SourcePlatform::Postgresql, row.clone());
    assert_eq!(
        (c.precision, c.scale, c.nullable, c.ordinal),
        (Some(12), Some(3), false, 2)
    );
    let sqlite = source_column(
        SourcePlatform::Sqlite,
        CatalogColumnRow {
            data_type: "DECIMAL(10,2)".into(),
            numeric_precision: None,
            numeric_scale: None,
            is_nullable: "YES".into(),
            ..row
        },
    );
    assert_eq!(
        (sqlite.data_type.as_str(), sqlite.precision, sqlite.scale),
        ("decimal", Some(10), Some(2))
    );
}

#[test]
fn sqlite_reals_are_selected_through_an_exact_text() {
    let d = Dialect::new(SourcePlatform::Sqlite);
    let real = column(SourcePlatform::Sqlite, "r", "real", true);
    let expr = d.select_expr(&real);
    assert!(
        expr.starts_with("CASE WHEN typeof(\"r\") <> 'real'"),
        "{expr}"
    );
    assert!(expr.contains("printf('%!.17g', \"r\")"), "{expr}");
    assert_eq!(
        expr.matches("/ 4611686018427387904").count(),
        13,
        "13 x 2^62 = 2^806: {expr}"
    );
    assert!(d.select_item(&real).ends_with(" AS \"r\""));
    // Other platforms and other SQLite types are selected as they are.
    let pg = column(SourcePlatform::Postgresql, "r", "double precision", true);
    assert_eq!(
        Dialect::new(SourcePlatform::Postgresql).select_expr(&pg),
        "\"r\""
    );
    let int = column(SourcePlatform::Sqlite, "i", "integer", true);
    assert_eq!(d.select_expr(&int), "\"i\"");
}

#[test]
fn value_length_probes_wrap_the_extraction_query() {
    let probed = [("t".to_string(), false), ("b".to_string(), true)];
    let pg = Dialect::new(SourcePlatform::Postgresql).value_length_probe(
        "SELECT \"t\", \"b\" FROM \"s\".\"x\" WHERE (\"id\" > 3)",
        &probed,
    );
    assert_eq!(
        pg,
        "SELECT MAX(octet_length(\"t\")) AS length_0, MAX(octet_length(\"b\")) AS length_1 \
         FROM (SELECT \"t\", \"b\" FROM \"s\".\"x\" WHERE (\"id\" > 3)) AS length_probe"
    );
    let mssql = Dialect::new(SourcePlatform::Sqlserver)
        .value_length_probe("SELECT [t] FROM x", &probed[..1]);
    assert_eq!(
        mssql,
        "SELECT MAX(DATALENGTH([t])) AS length_0 FROM (SELECT [t] FROM x) AS length_probe"
    );
    let teradata = Dialect::new(SourcePlatform::Teradata).value_length_probe(
        "LOCKING ROW FOR ACCESS\nSELECT \"t\", \"b\" FROM \"d\".\"x\"",
        &probed,
    );
    assert_eq!(
        teradata,
        "LOCKING ROW FOR ACCESS\nSELECT MAX(CHARACTER_LENGTH(\"t\") * 3) AS length_0, MAX(BYTES(\"b\")) AS length_1 \
         FROM (SELECT \"t\", \"b\" FROM \"d\".\"x\") AS length_probe",
        "the lock modifier leads the statement"
    );
}
