//! `orchestrator status`: per workflow and table, partitions by phase, rows extracted and
//! loaded, elapsed time and an example error.

use chrono::NaiveDateTime;
use migration_core::snowflake::{Session, SqlValue};

use crate::context::{cell, int_cell, parse_int, query, Row};
use crate::sql::{Binds, Statements};
use crate::task_error::TaskError;

/// One workflow and its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowStatus {
    pub id: i64,
    pub name: String,
    pub workflow_type: String,
    pub status: String,
    pub started_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub tasks: i64,
    pub failed_tasks: i64,
    pub tables: Vec<TableStatus>,
}

/// One row of TABLE_PROGRESS_WITH_EXAMPLE_ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    pub name: String,
    pub target: Option<String>,
    pub partitions: i64,
    pub extracting: i64,
    pub loading: i64,
    pub loaded: i64,
    pub failed: i64,
    pub extracted_rows: i64,
    pub loaded_rows: i64,
    pub example_error: Option<String>,
}

/// Reads every workflow, or the one named or numbered by `filter`.
pub fn read_status(
    session: &mut Session,
    statements: &Statements,
    filter: Option<&str>,
) -> Result<Vec<WorkflowStatus>, TaskError> {
    let binds = Binds::from([("workflow", SqlValue::from(filter.map(str::to_owned)))]);
    let rows = query(
        session,
        "read the workflows",
        statements.status_workflows.sql(),
        &statements.status_workflows.params(&binds),
    )?;
    let mut workflows = Vec::with_capacity(rows.len());
    for row in &rows {
        let id = int_cell(row, 0, "read the workflows")?;
        let binds = Binds::from([("workflow_id", SqlValue::Int(id))]);
        let tables = query(
            session,
            "read the workflow's tables",
            statements.status_tables.sql(),
            &statements.status_tables.params(&binds),
        )?;
        workflows.push(WorkflowStatus {
            id,
            name: text(row, 1),
            workflow_type: text(row, 2),
            status: text(row, 3),
            started_at: cell(row, 5).and_then(parse_timestamp),
            ended_at: cell(row, 6).and_then(parse_timestamp),
            last_error: cell(row, 7).map(str::to_owned),
            tasks: number(row, 8),
            failed_tasks: number(row, 9),
            tables: tables.iter().map(table_status).collect(),
        });
    }
    Ok(workflows)
}

fn text(row: &Row, index: usize) -> String {
    cell(row, index).unwrap_or_default().to_owned()
}

fn number(row: &Row, index: usize) -> i64 {
    cell(row, index).and_then(parse_int).unwrap_or(0)
}

fn table_status(row: &Row) -> TableStatus {
    TableStatus {
        name: text(row, 1),
        target: cell(row, 2).map(str::to_owned),
        partitions: number(row, 4),
        extracting: number(row, 5),
        loading: number(row, 6),
        loaded: number(row, 7),
        failed: number(row, 8),
        extracted_rows: number(row, 10),
        loaded_rows: number(row, 11),
        example_error: cell(row, 13).map(str::to_owned),
    }
}

/// Timestamps as the session renders them (`2026-11-26 01:02:03.123456` or with a `T`).
pub fn parse_timestamp(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim().replace('T', " ");
    let value = value.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f").ok()
}

/// `1h 02m 03s`, `2m 03s`, `3s`.
pub fn format_elapsed(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// The status as plain text; `now` measures the elapsed time of running workflows.
pub fn render(workflows: &[WorkflowStatus], now: NaiveDateTime) -> String {
    if workflows.is_empty() {
        return "no workflow found\n".to_owned();
    }
    let mut out = String::new();
    for workflow in workflows {
        let elapsed = workflow.started_at.map(|started| {
            let end = workflow.ended_at.unwrap_or(now);
            format_elapsed((end - started).num_seconds())
        });
        out.push_str(&format!(
            "workflow {} {} ({}): {}, {} tasks ({} failed){}\n",
            workflow.id,
            workflow.name,
            workflow.workflow_type,
            workflow.status,
            workflow.tasks,
            workflow.failed_tasks,
            elapsed
                .map(|e| format!(", elapsed {e}"))
                .unwrap_or_default()
        ));
        if let Some(error) = &workflow.last_error {
            out.push_str(&format!("  error: {error}\n"));
        }
        if workflow.tables.is_empty() {
            continue;
        }
        let width = workflow
            .tables
            .iter()
            .map(|table| table.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("TABLE".len());
        out.push_str(&format!(
            "  {:<width$}  {:>10}  {:>10}  {:>7}  {:>6}  {:>6}  {:>14}  {:>11}\n",
            "TABLE",
            "PARTITIONS",
            "EXTRACTING",
            "LOADING",
            "LOADED",
            "FAILED",
            "ROWS EXTRACTED",
            "ROWS LOADED"
        ));
        for table in &workflow.tables {
            out.push_str(&format!(
                "  {:<width$}  {:>10}  {:>10}  {:>7}  {:>6}  {:>6}  {:>14}  {:>11}\n",
                table.name,
                table.partitions,
                table.extracting,
                table.loading,
                table.loaded,
                table.failed,
                table.extracted_rows,
                table.loaded_rows
            ));
            if let Some(error) = &table.example_error {
                out.push_str(&format!(
                    "    error: {}\n",
                    error.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    out
}

/// Whether every shown workflow is completed (`--watch` stops then).
pub fn all_completed(workflows: &[WorkflowStatus]) -> bool {
    workflows
        .iter()
        .all(|workflow| workflow.status == "completed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        parse_timestamp(text).expect("timestamp")
    }

    #[test]
    fn renders_workflows_and_tables() {
        let workflows = vec![WorkflowStatus {
            id: 7,
            name: "NIGHTLY".into(),
            workflow_type: "data-migration".into(),
            status: "executing".into(),
            started_at: Some(at("2026-11-26 01:00:00.000000")),
            ended_at: None,
            last_error: None,
            tasks: 12,
            failed_tasks: 1,
            tables: vec![
                TableStatus {
                    name: "shop.public.orders".into(),
                    target: Some("TGT.PUBLIC.ORDERS".into()),
                    partitions: 5,
                    extracting: 1,
                    loading: 1,
                    loaded: 3,
                    failed: 0,
                    extracted_rows: 800,
                    loaded_rows: 600,
                    example_error: None,
                },
                TableStatus {
                    name: "shop.public.items".into(),
                    target: None,
                    partitions: 0,
                    extracting: 0,
                    loading: 0,
                    loaded: 0,
                    failed: 0,
                    extracted_rows: 0,
                    loaded_rows: 0,
                    example_error: Some("table TGT.PUBLIC.ITEMS already exists but does not match the source: column ID is DATE but the source needs NUMBER(19,0)".into()),
                },
            ],
        }];
        insta::assert_snapshot!(render(&workflows, at("2026-11-26T01:02:03")));
    }

    #[test]
    fn elapsed_and_timestamps() {
        assert_eq!(format_elapsed(3), "3s");
        assert_eq!(format_elapsed(123), "2m 03s");
        assert_eq!(format_elapsed(3723), "1h 02m 03s");
        assert!(parse_timestamp("2026-11-26 01:02:03.5").is_some());
        assert!(parse_timestamp("yesterday").is_none());
        assert_eq!(
            render(&[], at("2026-11-26 00:00:00")),
            "no workflow found\n"
        );
    }
}
