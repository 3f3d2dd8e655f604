use config_schema::SourcePlatform;

use super::*;
use crate::plan::key_value::KeyValue;

fn col(name: &str, data_type: &str, ordinal: u32) -> SourceColumn {
    let mut c = SourceColumn::new(name, data_type, ordinal);
    if data_type == "numeric" && name != "raw" {
        c.precision = Some(10);
        c.scale = Some(2);
    }
    if data_type == "character varying" {
        c.char_length = Some(40);
    }
    c
}

fn input() -> PlanInput {
    let mut id = col("id", "bigint", 1);
    id.nullable = false;
    PlanInput {
        platform: SourcePlatform::Postgresql,
        table: TableRef::parse("shop", "public", "orders"),
        columns: vec![
            id,
            col("customerName", "character varying", 2),
            col("amount", "numeric", 3),
            col("raw", "numeric", 4),
            col("created_at", "timestamp with time zone", 5),
            col("money_col", "money", 6),
        ],
        primary_key: vec!["id".into()],
        stats: TableStats {
            row_count: 2_000_000,
            size_bytes: 200 * 1024 * 1024,
        },
        options: TableOptions::default(),
    }
}

fn boundaries() -> Vec<BoundaryRow> {
    [1u64, 500_001, 1_000_001, 1_500_001, 2_000_000]
        .iter()
        .map(|&n| BoundaryRow {
            row_number: n,
            values: vec![KeyValue::Int(n as i64 * 10)],
        })
        .collect()
}

fn probes() -> Probes {
    Probes {
        boundary_rows: boundaries(),
        ..Probes::default()
    }
}

#[test]
fn analysis_falls_back_to_the_primary_key_and_sizes_by_rows() {
    let analysis = prepare_analysis(&input()).expect("plans");
    assert_eq!(analysis.keys.len(), 1);
    assert_eq!(analysis.keys[0].name, "id");
    assert_eq!(analysis.partition_count, 4);
    insta::assert_snapshot!(analysis.boundary_query.expect("more than one partition"));
    assert!(analysis
        .numeric_profile_query
        .expect("raw is unbounded")
        .contains("scale(\"raw\")"));
}

#[test]
fn plan_maps_names_and_types() {
    let mut input = input();
    input.options.column_name_mappings = vec![NameMapping {
        source_name: "ID".into(),
        target_name: "order_id".into(),
    }];
    input.options.column_type_mappings = vec![TypeMapping {
        source_type: "NUMERIC(10, 2)".into(),
        target_type: "DECIMAL(12,2)".into(),
    }];
    let profile = NumericProfile {
        max_integer_digits: 12,
        max_scale: 4,
        special_values: 0,
    };
    let probes = Probes {
        boundary_rows: boundaries(),
        numeric_profiles: vec![profile],
        out_of_range_counts: vec![0],
    };
    let plan = build_table_plan(&input, &probes).expect("plans");
    assert_eq!(plan.partitions.len(), 6);
    let summary: Vec<String> = plan
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} -> {} {}",
                c.source.name, c.target_name, c.snowflake_type
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
    insta::assert_snapshot!(format!("{:#?}", plan.arrow_schema().fields()));
    // The plan is what the analyze task returns: it must survive JSON.
    let json = serde_json::to_string(&plan).expect("serializes");
    let back: TablePlan = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, plan);
}

#[test]
fn small_tables_are_one_partition_without_a_key() {
    let mut input = input();
    input.primary_key.clear();
    input.stats.row_count = 10;
    let plan = build_table_plan(&input, &Probes::default()).expect("plans");
    assert_eq!(plan.partitions, vec![Partition::whole_table(10)]);
}

#[test]
fn errors_name_table_and_column() {
    let mut messages = Vec::new();

    let mut no_key = input();
    no_key.primary_key.clear();
    messages.push(
        prepare_analysis(&no_key)
            .expect_err("needs key")
            .to_string(),
    );

    let mut missing = input();
    missing.options.partition_columns = vec!["nope".into()];
    messages.push(prepare_analysis(&missing).expect_err("missing").to_string());

    let mut quoted = input();
    quoted.options.partition_columns = vec!["\"ID\"".into()];
    messages.push(prepare_analysis(&quoted).expect_err("case").to_string());

    let mut unsupported = input();
    unsupported.columns.push(col("snap", "txid_snapshot", 7));
    messages.push(
        prepare_analysis(&unsupported)
            .expect_err("type")
            .to_string(),
    );

    let mut bad_where = input();
    bad_where.options.where_clause = Some("1=1; DELETE FROM orders".into());
    messages.push(prepare_analysis(&bad_where).expect_err("where").to_string());

    let mut bad_type = input();
    bad_type.options.column_type_mappings = vec![TypeMapping {
        source_type: "money".into(),
        target_type: "NUMBER(38,4); DROP TABLE x".into(),
    }];
    messages.push(
        build_table_plan(&bad_type, &probes())
            .expect_err("target type")
            .to_string(),
    );

    let mut dup = input();
    dup.options.column_name_mappings = vec![NameMapping {
        source_name: "amount".into(),
        target_name: "ID".into(),
    }];
    messages.push(
        build_table_plan(&dup, &probes())
            .expect_err("duplicate")
            .to_string(),
    );

    let infinite = Probes {
        out_of_range_counts: vec![3],
        ..probes()
    };
    messages.push(
        build_table_plan(&input(), &infinite)
            .expect_err("infinity")
            .to_string(),
    );

    let mut json_key = input();
    json_key.columns.push(col("doc", "jsonb", 7));
    json_key.options.partition_columns = vec!["doc".into()];
    messages.push(
        prepare_analysis(&json_key)
            .expect_err("json key")
            .to_string(),
    );

    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn default_target_names_follow_the_case_rule() {
    assert_eq!(default_target_name("order_id"), "ORDER_ID");
    assert_eq!(default_target_name("ORDER_ID"), "ORDER_ID");
    assert_eq!(default_target_name("customerName"), "customerName");
    assert_eq!(default_target_name("with space"), "with space");
}
