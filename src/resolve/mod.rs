//! Stage 2: the manifest + `cargo metadata` → one fully resolved record per (artifact, target).
//!
//! Every inherited setting is merged here (defaults → workspace → artifact), every bin and
//! package is looked up, every include glob expanded, so that later stages read final values.

pub mod cache;
pub mod includes;
pub mod workspace;
pub mod workspace_info;

#[cfg(test)]
mod cache_tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use miette::SourceSpan;
use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{ErrorCode, ManifestError, ManifestErrors, closest, suggest};
use crate::manifest::values::{
    Arch, ArtifactKind, Compiler, GlibcVersion, Libc, OutputFormat, Runtime, TargetSpec,
};
use crate::manifest::{
    ArtifactDecl, IncludeDecl, Layer, Manifest, Spanned, WorkspaceDecl, normalize,
};
use includes::{IncludeError, IncludeExpander, IncludeFile};
use workspace::{PackageInfo, WorkspaceInfo};

/// Dependencies that make a bin a function when discovered.
pub const FUNCTION_CRATES: &[&str] = &["lambda_runtime", "lambda_http"];
/// Dependencies that make a bin an extension when discovered.
pub const EXTENSION_CRATES: &[&str] = &["lambda-extension", "lambda_extension"];

/// One artifact built for one target, with every setting final.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResolvedArtifact {
    /// The artifact name (output folder).
    pub name: String,
    /// Function or extension.
    pub kind: ArtifactKind,
    /// The workspace path as written in the manifest.
    pub workspace: String,
    /// The cargo workspace root (absolute).
    #[schemars(with = "String")]
    pub workspace_root: Utf8PathBuf,
    /// The cargo workspace's root Cargo.toml, passed as `--manifest-path`.
    #[schemars(with = "String")]
    pub cargo_manifest: Utf8PathBuf,
    /// The package that has the bin.
    pub package: String,
    /// Cargo's id of that package.
    #[schemars(with = "String")]
    pub package_id: cargo_metadata::PackageId,
    /// The package's directory.
    #[schemars(with = "String")]
    pub package_dir: Utf8PathBuf,
    /// The cargo bin target.
    pub bin: String,
    /// Found by `discover=true` rather than declared.
    pub discovered: bool,
    /// `flatten=true`.
    pub flatten: bool,
    /// `internal=true`.
    pub internal: bool,
    /// The architecture.
    pub arch: Arch,
    /// The target triple, without glibc suffix.
    pub target: String,
    /// gnu or musl.
    pub libc: Libc,
    /// The newest glibc the executable may need (gnu only): the triple's suffix or the runtime's.
    pub glibc: Option<GlibcVersion>,
    /// The cargo profile.
    pub profile: String,
    /// The build program.
    pub compiler: Compiler,
    /// binary or zip.
    pub output_format: OutputFormat,
    /// The Lambda runtime.
    pub runtime: Runtime,
    /// The output directory, placeholders expanded (absolute).
    #[schemars(with = "String")]
    pub lambda_dir: Utf8PathBuf,
    /// The cargo target directory (absolute).
    #[schemars(with = "String")]
    pub target_dir: Utf8PathBuf,
    /// Whether the manifest set `target-dir` (otherwise it is the workspace's own).
    pub target_dir_set: bool,
    /// Release optimizations in effect (profile `release` and `optimizations true`).
    pub optimizations: bool,
    /// `--config` values for the optimizations the workspace's `[profile.release]` leaves unset.
    pub profile_overrides: Vec<(String, String)>,
    /// Features of the package.
    pub features: Vec<String>,
    /// `no-default-features`.
    pub no_default_features: bool,
    /// `all-features`.
    pub all_features: bool,
    /// Environment for the cargo process.
    pub env: BTreeMap<String, String>,
    /// rustc flags: the optimization flags, then the user's.
    pub rustflags: Vec<String>,
    /// The files to ship beside the executable.
    pub includes: Vec<IncludeFile>,
    /// Where in the manifest this artifact comes from, for diagnostics.
    #[serde(skip)]
    #[schemars(skip)]
    pub span: SourceSpan,
    /// Every bin target of its package: a `--bin` of another package in the same cargo call
    /// must not name one of these (cargo would build both into one file).
    #[serde(skip)]
    #[schemars(skip)]
    pub package_bins: Vec<String>,
}

/// The resolved manifest.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The manifest it came from.
    pub manifest: Manifest,
    /// One record per (artifact, target), in manifest order.
    pub artifacts: Vec<ResolvedArtifact>,
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
    let loaded: HashMap<Utf8PathBuf, Result<WorkspaceInfo, workspace::WorkspaceError>> = unique
        .iter()
        .cloned()
        .zip(workspace::load_all(&unique))
        .collect();

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
        match settle(
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

    (
        Resolved {
            manifest,
            artifacts,
        },
        errors,
    )
}

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

/// The last layer that sets a replacing setting.
fn last<'a, T>(
    layers: &[&'a Layer],
    get: impl Fn(&'a Layer) -> &'a Option<Spanned<T>>,
) -> Option<&'a Spanned<T>> {
    layers.iter().rev().find_map(|l| get(l).as_ref())
}

