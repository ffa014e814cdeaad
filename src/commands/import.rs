//! `lambda-batch import`: cargo-lambda's configuration carried over into an existing
//! lambda.kdl, as validated, comment-keeping edits; `--dry-run` shows them as a diff.

use camino::Utf8Path;

use super::{fail, open};
use crate::edit::apply::{self, Applied, Refused};
use crate::edit::import::{self as importing, translate};
use crate::exit_code;
use crate::pipeline::{self, Checked};
use crate::report::diagnostics::{print_errors, print_warning, print_warnings};
use crate::report::diff;
use crate::report::display_path;
use crate::report::output::{eprintln, stdout_then};

/// Rounds of settling what the translated levels left different; each round sets values on
/// the artifacts themselves, so a second one only finds what cannot be settled.
const ROUNDS: usize = 2;

/// `import [--dry-run] [--context NAME] [--manifest M]`.
pub fn import(
    manifest: Option<&Utf8Path>,
    context: Option<&str>,
    dry_run: bool,
    color: bool,
) -> i32 {
    let (path, original, mut doc) = match open(manifest, color) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let shown = display_path(&path);
    let checked = match pipeline::check_text(&path, &original) {
        Ok(c) => c,
        Err(errors) => {
            print_errors(&errors, color);
            eprintln(&format!(
                "note: import reads the workspaces and artifacts of a manifest that passes `lambda-batch check`: fix {shown} first; nothing was written"
            ));
            return exit_code::INVALID;
        }
    };
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
        return exit_code::OK;
    }
    let mut done = match importing::apply(&mut doc, &translation, &names) {
        Ok(d) => d,
        Err(e) => return fail(&e, color),
    };
    for _ in 0..ROUNDS {
        let Ok(now) = pipeline::check_text(&path, &doc.render()) else {
            break;
        };
        let drifts = importing::drifts(&now, context);
        if drifts.is_empty() {
            break;
        }
        match importing::settle(&mut doc, &drifts, &now, context) {
            Ok(more) if more.is_empty() => break,
            Ok(more) => done.extend(more),
            Err(e) => return fail(&e, color),
        }
    }
    let edited = doc.render();
    let invocation = "lambda-batch import";
    if dry_run {
        let printed = stdout_then(
            &diff::unified(
                &original,
                &edited,
                shown.as_str(),
                &format!("{shown} (imported)"),
            ),
            exit_code::OK,
        );
        return match pipeline::check_text(&path, &edited) {
            Ok(after) => {
                summary(&shown, &done, true);
                report_carried_over(&translation, &after, context, color);
                printed
            }
            Err(errors) => {
                print_errors(
                    &apply::name_after(errors, &path, &edited, invocation),
                    color,
                );
                eprintln("note: the imported manifest would not pass `check`");
                exit_code::INVALID
            }
        };
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
            exit_code::OK
        }
        Err(Refused::Invalid { errors, .. }) => {
            print_errors(&errors, color);
            eprintln(&format!(
                "note: `{invocation}` would make {shown} invalid, so it was not written: the file is unchanged"
            ));
            exit_code::INVALID
        }
        Err(Refused::Io(e)) => fail(&e, color),
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
