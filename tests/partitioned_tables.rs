//! Three partitioned tables (numeric, timestamp and multi-column text keys) and one small
//! single-partition table (default partition size; one row with a NULL key), served by two workers: each target table equals its source.

use std::time::Duration;

use arrow::datatypes::{DataType, TimeUnit};
use snowflake_data_migration::E2e;

const SOURCE: &str = "
    -- numeric key with gaps
    CREATE TABLE by_number (
        id bigint PRIMARY KEY,
        amount double precision,
        note text
    );
    INSERT INTO by_number
    SELECT i * 7, CASE WHEN i % 13 = 0 THEN NULL ELSE i / 3.0 END, repeat('n', i % 40)
    FROM generate_series(1, 20000) AS i;

    -- timestamp key, not unique, not the primary key
    CREATE TABLE by_time (
        id integer PRIMARY KEY,
        event_at timestamp NOT NULL,
        price numeric(14,4)
    );
    INSERT INTO by_time
    SELECT i, TIMESTAMP '2023-03-26 01:30:00' + (i / 2) * INTERVAL '17 minutes 3.125 seconds',
           i * 0.0625
    FROM generate_series(1, 15000) AS i;

    -- two text key columns whose order depends on the collation (case, accents)
    CREATE TABLE by_text (
        region text NOT NULL,
        code text NOT NULL,
        qty integer,
        PRIMARY KEY (region, code)
    );
    INSERT INTO by_text
    SELECT r.region, 'c-' || lpad(i::text, 5, '0') || CASE WHEN i % 2 = 0 THEN 'x' ELSE 'X' END, i
    FROM (VALUES ('north'), ('North'), ('Éire'), ('east'), ('zürich'), ('Zulu')) AS r(region),
         generate_series(1, 2000) AS i;

    CREATE TABLE small (
        id integer,
        label text
    );
    INSERT INTO small SELECT i, 'label ' || i FROM generate_series(1, 40) AS i;
    INSERT INTO small VALUES (NULL, NULL);

    ANALYZE by_number; ANALYZE by_time; ANALYZE by_text; ANALYZE small;
";

/// A table of the test: source query and Arrow types, target name and columns, and the least
/// number of partitions its plan must have.
struct Expected {
    source: &'static str,
    target: &'static str,
    select: &'static str,
    types: Vec<(&'static str, DataType)>,
    target_columns: &'static [&'static str],
    min_partitions: u64,
}

