//! The `load` task: COPY one partition attempt's files into the target table, check that every
//! extracted row arrived, record the files in the ledger, complete the partition and the task,
//! all in one transaction.
//!
//! # What is trusted
//!
//! The extract result (TASK_QUEUE.RESULT) is a worker's word. The folder the COPY reads is
//! derived from the task itself: the results stage, the workflow of the load task, the table
//! and partition index of its payload, and the ATTEMPTS of its extract predecessor (the claim
//! that completed it, which named the folder). The reported folder must equal it and every
//! reported file must be a plain file name, or the load fails for good before any SQL runs.
//! The COPY names exactly the reported files (`FILES = (...)`), so nothing else that lies in
//! the folder is loaded.
//!
//! # Exactly once
//!
//! The ledger (LOADED_FILE) is the only record of what is in the target, and it cannot
//! disagree with the target, because every load runs as one client transaction:
//!
//! ```text
//! BEGIN
//!   COPY INTO target FROM @attempt_folder FILES = (...) ... FORCE = TRUE   (one per 1000 files)
//!   -- COPY's per-file rows must equal the worker's, their sum the extracted rows: else ROLLBACK
//!   INSERT INTO LOADED_FILE ...                                           (the ledger)
//!   UPDATE PARTITION_METADATA ... WHERE ID = ? AND STATUS <> 'COMPLETED'   (0 rows: ROLLBACK)
//!   UPDATE TASK_QUEUE ... WHERE ID = ? AND CLAIM_TOKEN = ?                 (lost lease: ROLLBACK)
//! COMMIT
//! ```
//!
//! So the rows of an attempt are committed if and only if its ledger rows, its partition's
//! completion and its task's completion are. Every way a load can end leaves one of two states:
//! - nothing committed (an error, a lost lease, a crash or a kill anywhere before COMMIT: an
//!   aborted transaction leaves no rows). The task is retried (by the queue's backoff, or when
//!   its lease expires) and loads the files again, correctly, because nothing of them is in
//!   the target. That is why the COPY runs with `FORCE = TRUE`: Snowflake's load metadata
//!   (which would skip files loaded before, and expires after 64 days) is not consulted, and
//!   neither is LOAD_HISTORY (14 days, 10,000 rows).
//! - everything committed. The task is completed, so it is never pulled again. Should it run
//!   again anyway (its completion's answer lost and the task reset by hand, or rows written by an
//!   older version that committed the ledger separately), the ledger already holds this
//!   attempt's files: the counts are taken from it and checked, no COPY runs.
//!
//! The fence on the partition makes a second load of the same partition (a duplicate task, or
//! a load that lost its lease while another took over) roll back its COPY; it then completes
//! its own task without loading anything.
//!
//! The statements that lock shared metadata tables (the UPDATEs of PARTITION_METADATA and
//! TASK_QUEUE) come last, right before COMMIT, so a process killed inside the transaction
//! holds those locks for as short a time as possible (the COPY, which takes long, locks only
//! the target table).
//!
//! A COPY error that may be transient (network, throttling, a lock timeout, an outcome lost
//! with the connection) fails the task as retryable, so the queue retries it with backoff;
//! only errors a retry cannot cure (a count mismatch, a compilation error, a bad value) fail it
//! for good, and then the target holds none of the partition's rows.

use migration_core::load::{
    copy_files_sql, parse_copy_result, CopyFiles, CopyOutcome, LoadColumn, MAX_FILES_PER_COPY,
};
use migration_core::metadata::MetadataNamesSql;
use migration_core::queue::ClaimedTask;
use migration_core::snowflake::{batches_to_rows, Session, SqlValue};
use migration_core::workflow::{
    attempt_folder, check_extract_result, source_identifier, table_results_folder, AnalyzeResult,
    ExtractResult, LoadPayload, LoadResult, TaskKind,
};

use crate::context::{
    cell, completed_predecessor, execute, int_cell, query, required, table_row, Context, TableRow,
};
use crate::sql::{now_value, Binds};
use crate::target_table::{self, load_columns};
use crate::task_error::TaskError;

