//! The module dependency graph of one crate, read from its source text, and the cycles in it.
//!
//! Dependencies inside a crate should point one way, as they do between crates. The compiler
//! does not enforce that, so `tests/module_cycles.rs` runs [`crate_cycles`] on every member
//! crate and fails while any cycle is left.
//!
//! How the graph is read (a lexer, not a Rust parser; enough for how this workspace is written):
//!
//! * A module is a file (`lib.rs`/`main.rs` is the crate root, `foo.rs` and `foo/mod.rs` are
//!   `foo`) or an inline `mod foo { … }`. Only modules reachable through `mod` declarations from
//!   the root count. `#[path]` is not followed.
//! * An edge `a -> b` is a path in module `a` that names something in module `b`: `use` trees,
//!   and paths in code, starting with `crate::`, `super::`, `self::` or the name of a child module
//!   of `a`. A path resolves to the deepest module it names, so `crate::queue::SqlExecutor` is an
//!   edge to `queue` (the module that re-exports it), not to `queue::executor`. Paths starting
//!   with anything else (`std::`, other crates) are not edges.
//! * A `mod child;` declaration is not an edge; the parent depends on a child only where it uses
//!   it (`pub use child::X`, `child::f()`). A child that uses its parent's items or re-exports
//!   while the parent uses the child is a cycle: the shared items belong in a leaf module.
//! * Test code is ignored: items under `#[cfg(test)]` (usually `mod tests`, inline or in a
//!   file), since `use super::*` in a test module is the normal way to test a module.
//! * Comments, string and character literals are skipped, so a doc comment naming
//!   [`crate::x`] is not an edge.
//!
//! A strongly connected component can hold several cycles; [`Cycle`]s are chosen so that every
//! edge inside a component shows up in at least one of them, each with the file and line of its
//! first use (and how many more there are).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::io;
use std::path::Path;

/// A module path inside one crate: `[]` is the crate root, `["source", "odbc"]` is
/// `source::odbc`.
pub type ModulePath = Vec<String>;

/// Where a path naming another module is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    /// The file, relative to the crate's `src/` (or prefixed by [`crate_cycles`]).
    pub file: String,
    /// 1-based line of the path's last segment.
    pub line: usize,
}

/// One dependency `from -> to` of a cycle, with the first place that creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: ModulePath,
    pub to: ModulePath,
    pub first_site: Site,
    /// How many other places create the same dependency.
    pub more_sites: usize,
    /// For a dependency between two sibling subtrees, the modules the first site is in and
    /// names (`plan::boundary_rows -> source::dialect` for `plan -> source`).
    pub through: Option<(ModulePath, ModulePath)>,
}

/// A cycle `a -> b -> … -> a`: `edges[i].to == edges[i + 1].from`, the last edge returns to the
/// first module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub edges: Vec<Edge>,
}

impl Cycle {
    /// The modules in order, the first repeated at the end: `["a", "b", "a"]`.
    pub fn module_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.edges.iter().map(|e| module_name(&e.from)).collect();
        if let Some(first) = names.first().cloned() {
            names.push(first);
        }
        names
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.module_names().join(" -> "))?;
        for edge in &self.edges {
            write!(
                f,
                "    {} -> {}: {}:{}",
                module_name(&edge.from),
                module_name(&edge.to),
                edge.first_site.file,
                edge.first_site.line
            )?;
            if let Some((from, to)) = &edge.through {
                write!(f, " ({} -> {})", module_name(from), module_name(to))?;
            }
            if edge.more_sites > 0 {
                write!(f, " (and {} more)", edge.more_sites)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// `crate` for the root, `a::b` otherwise.
pub fn module_name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

/// The module a file holds when it is reached the usual way from the crate root: `lib.rs` and
/// `main.rs` are the root, `foo.rs` and `foo/mod.rs` are `foo`, `foo/bar.rs` is `foo::bar`.
/// `None` for a path that is not a `.rs` file.
pub fn module_path_of(relative_file: &str) -> Option<ModulePath> {
    let without_ext = relative_file.strip_suffix(".rs")?;
    let mut parts: Vec<String> = without_ext.split('/').map(str::to_string).collect();
    match parts.last().map(String::as_str) {
        Some("mod") => {
            parts.pop();
        }
        Some("lib") | Some("main") if parts.len() == 1 => parts.clear(),
        _ => {}
    }
    Some(parts)
}

/// Reads every `.rs` file under `src_dir`, keyed by its path relative to `src_dir` with `/`
/// separators. The only I/O of this module.
pub fn read_sources(src_dir: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![src_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path
                    .strip_prefix(src_dir)
                    .expect("read_dir yields paths under the directory it reads");
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(key, std::fs::read_to_string(&path)?);
            }
        }
    }
    Ok(files)
}

