//! Structural checking of a parsed document against the JSON Schema that `schemars` derives
//! from the raw structs.
//!
//! serde stops at the first error and its messages name neither the path nor the nearest key.
//! Walking the document alongside the schema finds every unknown key (with a suggestion), every
//! wrong type and every value outside an enumeration before serde sees the document. The schema
//! is the one we ship, so the check and the editor experience cannot disagree.

use serde_json::{Map, Value};

use crate::problem::{child_index, child_key, closest_match, Problems};

/// Checks `value` against the root schema `schema` (a serialized `schemars::schema::RootSchema`)
/// and records every problem found.
///
/// Returns the paths of the values that were present but wrong, for [`prune`].
pub(crate) fn check_document(
    schema: &Value,
    value: &Value,
    problems: &mut Problems,
) -> Vec<String> {
    let checker = Checker {
        definitions: schema.get("definitions").and_then(Value::as_object),
        rejected: std::cell::RefCell::new(Vec::new()),
    };
    checker.check(schema, value, "", problems);
    checker.rejected.into_inner()
}

/// A copy of `value` without the values at `paths` (as produced by [`check_document`]). A bad
/// array element removes the whole array, so indices in later messages stay true. Paths that
/// cannot be followed (keys containing `.` or `[`) are left alone; serde then fails and only
/// the structural problems are reported.
pub(crate) fn prune(value: &Value, paths: &[String]) -> Value {
    let mut pruned = value.clone();
    for path in paths {
        let Some(mut segments) = parse_path(path) else {
            continue;
        };
        while matches!(segments.last(), Some(Segment::Index(_))) {
            segments.pop();
        }
        let Some(Segment::Key(last)) = segments.pop() else {
            continue;
        };
        let pointer: String = segments
            .iter()
            .map(|segment| match segment {
                Segment::Key(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                Segment::Index(index) => format!("/{index}"),
            })
            .collect();
        if let Some(map) = pruned.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            map.remove(&last);
        }
    }
    pruned
}

/// Whether two problem paths concern the same value or one contains the other.
pub(crate) fn paths_overlap(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        outer.is_empty()
            || inner == outer
            || (inner.starts_with(outer)
                && matches!(inner.as_bytes().get(outer.len()), Some(b'.') | Some(b'[')))
    };
    within(a, b) || within(b, a)
}

enum Segment {
    Key(String),
    Index(usize),
}

/// `tables[1].source.tableName` -> [tables, 1, source, tableName].
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return None;
        }
        segments.push(Segment::Key(key.to_string()));
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']')?;
            segments.push(Segment::Index(stripped[..end].parse().ok()?));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(segments)
}

struct Checker<'a> {
    definitions: Option<&'a Map<String, Value>>,
    /// Paths of values that are present but wrong (unknown key, wrong type, bad value). Removing
    /// them leaves a document serde can read, so the semantic checks can still run.
    rejected: std::cell::RefCell<Vec<String>>,
}

impl<'a> Checker<'a> {
    /// Records a problem with a value that is present, so it can be pruned later.
    fn reject(&self, problems: &mut Problems, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        self.rejected.borrow_mut().push(path.clone());
        problems.push(path, message);
    }

