//! Source platforms: one dialect per platform (SQL text and type decisions only) and the one
//! extraction pipeline that does the I/O.

pub mod catalog;
pub mod dialect;
