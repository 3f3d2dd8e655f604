//! The `load` task: COPY one partition attempt's files into the target table, check that every
//! extracted row arrived, record the files in the ledger and complete the partition.
//!
//! # Exactly once
//!
//! The attempt folder holds exactly one extraction's files, and COPY's load history skips files
//! it already loaded into the table. A COPY repeated after a crash (between COPY and the
//! bookkeeping below) therefore loads nothing; the rows of the files it skips are taken from the
//! ledger, or, when the crash came before the ledger was written, from the table's
//! INFORMATION_SCHEMA.LOAD_HISTORY. So a repeated load is a no-op that still verifies the
//! count. The ledger rows, the partition's completion and the task's completion commit
//! together.

use migration_core::load::{copy_into_sql, parse_copy_result, CopyOutcome, TargetTable};
use migration_core::queue::ClaimedTask;
use migration_core::snowflake::{batches_to_rows, Session, SqlValue};
use migration_core::workflow::{ExtractResult, LoadPayload, LoadResult, TaskKind};

use crate::claim::source_identifier;
use crate::context::{
    cell, execute, int_cell, predecessor_result, query, required, table_configuration, Context,
};
use crate::sql::{now_value, Binds};
use crate::target_table::{self, stored_identifier};
use crate::task_error::TaskError;

/// Where the rows of one extracted file were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSource {
    /// Loaded by this COPY.
    Copied,
    /// Loaded earlier and recorded in the ledger.
    Ledger,
    /// Loaded earlier by a COPY whose bookkeeping was lost; counted from LOAD_HISTORY.
    LoadHistory,
}

/// One file accounted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountedFile {
    pub name: String,
    pub rows_loaded: u64,
    pub status: String,
    pub first_error: Option<String>,
    pub source: FileSource,
}

/// The tally of a partition's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub files: Vec<AccountedFile>,
    /// Extracted files found nowhere (neither loaded now nor before).
    pub missing: Vec<String>,
}

impl Tally {
    pub fn rows_loaded(&self) -> u64 {
        self.files.iter().map(|file| file.rows_loaded).sum()
    }

    /// Files to add to the ledger: those not recorded there yet.
    pub fn new_ledger_entries(&self) -> impl Iterator<Item = &AccountedFile> {
        self.files
            .iter()
            .filter(|file| file.source != FileSource::Ledger)
    }
}

/// Whether a path reported by Snowflake (`COPY`'s `file`, LOAD_HISTORY's `FILE_NAME`) names
/// `name` inside `folder_suffix` (`workflows/1/tables/0/partition_2/attempt_1/`; empty to
/// match the name in any folder).
pub fn path_names_file(path: &str, folder_suffix: &str, name: &str) -> bool {
    let wanted = format!("{folder_suffix}{name}");
    path == wanted || path.ends_with(&format!("/{wanted}"))
}

/// The part of a stage folder after the stage: `@DB.S.TASK_RESULTS/workflows/1/` ->
/// `workflows/1/`.
pub fn folder_suffix(stage_folder: &str) -> &str {
    stage_folder.split_once('/').map_or("", |(_, rest)| rest)
}

/// Accounts for every extracted file: loaded now, recorded in the ledger, or found in the load
/// history (in that order of preference).
pub fn tally_files(
    extracted: &[String],
    copied: &CopyOutcome,
    ledger: &[(String, u64)],
    history: &[(String, u64)],
    folder: &str,
) -> Tally {
    let mut tally = Tally::default();
    for name in extracted {
        let copied_now = copied
            .files
            .iter()
            .find(|file| path_names_file(&file.file, "", name) && file.status != "LOAD_SKIPPED");
        if let Some(file) = copied_now {
            tally.files.push(AccountedFile {
                name: name.clone(),
                rows_loaded: file.rows_loaded,
                status: file.status.clone(),
                first_error: file.first_error.clone(),
                source: FileSource::Copied,
            });
        } else if let Some((_, rows)) = ledger.iter().find(|(file, _)| file == name) {
            tally.files.push(AccountedFile {
                name: name.clone(),
                rows_loaded: *rows,
                status: "LOADED".to_owned(),
                first_error: None,
                source: FileSource::Ledger,
            });
        } else if let Some((_, rows)) = history
            .iter()
            .find(|(path, _)| path_names_file(path, folder, name))
        {
            tally.files.push(AccountedFile {
                name: name.clone(),
                rows_loaded: *rows,
                status: "LOADED".to_owned(),
                first_error: None,
                source: FileSource::LoadHistory,
            });
        } else {
            tally.missing.push(name.clone());
        }
    }
    tally
}

