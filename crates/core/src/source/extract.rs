//! The one extraction pipeline: a source [`BatchReader`] -> Parquet files that roll at a target
//! size -> an [`Uploader`].
//!
//! Three threads cooperate, joined by bounded channels so memory and local disk stay bounded:
//!
//! ```text
//!  caller thread            writer thread                      upload thread
//!  reader.next_batch() --> rename, checksum, Parquet encode --> uploader.upload(file), delete
//!        (channel of 2 batches)          (channel of 1 finished file)
//! ```
//!
//! While file `i` is uploaded, file `i + 1` is being read and written; at most one finished file
//! waits for the uploader, so at any time there are at most three local files (one uploading,
//! one waiting, one being written). A full channel stalls the stage before it.
//!
//! The reader runs on the caller's thread, so it does not need to be `Send` (an ODBC cursor
//! borrows its connection); the uploader moves to its own thread and must be `Send`.
//!
//! A partition without rows produces no file: the outcome then lists no files and zero rows.

use std::fs;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use config_schema::worker::{PgSslMode, PostgresExtractionPath, SourceConnection};

use super::connection_string::{
    build_connection_string, odbc_settings, ConnectionString, OdbcTuning, SecretResolver,
};
use super::content_checksum::ContentChecksum;
use super::odbc::{self, OdbcReadOptions};
use super::parquet_sink::{FinishedFile, ParquetOptions, RollingParquetWriter};
use super::postgres_native::{self, PgConnectParams, PgReadOptions};
use super::value_limits::check_snowflake_limits;

// The pipeline's seams, error and value limits live in leaves the readers share; they are
// re-exported here so `source::extract::...` keeps naming everything an extraction needs.
pub use super::extract_error::ExtractError;
pub use super::pipeline::{BatchReader, LocalDirUploader, UploadError, Uploader};
pub use super::value_limits::{
    ValueKind, ValueLimits, SNOWFLAKE_MAX_BINARY_BYTES, SNOWFLAKE_MAX_TEXT_BYTES,
};

/// How one partition is written: where local files live, target column names, Parquet knobs.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Source table, only for messages (`schema.table`).
    pub table: String,
    /// Parquet field names, one per source column, in order (after `columnNameMappings`).
    /// Empty means: keep the source names.
    pub target_column_names: Vec<String>,
    /// Directory for the local files while they are written and uploaded.
    pub local_dir: PathBuf,
    pub parquet: ParquetOptions,
}

/// One file the pipeline uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedFile {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What a finished extraction reports to the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractOutcome {
    pub files: Vec<ExtractedFile>,
    pub rows: u64,
    pub bytes: u64,
    /// Order-independent content checksum of every extracted value (see `content_checksum`).
    pub checksum: ContentChecksum,
}

/// Where a partition is read from.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// Binary COPY over the PostgreSQL protocol (the default for postgresql).
    PostgresNative {
        params: PgConnectParams,
        read: PgReadOptions,
    },
    /// Any ODBC driver.
    Odbc {
        connection_string: ConnectionString,
        read: OdbcReadOptions,
    },
}

impl SourceSpec {
    /// The source described by the worker TOML: PostgreSQL goes native unless
    /// `extraction_path = "odbc"`; every other platform goes through ODBC.
    pub fn from_connection(
        connection: &SourceConnection,
        resolve: SecretResolver<'_>,
        tuning: &OdbcTuning,
        read: OdbcReadOptions,
    ) -> Result<SourceSpec, ExtractError> {
        let secret_error = |e: config_schema::SecretError| ExtractError::Configuration {
            message: e.to_string(),
        };
        if let SourceConnection::Postgresql(pg) = connection {
            if pg.extraction_path == PostgresExtractionPath::Native {
                let password = match &pg.password {
                    Some(source) => Some(
                        resolve(source, "password")
                            .map_err(secret_error)?
                            .expose()
                            .to_string(),
                    ),
                    None => None,
                };
                let tls = native_tls(pg.ssl_mode.as_deref(), &pg.extra_options)?;
                return Ok(SourceSpec::PostgresNative {
                    params: PgConnectParams {
                        host: pg.host.clone(),
                        port: pg.port,
                        user: pg.username.clone(),
                        password,
                        database: pg.database.clone(),
                        connect_timeout: std::time::Duration::from_secs(30),
                        application_name: "snowflake-data-migration-worker".into(),
                        tls,
                    },
                    read: PgReadOptions {
                        max_value_bytes: read.max_value_bytes,
                        ..PgReadOptions::default()
                    },
                });
            }
        }
        let settings = odbc_settings(connection, resolve).map_err(secret_error)?;
        let platform = connection.platform();
        let read = read.with_platform(platform);
        Ok(SourceSpec::Odbc {
            connection_string: build_connection_string(platform, &settings, tuning),
            read,
        })
    }
}

