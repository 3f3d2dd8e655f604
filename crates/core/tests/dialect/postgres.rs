//! The PostgreSQL backend of the dialect suite, and the tests only PostgreSQL can run: its
//! catalog of types, unbounded numeric sized from its profile, infinities and NaN caught before
//! extraction, and literals that hold with `standard_conforming_strings` off.

use chrono::{DateTime, NaiveDate, Utc};
use config_schema::SourcePlatform;
use migration_core::plan::{Analysis, BoundaryRow, KeyValue, PlanError, Probes};
use migration_core::source::catalog::{numbered_placeholders, CatalogQuery, TableRef, TableStats};
use migration_core::source::dialect::{
    source_column, CatalogColumnRow, ColumnKind, Dialect, NumericProfile, TypedColumn,
};
use postgres::types::ToSql;
use postgres::Client;

use crate::suite::{
    assert_exactly_once, boundary_query, dialect_test_suite, extract_ids, plan, try_plan, Backend,
    Catalog, LateRows,
};

const PLATFORM: SourcePlatform = SourcePlatform::Postgresql;

dialect_test_suite!(Schema);

#[test]
fn catalog_queries_report_columns_keys_and_size() {
    let mut s = Schema::new();
    s.client
        .batch_execute(
            r#"
            CREATE TYPE mood AS ENUM ('sad', 'ok');
            CREATE TABLE "Mixed Case" (
                id bigint NOT NULL,
                region text NOT NULL,
                amount numeric(38,9),
                raw numeric,
                ratio double precision,
                flag boolean,
                name varchar(20),
                code char(3),
                created timestamp(3),
                created_tz timestamptz,
                day date,
                payload jsonb,
                tags int[],
                uid uuid,
                bin bytea,
                feeling mood,
                PRIMARY KEY (region, id)
            );
            INSERT INTO "Mixed Case" (id, region) SELECT i, 'r' || i FROM generate_series(1, 25) i;
            "#,
        )
        .expect("create table");
    let table = s.table("\"Mixed Case\"");
    let (columns, pk, stats) = s.catalog(&table);

    let summary: Vec<String> = columns
        .iter()
        .map(|c| {
            let t = TypedColumn::classify(PLATFORM, &table, c).expect("every column is supported");
            format!(
                "{} {} p={:?} s={:?} len={:?} null={} #{} -> {}",
                c.name,
                c.data_type,
                c.precision,
                c.scale,
                c.char_length,
                c.nullable,
                c.ordinal,
                t.column_type.snowflake_type(None)
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "id bigint p=None s=None len=None null=false #1 -> NUMBER(19,0)",
            "region text p=None s=None len=None null=false #2 -> VARCHAR",
            "amount numeric p=Some(38) s=Some(9) len=None null=true #3 -> NUMBER(38,9)",
            "raw numeric p=None s=None len=None null=true #4 -> VARCHAR",
            "ratio double precision p=None s=None len=None null=true #5 -> FLOAT",
            "flag boolean p=None s=None len=None null=true #6 -> BOOLEAN",
            "name character varying p=None s=None len=Some(20) null=true #7 -> VARCHAR(20)",
            "code character p=None s=None len=Some(3) null=true #8 -> VARCHAR(3)",
            "created timestamp without time zone p=None s=Some(3) len=None null=true #9 -> TIMESTAMP_NTZ(3)",
            "created_tz timestamp with time zone p=None s=Some(6) len=None null=true #10 -> TIMESTAMP_TZ(6)",
            "day date p=None s=Some(0) len=None null=true #11 -> DATE",
            "payload jsonb p=None s=None len=None null=true #12 -> VARIANT",
            "tags ARRAY p=None s=None len=None null=true #13 -> ARRAY",
            "uid uuid p=None s=None len=None null=true #14 -> VARCHAR(36)",
            "bin bytea p=None s=None len=None null=true #15 -> BINARY",
            "feeling enum p=None s=None len=None null=true #16 -> VARCHAR",
        ]
    );
    assert_eq!(pk, vec!["region".to_string(), "id".to_string()]);
    assert_eq!(stats.row_count, 25);
    assert!(stats.size_bytes > 0, "size {stats:?}");

    // Unquoted names fold to lower case, as PostgreSQL does.
    s.client
        .batch_execute("CREATE TABLE plain_name (x int)")
        .expect("create");
    let plain_table = s.table("PLAIN_NAME");
    let (plain, _, _) = s.catalog(&plain_table);
    assert_eq!(plain.len(), 1);
}

#[test]
fn unbounded_numeric_is_sized_from_its_profile() {
    let mut s = Schema::with_keyed_table();
    let plan = plan(&mut s, &["id"], None);
    let n = plan
        .columns
        .iter()
        .find(|c| c.source.name == "n")
        .expect("column n");
    // (i % 300) / 7 has 2 integer digits and numeric division's 16 fraction digits (or more).
    assert!(
        n.snowflake_type.starts_with("NUMBER(38,"),
        "{}",
        n.snowflake_type
    );
    assert_eq!(
        n.source.column_type.arrow_type(),
        arrow::datatypes::DataType::Utf8
    );
}

#[test]
fn infinite_timestamps_and_nan_are_caught_before_extraction() {
    let mut s = Schema::with_keyed_table();
    s.client
        .batch_execute("UPDATE keyed SET n = 'NaN' WHERE id = 3")
        .expect("nan");
    let plan = plan(&mut s, &["id"], None);
    let n = plan
        .columns
        .iter()
        .find(|c| c.source.name == "n")
        .expect("n");
    assert_eq!(n.snowflake_type, "VARCHAR", "NaN has no NUMBER form");

    s.client
        .batch_execute("UPDATE keyed SET ts = 'infinity' WHERE id = 4")
        .expect("infinity");
    let err = try_plan(&mut s, &["id"], None).expect_err("infinity is refused");
    assert!(
        matches!(&err, PlanError::OutOfRangeValues { column, rows: 1, .. } if column == "ts"),
        "{err}"
    );
}

#[test]
fn text_keys_with_quotes_and_backslashes_round_trip_as_literals() {
    let mut s = Schema::new();
    s.client
        .batch_execute(
            r#"
            CREATE TABLE keyed (id bigint PRIMARY KEY, t text);
            INSERT INTO keyed
            SELECT i,
                   (ARRAY[E'a\\', E'a\\''', 'b''c', E'\\''; DROP TABLE keyed; --', 'ü€😀', ''])[1 + i % 6]
                   || (i % 40)
            FROM generate_series(1, 1000) AS i;
            "#,
        )
        .expect("create table");
    // With backslashes read as escapes in plain literals the bounds must still mean the same.
    s.client
        .batch_execute("SET standard_conforming_strings = off")
        .expect("scs off");
    let plan = plan(&mut s, &["t"], None);
    let ids = extract_ids(&mut s, &plan);
    assert_exactly_once(&ids, 1..=1000);
}

/// Any text (quotes, backslashes, dollar signs, unicode) rendered as a literal reads back as the
/// same value, with `standard_conforming_strings` on and off: bounds cannot break out of their
/// literal.
#[test]
fn text_literals_read_back_unchanged() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let s = std::cell::RefCell::new(Schema::new());
    let d = Dialect::new(PLATFORM);
    let column = TypedColumn {
        name: "t".into(),
        data_type: "text".into(),
        column_type: migration_core::source::dialect::ColumnType {
            kind: ColumnKind::Text { max_length: None },
            extraction: migration_core::source::dialect::Extraction::Native,
        },
        nullable: true,
    };
    let chars = prop_oneof![
        Just('\''),
        Just('\\'),
        Just('"'),
        Just('$'),
        Just(';'),
        Just('-'),
        Just('E'),
        any::<char>().prop_filter("no NUL", |c| *c != '\0'),
    ];
    let strategy = proptest::collection::vec(chars, 0..24).prop_map(String::from_iter);
    let mut runner = TestRunner::new(Config::with_cases(300));
    runner
        .run(&strategy, |text| {
            let literal = d
                .literal(&KeyValue::Text(text.clone()), &column)
                .expect("renders");
            for scs in ["on", "off"] {
                let client = &mut s.borrow_mut().client;
                client
                    .batch_execute(&format!("SET standard_conforming_strings = {scs}"))
                    .expect("set");
                let row = client
                    .query_one(&format!("SELECT CAST({literal} AS TEXT)"), &[])
                    .map_err(|e| TestCaseError::fail(format!("{e:?} for {literal}")))?;
                prop_assert_eq!(row.get::<_, String>(0), text.clone(), "scs {}", scs);
            }
            Ok(())
        })
        .expect("every literal reads back");
}

