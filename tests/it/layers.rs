//! The layering of `src/`: every `crate::` path a module names points at its own stage or a
//! lower one, no modules name each other in a loop (of two modules or more), and each stage's
//! surface is its `mod.rs`: a module inside a stage is private unless [`PUBLIC`] lists it.
//! The stages, lowest first, are listed in [`LEVELS`]; the README's layout section describes
//! them. The checks read a source tree given to them, so that they are also shown to fail, on
//! small trees written for the purpose.

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
    // The cache's upkeep: `cache stats` and `cache prune`, reading the cache as data.
    &["upkeep"],
    // The release hand-off: the report's zips uploaded to S3, deploy tools' inputs written
    // from a report, each output's bill of materials, and the run's provenance. Each reads
    // the report as data. Deploying to Lambda reads the plan and the report the same way.
    &["publish", "emit", "deploy", "sbom", "provenance"],
    // The argument types, then parsing and dispatching them.
    &["cli"],
    &["commands"],
];

/// The modules inside a stage that are public (`pub mod`), each on purpose: the settings, their
/// kinds, the vocabulary and values of the manifest, the plan's shards and state layout, every printer of `report`,
/// the KDL schema, the steps of the migration from cargo-lambda, and one module per editing
/// operation and per subcommand (`::*`: every module directly inside). Every other module
/// inside a stage is private, and what other stages use of it is re-exported by the stage's
/// `mod.rs`.
const PUBLIC: &[&str] = &[
    "manifest::kinds",
    "manifest::settings",
    "manifest::limits",
    "manifest::spec",
    "manifest::values",
    "plan::shard",
    "plan::state",
    "report::diagnostics",
    "report::diff",
    "report::github",
    "report::output",
    "report::plan_json",
    "report::progress",
    "report::run_report",
    "report::summary",
    "report::table",
    "report::timeline",
    "report::timeline::*",
    "schema::kdl",
    "migrate::cargo_lambda",
    "migrate::import",
    "migrate::init",
    "migrate::init::render",
    "migrate::init::scan",
    "migrate::translate",
    "edit::*",
    "commands::*",
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

/// The crate's `src/`.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the tree at `src` with its code (comments and literals removed).
fn modules(src: &Path) -> Vec<(Vec<String>, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("readable file");
            (module_of(src, f), code_only(&text))
        })
        .collect()
}

