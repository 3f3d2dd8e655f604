//! What an `extract` task runs, read from its payload: the partition's SELECT (rendered by the
//! dialect, never taken from the queue), the pipeline options, and the result the task
//! completes with. All pure, so the worker only connects, streams and uploads, and a test that
//! extracts a partition by hand builds exactly what the worker builds.

use std::path::Path;

use super::payload::{ExtractResult, ExtractedFileResult};
use crate::plan::{Partition, TablePlan};
use crate::source::dialect::{Dialect, DialectError, ExtractionRequest};
use crate::source::extract::{ExtractOptions, ExtractOutcome, ExtractRequest};
use crate::source::parquet_sink::ParquetOptions;

/// The SELECT of one partition of `plan` with the Arrow schema the catalog chose. The plan's
/// `whereClauseCriteria` is checked again by the dialect.
pub fn extract_request(
    plan: &TablePlan,
    partition: &Partition,
) -> Result<ExtractRequest, DialectError> {
    let columns = plan.source_columns();
    let select_sql = Dialect::new(plan.platform).extraction_query(&ExtractionRequest {
        table: &plan.table,
        columns: &columns,
        keys: &plan.keys,
        partition,
        where_clause: plan.where_clause.as_deref(),
        watermark: None,
    })?;
    Ok(ExtractRequest {
        select_sql,
        schema: plan.extraction_schema(),
    })
}

/// The pipeline options of attempt `attempt` of partition `partition_index`: Parquet fields
/// named after the target columns, files named `part_{partition}_{attempt}_{n}.parquet` so
/// two attempts never share a name.
pub fn extract_options(
    plan: &TablePlan,
    partition_index: u32,
    attempt: i64,
    local_dir: &Path,
    parquet: &ParquetOptions,
) -> ExtractOptions {
    ExtractOptions {
        table: plan.table.display_name(),
        target_column_names: plan.columns.iter().map(|c| c.target_name.clone()).collect(),
        local_dir: local_dir.to_path_buf(),
        parquet: ParquetOptions {
            file_prefix: format!("part_{partition_index}_{attempt}"),
            ..parquet.clone()
        },
    }
}

impl ExtractResult {
    /// What an extract completes with after the pipeline uploaded `outcome`'s files to
    /// `stage_folder` (the attempt folder).
    pub fn from_outcome(stage_folder: String, outcome: ExtractOutcome) -> ExtractResult {
        ExtractResult {
            stage_folder,
            files: outcome
                .files
                .into_iter()
                .map(|f| ExtractedFileResult {
                    name: f.name,
                    rows: f.rows,
                    bytes: f.bytes,
                })
                .collect(),
            rows: outcome.rows,
            bytes: outcome.bytes,
            checksum: outcome.checksum.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{build_table_plan, PlanInput, Probes, TableOptions};
    use crate::source::catalog::{SourceColumn, TableRef, TableStats};
    use config_schema::SourcePlatform;

    fn plan(where_clause: Option<&str>) -> TablePlan {
        let input = PlanInput {
            platform: SourcePlatform::Sqlite,
            table: TableRef::parse("main", "main", "orders"),
            columns: vec![
                SourceColumn::new("id", "INTEGER", 1),
                SourceColumn::new("Note", "TEXT", 2),
            ],
            primary_key: vec!["id".into()],
            stats: TableStats {
                row_count: 3,
                size_bytes: 100,
            },
            options: TableOptions {
                where_clause: where_clause.map(str::to_owned),
                ..TableOptions::default()
            },
        };
        build_table_plan(&input, &Probes::default()).expect("a one-partition plan")
    }

    #[test]
    fn the_request_selects_the_planned_columns_of_the_partition() {
        let plan = plan(Some("id > 1"));
        let request = extract_request(&plan, &plan.partitions[0]).expect("renders");
        assert!(
            request.select_sql.contains("orders"),
            "{}",
            request.select_sql
        );
        assert!(
            request.select_sql.contains("id > 1"),
            "{}",
            request.select_sql
        );
        assert_eq!(request.schema.fields().len(), 2);
    }

    #[test]
    fn attempts_name_their_files_apart_and_fields_follow_the_target_names() {
        let plan = plan(None);
        let options = extract_options(&plan, 3, 2, Path::new("/tmp/x"), &ParquetOptions::default());
        assert_eq!(options.parquet.file_prefix, "part_3_2");
        assert_eq!(options.table, plan.table.display_name());
        let targets: Vec<&str> = plan
            .columns
            .iter()
            .map(|c| c.target_name.as_str())
            .collect();
        assert_eq!(options.target_column_names, targets);
        assert_eq!(options.local_dir, Path::new("/tmp/x"));
    }
}