/// The kind whose result a load reads (its predecessor in the task graph: the extract).
const LOAD_READS: TaskKind = TaskKind::Load
    .predecessor()
    .expect("a load has a predecessor");

/// What a load did, also the load task's result.
pub type LoadOutcome = LoadResult;

/// Test hooks into a load. `after_copy` runs inside the load's transaction right after the
/// COPY statements; an error from it aborts the transaction as a crash there would.
#[derive(Default)]
pub struct LoadHooks {
    #[allow(clippy::type_complexity)]
    pub after_copy: Option<Box<dyn Fn(&mut Session) -> Result<(), TaskError> + Send + Sync>>,
}

/// One file accounted for: its name and the rows loaded from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountedFile {
    pub name: String,
    pub rows_loaded: u64,
    pub status: String,
    pub first_error: Option<String>,
}

/// One row of COPY's answer, or of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    /// The path COPY reports (or the ledger's file name).
    pub path: String,
    pub rows_loaded: u64,
    pub status: String,
    pub first_error: Option<String>,
}

impl From<migration_core::load::CopyFileResult> for LoadedFile {
    fn from(file: migration_core::load::CopyFileResult) -> Self {
        LoadedFile {
            path: file.file,
            rows_loaded: file.rows_loaded,
            status: file.status,
            first_error: file.first_error,
        }
    }
}

/// Whether a path reported by Snowflake (COPY's `file`, relative to the stage, with or
/// without the folder) names the file `name`.
pub fn path_names_file(path: &str, name: &str) -> bool {
    path == name || path.ends_with(&format!("/{name}"))
}

/// Matches what was loaded with what the worker reported, file by file: each reported file
/// was loaded exactly once with exactly its rows, and nothing else was loaded. On a mismatch,
/// the description of every difference.
pub fn account_files(
    reported: &[(String, u64)],
    loaded: &[LoadedFile],
) -> Result<Vec<AccountedFile>, String> {
    let mut problems = Vec::new();
    let mut used = vec![false; loaded.len()];
    let mut accounted = Vec::with_capacity(reported.len());
    for (name, rows) in reported {
        let matches: Vec<usize> = loaded
            .iter()
            .enumerate()
            .filter(|(_, file)| path_names_file(&file.path, name))
            .map(|(index, _)| index)
            .collect();
        let [index] = matches.as_slice() else {
            if matches.is_empty() {
                problems.push(format!("{name} was not loaded"));
            } else {
                problems.push(format!("{name} was loaded {} times", matches.len()));
            }
            continue;
        };
        used[*index] = true;
        let file = &loaded[*index];
        if file.status != "LOADED" {
            problems.push(format!(
                "{name} has status {}{}",
                file.status,
                file.first_error
                    .as_deref()
                    .map(|error| format!(" ({error})"))
                    .unwrap_or_default()
            ));
        } else if file.rows_loaded != *rows {
            problems.push(format!(
                "{name}: {} rows loaded, {rows} reported",
                file.rows_loaded
            ));
        }
        accounted.push(AccountedFile {
            name: name.clone(),
            rows_loaded: file.rows_loaded,
            status: file.status.clone(),
            first_error: file.first_error.clone(),
        });
    }
    for (file, _) in loaded.iter().zip(&used).filter(|(_, used)| !**used) {
        problems.push(format!("{} was loaded but not reported", file.path));
    }
    if problems.is_empty() {
        Ok(accounted)
    } else {
        Err(problems.join("; "))
    }
}

/// The attempt folder of a load, derived from the task: never from what the worker reported.
pub fn derived_attempt_folder(
    context: &Context,
    task: &ClaimedTask,
    payload: &LoadPayload,
    extract_attempts: i64,
) -> String {
    let table = table_results_folder(&context.config.names, task.workflow_id, payload.table_index);
    attempt_folder(&table, payload.partition_index, extract_attempts)
}

pub fn run(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
) -> Result<LoadOutcome, TaskError> {
    run_with_hooks(context, session, task, &LoadHooks::default())
}

