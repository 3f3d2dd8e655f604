//! SQL text as it is stored in `sql/`: object-name templates, scripts split into single
//! statements, and named placeholders.
//!
//! - Templates: `{{database}}`, `{{migration}}` and `{{validation}}` stand for the metadata
//!   database and the two fully qualified metadata schemas ([`MetadataNames`]).
//! - Scripts: a file holds several statements separated by `;`. Snowflake's SQL API and the
//!   emulator both take one statement per request, so [`split_statements`] cuts them apart,
//!   aware of string literals, quoted identifiers, comments and `$$` bodies.
//! - Placeholders: `:name` marks a value. A `:` directly after an identifier, `)` or `]` is
//!   Snowflake's VARIANT path syntax (`t.value:kind`) and `::` is a cast; neither is a
//!   placeholder. Snowflake Scripting references variables the same way (`:name`), which is
//!   what lets one statement text serve both a client transaction and a stored procedure.

use crate::metadata_names::{MetadataNames, MetadataNamesSql};

/// A named placeholder found in a statement, as a byte range of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    /// Byte offset of the `:`.
    pub start: usize,
    /// Byte offset just after the name.
    pub end: usize,
}

/// Replaces the object-name templates with the configured names.
pub fn render_template(sql: &str, names: &MetadataNames) -> String {
    sql.replace("{{database}}", &names.database_sql())
        .replace("{{migration}}", &names.migration_schema_sql())
        .replace("{{validation}}", &names.validation_schema_sql())
}

/// A one-statement file of `sql/metadata/deploy/` ready to send: names rendered, comments
/// left out (so an error shows the statement's first line, not its documentation).
pub fn statement_text(file_text: &str, names: &MetadataNames) -> String {
    strip_comments(&render_template(file_text, names))
}

/// Splits a script into its statements, without the separating `;`, trimmed; statements that
/// hold nothing but comments are dropped.
pub fn split_statements(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut start = 0;
    for (offset, kind) in Scanner::new(script) {
        if kind == Token::Semicolon {
            push_statement(&mut statements, &script[start..offset]);
            start = offset + 1;
        }
    }
    push_statement(&mut statements, &script[start..]);
    statements
}

fn push_statement(statements: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !strip_comments(text).trim().is_empty() {
        statements.push(text.to_owned());
    }
}

/// The text without `--` and `/* */` comments (string literals are kept as they are).
pub fn strip_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (offset, kind) in Scanner::new(sql) {
        if let Token::Comment { end } = kind {
            out.push_str(&sql[last..offset]);
            last = end;
        }
    }
    out.push_str(&sql[last..]);
    // Lines that held only a comment leave blank lines behind: drop them.
    out.lines()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every named placeholder of a statement, in text order (repeats included).
pub fn placeholders(sql: &str) -> Vec<Placeholder> {
    Scanner::new(sql)
        .filter_map(|(start, kind)| match kind {
            Token::Placeholder { end } => Some(Placeholder {
                name: sql[start + 1..end].to_ascii_lowercase(),
                start,
                end,
            }),
            _ => None,
        })
        .collect()
}

/// Replaces every placeholder with what `replacement` returns for its (lowercase) name.
pub fn replace_placeholders(sql: &str, mut replacement: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for placeholder in placeholders(sql) {
        out.push_str(&sql[last..placeholder.start]);
        out.push_str(&replacement(&placeholder.name));
        last = placeholder.end;
    }
    out.push_str(&sql[last..]);
    out
}

/// A statement with `?` in place of its named placeholders, and the names in binding order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionalStatement {
    pub sql: String,
    pub parameter_names: Vec<String>,
}

/// Rewrites named placeholders to positional `?` (each occurrence is its own parameter).
pub fn to_positional(sql: &str) -> PositionalStatement {
    let mut parameter_names = Vec::new();
    let sql = replace_placeholders(sql, |name| {
        parameter_names.push(name.to_owned());
        "?".to_owned()
    });
    PositionalStatement {
        sql,
        parameter_names,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Semicolon,
    Comment { end: usize },
    Placeholder { end: usize },
}

/// A small lexer that yields only what the functions above need: statement separators,
/// comments and placeholders, each with its byte offset. Everything inside string literals,
/// quoted identifiers and `$$` bodies is skipped.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            position: 0,
        }
    }

    fn byte(&self, offset: usize) -> Option<u8> {
        self.bytes.get(offset).copied()
    }

    /// Skips past the closing `quote` of a literal that starts at `self.position`.
    /// Inside single quotes a backslash escapes the next character (Snowflake's rule).
    fn skip_quoted(&mut self, quote: u8) {
        let mut offset = self.position + 1;
        while let Some(byte) = self.byte(offset) {
            if quote == b'\'' && byte == b'\\' {
                offset += 2;
                continue;
            }
            if byte == quote {
                // A doubled quote is an escaped quote.
                if self.byte(offset + 1) == Some(quote) {
                    offset += 2;
                    continue;
                }
                offset += 1;
                break;
            }
            offset += 1;
        }
        self.position = offset.min(self.bytes.len());
    }
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

