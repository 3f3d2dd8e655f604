//! ODBC long-text benchmark: the same strings in a `text` column and in a `varchar(64)`
//! column, extracted through the real ODBC pipeline (psqlODBC), and the speed ratio.
//!
//! ```text
//! cargo run --release -p migration-core --example bench_long_text -- [--rows N] [--rounds N]
//! ```
//!
//! Creates `bench_long.t (id bigint, t text, v varchar(64), b bytea)` in the local PostgreSQL
//! (127.0.0.1:5432, user postgres) when it is missing or has another row count, then per round
//! extracts `id, v` (bounded), `id, t` (unbounded text, buffers sized from the measured longest
//! value), `id, b` (unbounded bytea) and, for comparison, `id, t` without measuring (buffers at
//! a fixed 1 MiB per row, what every unbounded column got before). Prints the median rows/s of
//! each and the ratios text/varchar and bytea/varchar; the goal is a ratio of at least 0.8.

use std::sync::Arc;
use std::time::Instant;

use arrow::datatypes::{DataType, Field, Schema};
use config_schema::SourcePlatform;
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::extract::{
    extract, ExtractOptions, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::odbc::OdbcReadOptions;
use migration_core::source::parquet_sink::ParquetOptions;
use tokio_util::sync::CancellationToken;

fn source(read: OdbcReadOptions) -> SourceSpec {
    let settings = OdbcSettings {
        driver_name: "PostgreSQL Unicode".into(),
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        database: "postgres".into(),
        username: Some("postgres".into()),
        ..OdbcSettings::default()
    };
    SourceSpec::Odbc {
        connection_string: build_connection_string(
            SourcePlatform::Postgresql,
            &settings,
            &OdbcTuning::default(),
        ),
        read,
    }
}

fn prepare_table(rows: i64) {
    let mut client = postgres::Client::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
        postgres::NoTls,
    )
    .unwrap_or_else(|e| {
        eprintln!("bench_long_text: PostgreSQL must listen on 127.0.0.1:5432 (user postgres, trust auth): {e}");
        std::process::exit(2)
    });
    let existing: Option<i64> = client
        .query_opt("SELECT count(*) FROM bench_long.t", &[])
        .ok()
        .flatten()
        .map(|row| row.get(0));
    if existing == Some(rows) {
        return;
    }
    eprintln!("creating bench_long.t with {rows} rows");
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS bench_long CASCADE; CREATE SCHEMA bench_long;
             CREATE TABLE bench_long.t (id bigint PRIMARY KEY, t text, v varchar(64), b bytea);
             INSERT INTO bench_long.t
               SELECT i, s, s, convert_to(s, 'UTF8')
               FROM (SELECT i, 'row ' || substr(md5(i::text) || md5((i * 7)::text), 1, 8 + (i % 48)) AS s
                     FROM generate_series(1, {rows}) AS g(i)) AS d;"
        ))
        .expect("create the benchmark table");
    // VACUUM cannot run in the implicit transaction of a multi-statement batch.
    client
        .batch_execute("VACUUM ANALYZE bench_long.t")
        .expect("vacuum the benchmark table");
}

/// Extracts `SELECT id, <column>` once; returns rows per second.
fn run_once(column: &str, data_type: DataType, read: OdbcReadOptions) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let request = ExtractRequest {
        select_sql: format!("SELECT id, {column} FROM bench_long.t"),
        schema: Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new(column, data_type, true),
        ])),
    };
    let options = ExtractOptions {
        table: "postgres.bench_long.t".into(),
        target_column_names: vec![],
        local_dir: dir.path().join("local"),
        parquet: ParquetOptions::default(),
    };
    let mut uploader = LocalDirUploader::new(dir.path().join("stage"));
    let started = Instant::now();
    let outcome = extract(
        &source(read),
        &request,
        &options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .unwrap_or_else(|e| panic!("extraction of {column} failed: {e}"));
    outcome.rows as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut rows: i64 = 1_000_000;
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--rows" => rows = value.parse().expect("--rows N"),
            "--rounds" => rounds = value.parse().expect("--rounds N"),
            other => {
                eprintln!("bench_long_text: unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    prepare_table(rows);
    let measured = OdbcReadOptions::for_platform(SourcePlatform::Postgresql);
    // The old behaviour: no measurement, every unbounded value buffered at 1 MiB.
    let fixed = OdbcReadOptions {
        platform: None,
        max_value_bytes: 1 << 20,
        ..measured
    };
    let (mut varchar, mut text, mut bytea, mut text_fixed) = (vec![], vec![], vec![], vec![]);
    for round in 1..=rounds {
        varchar.push(run_once("v", DataType::Utf8, measured));
        text.push(run_once("t", DataType::Utf8, measured));
        bytea.push(run_once("b", DataType::Binary, measured));
        if round == 1 {
            text_fixed.push(run_once("t", DataType::Utf8, fixed));
        }
        eprintln!("round {round} done");
    }
    let (varchar, text, bytea, text_fixed) = (
        median(varchar),
        median(text),
        median(bytea),
        median(text_fixed),
    );
    println!("rows {rows}, median of {rounds} rounds (fixed 1 MiB buffers: one round)");
    println!("varchar(64)                    {:>10.0} rows/s", varchar);
    println!("text, measured buffers         {:>10.0} rows/s", text);
    println!("bytea, measured buffers        {:>10.0} rows/s", bytea);
    println!("text, fixed 1 MiB buffers      {:>10.0} rows/s", text_fixed);
    println!("ratio text/varchar             {:>10.2}", text / varchar);
    println!("ratio bytea/varchar            {:>10.2}", bytea / varchar);
    println!(
        "ratio fixed-1MiB text/varchar  {:>10.2}",
        text_fixed / varchar
    );
}