/// Everything one load needs, read and checked before its transaction.
struct Load {
    table_id: i64,
    partition_id: i64,
    partition_index: u32,
    table_name: String,
    qualified: String,
    columns: Vec<LoadColumn>,
    folder: String,
    /// `(file name, rows)` as the worker reported them, in its order.
    reported: Vec<(String, u64)>,
    rows_extracted: u64,
}

/// [`run`], with test hooks.
pub fn run_with_hooks(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    hooks: &LoadHooks,
) -> Result<LoadOutcome, TaskError> {
    let payload = LoadPayload::from_json(&task.payload)?;
    let table_id = required(task.table_id, task, "TABLE_ID")?;
    let partition_id = required(task.partition_id, task, "PARTITION_ID")?;
    let extract = completed_predecessor(context, session, task, LOAD_READS)?;
    let result = ExtractResult::from_json(&extract.result)?;
    let folder = derived_attempt_folder(context, task, &payload, extract.attempts);
    check_extract_result(&result, &folder).map_err(|source| TaskError::UntrustedResult {
        task_id: task.id(),
        extract_task_id: extract.task_id,
        folder: result.stage_folder.clone(),
        source: Box::new(source),
    })?;
    let row = table_row(context, session, table_id)?;
    let target = target_table::target_table(&row.configuration);
    let load = Load {
        table_id,
        partition_id,
        partition_index: payload.partition_index,
        table_name: source_identifier(&row.configuration),
        qualified: target.qualified()?,
        columns: load_columns(&recorded_plan(&row, table_id)?.plan),
        folder,
        reported: result
            .files
            .iter()
            .map(|file| (file.name.clone(), file.rows))
            .collect(),
        rows_extracted: result.rows,
    };

    let ledger = ledger_files(context, session, partition_id, &load.folder)?;
    mark_loading(context, session, partition_id, &result)?;
    if !ledger.is_empty() {
        return complete_from_ledger(context, session, task, &load, &ledger);
    }
    match load_in_one_transaction(context, session, task, &load, hooks) {
        Err(TaskError::PartitionCompletedBefore { table, partition }) => {
            tracing::warn!(%table, partition, "the partition was completed by another load; this load's COPY was rolled back");
            let result = LoadResult {
                rows_loaded: 0,
                files_loaded: 0,
                completed_before: true,
            };
            session.transaction(|session| {
                context
                    .queue
                    .complete(session, &task.lease, &result.to_json())?;
                Ok(result)
            })
        }
        other => other,
    }
}

/// The analysis the plan recorded: its columns say which ones are parsed as JSON.
fn recorded_plan(row: &TableRow, table_id: i64) -> Result<AnalyzeResult, TaskError> {
    let analysis = row
        .analysis
        .as_ref()
        .ok_or_else(|| TaskError::TableConfiguration {
            table_id,
            message: "its analysis is not recorded, so it was never planned".to_owned(),
        })?;
    Ok(AnalyzeResult::from_json(analysis)?)
}

/// BEGIN; COPY; check; ledger; partition; task; COMMIT (see the module doc).
fn load_in_one_transaction(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    load: &Load,
    hooks: &LoadHooks,
) -> Result<LoadOutcome, TaskError> {
    let names: Vec<String> = load.reported.iter().map(|(name, _)| name.clone()).collect();
    let file_format = format!(
        "{}.PARQUET_FILE_FORMAT",
        context.config.names.migration_schema_sql()
    );
    session.transaction(|session| {
        let mut loaded = Vec::new();
        for chunk in names.chunks(MAX_FILES_PER_COPY) {
            let sql = copy_files_sql(&CopyFiles {
                table: &load.qualified,
                columns: &load.columns,
                stage_folder: &load.folder,
                files: chunk,
                file_format: &file_format,
            })?;
            let outcome = copy(session, &load.qualified, &sql)?;
            loaded.extend(outcome.files.into_iter().map(LoadedFile::from));
        }
        if let Some(after_copy) = &hooks.after_copy {
            after_copy(session)?;
        }
        let accounted = checked_counts(load, &loaded, "COPY")?;
        let rows_loaded = accounted.iter().map(|file| file.rows_loaded).sum();
        record_ledger(context, session, task, load, &accounted)?;
        // The shared metadata tables are locked from here to COMMIT: keep it short.
        if complete_partition(context, session, load, rows_loaded)? == Completion::ByAnother {
            return Err(TaskError::PartitionCompletedBefore {
                table: load.table_name.clone(),
                partition: load.partition_index,
            });
        }
        let result = LoadResult {
            rows_loaded,
            files_loaded: u64::try_from(accounted.len()).unwrap_or(u64::MAX),
            completed_before: false,
        };
        context
            .queue
            .complete(session, &task.lease, &result.to_json())?;
        Ok(result)
    })
}