/// A schema for one test (the session's search_path, time zone UTC), dropped afterwards.
pub struct Schema {
    name: String,
    client: Client,
}

impl Schema {
    fn new() -> Schema {
        let mut client = test_support::postgres_client();
        let name = format!("dialect_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {name}; SET search_path TO {name}; SET TIME ZONE 'UTC'"
            ))
            .expect("create schema");
        Schema { name, client }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

impl Backend for Schema {
    const PLATFORM: SourcePlatform = PLATFORM;
    const PARTITION_KEYS: &'static [&'static [&'static str]] = &[
        &["k"],
        &["t"],
        &["ts"],
        &["n"],
        &["u"],
        &["d"],
        &["t", "k"],
        &["k", "ts", "t"],
    ];
    // Same data, different session time zone: the checksum must not move.
    const SAME_DATA_SESSION_CHANGES: &'static [&'static str] =
        &["SET TIME ZONE 'America/New_York'"];
    const CHANGE_ROWS: &'static str =
        "UPDATE keyed SET t = NULL WHERE id = 510; UPDATE keyed SET payload = '{}' WHERE id = 511";
    const CHANGED_IDS: &'static [i64] = &[510, 511];

    /// 1,000 rows with keys full of duplicates and NULLs.
    fn with_keyed_table() -> Schema {
        let mut s = Schema::new();
        s.execute(
            r#"
            CREATE TABLE keyed (
                id bigint PRIMARY KEY,
                k int,
                t text,
                ts timestamptz,
                n numeric,
                u uuid,
                d numeric(12,3),
                payload jsonb
            );
            INSERT INTO keyed
            SELECT i,
                   CASE WHEN i % 17 = 0 THEN NULL ELSE i % 50 END,
                   CASE WHEN i % 13 = 0 THEN NULL ELSE md5((i % 97)::text) END,
                   CASE WHEN i % 11 = 0 THEN NULL
                        ELSE timestamptz '2024-01-01 00:00:00+00' + (i % 200) * interval '1.5 seconds' END,
                   CASE WHEN i % 19 = 0 THEN NULL ELSE (i % 300)::numeric / 7 END,
                   md5((i % 400)::text)::uuid,
                   (i % 123)::numeric / 8,
                   jsonb_build_object('i', i)
            FROM generate_series(1, 1000) AS i;
            ANALYZE keyed;
            "#,
        );
        s
    }

