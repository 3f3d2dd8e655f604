//! The seams of the extraction pipeline: what a source reader ([`BatchReader`]) and a
//! destination for finished files ([`Uploader`]) must do, and the uploader that copies into a
//! local directory.
//!
//! A leaf: the readers (`odbc`, `postgres_native`) and the sink implement or use these without
//! depending on `extract`, which drives them.

use std::fs;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::extract_error::ExtractError;

/// Batches a source hands to the pipeline. Every batch has exactly [`BatchReader::schema`].
pub trait BatchReader {
    /// The fixed schema of every batch (source column names, catalog types).
    fn schema(&self) -> SchemaRef;

    /// The next batch, or `None` once the result set is exhausted.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ExtractError>;
}

/// Where finished Parquet files go. The worker plugs in a Snowflake stage PUT to
/// `@TASK_RESULTS/workflows/{wf}/tables/{table}/partition_{n}/attempt_{k}/`; tests and the
/// benchmark use [`LocalDirUploader`].
pub trait Uploader {
    /// Uploads the local file at `local_path` under the name `file_name`. The pipeline deletes
    /// the local file afterwards, whatever the result.
    fn upload(&mut self, local_path: &Path, file_name: &str) -> Result<(), UploadError>;
}

/// An upload that failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError {
    pub message: String,
    pub retryable: bool,
}

/// Copies finished files into a local directory (tests, benchmark, local runs).
#[derive(Debug, Clone)]
pub struct LocalDirUploader {
    dir: PathBuf,
}

impl LocalDirUploader {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalDirUploader { dir: dir.into() }
    }
}

impl Uploader for LocalDirUploader {
    fn upload(&mut self, local_path: &Path, file_name: &str) -> Result<(), UploadError> {
        let io_error = |e: std::io::Error| UploadError {
            message: format!(
                "cannot copy `{}` into `{}`: {e}",
                local_path.display(),
                self.dir.display()
            ),
            retryable: true,
        };
        fs::create_dir_all(&self.dir).map_err(io_error)?;
        let destination = self.dir.join(file_name);
        // A rename is free on the same file system; fall back to a copy across devices.
        if fs::rename(local_path, &destination).is_err() {
            fs::copy(local_path, &destination).map_err(io_error)?;
        }
        Ok(())
    }
}