/// The native path's TLS settings from the TOML: `ssl_mode` (unset: `prefer`, as libpq) and the
/// CA file from `extra_options.sslrootcert` (the key psqlODBC's libpq knows too).
fn native_tls(
    ssl_mode: Option<&str>,
    extra_options: &std::collections::BTreeMap<String, String>,
) -> Result<postgres_native::PgTls, ExtractError> {
    let mode = match ssl_mode {
        None => postgres_native::SslMode::default(),
        Some(text) => {
            postgres_native::SslMode::parse(text).ok_or_else(|| ExtractError::Configuration {
                message: format!(
                    "`ssl_mode = \"{text}\"` is not a PostgreSQL sslmode: use one of {}",
                    PgSslMode::ALL
                        .map(|m| format!("\"{}\"", m.as_str()))
                        .join(", ")
                ),
            })?
        }
    };
    let root_cert = extra_options
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("sslrootcert"))
        .map(|(_, path)| PathBuf::from(path));
    let tls = postgres_native::PgTls { mode, root_cert };
    tls.check()
        .map_err(|message| ExtractError::Configuration { message })?;
    Ok(tls)
}

impl SourceSpec {
    /// The same source with `[application] max_value_bytes` as the largest value read.
    pub fn with_max_value_bytes(self, max_value_bytes: usize) -> SourceSpec {
        match self {
            SourceSpec::PostgresNative { params, read } => SourceSpec::PostgresNative {
                params,
                read: PgReadOptions {
                    max_value_bytes,
                    ..read
                },
            },
            SourceSpec::Odbc {
                connection_string,
                read,
            } => SourceSpec::Odbc {
                connection_string,
                read: OdbcReadOptions {
                    max_value_bytes,
                    ..read
                },
            },
        }
    }
}

/// One partition's statement and the catalog schema of its result.
#[derive(Debug, Clone)]
pub struct ExtractRequest {
    /// A single SELECT without parameters (the dialect renders bounds as typed literals).
    pub select_sql: String,
    /// Source column names and the Arrow types the catalog chose, in SELECT order.
    pub schema: SchemaRef,
}

/// Connects, runs the partition's SELECT and streams it through the pipeline.
pub fn extract(
    source: &SourceSpec,
    request: &ExtractRequest,
    options: &ExtractOptions,
    uploader: &mut (dyn Uploader + Send),
    cancel: &CancellationToken,
) -> Result<ExtractOutcome, ExtractError> {
    let started = std::time::Instant::now();
    let outcome = match source {
        SourceSpec::PostgresNative { params, read } => {
            let mut client = postgres_native::connect(params)?;
            let reader = postgres_native::PgCopyReader::start(
                &mut client,
                &request.select_sql,
                request.schema.clone(),
                &options.table,
            )?;
            let mut reader = reader.with_options(read);
            run_pipeline(&mut reader, options, uploader, cancel)?
        }
        SourceSpec::Odbc {
            connection_string,
            read,
        } => {
            let connection = odbc::connect(connection_string)?;
            let mut reader = odbc::OdbcBatchReader::start(
                connection,
                &request.select_sql,
                request.schema.clone(),
                &options.table,
                *read,
            )?;
            run_pipeline(&mut reader, options, uploader, cancel)?
        }
    };
    tracing::info!(
        table = %options.table,
        rows = outcome.rows,
        bytes = outcome.bytes,
        files = outcome.files.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "partition extracted"
    );
    Ok(outcome)
}

/// Batches in flight between the reader and the writer thread.
const BATCH_CHANNEL_CAPACITY: usize = 2;
/// Finished files waiting for the uploader (the one being uploaded is not counted).
const FILE_CHANNEL_CAPACITY: usize = 1;