/// The crate roots among `files`: `lib.rs`, `main.rs` and `bin/*.rs`, each a crate of its own.
pub fn crate_roots(files: &BTreeMap<String, String>) -> Vec<String> {
    files
        .keys()
        .filter(|file| {
            file.as_str() == "lib.rs"
                || file.as_str() == "main.rs"
                || (file.starts_with("bin/") && file.matches('/').count() == 1)
        })
        .cloned()
        .collect()
}

/// Every cycle of every crate root under `src_dir`; file names in the report start with
/// `display_prefix` (e.g. `crates/core/src/`).
pub fn crate_cycles(src_dir: &Path, display_prefix: &str) -> io::Result<Vec<Cycle>> {
    let files = read_sources(src_dir)?;
    let mut cycles = Vec::new();
    for root in crate_roots(&files) {
        for mut cycle in cycles_in(&files, &root) {
            for edge in &mut cycle.edges {
                edge.first_site.file = format!("{display_prefix}{}", edge.first_site.file);
            }
            cycles.push(cycle);
        }
    }
    Ok(cycles)
}

/// The cycles of the crate whose root file is `root` (a key of `files`): first those between
/// sibling subtrees (`plan -> source -> plan`, whichever modules inside them the uses are in),
/// then those between single modules.
pub fn cycles_in(files: &BTreeMap<String, String>, root: &str) -> Vec<Cycle> {
    let crate_modules = read_crate(files, root);
    let graph = dependency_graph(&crate_modules);
    let mut cycles: Vec<Cycle> = covering_cycles(&subtree_graph(&graph))
        .into_iter()
        .filter(|cycle| cycle.edges.iter().any(|edge| edge.through.is_some()))
        .collect();
    cycles.extend(covering_cycles(&graph));
    cycles
}

// ---------------------------------------------------------------------------------------------
// Lexer: identifiers, `::` and single punctuation, with line numbers; literals and comments
// dropped.

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    Ident(String),
    PathSep,
    Punct(char),
    /// A string, character or number literal (its text does not matter).
    Literal,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    line: usize,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i = skip_block_comment(&chars, i, &mut line);
        } else if let Some(end) = raw_string_end(&chars, i, &mut line) {
            tokens.push(Token {
                kind: TokenKind::Literal,
                line,
            });
            i = end;
        } else if c == '"' || (c == 'b' && next == Some('"')) {
            let start = if c == 'b' { i + 1 } else { i };
            tokens.push(Token {
                kind: TokenKind::Literal,
                line,
            });
            i = skip_quoted(&chars, start, '"', &mut line);
        } else if c == '\'' || (c == 'b' && next == Some('\'')) {
            let start = if c == 'b' { i + 1 } else { i };
            i = skip_char_or_lifetime(&chars, start, &mut line, &mut tokens);
        } else if c == 'r'
            && next == Some('#')
            && chars.get(i + 2).is_some_and(|&c| is_ident_start(c))
        {
            // A raw identifier `r#type`.
            let end = ident_end(&chars, i + 2);
            tokens.push(Token {
                kind: TokenKind::Ident(chars[i + 2..end].iter().collect()),
                line,
            });
            i = end;
        } else if is_ident_start(c) {
            let end = ident_end(&chars, i);
            tokens.push(Token {
                kind: TokenKind::Ident(chars[i..end].iter().collect()),
                line,
            });
            i = end;
        } else if c.is_ascii_digit() {
            i = ident_end(&chars, i);
            tokens.push(Token {
                kind: TokenKind::Literal,
                line,
            });
        } else if c == ':' && next == Some(':') {
            tokens.push(Token {
                kind: TokenKind::PathSep,
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                kind: TokenKind::Punct(c),
                line,
            });
            i += 1;
        }
    }
    tokens
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn ident_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len() && (chars[i] == '_' || chars[i].is_alphanumeric()) {
        i += 1;
    }
    i
}

/// Block comments nest in Rust.
fn skip_block_comment(chars: &[char], start: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            if chars[i] == '\n' {
                *line += 1;
            }
            i += 1;
        }
    }
    i
}