/// What a load did, also the load task's result.
pub type LoadOutcome = LoadResult;

pub fn run(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
) -> Result<LoadOutcome, TaskError> {
    let payload = LoadPayload::from_json(&task.payload)?;
    let table_id = required(task.table_id, task, "TABLE_ID")?;
    let partition_id = required(task.partition_id, task, "PARTITION_ID")?;
    let extract = ExtractResult::from_json(&predecessor_result(
        context,
        session,
        task,
        TaskKind::Extract,
    )?)?;
    let table = table_configuration(context, session, table_id)?;
    let target = target_table::target_table(&table);
    let qualified = target.qualified()?;
    let table_name = source_identifier(&table);

    mark_loading(context, session, partition_id, &extract)?;
    let copied = if extract.files.is_empty() {
        CopyOutcome {
            files: Vec::new(),
            rows_loaded: 0,
        }
    } else {
        copy(session, &qualified, &extract.stage_folder)?
    };
    let names: Vec<String> = extract.files.iter().map(|file| file.name.clone()).collect();
    let ledger = ledger_files(context, session, partition_id, &extract.stage_folder)?;
    let folder = folder_suffix(&extract.stage_folder);
    let mut tally = tally_files(&names, &copied, &ledger, &[], folder);
    if !tally.missing.is_empty() {
        let history = load_history(context, session, &target, folder)?;
        tally = tally_files(&names, &copied, &ledger, &history, folder);
    }
    let rows_loaded = tally.rows_loaded();
    if rows_loaded != extract.rows || !tally.missing.is_empty() {
        return Err(TaskError::RowCountMismatch {
            table: table_name,
            partition: payload.partition_index,
            loaded: rows_loaded,
            extracted: extract.rows,
            detail: mismatch_detail(&tally, &extract.stage_folder),
        });
    }

    let result = LoadResult {
        rows_loaded,
        files_loaded: u64::try_from(tally.files.len()).unwrap_or(u64::MAX),
    };
    session.transaction(|session| {
        record_ledger(
            context,
            session,
            task,
            table_id,
            partition_id,
            &extract,
            &tally,
        )?;
        let statement = &context.statements.partition_completed;
        let binds = Binds::from([
            ("partition_id", SqlValue::Int(partition_id)),
            ("rows_loaded", SqlValue::Int(to_i64(rows_loaded))),
            ("now", now_value()),
        ]);
        execute(
            session,
            "complete the partition",
            statement.sql(),
            &statement.params(&binds),
        )?;
        context
            .queue
            .complete(session, &task.lease, &result.to_json())?;
        Ok(result)
    })
}

fn mismatch_detail(tally: &Tally, stage_folder: &str) -> String {
    if tally.missing.is_empty() {
        format!("COPY's count of the files in {stage_folder} differs from the worker's; the target may hold part of this partition, check it before running the workflow again")
    } else {
        format!(
            "files {} of {stage_folder} were not loaded and are not in the load history; they may have been removed from the stage, retry the workflow",
            tally.missing.join(", ")
        )
    }
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

/// Runs COPY and reads its per-file answer.
fn copy(
    session: &mut Session,
    qualified: &str,
    stage_folder: &str,
) -> Result<CopyOutcome, TaskError> {
    let sql = copy_into_sql(qualified, stage_folder);
    let batches = session.query(&sql, &[]).map_err(TaskError::snowflake(
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
) -> Result<Vec<(String, u64)>, TaskError> {
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
            Ok((
                cell(row, 0).unwrap_or_default().to_owned(),
                u64::try_from(rows_loaded).unwrap_or(0),
            ))
        })
        .collect()
}

fn load_history(
    context: &Context,
    session: &mut Session,
    target: &TargetTable,
    folder: &str,
) -> Result<Vec<(String, u64)>, TaskError> {
    let statement = context
        .statements
        .load_history(&migration_core::load::sql_identifier(&target.database)?);
    let binds = Binds::from([
        (
            "schema_name",
            SqlValue::Text(stored_identifier(&target.schema)),
        ),
        (
            "table_name",
            SqlValue::Text(stored_identifier(&target.table)),
        ),
        ("file_pattern", SqlValue::Text(format!("%{folder}%"))),
    ]);
    let rows = query(
        session,
        "read the target table's load history",
        statement.sql(),
        &statement.params(&binds),
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let rows_loaded = cell(row, 1).and_then(crate::context::parse_int)?;
            Some((
                cell(row, 0)?.to_owned(),
                u64::try_from(rows_loaded).unwrap_or(0),
            ))
        })
        .collect())
}

