//! Cargo's dep-info files (the Makefile rule cargo writes beside each executable, listing every
//! local file it was built from) and whether a package has a build script: what the freshness
//! check and the cache's record of what an executable read are both made of.

use std::fs;

use camino::{Utf8Path, Utf8PathBuf};

/// The paths a Makefile-style dep-info file lists as prerequisites (cargo writes one rule,
/// `target: dep dep...`, with spaces in paths escaped as `\ `); `None` if it is not one.
pub fn parse_dep_info(text: &str) -> Option<Vec<Utf8PathBuf>> {
    let mut deps = Vec::new();
    let mut saw_rule = false;
    let text = text.replace("\\\n", " ");
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_words(line);
        let colon = words.iter().position(|w| w.ends_with(':'))?;
        saw_rule = true;
        deps.extend(words.into_iter().skip(colon + 1).map(Utf8PathBuf::from));
    }
    saw_rule.then_some(deps)
}

/// Splits a dep-info line at unescaped whitespace, unescaping `\ ` and `\\`.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ (' ' | '\\' | '#')) => word.push(n),
                Some(n) => {
                    word.push('\\');
                    word.push(n);
                }
                None => word.push('\\'),
            },
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether the package at `root` has a build script: `build.rs` (unless `build = false`) or a
/// `build = "path"`. An unreadable manifest counts as yes: that only costs a walk.
pub fn has_build_script(root: &Utf8Path, manifest: &Utf8Path) -> bool {
    let Ok(text) = fs::read_to_string(manifest) else {
        return true;
    };
    let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
        return true;
    };
    match doc.get("package").and_then(|p| p.get("build")) {
        Some(toml::Value::Boolean(false)) => false,
        Some(toml::Value::String(_)) => true,
        _ => root.join("build.rs").exists(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_paths_are_unescaped() {
        let text = "/t/release/get-product: /w/src/main.rs /w/my\\ dir/lib.rs \\\n /w/b.rs\n\n";
        assert_eq!(
            parse_dep_info(text).unwrap(),
            ["/w/src/main.rs", "/w/my dir/lib.rs", "/w/b.rs"].map(Utf8PathBuf::from)
        );
        assert_eq!(
            parse_dep_info("/t/x:\n").unwrap(),
            Vec::<Utf8PathBuf>::new()
        );
        assert_eq!(parse_dep_info("not a rule\n"), None);
        assert_eq!(parse_dep_info(""), None);
    }

    #[test]
    fn build_scripts_are_found_from_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let manifest = root.join("Cargo.toml");
        fs::write(&manifest, "[package]\nname = \"a\"\n").unwrap();
        assert!(!has_build_script(root, &manifest));
        fs::write(root.join("build.rs"), "fn main() {}\n").unwrap();
        assert!(has_build_script(root, &manifest));
        fs::write(&manifest, "[package]\nname = \"a\"\nbuild = false\n").unwrap();
        assert!(!has_build_script(root, &manifest));
        fs::write(&manifest, "[package]\nname = \"a\"\nbuild = \"gen.rs\"\n").unwrap();
        assert!(has_build_script(root, &manifest));
    }
}
