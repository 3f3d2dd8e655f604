//! `orchestrator verify`: proves a completed workflow's copy. Per table, the target is read
//! back from Snowflake as Arrow, batch by batch, and checksummed with the same normaliser the
//! workers used while extracting (see `migration_core::source::content_checksum`); the sum of
//! the partitions' extract checksums must equal it, and the target's row count must equal the
//! rows extracted. A target with a row lost, duplicated or altered fails.

use std::collections::BTreeMap;

use migration_core::snowflake::{Session, SqlValue};
use migration_core::validation::content::{
    sum_checksums, target_checksum, ReadBackColumn, TableVerification,
};
use migration_core::workflow::AnalyzeResult;

use crate::context::{cell, json_cell, parse_int, query, Row};
use crate::sql::{Binds, Statements};
use crate::target_table::column_sql_name;
use crate::task_error::TaskError;

/// The outcome for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableVerdict {
    /// Compared; see [`TableVerification::counts_match`] and `checksums_match`.
    Compared(TableVerification),
    /// Could not be compared (not analyzed, partitions unfinished, unreadable metadata).
    NotVerifiable { source: String, reason: String },
}

impl TableVerdict {
    pub fn is_proven(&self) -> bool {
        matches!(self, TableVerdict::Compared(v) if v.counts_match() && v.checksums_match())
    }
}

/// One table's metadata rows, grouped.
struct TableRows {
    source: String,
    target: Option<String>,
    analysis: Option<serde_json::Value>,
    /// (status, rows extracted, checksum) per partition.
    partitions: Vec<(String, Option<i64>, Option<String>)>,
}

/// Verifies every table of the workflow with id `workflow_id`.
pub fn verify_workflow(
    session: &mut Session,
    statements: &Statements,
    workflow_id: i64,
) -> Result<Vec<TableVerdict>, TaskError> {
    let binds = Binds::from([("workflow_id", SqlValue::Int(workflow_id))]);
    let rows = query(
        session,
        "read the workflow's tables and partitions",
        statements.verify_tables.sql(),
        &statements.verify_tables.params(&binds),
    )?;
    let mut verdicts = Vec::new();
    for table in group_by_table(&rows).into_values() {
        verdicts.push(verify_table(session, table)?);
    }
    Ok(verdicts)
}

fn group_by_table(rows: &[Row]) -> BTreeMap<i64, TableRows> {
    let mut tables: BTreeMap<i64, TableRows> = BTreeMap::new();
    for row in rows {
        let Some(id) = cell(row, 0).and_then(parse_int) else {
            continue;
        };
        let table = tables.entry(id).or_insert_with(|| TableRows {
            source: cell(row, 1).unwrap_or_default().to_owned(),
            target: cell(row, 2).map(str::to_owned),
            analysis: json_cell(row, 3),
            partitions: Vec::new(),
        });
        if cell(row, 4).is_some() {
            table.partitions.push((
                cell(row, 5).unwrap_or_default().to_owned(),
                cell(row, 6).and_then(parse_int),
                cell(row, 7).map(str::to_owned),
            ));
        }
    }
    tables
}

