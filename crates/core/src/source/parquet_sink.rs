//! Parquet files that roll at a target size.
//!
//! Batches arrive with the source column names; the file schema carries the target names
//! (after `columnNameMappings`) with the same types, so the rename costs nothing per value.
//! After each batch the writer estimates the file size as bytes already flushed plus the encoded
//! size of the row group in progress; once it reaches [`ParquetOptions::target_file_bytes`]
//! the file is closed and handed on. Files overshoot the target by at most one batch.
//!
//! Defaults, measured on this project's benchmark table (see `bench/RESULTS.md`): zstd level 1
//! (as fast as snappy to write, about 38 % smaller), row groups of up to 1 Mi rows or 128 MiB
//! (smaller groups cost 12-16 % size), page statistics on, Parquet format v1 pages (what
//! Snowflake's COPY reads everywhere).

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::extract_error::ExtractError;

/// Snowflake recommends 100-250 MB of compressed data per file for COPY.
pub const DEFAULT_TARGET_FILE_BYTES: u64 = 160_000_000;
pub const DEFAULT_MAX_ROW_GROUP_ROWS: usize = 1 << 20;
pub const DEFAULT_MAX_ROW_GROUP_BYTES: usize = 128 << 20;

/// Page compression of the staged files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    /// zstd at the given level (1 is the measured sweet spot).
    Zstd(i32),
    Snappy,
    Uncompressed,
}

impl ParquetCompression {
    fn to_parquet(self) -> Result<Compression, String> {
        match self {
            ParquetCompression::Zstd(level) => ZstdLevel::try_new(level)
                .map(Compression::ZSTD)
                .map_err(|e| format!("invalid zstd level {level}: {e}")),
            ParquetCompression::Snappy => Ok(Compression::SNAPPY),
            ParquetCompression::Uncompressed => Ok(Compression::UNCOMPRESSED),
        }
    }
}

/// How staged Parquet files are written.
#[derive(Debug, Clone)]
pub struct ParquetOptions {
    /// Roll to a new file once a file reaches this many (compressed) bytes.
    pub target_file_bytes: u64,
    pub compression: ParquetCompression,
    pub max_row_group_rows: usize,
    pub max_row_group_bytes: usize,
    /// File names are `{file_prefix}_{n:05}.parquet`, n counting from 0 within one run.
    pub file_prefix: String,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            target_file_bytes: DEFAULT_TARGET_FILE_BYTES,
            compression: ParquetCompression::Zstd(1),
            max_row_group_rows: DEFAULT_MAX_ROW_GROUP_ROWS,
            max_row_group_bytes: DEFAULT_MAX_ROW_GROUP_BYTES,
            file_prefix: "data".to_string(),
        }
    }
}

/// A closed file ready for upload.
#[derive(Debug)]
pub struct FinishedFile {
    pub path: PathBuf,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// The source schema with its fields renamed to `target_names` (same order, same types).
/// An empty list keeps the source names.
pub fn renamed_schema(source: &SchemaRef, target_names: &[String]) -> Result<SchemaRef, String> {
    if target_names.is_empty() {
        return Ok(source.clone());
    }
    if target_names.len() != source.fields().len() {
        return Err(format!(
            "{} target column names for {} source columns; pass one name per column",
            target_names.len(),
            source.fields().len()
        ));
    }
    let fields: Vec<Field> = source
        .fields()
        .iter()
        .zip(target_names)
        .map(|(field, name)| field.as_ref().clone().with_name(name.clone()))
        .collect();
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        source.metadata().clone(),
    )))
}

struct OpenFile {
    writer: ArrowWriter<File>,
    path: PathBuf,
    name: String,
    rows: u64,
}

/// Writes batches into a sequence of Parquet files in one local directory.
pub struct RollingParquetWriter {
    schema: SchemaRef,
    dir: PathBuf,
    options: ParquetOptions,
    current: Option<OpenFile>,
    next_index: usize,
}

impl RollingParquetWriter {
    pub fn new(schema: SchemaRef, dir: PathBuf, options: ParquetOptions) -> Self {
        RollingParquetWriter {
            schema,
            dir,
            options,
            current: None,
            next_index: 0,
        }
    }