/// A repeated load whose files the ledger already holds: no COPY; the counts come from the
/// ledger and are checked; the partition (if a crash of an older version left it open) and
/// the task are completed.
fn complete_from_ledger(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    load: &Load,
    ledger: &[LoadedFile],
) -> Result<LoadOutcome, TaskError> {
    let accounted = checked_counts(load, ledger, "the ledger")?;
    let rows_loaded: u64 = accounted.iter().map(|file| file.rows_loaded).sum();
    tracing::info!(
        rows = rows_loaded,
        folder = %load.folder,
        "the ledger already holds this attempt's files; completing without COPY"
    );
    let result = LoadResult {
        rows_loaded,
        files_loaded: u64::try_from(accounted.len()).unwrap_or(u64::MAX),
        completed_before: false,
    };
    session.transaction(|session| {
        complete_partition(context, session, load, rows_loaded)?;
        context
            .queue
            .complete(session, &task.lease, &result.to_json())?;
        Ok(result)
    })
}

/// Every reported file loaded once with its rows, and the total equal to the extracted rows;
/// else a terminal mismatch (whose transaction, if any, rolls back).
fn checked_counts(
    load: &Load,
    loaded: &[LoadedFile],
    source: &str,
) -> Result<Vec<AccountedFile>, TaskError> {
    let accounted = account_files(&load.reported, loaded);
    let rows_loaded: u64 = match &accounted {
        Ok(files) => files.iter().map(|file| file.rows_loaded).sum(),
        Err(_) => loaded
            .iter()
            .filter(|file| file.status == "LOADED")
            .map(|file| file.rows_loaded)
            .sum(),
    };
    let problems = match accounted {
        Ok(files) if rows_loaded == load.rows_extracted => return Ok(files),
        Ok(_) => format!(
            "the worker's files hold {} rows but it reported {} extracted",
            load.reported.iter().map(|(_, rows)| rows).sum::<u64>(),
            load.rows_extracted
        ),
        Err(problems) => problems,
    };
    Err(TaskError::RowCountMismatch {
        table: load.table_name.clone(),
        partition: load.partition_index,
        loaded: rows_loaded,
        extracted: load.rows_extracted,
        detail: format!(
            "{source} of {} differs from the worker's report ({problems}); the load was rolled back, so the target holds none of this partition's rows: the staged files are not what the worker extracted, check that worker's log",
            load.folder
        ),
    })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn mark_loading(
    context: &Context,
    session: &mut Session,
    partition_id: i64,
    extract: &ExtractResult,
) -> Result<(), TaskError> {
    let statement = &context.statements.partition_loading;
    let files: Vec<&str> = extract
        .files
        .iter()
        .map(|file| file.name.as_str())
        .collect();
    let binds = Binds::from([
        ("partition_id", SqlValue::Int(partition_id)),
        ("rows_extracted", SqlValue::Int(to_i64(extract.rows))),
        ("bytes_extracted", SqlValue::Int(to_i64(extract.bytes))),
        (
            "file_count",
            SqlValue::Int(to_i64(extract.files.len() as u64)),
        ),
        (
            "files",
            SqlValue::Text(serde_json::json!(files).to_string()),
        ),
        ("checksum", SqlValue::Text(extract.checksum.clone())),
        ("now", now_value()),
    ]);
    execute(
        session,
        "mark the partition as loading",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(())
}

/// Who completed a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completion {
    ThisLoad,
    /// It was completed already, by another load.
    ByAnother,
}

/// The fenced completion of the partition. When it updates no row the partition must be
/// completed already; anything else (no such partition, another status) is an error, never
/// taken for "done": the load's transaction then rolls back.
fn complete_partition(
    context: &Context,
    session: &mut Session,
    load: &Load,
    rows_loaded: u64,
) -> Result<Completion, TaskError> {
    let partition_id = load.partition_id;
    let statement = &context.statements.partition_completed;
    let binds = Binds::from([
        ("partition_id", SqlValue::Int(partition_id)),
        ("rows_loaded", SqlValue::Int(to_i64(rows_loaded))),
        ("now", now_value()),
    ]);
    let updated = execute(
        session,
        "complete the partition",
        statement.sql(),
        &statement.params(&binds),
    )?;
    match updated {
        1 => return Ok(Completion::ThisLoad),
        0 => {}
        _ => {
            return Err(TaskError::UnexpectedResult {
                action: "complete the partition",
                message: format!("{updated} rows updated for partition {partition_id}"),
            })
        }
    }
    match partition_status(context, session, partition_id)?.as_deref() {
        Some("COMPLETED") => Ok(Completion::ByAnother),
        other => Err(TaskError::PartitionNotCompletable {
            table: load.table_name.clone(),
            partition: load.partition_index,
            partition_id,
            state: match other {
                None => "no such partition is recorded".to_owned(),
                Some(status) => format!("its status is {status}, not COMPLETED"),
            },
        }),
    }
}

/// PARTITION_METADATA.STATUS of a partition; `None` when no such partition is recorded.
fn partition_status(
    context: &Context,
    session: &mut Session,
    partition_id: i64,
) -> Result<Option<String>, TaskError> {
    let statement = &context.statements.partition_status;
    let binds = Binds::from([("partition_id", SqlValue::Int(partition_id))]);
    let rows = query(
        session,
        "read the partition's status",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(rows.first().and_then(|row| cell(row, 0)).map(str::to_owned))
}

/// Runs one COPY and reads its per-file answer.
fn copy(session: &mut Session, qualified: &str, sql: &str) -> Result<CopyOutcome, TaskError> {
    let batches = session.query(sql, &[]).map_err(TaskError::snowflake(
        "COPY the partition's files into the target table",
    ))?;
    let header: Vec<String> = batches
        .first()
        .map(|batch| {
            batch
                .schema()
                .fields()
                .iter()
                .map(|field| field.name().clone())
                .collect()
        })
        .unwrap_or_default();
    if header.is_empty() {
        return Ok(CopyOutcome {
            files: Vec::new(),
            rows_loaded: 0,
        });
    }
    let rows = batches_to_rows(&batches).map_err(|error| TaskError::UnexpectedResult {
        action: "COPY the partition's files into the target table",
        message: error.to_string(),
    })?;
    Ok(parse_copy_result(qualified, &header, &rows)?)
}

fn ledger_files(
    context: &Context,
    session: &mut Session,
    partition_id: i64,
    stage_folder: &str,
) -> Result<Vec<LoadedFile>, TaskError> {
    let statement = &context.statements.ledger_files;
    let binds = Binds::from([
        ("partition_id", SqlValue::Int(partition_id)),
        ("stage_path", SqlValue::Text(stage_folder.to_owned())),
    ]);
    let rows = query(
        session,
        "read the ledger of loaded files",
        statement.sql(),
        &statement.params(&binds),
    )?;
    rows.iter()
        .map(|row| {
            let rows_loaded = int_cell(row, 1, "read the ledger of loaded files")?;
            Ok(LoadedFile {
                path: cell(row, 0).unwrap_or_default().to_owned(),
                rows_loaded: u64::try_from(rows_loaded).unwrap_or(0),
                status: "LOADED".to_owned(),
                first_error: None,
            })
        })
        .collect()
}

fn record_ledger(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    load: &Load,
    accounted: &[AccountedFile],
) -> Result<(), TaskError> {
    if accounted.is_empty() {
        return Ok(());
    }
    let files: Vec<serde_json::Value> = accounted
        .iter()
        .map(|file| {
            serde_json::json!({
                "file_name": file.name,
                "rows_parsed": file.rows_loaded,
                "rows_loaded": file.rows_loaded,
                "first_error": file.first_error,
                "copy_status": file.status,
            })
        })
        .collect();
    let statement = &context.statements.insert_ledger;
    let binds = Binds::from([
        ("workflow_id", SqlValue::Int(task.workflow_id)),
        ("table_id", SqlValue::Int(load.table_id)),
        ("partition_id", SqlValue::Int(load.partition_id)),
        ("task_id", SqlValue::Int(task.id())),
        ("stage_path", SqlValue::Text(load.folder.clone())),
        (
            "files",
            SqlValue::Text(serde_json::Value::Array(files).to_string()),
        ),
        ("now", now_value()),
    ]);
    execute(
        session,
        "record the loaded files in the ledger",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(files: &[(&str, &str, u64)]) -> Vec<LoadedFile> {
        files
            .iter()
            .map(|(path, status, rows)| LoadedFile {
                path: (*path).to_owned(),
                rows_loaded: *rows,
                status: (*status).to_owned(),
                first_error: None,
            })
            .collect()
    }

    fn reported(files: &[(&str, u64)]) -> Vec<(String, u64)> {
        files
            .iter()
            .map(|(name, rows)| ((*name).to_owned(), *rows))
            .collect()
    }

    #[test]
    fn every_reported_file_loaded_once_with_its_rows_passes() {
        let accounted = account_files(
            &reported(&[("a.parquet", 3), ("b.parquet", 4)]),
            &loaded(&[
                (
                    "task_results/workflows/1/tables/0/partition_2/attempt_1/a.parquet",
                    "LOADED",
                    3,
                ),
                ("b.parquet", "LOADED", 4),
            ]),
        )
        .expect("faithful");
        assert_eq!(accounted.iter().map(|f| f.rows_loaded).sum::<u64>(), 7);
        assert_eq!(accounted[0].name, "a.parquet");
    }

    #[test]
    fn missing_extra_short_and_skipped_files_are_each_named() {
        let problems = account_files(
            &reported(&[("a.parquet", 3), ("b.parquet", 4), ("c.parquet", 1)]),
            &loaded(&[
                ("x/a.parquet", "LOADED", 2),
                ("x/b.parquet", "LOAD_SKIPPED", 0),
                ("x/evil.parquet", "LOADED", 9),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            problems,
            "a.parquet: 2 rows loaded, 3 reported; b.parquet has status LOAD_SKIPPED; c.parquet was not loaded; x/evil.parquet was loaded but not reported"
        );
        assert!(!path_names_file("x/ba.parquet", "a.parquet"));
    }

    #[test]
    fn a_copy_error_a_retry_may_cure_is_retryable_and_a_compilation_error_is_not() {
        use migration_core::snowflake::{ErrorKind, SnowflakeError};
        let copy = "COPY the partition's files into the target table";
        let lost = TaskError::snowflake(copy)(SnowflakeError::OutcomeUnknown {
            sql: "COPY INTO …".into(),
            message: "connection reset".into(),
        });
        assert!(lost.is_retryable(), "{lost}");
        let statement = |kind| SnowflakeError::Statement {
            sql: "COPY INTO …".into(),
            kind,
            code: None,
            sqlstate: None,
            message: "x".into(),
        };
        for kind in [
            ErrorKind::Network,
            ErrorKind::Throttled,
            ErrorKind::LockTimeout,
        ] {
            assert!(
                TaskError::snowflake(copy)(statement(kind)).is_retryable(),
                "{kind:?}"
            );
        }
        for kind in [
            ErrorKind::Compilation,
            ErrorKind::Execution,
            ErrorKind::Permission,
        ] {
            assert!(
                !TaskError::snowflake(copy)(statement(kind)).is_retryable(),
                "{kind:?}"
            );
        }
    }
}
