//! The stages chained: manifest → resolve → plan. Every command that reads a manifest goes
//! through here, so `check`, `plan`, `run` and the editing commands validate identically.

use camino::Utf8Path;

use crate::diagnostic::ManifestErrors;
use crate::manifest::{self, Manifest};
use crate::plan::{self, CargoFlags, Plan};
use crate::resolve::{self, Loader, Resolved};

/// A manifest taken through every stage before execution.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The resolved artifacts.
    pub resolved: Resolved,
    /// The cargo invocations and packaging jobs.
    pub plan: Plan,
    /// Every artifact name `--only` can choose from (those built for the selected
    /// architectures), sorted: what a help line lists when `--only` matches nothing.
    pub names: Vec<String>,
    /// Every target dir and output directory of the manifest, whatever `--only` and `--arch`
    /// select: never an input of a build.
    pub output_dirs: Vec<camino::Utf8PathBuf>,
}

/// Command-line choices that narrow or override the manifest for one run.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Build with this profile instead of the manifest's (`run --profile`).
    pub profile: Option<String>,
    /// Only artifacts whose name matches one of these globs (`run --only`); empty: all.
    pub only: Vec<globset::GlobMatcher>,
    /// Only these architectures (`run --arch`); empty: all.
    pub arch: Vec<crate::manifest::values::Arch>,
    /// Group packages only where cargo resolves the same features for them alone as together
    /// (`plan`, `run`; runs `cargo tree`, cached). Without it the groups are those of the
    /// grouping keys, which is enough to validate.
    pub builds: bool,
}

/// Resolves and plans a decoded manifest, narrowed by the command line's overrides. The whole
/// manifest is validated either way; the overrides only select what is planned.
pub fn check_manifest_with(
    manifest: Manifest,
    flags: &CargoFlags,
    overrides: &Overrides,
) -> Result<Checked, ManifestErrors> {
    check_manifest_loaded(manifest, flags, overrides, &resolve::load_all)
}

/// [`check_manifest_with`], reading the workspaces with `load`.
fn check_manifest_loaded(
    manifest: Manifest,
    flags: &CargoFlags,
    overrides: &Overrides,
    load: Loader<'_>,
) -> Result<Checked, ManifestErrors> {
    let (mut resolved, mut errors) =
        resolve::resolve_partial_with(manifest, overrides.profile.as_deref(), load);
    // Collisions are a property of the manifest: check them on everything before narrowing.
    // With resolution errors, what did resolve is exactly as the manifest says (a problem drops
    // its whole artifact), so its collisions are real and reported in the same run.
    // Only the outputs: planning 5,000 artifacts here and again below was a third of the time.
    errors.extend(plan::output_errors(&resolved));
    if !errors.is_empty() {
        return Err(ManifestErrors(errors).finish(&resolved.manifest.source));
    }
    let mut output_dirs: Vec<camino::Utf8PathBuf> = resolved
        .artifacts
        .iter()
        .flat_map(|a| [a.cargo.target_dir.clone(), a.packaging.lambda_dir.clone()])
        .collect();
    output_dirs.sort();
    output_dirs.dedup();
    resolved
        .artifacts
        .retain(|a| overrides.arch.is_empty() || overrides.arch.contains(&a.build.arch));
    let mut names: Vec<String> = resolved
        .artifacts
        .iter()
        .map(|a| a.identity.name.clone())
        .collect();
    names.sort();
    names.dedup();
    resolved.artifacts.retain(|a| {
        overrides.only.is_empty() || overrides.only.iter().any(|g| g.is_match(&a.identity.name))
    });
    let plan = if overrides.builds {
        plan::plan_builds(&resolved, flags)?
    } else {
        plan::plan(&resolved, flags)?
    };
    Ok(Checked {
        resolved,
        plan,
        names,
        output_dirs,
    })
}

/// Loads, resolves and plans the manifest file at `path`.
pub fn check_file(path: &Utf8Path, flags: &CargoFlags) -> Result<Checked, ManifestErrors> {
    check_file_with(path, flags, &Overrides::default())
}

/// [`check_file`] with the command line's overrides.
pub fn check_file_with(
    path: &Utf8Path,
    flags: &CargoFlags,
    overrides: &Overrides,
) -> Result<Checked, ManifestErrors> {
    let (partial, errors, source) = manifest::load_partial(path)?;
    finish(
        partial,
        errors,
        &source,
        flags,
        overrides,
        &resolve::load_all,
    )
}

/// Validates manifest text as if it were the file at `path` (the editing commands' check).
pub fn check_text(path: &Utf8Path, text: &str) -> Result<Checked, ManifestErrors> {
    check_text_loaded(path, text, &resolve::load_all)
}

/// [`check_text`], reading the workspaces with `load` instead of `cargo metadata`.
pub fn check_text_loaded(
    path: &Utf8Path,
    text: &str,
    load: Loader<'_>,
) -> Result<Checked, ManifestErrors> {
    let (partial, errors, source) = manifest::parse_partial(path, text);
    finish(
        partial,
        errors,
        &source,
        &CargoFlags::default(),
        &Overrides::default(),
        load,
    )
}

/// Runs the later stages; with decode errors, still resolves what decoded so that every
/// problem of the file is reported in one run.
fn finish(
    partial: Option<Manifest>,
    mut errors: Vec<crate::diagnostic::ManifestError>,
    source: &crate::diagnostic::Source,
    flags: &CargoFlags,
    overrides: &Overrides,
    load: Loader<'_>,
) -> Result<Checked, ManifestErrors> {
    let Some(manifest) = partial else {
        return Err(ManifestErrors(errors).finish(source));
    };
    if errors.is_empty() {
        return check_manifest_loaded(manifest, flags, overrides, load);
    }
    // Output collisions are not checked here: a setting dropped as invalid would make
    // outputs look like they collide when they do not.
    let (_, more) = resolve::resolve_partial_with(manifest, None, load);
    errors.extend(more);
    Err(ManifestErrors(errors).finish(source))
}
