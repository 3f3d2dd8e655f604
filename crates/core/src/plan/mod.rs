//! Partition planning: table analysis results -> partition count -> boundary predicates.
