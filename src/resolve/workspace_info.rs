//! What resolution keeps of a cargo workspace: the answer of `cargo metadata --no-deps` and
//! of its root Cargo.toml, as the metadata cache stores it.

use std::collections::BTreeSet;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

/// What resolution needs to know about one package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageInfo {
    /// The package name.
    pub name: String,
    /// Cargo's id of the package (what its build messages name it by).
    pub id: cargo_metadata::PackageId,
    /// Its directory.
    pub dir: Utf8PathBuf,
    /// Its bin targets.
    pub bins: Vec<String>,
    /// Its feature names.
    pub features: BTreeSet<String>,
    /// Names of its normal (non-dev, non-build) dependencies.
    pub dependencies: BTreeSet<String>,
    /// Its `[package.metadata]` table, when it has one: cargo-lambda reads its `lambda` key.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// A cargo workspace as `cargo metadata` and its root Cargo.toml describe it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkspaceInfo {
    /// The cargo workspace root.
    pub root: Utf8PathBuf,
    /// The root Cargo.toml.
    pub manifest_path: Utf8PathBuf,
    /// Cargo's own target directory for it.
    pub target_directory: Utf8PathBuf,
    /// Every workspace member.
    pub packages: Vec<PackageInfo>,
    /// Profile names defined in the root Cargo.toml (besides the built-in ones).
    pub profiles: BTreeSet<String>,
    /// Keys the root Cargo.toml sets in `[profile.release]`.
    pub release_keys: BTreeSet<String>,
    /// Its `[workspace.metadata]` table, when it has one: cargo-lambda reads its `lambda` key.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}