fn verify_table(session: &mut Session, table: TableRows) -> Result<TableVerdict, TaskError> {
    let not_verifiable = |reason: String| TableVerdict::NotVerifiable {
        source: table.source.clone(),
        reason,
    };
    let (Some(target), Some(analysis)) = (&table.target, &table.analysis) else {
        return Ok(not_verifiable(
            "the table was never analyzed; `orchestrator status` shows why".to_owned(),
        ));
    };
    let plan = match AnalyzeResult::from_json(analysis) {
        Ok(result) => result.plan,
        Err(error) => return Ok(not_verifiable(error.to_string())),
    };
    let unfinished = table
        .partitions
        .iter()
        .filter(|(status, _, _)| status != "COMPLETED")
        .count();
    if table.partitions.is_empty() || unfinished > 0 {
        return Ok(not_verifiable(format!(
            "{unfinished} of {} partitions are not completed; verify once the workflow has completed",
            table.partitions.len()
        )));
    }
    let rows_extracted: i64 = table
        .partitions
        .iter()
        .filter_map(|(_, rows, _)| *rows)
        .sum();
    let checksums = table
        .partitions
        .iter()
        .map(|(_, _, checksum)| checksum.as_deref().unwrap_or_default());
    let extracted_checksum = match sum_checksums(checksums) {
        Ok(sum) => sum,
        Err(error) => return Ok(not_verifiable(error.to_string())),
    };
    let columns: Vec<ReadBackColumn> = plan
        .columns
        .iter()
        .map(|column| ReadBackColumn {
            sql_name: column_sql_name(&column.target_name),
            snowflake_type: column.snowflake_type.clone(),
        })
        .collect();
    let read_back = target_checksum(session, target, &columns)
        .map_err(TaskError::snowflake("read the target table back"))?;
    tracing::debug!(
        table = %target,
        rows = read_back.rows,
        batches = read_back.batches,
        largest_batch_rows = read_back.largest_batch_rows,
        "target read back"
    );
    Ok(TableVerdict::Compared(TableVerification {
        source: table.source,
        target: target.clone(),
        rows_extracted: u64::try_from(rows_extracted).unwrap_or_default(),
        rows_in_target: read_back.rows,
        extracted_checksum,
        target_checksum: read_back.checksum,
    }))
}

/// One line per table, then a summary line.
pub fn render(verdicts: &[TableVerdict]) -> String {
    let mut out = String::new();
    for verdict in verdicts {
        match verdict {
            TableVerdict::Compared(v) => {
                let checksum = if v.checksums_match() {
                    "checksum matches".to_owned()
                } else {
                    format!(
                        "CHECKSUM DIFFERS (extracted {}, target {})",
                        v.extracted_checksum, v.target_checksum
                    )
                };
                let counts = if v.counts_match() {
                    ""
                } else {
                    "  ROW COUNTS DIFFER"
                };
                out.push_str(&format!(
                    "{} -> {}: {} rows extracted, {} rows in target, {checksum}{counts}\n",
                    v.source, v.target, v.rows_extracted, v.rows_in_target
                ));
            }
            TableVerdict::NotVerifiable { source, reason } => {
                out.push_str(&format!("{source}: NOT VERIFIED: {reason}\n"));
            }
        }
    }
    let proven = verdicts.iter().filter(|v| v.is_proven()).count();
    out.push_str(&format!("{proven} of {} table(s) verified", verdicts.len()));
    out
}

#[cfg(test)]
mod tests {
    use migration_core::source::content_checksum::ContentChecksum;

    use super::*;

    fn compared(rows_in_target: u64, target: u128) -> TableVerdict {
        TableVerdict::Compared(TableVerification {
            source: "main.main.orders".into(),
            target: "DEMO.PUBLIC.ORDERS".into(),
            rows_extracted: 10,
            rows_in_target,
            extracted_checksum: ContentChecksum(5),
            target_checksum: ContentChecksum(target),
        })
    }

    #[test]
    fn only_matching_counts_and_checksums_are_proven() {
        assert!(compared(10, 5).is_proven());
        assert!(!compared(11, 5).is_proven());
        assert!(!compared(10, 6).is_proven());
    }

    #[test]
    fn report_names_every_difference() {
        let verdicts = [
            compared(10, 5),
            compared(11, 6),
            TableVerdict::NotVerifiable {
                source: "main.main.gone".into(),
                reason: "the table was never analyzed; `orchestrator status` shows why".into(),
            },
        ];
        insta::assert_snapshot!(render(&verdicts), @r"
        main.main.orders -> DEMO.PUBLIC.ORDERS: 10 rows extracted, 10 rows in target, checksum matches
        main.main.orders -> DEMO.PUBLIC.ORDERS: 10 rows extracted, 11 rows in target, CHECKSUM DIFFERS (extracted 00000000000000000000000000000005, target 00000000000000000000000000000006)  ROW COUNTS DIFFER
        main.main.gone: NOT VERIFIED: the table was never analyzed; `orchestrator status` shows why
        1 of 3 table(s) verified
        ");
    }
}
