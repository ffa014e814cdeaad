//! The text `init` writes: commented, in the canonical layout, with unique artifact names and
//! the settings carried over from cargo-lambda's configuration, each with where it came from.

use std::collections::BTreeSet;
use std::fmt::Write;

use camino::Utf8Path;

use super::scan::Found;
use crate::edit::format::INDENT;
use crate::manifest::kdl_string as quote;
use crate::manifest::relative;
use crate::migrate::translate::{ArtifactOut, Level, Line, Translation};

const HEADER: &str = "\
// The AWS Lambda functions and extensions of this repository, for lambda-batch.
// Written by `lambda-batch init`: `lambda-batch check` validates this file, `lambda-batch run`
// builds everything in it, and `lambda-batch schema` lists every node and setting.

// Settings every artifact inherits; a workspace or an artifact can override each of them.
defaults {
";

/// The `defaults` lines init writes when cargo-lambda's configuration does not set them:
/// the setting each stands for, and the line.
const DEFAULT_LINES: &[(&str, &str)] = &[
    ("profile", "    profile \"release\"\n"),
    (
        "arch",
        "    // arch \"x86_64\" \"arm64\"      // build for both architectures\n",
    ),
    (
        "output-format",
        "    // output-format \"zip\"        // deployable zips instead of bare executables\n",
    ),
    ("lambda-dir", "    // lambda-dir \"target/lambda/{arch}\"\n"),
];

/// With several workspaces, their dependencies are compiled once in one target dir instead of
/// once per workspace (BENCHMARKS.md: 1.42x faster cold with 4 workspaces).
const SHARED_TARGET_DIR: &str =
    "    target-dir \"target/shared\"        // one cargo target dir for every workspace\n";

/// With one workspace there is nothing to share: its own target dir, as cargo would.
const OWN_TARGET_DIR: &str =
    "    // target-dir \"target/shared\"     // one cargo target dir for several workspaces\n";

/// What a translated setting line says after the node.
const FROM_GAP: &str = "  ";

/// The manifest for `found`, with workspace paths relative to `dir` (the manifest's directory)
/// and the settings of `translation` (one entry per workspace and bin of `found`).
pub fn render(found: &[Found], dir: &Utf8Path, translation: &Translation) -> String {
    let mut out = HEADER.to_string();
    let defaults = &translation.defaults;
    let own = |setting: &str| defaults.lines.iter().any(|l| l.setting == setting);
    for (setting, line) in DEFAULT_LINES {
        if own(setting) {
            lines(&mut out, INDENT, defaults, Some(setting));
        } else {
            out.push_str(line);
        }
    }
    if own("target-dir") {
        lines(&mut out, INDENT, defaults, Some("target-dir"));
    } else {
        out.push_str(if found.len() > 1 {
            SHARED_TARGET_DIR
        } else {
            OWN_TARGET_DIR
        });
    }
    let written: Vec<&str> = DEFAULT_LINES
        .iter()
        .map(|(s, _)| *s)
        .chain(["target-dir"])
        .collect();
    for l in &defaults.lines {
        if !written.contains(&l.setting) {
            line(&mut out, INDENT, l);
        }
    }
    remarks(&mut out, INDENT, &defaults.remarks);
    out.push_str("}\n");
    let mut used: BTreeSet<String> = BTreeSet::new();
    let empty = Default::default();
    for (wi, ws) in found.iter().enumerate() {
        let wt = translation.workspaces.get(wi);
        let _ = writeln!(
            out,
            "\nworkspace {} {{",
            quote(relative(dir, &ws.dir).as_str())
        );
        if let Some(wt) = wt
            && !(wt.level.lines.is_empty() && wt.level.remarks.is_empty())
        {
            lines(&mut out, INDENT, &wt.level, None);
            remarks(&mut out, INDENT, &wt.level.remarks);
            out.push('\n');
        }
        let mut package = None;
        for (bi, b) in ws.bins.iter().enumerate() {
            if package != Some(&b.package) {
                package = Some(&b.package);
                let _ = writeln!(out, "{INDENT}// package {} ({})", b.package, b.because);
            }
            let at: &ArtifactOut = wt.and_then(|w| w.artifacts.get(bi)).unwrap_or(&empty);
            let name = unique_name(&mut used, &b.bin, &b.package);
            let kind = at.kind.unwrap_or(b.kind);
            let _ = write!(out, "{INDENT}{} {}", kind.as_str(), quote(&name));
            if name != b.bin {
                let _ = write!(out, " bin={}", quote(&b.bin));
            }
            if b.shared_name {
                let _ = write!(out, " package={}", quote(&b.package));
            }
            if at.flatten {
                out.push_str(" flatten=true");
            }
            if at.internal {
                out.push_str(" internal=true");
            }
            let block = !(at.level.lines.is_empty() && at.level.remarks.is_empty());
            if block {
                out.push_str(" {");
            }
            if let Some(from) = &at.from {
                let _ = write!(out, "{FROM_GAP}// {from}");
            }
            out.push('\n');
            if block {
                let inner = format!("{INDENT}{INDENT}");
                lines(&mut out, &inner, &at.level, None);
                remarks(&mut out, &inner, &at.level.remarks);
                let _ = writeln!(out, "{INDENT}}}");
            }
        }
        out.push_str("}\n");
    }
    out
}

/// Writes the lines of `level` (only those of `setting` when given).
fn lines(out: &mut String, indent: &str, level: &Level, setting: Option<&str>) {
    for l in &level.lines {
        if setting.is_none_or(|s| s == l.setting) {
            line(out, indent, l);
        }
    }
}

/// One setting node with the comment that says where it came from.
fn line(out: &mut String, indent: &str, l: &Line) {
    let _ = writeln!(out, "{indent}{}{FROM_GAP}// {}", node_text(l), l.from);
}

/// The KDL text of a setting line, as `lambda-batch set` would write it.
pub fn node_text(l: &Line) -> String {
    let mut node = kdl_v1::KdlNode::new(l.setting);
    match crate::edit::value::setting(l.setting)
        .and_then(|s| crate::edit::value::entries(s, &l.values))
    {
        Ok(entries) => {
            for e in entries {
                node.push(e);
            }
            node.to_string()
        }
        // The translation only produces words `set` takes; keep the words visible if not.
        Err(_) => format!("// {} {}", l.setting, l.values.join(" ")),
    }
}

/// Comment lines.
fn remarks(out: &mut String, indent: &str, remarks: &[String]) {
    for r in remarks {
        let _ = writeln!(out, "{indent}// {r}");
    }
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
            package_dir: "/r".into(),
            features: Default::default(),
            shared_name: shared,
        }
    }

    #[test]
    fn names_are_unique_and_paths_relative() {
        let found = vec![
            Found {
                dir: "/r/a".into(),
                bins: vec![bin("p", "main", true), bin("q", "main", true)],
                config: Default::default(),
            },
            Found {
                dir: "/r".into(),
                bins: vec![bin("p", "main", false)],
                config: Default::default(),
            },
        ];
        let text = render(&found, Utf8Path::new("/r"), &Translation::default());
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
            let lines: String = DEFAULT_LINES.iter().map(|(_, l)| *l).collect();
            let text = format!("{HEADER}{lines}{line}}}\n");
            let doc = crate::edit::Document::parse(Utf8Path::new("lambda.kdl"), &text).unwrap();
            assert_eq!(crate::edit::format::format(&doc).unwrap(), text);
        }
    }
}
