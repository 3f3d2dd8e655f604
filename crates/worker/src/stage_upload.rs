//! Uploading a partition's Parquet files to its attempt folder on the TASK_RESULTS stage.
//!
//! The stage folder arrives in the task payload, so it is checked before any PUT with
//! `migration_core::workflow::checked_table_folder`: it must lie inside this worker's own
//! `@DB.SCHEMA.TASK_RESULTS` stage (rendered by the same `results_stage` the orchestrator
//! uses) and contain only plain path characters.

use std::path::Path;

use migration_core::snowflake::Session;
use migration_core::source::extract::{UploadError, Uploader};

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