/// `"…"` with backslash escapes; `start` is the opening quote. Returns the index after the
/// closing quote.
fn skip_quoted(chars: &[char], start: usize, quote: char, line: &mut usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\n' => {
                *line += 1;
                i += 1;
            }
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `r"…"`, `r#"…"#`, `br#"…"#`: the index after the literal, or `None` if none starts here.
fn raw_string_end(chars: &[char], start: usize, line: &mut usize) -> Option<usize> {
    let mut i = start;
    if chars.get(i) == Some(&'b') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    if chars.get(i) != Some(&'"') {
        return None;
    }
    // A raw string cannot follow an identifier character (`bar"` is not `b` + `ar"`).
    if start > 0 && (chars[start - 1] == '_' || chars[start - 1].is_alphanumeric()) {
        return None;
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '\n' {
            *line += 1;
        }
        if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(i)
}

/// `'a'`, `'\n'`, `'\u{1F600}'` are literals; `'a` alone is a lifetime (dropped).
fn skip_char_or_lifetime(
    chars: &[char],
    start: usize,
    line: &mut usize,
    tokens: &mut Vec<Token>,
) -> usize {
    let first = chars.get(start + 1).copied();
    let is_char_literal = first == Some('\\') || chars.get(start + 2) == Some(&'\'');
    if is_char_literal {
        tokens.push(Token {
            kind: TokenKind::Literal,
            line: *line,
        });
        return skip_quoted(chars, start, '\'', line);
    }
    ident_end(chars, start + 1).max(start + 1)
}

// ---------------------------------------------------------------------------------------------
// Reading the modules of a crate.

/// A path written in a module, before it is resolved.
#[derive(Debug, Clone)]
struct Reference {
    segments: Vec<String>,
    site: Site,
}

#[derive(Debug, Default)]
struct ModuleText {
    /// Child modules declared here (not under `#[cfg(test)]`).
    children: BTreeSet<String>,
    references: Vec<Reference>,
}

/// Every module of the crate, reached from `root` through its `mod` declarations.
fn read_crate(files: &BTreeMap<String, String>, root: &str) -> BTreeMap<ModulePath, ModuleText> {
    let mut modules = BTreeMap::new();
    let root_dir = parent_dir(root);
    let mut pending: Vec<(ModulePath, String, String)> =
        vec![(Vec::new(), root.to_string(), root_dir)];
    while let Some((path, file, children_dir)) = pending.pop() {
        let Some(text) = files.get(&file) else {
            modules.entry(path).or_insert_with(ModuleText::default);
            continue;
        };
        let tokens = tokenize(text);
        let mut found = BTreeMap::new();
        scan_module(&tokens, 0, tokens.len(), &path, &file, &mut found);
        let declared: Vec<String> = found[&path].children.iter().cloned().collect();
        for child in declared {
            let child_path: ModulePath = path.iter().cloned().chain([child.clone()]).collect();
            if found.contains_key(&child_path) {
                continue; // an inline module, read with this file
            }
            let as_file = format!("{children_dir}{child}.rs");
            let child_file = if files.contains_key(&as_file) {
                as_file
            } else {
                format!("{children_dir}{child}/mod.rs")
            };
            pending.push((child_path, child_file, format!("{children_dir}{child}/")));
        }
        modules.extend(found);
    }
    modules
}

/// Where the children of a crate root or `mod.rs` live: its own directory (with a trailing `/`).
fn parent_dir(file: &str) -> String {
    match file.rfind('/') {
        Some(slash) => file[..=slash].to_string(),
        None => String::new(),
    }
}

fn ident_at(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i).map(|t| &t.kind) {
        Some(TokenKind::Ident(name)) => Some(name.as_str()),
        _ => None,
    }
}

fn punct_at(tokens: &[Token], i: usize, c: char) -> bool {
    tokens.get(i).map(|t| &t.kind) == Some(&TokenKind::Punct(c))
}

fn path_sep_at(tokens: &[Token], i: usize) -> bool {
    tokens.get(i).map(|t| &t.kind) == Some(&TokenKind::PathSep)
}

