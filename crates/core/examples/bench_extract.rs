//! Extraction benchmark driver: runs the real pipeline (source -> Parquet -> local "stage")
//! over the benchmark table and prints one result line. `scripts/bench-extraction` wraps it in
//! GNU `time -v` for peak memory and compares it with `psql` and odbc2parquet.
//!
//! ```text
//! bench_extract --path native|odbc [--partitions N] [--table bench.t] [--max-id N]
//!               [--compression zstd1|snappy] [--out DIR] [--concurrent-fetch] [--batch-rows N]
//!               [--port N] [--ssl-mode disable|prefer|require|verify-ca|verify-full]
//!               [--root-cert CA.pem]
//! ```
//!
//! `--port`, `--ssl-mode` and `--root-cert` point the native path at another server, e.g. one
//! with TLS on, to measure what encryption costs.
//!
//! With `--partitions N` the id range is split into N equal ranges extracted concurrently, one
//! connection and one pipeline each, as N worker tasks would.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use config_schema::SourcePlatform;
use migration_core::source::connection_string::{
    build_connection_string, OdbcSettings, OdbcTuning,
};
use migration_core::source::extract::{
    extract, ExtractOptions, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::odbc::OdbcReadOptions;
use migration_core::source::parquet_sink::{ParquetCompression, ParquetOptions};
use migration_core::source::postgres_native::{PgConnectParams, PgReadOptions, PgTls, SslMode};
use tokio_util::sync::CancellationToken;

struct Args {
    path: String,
    partitions: i64,
    table: String,
    max_id: i64,
    compression: ParquetCompression,
    out: PathBuf,
    concurrent_fetch: bool,
    batch_rows: Option<usize>,
    port: u16,
    ssl_mode: SslMode,
    root_cert: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        path: "native".into(),
        partitions: 1,
        table: "bench.t".into(),
        max_id: 5_000_000,
        compression: ParquetCompression::Zstd(1),
        out: std::env::temp_dir().join("bench_extract"),
        concurrent_fetch: false,
        batch_rows: None,
        port: 5432,
        ssl_mode: SslMode::Disable,
        root_cert: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--path" => args.path = value()?,
            "--partitions" => {
                args.partitions = value()?.parse().map_err(|e| format!("--partitions: {e}"))?
            }
            "--table" => args.table = value()?,
            "--max-id" => args.max_id = value()?.parse().map_err(|e| format!("--max-id: {e}"))?,
            "--out" => args.out = PathBuf::from(value()?),
            "--concurrent-fetch" => args.concurrent_fetch = true,
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--ssl-mode" => {
                let mode = value()?;
                args.ssl_mode =
                    SslMode::parse(&mode).ok_or_else(|| format!("unknown --ssl-mode {mode}"))?
            }
            "--root-cert" => args.root_cert = Some(PathBuf::from(value()?)),
            "--batch-rows" => {
                args.batch_rows = Some(value()?.parse().map_err(|e| format!("--batch-rows: {e}"))?)
            }
            "--compression" => {
                args.compression = match value()?.as_str() {
                    "zstd1" => ParquetCompression::Zstd(1),
                    "zstd3" => ParquetCompression::Zstd(3),
                    "snappy" => ParquetCompression::Snappy,
                    other => return Err(format!("unknown compression {other}")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

/// The benchmark table's catalog types (see `scripts/bench-extraction`).
fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("qty", DataType::Int32, false),
        Field::new("amount", DataType::Decimal128(18, 4), false),
        Field::new("name", DataType::Utf8, false),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("day", DataType::Date32, false),
        Field::new("flag", DataType::Boolean, false),
        Field::new("score", DataType::Float64, false),
        Field::new("note", DataType::Utf8, true),
    ]))
}

fn source(args: &Args) -> SourceSpec {
    match args.path.as_str() {
        "odbc" => {
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
                read: OdbcReadOptions {
                    concurrent_fetch: args.concurrent_fetch,
                    ..OdbcReadOptions::for_platform(SourcePlatform::Postgresql)
                },
            }
        }
        _ => SourceSpec::PostgresNative {
            params: PgConnectParams {
                host: "127.0.0.1".into(),
                port: args.port,
                user: "postgres".into(),
                password: None,
                database: "postgres".into(),
                connect_timeout: std::time::Duration::from_secs(10),
                application_name: "bench_extract".into(),
                tls: PgTls {
                    mode: args.ssl_mode,
                    root_cert: args.root_cert.clone(),
                },
            },
            read: PgReadOptions {
                batch_rows: args
                    .batch_rows
                    .unwrap_or(PgReadOptions::default().batch_rows),
                ..PgReadOptions::default()
            },
        },
    }
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench_extract: {message}");
            std::process::exit(2);
        }
    };
    let _ = std::fs::remove_dir_all(&args.out);
    let source = source(&args);
    let step = (args.max_id + args.partitions - 1) / args.partitions;
    let started = Instant::now();
    let outcomes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.partitions)
            .map(|n| {
                let (lo, hi) = (n * step + 1, ((n + 1) * step).min(args.max_id));
                let source = &source;
                let args = &args;
                scope.spawn(move || {
                    let request = ExtractRequest {
                        select_sql: format!(
                            "SELECT id, qty, amount, name, created_at, day, flag, score, note FROM {} \
                             WHERE id BETWEEN {lo} AND {hi}",
                            args.table
                        ),
                        schema: schema(),
                    };
                    let options = ExtractOptions {
                        table: args.table.clone(),
                        target_column_names: vec![],
                        local_dir: args.out.join(format!("local_{n}")),
                        parquet: ParquetOptions { compression: args.compression, ..ParquetOptions::default() },
                    };
                    let mut uploader = LocalDirUploader::new(args.out.join(format!("stage/partition_{n}")));
                    extract(source, &request, &options, &mut uploader, &CancellationToken::new())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("partition thread"))
            .collect::<Vec<_>>()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut rows = 0;
    let mut bytes = 0;
    let mut files = 0;
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => {
                rows += outcome.rows;
                bytes += outcome.bytes;
                files += outcome.files.len();
            }
            Err(error) => {
                eprintln!("bench_extract: {error}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "path={} partitions={} rows={rows} seconds={seconds:.2} rows_per_s={:.0} parquet_mb={:.1} files={files}",
        args.path,
        args.partitions,
        rows as f64 / seconds,
        bytes as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&args.out);
}
