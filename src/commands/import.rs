//! `lambda-batch import`: cargo-lambda's configuration carried over into an existing
//! lambda.kdl, as validated, comment-keeping edits; `--dry-run` shows them as a diff.

use camino::Utf8Path;

use super::{Error, open};
use crate::edit::apply::{self, Applied, Refused};
use crate::exit_code::ExitCode;
use crate::migrate::{import as importing, translate};
use crate::pipeline::{self, Checked};
use crate::report::diagnostics::{print_warning, print_warnings};
use crate::report::diff;
use crate::report::display_path;
use crate::report::output::eprintln;

/// Rounds of settling what the translated levels left different; each round sets values on
/// the artifacts themselves, so a second one only finds what cannot be settled.
const ROUNDS: usize = 2;

/// `import [--dry-run] [--context NAME] [--manifest M]`.
pub fn import(
    manifest: Option<&Utf8Path>,
    context: Option<&str>,
    dry_run: bool,
    color: bool,
) -> Result<ExitCode, Error> {
    let (path, original, mut doc) = open(manifest)?;
    let shown = display_path(&path);
    let checked = pipeline::check_text(&path, &original).map_err(|errors| {
        Error::refused(
            errors,
            format!(
                "note: import reads the workspaces and artifacts of a manifest that passes `lambda-batch check`: fix {shown} first; nothing was written"
            ),
        )
    })?;
    let (inputs, names) = importing::inputs(&checked, context);
    for l in importing::left_out(&checked, context) {
        eprintln(&format!(
            "note: `{}` (package `{}`) has cargo-lambda configuration but {shown} does not build it; to add it: lambda-batch add {} {} --workspace {}",
            l.bin,
            l.package,
            l.kind.as_str(),
            l.bin,
            l.workspace
        ));
    }
    let translation = translate::translate(&inputs, &checked.resolved.manifest.dir);
    if translation.is_empty() {
        eprintln(&format!(
            "{shown}: nothing to carry over: no cargo-lambda build configuration (CargoLambda.toml, [workspace.metadata.lambda], [package.metadata.lambda]) applies to its artifacts"
        ));
        return Ok(ExitCode::OK);
    }
    let mut done = importing::apply(&mut doc, &translation, &names)?;
    for _ in 0..ROUNDS {
        let Ok(now) = pipeline::check_text(&path, &doc.render()) else {
            break;
        };
        let drifts = importing::drifts(&now, context);
        if drifts.is_empty() {
            break;
        }
        let more = importing::settle(&mut doc, &drifts, &now, context)?;
        if more.is_empty() {
            break;
        }
        done.extend(more);
    }
    let edited = doc.render();
    let invocation = "lambda-batch import";
    if dry_run {
        let printed = super::print(&diff::unified(
            &original,
            &edited,
            shown.as_str(),
            &format!("{shown} (imported)"),
        ));
        let after = pipeline::check_text(&path, &edited).map_err(|errors| {
            Error::refused(
                apply::name_after(errors, &path, &edited, invocation),
                "note: the imported manifest would not pass `check`",
            )
        })?;
        summary(&shown, &done, true);
        report_carried_over(&translation, &after, context, color);
        printed?;
        return Ok(ExitCode::OK);
    }
    match apply::apply(&path, &original, &edited, invocation) {
        Ok(written) => {
            if written == Applied::Unchanged {
                eprintln(&format!(
                    "{shown}: unchanged, it already says what cargo-lambda's configuration says"
                ));
            } else {
                summary(&shown, &done, false);
            }
            if let Ok(after) = pipeline::check_text(&path, &edited) {
                report_carried_over(&translation, &after, context, color);
            }
            Ok(ExitCode::OK)
        }
        Err(Refused::Invalid { errors, .. }) => Err(Error::refused(
            errors,
            format!(
                "note: `{invocation}` would make {shown} invalid, so it was not written: the file is unchanged"
            ),
        )),
        Err(Refused::Io(e)) => Err(e.into()),
    }
}

fn summary(shown: &str, done: &[String], dry_run: bool) {
    let verb = if dry_run { "would carry" } else { "carried" };
    eprintln(&format!(
        "{shown}: {verb} over cargo-lambda's configuration in {} edit{}",
        done.len(),
        if done.len() == 1 { "" } else { "s" }
    ));
    for d in done {
        eprintln(&format!("  {d}"));
    }
}

/// After `init` or `import`: the keys that were not carried over (left as comments), and any
/// drift the result still has, as `check` reports it.
pub fn report_carried_over(
    translation: &translate::Translation,
    checked: &Checked,
    context: Option<&str>,
    color: bool,
) {
    let remarks = translation.remarks();
    if !remarks.is_empty() {
        print_warning(
            &format!(
                "{} cargo-lambda setting{} not carried over (written as comments in lambda.kdl):",
                remarks.len(),
                if remarks.len() == 1 { " was" } else { "s were" }
            ),
            color,
        );
        for r in &remarks {
            eprintln(&format!(
                "  - {}",
                r.trim_start_matches("not carried over: ")
            ));
        }
    }
    print_warnings(&super::check::warnings(checked, context), color);
}
