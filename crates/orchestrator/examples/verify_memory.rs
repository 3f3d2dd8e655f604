//! Peak memory of verify's read-back: the whole target collected first (as verify did before)
//! or checksummed batch by batch (as it does now). Run it under `/usr/bin/time -v` against an
//! emulator (`scripts/snowflake-emulator --port 8089`); bench/verify-memory.md has the numbers.
//!
//! ```text
//! cargo build -p orchestrator --example verify_memory
//! target/debug/examples/verify_memory prepare 8089 3000000
//! /usr/bin/time -v target/debug/examples/verify_memory stream 8089
//! /usr/bin/time -v target/debug/examples/verify_memory collect 8089
//! ```

use std::time::{Duration, Instant};

use migration_core::snowflake::{Auth, ConnectParams, Protocol, Session};
use migration_core::source::content_checksum::ContentChecksum;
use migration_core::validation::content::{read_back_sql, target_checksum, ReadBackColumn};

const TABLE: &str = "VERIFY_MEMORY.PUBLIC.WIDE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, port) = match args.as_slice() {
        [mode, port, ..] => (mode.as_str(), port.parse::<u16>()?),
        _ => return Err("usage: verify_memory prepare|stream|collect PORT [ROWS]".into()),
    };
    let mut params = ConnectParams::new("sfemu", "sfemu", Auth::Password("sfemu".into()));
    params.host = Some("127.0.0.1".into());
    params.port = Some(port);
    params.protocol = Protocol::Http;
    params.warehouse = Some("SFEMU_WH".into());
    params.login_timeout = Duration::from_secs(30);
    let mut session = Session::connect(&params)?;
    let columns: Vec<ReadBackColumn> = [
        ("ID", "NUMBER(19,0)"),
        ("AMOUNT", "NUMBER(18,2)"),
        ("LABEL", "VARCHAR"),
        ("AT", "TIMESTAMP_NTZ(6)"),
    ]
    .into_iter()
    .map(|(name, snowflake_type)| ReadBackColumn {
        sql_name: format!("\"{name}\""),
        snowflake_type: snowflake_type.into(),
    })
    .collect();
    let started = Instant::now();
    match mode {
        "prepare" => {
            let rows: u64 = args.get(2).map_or(Ok(3_000_000), |r| r.parse())?;
            session.execute("CREATE DATABASE IF NOT EXISTS VERIFY_MEMORY", &[])?;
            session.execute("CREATE SCHEMA IF NOT EXISTS VERIFY_MEMORY.PUBLIC", &[])?;
            session.execute(
                &format!(
                    "CREATE OR REPLACE TABLE {TABLE} AS SELECT seq8() AS \"ID\", \
                     uniform(1, 1000000, random()) / 100 AS \"AMOUNT\", \
                     'label number ' || seq8() AS \"LABEL\", \
                     DATEADD(second, seq8(), '2024-01-01'::TIMESTAMP_NTZ) AS \"AT\" \
                     FROM TABLE(GENERATOR(ROWCOUNT => {rows}))"
                ),
                &[],
            )?;
            println!("prepared {TABLE} with {rows} rows");
        }
        "stream" => {
            let read_back = target_checksum(&mut session, TABLE, &columns)?;
            println!(
                "stream: {} rows in {} batches (largest {} rows), checksum {}, {:.1} s",
                read_back.rows,
                read_back.batches,
                read_back.largest_batch_rows,
                read_back.checksum,
                started.elapsed().as_secs_f64()
            );
        }
        "collect" => {
            let batches = session.query(&read_back_sql(TABLE, &columns), &[])?;
            let mut checksum = ContentChecksum::default();
            let mut rows = 0;
            for batch in &batches {
                checksum.add_batch(batch);
                rows += batch.num_rows();
            }
            println!(
                "collect: {rows} rows in {} batches, {:.1} s",
                batches.len(),
                started.elapsed().as_secs_f64()
            );
        }
        other => return Err(format!("unknown mode `{other}`").into()),
    }
    Ok(())
}
