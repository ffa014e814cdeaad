//! No input makes an edit panic: every edit on mutations of a manifest either gives text the
//! kdl crate reads back, or an error.

use camino::Utf8Path;

use super::add::{self, NewArtifact};
use super::{Document, Level, remove, set};
use crate::manifest::values::ArtifactKind;

/// `count` random small mutations of `base` (deterministic), shared by the edit tests.
pub(crate) fn mutations(base: &str, count: usize) -> Vec<String> {
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = [
        " ", "\n", ";", "{", "}", "//", "/*", "*/", "/-", "\\", "\"", "\t", "x", "\r\n", "é",
    ];
    (0..count)
        .map(|_| {
            let mut text = base.to_string();
            for _ in 0..(next() % 4 + 1) {
                let mut at = (next() as usize) % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if next() % 3 == 0 && at < text.len() {
                    let mut end = at + 1;
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                } else {
                    text.insert_str(at, alphabet[(next() as usize) % alphabet.len()]);
                }
            }
            text
        })
        .collect()
}

#[test]
fn edits_on_mutated_manifests_never_panic() {
    let base = include_str!("../../lambda.kdl");
    let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let new = NewArtifact {
        kind: ArtifactKind::Function,
        name: "new-fn".into(),
        workspace: "examples/services".into(),
        bin: Some("get-product".into()),
        package: None,
        settings: vec![
            ("arch", words(&["arm64"])),
            ("include", words(&["config/*.toml"])),
        ],
        flatten: true,
        internal: false,
    };
    let levels = [
        Level::Defaults,
        Level::Workspace("examples/services".into()),
        Level::from_flags(None, Some("get-product")),
        Level::from_flags(Some("examples/extensions"), Some("telemetry")),
    ];
    let mut edited = 0;
    for text in mutations(base, 300) {
        let Ok(doc) = Document::parse(Utf8Path::new("/m/lambda.kdl"), &text) else {
            continue;
        };
        let mut results = Vec::new();
        for level in &levels {
            let mut d = doc.clone();
            results.push(set::set(&mut d, level, "arch", &words(&["arm64"])).map(|_| d));
            let mut d = doc.clone();
            results.push(set::unset(&mut d, level, "include", &[]).map(|_| d));
            let mut d = doc.clone();
            results.push(set::set(&mut d, level, "env", &words(&["A=1"])).map(|_| d));
        }
        let mut d = doc.clone();
        results.push(add::artifact(&mut d, &new).map(|_| d));
        let mut d = doc.clone();
        results.push(add::workspace(&mut d, "elsewhere", true).map(|_| d));
        let mut d = doc.clone();
        results.push(remove::artifact(&mut d, "put-product", None).map(|_| d));
        for d in results.into_iter().flatten() {
            edited += 1;
            let out = d.render();
            assert!(
                out.parse::<kdl_v1::KdlDocument>().is_ok(),
                "an edit of {text:?} gave text that is not KDL:\n{out}"
            );
        }
    }
    assert!(edited > 100, "too few mutations parsed: {edited}");
}
