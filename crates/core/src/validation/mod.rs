//! Proving a copy is right. `content` compares a migrated table with what the workers
//! extracted: row counts and an order-independent content checksum computed from Arrow values
//! on both sides with the same normaliser, so no engine's formatting causes a false mismatch.

pub mod content;