    /// Follows `$ref` and single-element `allOf` wrappers (schemars puts descriptions there).
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                let name = reference.trim_start_matches("#/definitions/");
                match self.definitions.and_then(|defs| defs.get(name)) {
                    Some(target) => schema = target,
                    None => return schema,
                }
                continue;
            }
            if let Some([only]) = schema
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                schema = only;
                continue;
            }
            return schema;
        }
        schema
    }

    fn check(&self, schema: &'a Value, value: &Value, path: &str, problems: &mut Problems) {
        let schema = self.resolve(schema);
        if !schema.is_object() {
            return; // `true` accepts everything
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.check_alternatives(branches, value, path, problems);
            return;
        }
        if let Some(types) = schema.get("type") {
            if !type_accepts(types, value) {
                // A secret's value is never quoted, whatever its type.
                let found = if schema.get("writeOnly") == Some(&Value::Bool(true)) {
                    describe_kind(value)
                } else {
                    describe_value(value)
                };
                self.reject(
                    problems,
                    path,
                    format!("must be {}, found {found}", describe_types(types)),
                );
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                self.reject(problems, path, enum_message(allowed, value));
                return;
            }
        }
        if let (Some(minimum), Some(number)) = (
            schema.get("minimum").and_then(Value::as_f64),
            value.as_f64(),
        ) {
            if number < minimum {
                self.reject(
                    problems,
                    path,
                    format!("must be at least {minimum}, found {number}"),
                );
                return;
            }
        }
        if let (Some(maximum), Some(number)) = (
            schema.get("maximum").and_then(Value::as_f64),
            value.as_f64(),
        ) {
            if number > maximum {
                self.reject(
                    problems,
                    path,
                    format!("must be at most {maximum}, found {number}"),
                );
                return;
            }
        }
        match value {
            Value::Object(map) => self.check_object(schema, map, path, problems),
            Value::Array(items) => self.check_array(schema, items, path, problems),
            _ => {}
        }
    }

    fn check_alternatives(
        &self,
        branches: &'a [Value],
        value: &Value,
        path: &str,
        problems: &mut Problems,
    ) {
        // schemars writes an enum whose variants carry docs as one branch per variant; treat
        // those branches as one enumeration so the message lists every allowed value.
        let enumerated: Vec<&Value> = branches
            .iter()
            .map(|branch| self.resolve(branch))
            .filter(|branch| branch.get("enum").is_some())
            .filter_map(|branch| branch.get("enum").and_then(Value::as_array))
            .flatten()
            .collect();
        let non_enum_of_same_kind = branches
            .iter()
            .map(|branch| self.resolve(branch))
            .filter(|branch| branch.get("enum").is_none())
            .any(|branch| self.branch_accepts_kind(branch, value));
        if !enumerated.is_empty()
            && !non_enum_of_same_kind
            && enumerated.iter().any(|allowed| same_kind(allowed, value))
        {
            if !enumerated.contains(&value) {
                let allowed: Vec<Value> = enumerated.into_iter().cloned().collect();
                self.reject(problems, path, enum_message(&allowed, value));
            }
            return;
        }
        let matching = branches
            .iter()
            .map(|branch| self.resolve(branch))
            .find(|branch| self.branch_accepts_kind(branch, value));
        match matching {
            Some(branch) => self.check(branch, value, path, problems),
            None => {
                self.reject(
                    problems,
                    path,
                    format!(
                        "must be {}, found {}",
                        self.describe_branches(branches),
                        describe_value(value)
                    ),
                );
            }
        }
    }

    /// Whether a branch of an `anyOf` is meant for values of this JSON kind. A string that is
    /// not one of a branch's enumerated strings still picks that branch, so the message names
    /// the allowed values.
    fn branch_accepts_kind(&self, branch: &Value, value: &Value) -> bool {
        if let Some(types) = branch.get("type") {
            return type_accepts(types, value);
        }
        if let Some(allowed) = branch.get("enum").and_then(Value::as_array) {
            return allowed.iter().any(|a| same_kind(a, value));
        }
        if let Some(nested) = branch
            .get("anyOf")
            .or_else(|| branch.get("oneOf"))
            .and_then(Value::as_array)
        {
            return nested
                .iter()
                .any(|b| self.branch_accepts_kind(self.resolve(b), value));
        }
        true
    }

    /// Words for what a branch accepts; empty for the `null` branch of an optional value
    /// (saying "or null" would only add noise).
    fn describe_branch(&self, branch: &Value) -> String {
        if let Some(nested) = branch
            .get("anyOf")
            .or_else(|| branch.get("oneOf"))
            .and_then(Value::as_array)
        {
            return self.describe_branches(nested);
        }
        if branch.get("type").and_then(Value::as_str) == Some("null") {
            return String::new();
        }
        if let Some(allowed) = branch.get("enum").and_then(Value::as_array) {
            return format!("one of {}", list_values(allowed));
        }
        match branch.get("type") {
            Some(types) => describe_types(types),
            None => "a value".to_string(),
        }
    }

    fn describe_branches(&self, branches: &[Value]) -> String {
        branches
            .iter()
            .map(|branch| self.describe_branch(self.resolve(branch)))
            .filter(|words| !words.is_empty())
            .collect::<Vec<_>>()
            .join(" or ")
    }

    fn check_object(
        &self,
        schema: &'a Value,
        map: &Map<String, Value>,
        path: &str,
        problems: &mut Problems,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    problems.push(child_key(path, key), "is required");
                }
            }
        }
        for (key, item) in map {
            let item_path = child_key(path, key);
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                self.check(property, item, &item_path, problems);
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    self.reject(problems, item_path, unknown_key_message(key, &known));
                }
                Some(additional) if additional.is_object() => {
                    self.check(additional, item, &item_path, problems)
                }
                _ => {}
            }
        }
    }

    fn check_array(&self, schema: &'a Value, items: &[Value], path: &str, problems: &mut Problems) {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                problems.push(path, format!("must contain at least {min} item(s)"));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                self.check(item_schema, item, &child_index(path, index), problems);
            }
        }
    }
}