fn record_ledger(
    context: &Context,
    session: &mut Session,
    task: &ClaimedTask,
    table_id: i64,
    partition_id: i64,
    extract: &ExtractResult,
    tally: &Tally,
) -> Result<(), TaskError> {
    let files: Vec<serde_json::Value> = tally
        .new_ledger_entries()
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
    if files.is_empty() {
        return Ok(());
    }
    let statement = &context.statements.insert_ledger;
    let binds = Binds::from([
        ("workflow_id", SqlValue::Int(task.workflow_id)),
        ("table_id", SqlValue::Int(table_id)),
        ("partition_id", SqlValue::Int(partition_id)),
        ("task_id", SqlValue::Int(task.id())),
        ("stage_path", SqlValue::Text(extract.stage_folder.clone())),
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
    use migration_core::load::CopyFileResult;

    fn copied(files: &[(&str, &str, u64)]) -> CopyOutcome {
        let files: Vec<CopyFileResult> = files
            .iter()
            .map(|(file, status, rows)| CopyFileResult {
                file: (*file).to_owned(),
                status: (*status).to_owned(),
                rows_loaded: *rows,
                first_error: None,
            })
            .collect();
        let rows_loaded = files.iter().map(|f| f.rows_loaded).sum();
        CopyOutcome { files, rows_loaded }
    }

    const FOLDER: &str = "workflows/1/tables/0/partition_2/attempt_1/";

    #[test]
    fn first_load_counts_what_copy_loaded() {
        let names = vec!["a.parquet".to_owned(), "b.parquet".to_owned()];
        let outcome = copied(&[
            (
                "task_results/workflows/1/tables/0/partition_2/attempt_1/a.parquet",
                "LOADED",
                3,
            ),
            ("b.parquet", "LOADED", 4),
        ]);
        let tally = tally_files(&names, &outcome, &[], &[], FOLDER);
        assert_eq!(tally.rows_loaded(), 7);
        assert!(tally.missing.is_empty());
        assert_eq!(tally.new_ledger_entries().count(), 2);
    }

    #[test]
    fn a_repeated_load_counts_from_the_ledger_and_adds_nothing() {
        let names = vec!["a.parquet".to_owned()];
        let outcome = copied(&[("a.parquet", "LOAD_SKIPPED", 0)]);
        let ledger = vec![("a.parquet".to_owned(), 3)];
        let tally = tally_files(&names, &outcome, &ledger, &[], FOLDER);
        assert_eq!(tally.rows_loaded(), 3);
        assert_eq!(tally.new_ledger_entries().count(), 0);
    }

    #[test]
    fn lost_bookkeeping_is_recovered_from_the_load_history_of_that_folder_only() {
        let names = vec!["a.parquet".to_owned()];
        let nothing = copied(&[]);
        let history = vec![
            (
                "workflows/1/tables/0/partition_2/attempt_2/a.parquet".to_owned(),
                99,
            ),
            (format!("task_results/{FOLDER}a.parquet"), 3),
        ];
        let tally = tally_files(&names, &nothing, &[], &history, FOLDER);
        assert_eq!(tally.rows_loaded(), 3);
        assert_eq!(tally.files[0].source, FileSource::LoadHistory);
        assert_eq!(tally.new_ledger_entries().count(), 1);

        let tally = tally_files(&names, &nothing, &[], &history[..1], FOLDER);
        assert_eq!(tally.missing, vec!["a.parquet".to_owned()]);
    }

    #[test]
    fn folder_suffix_drops_the_stage() {
        assert_eq!(
            folder_suffix(
                "@DB.DATA_MIGRATION.TASK_RESULTS/workflows/1/tables/0/partition_2/attempt_1/"
            ),
            FOLDER
        );
        assert!(path_names_file("x/a.parquet", "", "a.parquet"));
        assert!(!path_names_file("x/ba.parquet", "", "a.parquet"));
    }
}
