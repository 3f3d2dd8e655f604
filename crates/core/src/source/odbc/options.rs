//! What an ODBC read may use: batch and value limits, how text leaves the driver, and whether
//! values are fetched in bound columns or row by row. Defaults per platform.

use arrow_odbc::TextEncoding;
use config_schema::SourcePlatform;

use crate::source::value_limits::ValueLimits;

/// Limits of the ODBC transit buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdbcReadOptions {
    pub max_rows_per_batch: usize,
    /// Upper bound of one transit buffer (two with `concurrent_fetch`).
    pub max_bytes_per_batch: usize,
    /// `[application] max_value_bytes`: the largest text (UTF-8 bytes) or binary value read.
    pub max_value_bytes: usize,
    pub concurrent_fetch: bool,
    pub fetch: OdbcFetch,
    pub text: OdbcText,
    /// The source platform, for the SQL that measures long columns. `None`: long columns are not
    /// measured and their buffers take `max_value_bytes` per row (correct, but few rows per
    /// fetch).
    pub platform: Option<SourcePlatform>,
}

/// Columns the driver declares longer than this (or not at all) are measured before the fetch.
pub const LONG_VALUE_BYTES: usize = 8192;

/// How text leaves the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdbcText {
    /// UTF-8 bytes (`SQL_C_CHAR`): exact where the driver always produces UTF-8.
    Narrow,
    /// UTF-16 (`SQL_C_WCHAR`): defined by ODBC as Unicode, independent of the client locale.
    Wide,
}

impl OdbcText {
    /// SQL Server's driver converts `SQL_C_CHAR` data to the process locale's code page, so it
    /// is read wide; every other supported driver delivers UTF-8 narrow, which is faster.
    pub fn for_platform(platform: SourcePlatform) -> OdbcText {
        match platform {
            SourcePlatform::Sqlserver => OdbcText::Wide,
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Teradata
            | SourcePlatform::Sqlite => OdbcText::Narrow,
        }
    }

    pub(super) fn encoding(self) -> TextEncoding {
        match self {
            OdbcText::Narrow => TextEncoding::Utf8,
            OdbcText::Wide => TextEncoding::Utf16,
        }
    }
}

/// How values leave the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdbcFetch {
    /// Bound column buffers, many rows per call (fast). Text and binary buffers are as wide as
    /// the driver declares the column, or as the longest value measured for long columns.
    Columnar,
    /// One row at a time, long values fetched in pieces (`SQLGetData`), so no value is ever too
    /// long. For drivers whose declared lengths do not bound the data: SQLite declares `TEXT` as
    /// 65,536 characters and `BLOB` as 255 bytes yet stores values of any length.
    RowByRow,
}

impl OdbcFetch {
    /// The safe default for a platform (SQLite enforces no lengths; every other platform does).
    pub fn for_platform(platform: SourcePlatform) -> OdbcFetch {
        match platform {
            SourcePlatform::Sqlite => OdbcFetch::RowByRow,
            SourcePlatform::Postgresql
            | SourcePlatform::Redshift
            | SourcePlatform::Sqlserver
            | SourcePlatform::Teradata => OdbcFetch::Columnar,
        }
    }
}

impl Default for OdbcReadOptions {
    fn default() -> Self {
        OdbcReadOptions {
            max_rows_per_batch: 65_535,
            max_bytes_per_batch: 64 << 20,
            max_value_bytes: ValueLimits::default().max_value_bytes,
            // Measured on the benchmark table: the pipeline already encodes Parquet on its own
            // thread, so a second fetch buffer only costs memory (+30 MB) and was 4 % slower.
            concurrent_fetch: false,
            fetch: OdbcFetch::Columnar,
            text: OdbcText::Narrow,
            platform: None,
        }
    }
}

impl OdbcReadOptions {
    /// The defaults with the fetch mode, text encoding and length probe of `platform`.
    pub fn for_platform(platform: SourcePlatform) -> Self {
        OdbcReadOptions::default().with_platform(platform)
    }

    /// These options with the fetch mode, text encoding and length probe of `platform`.
    pub fn with_platform(self, platform: SourcePlatform) -> Self {
        OdbcReadOptions {
            fetch: OdbcFetch::for_platform(platform),
            text: OdbcText::for_platform(platform),
            platform: Some(platform),
            ..self
        }
    }

    pub(super) fn limits(&self) -> ValueLimits {
        ValueLimits::new(self.max_value_bytes)
    }
}
