//! `lambda-batch check`: every stage up to the plan, nothing built.

use camino::Utf8Path;

use crate::cli::Format;
use crate::diagnostic::ManifestErrors;
use crate::exit_code;
use crate::pipeline;
use crate::plan::CargoFlags;
use crate::report::diagnostics::{print_errors, to_json};
use crate::report::display_path;

/// Validates the manifest; 0 when valid, 2 otherwise.
pub fn check(manifest: Option<&Utf8Path>, format: Format, color: bool) -> i32 {
    if let Err(code) = super::require_cargo(color) {
        return code;
    }
    let result = crate::manifest::locate(manifest)
        .map_err(|e| ManifestErrors(vec![e]))
        .and_then(|path| pipeline::check_file(&path, &CargoFlags::default()).map(|c| (path, c)));
    match (result, format) {
        (Ok((path, checked)), Format::Text) => {
            let plan = &checked.plan;
            let names: std::collections::BTreeSet<&str> = plan
                .artifacts
                .iter()
                .map(|a| a.resolved.name.as_str())
                .collect();
            eprintln!(
                "{}: ok: {} artifacts, {} outputs, {} cargo invocations, {} workspaces",
                display_path(&path),
                names.len(),
                plan.artifacts.len(),
                plan.groups.len(),
                checked.resolved.manifest.workspaces.len()
            );
            exit_code::OK
        }
        (Ok(_), Format::Json) => {
            println!("[]");
            exit_code::OK
        }
        (Err(errors), Format::Text) => {
            print_errors(&errors, color);
            exit_code::INVALID
        }
        (Err(errors), Format::Json) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&to_json(&errors)).unwrap_or_default()
            );
            exit_code::INVALID
        }
    }
}
