//! Every Snowflake statement the project can emit, parsed by a real Snowflake grammar:
//! sqlfluff's Snowflake dialect (pinned in emulator/requirements.txt), run once for all
//! statements by `emulator/snowflake_grammar.py` with the emulator's Python environment.
//!
//! Covered: `orchestrator deploy --print` (bootstrap, every migration, the procedure DDL) with
//! each procedure's `$$` body also parsed as a Snowflake Scripting block; every statement of
//! every file under `sql/` rendered with real names (named `:param` placeholders, which the
//! grammar accepts; `?` it does not); the CALLs of the procedure transport; and the SQL of the
//! load path (target DDL for every mapped type, COPY INTO, the verify read-back) built by the
//! public functions with reserved-word and spaced column names; the session setup every login
//! runs (timeouts, TIMEZONE). Not covered: the session's
//! fixed statements (BEGIN/COMMIT/ROLLBACK, PUT, USE SCHEMA), which are private literals of
//! `snowflake::session` and `metadata::deploy`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use migration_core::load::{
    copy_files_sql, copy_into_sql, create_database_sql, create_schema_sql, create_table_sql,
    quote_stored, stored_name, target_column_name, CopyFiles, LoadColumn, TargetColumn,
    TargetTable,
};
use migration_core::metadata::sql_script::{placeholders, render_template, split_statements};
use migration_core::metadata::{render_deployment, MetadataNames};
use migration_core::queue::QueueStatements;
use migration_core::snowflake::{
    default_loading_statement_timeout, session_setup_sql, SessionTimeouts,
};
use migration_core::source::dialect::type_mapping::{
    ColumnKind, ColumnType, Extraction, NumericProfile,
};
use migration_core::validation::content::{read_back_sql, ReadBackColumn};

/// One statement to judge, and how: a plain statement or a Snowflake Scripting block.
#[derive(Debug, Clone)]
struct Item {
    name: String,
    sql: String,
    block: bool,
}

impl Item {
    fn statement(name: impl Into<String>, sql: impl Into<String>) -> Item {
        Item {
            name: name.into(),
            sql: sql.into(),
            block: false,
        }
    }

    fn block(name: impl Into<String>, sql: impl Into<String>) -> Item {
        Item {
            name: name.into(),
            sql: sql.into(),
            block: true,
        }
    }
}

/// What sqlfluff said about one item: `None` when it parsed.
type Verdicts = BTreeMap<String, Option<String>>;

fn repository() -> PathBuf {
    test_support::repository_root()
}

/// Judges every item in one run of the grammar script.
fn judge(items: &[Item]) -> Verdicts {
    let python = test_support::emulator_python();
    let script = repository().join("emulator/snowflake_grammar.py");
    let input = serde_json::Value::Array(
        items
            .iter()
            .map(|item| {
                serde_json::json!({
                    "name": item.name,
                    "sql": item.sql,
                    "kind": if item.block { "block" } else { "statement" },
                })
            })
            .collect(),
    )
    .to_string();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}): the emulator's Python environment with sqlfluff is missing; run `bash .ci/run`",
                python.display()
            )
        });
    // A script that cannot start (no sqlfluff) stops reading: its exit status says why.
    let sent = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes());
    let output = child.wait_with_output().expect("the grammar check ends");
    if let Err(error) = sent {
        assert!(
            !output.status.success(),
            "the grammar check ended well without reading its input: {error}"
        );
    }
    assert!(
        output.status.success(),
        "the Snowflake grammar check failed to run ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let answer: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the grammar check answers JSON");
    answer["results"]
        .as_array()
        .expect("a list of results")
        .iter()
        .map(|result| {
            let name = result["name"].as_str().expect("a name").to_owned();
            let problem = (result["ok"] != serde_json::Value::Bool(true))
                .then(|| result["message"].as_str().unwrap_or("").to_owned());
            (name, problem)
        })
        .collect()
}

fn names() -> MetadataNames {
    MetadataNames::default()
}

/// `orchestrator deploy --print`, plus each procedure's body as a block of its own (inside the
/// DDL it is a string literal, which the grammar does not look into).
fn deployment() -> Vec<Item> {
    let mut items = Vec::new();
    for (index, statement) in render_deployment(&names())
        .expect("the default names are valid")
        .into_iter()
        .enumerate()
    {
        let first_line = statement.lines().next().unwrap_or_default().to_owned();
        let name = format!("deploy --print #{index}: {first_line}");
        if let Some(body) = statement.split("$$").nth(1) {
            items.push(Item::block(format!("{name} (its $$ body)"), body));
        }
        items.push(Item::statement(name, statement));
    }
    items
}

