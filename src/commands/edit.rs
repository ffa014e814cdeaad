//! The editing commands: `add`, `remove`, `set`, `unset`, `fmt`, `init`. Each reads the
//! manifest, asks [`crate::edit`] for the new text, and writes it only once it passes `check`.

use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{AddArtifact, AddCommand, LevelArgs, SetArgs, UnsetArgs};
use crate::edit::add::{self, NewArtifact};
use crate::edit::apply::{self, Applied, Refused};
use crate::edit::{
    Document, EditError, Level, format, init as draft, remove as removal, set as setting, write,
};
use crate::exit_code;
use crate::manifest::values::ArtifactKind;
use crate::pipeline;
use crate::plan::shell_quote;
use crate::report::diagnostics::print_errors;
use crate::report::display_path;
use crate::report::output::eprintln;

use super::{fail, open};

/// `add function|extension|workspace`.
pub fn add(cmd: AddCommand, color: bool) -> i32 {
    match cmd {
        AddCommand::Function(a) => add_artifact(ArtifactKind::Function, a, color),
        AddCommand::Extension(a) => add_artifact(ArtifactKind::Extension, a, color),
        AddCommand::Workspace {
            path,
            discover,
            manifest,
        } => edit(manifest.as_deref(), color, |doc| {
            add::workspace(doc, &path, discover)
        }),
    }
}

fn add_artifact(kind: ArtifactKind, a: AddArtifact, color: bool) -> i32 {
    let new = NewArtifact {
        kind,
        name: a.name,
        workspace: a.workspace,
        bin: a.bin,
        package: a.package,
        arch: a.arch,
        include: a.include,
        output_format: a.output_format,
        flatten: a.flatten,
        internal: a.internal,
    };
    edit(a.manifest.as_deref(), color, |doc| add::artifact(doc, &new))
}

/// `remove NAME`.
pub fn remove(
    name: &str,
    workspace: Option<&str>,
    manifest: Option<&Utf8Path>,
    color: bool,
) -> i32 {
    edit(manifest, color, |doc| {
        removal::artifact(doc, name, workspace)
    })
}

/// `set SETTING VALUE...`.
pub fn set(args: &SetArgs, color: bool) -> i32 {
    change_setting(
        "set",
        &args.level,
        &args.setting,
        &args.values,
        setting::set,
        color,
    )
}

/// `unset SETTING [VALUE...]`.
pub fn unset(args: &UnsetArgs, color: bool) -> i32 {
    change_setting(
        "unset",
        &args.level,
        &args.setting,
        &args.values,
        setting::unset,
        color,
    )
}

/// `set` or `unset` (`command`), applying `change` at the level the flags name.
fn change_setting(
    command: &str,
    level: &LevelArgs,
    name: &str,
    values: &[String],
    change: fn(&mut Document, &Level, &str, &[String]) -> Result<String, EditError>,
    color: bool,
) -> i32 {
    if let Err(e) = options_first(command, name, values) {
        return fail(&e, color);
    }
    let at = Level::from_flags(level.workspace.as_deref(), level.artifact.as_deref());
    edit(level.manifest.as_deref(), color, |doc| {
        change(doc, &at, name, values)
    })
}

/// `fmt [--check]`: 0 formatted (or already so), 1 when `--check` finds it is not.
pub fn fmt(check: bool, manifest: Option<&Utf8Path>, color: bool) -> i32 {
    let (path, text, doc) = match open(manifest, color) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let formatted = match format::format(&doc) {
        Ok(f) => doc.dress(f),
        Err(e) => return fail(&e, color),
    };
    if formatted == text {
        return exit_code::OK;
    }
    let shown = display_path(&path);
    if check {
        eprintln(&format!(
            "{shown}: not formatted (`lambda-batch fmt` would rewrite it)"
        ));
        return exit_code::FAILED;
    }
    // Like every editing command, fmt writes only a manifest that passes `check`.
    match apply::apply(&path, &text, &formatted, &invocation()) {
        Ok(_) => {
            eprintln(&format!("{shown}: formatted"));
            exit_code::OK
        }
        Err(Refused::Invalid { errors, .. }) => {
            print_errors(&errors, color);
            eprintln(&format!(
                "note: {shown} does not pass `lambda-batch check`, and fmt writes only a valid manifest: the file is unchanged"
            ));
            exit_code::INVALID
        }
        Err(Refused::Io(e)) => fail(&e, color),
    }
}

