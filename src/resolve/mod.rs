//! Stage 2: the manifest + `cargo metadata` → one fully resolved record per (artifact, target).
//!
//! Every inherited setting is merged here (defaults → workspace → artifact), every bin and
//! package is looked up, every include glob expanded, so that later stages read final values.

mod artifact;
mod cache;
mod deploy;
mod features;
mod includes;
mod remap;
mod settle;
mod target_dirs;
mod tree;
mod workspace;
mod workspace_info;

#[cfg(test)]
mod cache_tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::Utf8PathBuf;
use miette::SourceSpan;

use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, closest, suggest};
use crate::manifest::values::ArtifactKind;
use crate::manifest::{ArtifactDecl, Layer, Manifest, WorkspaceDecl, normalize};
pub use artifact::{Build, CargoCall, Identity, Inputs, Packaging, ResolvedArtifact};
pub use deploy::{DeploySettings, deploy_name};
pub use features::{Answer, Query, views};
pub(crate) use includes::{IncludeExpander, clean_path};
pub use includes::{IncludeFile, IncludeRule, KeyFile};
pub use remap::pair as remap_pair;
pub use target_dirs::{ZIG_HOST_DIR, host_triple, split as split_target_dirs};
pub use tree::{Conflict, NodeKey, View, package_of};
pub use workspace::{PackageInfo, WorkspaceError, WorkspaceInfo, load_all};

/// Dependencies that make a bin a function when discovered.
pub const FUNCTION_CRATES: &[&str] = &["lambda_runtime", "lambda_http"];
/// Dependencies that make a bin an extension when discovered.
pub const EXTENSION_CRATES: &[&str] = &["lambda-extension", "lambda_extension"];

/// The resolved manifest.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The manifest it came from.
    pub manifest: Manifest,
    /// One record per (artifact, target), in manifest order.
    pub artifacts: Vec<ResolvedArtifact>,
    /// What `cargo metadata` said about each workspace directory of the manifest that it
    /// could read (absolute, normalized), for the checks that compare with Cargo.toml.
    pub workspaces: BTreeMap<Utf8PathBuf, WorkspaceInfo>,
}

/// Where lambda-batch keeps answers of kind `kind` between runs (`metadata`, `tree`,
/// `tools`): under `$LAMBDA_BATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/lambda-batch`, else
/// `~/.cache/lambda-batch`; `None` when `LAMBDA_BATCH_CACHE_DIR=""` turns that off.
pub fn local_cache_dir(kind: &str) -> Option<std::path::PathBuf> {
    cache::MetadataCache::from_env().map(|c| c.subdir(kind))
}

/// Resolves every workspace, artifact and setting; collects every problem.
pub fn resolve(manifest: Manifest) -> Result<Resolved, ManifestErrors> {
    resolve_with(manifest, None)
}

/// [`resolve`], with every artifact's profile replaced by `profile` (`run --profile`).
pub fn resolve_with(manifest: Manifest, profile: Option<&str>) -> Result<Resolved, ManifestErrors> {
    let (resolved, errors) = resolve_partial(manifest, profile);
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(ManifestErrors(errors).finish(&resolved.manifest.source))
    }
}

/// [`resolve_with`], returning what resolved (every artifact without a problem of its own)
/// along with every problem found.
pub fn resolve_partial(
    manifest: Manifest,
    profile: Option<&str>,
) -> (Resolved, Vec<ManifestError>) {
    resolve_partial_with(manifest, profile, &load_all)
}

/// How the workspaces of a manifest are read: each directory (absolute) to its description,
/// in order. [`load_all`] asks `cargo metadata`; the fuzz targets give fixed descriptions, so
/// that they exercise resolution without starting a process.
pub type Loader<'a> = &'a dyn Fn(&[Utf8PathBuf]) -> Vec<Result<WorkspaceInfo, WorkspaceError>>;