    fn execute(&mut self, sql: &str) {
        self.client
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("statement failed: {e:?}\n{sql}"));
    }

    fn table(&self, name: &str) -> TableRef {
        TableRef::parse("postgres", &self.name, name)
    }

    fn catalog(&mut self, table: &TableRef) -> Catalog {
        let d = Dialect::new(PLATFORM);
        let columns = run_catalog(&mut self.client, &d.columns_query(table))
            .iter()
            .map(|r| {
                source_column(
                    PLATFORM,
                    CatalogColumnRow {
                        column_name: r.get(0),
                        data_type: r.get(1),
                        numeric_precision: r.get::<_, Option<i32>>(2).map(i64::from),
                        numeric_scale: r.get::<_, Option<i32>>(3).map(i64::from),
                        char_length: r.get::<_, Option<i32>>(4).map(i64::from),
                        is_nullable: r.get(5),
                        ordinal_position: r.get::<_, i32>(6).into(),
                    },
                )
            })
            .collect();
        let pk = run_catalog(&mut self.client, &d.primary_key_query(table))
            .iter()
            .map(|r| r.get(0))
            .collect();
        let stats_row = &run_catalog(&mut self.client, &d.stats_query(table))[0];
        let stats = TableStats {
            row_count: stats_row.get::<_, i64>(0) as u64,
            size_bytes: stats_row.get::<_, i64>(1) as u64,
        };
        (columns, pk, stats)
    }

    /// The boundary rows, and the numeric profile and out-of-range counts when the analysis
    /// asks for them.
    fn probes(&mut self, analysis: &Analysis) -> Probes {
        let boundary_rows = boundaries(&mut self.client, boundary_query(analysis), &analysis.keys);
        let numeric_profiles = analysis
            .numeric_profile_query
            .as_ref()
            .map(|q| {
                let row = self.client.query_one(q, &[]).expect("numeric profile");
                (0..row.len() / 3)
                    .map(|i| NumericProfile {
                        max_scale: row.get::<_, Option<i32>>(3 * i).unwrap_or(0) as u32,
                        max_integer_digits: row.get::<_, Option<i32>>(3 * i + 1).unwrap_or(0)
                            as u32,
                        special_values: row.get::<_, i64>(3 * i + 2) as u64,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let out_of_range_counts = analysis
            .out_of_range_query
            .as_ref()
            .map(|q| {
                let row = self.client.query_one(q, &[]).expect("out-of-range check");
                (0..row.len())
                    .map(|i| row.get::<_, i64>(i) as u64)
                    .collect()
            })
            .unwrap_or_default();
        Probes {
            boundary_rows,
            numeric_profiles,
            out_of_range_counts,
        }
    }

    fn ids(&mut self, sql: &str) -> Vec<i64> {
        self.client
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("extraction failed: {e:?}\n{sql}"))
            .iter()
            .map(|r| r.get::<_, i64>("id"))
            .collect()
    }

    fn checksum(&mut self, sql: &str) -> (i64, Vec<Option<String>>) {
        let row = self
            .client
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("checksum failed: {e:?}\n{sql}"));
        (row.get(0), vec![Some(row.get(1))])
    }

    fn late_rows() -> LateRows {
        LateRows {
            where_clause: None,
            insert: "INSERT INTO keyed (id, k, t) VALUES
                (1001, -5, 'a'), (1002, 10000, NULL), (1003, NULL, NULL), (1004, NULL, 'zzz'),
                (1005, 0, NULL)",
            expected: (1..=1005).collect(),
        }
    }

    fn assert_late_row_edges(ids: &[Vec<i64>]) {
        // Below the observed range: the lower edge. NULL keys sort last in PostgreSQL, so the
        // last observed tuple is (NULL, NULL): the new NULL-key rows fall in the last interior
        // range.
        assert_eq!(ids[0], vec![1001], "lower edge");
    }
}

fn run_catalog(client: &mut Client, query: &CatalogQuery) -> Vec<postgres::Row> {
    let params: Vec<&(dyn ToSql + Sync)> = query
        .params
        .iter()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect();
    client
        .query(&numbered_placeholders(&query.sql), &params)
        .unwrap_or_else(|e| panic!("catalog query failed: {e:?}\n{}", query.sql))
}

/// Runs the boundary query; values come back as text (like the text-extracted Arrow columns)
/// and are typed per key column.
fn boundaries(client: &mut Client, sql: &str, keys: &[TypedColumn]) -> Vec<BoundaryRow> {
    let casts: Vec<String> = (0..keys.len())
        .map(|i| format!("CAST(key_{i} AS TEXT)"))
        .collect();
    let wrapped = format!(
        "SELECT row_num, {} FROM ({sql}) AS b ORDER BY row_num",
        casts.join(", ")
    );
    client
        .query(&wrapped, &[])
        .unwrap_or_else(|e| panic!("boundary query failed: {e:?}\n{sql}"))
        .iter()
        .map(|r| BoundaryRow {
            row_number: r.get::<_, i64>(0) as u64,
            values: keys
                .iter()
                .enumerate()
                .map(|(i, k)| typed(r.get::<_, Option<String>>(i + 1), k.column_type.kind))
                .collect(),
        })
        .collect()
}

fn typed(text: Option<String>, kind: ColumnKind) -> KeyValue {
    let Some(text) = text else {
        return KeyValue::Null;
    };
    match kind {
        ColumnKind::Int16 | ColumnKind::Int32 | ColumnKind::Int64 => {
            KeyValue::Int(text.parse().expect("integer"))
        }
        ColumnKind::Decimal { .. } => KeyValue::decimal(&text).expect("decimal"),
        ColumnKind::TimestampTz { .. } => KeyValue::TimestampTz(
            DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f%#z")
                .expect("timestamptz")
                .with_timezone(&Utc),
        ),
        ColumnKind::Date => {
            KeyValue::Date(NaiveDate::parse_from_str(&text, "%Y-%m-%d").expect("date"))
        }
        // Text-extracted kinds (text, uuid, unbounded numeric) arrive as text.
        _ => KeyValue::Text(text),
    }
}