fn unknown_key_message(key: &str, known: &[&str]) -> String {
    match closest_match(key, known.iter().copied()) {
        Some(suggestion) => format!("is not a known key: did you mean `{suggestion}`?"),
        None if known.is_empty() => "is not a known key: remove it".to_string(),
        None => format!("is not a known key: expected one of {}", known.join(", ")),
    }
}

fn enum_message(allowed: &[Value], value: &Value) -> String {
    let mut message = format!("must be one of {}, found {value}", list_values(allowed));
    if let Some(text) = value.as_str() {
        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        if let Some(suggestion) = closest_match(text, names.iter().copied()) {
            message.push_str(&format!(": did you mean \"{suggestion}\"?"));
        }
    }
    message
}

fn list_values(values: &[Value]) -> String {
    values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn type_accepts(types: &Value, value: &Value) -> bool {
    let kind = kind_of(value);
    let accepts = |t: &str| t == kind || (t == "number" && kind == "integer");
    match types {
        Value::String(t) => accepts(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(accepts),
        _ => true,
    }
}

fn describe_types(types: &Value) -> String {
    let article = |t: &str| match t {
        "integer" => "an integer".to_string(),
        "array" => "an array".to_string(),
        "object" => "an object".to_string(),
        "null" => "null".to_string(),
        other => format!("a {other}"),
    };
    match types {
        Value::String(t) => article(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(article)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".to_string(),
    }
}

/// The kind of a value without the value: `an integer`.
fn describe_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        other => describe_types(&Value::String(kind_of(other).into())),
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Object(_) => "an object".to_string(),
        Value::Array(_) => "an array".to_string(),
        other => format!(
            "{} {other}",
            describe_types(&Value::String(kind_of(other).into()))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string" },
                "count": { "type": ["integer", "null"], "minimum": 0.0 },
                "mode": { "$ref": "#/definitions/Mode" },
                "size": { "anyOf": [ { "type": "string", "enum": ["auto"] }, { "$ref": "#/definitions/Size" } ] },
                "tags": { "type": "array", "items": { "type": "string" } },
                "map": { "type": "object", "additionalProperties": { "type": "string" } }
            },
            "definitions": {
                "Mode": { "type": "string", "enum": ["regular", "unload"] },
                "Size": { "type": "object", "additionalProperties": false, "properties": { "targetSizeMb": { "type": "integer" } } }
            }
        })
    }

    fn problems(value: Value) -> Vec<String> {
        let mut found = Problems::default();
        check_document(&schema(), &value, &mut found);
        found.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn accepts_a_valid_document() {
        let doc = json!({"name": "a", "count": null, "mode": "unload", "size": {"targetSizeMb": 3},
                         "tags": ["x"], "map": {"k": "v"}});
        assert_eq!(problems(doc), Vec::<String>::new());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let doc = json!({"nme": 1, "count": -1, "mode": "unlod", "size": {"targetSize": 1},
                         "tags": ["x", 2], "map": {"k": true}});
        assert_eq!(
            problems(doc),
            vec![
                "name is required",
                "nme is not a known key: did you mean `name`?",
                "count must be at least 0, found -1",
                "mode must be one of \"regular\", \"unload\", found \"unlod\": did you mean \"unload\"?",
                "size.targetSize is not a known key: did you mean `targetSizeMb`?",
                "tags[1] must be a string, found an integer 2",
                "map.k must be a string, found a boolean true",
            ]
        );
    }

    #[test]
    fn prunes_rejected_values_and_whole_arrays() {
        let doc = json!({"name": "a", "nme": 1, "tags": ["x", 2], "size": {"targetSize": 1, "targetSizeMb": 2}});
        let mut found = Problems::default();
        let rejected = check_document(&schema(), &doc, &mut found);
        assert_eq!(rejected, ["nme", "tags[1]", "size.targetSize"]);
        assert_eq!(
            prune(&doc, &rejected),
            json!({"name": "a", "size": {"targetSizeMb": 2}})
        );
    }

    #[test]
    fn overlapping_paths() {
        assert!(paths_overlap(
            "tables[0].source",
            "tables[0].source.tableName"
        ));
        assert!(paths_overlap(
            "tables[0].columnNamesToPartitionBy[1]",
            "tables[0].columnNamesToPartitionBy"
        ));
        assert!(paths_overlap("", "anything"));
        assert!(!paths_overlap("tables[0].source", "tables[0].sourceX"));
        assert!(!paths_overlap("tables[1]", "tables[10]"));
    }

    #[test]
    fn names_the_alternatives_of_an_any_of() {
        assert_eq!(
            problems(json!({"name": "a", "size": 5})),
            vec!["size must be one of \"auto\" or an object, found an integer 5"]
        );
        assert_eq!(
            problems(json!({"name": "a", "size": "big"})),
            vec!["size must be one of \"auto\", found \"big\""]
        );
    }
}