/// Every statement of every file under `sql/`, with the names rendered.
fn sql_files() -> Vec<Item> {
    let mut files = Vec::new();
    collect_sql_files(&repository().join("sql"), &mut files);
    files.sort();
    assert!(files.len() > 30, "found the sql/ files: {files:?}");
    let mut items = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read a sql/ file");
        let relative = path
            .strip_prefix(repository())
            .expect("under the repository")
            .display()
            .to_string();
        // A target database is rendered by the orchestrator for each load (sql.rs).
        let rendered =
            render_template(&text, &names()).replace("{{target_database}}", "\"Target Db\"");
        assert!(
            !rendered.contains("{{"),
            "{relative}: an unknown template name is left in {rendered}"
        );
        for (index, statement) in split_statements(&rendered).into_iter().enumerate() {
            items.push(Item::statement(format!("{relative} #{index}"), statement));
        }
    }
    items
}

fn collect_sql_files(directory: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("read a sql/ folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            collect_sql_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "sql") {
            files.push(path);
        }
    }
}

/// The CALLs of the procedure transport, with named placeholders in place of `?`.
fn procedure_calls() -> Vec<Item> {
    let statements = QueueStatements::load(&names()).expect("the queue files are valid");
    [
        &statements.pull,
        &statements.heartbeat,
        &statements.complete,
        &statements.fail,
        &statements.release,
    ]
    .into_iter()
    .map(|prepared| {
        let call = prepared.call.as_ref().expect("a worker procedure");
        let mut named = call.sql.clone();
        for name in &call.parameter_names {
            named = named.replacen('?', &format!(":{name}"), 1);
        }
        Item::statement(format!("CALL of {}", prepared.operation.file), named)
    })
    .collect()
}

/// Every column kind the type mapping knows. The match has no catch-all arm, so a new kind
/// does not compile until it is listed here too.
fn every_column_kind() -> Vec<ColumnKind> {
    let kinds = vec![
        ColumnKind::Boolean,
        ColumnKind::Int8,
        ColumnKind::UInt8,
        ColumnKind::Int16,
        ColumnKind::Int32,
        ColumnKind::Int64,
        ColumnKind::Decimal {
            precision: 38,
            scale: 9,
        },
        ColumnKind::UnboundedDecimal,
        ColumnKind::Float32,
        ColumnKind::Float64,
        ColumnKind::Text {
            max_length: Some(120),
        },
        ColumnKind::Text { max_length: None },
        ColumnKind::Binary {
            max_length: Some(64),
        },
        ColumnKind::Binary { max_length: None },
        ColumnKind::Date,
        ColumnKind::Time { fraction_digits: 6 },
        ColumnKind::Timestamp { fraction_digits: 6 },
        ColumnKind::TimestampTz { fraction_digits: 9 },
        ColumnKind::Uuid,
        ColumnKind::Variant,
        ColumnKind::Array,
        ColumnKind::Geography,
        ColumnKind::Geometry,
        ColumnKind::OtherText,
    ];
    for kind in &kinds {
        match kind {
            ColumnKind::Boolean
            | ColumnKind::Int8
            | ColumnKind::UInt8
            | ColumnKind::Int16
            | ColumnKind::Int32
            | ColumnKind::Int64
            | ColumnKind::Decimal { .. }
            | ColumnKind::UnboundedDecimal
            | ColumnKind::Float32
            | ColumnKind::Float64
            | ColumnKind::Text { .. }
            | ColumnKind::Binary { .. }
            | ColumnKind::Date
            | ColumnKind::Time { .. }
            | ColumnKind::Timestamp { .. }
            | ColumnKind::TimestampTz { .. }
            | ColumnKind::Uuid
            | ColumnKind::Variant
            | ColumnKind::Array
            | ColumnKind::Geography
            | ColumnKind::Geometry
            | ColumnKind::OtherText => {}
        }
    }
    kinds
}

/// Every Snowflake type the mapping can produce (unbounded numerics with and without a
/// fitting profile).
fn every_mapped_type() -> Vec<String> {
    let profile = NumericProfile {
        max_integer_digits: 10,
        max_scale: 4,
        special_values: 0,
    };
    let mut types = Vec::new();
    for kind in every_column_kind() {
        let column = ColumnType {
            kind,
            extraction: Extraction::Native,
        };
        for sql_type in [
            column.snowflake_type(None),
            column.snowflake_type(Some(profile)),
        ] {
            if !types.contains(&sql_type) {
                types.push(sql_type);
            }
        }
    }
    types
}

