//! Include globs → the files they match, relative to the directory of the node that declares them.

use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::FileTypeExt;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use globset::{GlobBuilder, GlobMatcher};
use schemars::JsonSchema;
use serde::Serialize;

/// One file an include pattern matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct IncludeFile {
    /// Its path inside the artifact (relative, `/`-separated, `into=` prepended); sorts first.
    pub archive_path: String,
    /// The file on disk (absolute).
    #[schemars(with = "String")]
    pub source: Utf8PathBuf,
    /// The pattern that matched it in the manifest (offset, length), for diagnostics.
    #[serde(skip)]
    #[schemars(skip)]
    pub pattern_span: (usize, usize),
    /// The pattern and the directory it is relative to: what else it would match (an output
    /// of the run, say) can be asked of its [`IncludeRule::matcher`].
    #[serde(skip)]
    #[schemars(skip)]
    pub rule: Arc<IncludeRule>,
}

/// An include pattern and its base directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncludeRule {
    /// The directory the pattern is relative to (absolute).
    pub base: Utf8PathBuf,
    /// The pattern as written.
    pub pattern: String,
}

impl IncludeRule {
    /// The rule compiled, to ask what it would match; `None` for a pattern that is no glob.
    pub fn matcher(&self) -> Option<IncludeMatcher<'_>> {
        Walk::new(&self.pattern).map(|walk| IncludeMatcher { rule: self, walk })
    }
}

/// An [`IncludeRule`] compiled.
pub struct IncludeMatcher<'a> {
    rule: &'a IncludeRule,
    walk: Walk,
}

impl IncludeMatcher<'_> {
    /// Whether expanding the pattern would match the file at `path` (absolute), were it there:
    /// the walk from the pattern's literal prefix reaches it (wildcards do not enter `.git` or
    /// `target`), and the pattern matches it or a directory above it.
    pub fn would_match(&self, path: &Utf8Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.rule.base) else {
            return false;
        };
        let Ok(below) = rel.strip_prefix(&self.walk.start_rel) else {
            return false;
        };
        let names: Vec<&str> = below.iter().collect();
        let dirs = names.len().saturating_sub(1);
        if names[..dirs].iter().any(|d| SKIPPED_DIRS.contains(d)) {
            return false;
        }
        rel.ancestors()
            .take(names.len() + 1)
            .any(|a| !a.as_str().is_empty() && self.walk.glob.is_match(a.as_str()))
    }

    /// Where the walk of the pattern starts: every file it can match is below.
    pub fn walk_start(&self) -> Utf8PathBuf {
        self.rule.base.join(&self.walk.start_rel)
    }
}

/// One file a `cache-key-files` pattern matched: its contents go into the input key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct KeyFile {
    /// The same in every checkout: the directory the pattern is relative to (`manifest`,
    /// `workspace <path>` or `package <name>`) and the match relative to it.
    pub label: String,
    /// The file on disk (absolute).
    #[schemars(with = "String")]
    pub source: Utf8PathBuf,
}