#[test]
fn partitioned_tables_arrive_whole_with_two_workers() {
    let e2e = E2e::new("e2e_parts");
    e2e.pg_execute(SOURCE);
    let db = &e2e.database.name;
    let workflow = format!(
        r#"{{
  "defaultTableConfiguration": {{
    "source": {{"databaseName": "postgres", "schemaName": "{schema}"}},
    "target": {{"databaseName": "{db}", "schemaName": "PARTS"}}
  }},
  "tables": [
    {{"source": {{"tableName": "by_number"}}, "target": {{"tableName": "BY_NUMBER"}},
      "columnNamesToPartitionBy": ["id"], "partitionSize": {{"maxRowsPerPartition": 3000}}}},
    {{"source": {{"tableName": "by_time"}}, "target": {{"tableName": "BY_TIME"}},
      "columnNamesToPartitionBy": ["event_at"], "partitionSize": {{"maxRowsPerPartition": 2500}}}},
    {{"source": {{"tableName": "by_text"}}, "target": {{"tableName": "BY_TEXT"}},
      "columnNamesToPartitionBy": ["region", "code"], "partitionSize": {{"maxRowsPerPartition": 2000}}}},
    {{"source": {{"tableName": "small"}}, "target": {{"tableName": "SMALL"}},
      "columnNamesToPartitionBy": ["id"]}}
  ]
}}"#,
        schema = e2e.pg.schema
    );
    let micros = DataType::Timestamp(TimeUnit::Microsecond, None);
    let tables = [
        Expected {
            source: "by_number",
            target: "BY_NUMBER",
            select: "SELECT id, amount, note FROM by_number",
            types: vec![
                ("id", DataType::Int64),
                ("amount", DataType::Float64),
                ("note", DataType::Utf8),
            ],
            target_columns: &["ID", "AMOUNT", "NOTE"],
            min_partitions: 5,
        },
        Expected {
            source: "by_time",
            target: "BY_TIME",
            select: "SELECT id, event_at, price FROM by_time",
            types: vec![
                ("id", DataType::Int32),
                ("event_at", micros),
                ("price", DataType::Decimal128(14, 4)),
            ],
            target_columns: &["ID", "EVENT_AT", "PRICE"],
            min_partitions: 4,
        },
        Expected {
            source: "by_text",
            target: "BY_TEXT",
            select: "SELECT region, code, qty FROM by_text",
            types: vec![
                ("region", DataType::Utf8),
                ("code", DataType::Utf8),
                ("qty", DataType::Int32),
            ],
            target_columns: &["REGION", "CODE", "QTY"],
            min_partitions: 4,
        },
        Expected {
            source: "small",
            target: "SMALL",
            select: "SELECT id, label FROM small",
            types: vec![("id", DataType::Int32), ("label", DataType::Utf8)],
            target_columns: &["ID", "LABEL"],
            min_partitions: 1,
        },
    ];

    let mut orchestrator = e2e.start_orchestrator("orchestrator");
    let mut worker_a = e2e.start_worker("worker-a", 2);
    let mut worker_b = e2e.start_worker("worker-b", 2);
    e2e.create_workflow_ok("PARTITIONED", &workflow);
    e2e.wait_completed(
        "PARTITIONED",
        Duration::from_secs(150),
        &mut [&mut orchestrator, &mut worker_a, &mut worker_b],
    );

    let mut session = e2e.session();
    e2e.assert_verified("PARTITIONED", 4);
    // Both workers took part: the extract tasks were completed by two different consumers.
    let owners = e2e.rows(
        &mut session,
        &format!(
            "SELECT LEASE_OWNER, COUNT(*) FROM {} WHERE KIND = 'extract' AND STATUS = 'completed'
             GROUP BY LEASE_OWNER",
            e2e.metadata("TASK_QUEUE")
        ),
    );
    eprintln!("extract tasks per worker: {owners:?}");
    assert_eq!(owners.len(), 2, "extract tasks per worker: {owners:?}");
    for table in &tables {
        let progress = e2e.rows(
            &mut session,
            &format!(
                "SELECT TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, EXAMPLE_ERROR_MESSAGE
                 FROM {} WHERE TABLE_NAME ILIKE '%{}'",
                e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR"),
                table.source
            ),
        );
        assert_eq!(progress.len(), 1, "{}: {progress:?}", table.source);
        let row = &progress[0];
        let partitions: u64 = row[0].as_deref().unwrap_or("0").parse().expect("a count");
        assert!(
            partitions >= table.min_partitions,
            "{}: {partitions} partitions, expected at least {}",
            table.source,
            table.min_partitions
        );
        if table.min_partitions == 1 {
            assert_eq!(partitions, 1, "{} fits one partition", table.source);
        }
        assert_eq!(
            row[0], row[1],
            "{}: every partition loaded: {row:?}",
            table.source
        );
        assert_eq!(row[2].as_deref(), Some("0"), "{}: {row:?}", table.source);
        assert_eq!(row[3], None, "{}: {row:?}", table.source);

        let (source_rows, source_sum) = e2e.source_checksum(table.select, &table.types);
        let target = format!("{db}.PARTS.{}", table.target);
        let (target_rows, target_sum) =
            e2e.target_checksum(&mut session, &target, table.target_columns);
        assert_eq!(target_rows, source_rows, "rows of {target}");
        assert_eq!(target_sum, source_sum, "content of {target}");
    }
    // by_time's key is not unique: no key boundary may split or repeat equal timestamps.
    assert_eq!(
        e2e.count(
            &mut session,
            &format!("SELECT COUNT(DISTINCT ID) FROM {db}.PARTS.BY_TIME")
        ),
        15000
    );
}