/// Source column names a migration meets: reserved words, spaces, mixed case, quotes.
const SOURCE_COLUMNS: [&str; 9] = [
    "id",
    "order",
    "group",
    "rows",
    "current",
    "unit price",
    "Mixed Case",
    "say \"hi\"",
    "sample",
];

/// The SQL of the load path, from its public functions, for two targets: plain names and
/// quoted names with spaces.
fn load_path() -> Vec<Item> {
    let targets = [
        TargetTable {
            database: "TGT".to_owned(),
            schema: "PUBLIC".to_owned(),
            table: "ORDERS".to_owned(),
        },
        TargetTable {
            database: "\"Target Db\"".to_owned(),
            schema: "\"Sales Data\"".to_owned(),
            table: "\"Order Lines\"".to_owned(),
        },
    ];
    let types = every_mapped_type();
    let columns: Vec<TargetColumn> = types
        .iter()
        .enumerate()
        .map(|(index, sql_type)| TargetColumn {
            name: target_column_name(&match SOURCE_COLUMNS.get(index) {
                Some(name) => (*name).to_owned(),
                None => format!("column_{index}"),
            }),
            snowflake_type: sql_type.clone(),
            nullable: true,
        })
        .collect();
    // Quoted as `orchestrator verify` quotes them (target_table::column_sql_name).
    let read_back_columns: Vec<ReadBackColumn> = columns
        .iter()
        .map(|column| ReadBackColumn {
            sql_name: quote_stored(&stored_name(&column.name)),
            snowflake_type: column.snowflake_type.clone(),
        })
        .collect();
    let stage =
        "@SNOWCONVERT_AI.DATA_MIGRATION.TASK_RESULTS/workflows/7/tables/0/partition_3/attempt_1/";
    let mut items = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        let table = target.qualified().expect("valid target names");
        let built = [
            ("CREATE DATABASE", create_database_sql(target)),
            ("CREATE SCHEMA", create_schema_sql(target)),
            (
                "CREATE TABLE (every mapped type)",
                create_table_sql(target, &columns),
            ),
        ];
        for (what, sql) in built {
            let sql = sql.unwrap_or_else(|error| panic!("{what} for {table}: {error}"));
            items.push(Item::statement(
                format!("load path, target {index}: {what}"),
                sql,
            ));
        }
        items.push(Item::statement(
            format!("load path, target {index}: COPY INTO a whole folder"),
            copy_into_sql(&table, stage),
        ));
        // The orchestrator's COPY: listed files, the named file format, and with a
        // semi-structured column the PARSE_JSON transformation.
        let files = vec![
            "part_3_1_00000.parquet".to_owned(),
            "part_3_1_00001.parquet".to_owned(),
        ];
        for semi_structured in [false, true] {
            let load_columns: Vec<LoadColumn> = columns
                .iter()
                .enumerate()
                .map(|(i, column)| LoadColumn {
                    name: stored_name(&column.name),
                    semi_structured: semi_structured && i == 1,
                })
                .filter(|column| !column.name.contains('"'))
                .collect();
            let sql = copy_files_sql(&CopyFiles {
                table: &table,
                columns: &load_columns,
                stage_folder: stage,
                files: &files,
                file_format: "SNOWCONVERT_AI.DATA_MIGRATION.PARQUET_FILE_FORMAT",
            })
            .unwrap_or_else(|error| panic!("the load COPY for {table}: {error}"));
            items.push(Item::statement(
                format!("load path, target {index}: COPY of listed files (semi-structured: {semi_structured})"),
                sql,
            ));
        }
        items.push(Item::statement(
            format!("load path, target {index}: verify read-back"),
            read_back_sql(&table, &read_back_columns),
        ));
    }
    items
}

/// The statement every session runs after its login, for a control and a loading session.
fn session_setup() -> Vec<Item> {
    let lease = std::time::Duration::from_secs(300);
    let sessions = [
        ("control", SessionTimeouts::for_control(lease)),
        (
            "loading",
            SessionTimeouts::for_loading(lease, default_loading_statement_timeout()),
        ),
    ];
    let mut items = Vec::new();
    for (what, timeouts) in sessions {
        for (index, sql) in session_setup_sql(&timeouts).into_iter().enumerate() {
            items.push(Item::statement(
                format!("session setup: {what} {index}"),
                sql,
            ));
        }
    }
    items
}

