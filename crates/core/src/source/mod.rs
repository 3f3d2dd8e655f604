//! Source platforms: one dialect per platform (SQL text and type decisions only) and the one
//! extraction pipeline that does the I/O.

pub mod catalog;
pub mod connection_string;
pub mod content_checksum;
pub mod dialect;
pub mod extract;
pub mod extract_error;
pub mod odbc;
pub mod parquet_sink;
pub mod pipeline;
pub mod postgres_native;
pub mod sqlstate;
pub mod value_limits;