impl Iterator for Scanner<'_> {
    type Item = (usize, Token);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(byte) = self.byte(self.position) {
            let start = self.position;
            match byte {
                b'\'' | b'"' => self.skip_quoted(byte),
                b'$' if self.byte(start + 1) == Some(b'$') => {
                    let body = start + 2;
                    let end = self.text[body..]
                        .find("$$")
                        .map_or(self.bytes.len(), |found| body + found + 2);
                    self.position = end;
                }
                b'-' if self.byte(start + 1) == Some(b'-') => {
                    let end = self.text[start..]
                        .find('\n')
                        .map_or(self.bytes.len(), |found| start + found);
                    self.position = end;
                    return Some((start, Token::Comment { end }));
                }
                b'/' if self.byte(start + 1) == Some(b'*') => {
                    let end = self.text[start + 2..]
                        .find("*/")
                        .map_or(self.bytes.len(), |found| start + 2 + found + 2);
                    self.position = end;
                    return Some((start, Token::Comment { end }));
                }
                b';' => {
                    self.position += 1;
                    return Some((start, Token::Semicolon));
                }
                b':' => {
                    if self.byte(start + 1) == Some(b':') {
                        // `::TYPE` cast
                        self.position += 2;
                        continue;
                    }
                    // `t.value:kind` has no space before the colon; `WHEN :flag` does.
                    let after_value = start
                        .checked_sub(1)
                        .and_then(|previous| self.byte(previous))
                        .is_some_and(|previous| {
                            is_identifier_byte(previous) || previous == b')' || previous == b']'
                        });
                    let starts_name = self
                        .byte(start + 1)
                        .is_some_and(|next| next.is_ascii_alphabetic() || next == b'_');
                    self.position += 1;
                    if after_value || !starts_name {
                        // VARIANT path access such as `t.value:kind`
                        continue;
                    }
                    let mut end = start + 1;
                    while self.byte(end).is_some_and(is_identifier_byte) {
                        end += 1;
                    }
                    self.position = end;
                    return Some((start, Token::Placeholder { end }));
                }
                _ => self.position += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_literals_comments_and_bodies() {
        let script = "CREATE TABLE A (X VARCHAR DEFAULT ';');\n\
                      -- a comment; with a semicolon\n\
                      SELECT 'it''s; here', \"odd;name\" FROM A;\n\
                      CREATE PROCEDURE P() RETURNS INT LANGUAGE SQL AS $$ BEGIN RETURN 1; END; $$;\n\
                      /* only a comment; */";
        let statements = split_statements(script);
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert_eq!(statements[0], "CREATE TABLE A (X VARCHAR DEFAULT ';')");
        assert!(statements[1].ends_with("FROM A"));
        assert!(statements[2].ends_with("END; $$"));
    }

    #[test]
    fn backslash_escapes_inside_literals() {
        let statements = split_statements("SELECT 'a\\';b'; SELECT 2");
        assert_eq!(statements, vec!["SELECT 'a\\';b'", "SELECT 2"]);
    }

    #[test]
    fn placeholders_are_told_apart_from_paths_and_casts() {
        let sql = "SELECT t.value:kind::VARCHAR, :now, (:tasks), x = :Task_Id, WHEN :flag, \
                   v[0]:a, f(x):b, ':not_me' -- :nor_me\nFROM T WHERE a=:last";
        let names: Vec<String> = placeholders(sql).into_iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["now", "tasks", "task_id", "flag", "last"]);
    }

    #[test]
    fn positional_rewrite_keeps_order_and_repeats() {
        let statement = to_positional("UPDATE T SET A = :a WHERE B = :b OR C = :a");
        assert_eq!(statement.sql, "UPDATE T SET A = ? WHERE B = ? OR C = ?");
        assert_eq!(statement.parameter_names, vec!["a", "b", "a"]);
    }

    #[test]
    fn strip_comments_keeps_literals() {
        let sql = "SELECT '--not a comment' -- a comment\n/* block */ FROM T";
        assert_eq!(strip_comments(sql), "SELECT '--not a comment' \n FROM T");
    }

    #[test]
    fn template_uses_the_configured_names() {
        let names = MetadataNames {
            database: "meta".into(),
            data_migration_schema: "dm".into(),
            data_validation_schema: "dv".into(),
        };
        assert_eq!(
            render_template("{{database}} {{migration}}.T {{validation}}.V", &names),
            "META META.DM.T META.DV.V"
        );
    }
}
