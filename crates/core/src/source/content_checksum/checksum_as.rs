//! How the checksum reads a text column: the field metadata the readers set and the canonical
//! writers honour (a module of its own so that both sides depend on it, not on each other).

/// Field metadata key that tells the checksum how to read a text column's values.
pub const CHECKSUM_AS_KEY: &str = "migration.checksum_as";
/// [`CHECKSUM_AS_KEY`] value: the UTF-8 values are decimal numbers in text form.
pub const CHECKSUM_AS_DECIMAL: &str = "decimal";
/// [`CHECKSUM_AS_KEY`] value: the UTF-8 values are JSON documents.
pub const CHECKSUM_AS_JSON: &str = "json";