/// Deliberately broken statements the same check must reject.
fn broken() -> Vec<Item> {
    let body = deployment()
        .into_iter()
        .find(|item| item.block && item.sql.contains("END FOR;"))
        .expect("a procedure body with a FOR loop");
    vec![
        Item::block("broken: END LOOPX", body.sql.replacen("END FOR;", "END LOOPX;", 1)),
        Item::statement(
            "broken: unquoted ORDER column",
            "CREATE TABLE IF NOT EXISTS TGT.PUBLIC.ORDERS (\n    ID NUMBER(19,0),\n    ORDER VARCHAR\n)",
        ),
        Item::statement(
            "broken: positional placeholder",
            "SELECT ID FROM SNOWCONVERT_AI.DATA_MIGRATION.TASK_QUEUE WHERE ID = ?",
        ),
    ]
}

/// Every item's verdict, judged once for the whole test binary (one Python process).
fn verdicts() -> &'static (Vec<Item>, Verdicts) {
    static VERDICTS: OnceLock<(Vec<Item>, Verdicts)> = OnceLock::new();
    VERDICTS.get_or_init(|| {
        let mut items = deployment();
        items.extend(sql_files());
        items.extend(procedure_calls());
        items.extend(load_path());
        items.extend(session_setup());
        items.extend(broken());
        let mut seen = std::collections::BTreeSet::new();
        for item in &items {
            assert!(
                seen.insert(item.name.clone()),
                "two items named {}",
                item.name
            );
        }
        let started = std::time::Instant::now();
        let verdicts = judge(&items);
        assert_eq!(verdicts.len(), items.len(), "one verdict per statement");
        eprintln!(
            "judged {} statements with sqlfluff's Snowflake dialect in {:.1} s",
            items.len(),
            started.elapsed().as_secs_f64()
        );
        (items, verdicts)
    })
}

/// The failures among `items`, each with its name, sqlfluff's message and the statement.
fn failures(items: &[Item]) -> Vec<String> {
    let (_, verdicts) = verdicts();
    items
        .iter()
        .filter_map(|item| {
            let problem = verdicts
                .get(&item.name)
                .unwrap_or_else(|| panic!("no verdict for {}", item.name))
                .as_ref()?;
            Some(format!(
                "{}\n  sqlfluff (Snowflake dialect): {problem}\n  statement:\n{}",
                item.name,
                indent(&item.sql)
            ))
        })
        .collect()
}

fn indent(sql: &str) -> String {
    sql.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_all_parse(what: &str, items: &[Item]) {
    let failures = failures(items);
    assert!(
        failures.is_empty(),
        "{} of {} {what} are not valid Snowflake SQL:\n\n{}",
        failures.len(),
        items.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_deployment_and_every_procedure_body_parse() {
    let items = deployment();
    assert!(
        items.iter().filter(|item| item.block).count() == 5,
        "the five worker procedures' bodies are among them"
    );
    assert_all_parse("deployment statements", &items);
}

#[test]
fn every_statement_under_sql_parses() {
    let items = sql_files();
    assert!(
        items.iter().any(|item| !placeholders(&item.sql).is_empty()),
        "named placeholders are part of what is judged"
    );
    assert_all_parse("statements under sql/", &items);
}

#[test]
fn the_procedure_calls_parse() {
    assert_all_parse("procedure calls", &procedure_calls());
}

#[test]
fn the_load_path_sql_parses() {
    assert_all_parse("load-path statements", &load_path());
}

#[test]
fn the_session_setup_parses() {
    assert_all_parse("session setup statements", &session_setup());
}

#[test]
fn broken_statements_are_rejected_with_sqlfluffs_message() {
    let items = broken();
    let failures = failures(&items);
    assert_eq!(
        failures.len(),
        items.len(),
        "every broken statement is rejected: {failures:#?}"
    );
    let loopx = &failures[0];
    assert!(
        loopx.starts_with("broken: END LOOPX")
            && loopx.contains("sqlfluff (Snowflake dialect): ")
            && loopx.contains("unparsable")
            && loopx.contains("END LOOPX;"),
        "the report names the statement, quotes sqlfluff and shows the text: {loopx}"
    );
    assert!(failures[1].contains("ORDER VARCHAR"), "{}", failures[1]);
}
