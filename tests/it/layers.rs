//! The layering of `src/`: every `crate::` path a module names points at its own stage or a
//! lower one, and no two modules name each other. The stages, lowest first, are listed in
//! [`LEVELS`]; the README's layout section describes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, by stage, lowest first. A module may name modules of its
/// own stage or of a lower one (never one of a higher stage).
const LEVELS: &[&[&str]] = &[
    // The ground floor: digests and fingerprints, atomic writes, the records kept between
    // runs, diagnostics, exit codes.
    &["fingerprint", "atomic", "store", "diagnostic", "exit_code"],
    &["manifest"],
    &["resolve"],
    &["plan"],
    // manifest → resolve → plan chained, for every command.
    &["pipeline"],
    // The artifact cache: looked up before building, stored into after.
    &["cache"],
    // Editing lambda.kdl, and migrating to it from cargo-lambda's configuration.
    &["execute", "package", "edit", "migrate"],
    &["report", "schema"],
    // The release hand-off: the report's zips uploaded to S3, and deploy tools' inputs
    // written from a report. Both read the report as data.
    &["publish", "emit"],
    // The argument types, then parsing and dispatching them.
    &["cli"],
    &["commands"],
];

/// The module path of a source file: `src/execute/group.rs` → `execute::group`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string and char literals (their text can look like
/// paths).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A char literal ('x', '\n') or a lifetime ('a): only the former is skipped.
                let rest: String = chars.clone().take(3).collect();
                let is_char = rest.starts_with('\\') || rest.chars().nth(1) == Some('\'');
                if is_char {
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '\'' => break,
                            _ => {}
                        }
                    }
                }
                out.push('\'');
            }
            c => out.push(c),
        }
    }
    out
}

/// Every module path named after `crate::` or `super::` in `code`, resolved against `module`
/// (the first two segments at most: `crate::execute::events::Event` → `execute::events`).
fn named_modules(module: &[String], code: &str, known: &BTreeSet<Vec<String>>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for (start, keyword) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let base: Vec<String> = if keyword == "crate::" {
            Vec::new()
        } else {
            module[..module.len().saturating_sub(1)].to_vec()
        };
        for path in expand(&code[start + keyword.len()..]) {
            let mut full = base.clone();
            full.extend(path);
            // The longest known module that the path starts with.
            let found = (1..=full.len())
                .rev()
                .map(|n| full[..n].to_vec())
                .find(|m| known.contains(m));
            if let Some(m) = found {
                out.push(m);
            }
        }
    }
    out
}

/// The paths of a `use` tree or path expression: `a::{b, c::d}` → `[a, b]`, `[a, c, d]`.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let ident: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if rest.starts_with('{') {
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &rest[1..end];
        let mut items = Vec::new();
        let (mut depth, mut from) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[from..]);
        return items
            .into_iter()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .flat_map(expand)
            .collect();
    }
    if ident.is_empty() {
        return vec![Vec::new()];
    }
    let after = &rest[ident.len()..];
    match after.strip_prefix("::") {
        Some(more) => expand(more)
            .into_iter()
            .map(|mut p| {
                p.insert(0, ident.clone());
                p
            })
            .collect(),
        None => vec![vec![ident]],
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Which modules each module names.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in &files {
        let module = module_of(&src, f);
        let code = code_only(&std::fs::read_to_string(f).expect("readable file"));
        let named = named_modules(&module, &code, &known);
        edges
            .entry(module.clone())
            .or_default()
            .extend(named.into_iter().filter(|m| *m != module && !m.is_empty()));
    }
    edges
}

/// Fails listing `found` under `what`, unless it is empty.
#[track_caller]
fn expect_none(what: &str, found: &[String]) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

fn level(top: &str) -> Option<usize> {
    LEVELS.iter().position(|l| l.contains(&top))
}

#[test]
fn every_top_level_module_has_a_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let name = name.trim_end_matches(".rs");
        if name == "lib" || name == "main" {
            continue;
        }
        assert!(
            level(name).is_some(),
            "src/{name} is in no stage: add it to LEVELS in tests/it/layers.rs and to the README"
        );
    }
}

#[test]
fn no_module_names_a_module_of_a_higher_stage() {
    let mut upward = Vec::new();
    for (from, tos) in graph() {
        let Some(from_level) = from.first().and_then(|t| level(t)) else {
            continue;
        };
        for to in tos {
            let to_level = level(&to[0]).unwrap_or(usize::MAX);
            if to_level > from_level {
                upward.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    expect_none("imports from a higher stage", &upward);
}

#[test]
fn no_two_modules_name_each_other() {
    let g = graph();
    let mut pairs = Vec::new();
    for (a, tos) in &g {
        for b in tos {
            // A module and the modules inside it (`execute` and `execute::group`) are one unit.
            let nested = a.starts_with(b) || b.starts_with(a);
            if a < b && !nested && g.get(b).is_some_and(|t| t.contains(a)) {
                pairs.push(format!("{} <-> {}", a.join("::"), b.join("::")));
            }
        }
    }
    expect_none("modules that import each other", &pairs);
}

#[test]
fn the_scanner_reads_grouped_and_nested_paths() {
    let known: BTreeSet<Vec<String>> = [
        vec!["execute".to_string()],
        vec!["execute".to_string(), "events".to_string()],
        vec!["plan".to_string()],
    ]
    .into();
    let module = vec!["execute".to_string(), "group".to_string()];
    let code = code_only(
        "use crate::{plan::Group, execute::events::{Event, Cause}};\n// crate::report\nlet s = \"crate::report\";\nuse super::events::Event;\n",
    );
    let named: BTreeSet<Vec<String>> = named_modules(&module, &code, &known).into_iter().collect();
    let want: BTreeSet<Vec<String>> = [
        vec!["plan".to_string()],
        vec!["execute".to_string(), "events".to_string()],
    ]
    .into();
    assert_eq!(named, want);
}
