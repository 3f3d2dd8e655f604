//! The product page's "Basic Migration" example, adapted to PostgreSQL, run with the real
//! binaries: two tables sharing source and target schemas, a renamed target table, a
//! columnTypeMappings entry, columnNameMappings, a whereClauseCriteria and a partitionSize.

use std::time::Duration;

use arrow::datatypes::{DataType, TimeUnit};
use snowflake_data_migration::E2e;

const SOURCE: &str = "
    CREATE TABLE store_employee (
        id bigint PRIMARY KEY,
        name text,
        hired_at timestamp,
        salary numeric(12,2)
    );
    INSERT INTO store_employee
    SELECT i,
           CASE WHEN i % 17 = 0 THEN NULL ELSE 'employé ' || i || ' 名前' END,
           TIMESTAMP '2020-01-01 08:00:00' + i * INTERVAL '37 minutes 13.25 seconds',
           1000 + i * 3.57
    FROM generate_series(1, 600) AS i;

    CREATE TABLE sales_simple (
        id integer PRIMARY KEY,
        name text,
        amount numeric(10,2),
        is_deleted integer NOT NULL,
        updated_at timestamp
    );
    INSERT INTO sales_simple
    SELECT i,
           'customer ' || i,
           CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1.25 END,
           CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END,
           TIMESTAMP '2024-02-29 23:59:59.5' - i * INTERVAL '1 hour'
    FROM generate_series(1, 1200) AS i;
    ANALYZE store_employee;
    ANALYZE sales_simple;
";

