//! A cache of what `cargo metadata --no-deps` said about a workspace directory.
//!
//! Each `cargo metadata` is a child process of ~20 ms of CPU (most of it rustup's proxy and
//! cargo's start-up): 50 workspaces cost a second of CPU, which is most of a `check`. Its
//! answer only depends on files that can be listed, so it is kept with a fingerprint of them
//! and reused while the fingerprint holds:
//! - the contents (or absence) of `Cargo.toml`, `.cargo/config.toml`, `.cargo/config`,
//!   `rust-toolchain` and `rust-toolchain.toml` in the directory and every ancestor, and of
//!   `config.toml`/`config` in `CARGO_HOME`;
//! - the contents of every member's `Cargo.toml`;
//! - the entries of every directory where cargo discovers bins (`src/`, `src/bin/`, each
//!   `src/bin/*/`) and of the directories that `[workspace] members` globs expand in;
//! - every `CARGO*` and `RUSTUP*` environment variable, `PATH`, and lambda-batch's version.
//!
//! Any difference is a miss: cargo runs, and the entry is replaced. An answer whose inputs were
//! modified less than [`SETTLE`](crate::fingerprint::SETTLE) before cargo started is not stored (cargo may have read the
//! previous contents). Entries (a [`Store`] each) live in `$LAMBDA_BATCH_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/lambda-batch`, else `~/.cache/lambda-batch`, under `metadata/`, one JSON
//! file per directory; `LAMBDA_BATCH_CACHE_DIR=""` turns the cache off. Any I/O problem with
//! the cache falls back to running cargo.

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::workspace_info::WorkspaceInfo;
use crate::fingerprint::{Fingerprint, env_vars, hex, read_upward, sha256, unsettled};
use crate::store::Store;

/// The stored answers; the version is raised when the entry layout or the fingerprint's
/// recipe changes.
const ENTRIES: Store<Entry> = Store::new("lambda-batch cargo metadata", 3);

/// Where entries are stored.
#[derive(Debug, Clone)]
pub(super) struct MetadataCache {
    dir: PathBuf,
}

/// One stored answer.
#[derive(Serialize, Deserialize)]
struct Entry {
    dir: Utf8PathBuf,
    /// Files whose contents (or absence) the answer depends on.
    files: Vec<Utf8PathBuf>,
    /// Directories whose entries (or absence) the answer depends on.
    dirs: Vec<Utf8PathBuf>,
    /// The fingerprint of all of the above when the answer was stored.
    fingerprint: String,
    info: WorkspaceInfo,
}

impl MetadataCache {
    /// The cache the environment asks for; `None` when it is turned off or has no home.
    pub(super) fn from_env() -> Option<Self> {
        let dir = match std::env::var_os("LAMBDA_BATCH_CACHE_DIR") {
            Some(d) if d.is_empty() => return None,
            Some(d) => PathBuf::from(d),
            None => match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
                Some(d) => PathBuf::from(d).join("lambda-batch"),
                None => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".cache")
                    .join("lambda-batch"),
            },
        };
        Some(Self::at(dir))
    }

    /// A cache rooted at `dir`.
    pub(super) fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory holding the entries of one kind (`metadata`, `tree`).
    pub(super) fn subdir(&self, kind: &str) -> PathBuf {
        self.dir.join(kind)
    }

    pub(crate) fn entry_path(&self, dir: &Utf8Path) -> PathBuf {
        let name = hex(&sha256(dir.as_str().as_bytes())[..16]);
        self.dir.join("metadata").join(format!("{name}.json"))
    }

    /// The stored answer for `dir`, if its inputs are unchanged.
    pub(super) fn get(&self, dir: &Utf8Path) -> Option<WorkspaceInfo> {
        let entry = ENTRIES.load(self.entry_path(dir))?;
        if entry.dir != dir {
            return None;
        }
        let (now, _) = fingerprint(dir, &entry.files, &entry.dirs);
        (now == entry.fingerprint).then_some(entry.info)
    }

    /// Stores cargo's answer for `dir`, obtained by a cargo started at `started`.
    pub(super) fn put(&self, dir: &Utf8Path, info: &WorkspaceInfo, started: SystemTime) {
        let (files, dirs) = inputs(dir, info);
        let (fingerprint, newest) = fingerprint(dir, &files, &dirs);
        if newest.is_some_and(|t| unsettled(t, started)) {
            return;
        }
        let entry = Entry {
            dir: dir.to_path_buf(),
            files,
            dirs,
            fingerprint,
            info: info.clone(),
        };
        // A cache that cannot be written only costs speed.
        ENTRIES.save_or_skip(&self.entry_path(dir), &entry);
    }
}

/// The files and directories that `cargo metadata --no-deps` run in `dir` reads to produce
/// `info` (a superset: anything that could change the answer).
fn inputs(dir: &Utf8Path, info: &WorkspaceInfo) -> (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) {
    let mut files = read_upward(dir);
    let mut dirs = Vec::new();
    files.push(info.manifest_path.clone());
    for p in &info.packages {
        files.push(p.dir.join("Cargo.toml"));
        // Bins are discovered from src/main.rs, src/bin/*.rs and src/bin/*/main.rs.
        dirs.push(p.dir.join("src"));
        let bin = p.dir.join("src/bin");
        if let Ok(rd) = bin.read_dir_utf8() {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    dirs.push(e.path().to_path_buf());
                }
            }
        }
        dirs.push(bin);
    }
    dirs.extend(member_glob_dirs(&info.root, &info.manifest_path));
    files.sort();
    files.dedup();
    dirs.sort();
    dirs.dedup();
    (files, dirs)
}

/// The directories whose entries decide what the `members` globs of the root Cargo.toml
/// match: for `crates/*`, `crates/`; for `a/*/b`, `a/` and every `a/*/`.
fn member_glob_dirs(root: &Utf8Path, manifest: &Utf8Path) -> Vec<Utf8PathBuf> {
    let Ok(text) = fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
        return Vec::new();
    };
    let patterns = doc
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for p in patterns.iter().filter_map(|p| p.as_str()) {
        let parts: Vec<&str> = p
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        let Some(k) = parts.iter().position(|s| s.contains(['*', '?', '[', ']'])) else {
            continue;
        };
        let prefix = parts[..k]
            .iter()
            .fold(root.to_path_buf(), |acc, s| acc.join(s));
        let depth = parts.len() - k - 1;
        for e in walkdir::WalkDir::new(&prefix)
            .max_depth(depth)
            .into_iter()
            .flatten()
        {
            if e.file_type().is_dir()
                && let Some(d) = Utf8Path::from_path(e.path())
            {
                out.push(d.to_path_buf());
            }
        }
        out.push(prefix);
    }
    out
}

/// The fingerprint of `dir`'s inputs, and the newest modification time among them.
fn fingerprint(
    dir: &Utf8Path,
    files: &[Utf8PathBuf],
    dirs: &[Utf8PathBuf],
) -> (String, Option<SystemTime>) {
    let mut f = Fingerprint::new();
    f.field(
        "format",
        &format!("{} {}", ENTRIES.version(), env!("CARGO_PKG_VERSION")),
    );
    f.field("dir", dir.as_str());
    f.env(
        "env",
        env_vars(|k| k.starts_with("CARGO") || k.starts_with("RUSTUP") || k == "PATH"),
    );
    for file in files {
        f.file(file);
    }
    for d in dirs {
        f.dir(d);
    }
    let newest = f.newest();
    (f.finish(), newest)
}
