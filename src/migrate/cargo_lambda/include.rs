//! cargo-lambda's `include` entries: `SRC`, or `DEST:SRC` to store `SRC` (a file or a
//! directory) as `DEST`. Paths are relative to where cargo-lambda runs; a directory brings every
//! file below it; the archive name of a file is its path with `SRC` replaced by `DEST`.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use crate::resolve::clean_path;

/// One `include` entry, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it goes in the archive (the path itself without `DEST:`).
    pub dest: String,
    /// The file or directory, relative to where cargo-lambda runs.
    pub src: String,
}

impl Entry {
    /// Splits `DEST:SRC` at the first `:`, as cargo-lambda does.
    pub fn parse(entry: &str) -> Entry {
        match entry.split_once(':') {
            Some((dest, src)) => Entry {
                dest: dest.to_string(),
                src: src.to_string(),
            },
            None => Entry {
                dest: entry.to_string(),
                src: entry.to_string(),
            },
        }
    }
}

/// The files cargo-lambda 1.9.2 puts into a zip for `entries`, run in `dir`: archive path
/// (without `./` components) → file. A later entry with the same `DEST` replaces an earlier
/// one; a path that does not exist adds nothing; directories add their files.
pub(crate) fn files(dir: &Utf8Path, entries: &[String]) -> BTreeMap<String, Utf8PathBuf> {
    let mut by_dest: BTreeMap<String, String> = BTreeMap::new();
    for e in entries {
        let e = Entry::parse(e);
        by_dest.insert(e.dest, e.src);
    }
    let mut out = BTreeMap::new();
    for (dest, src) in by_dest {
        let start = dir.join(&src);
        for entry in walkdir::WalkDir::new(&start).into_iter().flatten() {
            let path = entry.path();
            if path.is_dir() {
                continue;
            }
            let Some(path) = Utf8Path::from_path(path) else {
                continue;
            };
            let Ok(below) = path.strip_prefix(&start) else {
                continue;
            };
            // cargo-lambda names the file by the path it walked (SRC joined with what is
            // below it) with every occurrence of SRC replaced by DEST.
            let walked = if below.as_str().is_empty() {
                src.clone()
            } else {
                format!("{}/{below}", src.trim_end_matches('/'))
            };
            let name = walked.replace(&src, &dest);
            out.insert(clean_path(&name), path.to_path_buf());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        for f in ["README.md", "assets/public/a.css", "assets/public/x/b.js"] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        assert_eq!(
            Entry::parse("static:assets/public"),
            Entry {
                dest: "static".into(),
                src: "assets/public".into()
            }
        );
        let got = files(
            dir,
            &[
                "./README.md".into(),
                "static:assets/public".into(),
                "gone".into(),
                "doc.md:README.md".into(),
            ],
        );
        let names: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec!["README.md", "doc.md", "static/a.css", "static/x/b.js"]
        );
        assert_eq!(got["doc.md"], dir.join("README.md"));
    }
}
