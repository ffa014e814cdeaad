//! `cargo tree` for one package alone (see [`super::tree`]), run for every package that might
//! share a cargo call, all at once, and answered from a cache while nothing it depends on has
//! changed.
//!
//! An answer depends on the lock file, the manifests of the workspace's members and of every
//! path package in the closure, the cargo config and toolchain files from the workspace up,
//! rustup's settings, the arguments (package, target, feature flags, `--locked`/`--offline`/
//! `--frozen`) and the environment (the plan's, which carries `RUSTFLAGS`: `--cfg` and
//! `target-cpu` decide platform-specific dependencies; and every `CARGO*`/`RUSTUP*` variable
//! and `PATH`). The cache keys an entry on the arguments and environment and checks the files'
//! contents, exactly as the metadata cache does ([`super::cache`]); `LAMBDA_BATCH_CACHE_DIR=""`
//! turns both off.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::cache::MetadataCache;
use super::tree::{self, View};
use super::workspace;
use crate::fingerprint::{Fingerprint, env_vars, read_upward, rustup_home, unsettled};
use crate::store::Store;

/// The stored answers; the version is raised when the entry layout, the parser or the
/// fingerprint's recipe changes.
const ENTRIES: Store<Entry> = Store::new("lambda-batch cargo tree", 3);