/// Why a pattern failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IncludeError {
    /// Nothing matched.
    NoMatch,
    /// A match resolves (through a symlink) outside the base directory.
    Outside(Utf8PathBuf),
    /// The base directory or a file could not be read.
    Io(String),
    /// The pattern is not a glob (the decoder reports it, with its own help).
    BadGlob,
    /// A match whose name cannot be an archive entry (shown lossily), and why.
    BadName(String, &'static str),
    /// A match that is not a regular file (a FIFO, a socket, a device), and what it is.
    NotAFile(Utf8PathBuf, &'static str),
}

/// Expands patterns, remembering each (base, pattern) so that an include inherited by many
/// artifacts walks the disk once.
#[derive(Default)]
pub(crate) struct IncludeExpander {
    cache: HashMap<(Utf8PathBuf, String), Result<Vec<Utf8PathBuf>, IncludeError>>,
}

/// Directory names never walked into by a wildcard: version control and cargo build output.
const SKIPPED_DIRS: &[&str] = &[".git", "target"];

impl IncludeExpander {
    /// Files under `base` that `pattern` matches, as paths relative to `base`, sorted.
    /// A matched directory contributes every file below it.
    pub(crate) fn expand(
        &mut self,
        base: &Utf8Path,
        pattern: &str,
    ) -> Result<Vec<Utf8PathBuf>, IncludeError> {
        let key = (base.to_path_buf(), pattern.to_string());
        if let Some(hit) = self.cache.get(&key) {
            return hit.clone();
        }
        let result = expand(base, pattern, false);
        self.cache.insert(key, result.clone());
        result
    }

    /// Files a `cache-key-files` pattern matches under `base`, relative to `base`, sorted.
    /// Unlike an include's, the pattern may start by going up (`../proto/*.proto`), and a
    /// symlink may point anywhere: the files are only read, for the input key.
    pub(crate) fn expand_key_files(
        &mut self,
        base: &Utf8Path,
        pattern: &str,
    ) -> Result<Vec<Utf8PathBuf>, IncludeError> {
        let cleaned = clean_path(pattern);
        let ups = cleaned.split('/').take_while(|c| *c == "..").count();
        let rest: Vec<&str> = cleaned.split('/').skip(ups).collect();
        let mut start = base.to_path_buf();
        for _ in 0..ups {
            start = start.parent().map(Utf8Path::to_path_buf).unwrap_or(start);
        }
        let up = "../".repeat(ups);
        let key = (base.to_path_buf(), format!("\0key {pattern}"));
        if let Some(hit) = self.cache.get(&key) {
            return hit.clone();
        }
        let result = expand(&start, &rest.join("/"), true).map(|rels| {
            rels.into_iter()
                .map(|r| Utf8PathBuf::from(format!("{up}{r}")))
                .collect()
        });
        self.cache.insert(key, result.clone());
        result
    }
}

/// `pattern` without empty or `.` components: `./assets/` and `assets//` mean `assets`; also
/// how a path is written in an archive.
pub(crate) fn clean_path(pattern: &str) -> String {
    pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A pattern made ready to walk: its glob and the directory (relative to the base) where the
/// walk starts, its literal prefix (`config/` of `config/*.toml`).
struct Walk {
    glob: GlobMatcher,
    start_rel: Utf8PathBuf,
}

impl Walk {
    fn new(pattern: &str) -> Option<Walk> {
        let pattern = clean_path(pattern);
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .ok()?
            .compile_matcher();
        let literal: Vec<&str> = pattern
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[', '{']))
            .collect();
        let fully_literal = literal.len() == pattern.split('/').count();
        let start_rel: Utf8PathBuf = if fully_literal {
            Utf8PathBuf::from(pattern.as_str())
        } else {
            literal.iter().collect()
        };
        Some(Walk { glob, start_rel })
    }
}

/// What a matched entry that is neither a file nor a directory is, for people.
fn special_kind(t: std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    }
}

/// The files `pattern` matches under `base`; with `anywhere`, symlinks may point outside it.
fn expand(
    base: &Utf8Path,
    pattern: &str,
    anywhere: bool,
) -> Result<Vec<Utf8PathBuf>, IncludeError> {
    let Walk { glob, start_rel } = Walk::new(pattern).ok_or(IncludeError::BadGlob)?;
    let base_real = base
        .canonicalize_utf8()
        .map_err(|e| IncludeError::Io(format!("cannot read `{base}`: {e}")))?;
    let start = base.join(&start_rel);
    if !start.exists() {
        return Err(IncludeError::NoMatch);
    }

    let mut matched = Vec::new();
    let walker = walkdir::WalkDir::new(&start)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        });
    // A directory the pattern matched contributes all its files: remember matched ones.
    let mut matched_dirs: BTreeSet<std::path::PathBuf> = BTreeSet::new();
    for entry in walker {
        let entry = entry.map_err(|e| IncludeError::Io(e.to_string()))?;
        let Ok(rel) = entry.path().strip_prefix(base) else {
            continue;
        };
        let in_matched_dir = rel.ancestors().skip(1).any(|a| matched_dirs.contains(a));
        // Temporary files of lambda-batch's own atomic writes are never an input.
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(crate::atomic::TEMP_PREFIX))
        {
            continue;
        }
        let Some(rel) = Utf8Path::from_path(rel) else {
            // Never silently left out: a file the pattern means would be missing from the
            // artifact while the run says it is complete.
            let lossy = rel.to_string_lossy().into_owned();
            if in_matched_dir || glob.is_match(&lossy) {
                return Err(IncludeError::BadName(lossy, "its name is not UTF-8"));
            }
            continue;
        };
        let is_match = in_matched_dir || (!rel.as_str().is_empty() && glob.is_match(rel.as_str()));
        if !is_match {
            continue;
        }
        if rel.as_str().contains('\\') {
            return Err(IncludeError::BadName(
                rel.to_string(),
                "its name has a `\\`, which zip tools read as a folder separator",
            ));
        }
        // Symlinks are followed, but their target must stay inside the base directory.
        let path = base.join(rel);
        let real = path
            .canonicalize_utf8()
            .map_err(|e| IncludeError::Io(format!("cannot read `{path}`: {e}")))?;
        if !anywhere && !real.starts_with(&base_real) {
            return Err(IncludeError::Outside(rel.to_path_buf()));
        }
        let kind = entry.file_type();
        if kind.is_dir() {
            matched_dirs.insert(rel.as_std_path().to_path_buf());
        } else if kind.is_file() {
            matched.push(rel.to_path_buf());
        } else {
            // Reading a FIFO would wait for a writer forever; a device, for ever more bytes.
            return Err(IncludeError::NotAFile(
                rel.to_path_buf(),
                special_kind(kind),
            ));
        }
    }
    if matched.is_empty() {
        return Err(IncludeError::NoMatch);
    }
    matched.sort();
    matched.dedup();
    Ok(matched)
}