/// `init [--path P] [--context NAME]`.
pub fn init(path: Option<&Utf8Path>, context: Option<&str>, color: bool) -> i32 {
    let Some(cwd) = std::env::current_dir()
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
    else {
        return fail(
            &EditError::Io {
                message: "the current directory is not a readable UTF-8 path".into(),
                help: "run init from the repository's root directory".into(),
            },
            color,
        );
    };
    let d = match draft::draft(&cwd, path, context) {
        Ok(d) => d,
        Err(e) => return fail(&e, color),
    };
    for (dir, why) in &d.scan.skipped {
        eprintln(&format!("warning: skipped `{}`: {why}", display_path(dir)));
    }
    let shown = display_path(&d.path);
    let checked = match pipeline::check_text(&d.path, &d.text) {
        Ok(checked) => checked,
        Err(errors) => {
            print_errors(
                &apply::name_after(errors, &d.path, &d.text, "lambda-batch init"),
                color,
            );
            eprintln(&format!(
                "note: the manifest init drafted does not pass `check`; {shown} was not written"
            ));
            return exit_code::INVALID;
        }
    };
    if let Err(e) = write::create(&d.path, &d.text) {
        return fail(&e, color);
    }

    let count = |k: ArtifactKind| {
        d.scan
            .found
            .iter()
            .zip(&d.translation.workspaces)
            .flat_map(|(f, t)| f.bins.iter().zip(&t.artifacts))
            .filter(|(b, t)| t.kind.unwrap_or(b.kind) == k)
            .count()
    };
    eprintln(&format!(
        "{shown}: wrote {} functions and {} extensions in {} workspaces; `lambda-batch check` accepts it",
        count(ArtifactKind::Function),
        count(ArtifactKind::Extension),
        d.scan.found.len()
    ));
    super::import::report_carried_over(&d.translation, &checked, context, color);
    exit_code::OK
}

/// Runs one edit: read, change, validate as `check` does, write atomically or not at all.
fn edit(
    manifest: Option<&Utf8Path>,
    color: bool,
    change: impl FnOnce(&mut Document) -> Result<String, EditError>,
) -> i32 {
    let (path, original, mut doc) = match open(manifest, color) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let summary = match change(&mut doc) {
        Ok(s) => s,
        Err(e) => return fail(&e, color),
    };
    let edited = doc.render();
    let invocation = invocation();
    let shown = display_path(&path);
    match apply::apply(&path, &original, &edited, &invocation) {
        Ok(Applied::Written) => {
            eprintln(&format!("{shown}: {summary}"));
            exit_code::OK
        }
        Ok(Applied::Unchanged) => {
            eprintln(&format!("{shown}: unchanged, it already says that"));
            exit_code::OK
        }
        Err(Refused::Invalid {
            errors,
            already_invalid,
        }) => {
            print_errors(&errors, color);
            if already_invalid {
                eprintln(&format!(
                    "note: {shown} did not pass `lambda-batch check` before `{invocation}` either; nothing was written"
                ));
            } else {
                eprintln(&format!(
                    "note: `{invocation}` would make {shown} invalid, so it was not written: the file is unchanged"
                ));
            }
            exit_code::INVALID
        }
        Err(Refused::Io(e)) => fail(&e, color),
    }
}

/// Values may start with `-` (rustflags), so clap takes everything after SETTING as values:
/// an option written there would silently become a value. Refuse it instead.
fn options_first(command: &str, setting: &str, values: &[String]) -> Result<(), EditError> {
    const OPTIONS: &[&str] = &["--workspace", "--artifact", "--manifest", "--color"];
    let misplaced = values.iter().find(|v| {
        OPTIONS
            .iter()
            .any(|o| v.as_str() == *o || v.starts_with(&format!("{o}=")))
    });
    match misplaced {
        Some(option) => Err(EditError::usage(
            format!("`{option}` comes after the setting's values"),
            format!(
                "options go before the setting: `lambda-batch {command} --workspace PATH {setting} VALUE...`"
            ),
        )),
        None => Ok(()),
    }
}

/// The command line as typed, for the note on a refused edit.
fn invocation() -> String {
    let words: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
    format!("lambda-batch {}", words.join(" "))
}
