//! One candidate artifact settled: its layers (defaults → workspace → artifact) merged, what
//! can be checked against `cargo metadata` checked (profiles, features), its includes expanded
//! and checked for clashes, and one record made per target (glibc, placeholders). How the
//! release optimizations reach cargo is the plan's business (`plan::command`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use miette::SourceSpan;

use super::includes::{self, IncludeError, IncludeExpander, IncludeFile, IncludeRule, KeyFile};
use super::{Candidate, ResolvedArtifact, workspace};
use crate::diagnostic::{ErrorCode, ManifestError, suggest};
use crate::manifest::spec;
use crate::manifest::values::{
    Compiler, GlibcVersion, Libc, OutputFormat, Runtime, TargetSpec, expand_placeholders,
};
use crate::manifest::{IncludeDecl, Layer, Manifest, Spanned, normalize};

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
    let default_target = Spanned::new(
        vec![Spanned::new(
            default("arch", |w| TargetSpec::parse(w).ok()),
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
        .unwrap_or_else(|| default("profile", |w| Some(w.to_string())));
    let compiler = last(layers, |l| &l.compiler)
        .map(|v| v.value)
        .unwrap_or_else(|| default("compiler", Compiler::parse));
    let output_format = last(layers, |l| &l.output_format)
        .map(|v| v.value)
        .unwrap_or_else(|| default("output-format", OutputFormat::parse));
    let runtime_setting = last(layers, |l| &l.runtime);
    let runtime = runtime_setting
        .map(|v| v.value)
        .unwrap_or_else(|| default("runtime", Runtime::parse));
    let lambda_dir = last(layers, |l| &l.lambda_dir)
        .map(|v| v.value.clone())
        .unwrap_or_else(|| default("lambda-dir", |w| Some(w.to_string())));
    let target_dir_setting = last(layers, |l| &l.target_dir);
    let optimizations_setting = last(layers, |l| &l.optimizations)
        .map(|v| v.value)
        .unwrap_or_else(|| default("optimizations", |w| w.parse().ok()));
    let no_default_features = last(layers, |l| &l.no_default_features).is_some_and(|v| v.value);
    let all_features = last(layers, |l| &l.all_features).is_some_and(|v| v.value);

    if let Some(p) = &profile_setting {
        errors.extend(undefined_profile(c, p));
    }
    let features = features(c, layers, &mut errors);
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
    let include_files = includes(c, layers, bases, expander, reported, &mut errors);
    let key_files = key_files(c, layers, bases, expander, reported, &mut errors);
    let key_env: BTreeSet<String> = layers
        .iter()
        .flat_map(|l| l.cache_key_env.iter().map(|v| v.value.clone()))
        .collect();

    let workspace_name = c.dir.file_name().unwrap_or("workspace").to_string();
    let target_dir = match target_dir_setting {
        Some(t) => normalize(&manifest.dir.join(&t.value)),
        None => c.info.target_directory.clone(),
    };
    let optimizations = optimizations_setting && profile == "release";

    let mut out = Vec::new();
    for t in &targets.value {
        let spec = t.value;
        let glibc = glibc(spec, runtime, runtime_setting, t.span, &mut errors);
        let triple = spec.triple();
        let dir = expand_placeholders(
            &lambda_dir,
            [spec.arch.as_str(), &triple, &profile, &workspace_name],
        );
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
            release_keys: c.info.release_keys.iter().cloned().collect(),
            features: features.clone(),
            no_default_features,
            all_features,
            env: env.clone(),
            rustflags: user_rustflags.clone(),
            path_remapping: Vec::new(),
            config_rustflags: Vec::new(),
            includes: include_files.clone(),
            cache_key_files: key_files.clone(),
            cache_key_env: key_env.iter().cloned().collect(),
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

/// The last layer that sets a replacing setting.
fn last<'a, T>(
    layers: &[&'a Layer],
    get: impl Fn(&'a Layer) -> &'a Option<Spanned<T>>,
) -> Option<&'a Spanned<T>> {
    layers.iter().rev().find_map(|l| get(l).as_ref())
}

/// The default of the setting `name`, as the manifest's vocabulary (`spec::SETTINGS`) states
/// it; a unit test of `spec` checks that each parses.
fn default<T>(name: &str, parse: impl Fn(&str) -> Option<T>) -> T {
    parse(spec::default_of(name)).expect("the defaults in spec::SETTINGS parse")
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
fn features(c: &Candidate, layers: &[&Layer], errors: &mut Vec<ManifestError>) -> Vec<String> {
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
    features
}

/// The include files of every layer (each layer's patterns relative to its base directory),
/// sorted; two files that would land on one archive path are an error.
fn includes(
    c: &Candidate,
    layers: &[&Layer],
    bases: &[Utf8PathBuf],
    expander: &mut IncludeExpander,
    reported: &mut BTreeSet<(usize, usize)>,
    errors: &mut Vec<ManifestError>,
) -> Vec<IncludeFile> {
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
    include_files
}

/// The files of every layer's `cache-key-files` patterns (each relative to its layer's base
/// directory, labelled by it), sorted by label; a pattern that matches nothing is an error.
fn key_files(
    c: &Candidate,
    layers: &[&Layer],
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
    for ((layer, base), label) in layers.iter().zip(bases).zip(&labels) {
        for pattern in &layer.cache_key_files {
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
    fn the_defaults_of_the_vocabulary_parse() {
        let arch = default("arch", |w| TargetSpec::parse(w).ok());
        assert_eq!(arch.triple(), "x86_64-unknown-linux-gnu");
        assert_eq!(default("profile", |w| Some(w.to_string())), "dev");
        assert_eq!(
            default("compiler", Compiler::parse),
            Compiler::CargoZigbuild
        );
        assert_eq!(
            default("output-format", OutputFormat::parse),
            OutputFormat::Binary
        );
        assert_eq!(default("runtime", Runtime::parse), Runtime::Al2023);
        assert_eq!(
            default("lambda-dir", |w| Some(w.to_string())),
            "target/lambda"
        );
        assert!(default("optimizations", |w| w.parse::<bool>().ok()));
    }

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
