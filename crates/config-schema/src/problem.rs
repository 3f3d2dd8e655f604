//! A configuration problem: the JSON path or TOML key it concerns and what to do about it.
//!
//! Validation never stops at the first mistake; it collects `Problem`s so the user can fix a
//! file in one pass.

use std::fmt;

/// One mistake in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the mistake is: `tables[1].synchronization.watermarkColumn`, or
    /// `connections.source.redshift.cluster_id`. Empty for the document as a whole.
    pub path: String,
    /// What is wrong and what to do, phrased to follow the path:
    /// `is required when strategy is "watermark"`.
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the document {}", self.message)
        } else {
            write!(f, "{} {}", self.path, self.message)
        }
    }
}

/// Every problem found in one file, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// Drops repeated problems (same path and message), keeping the first of each. A value
    /// inherited from `defaultTableConfiguration` is checked once per table that inherits it
    /// but reported once, at its own path.
    pub fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.0
            .retain(|p| seen.insert((p.path.clone(), p.message.clone())));
    }

    /// `Ok(value)` when nothing was found, otherwise every problem.
    pub fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// Something worth knowing about a file that was accepted: a value that is ignored, for
/// example a field a table inherits from `defaultTableConfiguration` but does not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The value concerned, as [`Problem::path`].
    pub path: String,
    /// What happens to it and why, phrased to follow the path.
    pub message: String,
}

impl Note {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Note {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.path, self.message)
    }
}

/// A checked configuration together with the notes found while checking it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<T> {
    pub config: T,
    pub notes: Vec<Note>,
}

impl<T> Checked<T> {
    /// A configuration without notes.
    pub fn plain(config: T) -> Self {
        Checked {
            config,
            notes: Vec::new(),
        }
    }
}

/// Appends `key` to a dotted path.
pub(crate) fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Whether the dotted path `path` is `outer` or a field inside it (`a.b` is within `a`, `ab`
/// is not).
pub(crate) fn path_within(path: &str, outer: &str) -> bool {
    path == outer || (path.starts_with(outer) && path.as_bytes().get(outer.len()) == Some(&b'.'))
}

/// Appends an array index to a path.
pub(crate) fn child_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// The known name closest to `unknown`, if one is close enough to be a likely typo. Case and
/// `_` are ignored when comparing, so `table_name` suggests `tableName`.
pub fn closest_match<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let normalize = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let wanted = normalize(unknown);
    known
        .into_iter()
        .map(|candidate| {
            (
                candidate,
                strsim::jaro_winkler(&wanted, &normalize(candidate)),
            )
        })
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_key() {
        let known = ["source", "target", "tableName", "whereClauseCriteria"];
        assert_eq!(closest_match("sourc", known), Some("source"));
        assert_eq!(closest_match("table_name", known), Some("tableName"));
        assert_eq!(closest_match("TARGET", known), Some("target"));
        assert_eq!(closest_match("zzz", known), None);
    }

    #[test]
    fn displays_path_then_message() {
        let p = Problem::new("tables[1].source", "is required");
        assert_eq!(p.to_string(), "tables[1].source is required");
        let mut all = Problems::default();
        all.push("a", "is wrong");
        all.push("b", "is wrong too");
        assert_eq!(all.to_string(), "  - a is wrong\n  - b is wrong too");
    }
}