/// The archive path of a match: `into` (if any) joined with its path relative to the base.
pub(super) fn archive_path(into: Option<&str>, rel: &Utf8Path) -> String {
    let rel = rel.as_str();
    match into.map(clean_path).filter(|i| !i.is_empty()) {
        Some(into) => format!("{into}/{rel}"),
        None => rel.to_string(),
    }
}

/// The archive path of a match of the literal `pattern` renamed `as=rename`: the path the
/// pattern names becomes `rename`, and what is below it stays below it; `into` still prefixes.
pub(super) fn renamed_path(
    into: Option<&str>,
    pattern: &str,
    rename: &str,
    rel: &Utf8Path,
) -> String {
    let named = clean_path(pattern);
    let rel = rel.as_str().replace('\\', "/");
    let below = rel
        .strip_prefix(&named)
        .map(|b| b.trim_start_matches('/'))
        .unwrap_or(&rel);
    let renamed = if below.is_empty() {
        clean_path(rename)
    } else {
        format!("{}/{below}", clean_path(rename))
    };
    archive_path(into, Utf8Path::new(&renamed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let base = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
        for f in [
            "LICENSE",
            "config/a.toml",
            "config/b.toml",
            "config/c.json",
            "assets/x/y.json",
            "assets/z.json",
            "target/t.json",
        ] {
            let p = base.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        (dir, base)
    }

    #[test]
    fn globs_match_relative_to_base() {
        let (_d, base) = tree();
        let mut x = IncludeExpander::default();
        assert_eq!(
            x.expand(&base, "config/*.toml").unwrap(),
            vec![Utf8PathBuf::from("config/a.toml"), "config/b.toml".into()]
        );
        assert_eq!(
            x.expand(&base, "assets/**/*.json").unwrap(),
            vec![Utf8PathBuf::from("assets/x/y.json"), "assets/z.json".into()]
        );
        assert_eq!(
            x.expand(&base, "LICENSE").unwrap(),
            vec![Utf8PathBuf::from("LICENSE")]
        );
        assert_eq!(x.expand(&base, "config").unwrap().len(), 3);
        // A directory written with a trailing slash or `./` is the same directory.
        for p in ["config/", "./config/", "config//", "./config/./*.toml"] {
            let n = if p.ends_with("*.toml") { 2 } else { 3 };
            assert_eq!(x.expand(&base, p).map(|m| m.len()), Ok(n), "{p}");
        }
        assert_eq!(
            x.expand(&base, "**/*.json").unwrap().len(),
            3,
            "target/ is not walked"
        );
        assert_eq!(x.expand(&base, "nothing/*.x"), Err(IncludeError::NoMatch));
        assert_eq!(x.expand(&base, "*.md"), Err(IncludeError::NoMatch));
    }

    #[test]
    fn symlink_out_of_base_is_refused() {
        let (_d, base) = tree();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), base.join("config/link.toml"))
            .unwrap();
        let mut x = IncludeExpander::default();
        assert!(matches!(
            x.expand(&base, "config/*.toml"),
            Err(IncludeError::Outside(_))
        ));
    }

    #[test]
    fn key_files_may_go_up_and_point_anywhere() {
        let (_d, base) = tree();
        let inner = base.join("config");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), base.join("assets/link.json"))
            .unwrap();
        let mut x = IncludeExpander::default();
        assert_eq!(
            x.expand_key_files(&inner, "../assets/*.json").unwrap(),
            vec![
                Utf8PathBuf::from("../assets/link.json"),
                "../assets/z.json".into()
            ]
        );
        assert_eq!(
            x.expand_key_files(&inner, "*.toml").unwrap(),
            vec![Utf8PathBuf::from("a.toml"), "b.toml".into()]
        );
        assert_eq!(
            x.expand_key_files(&inner, "../nothing/*"),
            Err(IncludeError::NoMatch)
        );
    }

    #[test]
    fn into_prefixes() {
        assert_eq!(
            archive_path(Some("cfg/"), Utf8Path::new("a.toml")),
            "cfg/a.toml"
        );
        assert_eq!(archive_path(None, Utf8Path::new("a/b")), "a/b");
        for into in ["./cfg", "cfg//", "/cfg/", "./cfg/."] {
            assert_eq!(
                archive_path(Some(into), Utf8Path::new("a.toml")),
                "cfg/a.toml",
                "{into}"
            );
        }
        assert_eq!(archive_path(Some("./"), Utf8Path::new("a.toml")), "a.toml");
    }

    #[test]
    fn as_renames_the_named_path() {
        let r =
            |into, pattern, rename, rel| renamed_path(into, pattern, rename, Utf8Path::new(rel));
        assert_eq!(
            r(None, "assets/public", "static", "assets/public/css/a.css"),
            "static/css/a.css"
        );
        assert_eq!(
            r(None, "./assets/public/", "static/", "assets/public/x"),
            "static/x"
        );
        assert_eq!(
            r(None, "config/prod.toml", "config.toml", "config/prod.toml"),
            "config.toml"
        );
        assert_eq!(
            r(Some("etc"), "LICENSE", "COPYING", "LICENSE"),
            "etc/COPYING"
        );
    }
}