/// Runs the pipeline to the end: every batch of `reader` is written, every file uploaded and
/// deleted locally. On error, local files of this run are removed.
pub fn run_pipeline(
    reader: &mut dyn BatchReader,
    options: &ExtractOptions,
    uploader: &mut (dyn Uploader + Send),
    cancel: &CancellationToken,
) -> Result<ExtractOutcome, ExtractError> {
    let target_schema =
        super::parquet_sink::renamed_schema(&reader.schema(), &options.target_column_names)
            .map_err(|message| ExtractError::InvalidRequest {
                table: options.table.clone(),
                message,
            })?;
    // A private directory per run: concurrent partitions never share file names, and every
    // local file goes away with it, whatever happens.
    let work_dir = fs::create_dir_all(&options.local_dir)
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix("extract-")
                .tempdir_in(&options.local_dir)
        })
        .map_err(|e| ExtractError::Write {
            path: options.local_dir.clone(),
            message: e.to_string(),
        })?;

    let (batch_tx, batch_rx) = sync_channel::<RecordBatch>(BATCH_CHANNEL_CAPACITY);
    let (file_tx, file_rx) = sync_channel::<FinishedFile>(FILE_CHANNEL_CAPACITY);

    thread::scope(|scope| {
        let upload_handle = scope.spawn(move || upload_loop(file_rx, uploader));
        let writer = RollingParquetWriter::new(
            target_schema,
            work_dir.path().to_path_buf(),
            options.parquet.clone(),
        );
        let writer_handle = scope.spawn(move || write_loop(batch_rx, writer, file_tx));

        let read_result = read_loop(reader, batch_tx, cancel, &options.table);
        // The writer ends when the batch channel closes (read_loop dropped its sender).
        let write_result = writer_handle
            .join()
            .expect("the parquet writer thread does not panic");
        let upload_result = upload_handle
            .join()
            .expect("the upload thread does not panic");
        combine(read_result, write_result, upload_result)
    })
}

fn read_loop(
    reader: &mut dyn BatchReader,
    batch_tx: SyncSender<RecordBatch>,
    cancel: &CancellationToken,
    table: &str,
) -> Result<(), ExtractError> {
    loop {
        if cancel.is_cancelled() {
            return Err(ExtractError::Cancelled {
                table: table.to_string(),
            });
        }
        let Some(batch) = reader.next_batch()? else {
            return Ok(());
        };
        if batch.num_rows() == 0 {
            continue;
        }
        check_snowflake_limits(&batch, table)?;
        if batch_tx.send(batch).is_err() {
            // The writer stopped early; its own error explains why.
            return Ok(());
        }
    }
}

/// What the writer thread hands back: the checksum of everything it wrote.
struct WriteSummary {
    checksum: ContentChecksum,
}

fn write_loop(
    batch_rx: Receiver<RecordBatch>,
    mut writer: RollingParquetWriter,
    file_tx: SyncSender<FinishedFile>,
) -> Result<WriteSummary, ExtractError> {
    let mut checksum = ContentChecksum::default();
    for batch in batch_rx {
        checksum.add_batch(&batch);
        if let Some(finished) = writer.write(&batch)? {
            if file_tx.send(finished).is_err() {
                // The uploader stopped; its error is reported by the caller.
                writer.abandon();
                return Ok(WriteSummary { checksum });
            }
        }
    }
    if let Some(finished) = writer.finish()? {
        // A send error means the uploader failed; the caller reports that error.
        let _ = file_tx.send(finished);
    }
    Ok(WriteSummary { checksum })
}

fn upload_loop(
    file_rx: Receiver<FinishedFile>,
    uploader: &mut (dyn Uploader + Send),
) -> Result<Vec<ExtractedFile>, ExtractError> {
    let mut uploaded = Vec::new();
    for file in file_rx {
        let result = uploader.upload(&file.path, &file.name);
        // Local disk stays bounded: the file goes whether or not the upload worked.
        let _ = fs::remove_file(&file.path);
        result.map_err(|e| ExtractError::Upload {
            file: file.name.clone(),
            message: e.message,
            retryable: e.retryable,
        })?;
        tracing::debug!(file = %file.name, rows = file.rows, bytes = file.bytes, "file uploaded");
        uploaded.push(ExtractedFile {
            name: file.name,
            rows: file.rows,
            bytes: file.bytes,
        });
    }
    Ok(uploaded)
}

