//! One candidate artifact settled: its layers (defaults → workspace → artifact) merged by each
//! setting's declared rule (`manifest::Merged`), what
//! can be checked against `cargo metadata` checked (profiles, features), its includes expanded
//! and checked for clashes, and one record made per target (glibc, placeholders). How the
//! release optimizations reach cargo is the plan's business (`plan::command`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use miette::SourceSpan;

use super::includes::{self, IncludeError, IncludeExpander, IncludeFile, IncludeRule, KeyFile};
use super::{
    Build, Candidate, CargoCall, DeploySettings, Identity, Inputs, Packaging, ResolvedArtifact,
    workspace,
};
use crate::diagnostic::{ErrorCode, ManifestError, suggest};
use crate::manifest::settings::Runtime;
use crate::manifest::values::{GlibcVersion, Libc, TargetSpec, expand_placeholders};
use crate::manifest::{IncludeDecl, Layer, Manifest, Merged, Spanned, normalize};

/// Profiles cargo defines itself.
const BUILT_IN_PROFILES: &[&str] = &["dev", "release", "test", "bench"];

/// Merges the layers for one candidate and expands it into one record per target.
pub(super) fn settle(
    manifest: &Manifest,
    c: &Candidate,
    layers: &[&Layer],
    bases: &[Utf8PathBuf],
    profile_override: Option<&str>,
    expander: &mut IncludeExpander,
    reported: &mut BTreeSet<(usize, usize)>,
) -> Result<Vec<ResolvedArtifact>, Vec<ManifestError>> {
    let mut errors = Vec::new();
    let m = Merged::of(layers);
    let default_targets;
    let targets = match m.arch.set {
        Some(t) => t,
        None => {
            let spans = m.arch.value().into_iter().map(|t| Spanned::new(t, c.span));
            default_targets = Spanned::new(spans.collect(), c.span);
            &default_targets
        }
    };
    let profile_setting = match profile_override {
        Some(p) => Some(Spanned::new(p.to_string(), c.span)),
        None => m.profile.set.cloned(),
    };
    let profile = profile_setting
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_else(|| m.profile.value());
    let runtime = m.runtime.value();
    let lambda_dir = m.lambda_dir.value();

    if let Some(p) = &profile_setting {
        errors.extend(undefined_profile(c, p));
    }
    let features = features(c, m.features.items(), &mut errors);
    let mut env = BTreeMap::new();
    for (k, v) in m.env.items() {
        env.insert(k.clone(), v.value.clone());
    }
    let user_rustflags: Vec<String> = m.rustflags.items().map(|f| f.value.clone()).collect();
    let include_files = includes(
        c,
        &m.includes.levels,
        bases,
        expander,
        reported,
        &mut errors,
    );
    let key_files = key_files(
        c,
        &m.cache_key_files.levels,
        bases,
        expander,
        reported,
        &mut errors,
    );
    let key_env: BTreeSet<String> = m.cache_key_env.items().map(|v| v.value.clone()).collect();

    let workspace_name = c.dir.file_name().unwrap_or("workspace").to_string();
    let target_dir = match m.target_dir.value() {
        Some(t) => normalize(&manifest.dir.join(t)),
        None => c.info.target_directory.clone(),
    };
    let optimizations = m.optimizations.value() && profile == "release";

    let identity = Identity {
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
        span: c.span,
        package_bins: c.package.bins.clone(),
    };
    let cargo = CargoCall {
        target_dir,
        target_dir_set: m.target_dir.set.is_some(),
        optimizations,
        release_keys: c.info.release_keys.iter().cloned().collect(),
        features,
        no_default_features: m.no_default_features.value(),
        all_features: m.all_features.value(),
        env,
        rustflags: user_rustflags,
        path_remapping: Vec::new(),
        config_rustflags: Vec::new(),
    };
    let inputs = Inputs {
        includes: include_files,
        cache_key_files: key_files,
        cache_key_env: key_env.into_iter().collect(),
    };
    let compiler = m.compiler.value();
    let several_archs = targets
        .value
        .iter()
        .any(|t| t.value.arch != targets.value[0].value.arch);

    let mut out = Vec::new();
    for t in &targets.value {
        let spec = t.value;
        let glibc = glibc(spec, runtime, m.runtime.set, t.span, &mut errors);
        let triple = spec.triple();
        let dir = expand_placeholders(
            &lambda_dir,
            [spec.arch.as_str(), &triple, &profile, &workspace_name],
        );
        out.push(ResolvedArtifact {
            identity: identity.clone(),
            build: Build {
                arch: spec.arch,
                target: triple,
                libc: spec.libc,
                glibc,
                profile: profile.clone(),
                compiler,
                auditable: m.auditable.value(),
            },
            packaging: Packaging::settled(&m, normalize(&manifest.dir.join(dir))),
            cargo: cargo.clone(),
            inputs: inputs.clone(),
            deploy: DeploySettings::settled(&m, c.kind, &c.name, spec.arch, several_archs),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A custom profile must exist somewhere cargo looks, or the build fails after minutes.
fn undefined_profile(c: &Candidate, p: &Spanned<String>) -> Option<ManifestError> {
    let known = BUILT_IN_PROFILES.contains(&p.value.as_str())
        || c.info.profiles.contains(&p.value)
        || workspace::config_profiles(&c.info.root).contains(&p.value);
    (!known).then(|| {
        ManifestError::new(
            ErrorCode::BadValue,
            format!(
                "profile `{}` is not defined for workspace `{}`",
                p.value, c.workspace.path.value
            ),
            p.span,
            "unknown profile",
        )
        .with_help(format!(
            "define [profile.{}] in {} (with `inherits = \"release\"`), or use `dev` or `release`",
            p.value, c.info.manifest_path
        ))
    })
}

/// The features of every layer, once each; a plain name the package does not have is an error
/// (`dep/feature` forms are passed through).
fn features<'a>(
    c: &Candidate,
    written: impl Iterator<Item = &'a Spanned<String>>,
    errors: &mut Vec<ManifestError>,
) -> Vec<String> {
    let mut features = Vec::new();
    for f in written {
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
    features
}

/// The include files of every layer (each layer's patterns relative to its base directory),
/// sorted; two files that would land on one archive path are an error.
fn includes(
    c: &Candidate,
    levels: &[&[IncludeDecl]],
    bases: &[Utf8PathBuf],
    expander: &mut IncludeExpander,
    reported: &mut BTreeSet<(usize, usize)>,
    errors: &mut Vec<ManifestError>,
) -> Vec<IncludeFile> {
    let mut include_files: Vec<IncludeFile> = Vec::new();
    let mut origin: HashMap<String, (Utf8PathBuf, SourceSpan)> = HashMap::new();
    for (level, base) in levels.iter().zip(bases) {
        for inc in level.iter() {
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
    include_files
}

/// The files of every layer's `cache-key-files` patterns (each relative to its layer's base
/// directory, labelled by it), sorted by label; a pattern that matches nothing is an error.
fn key_files(
    c: &Candidate,
    levels: &[&[Spanned<String>]],
    bases: &[Utf8PathBuf],
    expander: &mut IncludeExpander,
    reported: &mut BTreeSet<(usize, usize)>,
    errors: &mut Vec<ManifestError>,
) -> Vec<KeyFile> {
    // The layers are defaults, workspace and (when declared) artifact, as in `resolve_partial`.
    let labels = [
        "manifest".to_string(),
        format!("workspace {}", c.workspace.path.value),
        format!("package {}", c.package.name),
    ];
    let mut files: BTreeMap<String, KeyFile> = BTreeMap::new();
    for ((level, base), label) in levels.iter().zip(bases).zip(&labels) {
        for pattern in level.iter() {
            if Utf8Path::new(&pattern.value).is_absolute() {
                continue; // reported by the decoder
            }
            match expander.expand_key_files(base, &pattern.value) {
                Ok(rels) => {
                    for rel in rels {
                        let label = format!("{label}: {rel}");
                        let source = normalize(&base.join(&rel));
                        files.insert(label.clone(), KeyFile { label, source });
                    }
                }
                Err(e) => {
                    let key = (pattern.span.offset(), pattern.span.len());
                    if !reported.insert(key) {
                        continue;
                    }
                    let (message, label_text) = match e {
                        IncludeError::NoMatch => (
                            format!(
                                "cache-key-files pattern `{}` matches no file",
                                pattern.value
                            ),
                            "matches nothing",
                        ),
                        IncludeError::Io(why) => (why, "cannot read"),
                        IncludeError::BadName(name, why) => (
                            format!(
                                "`{name}` (matched by cache-key-files `{}`) cannot be keyed: {why}",
                                pattern.value
                            ),
                            "matches it",
                        ),
                        IncludeError::NotAFile(rel, what) => (
                            format!(
                                "`{rel}` (matched by cache-key-files `{}`) is {what}, not a regular file",
                                pattern.value
                            ),
                            "matches it",
                        ),
                        // Already reported by the decoder.
                        IncludeError::BadGlob | IncludeError::Outside(_) => continue,
                    };
                    errors.push(
                        ManifestError::new(ErrorCode::IncludeNoMatch, message, pattern.span, label_text)
                            .with_help(format!("the pattern is relative to `{base}` (`..` may go up); a file the key should cover must exist")),
                    );
                }
            }
        }
    }
    files.into_values().collect()
}

/// The newest glibc a gnu target's executable may need: the triple's own suffix or the
/// runtime's; a suffix newer than the runtime's glibc is an error.
fn glibc(
    spec: TargetSpec,
    runtime: Runtime,
    runtime_setting: Option<&Spanned<Runtime>>,
    at: SourceSpan,
    errors: &mut Vec<ManifestError>,
) -> Option<GlibcVersion> {
    if spec.libc == Libc::Musl {
        return None;
    }
    let max = runtime.glibc();
    match spec.glibc {
        Some(v) if v > max => {
            let mut e = ManifestError::new(ErrorCode::BadValue, format!("glibc {v} is newer than {}'s glibc {max}", runtime.as_str()), at, "glibc too new for the runtime")
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

/// The files one include pattern matches under `base`.
fn include(
    expander: &mut IncludeExpander,
    base: &Utf8Path,
    inc: &IncludeDecl,
) -> Result<Vec<IncludeFile>, ManifestError> {
    let pattern = &inc.pattern;
    if crate::manifest::check_relative(&pattern.value).is_err() {
        // Already reported by the decoder, which checks the pattern's own text.
        return Ok(Vec::new());
    }
    let rule = std::sync::Arc::new(IncludeRule {
        base: base.to_path_buf(),
        pattern: pattern.value.clone(),
    });
    match expander.expand(base, &pattern.value) {
        Ok(rels) => Ok(rels
            .into_iter()
            .map(|rel| IncludeFile {
                pattern_span: (pattern.span.offset(), pattern.span.len()),
                source: base.join(&rel),
                archive_path: match &inc.rename {
                    Some(r) => includes::renamed_path(inc.into.as_ref().map(|i| i.value.as_str()), &pattern.value, &r.value, &rel),
                    None => includes::archive_path(inc.into.as_ref().map(|i| i.value.as_str()), &rel),
                },
                rule: rule.clone(),
            })
            .collect()),
        Err(IncludeError::BadName(name, why)) => Err(ManifestError::new(ErrorCode::IncludeFile, format!("`{name}` (matched by `{}`) cannot be shipped: {why}", pattern.value), pattern.span, "matches it")
            .with_help(format!("rename the file, or narrow the pattern so that it does not match it (it is under `{base}`)"))),
        Err(IncludeError::NotAFile(rel, what)) => Err(ManifestError::new(ErrorCode::IncludeFile, format!("`{rel}` (matched by `{}`) is {what}, not a regular file", pattern.value), pattern.span, "matches it")
            .with_help(format!("includes ship regular files and lambda-batch never reads anything else: narrow the pattern so that it does not match `{base}/{rel}`"))),
        Err(IncludeError::NoMatch) => Err(ManifestError::new(ErrorCode::IncludeNoMatch, format!("include pattern `{}` matches no file", pattern.value), pattern.span, "matches nothing")
            .with_help(format!("the pattern is relative to `{base}`"))),
        Err(IncludeError::Outside(rel)) => Err(ManifestError::new(ErrorCode::IncludeOutside, format!("`{rel}` (matched by `{}`) points outside `{base}`", pattern.value), pattern.span, "leaves its base directory")
            .with_help("a symlink matched by an include must point inside the directory the pattern is relative to")),
        Err(IncludeError::Io(msg)) => Err(ManifestError::new(ErrorCode::Io, msg, pattern.span, "cannot read").with_help(format!("check the permissions under `{base}`, and for a symlink loop or a dangling symlink"))),
        // Already reported by the decoder, which checks the pattern's own text.
        Err(IncludeError::BadGlob) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_expanded() {
        assert_eq!(
            expand_placeholders(
                "out/{arch}/{target}/{profile}/{workspace}/{other}",
                ["arm64", "aarch64-unknown-linux-gnu", "release", "services"]
            ),
            "out/arm64/aarch64-unknown-linux-gnu/release/services/{other}"
        );
    }
}
