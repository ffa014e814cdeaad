//! The corpus of broken manifests under tests/manifests/broken: each file ends with
//! `// expect: KIND LINE:COL MESSAGE` lines (and optional `expect-help:` / `expect-label:`), and
//! `lambda-batch check` must exit 2 with exactly those diagnostics, at those places.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::test::{Invocation, repo};

fn corpus(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/manifests")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    files
}

struct Expect {
    kind: String,
    line: u64,
    column: u64,
    message: String,
}

/// A secondary label expected at a line and column.
type LabelAt = (u64, u64, String);

fn expectations(text: &str) -> (Vec<Expect>, Vec<String>, Vec<LabelAt>) {
    let mut expects = Vec::new();
    let mut helps = Vec::new();
    let mut labels = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("// expect: ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap().to_string();
            let (l, c) = parts.next().unwrap().split_once(':').unwrap();
            expects.push(Expect {
                kind,
                line: l.parse().unwrap(),
                column: c.parse().unwrap(),
                message: parts.next().unwrap().to_string(),
            });
        } else if let Some(rest) = line.strip_prefix("// expect-help: ") {
            helps.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("// expect-label: ") {
            let (pos, label) = rest.split_once(' ').unwrap();
            let (l, c) = pos.split_once(':').unwrap();
            labels.push((l.parse().unwrap(), c.parse().unwrap(), label.to_string()));
        }
    }
    (expects, helps, labels)
}

#[test]
fn every_broken_manifest_gets_its_diagnostics() {
    let files = corpus("broken");
    assert!(files.len() >= 20, "the corpus is missing");
    let mut failures = Vec::new();
    for file in &files {
        // Lossy: one of them is not UTF-8 on purpose; its expectations are.
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        let (expects, helps, labels) = expectations(&text);
        assert!(
            !expects.is_empty(),
            "{} has no `// expect:` line",
            file.display()
        );
        let out = Invocation::lb(&repo(), &["check", "--format", "json"])
            .arg(file)
            .output();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if out.code != 2 {
            failures.push(format!("{name}: exit {}, expected 2", out.code));
            continue;
        }
        let diags: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
        if diags.len() != expects.len() {
            failures.push(format!(
                "{name}: {} diagnostics, expected {}: {}",
                diags.len(),
                expects.len(),
                out.stdout
            ));
            continue;
        }
        for (d, e) in diags.iter().zip(&expects) {
            let got = (
                d["kind"].as_str().unwrap_or(""),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            );
            let message = d["message"].as_str().unwrap_or("");
            if got != (e.kind.as_str(), e.line, e.column) || !message.contains(&e.message) {
                failures.push(format!(
                    "{name}: got {got:?} {message:?}, expected {} {}:{} {:?}",
                    e.kind, e.line, e.column, e.message
                ));
            }
            if d["help"].as_str().unwrap_or("").is_empty() {
                failures.push(format!("{name}: diagnostic {message:?} has no help line"));
            }
        }
        for h in &helps {
            if !diags
                .iter()
                .any(|d| d["help"].as_str().unwrap_or("").contains(h.as_str()))
            {
                failures.push(format!("{name}: no help contains {h:?}"));
            }
        }
        for (l, c, label) in &labels {
            let found = diags
                .iter()
                .flat_map(|d| d["labels"].as_array().cloned().unwrap_or_default())
                .any(|x| {
                    x["line"].as_u64() == Some(*l)
                        && x["column"].as_u64() == Some(*c)
                        && x["label"].as_str() == Some(label.as_str())
                });
            if !found {
                failures.push(format!("{name}: no label {label:?} at {l}:{c}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn people_see_the_file_line_and_column_and_the_help() {
    for file in corpus("broken") {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let (expects, _, _) = expectations(&text);
        let out = Invocation::lb(&repo(), &["check"]).arg(&file).status(2);
        let stderr = out.stderr;
        let name = file.file_name().unwrap().to_string_lossy();
        let first = &expects[0];
        let at = format!("[{name}:{}:{}]", first.line, first.column);
        assert!(stderr.contains(&at), "{name}: no `{at}` in\n{stderr}");
        assert!(
            stderr.contains("help:"),
            "{name}: no help line in\n{stderr}"
        );
        assert!(
            stderr.contains(&first.message),
            "{name}: no message in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
    }
}

#[test]
fn valid_manifests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = corpus("valid");
    files.push(root.join("lambda.kdl"));
    for entry in walk(&root.join("examples")) {
        if entry.file_name().is_some_and(|n| n == "lambda.kdl") {
            files.push(entry);
        }
    }
    assert!(files.len() >= 3);
    for file in files {
        let out = Invocation::lb(&repo(), &["check"]).arg(&file).output();
        assert_eq!(out.code, 0, "{}: {}", file.display(), out.stderr);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                out.extend(walk(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn manifest_is_found_upward_from_the_current_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // examples/ has its own lambda.kdl files below the root; from catalog/src the nearest is
    // the services workspace's, or the root's.
    Invocation::lb(&root.join("examples/services/catalog/src"), &["check"]).status(0);
    let empty = tempfile::tempdir().unwrap();
    let out = Invocation::lb(empty.path(), &["check"]).status(2);
    assert!(out.stderr.contains("could not find `lambda.kdl`"));
}