/// The index after the bracket that closes the one at `open` (`{`, `[` or `(`), or `end`.
fn matching_close(tokens: &[Token], open: usize, end: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().take(end).skip(open) {
        match token.kind {
            TokenKind::Punct('{') | TokenKind::Punct('[') | TokenKind::Punct('(') => depth += 1,
            TokenKind::Punct('}') | TokenKind::Punct(']') | TokenKind::Punct(')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    end
}

/// The index after the item starting at `start`: after its `;` or its first `{ … }` block,
/// whichever comes first at its own nesting level; never past a `}` that closes the enclosing
/// block.
fn item_end(tokens: &[Token], start: usize, end: usize) -> usize {
    let mut i = start;
    while i < end {
        match tokens[i].kind {
            TokenKind::Punct(';') => return i + 1,
            TokenKind::Punct('{') => return matching_close(tokens, i, end),
            TokenKind::Punct('(') | TokenKind::Punct('[') => i = matching_close(tokens, i, end),
            TokenKind::Punct('}') => return i,
            _ => i += 1,
        }
    }
    end
}

/// The index after the `;` that ends the statement starting at `start` (brackets skipped).
fn statement_end(tokens: &[Token], start: usize, end: usize) -> usize {
    let mut i = start;
    while i < end {
        match tokens[i].kind {
            TokenKind::Punct(';') => return i + 1,
            TokenKind::Punct('{') | TokenKind::Punct('(') | TokenKind::Punct('[') => {
                i = matching_close(tokens, i, end)
            }
            TokenKind::Punct('}') => return i,
            _ => i += 1,
        }
    }
    end
}

/// Whether the attribute whose tokens are `tokens[start..end]` (inside `#[…]`) is a `cfg` that
/// holds only under test: `cfg(test)`, `cfg(all(test, …))`.
fn is_test_cfg(tokens: &[Token], start: usize, end: usize) -> bool {
    if ident_at(tokens, start) != Some("cfg") {
        return false;
    }
    let names: Vec<&str> = (start..end).filter_map(|i| ident_at(tokens, i)).collect();
    names.contains(&"test") && !names.contains(&"not") && !names.contains(&"any")
}

/// Reads the items of module `module` in `tokens[start..end]`, inline child modules included.
fn scan_module(
    tokens: &[Token],
    start: usize,
    end: usize,
    module: &ModulePath,
    file: &str,
    found: &mut BTreeMap<ModulePath, ModuleText>,
) {
    let mut text = ModuleText::default();
    let mut test_only = false;
    let mut i = start;
    while i < end {
        // Attributes: `#[…]` and `#![…]`.
        if punct_at(tokens, i, '#') {
            let open = if punct_at(tokens, i + 1, '!') {
                i + 2
            } else {
                i + 1
            };
            if punct_at(tokens, open, '[') {
                let close = matching_close(tokens, open, end);
                test_only |= is_test_cfg(tokens, open + 1, close.saturating_sub(1));
                i = close;
                continue;
            }
        }
        if test_only {
            test_only = false;
            i = item_end(tokens, i, end);
            continue;
        }
        match ident_at(tokens, i) {
            Some("mod") if ident_at(tokens, i + 1).is_some() => {
                let name = ident_at(tokens, i + 1)
                    .expect("checked in the guard")
                    .to_string();
                text.children.insert(name.clone());
                if punct_at(tokens, i + 2, '{') {
                    let close = matching_close(tokens, i + 2, end);
                    let child: ModulePath = module.iter().cloned().chain([name]).collect();
                    scan_module(tokens, i + 3, close - 1, &child, file, found);
                    i = close;
                } else {
                    i += 2;
                }
            }
            Some("use") => {
                let close = statement_end(tokens, i + 1, end);
                let mut leaves = Vec::new();
                use_tree(tokens, i + 1, close, &[], &mut leaves);
                for (segments, line) in leaves {
                    text.references.push(Reference {
                        segments,
                        site: Site {
                            file: file.to_string(),
                            line,
                        },
                    });
                }
                i = close;
            }
            Some(_) if path_sep_at(tokens, i + 1) && !path_sep_at(tokens, i.wrapping_sub(1)) => {
                let (segments, line, next) = path_in_code(tokens, i, end);
                text.references.push(Reference {
                    segments,
                    site: Site {
                        file: file.to_string(),
                        line,
                    },
                });
                i = next;
            }
            // `$crate::…` in a macro is read as a crate path at `crate`.
            _ => i += 1,
        }
    }
    found.insert(module.clone(), text);
}

/// A path in code, `a::b::c`, starting at `start`: its segments, the line of its last segment
/// and the index after it. A turbofish or a `{` group ends it.
fn path_in_code(tokens: &[Token], start: usize, end: usize) -> (Vec<String>, usize, usize) {
    let mut segments = Vec::new();
    let mut line = tokens[start].line;
    let mut i = start;
    while i < end {
        let Some(name) = ident_at(tokens, i) else {
            break;
        };
        segments.push(name.to_string());
        line = tokens[i].line;
        i += 1;
        if path_sep_at(tokens, i) && ident_at(tokens, i + 1).is_some() {
            i += 1;
        } else {
            break;
        }
    }
    (segments, line, i)
}

/// Expands the use tree in `tokens[start..end]` (after `use`, up to and including `;`) into its
/// leaf paths, each with the line of its last segment. `a::{self, B}` gives `a` and `a::B`;
/// a glob `a::*` gives `a`; `as` renames are dropped.
fn use_tree(
    tokens: &[Token],
    start: usize,
    end: usize,
    prefix: &[String],
    leaves: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    let mut line = tokens.get(start).map_or(0, |t| t.line);
    let mut i = start;
    if path_sep_at(tokens, i) && prefix.is_empty() {
        // `use ::other_crate::…` names another crate.
        return skip_use_tree(tokens, i, end);
    }
    while i < end {
        if let Some(name) = ident_at(tokens, i) {
            // `a::{self}` is `a` itself; a leading `self::` is kept for `resolve`.
            if name != "self" || path.is_empty() {
                path.push(name.to_string());
            }
            line = tokens[i].line;
            i += 1;
            if path_sep_at(tokens, i) {
                i += 1;
                continue;
            }
            if ident_at(tokens, i) == Some("as") {
                i += 2;
            }
            leaves.push((path, line));
            return i;
        }
        if punct_at(tokens, i, '*') {
            leaves.push((path, tokens[i].line));
            return i + 1;
        }
        if punct_at(tokens, i, '{') {
            let close = matching_close(tokens, i, end);
            let mut j = i + 1;
            while j < close - 1 {
                if punct_at(tokens, j, ',') {
                    j += 1;
                    continue;
                }
                let next = use_tree(tokens, j, close - 1, &path, leaves);
                j = next.max(j + 1);
            }
            return close;
        }
        // `;`, `,` or `}`: the tree ends.
        break;
    }
    if path.len() > prefix.len() {
        leaves.push((path, line));
    }
    i
}

fn skip_use_tree(tokens: &[Token], start: usize, end: usize) -> usize {
    let mut i = start;
    while i < end && !punct_at(tokens, i, ',') && !punct_at(tokens, i, ';') {
        if punct_at(tokens, i, '{') {
            i = matching_close(tokens, i, end);
        } else {
            i += 1;
        }
    }
    i
}

// ---------------------------------------------------------------------------------------------
// The graph and its cycles.

/// One use of a module in another: where, and which modules (for an edge between subtrees
/// these are modules inside them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    site: Site,
    from: ModulePath,
    to: ModulePath,
}

type Graph = BTreeMap<ModulePath, BTreeMap<ModulePath, Vec<Use>>>;

/// The module a path names: `crate::`, `super::`, `self::` or a child module's name, then as
/// many segments as name modules. `None` for a path into another crate (or an item of the
/// module itself).
fn resolve(
    modules: &BTreeMap<ModulePath, ModuleText>,
    from: &ModulePath,
    segments: &[String],
) -> Option<ModulePath> {
    let mut rest = segments.iter().peekable();
    let mut base: ModulePath = match rest.peek().map(|s| s.as_str()) {
        Some("crate") => {
            rest.next();
            Vec::new()
        }
        Some("super") | Some("self") => from.clone(),
        Some(first)
            if modules
                .get(from)
                .is_some_and(|m| m.children.contains(first)) =>
        {
            from.clone()
        }
        _ => return None,
    };
    for segment in rest {
        match segment.as_str() {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            name => {
                let mut deeper = base.clone();
                deeper.push(name.to_string());
                if !modules.contains_key(&deeper) {
                    break;
                }
                base = deeper;
            }
        }
    }
    Some(base)
}

fn dependency_graph(modules: &BTreeMap<ModulePath, ModuleText>) -> Graph {
    let mut graph: Graph = modules
        .keys()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for (from, text) in modules {
        for reference in &text.references {
            let Some(to) = resolve(modules, from, &reference.segments) else {
                continue;
            };
            if &to == from {
                continue;
            }
            graph
                .get_mut(from)
                .expect("every module is a node")
                .entry(to.clone())
                .or_default()
                .push(Use {
                    site: reference.site.clone(),
                    from: from.clone(),
                    to,
                });
        }
    }
    graph
}

/// The graph between sibling subtrees: a use from anywhere under `a::x` of anything under
/// `a::y` is an edge `a::x -> a::y`. Uses between a module and its own descendants or
/// ancestors stay in the module graph only.
fn subtree_graph(graph: &Graph) -> Graph {
    let mut lifted: Graph = BTreeMap::new();
    for uses in graph.values().flat_map(BTreeMap::values) {
        for one_use in uses {
            let (from, to) = (&one_use.from, &one_use.to);
            let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue;
            }
            let from_subtree = from[..=common].to_vec();
            let to_subtree = to[..=common].to_vec();
            lifted.entry(to_subtree.clone()).or_default();
            lifted
                .entry(from_subtree)
                .or_default()
                .entry(to_subtree)
                .or_default()
                .push(one_use.clone());
        }
    }
    lifted
}

/// Strongly connected components with more than one module (Tarjan), each sorted.
fn components(graph: &Graph) -> Vec<BTreeSet<ModulePath>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g ModulePath, usize>,
        low: BTreeMap<&'g ModulePath, usize>,
        stack: Vec<&'g ModulePath>,
        on_stack: BTreeSet<&'g ModulePath>,
        found: Vec<BTreeSet<ModulePath>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g ModulePath) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph[node].keys() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.insert(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// The shortest path `from -> … -> to` inside `component` (breadth first), as modules.
fn shortest_path(
    graph: &Graph,
    component: &BTreeSet<ModulePath>,
    from: &ModulePath,
    to: &ModulePath,
) -> Option<Vec<ModulePath>> {
    let mut previous: BTreeMap<&ModulePath, &ModulePath> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![to.clone()];
            let mut at = to;
            while let Some(&before) = previous.get(at) {
                path.push(before.clone());
                at = before;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph[node].keys().filter(|n| component.contains(*n)) {
            if seen.insert(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Cycles such that every edge inside a strongly connected component is in at least one.
fn covering_cycles(graph: &Graph) -> Vec<Cycle> {
    let mut cycles = Vec::new();
    for component in components(graph) {
        let mut uncovered: BTreeSet<(&ModulePath, &ModulePath)> = component
            .iter()
            .flat_map(|from| {
                graph[from]
                    .keys()
                    .filter(|to| component.contains(*to))
                    .map(move |to| (from, to))
            })
            .collect();
        while let Some(&(from, to)) = uncovered.iter().next() {
            let back = shortest_path(graph, &component, to, from)
                .expect("every module of a component reaches every other");
            let mut modules = vec![from.clone()];
            modules.extend(back);
            let edges: Vec<Edge> = modules
                .windows(2)
                .map(|pair| {
                    let uses = &graph[&pair[0]][&pair[1]];
                    let first = uses.iter().min().expect("an edge has a use");
                    let lifted = first.from != pair[0] || first.to != pair[1];
                    Edge {
                        from: pair[0].clone(),
                        to: pair[1].clone(),
                        first_site: first.site.clone(),
                        more_sites: uses.len() - 1,
                        through: lifted.then(|| (first.from.clone(), first.to.clone())),
                    }
                })
                .collect();
            for edge in &edges {
                uncovered.retain(|&(f, t)| !(f == &edge.from && t == &edge.to));
            }
            cycles.push(Cycle { edges });
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect()
    }

    fn cycle_names(files: &[(&str, &str)]) -> Vec<String> {
        cycles_in(&crate_of(files), "lib.rs")
            .iter()
            .map(|c| c.module_names().join(" -> "))
            .collect()
    }

    #[test]
    fn files_map_to_module_paths() {
        assert_eq!(module_path_of("lib.rs"), Some(vec![]));
        assert_eq!(module_path_of("main.rs"), Some(vec![]));
        assert_eq!(module_path_of("foo.rs"), Some(vec!["foo".to_string()]));
        assert_eq!(module_path_of("foo/mod.rs"), Some(vec!["foo".to_string()]));
        assert_eq!(
            module_path_of("foo/bar.rs"),
            Some(vec!["foo".to_string(), "bar".to_string()])
        );
        assert_eq!(
            module_path_of("foo/lib.rs"),
            Some(vec!["foo".to_string(), "lib".to_string()])
        );
        assert_eq!(module_path_of("foo.txt"), None);
    }

    #[test]
    fn two_siblings_using_each_other_are_a_cycle_with_file_and_line() {
        let cycles = cycles_in(
            &crate_of(&[
                ("lib.rs", "mod a;\nmod b;\n"),
                ("a.rs", "//! a\nuse crate::b::Thing;\n"),
                (
                    "b/mod.rs",
                    "\n\npub fn f() { crate::a::g(); crate::a::h(); }\n",
                ),
            ]),
            "lib.rs",
        );
        assert_eq!(cycles.len(), 1);
        assert_eq!(
            cycles[0].to_string(),
            "a -> b -> a\n    a -> b: a.rs:2\n    b -> a: b/mod.rs:3 (and 1 more)\n"
        );
    }

    #[test]
    fn a_one_way_dependency_is_no_cycle() {
        assert!(cycle_names(&[
            ("lib.rs", "pub mod a;\npub mod b;\npub use a::X;\n"),
            ("a.rs", "use crate::b::Y;\npub struct X(Y);\n"),
            ("b.rs", "pub struct Y;\n"),
        ])
        .is_empty());
    }

    #[test]
    fn a_mod_declaration_is_no_edge_but_a_child_using_its_parent_back_is_a_cycle() {
        let declared_only = [
            ("lib.rs", "mod child;\npub struct Shared;\n"),
            ("child.rs", "use super::Shared;\n"),
        ];
        assert!(cycle_names(&declared_only).is_empty());

        let re_exported = [
            (
                "lib.rs",
                "mod child;\npub use child::X;\npub struct Shared;\n",
            ),
            ("child.rs", "use super::Shared;\npub struct X;\n"),
        ];
        assert_eq!(cycle_names(&re_exported), ["crate -> child -> crate"]);
    }

    #[test]
    fn a_child_using_its_sibling_through_the_parent_re_export_is_a_cycle() {
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod queue;\n"),
                (
                    "queue/mod.rs",
                    "mod executor;\nmod task;\npub use executor::Exec;\n"
                ),
                ("queue/executor.rs", "pub trait Exec {}\n"),
                ("queue/task.rs", "use crate::queue::Exec;\n"),
            ]),
            Vec::<String>::new(),
            "the parent does not use task: no cycle"
        );
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod queue;\n"),
                (
                    "queue/mod.rs",
                    "mod executor;\nmod task;\npub use executor::Exec;\npub use task::Task;\n"
                ),
                ("queue/executor.rs", "pub trait Exec {}\n"),
                (
                    "queue/task.rs",
                    "use crate::queue::Exec;\npub struct Task;\n"
                ),
            ]),
            ["queue -> queue::task -> queue"]
        );
    }

    #[test]
    fn paths_resolve_to_the_deepest_module_they_name() {
        let files = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a/mod.rs", "pub mod inner;\n"),
            ("a/inner.rs", "use crate::b::Item;\n"),
            (
                "b.rs",
                "use crate::a::inner::deeper::Missing;\npub struct Item;\n",
            ),
        ]);
        let cycles = cycles_in(&files, "lib.rs");
        assert_eq!(cycles.len(), 2);
        assert_eq!(cycles[0].module_names(), ["a", "b", "a"]);
        assert_eq!(cycles[1].module_names(), ["a::inner", "b", "a::inner"]);
    }

    #[test]
    fn super_and_self_resolve_relative_to_the_module() {
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod a;\nmod b;\n"),
                ("a/mod.rs", "mod x;\n"),
                ("a/x.rs", "use super::super::b;\n"),
                ("b/mod.rs", "mod y;\n"),
                ("b/y.rs", "fn f() { super::super::a::x::g() }\n"),
            ]),
            ["a -> b -> a"],
            "b does not use b::y: a cycle between the subtrees only"
        );
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod a;\nmod b;\n"),
                ("a/mod.rs", "mod x;\n"),
                ("a/x.rs", "use super::super::b;\n"),
                ("b/mod.rs", "mod y;\npub use self::y::g;\n"),
                ("b/y.rs", "fn g() { super::super::a::x::h() }\n"),
            ]),
            ["a -> b -> a", "a::x -> b -> b::y -> a::x"]
        );
    }

    #[test]
    fn a_child_module_named_at_the_start_of_a_path_is_an_edge() {
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod a;\nmod b;\nfn f() { a::run(); }\n"),
                ("a.rs", "pub fn run() { super::g(); }\n"),
                ("b.rs", "use std::fmt;\nuse serde::Serialize;\n"),
            ]),
            ["crate -> a -> crate"]
        );
    }

    #[test]
    fn use_groups_self_globs_and_renames_are_expanded() {
        let files = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\n"),
            (
                "a.rs",
                "use crate::{\n    b::{self, Y as Z},\n    c::*,\n};\nuse crate::d as dd;\nuse ::d::X;\n",
            ),
            ("b.rs", "use crate::a::A;\n"),
            ("c.rs", "use crate::a;\n"),
            ("d.rs", "use crate::a;\n"),
        ]);
        let cycles = cycles_in(&files, "lib.rs");
        let names: Vec<Vec<String>> = cycles.iter().map(Cycle::module_names).collect();
        assert_eq!(
            names,
            [
                vec!["a", "b", "a"],
                vec!["a", "c", "a"],
                vec!["a", "d", "a"]
            ]
        );
        assert_eq!(cycles[0].edges[0].first_site.line, 2);
        assert_eq!(cycles[1].edges[0].first_site.line, 3);
    }

    #[test]
    fn test_modules_and_test_only_items_are_ignored() {
        assert!(cycle_names(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::B;\n#[cfg(test)]\nmod tests;\n"),
            ("a/tests.rs", "use crate::b::x;\nuse super::*;\n"),
            (
                "b.rs",
                "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::*;\n    fn f() { crate::a::g() }\n}\n\
                 #[cfg(test)]\nuse crate::a::A;\n#[cfg(all(test, unix))]\nfn helper() { crate::a::h() }\n",
            ),
        ])
        .is_empty());
    }

    #[test]
    fn a_cfg_that_is_not_test_only_is_read() {
        assert_eq!(
            cycle_names(&[
                ("lib.rs", "mod a;\nmod b;\n"),
                ("a.rs", "use crate::b::B;\n"),
                ("b.rs", "#[cfg(not(test))]\nuse crate::a::A;\n"),
            ]),
            ["a -> b -> a"]
        );
    }

    #[test]
    fn comments_strings_chars_and_lifetimes_are_no_paths() {
        assert!(cycle_names(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::B;\n"),
            (
                "b.rs",
                "//! See [`crate::a::A`].\n/* crate::a /* nested */ crate::a */\n\
                 fn f<'a>(x: &'a str) -> char { let _ = \"crate::a::x\"; let _ = r#\"crate::a \"# ; '\\'' }\n\
                 const C: char = '{';\nfn g() { let _ = b\"crate::a\"; }\n",
            ),
        ])
        .is_empty());
    }

    #[test]
    fn inline_modules_are_modules_of_their_own() {
        assert_eq!(
            cycle_names(&[
                (
                    "lib.rs",
                    "mod a;\nmod b {\n    pub fn f() { super::a::g() }\n}\n"
                ),
                ("a.rs", "pub fn g() { crate::b::f() }\n"),
            ]),
            ["a -> b -> a"]
        );
    }

    #[test]
    fn every_edge_of_a_component_shows_in_some_cycle() {
        let cycles = cycles_in(
            &crate_of(&[
                ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
                ("a.rs", "use crate::b::X;\nuse crate::c::Y;\n"),
                ("b.rs", "use crate::a::Z;\n"),
                ("c.rs", "use crate::b::W;\n"),
            ]),
            "lib.rs",
        );
        let names: Vec<String> = cycles
            .iter()
            .map(|c| c.module_names().join(" -> "))
            .collect();
        assert_eq!(names, ["a -> b -> a", "a -> c -> b -> a"]);
    }

    #[test]
    fn uses_between_modules_inside_two_subtrees_are_a_cycle_of_the_subtrees() {
        let cycles = cycles_in(
            &crate_of(&[
                ("lib.rs", "mod plan;\nmod source;\n"),
                (
                    "plan/mod.rs",
                    "pub mod key_value;\npub mod boundary_rows;\n",
                ),
                ("plan/key_value.rs", "pub struct KeyValue;\n"),
                (
                    "plan/boundary_rows.rs",
                    "use crate::source::dialect::Column;\n",
                ),
                ("source/mod.rs", "pub mod dialect;\npub mod analyze;\n"),
                (
                    "source/dialect.rs",
                    "use crate::plan::key_value::KeyValue;\n",
                ),
                (
                    "source/analyze.rs",
                    "use crate::plan::boundary_rows::rows;\n",
                ),
            ]),
            "lib.rs",
        );
        assert_eq!(
            cycles.len(),
            1,
            "no cycle between single modules: {cycles:?}"
        );
        assert_eq!(
            cycles[0].to_string(),
            "plan -> source -> plan\n    \
             plan -> source: plan/boundary_rows.rs:1 (plan::boundary_rows -> source::dialect)\n    \
             source -> plan: source/analyze.rs:1 (source::analyze -> plan::boundary_rows) (and 1 more)\n"
        );
    }

    #[test]
    fn crate_roots_are_lib_main_and_bins() {
        let files = crate_of(&[
            ("lib.rs", ""),
            ("main.rs", ""),
            ("bin/tool.rs", ""),
            ("bin/tool/part.rs", ""),
            ("other.rs", ""),
        ]);
        assert_eq!(crate_roots(&files), ["bin/tool.rs", "lib.rs", "main.rs"]);
    }
}
