//! `cargo metadata` for every workspace of the manifest, in parallel, one call per directory,
//! answered from [`super::cache`] while the workspace's files are unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use camino::{Utf8Path, Utf8PathBuf};

use super::cache::MetadataCache;
pub use super::workspace_info::{PackageInfo, WorkspaceInfo};

/// Why a workspace could not be read.
#[derive(Debug, Clone)]
pub struct WorkspaceError {
    /// One line.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// Reads every directory in `dirs` (absolute), concurrently; results in the same order.
pub fn load_all(dirs: &[Utf8PathBuf]) -> Vec<Result<WorkspaceInfo, WorkspaceError>> {
    // `cargo metadata` is a child process, so threads waiting on it cost nothing: run them all
    // at once (bounded), not limited to the CPU-sized rayon pool.
    const AT_ONCE: usize = 16;
    let cache = MetadataCache::from_env();
    let cache = cache.as_ref();
    let mut out: Vec<Option<Result<WorkspaceInfo, WorkspaceError>>> = vec![None; dirs.len()];
    for (chunk_dirs, chunk_out) in dirs.chunks(AT_ONCE).zip(out.chunks_mut(AT_ONCE)) {
        std::thread::scope(|s| {
            for (dir, slot) in chunk_dirs.iter().zip(chunk_out.iter_mut()) {
                s.spawn(move || *slot = Some(load_with(dir, cache).map(|(info, _)| info)));
            }
        });
    }
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(WorkspaceError {
                    message: "not read".into(),
                    help: String::new(),
                })
            })
        })
        .collect()
}

/// Reads one workspace directory through `cache`; `true` when the answer came from it.
pub(super) fn load_with(
    dir: &Utf8Path,
    cache: Option<&MetadataCache>,
) -> Result<(WorkspaceInfo, bool), WorkspaceError> {
    if dir.is_file() {
        return Err(WorkspaceError {
            message: format!("workspace path `{dir}` is a file, not a directory"),
            help: "name the directory that holds Cargo.toml, not the file itself".into(),
        });
    }
    if !dir.is_dir() {
        return Err(WorkspaceError {
            message: format!("workspace directory `{dir}` does not exist"),
            help: "the path is relative to lambda.kdl's directory".into(),
        });
    }
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(WorkspaceError {
            message: format!("`{dir}` has no Cargo.toml"),
            help: "point `workspace` at a cargo workspace root or a package directory".into(),
        });
    }
    if let Some(info) = cache.and_then(|c| c.get(dir)) {
        return Ok((info, true));
    }
    let started = SystemTime::now();
    let info = metadata(dir, &manifest)?;
    if let Some(c) = cache {
        c.put(dir, &info, started);
    }
    Ok((info, false))
}

/// Runs `cargo metadata --no-deps` for `manifest` (in `dir`).
fn metadata(dir: &Utf8Path, manifest: &Utf8Path) -> Result<WorkspaceInfo, WorkspaceError> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .current_dir(dir)
        .no_deps()
        .exec()
        .map_err(|e| match e {
            cargo_metadata::Error::Io(e) => {
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                WorkspaceError {
                    message: format!("could not run `{cargo} metadata`: {e}"),
                    help: "install Rust with rustup (https://rustup.rs) so that `cargo` is on PATH"
                        .into(),
                }
            }
            cargo_metadata::Error::CargoMetadata { stderr } => {
                let first = stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n  ");
                WorkspaceError {
                    message: format!("`cargo metadata` failed for `{dir}`"),
                    help: format!("cargo says:\n  {first}"),
                }
            }
            e => WorkspaceError {
                message: format!("could not read `cargo metadata` output for `{dir}`: {e}"),
                help: "is this cargo too old? lambda-batch needs cargo 1.70 or newer".into(),
            },
        })?;
    let packages = metadata
        .workspace_packages()
        .into_iter()
        .map(|p| PackageInfo {
            name: p.name.to_string(),
            id: p.id.clone(),
            dir: p
                .manifest_path
                .parent()
                .map(Utf8Path::to_path_buf)
                .unwrap_or_default(),
            bins: p
                .targets
                .iter()
                .filter(|t| t.is_bin())
                .map(|t| t.name.clone())
                .collect(),
            features: p.features.keys().cloned().collect(),
            dependencies: p
                .dependencies
                .iter()
                .filter(|d| d.kind == cargo_metadata::DependencyKind::Normal)
                .map(|d| d.name.clone())
                .collect(),
            metadata: Some(p.metadata.clone()).filter(serde_json::Value::is_object),
        })
        .collect();
    let root_manifest = metadata.workspace_root.join("Cargo.toml");
    let (profiles, release_keys) = profiles(&root_manifest);
    Ok(WorkspaceInfo {
        root: metadata.workspace_root.clone(),
        manifest_path: root_manifest,
        target_directory: metadata.target_directory.clone(),
        packages,
        profiles,
        release_keys,
        metadata: Some(metadata.workspace_metadata.clone()).filter(serde_json::Value::is_object),
    })
}

/// Profile names and `[profile.release]` keys of a Cargo.toml (empty when unreadable: cargo
/// metadata already accepted the file, so this only feeds optional checks).
fn profiles(manifest: &Utf8Path) -> (BTreeSet<String>, BTreeSet<String>) {
    #[derive(serde::Deserialize, Default)]
    struct Doc {
        #[serde(default)]
        profile: BTreeMap<String, toml::Table>,
    }
    let doc: Doc = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    let release = doc
        .profile
        .get("release")
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    (doc.profile.into_keys().collect(), release)
}

/// Profile names defined in cargo config files that apply to `dir` (`.cargo/config.toml` in it
/// and its ancestors, and in CARGO_HOME).
pub(super) fn config_profiles(dir: &Utf8Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    let mut d = Some(dir);
    while let Some(x) = d {
        files.push(x.join(".cargo/config.toml"));
        files.push(x.join(".cargo/config"));
        d = x.parent();
    }
    if let Some(home) = crate::fingerprint::cargo_home() {
        files.push(home.join("config.toml"));
        files.push(home.join("config"));
    }
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(table) = toml::from_str::<toml::Table>(&text) else {
            continue;
        };
        if let Some(toml::Value::Table(p)) = table.get("profile") {
            out.extend(p.keys().cloned());
        }
    }
    out
}