/// Merges the layers for one candidate and expands it into one record per target.
fn settle(
    manifest: &Manifest,
    c: &Candidate,
    layers: &[&Layer],
    bases: &[Utf8PathBuf],
    profile_override: Option<&str>,
    expander: &mut IncludeExpander,
    reported: &mut BTreeSet<(usize, usize)>,
) -> Result<Vec<ResolvedArtifact>, Vec<ManifestError>> {
    let mut errors = Vec::new();
    let default_target = Spanned::new(
        vec![Spanned::new(
            TargetSpec::parse("x86_64").expect("x86_64 parses"),
            c.span,
        )],
        c.span,
    );
    let targets = last(layers, |l| &l.arch).unwrap_or(&default_target);
    let profile_setting = match profile_override {
        Some(p) => Some(Spanned::new(p.to_string(), c.span)),
        None => last(layers, |l| &l.profile).cloned(),
    };
    let profile = profile_setting
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_else(|| "dev".into());
    let compiler = last(layers, |l| &l.compiler)
        .map(|v| v.value)
        .unwrap_or(Compiler::CargoZigbuild);
    let output_format = last(layers, |l| &l.output_format)
        .map(|v| v.value)
        .unwrap_or(OutputFormat::Binary);
    let runtime_setting = last(layers, |l| &l.runtime);
    let runtime = runtime_setting.map(|v| v.value).unwrap_or(Runtime::Al2023);
    let lambda_dir = last(layers, |l| &l.lambda_dir)
        .map(|v| v.value.clone())
        .unwrap_or_else(|| "target/lambda".into());
    let target_dir_setting = last(layers, |l| &l.target_dir);
    let optimizations_setting = last(layers, |l| &l.optimizations)
        .map(|v| v.value)
        .unwrap_or(true);
    let no_default_features = last(layers, |l| &l.no_default_features).is_some_and(|v| v.value);
    let all_features = last(layers, |l| &l.all_features).is_some_and(|v| v.value);

    // Custom profiles must exist somewhere cargo looks, or the build fails after minutes.
    if let Some(p) = &profile_setting
        && !["dev", "release", "test", "bench"].contains(&p.value.as_str())
        && !c.info.profiles.contains(&p.value)
        && !workspace::config_profiles(&c.info.root).contains(&p.value)
    {
        errors.push(ManifestError::new(ErrorCode::BadValue, format!("profile `{}` is not defined for workspace `{}`", p.value, c.workspace.path.value), p.span, "unknown profile")
            .with_help(format!("define [profile.{}] in {} (with `inherits = \"release\"`), or use `dev` or `release`", p.value, c.info.manifest_path)));
    }

    let mut features = Vec::new();
    for l in layers {
        for f in &l.features {
            if !f.value.contains('/') && !c.package.features.contains(&f.value) {
                let known: Vec<&str> = c.package.features.iter().map(String::as_str).collect();
                errors.push(
                    ManifestError::new(
                        ErrorCode::UnknownFeature,
                        format!("package `{}` has no feature `{}`", c.package.name, f.value),
                        f.span,
                        "unknown feature",
                    )
                    .with_help(suggest(
                        &f.value,
                        &format!("features of `{}`", c.package.name),
                        &known,
                    )),
                );
            }
            if !features.contains(&f.value) {
                features.push(f.value.clone());
            }
        }
    }
    let mut env = BTreeMap::new();
    for l in layers {
        for (k, v) in &l.env {
            env.insert(k.clone(), v.value.clone());
        }
    }
    let user_rustflags: Vec<String> = layers
        .iter()
        .flat_map(|l| l.rustflags.iter().map(|f| f.value.clone()))
        .collect();

    // Includes: each layer's patterns are relative to that layer's base directory.
    let mut include_files: Vec<IncludeFile> = Vec::new();
    let mut origin: HashMap<String, (Utf8PathBuf, SourceSpan)> = HashMap::new();
    for (layer, base) in layers.iter().zip(bases) {
        for inc in &layer.includes {
            match include(expander, base, inc) {
                Ok(files) => {
                    for f in files {
                        if let Some((prev_src, prev_span)) = origin.get(&f.archive_path) {
                            if prev_src != &f.source {
                                errors.push(
                                    ManifestError::new(
                                        ErrorCode::OutputCollision,
                                        format!(
                                            "two include files would be `{}` in artifact `{}`",
                                            f.archive_path, c.name
                                        ),
                                        inc.pattern.span,
                                        "this match",
                                    )
                                    .with_label(*prev_span, "and this one")
                                    .with_help(
                                        "use `into=\"dir\"` to put one of them in another folder",
                                    ),
                                );
                            }
                            continue;
                        }
                        origin.insert(f.archive_path.clone(), (f.source.clone(), inc.pattern.span));
                        include_files.push(f);
                    }
                }
                Err(e) => {
                    let key = (inc.pattern.span.offset(), inc.pattern.span.len());
                    if reported.insert(key) {
                        errors.push(e);
                    }
                }
            }
        }
    }
    include_files.sort();

    let workspace_name = c.dir.file_name().unwrap_or("workspace").to_string();
    let target_dir = match target_dir_setting {
        Some(t) => normalize(&manifest.dir.join(&t.value)),
        None => c.info.target_directory.clone(),
    };
    let optimizations = optimizations_setting && profile == "release";
    let profile_overrides: Vec<(String, String)> = if optimizations {
        [
            ("strip", "\"symbols\""),
            ("lto", "\"thin\""),
            ("codegen-units", "1"),
            ("panic", "\"abort\""),
        ]
        .into_iter()
        .filter(|(k, _)| !c.info.release_keys.contains(*k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    } else {
        Vec::new()
    };

    let mut out = Vec::new();
    for t in &targets.value {
        let spec = t.value;
        let glibc = match spec.libc {
            Libc::Musl => None,
            Libc::Gnu => {
                let max = runtime.glibc();
                match spec.glibc {
                    Some(v) if v > max => {
                        let mut e = ManifestError::new(ErrorCode::BadValue, format!("glibc {v} is newer than {}'s glibc {max}", runtime.as_str()), t.span, "glibc too new for the runtime")
                            .with_help(format!("the function would fail on Lambda with \"GLIBC_{v} not found\": pin `.{max}` or older"));
                        if let Some(r) = runtime_setting {
                            e = e.with_label(r.span, "runtime set here");
                        }
                        errors.push(e);
                        Some(v)
                    }
                    Some(v) => Some(v),
                    None => Some(max),
                }
            }
        };
        let triple = spec.triple();
        let mut rustflags = Vec::new();
        if optimizations {
            rustflags.push("-C".to_string());
            rustflags.push(format!("target-cpu={}", spec.arch.target_cpu()));
        }
        rustflags.extend(user_rustflags.iter().cloned());
        let dir = lambda_dir
            .replace("{arch}", spec.arch.as_str())
            .replace("{target}", &triple)
            .replace("{profile}", &profile)
            .replace("{workspace}", &workspace_name);
        out.push(ResolvedArtifact {
            name: c.name.clone(),
            kind: c.kind,
            workspace: c.workspace.path.value.clone(),
            workspace_root: c.info.root.clone(),
            cargo_manifest: c.info.manifest_path.clone(),
            package: c.package.name.clone(),
            package_id: c.package.id.clone(),
            package_dir: c.package.dir.clone(),
            bin: c.bin.clone(),
            discovered: c.decl.is_none(),
            flatten: c.decl.is_some_and(|d| d.flatten),
            internal: c.decl.is_some_and(|d| d.internal),
            arch: spec.arch,
            target: triple,
            libc: spec.libc,
            glibc,
            profile: profile.clone(),
            compiler,
            output_format,
            runtime,
            lambda_dir: normalize(&manifest.dir.join(dir)),
            target_dir: target_dir.clone(),
            target_dir_set: target_dir_setting.is_some(),
            optimizations,
            profile_overrides: profile_overrides.clone(),
            features: features.clone(),
            no_default_features,
            all_features,
            env: env.clone(),
            rustflags,
            includes: include_files.clone(),
            span: c.span,
            package_bins: c.package.bins.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn include(
    expander: &mut IncludeExpander,
    base: &Utf8Path,
    inc: &IncludeDecl,
) -> Result<Vec<IncludeFile>, ManifestError> {
    let pattern = &inc.pattern;
    if crate::manifest::check::check_relative(&pattern.value).is_err() {
        // Already reported by the decoder, which checks the pattern's own text.
        return Ok(Vec::new());
    }
    match expander.expand(base, &pattern.value) {
        Ok(rels) => Ok(rels
            .into_iter()
            .map(|rel| IncludeFile {
                pattern_span: (pattern.span.offset(), pattern.span.len()),
                source: base.join(&rel),
                archive_path: includes::archive_path(inc.into.as_ref().map(|i| i.value.as_str()), &rel),
            })
            .collect()),
        Err(IncludeError::NoMatch) => Err(ManifestError::new(ErrorCode::IncludeNoMatch, format!("include pattern `{}` matches no file", pattern.value), pattern.span, "matches nothing")
            .with_help(format!("the pattern is relative to `{base}`"))),
        Err(IncludeError::Outside(rel)) => Err(ManifestError::new(ErrorCode::IncludeOutside, format!("`{rel}` (matched by `{}`) points outside `{base}`", pattern.value), pattern.span, "leaves its base directory")
            .with_help("a symlink matched by an include must point inside the directory the pattern is relative to")),
        Err(IncludeError::Io(msg)) => Err(ManifestError::new(ErrorCode::Io, msg, pattern.span, "cannot read").with_help(format!("check the permissions under `{base}`, and for a symlink loop or a dangling symlink"))),
        // Already reported by the decoder, which checks the pattern's own text.
        Err(IncludeError::BadGlob) => Ok(Vec::new()),
    }
}
