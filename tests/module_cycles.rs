//! No module cycle inside any crate of the workspace: dependencies inside a crate point one
//! way, as they do between crates. The rules of the check (what counts as an edge, why test
//! modules are ignored) are in `test_support::module_graph`.

use std::path::Path;

use test_support::module_graph::crate_cycles;

/// The `members = [...]` of the workspace manifest, plus the root package (its library is
/// `tests/support/lib.rs`).
fn source_dirs(workspace: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml"))
        .expect("the workspace manifest is readable");
    let members_line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("members"))
        .expect("the workspace manifest lists its members on one line");
    let mut dirs: Vec<String> = members_line
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|member| format!("{member}/src"))
        .collect();
    assert!(!dirs.is_empty(), "no members read from `{members_line}`");
    dirs.push("tests/support".to_string());
    dirs
}

#[test]
fn no_crate_has_a_module_cycle() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut report = String::new();
    let mut count = 0;
    for dir in source_dirs(workspace) {
        let cycles = crate_cycles(&workspace.join(&dir), &format!("{dir}/"))
            .unwrap_or_else(|error| panic!("cannot read the sources under {dir}: {error}"));
        for cycle in cycles {
            count += 1;
            report.push_str(&format!("{dir}: {cycle}"));
        }
    }
    assert!(
        count == 0,
        "{count} module cycle(s); move what both sides need into a leaf module so that \
         dependencies point one way:\n{report}"
    );
}