#[test]
fn basic_migration_example_lands_filtered_renamed_and_retyped() {
    let e2e = E2e::new("e2e_basic");
    e2e.pg_execute(SOURCE);
    let db = &e2e.database.name;
    let workflow = format!(
        r#"{{
  "defaultTableConfiguration": {{
    "source": {{"schemaName": "{schema}", "databaseName": "postgres"}},
    "target": {{"schemaName": "samplestore", "databaseName": "{db}"}}
  }},
  "tables": [
    {{
      "source": {{"tableName": "store_employee"}},
      "target": {{"tableName": "target_employee"}},
      "columnNamesToPartitionBy": ["id"]
    }},
    {{
      "source": {{"tableName": "sales_simple"}},
      "target": {{"tableName": "Sales_Simple"}},
      "columnNamesToPartitionBy": ["id"],
      "columnTypeMappings": [{{"sourceType": "NUMERIC(10,2)", "targetType": "DECIMAL(19,4)"}}],
      "columnNameMappings": [
        {{"sourceName": "id", "targetName": "old_id"}},
        {{"sourceName": "name", "targetName": "full_name"}}
      ],
      "partitionSize": {{"maxRowsPerPartition": 250}},
      "whereClauseCriteria": "is_deleted = 0"
    }}
  ]
}}"#,
        schema = e2e.pg.schema
    );

    let mut orchestrator = e2e.start_orchestrator("orchestrator");
    let mut worker = e2e.start_worker("worker", 2);
    e2e.create_workflow_ok("BASIC_MIGRATION", &workflow);
    e2e.wait_completed(
        "BASIC_MIGRATION",
        Duration::from_secs(120),
        &mut [&mut orchestrator, &mut worker],
    );

    let mut session = e2e.session();
    e2e.assert_verified("BASIC_MIGRATION", 2);
    // Every partition of both tables completed, and the sales table was split.
    let progress = e2e.rows(
        &mut session,
        &format!(
            "SELECT TABLE_NAME, TOTAL_PARTITIONS, LOADED_PARTITIONS, FAILED_PARTITIONS, EXAMPLE_ERROR_MESSAGE
             FROM {} ORDER BY TABLE_NAME",
            e2e.metadata("TABLE_PROGRESS_WITH_EXAMPLE_ERROR")
        ),
    );
    assert_eq!(progress.len(), 2, "{progress:?}");
    for row in &progress {
        assert_eq!(row[1], row[2], "every partition loaded: {row:?}");
        assert_eq!(row[3].as_deref(), Some("0"), "no failed partition: {row:?}");
        assert_eq!(row[4], None, "no error: {row:?}");
    }
    let sales_partitions: u64 = progress
        .iter()
        .find(|row| {
            row[0]
                .as_deref()
                .is_some_and(|n| n.contains("sales_simple"))
        })
        .and_then(|row| row[1].as_deref()?.parse().ok())
        .unwrap_or_else(|| panic!("no progress row for sales_simple: {progress:?}"));
    assert!(
        sales_partitions >= 3,
        "800 rows at 250 per partition: {sales_partitions} partitions"
    );

    // target_employee: every row, every value.
    let employees = format!("{db}.SAMPLESTORE.TARGET_EMPLOYEE");
    let (source_rows, source_sum) = e2e.source_checksum(
        "SELECT id, name, hired_at, salary FROM store_employee",
        &[
            ("id", DataType::Int64),
            ("name", DataType::Utf8),
            ("hired_at", DataType::Timestamp(TimeUnit::Microsecond, None)),
            ("salary", DataType::Decimal128(12, 2)),
        ],
    );
    assert_eq!(source_rows, 600);
    let (target_rows, target_sum) = e2e.target_checksum(
        &mut session,
        &employees,
        &["ID", "NAME", "HIRED_AT", "SALARY"],
    );
    assert_eq!(target_rows, source_rows, "rows of {employees}");
    assert_eq!(target_sum, source_sum, "content of {employees}");

    // Sales_Simple: only the rows the where clause keeps, under the new column names.
    let sales = format!("{db}.SAMPLESTORE.SALES_SIMPLE");
    let (kept_rows, kept_sum) = e2e.source_checksum(
        "SELECT id, name, amount, is_deleted, updated_at FROM sales_simple WHERE is_deleted = 0",
        &[
            ("id", DataType::Int32),
            ("name", DataType::Utf8),
            ("amount", DataType::Decimal128(10, 2)),
            ("is_deleted", DataType::Int32),
            (
                "updated_at",
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
        ],
    );
    assert_eq!(kept_rows, 800, "1200 rows, every third deleted");
    let (target_rows, target_sum) = e2e.target_checksum(
        &mut session,
        &sales,
        &["OLD_ID", "FULL_NAME", "AMOUNT", "IS_DELETED", "UPDATED_AT"],
    );
    assert_eq!(target_rows, kept_rows, "rows of {sales}");
    assert_eq!(target_sum, kept_sum, "content of {sales}");
    assert_eq!(
        e2e.count(
            &mut session,
            &format!("SELECT COUNT(*) FROM {sales} WHERE IS_DELETED <> 0")
        ),
        0,
        "the where clause was applied"
    );
    assert_eq!(
        e2e.count(
            &mut session,
            &format!("SELECT COUNT(DISTINCT OLD_ID) FROM {sales}")
        ),
        800,
        "no key twice"
    );

    // The renamed columns replace the source names, and the mapped type is the column's type.
    let columns = e2e.rows(
        &mut session,
        &format!(
            "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE
             FROM {db}.INFORMATION_SCHEMA.COLUMNS
             WHERE TABLE_SCHEMA = 'SAMPLESTORE' AND TABLE_NAME = 'SALES_SIMPLE'
             ORDER BY ORDINAL_POSITION"
        ),
    );
    let names: Vec<&str> = columns
        .iter()
        .map(|row| row[0].as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["OLD_ID", "FULL_NAME", "AMOUNT", "IS_DELETED", "UPDATED_AT"],
        "{columns:?}"
    );
    let amount = &columns[2];
    assert_eq!(
        (
            amount[1].as_deref(),
            amount[2].as_deref(),
            amount[3].as_deref()
        ),
        (Some("NUMBER"), Some("19"), Some("4")),
        "AMOUNT is DECIMAL(19,4): {amount:?}"
    );
}