/// One package built alone, as cargo would be asked to build it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Query {
    /// The cargo workspace root (the working directory).
    pub workspace_root: Utf8PathBuf,
    /// Its root `Cargo.toml`.
    pub cargo_manifest: Utf8PathBuf,
    /// The package.
    pub package: String,
    /// The target triple, without a glibc suffix.
    pub target: String,
    /// `--features`, as given for this package alone.
    pub features: Vec<String>,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--all-features`.
    pub all_features: bool,
    /// `--locked`, `--offline`, `--frozen` as given to the build.
    pub cargo_flags: Vec<String>,
    /// The environment the build's cargo gets from the plan.
    pub env: BTreeMap<String, String>,
}

impl Query {
    /// The arguments of `cargo`.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "tree",
            "-e",
            "normal,build",
            "--charset",
            "ascii",
            "--format",
            tree::FORMAT,
            "--manifest-path",
            self.cargo_manifest.as_str(),
            "-p",
            &self.package,
            "--target",
            &self.target,
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        if self.no_default_features {
            args.push("--no-default-features".into());
        }
        if self.all_features {
            args.push("--all-features".into());
        }
        if !self.features.is_empty() {
            args.push("--features".into());
            args.push(self.features.join(","));
        }
        args.extend(self.cargo_flags.iter().cloned());
        args
    }

    /// The command line, for messages.
    pub fn command_line(&self) -> String {
        format!("cargo {}", self.args().join(" "))
    }

    /// What the cache entry is named after: everything but the files.
    fn key(&self) -> String {
        let mut f = Fingerprint::new();
        f.field(
            "format",
            &format!("{} {}", ENTRIES.version(), env!("CARGO_PKG_VERSION")),
        );
        f.field("dir", self.workspace_root.as_str());
        for a in self.args() {
            f.field("arg", &a);
        }
        f.env("env", &self.env);
        f.finish()
    }
}

/// A package's view, or why it could not be had (cargo's message).
pub type Answer = Result<View, String>;

/// One stored answer.
#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    files: Vec<Utf8PathBuf>,
    fingerprint: String,
    view: View,
}

/// Answers every query (in the same order), running the misses concurrently.
pub fn views(queries: &[Query]) -> Vec<Answer> {
    const AT_ONCE: usize = 16;
    let cache = MetadataCache::from_env();
    let cache = cache.as_ref();
    let mut out: Vec<Option<Answer>> = vec![None; queries.len()];
    for (qs, slots) in queries.chunks(AT_ONCE).zip(out.chunks_mut(AT_ONCE)) {
        std::thread::scope(|s| {
            for (q, slot) in qs.iter().zip(slots.iter_mut()) {
                s.spawn(move || *slot = Some(view(q, cache).map(|(v, _)| v)));
            }
        });
    }
    out.into_iter()
        .map(|a| a.unwrap_or_else(|| Err("not asked".into())))
        .collect()
}

/// Answers one query through `cache`; `true` when the answer came from it.
pub(super) fn view(q: &Query, cache: Option<&MetadataCache>) -> Result<(View, bool), String> {
    let path = cache.map(|c| c.subdir("tree").join(format!("{}.json", &q.key()[..32])));
    if let Some(path) = &path
        && let Some(view) = stored(path, q)
    {
        return Ok((view, true));
    }
    let started = SystemTime::now();
    let view = run(q)?;
    if let Some(path) = &path {
        store(path, q, &view, cache, started);
    }
    Ok((view, false))
}

fn stored(path: &std::path::Path, q: &Query) -> Option<View> {
    let entry = ENTRIES.load(path)?;
    if entry.key != q.key() {
        return None;
    }
    let (now, _) = fingerprint(&q.workspace_root, &entry.files, true);
    (now == entry.fingerprint).then_some(entry.view)
}

fn store(
    path: &std::path::Path,
    q: &Query,
    view: &View,
    cache: Option<&MetadataCache>,
    started: SystemTime,
) {
    let files = inputs(q, view, cache);
    let (fingerprint, newest) = fingerprint(&q.workspace_root, &files, false);
    if newest.is_some_and(|t| unsettled(t, started)) {
        return;
    }
    let entry = Entry {
        key: q.key(),
        files,
        fingerprint,
        view: view.clone(),
    };
    // A cache that cannot be written only costs speed.
    ENTRIES.save_or_skip(path, &entry);
}

/// The digest of the files an answer depends on (contents, or absence) and of the
/// `CARGO*`/`RUSTUP*`/`PATH` variables, and the newest modification time among the files.
/// Hundreds of answers share most of their files (the lock file, config files upward,
/// rustup's channel manifests of a few MB each), so when checking (`memo`) each file is read
/// once per process; storing reads them again, after the `cargo tree` that may have written
/// the lock file.
fn fingerprint(
    root: &Utf8Path,
    files: &[Utf8PathBuf],
    memo: bool,
) -> (String, Option<std::time::SystemTime>) {
    type Memo = Mutex<HashMap<Utf8PathBuf, (String, Option<SystemTime>)>>;
    type Whole = Mutex<HashMap<(Utf8PathBuf, Vec<Utf8PathBuf>), (String, Option<SystemTime>)>>;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    // The answers of one workspace usually depend on the same files: their digest once.
    static WHOLE: OnceLock<Whole> = OnceLock::new();
    let key = (root.to_path_buf(), files.to_vec());
    if memo
        && let Some(known) = WHOLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
    {
        return known.clone();
    }
    let one = |file: &Utf8PathBuf| {
        let mut f = Fingerprint::new();
        f.file(file);
        let newest = f.newest();
        (f.finish(), newest)
    };
    let mut f = Fingerprint::new();
    f.field("format", &ENTRIES.version().to_string());
    f.field("dir", root.as_str());
    f.env(
        "env",
        env_vars(|k| k.starts_with("CARGO") || k.starts_with("RUSTUP") || k == "PATH"),
    );
    let mut newest: Option<SystemTime> = None;
    for file in files {
        let (digest, t) = if memo {
            // Held while reading, so that threads asking for the same file read it once.
            let mut known = MEMO
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            known
                .entry(file.clone())
                .or_insert_with(|| one(file))
                .clone()
        } else {
            one(file)
        };
        f.field(&format!("file {file}"), &digest);
        newest = newest.max(t);
    }
    let answer = (f.finish(), newest);
    if memo {
        WHOLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, answer.clone());
    }
    answer
}

/// The files an answer depends on (present or not).
fn inputs(q: &Query, view: &View, cache: Option<&MetadataCache>) -> Vec<Utf8PathBuf> {
    let mut files = read_upward(&q.workspace_root);
    files.push(q.workspace_root.join("Cargo.lock"));
    for dir in view.path_packages() {
        files.push(Utf8PathBuf::from(dir).join("Cargo.toml"));
    }
    // A member outside the closure still shares the lock file's resolution.
    if let Ok((info, _)) = workspace::load_with(&q.workspace_root, cache) {
        files.extend(info.packages.iter().map(|p| p.dir.join("Cargo.toml")));
    }
    files.extend(rustup_files());
    files.sort();
    files.dedup();
    files
}

/// rustup's settings (the default toolchain) and each toolchain's channel manifest, which
/// `rustup update` rewrites.
fn rustup_files() -> Vec<Utf8PathBuf> {
    let Some(home) = rustup_home().and_then(|h| Utf8PathBuf::from_path_buf(h).ok()) else {
        return Vec::new();
    };
    let mut files = vec![home.join("settings.toml")];
    if let Ok(rd) = home.join("toolchains").read_dir_utf8() {
        for e in rd.flatten() {
            files.push(e.path().join("lib/rustlib/multirust-channel-manifest.toml"));
        }
    }
    files
}

/// Runs `cargo tree` for `q`.
fn run(q: &Query) -> Result<View, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(q.args())
        .envs(&q.env)
        .env("CARGO_TERM_COLOR", "never")
        .current_dir(&q.workspace_root)
        .output()
        .map_err(|e| format!("could not run `{cargo} tree`: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("Blocking") && !l.starts_with("Updating"))
            .take(3)
            .collect();
        return Err(format!("`cargo tree` failed: {}", said.join(" / ")));
    }
    tree::parse(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| "`cargo tree` printed something else than a tree".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture of `tests/it/run_onebinary.rs`: path packages and registry ones.
    fn query(package: &str) -> Query {
        let root = Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onebinary");
        Query {
            cargo_manifest: root.join("Cargo.toml"),
            workspace_root: root,
            package: package.into(),
            target: "x86_64-unknown-linux-gnu".into(),
            features: Vec::new(),
            no_default_features: false,
            all_features: false,
            cargo_flags: vec!["--locked".into()],
            env: BTreeMap::new(),
        }
    }

    #[test]
    fn views_come_from_cargo_tree_then_from_the_cache() {
        let store = tempfile::tempdir().unwrap();
        let cache = MetadataCache::at(store.path());
        let (a, cached) = view(&query("onebin-a"), Some(&cache)).unwrap();
        assert!(!cached);
        let (b, _) = view(&query("onebin-b"), Some(&cache)).unwrap();
        let conflict = a.conflict(&b).expect("the shared library differs");
        assert!(conflict.node.package.starts_with("onebin-shared v0.1.0 ("));
        assert_eq!(
            (conflict.ours, conflict.theirs),
            (vec!["extra".to_string()], vec![])
        );
        // Both closures hold the registry crates, proc-macros for the host.
        assert!(
            a.nodes
                .keys()
                .any(|k| k.package.starts_with("tokio v1.") && !k.host)
        );
        assert!(
            a.nodes
                .keys()
                .any(|k| k.package.contains("(proc-macro)") && k.host)
        );
        let (again, cached) = view(&query("onebin-a"), Some(&cache)).unwrap();
        assert!(cached, "unchanged inputs are answered from the cache");
        assert_eq!(again, a);
        // Another feature flag is another question.
        let mut q = query("onebin-a");
        q.no_default_features = true;
        assert!(!view(&q, Some(&cache)).unwrap().1);
        // A package that does not exist is cargo's error, not a view.
        let err = view(&query("no-such-package"), Some(&cache)).unwrap_err();
        assert!(err.contains("cargo tree"), "{err}");
    }
}
