//! Finding the cargo workspaces under a directory and their Lambda bins, with the resolve
//! stage's own `cargo metadata` reader, dependency lists and cargo-lambda configuration.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};

use crate::manifest::values::ArtifactKind;
use crate::migrate::cargo_lambda::Config;
use crate::resolve::{EXTENSION_CRATES, FUNCTION_CRATES, PackageInfo, WorkspaceInfo, load_all};

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Workspaces (or lone packages) with at least one Lambda bin, by directory.
    pub found: Vec<Found>,
    /// Every directory `cargo metadata` answered for.
    pub read: Vec<Utf8PathBuf>,
    /// Directories `cargo metadata` failed on, with why.
    pub skipped: Vec<(Utf8PathBuf, String)>,
}

/// A directory to write as a `workspace` node.
#[derive(Debug, Clone)]
pub struct Found {
    /// The directory (absolute).
    pub dir: Utf8PathBuf,
    /// Its Lambda bins, by package then bin name.
    pub bins: Vec<LambdaBin>,
    /// cargo-lambda's configuration there.
    pub config: Config,
}

/// A bin that depends on a Lambda runtime crate.
#[derive(Debug, Clone)]
pub struct LambdaBin {
    /// Function or extension.
    pub kind: ArtifactKind,
    /// Its package.
    pub package: String,
    /// The package's directory.
    pub package_dir: Utf8PathBuf,
    /// The bin target.
    pub bin: String,
    /// The features its package declares.
    pub features: BTreeSet<String>,
    /// What makes it one: a dependency (`lambda_runtime`, ...) or cargo-lambda's configuration
    /// (`[package.metadata.lambda]`).
    pub because: String,
    /// Another package of the same workspace has a bin of this name (so `package=` is needed).
    pub shared_name: bool,
}

/// Scans `root` for cargo workspaces and packages (skipping `target/` and hidden directories);
/// `context` is cargo-lambda's context, for `CargoLambda.toml`.
pub fn scan(root: &Utf8Path, context: Option<&str>) -> Scan {
    let (roots, packages) = manifests(root);
    let mut scan = Scan::default();
    let mut covered: BTreeSet<Utf8PathBuf> = BTreeSet::new();
    let mut loaded: Vec<(Utf8PathBuf, WorkspaceInfo)> = Vec::new();
    for (dir, result) in roots.iter().zip(load_all(&roots)) {
        match result {
            Ok(info) => {
                covered.extend(info.packages.iter().map(|p| p.dir.clone()));
                covered.insert(dir.clone());
                loaded.push((dir.clone(), info));
            }
            Err(e) => scan.skipped.push((dir.clone(), e.message)),
        }
    }
    // Packages no scanned workspace claims stand for themselves.
    let lone: Vec<Utf8PathBuf> = packages
        .into_iter()
        .filter(|d| !covered.contains(d))
        .collect();
    for (dir, result) in lone.iter().zip(load_all(&lone)) {
        match result {
            Ok(info) => loaded.push((dir.clone(), info)),
            Err(e) => scan.skipped.push((dir.clone(), e.message)),
        }
    }
    for (dir, info) in loaded {
        // As resolve scopes a workspace path: everything at the root, else what is below it.
        let scope: Vec<&PackageInfo> = info
            .packages
            .iter()
            .filter(|p| dir == info.root || p.dir.starts_with(&dir))
            .collect();
        let config = Config::read(&dir, &info, context);
        let bins = lambda_bins(&scope, &config);
        scan.read.push(dir.clone());
        if !bins.is_empty() {
            scan.found.push(Found { dir, bins, config });
        }
    }
    scan.found.sort_by(|a, b| a.dir.cmp(&b.dir));
    scan.read.sort();
    scan
}

/// The directories under `root` whose Cargo.toml declares a `[workspace]`, and those that
/// declare a `[package]`.
fn manifests(root: &Utf8Path) -> (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) {
    let mut roots = Vec::new();
    let mut packages = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || e.file_name()
                    .to_str()
                    .is_some_and(|n| !n.starts_with('.') && n != "target")
        });
    for entry in walk.flatten() {
        if !entry.file_type().is_file() || entry.file_name() != "Cargo.toml" {
            continue;
        }
        let Some(path) = Utf8Path::from_path(entry.path()) else {
            continue;
        };
        let Some(dir) = path.parent() else {
            continue;
        };
        let Ok(table) = std::fs::read_to_string(path)
            .map_err(|_| ())
            .and_then(|t| toml::from_str::<toml::Table>(&t).map_err(|_| ()))
        else {
            continue;
        };
        if table.contains_key("workspace") {
            roots.push(dir.to_path_buf());
        } else if table.contains_key("package") {
            packages.push(dir.to_path_buf());
        }
    }
    (roots, packages)
}

/// The bins of the packages that depend on a Lambda runtime crate, functions before
/// extensions when a package depends on both (as `discover=true` decides), and those that
/// cargo-lambda's configuration names (functions unless it says `extension = true`).
fn lambda_bins(scope: &[&PackageInfo], config: &Config) -> Vec<LambdaBin> {
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for p in scope {
        for b in &p.bins {
            *owners.entry(b.as_str()).or_default() += 1;
        }
    }
    let mut packages: Vec<&&PackageInfo> = scope.iter().collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for p in packages {
        let find = |crates: &[&str]| {
            crates
                .iter()
                .find(|c| p.dependencies.contains(**c))
                .map(|c| c.to_string())
        };
        let by_dependency = match (find(FUNCTION_CRATES), find(EXTENSION_CRATES)) {
            (Some(c), _) => Some((ArtifactKind::Function, c)),
            (None, Some(c)) => Some((ArtifactKind::Extension, c)),
            (None, None) => None,
        };
        let mut bins = p.bins.clone();
        bins.sort();
        for bin in bins {
            let Some((kind, because)) = by_dependency
                .clone()
                .or_else(|| Some((ArtifactKind::Function, config.marks(&p.name, &bin)?)))
            else {
                continue;
            };
            out.push(LambdaBin {
                kind,
                package: p.name.clone(),
                package_dir: p.dir.clone(),
                shared_name: owners.get(bin.as_str()).copied().unwrap_or(0) > 1,
                bin,
                because,
                features: p.features.clone(),
            });
        }
    }
    out
}