    /// Writes one batch (source names; renamed here). Returns a file when this batch filled it.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<Option<FinishedFile>, ExtractError> {
        let renamed = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(|e| self.error(format!("batch does not match the file schema: {e}")))?;
        if self.current.is_none() {
            self.current = Some(self.open()?);
        }
        let file = self.current.as_mut().expect("a file was just opened");
        file.writer
            .write(&renamed)
            .map_err(|e| ExtractError::Write {
                path: file.path.clone(),
                message: e.to_string(),
            })?;
        file.rows += renamed.num_rows() as u64;
        let estimate = (file.writer.bytes_written() + file.writer.in_progress_size()) as u64;
        if estimate >= self.options.target_file_bytes {
            return self.close_current();
        }
        Ok(None)
    }

    /// Closes the last file, if any rows went into it.
    pub fn finish(mut self) -> Result<Option<FinishedFile>, ExtractError> {
        self.close_current()
    }

    /// Drops the open file without finishing it (the run failed).
    pub fn abandon(&mut self) {
        if let Some(file) = self.current.take() {
            drop(file.writer);
            let _ = std::fs::remove_file(&file.path);
        }
    }

    fn open(&mut self) -> Result<OpenFile, ExtractError> {
        let name = format!(
            "{}_{:05}.parquet",
            self.options.file_prefix, self.next_index
        );
        self.next_index += 1;
        let path = self.dir.join(&name);
        let props = writer_properties(&self.options).map_err(|m| self.error(m))?;
        let handle = File::create(&path).map_err(|e| ExtractError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let writer =
            ArrowWriter::try_new(handle, self.schema.clone(), Some(props)).map_err(|e| {
                ExtractError::Write {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
        Ok(OpenFile {
            writer,
            path,
            name,
            rows: 0,
        })
    }

    fn close_current(&mut self) -> Result<Option<FinishedFile>, ExtractError> {
        let Some(file) = self.current.take() else {
            return Ok(None);
        };
        let write_error = |path: &PathBuf, e: &dyn std::fmt::Display| ExtractError::Write {
            path: path.clone(),
            message: e.to_string(),
        };
        file.writer
            .close()
            .map_err(|e| write_error(&file.path, &e))?;
        let bytes = std::fs::metadata(&file.path)
            .map_err(|e| write_error(&file.path, &e))?
            .len();
        Ok(Some(FinishedFile {
            path: file.path,
            name: file.name,
            rows: file.rows,
            bytes,
        }))
    }

    fn error(&self, message: String) -> ExtractError {
        ExtractError::Write {
            path: self.dir.clone(),
            message,
        }
    }
}

/// The writer settings for every staged file.
pub fn writer_properties(options: &ParquetOptions) -> Result<WriterProperties, String> {
    Ok(WriterProperties::builder()
        .set_compression(options.compression.to_parquet()?)
        .set_max_row_group_row_count(Some(options.max_row_group_rows.max(1)))
        .set_max_row_group_bytes(Some(options.max_row_group_bytes.max(1)))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_created_by(format!(
            "snowflake-data-migration {}",
            env!("CARGO_PKG_VERSION")
        ))
        .build())
}

#[cfg(test)]
mod tests {
    use arrow::array::Int32Array;
    use arrow::datatypes::DataType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    #[test]
    fn renames_fields_and_keeps_types() {
        let source: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Utf8, true),
        ]));
        let renamed = renamed_schema(&source, &["A".into(), "B B".into()]).expect("renames");
        assert_eq!(renamed.field(0).name(), "A");
        assert_eq!(renamed.field(1).name(), "B B");
        assert_eq!(renamed.field(1).data_type(), &DataType::Utf8);
        assert!(renamed.field(1).is_nullable());
        assert_eq!(renamed_schema(&source, &[]).expect("keeps"), source);
        assert!(renamed_schema(&source, &["A".into()]).is_err());
    }

    #[test]
    fn files_carry_target_names_and_zstd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, false)]));
        let target = renamed_schema(&source, &["TARGET_A".into()]).expect("renames");
        let mut writer =
            RollingParquetWriter::new(target, dir.path().to_path_buf(), ParquetOptions::default());
        let batch = RecordBatch::try_new(source, vec![Arc::new(Int32Array::from(vec![1, 2, 3]))])
            .expect("batch");
        assert!(writer.write(&batch).expect("writes").is_none());
        let finished = writer.finish().expect("closes").expect("one file");
        assert_eq!(finished.name, "data_00000.parquet");
        assert_eq!(finished.rows, 3);
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&finished.path).expect("open"))
                .expect("parquet");
        assert_eq!(reader.schema().field(0).name(), "TARGET_A");
        let column = reader.metadata().row_group(0).column(0);
        assert_eq!(
            column.compression(),
            Compression::ZSTD(ZstdLevel::try_new(1).expect("level"))
        );
        assert!(column.statistics().is_some(), "statistics are written");
    }

    #[test]
    fn rejects_bad_zstd_level() {
        let options = ParquetOptions {
            compression: ParquetCompression::Zstd(99),
            ..ParquetOptions::default()
        };
        assert!(writer_properties(&options).is_err());
    }
}
