//! `lambda-batch check`: every stage up to the plan, nothing built; then the warnings about
//! drift from cargo-lambda's configuration.

use camino::Utf8Path;

use crate::cli::Format;
use crate::diagnostic::{ManifestError, ManifestErrors};
use crate::exit_code;
use crate::pipeline;
use crate::plan::CargoFlags;
use crate::report::diagnostics::{print_error, print_errors, print_warnings, to_json, to_json_all};
use crate::report::display_path;
use crate::report::output::{eprintln, stdout_then};
use crate::resolve::cargo_lambda::drift;

/// What `check` does about warnings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Warnings<'a> {
    /// `--deny-warnings`: any warning makes the manifest fail the check.
    pub deny: bool,
    /// cargo-lambda's context to compare with (`--context`).
    pub context: Option<&'a str>,
}

/// Validates the manifest; 0 when valid (even with warnings, unless they are denied), 2
/// otherwise.
pub fn check(manifest: Option<&Utf8Path>, format: Format, warn: &Warnings<'_>, color: bool) -> i32 {
    if let Err(code) = super::require_cargo(color) {
        return code;
    }
    let located = crate::manifest::locate(manifest);
    let path = located.as_ref().ok().cloned();
    let result = located
        .map_err(|e| ManifestErrors(vec![e]))
        .and_then(|path| pipeline::check_file(&path, &CargoFlags::default()).map(|c| (path, c)));
    // In GitHub Actions, every diagnostic is also an annotation on its line of the manifest.
    let annotate = |diagnostics: &[crate::diagnostic::ManifestError]| {
        if let Some(path) = &path {
            super::annotate(diagnostics, path, format == Format::Json);
        }
    };
    if let Err(errors) = &result {
        annotate(&errors.0);
    }
    match (result, format) {
        (Ok((path, checked)), format) => {
            let warnings = warnings(&checked, warn.context);
            annotate(&warnings);
            let code = if warn.deny && !warnings.is_empty() {
                exit_code::INVALID
            } else {
                exit_code::OK
            };
            if format == Format::Json {
                return stdout_then(
                    &format!(
                        "{}\n",
                        serde_json::to_string_pretty(&to_json_all(&warnings)).unwrap_or_default()
                    ),
                    code,
                );
            }
            print_warnings(&warnings, color);
            let plan = &checked.plan;
            let names: std::collections::BTreeSet<&str> = plan
                .artifacts
                .iter()
                .map(|a| a.resolved.name.as_str())
                .collect();
            let shown = display_path(&path);
            if code != exit_code::OK {
                print_error(
                    &format!(
                        "{shown}: warnings are denied (--deny-warnings): {} warning{}",
                        warnings.len(),
                        if warnings.len() == 1 { "" } else { "s" }
                    ),
                    "",
                    color,
                );
                return code;
            }
            // The number of cargo calls is `plan`'s to say: it compares the packages' feature
            // resolution (`cargo tree`), which validating does not need.
            eprintln(&format!(
                "{shown}: ok: {} artifacts, {} outputs, {} workspaces",
                names.len(),
                plan.artifacts.len(),
                checked.resolved.manifest.workspaces.len()
            ));
            code
        }
        (Err(errors), Format::Text) => {
            print_errors(&errors, color);
            exit_code::INVALID
        }
        (Err(errors), Format::Json) => stdout_then(
            &format!(
                "{}\n",
                serde_json::to_string_pretty(&to_json(&errors)).unwrap_or_default()
            ),
            exit_code::INVALID,
        ),
    }
}

/// The warnings of a valid manifest: where it drifts from cargo-lambda's configuration.
pub fn warnings(checked: &pipeline::Checked, context: Option<&str>) -> Vec<ManifestError> {
    let manifest = &checked.resolved.manifest;
    drift(&checked.resolved, context)
        .iter()
        .map(|d| d.diagnostic(&manifest.dir).with_source(&manifest.source))
        .collect()
}
