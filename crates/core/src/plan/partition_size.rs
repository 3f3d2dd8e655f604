//! How many partitions a table gets.
//!
//! `partitionSize` is `"auto"`, `{ "targetSizeMb": N }` or `{ "maxRowsPerPartition": N }`.
//! Auto picks a profile per platform and extraction strategy: worker-side extraction (rows flow
//! through the worker's memory) uses a 1-3 GB target and a 500,000-row cap, server-side export
//! (Redshift UNLOAD) uses 5 GB and no row cap. The row cap is what decides in practice: typical
//! rows are far below 2 KB. There is no minimum and no maximum partition count, so very large
//! tables simply get more partitions (more parallelism).
//!
//! partitions = ceil(rows / max(1, min(target rows, max rows))), and 1 for an empty table.

use config_schema::SourcePlatform;
use serde::{Deserialize, Serialize};

const MB: f64 = 1024.0 * 1024.0;

/// The `partitionSize` setting of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PartitionSize {
    #[default]
    Auto,
    TargetSizeMb(u64),
    MaxRowsPerPartition(u64),
}

/// How the rows leave the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractionStrategy {
    /// Rows are read by the worker (ODBC or the native PostgreSQL path).
    #[default]
    Regular,
    /// The source writes files itself (Redshift UNLOAD).
    Unload,
}

/// The auto-mode sizes for one platform and strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeProfile {
    pub target_mb: u64,
    pub max_mb: u64,
    pub max_rows: Option<u64>,
}

/// Worker-side extraction keeps partitions at or below this many rows in auto mode.
pub const AUTO_MAX_ROWS: u64 = 500_000;

/// The auto profile for a platform and strategy.
pub fn auto_profile(platform: SourcePlatform, strategy: ExtractionStrategy) -> SizeProfile {
    if strategy == ExtractionStrategy::Unload {
        return SizeProfile {
            target_mb: 5 * 1024,
            max_mb: 10 * 1024,
            max_rows: None,
        };
    }
    let (target_mb, max_mb) = match platform {
        SourcePlatform::Sqlserver | SourcePlatform::Postgresql => (1024, 2 * 1024),
        SourcePlatform::Redshift | SourcePlatform::Sqlite => (2 * 1024, 5 * 1024),
        SourcePlatform::Teradata => (3 * 1024, 6 * 1024),
    };
    SizeProfile {
        target_mb,
        max_mb,
        max_rows: Some(AUTO_MAX_ROWS),
    }
}

/// The number of partitions (NTILE buckets) for a table of `row_count` rows and `size_bytes`.
pub fn partition_count(
    row_count: u64,
    size_bytes: u64,
    size: PartitionSize,
    platform: SourcePlatform,
    strategy: ExtractionStrategy,
) -> u64 {
    if row_count == 0 {
        return 1;
    }
    let avg_row_mb = (size_bytes as f64 / MB) / row_count as f64;
    let rows_for_mb = |mb: u64| -> Option<u64> {
        // A zero size estimate (no statistics) cannot size by bytes; rows decide alone.
        (avg_row_mb > 0.0).then(|| (mb as f64 / avg_row_mb).floor() as u64)
    };
    let (target_rows, max_rows) = match size {
        PartitionSize::Auto => {
            let profile = auto_profile(platform, strategy);
            let max = [rows_for_mb(profile.max_mb), profile.max_rows]
                .into_iter()
                .flatten()
                .min();
            (rows_for_mb(profile.target_mb), max)
        }
        PartitionSize::TargetSizeMb(mb) => (rows_for_mb(mb), None),
        PartitionSize::MaxRowsPerPartition(rows) => (Some(rows), None),
    };
    let effective = [target_rows, max_rows]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(row_count)
        .max(1);
    if effective >= row_count {
        1
    } else {
        row_count.div_ceil(effective)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: SourcePlatform = SourcePlatform::Postgresql;
    const REGULAR: ExtractionStrategy = ExtractionStrategy::Regular;

    #[test]
    fn empty_and_small_tables_get_one_partition() {
        assert_eq!(partition_count(0, 0, PartitionSize::Auto, PG, REGULAR), 1);
        assert_eq!(
            partition_count(500_000, 50 * 1024 * 1024, PartitionSize::Auto, PG, REGULAR),
            1
        );
    }

    #[test]
    fn auto_mode_caps_rows_per_partition() {
        // 5 M rows of 100 bytes (477 MB): the 500k-row cap decides.
        assert_eq!(
            partition_count(5_000_000, 500_000_000, PartitionSize::Auto, PG, REGULAR),
            10
        );
        // Unload has no row cap: 477 MB is below the 5 GB target.
        assert_eq!(
            partition_count(
                5_000_000,
                500_000_000,
                PartitionSize::Auto,
                SourcePlatform::Redshift,
                ExtractionStrategy::Unload
            ),
            1
        );
    }

    #[test]
    fn wide_rows_are_sized_by_bytes() {
        // 1 M rows of 10 KB = 9.5 GB: 1 GB target -> about 105k rows per partition.
        let n = partition_count(1_000_000, 10_240_000_000, PartitionSize::Auto, PG, REGULAR);
        assert_eq!(n, 10);
    }

    #[test]
    fn fixed_sizes() {
        assert_eq!(
            partition_count(
                1_000,
                0,
                PartitionSize::MaxRowsPerPartition(300),
                PG,
                REGULAR
            ),
            4
        );
        // 100 MB table, 10 MB target.
        assert_eq!(
            partition_count(
                1_000_000,
                100 * 1024 * 1024,
                PartitionSize::TargetSizeMb(10),
                PG,
                REGULAR
            ),
            10
        );
        // No size estimate: targetSizeMb cannot apply, one partition.
        assert_eq!(
            partition_count(1_000_000, 0, PartitionSize::TargetSizeMb(10), PG, REGULAR),
            1
        );
    }
}
