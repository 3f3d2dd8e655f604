//! Uploading a partition's Parquet files to its attempt folder on the TASK_RESULTS stage.
//!
//! The stage folder arrives in the task payload, so it is checked before any PUT: it must lie
//! inside this worker's own `@DB.SCHEMA.TASK_RESULTS` stage and contain only plain path
//! characters. A tampered queue can therefore neither point uploads at another stage nor
//! smuggle SQL into the PUT statement.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use migration_core::metadata::MetadataNames;
use migration_core::snowflake::{ConnectParams, Session, SnowflakeError};
use migration_core::source::extract::{UploadError, Uploader};

/// A payload's stage folder that this worker refuses to write to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stage folder `{folder}` is not a folder of `{expected}` made of letters, digits, `_`, `-`, `.` and `/`: the task was not pushed by an orchestrator using this worker's metadata database and schema (check snowflake_database_for_metadata and snowflake_schema_for_data_migration_metadata)")]
pub struct StageFolderError {
    pub folder: String,
    pub expected: String,
}

/// The results stage of the metadata schema: `@DB.SCHEMA.TASK_RESULTS`.
pub fn results_stage(names: &MetadataNames) -> String {
    format!(
        "@{}.{}.TASK_RESULTS",
        names.database.to_ascii_uppercase(),
        names.data_migration_schema.to_ascii_uppercase()
    )
}

/// Checks a table stage folder from a payload and returns it without a trailing `/`.
pub fn checked_table_folder(
    folder: &str,
    names: &MetadataNames,
) -> Result<String, StageFolderError> {
    let expected = results_stage(names);
    let refuse = || StageFolderError {
        folder: folder.to_owned(),
        expected: expected.clone(),
    };
    let prefix_len = expected.len();
    let (prefix, rest) = (
        folder.get(..prefix_len).ok_or_else(refuse)?,
        folder.get(prefix_len..).ok_or_else(refuse)?,
    );
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    let valid = prefix.eq_ignore_ascii_case(&expected)
        && rest.starts_with('/')
        && rest.chars().all(plain)
        && !rest.split('/').any(|part| part == ".." || part == ".");
    if !valid {
        return Err(refuse());
    }
    Ok(folder.trim_end_matches('/').to_owned())
}

/// PUTs every finished file into one attempt folder with the task's own session.
pub struct StageUploader {
    session: Session,
    folder: String,
}

impl StageUploader {
    /// `folder` is an attempt folder ending in `/` (see `workflow::attempt_folder`).
    pub fn new(session: Session, folder: String) -> StageUploader {
        StageUploader { session, folder }
    }

    /// The session back, for the next partition.
    pub fn into_session(self) -> Session {
        self.session
    }
}

/// Idle upload sessions, so consecutive partitions do not log in again each time. At most one
/// session per task slot is ever out, so the pool stays as small as `max_parallel_tasks`.
#[derive(Debug)]
pub struct SessionPool {
    params: ConnectParams,
    idle: Mutex<Vec<Session>>,
}

impl SessionPool {
    pub fn new(params: ConnectParams) -> SessionPool {
        SessionPool {
            params,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle session, or a new login.
    pub fn take(&self) -> Result<Session, SnowflakeError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(session) => Ok(session),
            None => Session::connect(&self.params),
        }
    }

    /// Returns a session that worked; one that failed is dropped (logged out) instead.
    pub fn give_back(&self, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
    }

    /// Idle sessions, for tests.
    pub fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Uploader for StageUploader {
    fn upload(&mut self, local_path: &Path, file_name: &str) -> Result<(), UploadError> {
        // PUT keeps the local file name; the pipeline names its files, so they agree.
        if local_path.file_name().and_then(|n| n.to_str()) != Some(file_name) {
            return Err(UploadError {
                message: format!(
                    "local file `{}` is not named `{file_name}`",
                    local_path.display()
                ),
                retryable: false,
            });
        }
        let outcome = self
            .session
            .put_file(local_path, &self.folder)
            .map_err(|error| UploadError {
                retryable: error.is_retryable(),
                message: format!("PUT to `{}` failed: {error}", self.folder),
            })?;
        tracing::debug!(file = %file_name, folder = %self.folder, status = %outcome.status, "file staged");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> MetadataNames {
        MetadataNames {
            database: "Snowconvert_AI".into(),
            ..MetadataNames::default()
        }
    }

    #[test]
    fn folders_of_the_own_results_stage_are_accepted() {
        assert_eq!(
            checked_table_folder(
                "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/",
                &names()
            ),
            Ok("@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0".to_owned())
        );
        assert!(checked_table_folder(
            "@snowconvert_ai.data_migration.task_results/workflows/7/tables/0",
            &names()
        )
        .is_ok());
    }

    #[test]
    fn other_stages_and_odd_characters_are_refused() {
        for folder in [
            "@OTHER.DATA_MIGRATION.TASK_RESULTS/workflows/7",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS_X/workflows/7",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/w 1",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/w';DROP TABLE T--",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/../x",
            "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS",
            "SNOWCONVERT_AI",
        ] {
            let err = checked_table_folder(folder, &names()).unwrap_err();
            assert_eq!(err.folder, folder);
        }
        let message = checked_table_folder("@X.Y.Z/a", &names())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS`"),
            "{message}"
        );
    }

    #[test]
    fn refusal_message_is_pinned() {
        let err = checked_table_folder("@OTHER.PUBLIC.STAGE/x", &names()).unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }
}