/// [`resolve_partial`], reading the workspaces with `load`.
pub fn resolve_partial_with(
    manifest: Manifest,
    profile: Option<&str>,
    load: Loader<'_>,
) -> (Resolved, Vec<ManifestError>) {
    let mut errors = Vec::new();

    // One cargo metadata per distinct directory, all at once.
    let dirs: Vec<Utf8PathBuf> = manifest
        .workspaces
        .iter()
        .map(|w| normalize(&manifest.dir.join(&w.path.value)))
        .collect();
    let mut unique: Vec<Utf8PathBuf> = dirs.clone();
    unique.sort();
    unique.dedup();
    let loaded: HashMap<Utf8PathBuf, Result<WorkspaceInfo, WorkspaceError>> =
        unique.iter().cloned().zip(load(&unique)).collect();

    let mut expander = IncludeExpander::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (decl, dir) in manifest.workspaces.iter().zip(&dirs) {
        let info = match &loaded[dir] {
            Ok(info) => info,
            Err(e) => {
                errors.push(
                    ManifestError::new(
                        ErrorCode::Workspace,
                        e.message.clone(),
                        decl.path.span,
                        "not a cargo workspace",
                    )
                    .with_help(e.help.clone()),
                );
                continue;
            }
        };
        let scope: Vec<&PackageInfo> = info
            .packages
            .iter()
            .filter(|p| dir == &info.root || p.dir.starts_with(dir))
            .collect();
        for a in &decl.artifacts {
            match find_bin(a, &scope) {
                Ok(pkg) => candidates.push(Candidate {
                    decl: Some(a),
                    workspace: decl,
                    dir: dir.clone(),
                    info,
                    package: pkg,
                    bin: a.bin.as_ref().unwrap_or(&a.name).value.clone(),
                    name: a.name.value.clone(),
                    kind: a.kind,
                    span: a.name.span,
                }),
                Err(e) => errors.push(e),
            }
        }
        if let Some(discover) = decl.discover.as_ref().filter(|d| d.value) {
            for pkg in &scope {
                let Some(kind) = discovered_kind(pkg) else {
                    continue;
                };
                for bin in &pkg.bins {
                    candidates.push(Candidate {
                        decl: None,
                        workspace: decl,
                        dir: dir.clone(),
                        info,
                        package: pkg,
                        bin: bin.clone(),
                        name: bin.clone(),
                        kind,
                        span: discover.span,
                    });
                }
            }
        }
    }

    // Two declarations of one name are an error whether or not their bins resolved.
    let mut declared: HashMap<&str, SourceSpan> = HashMap::new();
    for a in manifest.workspaces.iter().flat_map(|w| &w.artifacts) {
        match declared.get(a.name.value.as_str()) {
            Some(first) => errors.push(duplicate(&a.name.value, a.name.span, *first)),
            None => {
                declared.insert(&a.name.value, a.name.span);
            }
        }
    }
    // Explicit declarations win over discovered ones; any other repeat of a name is an error.
    let explicit: BTreeSet<String> = candidates
        .iter()
        .filter(|c| c.decl.is_some())
        .map(|c| c.name.clone())
        .collect();
    candidates.retain(|c| c.decl.is_some() || !explicit.contains(&c.name));
    let mut seen: HashMap<String, &Candidate> = HashMap::new();
    let mut unique_candidates = Vec::new();
    for c in &candidates {
        if let Some(first) = seen.get(&c.name) {
            // Two declarations were reported above.
            if c.decl.is_none() || first.decl.is_none() {
                let (a, b) = (&first.package.name, &c.package.name);
                let kind = c.kind.as_str();
                let mut e = ManifestError::new(
                    ErrorCode::DuplicateArtifact,
                    format!(
                        "artifact name `{}` is found twice by discover=true: bin `{}` of package `{a}` and bin `{}` of package `{b}`",
                        c.name, first.bin, c.bin
                    ),
                    c.span,
                    "discovers both",
                );
                if first.span != c.span {
                    e = e.with_label(first.span, "first found here");
                }
                errors.push(
                    e.with_help(format!("declare them explicitly (explicit nodes win over discovered ones): `{kind} \"{}\" package=\"{a}\"` and `{kind} \"{b}-{}\" bin=\"{}\" package=\"{b}\"`", c.name, c.bin, c.bin)),
                );
            }
            continue;
        }
        seen.insert(c.name.clone(), c);
        unique_candidates.push(c);
    }

    let mut artifacts = Vec::new();
    let mut reported_includes = BTreeSet::new();
    let extensions: BTreeSet<&str> = unique_candidates
        .iter()
        .filter(|c| c.kind == ArtifactKind::Extension)
        .map(|c| c.name.as_str())
        .collect();
    let mut reported_layers = BTreeSet::new();
    for c in unique_candidates {
        let layers: Vec<&Layer> = [
            Some(&manifest.defaults),
            Some(&c.workspace.layer),
            c.decl.map(|d| &d.layer),
        ]
        .into_iter()
        .flatten()
        .collect();
        let bases: Vec<Utf8PathBuf> =
            vec![manifest.dir.clone(), c.dir.clone(), c.package.dir.clone()];
        errors.extend(deploy::unknown_layers(
            &layers,
            &extensions,
            &mut reported_layers,
        ));
        match settle::settle(
            &manifest,
            c,
            &layers,
            &bases,
            profile,
            &mut expander,
            &mut reported_includes,
        ) {
            Ok(mut records) => artifacts.append(&mut records),
            Err(mut es) => errors.append(&mut es),
        }
    }

    // The same path remapping for every artifact of the manifest (see `remap`).
    let roots: Vec<Utf8PathBuf> = loaded
        .values()
        .filter_map(|r| r.as_ref().ok())
        .map(|info| info.root.clone())
        .collect();
    // The host-triple zig calls' own target dirs first: the remapping covers them.
    let nested = target_dirs::split(&mut artifacts, target_dirs::host_triple());
    let target_dirs: Vec<Utf8PathBuf> = artifacts
        .iter()
        .map(|a| a.cargo.target_dir.clone())
        .collect();
    let home = crate::fingerprint::cargo_home();
    let remapping = remap::flags(
        &manifest.dir,
        &roots,
        &target_dirs,
        &nested,
        home.as_deref(),
    );
    let mut config: HashMap<(Utf8PathBuf, String), Vec<String>> = HashMap::new();
    for a in &mut artifacts {
        a.cargo.path_remapping = remapping.clone();
        let env = |k: &str| {
            a.cargo
                .env
                .get(k)
                .cloned()
                .or_else(|| std::env::var(k).ok())
        };
        a.cargo.config_rustflags = config
            .entry((a.identity.workspace_root.clone(), a.build.target.clone()))
            .or_insert_with(|| {
                remap::config_rustflags(
                    &a.identity.workspace_root,
                    &a.build.target,
                    &env,
                    home.as_deref(),
                )
            })
            .clone();
    }

    let workspaces = loaded
        .into_iter()
        .filter_map(|(dir, info)| info.ok().map(|info| (dir, info)))
        .collect();
    (
        Resolved {
            manifest,
            artifacts,
            workspaces,
        },
        errors,
    )
}