/// Which modules each module of the tree at `src` names.
fn graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules(src);
    let known: BTreeSet<Vec<String>> = modules.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &modules {
        let named = named_modules(module, code, &known);
        edges
            .entry(module.clone())
            .or_default()
            .extend(named.into_iter().filter(|m| m != module && !m.is_empty()));
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

/// Every import of the tree at `src` from a higher stage, as `from -> to`.
fn upward_imports(src: &Path) -> Vec<String> {
    let mut upward = Vec::new();
    for (from, tos) in graph(src) {
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
    upward
}

/// Every loop of modules that name each other in the tree at `src` (a strongly connected
/// set of two modules or more), shown as one cycle through it: `a -> b -> c -> a`. A module
/// and the modules inside it (`execute` and `execute::group`) are one unit: their names of
/// each other are not edges.
fn loops(src: &Path) -> Vec<String> {
    let nested = |a: &[String], b: &[String]| a.starts_with(b) || b.starts_with(a);
    let g: BTreeMap<Vec<String>, Vec<Vec<String>>> = graph(src)
        .into_iter()
        .map(|(a, tos)| {
            let tos = tos.into_iter().filter(|b| !nested(&a, b)).collect();
            (a, tos)
        })
        .collect();
    // Kosaraju: finish order on the graph, then components on the reversed one.
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for start in g.keys() {
        let mut stack = vec![(start.clone(), 0)];
        if !seen.insert(start.clone()) {
            continue;
        }
        while let Some((node, next)) = stack.pop() {
            let tos = g.get(&node).map(Vec::as_slice).unwrap_or_default();
            if let Some(to) = tos.get(next) {
                stack.push((node, next + 1));
                if seen.insert(to.clone()) {
                    stack.push((to.clone(), 0));
                }
            } else {
                order.push(node);
            }
        }
    }
    let mut reversed: BTreeMap<&Vec<String>, Vec<&Vec<String>>> = BTreeMap::new();
    for (a, tos) in &g {
        for b in tos {
            reversed.entry(b).or_default().push(a);
        }
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for start in order.iter().rev() {
        if !assigned.insert(start) {
            continue;
        }
        let mut component = BTreeSet::from([start]);
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for &from in reversed.get(node).map(Vec::as_slice).unwrap_or_default() {
                if assigned.insert(from) {
                    component.insert(from);
                    stack.push(from);
                }
            }
        }
        if component.len() > 1 {
            found.push(cycle_through(&g, &component));
        }
    }
    found.sort();
    found
}

/// The shortest cycle from the first module of `component` back to it, inside it.
fn cycle_through(
    g: &BTreeMap<Vec<String>, Vec<Vec<String>>>,
    component: &BTreeSet<&Vec<String>>,
) -> String {
    let first = *component.first().expect("a module");
    let mut came_from: BTreeMap<&Vec<String>, &Vec<String>> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([first]);
    let mut last = None;
    'search: while let Some(node) = queue.pop_front() {
        for to in g.get(node).map(Vec::as_slice).unwrap_or_default() {
            if !component.contains(to) {
                continue;
            }
            if to == first {
                last = Some(node);
                break 'search;
            }
            if !came_from.contains_key(to) {
                came_from.insert(to, node);
                queue.push_back(to);
            }
        }
    }
    let mut path = vec![first];
    let mut node = last.expect("a module of a loop reaches itself");
    while node != first {
        path.push(node);
        node = came_from[node];
    }
    path[1..].reverse();
    path.push(first);
    path.iter()
        .map(|m| m.join("::"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Every `pub mod` below the top level of the tree at `src` that [`PUBLIC`] does not list.
fn unlisted_public_modules(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (module, code) in modules(src) {
        if module.is_empty() {
            // lib.rs: its modules are the stages.
            continue;
        }
        let words: Vec<&str> = code.split_whitespace().collect();
        for w in words.windows(3) {
            if w[0] != "pub" || w[1] != "mod" {
                continue;
            }
            let name: String = w[2]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let path = format!("{}::{name}", module.join("::"));
            let parent = module.join("::");
            let listed = PUBLIC
                .iter()
                .any(|p| *p == path || p.strip_suffix("::*") == Some(parent.as_str()));
            if !listed {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn every_top_level_module_has_a_stage() {
    for entry in std::fs::read_dir(src()).unwrap() {
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
    expect_none("imports from a higher stage", &upward_imports(&src()));
}

#[test]
fn no_modules_name_each_other_in_a_loop() {
    expect_none("modules that import each other", &loops(&src()));
}

#[test]
fn a_module_inside_a_stage_is_private_unless_listed() {
    expect_none(
        "public modules inside a stage that PUBLIC does not list (make them private and \
         re-export what other stages use from the stage's mod.rs, or list them)",
        &unlisted_public_modules(&src()),
    );
}

/// The checks, given a tree with an import from a higher stage, a loop of three modules (no
/// two of which name each other) and an unlisted public module, find each of them.
#[test]
fn the_checks_fail_on_a_tree_that_breaks_each_rule() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for (file, text) in [
        (
            "lib.rs",
            "pub mod manifest;\npub mod plan;\npub mod execute;\npub mod package;\npub mod edit;\n",
        ),
        // manifest is below plan.
        ("manifest/mod.rs", "use crate::plan::Plan;\n"),
        (
            "plan/mod.rs",
            "mod split;\npub mod secret;\npub struct Plan;\n",
        ),
        ("plan/split.rs", "use super::Plan;\n"),
        ("plan/secret.rs", "pub struct Secret;\n"),
        // One stage, three modules: execute -> package -> edit -> execute.
        ("execute/mod.rs", "mod run;\n"),
        (
            "execute/run.rs",
            "use crate::package::zip;\npub fn run() {}\n",
        ),
        (
            "package/mod.rs",
            "pub(crate) use crate::edit::text as zip;\n",
        ),
        (
            "edit/mod.rs",
            "pub fn text() {\n    crate::execute::run::run();\n}\n",
        ),
    ] {
        let path = src.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    assert_eq!(upward_imports(&src), ["manifest -> plan"]);
    assert_eq!(
        loops(&src),
        ["edit -> execute::run -> package -> edit"],
        "{:#?}",
        graph(&src)
    );
    assert_eq!(unlisted_public_modules(&src), ["plan::secret"]);
    // A module and the modules inside it are one unit, never a loop.
    std::fs::write(src.join("execute/mod.rs"), "mod run;\npub use run::run;\n").unwrap();
    std::fs::write(
        src.join("execute/run.rs"),
        "use super::helper;\npub fn run() {}\n",
    )
    .unwrap();
    assert_eq!(loops(&src), Vec::<String>::new());
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
