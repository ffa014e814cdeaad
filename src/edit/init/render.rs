//! The text `init` writes: commented, in the canonical layout, with unique artifact names.

use std::collections::BTreeSet;
use std::fmt::Write;

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};

use super::scan::Found;
use crate::edit::format::INDENT;
use crate::manifest::kdl_string as quote;

const HEADER: &str = "\
// The AWS Lambda functions and extensions of this repository, for lambda-batch.
// Written by `lambda-batch init`: `lambda-batch check` validates this file, `lambda-batch run`
// builds everything in it, and `lambda-batch schema` lists every node and setting.

// Settings every artifact inherits; a workspace or an artifact can override each of them.
defaults {
    profile \"release\"
    // arch \"x86_64\" \"arm64\"      // build for both architectures
    // output-format \"zip\"        // deployable zips instead of bare executables
    // lambda-dir \"target/lambda/{arch}\"
";

/// With several workspaces, their dependencies are compiled once in one target dir instead of
/// once per workspace (BENCHMARKS.md: 1.42x faster cold with 4 workspaces).
const SHARED_TARGET_DIR: &str =
    "    target-dir \"target/shared\"        // one cargo target dir for every workspace\n";

/// With one workspace there is nothing to share: its own target dir, as cargo would.
const OWN_TARGET_DIR: &str =
    "    // target-dir \"target/shared\"     // one cargo target dir for several workspaces\n";

/// The manifest for `found`, with workspace paths relative to `dir` (the manifest's directory).
pub fn render(found: &[Found], dir: &Utf8Path) -> String {
    let mut out = HEADER.to_string();
    out.push_str(if found.len() > 1 {
        SHARED_TARGET_DIR
    } else {
        OWN_TARGET_DIR
    });
    out.push_str("}\n");
    let mut used: BTreeSet<String> = BTreeSet::new();
    for ws in found {
        let _ = writeln!(
            out,
            "\nworkspace {} {{",
            quote(relative(dir, &ws.dir).as_str())
        );
        let mut package = None;
        for b in &ws.bins {
            if package != Some(&b.package) {
                package = Some(&b.package);
                let _ = writeln!(out, "{INDENT}// package {} ({})", b.package, b.because);
            }
            let name = unique_name(&mut used, &b.bin, &b.package);
            let _ = write!(out, "{INDENT}{} {}", b.kind.as_str(), quote(&name));
            if name != b.bin {
                let _ = write!(out, " bin={}", quote(&b.bin));
            }
            if b.shared_name {
                let _ = write!(out, " package={}", quote(&b.package));
            }
            out.push('\n');
        }
        out.push_str("}\n");
    }
    out
}

/// The bin's name, or (taken by another workspace) `package-bin`, or that with a number.
fn unique_name(used: &mut BTreeSet<String>, bin: &str, package: &str) -> String {
    let mut candidates = vec![bin.to_string(), format!("{package}-{bin}")];
    candidates.extend((2..).take(1000).map(|n| format!("{package}-{bin}-{n}")));
    let name = candidates
        .into_iter()
        .find(|c| !used.contains(c))
        .unwrap_or_else(|| bin.to_string());
    used.insert(name.clone());
    name
}

/// `to` relative to `from` (both absolute): `a/b`, `.`, or `../c`.
pub fn relative(from: &Utf8Path, to: &Utf8Path) -> Utf8PathBuf {
    let from: Vec<Utf8Component<'_>> = from.components().collect();
    let to_parts: Vec<Utf8Component<'_>> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = Utf8PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_parts[common..] {
        out.push(c.as_str());
    }
    if out.as_str().is_empty() {
        Utf8PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::scan::LambdaBin;
    use super::*;
    use crate::manifest::values::ArtifactKind;

    fn bin(package: &str, bin: &str, shared: bool) -> LambdaBin {
        LambdaBin {
            kind: ArtifactKind::Function,
            package: package.into(),
            bin: bin.into(),
            because: "lambda_runtime".into(),
            shared_name: shared,
        }
    }

    #[test]
    fn names_are_unique_and_paths_relative() {
        let found = vec![
            Found {
                dir: "/r/a".into(),
                bins: vec![bin("p", "main", true), bin("q", "main", true)],
            },
            Found {
                dir: "/r".into(),
                bins: vec![bin("p", "main", false)],
            },
        ];
        let text = render(&found, Utf8Path::new("/r"));
        assert!(text.contains("workspace \"a\" {\n    // package p (lambda_runtime)\n    function \"main\" package=\"p\"\n    // package q (lambda_runtime)\n    function \"q-main\" bin=\"main\" package=\"q\"\n}\n"), "{text}");
        assert!(text.contains("workspace \".\" {\n    // package p (lambda_runtime)\n    function \"p-main\" bin=\"main\"\n}\n"), "{text}");
        assert_eq!(
            relative(Utf8Path::new("/r/x"), Utf8Path::new("/r/y/z")),
            "../y/z"
        );
    }

    #[test]
    fn the_defaults_are_formatted_with_either_target_dir_line() {
        for line in [SHARED_TARGET_DIR, OWN_TARGET_DIR] {
            let text = format!("{HEADER}{line}}}\n");
            let doc = crate::edit::Document::parse(Utf8Path::new("lambda.kdl"), &text).unwrap();
            assert_eq!(crate::edit::format::format(&doc).unwrap(), text);
        }
    }
}