/// The first real error wins: a reader error explains a writer that saw a closed channel and
/// an upload error explains a writer that could not hand over its file.
fn combine(
    read: Result<(), ExtractError>,
    write: Result<WriteSummary, ExtractError>,
    upload: Result<Vec<ExtractedFile>, ExtractError>,
) -> Result<ExtractOutcome, ExtractError> {
    read?;
    let files = upload?;
    let summary = write?;
    let rows = files.iter().map(|f| f.rows).sum();
    let bytes = files.iter().map(|f| f.bytes).sum();
    Ok(ExtractOutcome {
        files,
        rows,
        bytes,
        checksum: summary.checksum,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::source::odbc::OdbcFetch;

    struct VecReader {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        fail_at: Option<usize>,
    }

    impl BatchReader for VecReader {
        fn schema(&self) -> SchemaRef {
            self.schema.clone()
        }
        fn next_batch(&mut self) -> Result<Option<RecordBatch>, ExtractError> {
            if self.fail_at == Some(self.batches.len()) {
                return Err(ExtractError::Read {
                    table: "s.t".into(),
                    message: "connection lost".into(),
                    retryable: true,
                });
            }
            Ok(self.batches.pop())
        }
    }

    fn reader(batches: usize, rows: i64) -> VecReader {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batches = (0..batches as i64)
            .map(|b| {
                let ids: Vec<i64> = (0..rows).map(|i| b * rows + i).collect();
                let names: Vec<Option<String>> = ids
                    .iter()
                    .map(|i| (i % 3 != 0).then(|| format!("name {i}")))
                    .collect();
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(Int64Array::from(ids)),
                        Arc::new(StringArray::from(names)),
                    ],
                )
                .expect("valid batch")
            })
            .collect();
        VecReader {
            schema,
            batches,
            fail_at: None,
        }
    }

    fn options(dir: &Path, target_bytes: u64) -> ExtractOptions {
        ExtractOptions {
            table: "s.t".into(),
            target_column_names: vec!["ID".into(), "NAME".into()],
            local_dir: dir.join("local"),
            parquet: ParquetOptions {
                target_file_bytes: target_bytes,
                ..ParquetOptions::default()
            },
        }
    }

    struct FailingUploader;
    impl Uploader for FailingUploader {
        fn upload(&mut self, _: &Path, file_name: &str) -> Result<(), UploadError> {
            Err(UploadError {
                message: format!("stage refused {file_name}"),
                retryable: true,
            })
        }
    }

    #[test]
    fn rolls_files_uploads_and_cleans_local_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = LocalDirUploader::new(dir.path().join("stage"));
        let mut r = reader(20, 5_000);
        let outcome = run_pipeline(
            &mut r,
            &options(dir.path(), 64 * 1024),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        assert_eq!(outcome.rows, 100_000);
        assert!(
            outcome.files.len() > 1,
            "tiny target size must roll files: {:?}",
            outcome.files
        );
        assert_eq!(outcome.files.iter().map(|f| f.rows).sum::<u64>(), 100_000);
        let staged = fs::read_dir(dir.path().join("stage"))
            .expect("stage dir")
            .count();
        assert_eq!(staged, outcome.files.len());
        let local = fs::read_dir(dir.path().join("local"))
            .expect("local dir")
            .count();
        assert_eq!(local, 0, "local files are deleted after upload");
    }

    /// Records how many local files exist while each upload runs, slowly.
    struct SlowUploader {
        inner: LocalDirUploader,
        max_local_files: usize,
    }

    impl Uploader for SlowUploader {
        fn upload(&mut self, local_path: &Path, file_name: &str) -> Result<(), UploadError> {
            std::thread::sleep(std::time::Duration::from_millis(30));
            let dir = local_path
                .parent()
                .expect("files live in the work directory");
            let count = fs::read_dir(dir).expect("work dir").count();
            self.max_local_files = self.max_local_files.max(count);
            self.inner.upload(local_path, file_name)
        }
    }

    #[test]
    fn a_slow_uploader_bounds_local_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = SlowUploader {
            inner: LocalDirUploader::new(dir.path().join("stage")),
            max_local_files: 0,
        };
        let mut r = reader(40, 5_000);
        let outcome = run_pipeline(
            &mut r,
            &options(dir.path(), 32 * 1024),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        assert!(outcome.files.len() >= 8, "{}", outcome.files.len());
        // One file uploading, at most one finished file waiting, one being written.
        assert!(
            up.max_local_files <= 3,
            "{} local files at once",
            up.max_local_files
        );
        assert!(up.max_local_files >= 2, "reading overlaps uploading");
    }

    #[test]
    fn checksum_does_not_depend_on_batch_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = LocalDirUploader::new(dir.path().join("a"));
        let mut forward = reader(4, 100);
        let a = run_pipeline(
            &mut forward,
            &options(dir.path(), 1 << 20),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        let mut backward = reader(4, 100);
        backward.batches.reverse();
        let mut up = LocalDirUploader::new(dir.path().join("b"));
        let b = run_pipeline(
            &mut backward,
            &options(dir.path(), 1 << 20),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        assert_eq!(a.checksum, b.checksum);
        let mut fewer = reader(3, 100);
        let mut up = LocalDirUploader::new(dir.path().join("c"));
        let c = run_pipeline(
            &mut fewer,
            &options(dir.path(), 1 << 20),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        assert_ne!(a.checksum, c.checksum);
    }

    #[test]
    fn empty_source_gives_no_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = LocalDirUploader::new(dir.path().join("stage"));
        let mut r = reader(0, 0);
        let outcome = run_pipeline(
            &mut r,
            &options(dir.path(), 1 << 20),
            &mut up,
            &CancellationToken::new(),
        )
        .expect("pipeline runs");
        assert_eq!(outcome.rows, 0);
        assert!(outcome.files.is_empty());
    }

    #[test]
    fn upload_error_is_reported_and_local_files_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut r = reader(20, 5_000);
        let err = run_pipeline(
            &mut r,
            &options(dir.path(), 64 * 1024),
            &mut FailingUploader,
            &CancellationToken::new(),
        )
        .expect_err("upload fails");
        assert!(matches!(err, ExtractError::Upload { .. }), "{err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("stage refused"), "{err}");
        let local = fs::read_dir(dir.path().join("local"))
            .expect("local dir")
            .count();
        assert_eq!(local, 0);
    }

    #[test]
    fn reader_error_wins_and_cancel_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = LocalDirUploader::new(dir.path().join("stage"));
        let mut r = reader(5, 10);
        r.fail_at = Some(2);
        let err = run_pipeline(
            &mut r,
            &options(dir.path(), 1 << 20),
            &mut up,
            &CancellationToken::new(),
        )
        .expect_err("reader fails");
        assert!(err.to_string().contains("connection lost"), "{err}");

        let cancel = CancellationToken::new();
        cancel.cancel();
        let mut r = reader(5, 10);
        let err = run_pipeline(&mut r, &options(dir.path(), 1 << 20), &mut up, &cancel)
            .expect_err("cancelled");
        assert!(matches!(err, ExtractError::Cancelled { .. }));
        assert!(err.is_retryable());
    }

    fn spec(toml: &str) -> Result<SourceSpec, ExtractError> {
        let config = config_schema::worker::parse_worker_config(toml).expect("valid worker toml");
        spec_of(&config)
    }

    fn spec_of(config: &config_schema::worker::WorkerConfig) -> Result<SourceSpec, ExtractError> {
        let resolve = |source: &config_schema::SecretSource, key: &str| {
            source.resolve(
                key,
                |_| Some("pw".to_string()),
                |_| Err(std::io::Error::other("no files")),
            )
        };
        SourceSpec::from_connection(
            &config.source,
            &resolve,
            &OdbcTuning::default(),
            OdbcReadOptions::default(),
        )
    }

    #[test]
    fn source_spec_follows_the_worker_toml() {
        let pg = "[connections.source.postgresql]\nusername = \"u\"\npassword_env = \"X\"\ndatabase = \"d\"\nhost = \"h\"\n";
        match spec(pg).expect("native") {
            SourceSpec::PostgresNative { params, .. } => {
                assert_eq!(params.password.as_deref(), Some("pw"));
                assert!(
                    !format!("{params:?}").contains("pw\""),
                    "password hidden in Debug"
                );
            }
            other => panic!("postgresql defaults to the native path: {other:?}"),
        }
        let odbc = format!("{pg}extraction_path = \"odbc\"\n");
        assert!(matches!(
            spec(&odbc).expect("odbc"),
            SourceSpec::Odbc { .. }
        ));
        match spec(pg).expect("native") {
            SourceSpec::PostgresNative { params, .. } => {
                assert_eq!(
                    params.tls.mode,
                    postgres_native::SslMode::Prefer,
                    "libpq's default"
                );
            }
            other => panic!("{other:?}"),
        }
        let tls = format!(
            "{pg}ssl_mode = \"verify-full\"\nextra_options = {{ SSLRootCert = \"/ca.pem\" }}\n"
        );
        match spec(&tls).expect("native with TLS") {
            SourceSpec::PostgresNative { params, .. } => {
                assert_eq!(params.tls.mode, postgres_native::SslMode::VerifyFull);
                assert_eq!(params.tls.root_cert, Some(PathBuf::from("/ca.pem")));
            }
            other => panic!("the native path speaks TLS: {other:?}"),
        }
        let bad = format!("{pg}ssl_mode = \"verify_full\"\n");
        // An unknown spelling never reaches the worker: the configuration refuses it.
        let err = config_schema::worker::parse_worker_config(&bad).expect_err("unknown mode");
        assert!(err.to_string().contains("\"verify-full\""), "{err}");
        let sqlite = "[connections.source.sqlite]\ndatabase = \"/tmp/demo.sqlite\"\n";
        match spec(sqlite).expect("sqlite") {
            SourceSpec::Odbc {
                read,
                connection_string,
            } => {
                assert_eq!(read.fetch, OdbcFetch::RowByRow);
                assert_eq!(connection_string.get("Database"), Some("/tmp/demo.sqlite"));
            }
            other => panic!("sqlite goes through odbc: {other:?}"),
        }
    }

    #[test]
    fn values_beyond_snowflake_limits_stop_the_pipeline_before_any_upload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("blob", DataType::Binary, true),
        ]));
        let big = vec![0u8; SNOWFLAKE_MAX_BINARY_BYTES + 1];
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(arrow::array::BinaryArray::from(vec![
                    Some(&b"small"[..]),
                    None,
                    Some(&big[..]),
                ])),
            ],
        )
        .expect("batch");
        let mut r = VecReader {
            schema,
            batches: vec![batch],
            fail_at: None,
        };
        let mut up = LocalDirUploader::new(dir.path().join("stage"));
        let mut opts = options(dir.path(), 1 << 20);
        opts.target_column_names = vec![];
        let err = run_pipeline(&mut r, &opts, &mut up, &CancellationToken::new())
            .expect_err("a 8 MiB + 1 binary value");
        assert!(
            matches!(err, ExtractError::BeyondSnowflakeLimit { .. }),
            "{err}"
        );
        assert!(!err.is_retryable());
        let message = err.to_string();
        assert!(
            message.contains("`blob`") && message.contains("BINARY") && message.contains("8388608"),
            "{message}"
        );
        assert!(!dir.path().join("stage").exists(), "nothing was uploaded");

        // The worker's cap names itself when it, not Snowflake, is the limit.
        let limits = ValueLimits::new(1 << 20);
        assert_eq!(limits.limit(ValueKind::Text), 1 << 20);
        assert_eq!(
            ValueLimits::default().limit(ValueKind::Binary),
            SNOWFLAKE_MAX_BINARY_BYTES
        );
        let capped = limits.error("s.t", "c", ValueKind::Binary, Some(2 << 20));
        assert!(capped.to_string().contains("max_value_bytes"), "{capped}");
        let beyond = ValueLimits::default().error("s.t", "c", ValueKind::Text, None);
        assert!(
            beyond.to_string().contains("VARCHAR limit of 16777216"),
            "{beyond}"
        );
    }

    #[test]
    fn rename_list_must_match_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = LocalDirUploader::new(dir.path().join("stage"));
        let mut opts = options(dir.path(), 1 << 20);
        opts.target_column_names = vec!["ONLY_ONE".into()];
        let err = run_pipeline(&mut reader(1, 1), &opts, &mut up, &CancellationToken::new())
            .expect_err("bad rename");
        assert!(!err.is_retryable());
        insta::assert_snapshot!(err.to_string());
    }
}