/// An artifact found (declared or discovered) in a workspace, before its settings are merged.
struct Candidate<'a> {
    decl: Option<&'a ArtifactDecl>,
    workspace: &'a WorkspaceDecl,
    dir: Utf8PathBuf,
    info: &'a WorkspaceInfo,
    package: &'a PackageInfo,
    bin: String,
    name: String,
    kind: ArtifactKind,
    span: SourceSpan,
}

/// The error for a second use of the artifact name `name`.
fn duplicate(name: &str, second: SourceSpan, first: SourceSpan) -> ManifestError {
    ManifestError::new(ErrorCode::DuplicateArtifact, format!("artifact name `{name}` is used twice"), second, "second use")
        .with_label(first, "first use")
        .with_help("artifact names name output folders and must be unique in the manifest: rename one (the bin can stay the same with `bin=`)")
}

/// What kind of artifact a package's bins are, judged by its dependencies.
fn discovered_kind(pkg: &PackageInfo) -> Option<ArtifactKind> {
    let has = |names: &[&str]| names.iter().any(|n| pkg.dependencies.contains(*n));
    if has(FUNCTION_CRATES) {
        Some(ArtifactKind::Function)
    } else if has(EXTENSION_CRATES) {
        Some(ArtifactKind::Extension)
    } else {
        None
    }
}

/// The package of `scope` that has the artifact's bin.
fn find_bin<'a>(
    a: &ArtifactDecl,
    scope: &[&'a PackageInfo],
) -> Result<&'a PackageInfo, ManifestError> {
    let bin = a.bin.as_ref().unwrap_or(&a.name);
    let bin_span = bin.span;
    if let Some(pkg_name) = &a.package {
        let Some(pkg) = scope.iter().find(|p| p.name == pkg_name.value) else {
            let names: Vec<&str> = scope.iter().map(|p| p.name.as_str()).collect();
            return Err(ManifestError::new(
                ErrorCode::UnknownPackage,
                format!("no package `{}` in this workspace", pkg_name.value),
                pkg_name.span,
                "unknown package",
            )
            .with_help(suggest(&pkg_name.value, "packages", &names)));
        };
        if !pkg.bins.contains(&bin.value) {
            let bins: Vec<&str> = pkg.bins.iter().map(String::as_str).collect();
            return Err(ManifestError::new(
                ErrorCode::UnknownBin,
                format!("package `{}` has no bin target `{}`", pkg.name, bin.value),
                bin_span,
                "unknown bin",
            )
            .with_label(pkg_name.span, "in this package")
            .with_help(suggest(
                &bin.value,
                &format!("bins of `{}`", pkg.name),
                &bins,
            )));
        }
        return Ok(pkg);
    }
    let having: Vec<&'a PackageInfo> = scope
        .iter()
        .copied()
        .filter(|p| p.bins.contains(&bin.value))
        .collect();
    match having.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut bins: Vec<&str> = scope
                .iter()
                .flat_map(|p| p.bins.iter().map(String::as_str))
                .collect();
            bins.sort();
            bins.dedup();
            let mut help = suggest(&bin.value, "bins in this workspace", &bins);
            if a.bin.is_none() && closest(&bin.value, bins.iter().copied()).is_none() {
                help.push_str("; if the artifact name differs from the bin's, add `bin=\"...\"`");
            }
            Err(ManifestError::new(
                ErrorCode::UnknownBin,
                format!("no bin target `{}` in this workspace", bin.value),
                bin_span,
                "unknown bin",
            )
            .with_help(help))
        }
        many => {
            let names: Vec<String> = many.iter().map(|p| format!("`{}`", p.name)).collect();
            Err(ManifestError::new(
                ErrorCode::AmbiguousBin,
                format!(
                    "bin `{}` is in {} packages: {}",
                    bin.value,
                    many.len(),
                    names.join(", ")
                ),
                bin_span,
                "ambiguous bin",
            )
            .with_help(format!("say which with `package=\"{}\"`", many[0].name)))
        }
    }
}
