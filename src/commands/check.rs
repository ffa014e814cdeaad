//! `lambda-batch check`: every stage up to the plan, nothing built; then the warnings about
//! drift from cargo-lambda's configuration.

use camino::Utf8Path;

use super::Error;
use crate::cli::Format;
use crate::diagnostic::{ManifestError, ManifestErrors};
use crate::exit_code::ExitCode;
use crate::migrate::drift;
use crate::pipeline;
use crate::plan::CargoFlags;
use crate::report::diagnostics::{JsonDiagnostic, print_warnings, to_json, to_json_all};
use crate::report::display_path;
use crate::report::output::eprintln;

/// What `check` does about warnings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Warnings<'a> {
    /// `--deny-warnings`: any warning makes the manifest fail the check.
    pub deny: bool,
    /// cargo-lambda's context to compare with (`--context`).
    pub context: Option<&'a str>,
}

/// Validates the manifest: exit 0 when valid (even with warnings, unless they are denied), 2
/// otherwise.
pub fn check(
    manifest: Option<&Utf8Path>,
    format: Format,
    warn: &Warnings<'_>,
    color: bool,
) -> Result<ExitCode, Error> {
    super::require_cargo()?;
    let json = format == Format::Json;
    let located = crate::manifest::locate(manifest);
    let path = located.as_ref().ok().cloned();
    let result = located
        .map_err(|e| ManifestErrors(vec![e]))
        .and_then(|path| pipeline::check_file(&path, &CargoFlags::default()).map(|c| (path, c)));
    let (path, checked) = match (result, path) {
        (Ok(found), _) => found,
        // `--format json` tells a tool: the diagnostics are the output.
        (Err(errors), path) if json => {
            if let Some(path) = &path {
                super::annotate(&errors.0, path, json);
            }
            super::print(&json_lines(&to_json(&errors)))?;
            return Ok(ExitCode::INVALID);
        }
        // In GitHub Actions, every diagnostic is also an annotation on its line of the manifest.
        (Err(errors), Some(path)) => return Err(Error::manifest_at(errors, &path, json)),
        (Err(errors), None) => return Err(Error::manifest(errors)),
    };
    let warnings = warnings(&checked, warn.context);
    super::annotate(&warnings, &path, json);
    let denied = warn.deny && !warnings.is_empty();
    if json {
        super::print(&json_lines(&to_json_all(&warnings)))?;
        return Ok(if denied {
            ExitCode::INVALID
        } else {
            ExitCode::OK
        });
    }
    print_warnings(&warnings, color);
    let shown = display_path(&path);
    if denied {
        return Err(Error::WarningsDenied {
            manifest: shown,
            count: warnings.len(),
        });
    }
    let plan = &checked.plan;
    let names: std::collections::BTreeSet<&str> = plan
        .artifacts
        .iter()
        .map(|a| a.resolved.identity.name.as_str())
        .collect();
    // The number of cargo calls is `plan`'s to say: it compares the packages' feature
    // resolution (`cargo tree`), which validating does not need.
    eprintln(&format!(
        "{shown}: ok: {} artifacts, {} outputs, {} workspaces",
        names.len(),
        plan.artifacts.len(),
        checked.resolved.manifest.workspaces.len()
    ));
    Ok(ExitCode::OK)
}

/// Diagnostics as `check --format json` prints them.
fn json_lines(diagnostics: &[JsonDiagnostic]) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(diagnostics).unwrap_or_default()
    )
}

/// The warnings of a valid manifest: where it drifts from cargo-lambda's configuration.
pub fn warnings(checked: &pipeline::Checked, context: Option<&str>) -> Vec<ManifestError> {
    let manifest = &checked.resolved.manifest;
    drift(&checked.resolved, context)
        .iter()
        .map(|d| d.diagnostic(&manifest.dir).with_source(&manifest.source))
        .collect()
}
