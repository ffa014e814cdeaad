//! The editing commands: `add`, `remove`, `set`, `unset`, `fmt`, `init`. Each reads the
//! manifest, asks [`crate::edit`] for the new text, and writes it only once it passes `check`.

use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{AddArtifact, AddCommand, LevelArgs, SetArgs, UnsetArgs};
use crate::edit::add::{self, NewArtifact};
use crate::edit::apply::{self, Applied, Refused};
use crate::edit::{Document, EditError, Level, format, remove as removal, set as setting, write};
use crate::exit_code::ExitCode;
use crate::manifest::values::ArtifactKind;
use crate::migrate::init as draft;
use crate::pipeline;
use crate::plan::shell_quote;
use crate::report::display_path;
use crate::report::output::eprintln;

use super::{Error, open};

/// `add function|extension|workspace`.
pub fn add(cmd: AddCommand) -> Result<ExitCode, Error> {
    match cmd {
        AddCommand::Function(a) => add_artifact(ArtifactKind::Function, a),
        AddCommand::Extension(a) => add_artifact(ArtifactKind::Extension, a),
        AddCommand::Workspace {
            path,
            discover,
            manifest,
        } => edit(manifest.as_deref(), |doc| {
            add::workspace(doc, &path, discover)
        }),
    }
}

fn add_artifact(kind: ArtifactKind, a: AddArtifact) -> Result<ExitCode, Error> {
    let new = NewArtifact {
        kind,
        name: a.name,
        workspace: a.workspace,
        bin: a.bin,
        package: a.package,
        settings: a.settings.0,
        flatten: a.flatten,
        internal: a.internal,
    };
    edit(a.manifest.as_deref(), |doc| add::artifact(doc, &new))
}

/// `remove NAME`.
pub fn remove(
    name: &str,
    workspace: Option<&str>,
    manifest: Option<&Utf8Path>,
) -> Result<ExitCode, Error> {
    edit(manifest, |doc| removal::artifact(doc, name, workspace))
}

/// `set SETTING VALUE...`.
pub fn set(args: &SetArgs) -> Result<ExitCode, Error> {
    change_setting(
        "set",
        &args.level,
        &args.setting,
        &args.values,
        setting::set,
    )
}

/// `unset SETTING [VALUE...]`.
pub fn unset(args: &UnsetArgs) -> Result<ExitCode, Error> {
    change_setting(
        "unset",
        &args.level,
        &args.setting,
        &args.values,
        setting::unset,
    )
}

/// `set` or `unset` (`command`), applying `change` at the level the flags name.
fn change_setting(
    command: &str,
    level: &LevelArgs,
    name: &str,
    values: &[String],
    change: fn(&mut Document, &Level, &str, &[String]) -> Result<String, EditError>,
) -> Result<ExitCode, Error> {
    options_first(command, name, values)?;
    let at = Level::from_flags(level.workspace.as_deref(), level.artifact.as_deref());
    edit(level.manifest.as_deref(), |doc| {
        change(doc, &at, name, values)
    })
}

/// `fmt [--check]`: 0 formatted (or already so), 1 when `--check` finds it is not.
pub fn fmt(check: bool, manifest: Option<&Utf8Path>) -> Result<ExitCode, Error> {
    let (path, text, doc) = open(manifest)?;
    let formatted = doc.dress(format::format(&doc)?);
    if formatted == text {
        return Ok(ExitCode::OK);
    }
    let shown = display_path(&path);
    if check {
        eprintln(&format!(
            "{shown}: not formatted (`lambda-batch fmt` would rewrite it)"
        ));
        return Ok(ExitCode::FAILED);
    }
    // Like every editing command, fmt writes only a manifest that passes `check`.
    match apply::apply(&path, &text, &formatted, &invocation()) {
        Ok(_) => {
            eprintln(&format!("{shown}: formatted"));
            Ok(ExitCode::OK)
        }
        Err(Refused::Invalid { errors, .. }) => Err(Error::refused(
            errors,
            format!(
                "note: {shown} does not pass `lambda-batch check`, and fmt writes only a valid manifest: the file is unchanged"
            ),
        )),
        Err(Refused::Io(e)) => Err(e.into()),
    }
}

/// `init [--path P] [--context NAME]`.
pub fn init(
    path: Option<&Utf8Path>,
    context: Option<&str>,
    color: bool,
) -> Result<ExitCode, Error> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .ok_or_else(|| EditError::Io {
            message: "the current directory is not a readable UTF-8 path".into(),
            help: "run init from the repository's root directory".into(),
        })?;
    let d = draft::draft(&cwd, path, context)?;
    for (dir, why) in &d.scan.skipped {
        eprintln(&format!("warning: skipped `{}`: {why}", display_path(dir)));
    }
    let shown = display_path(&d.path);
    let checked = pipeline::check_text(&d.path, &d.text).map_err(|errors| {
        Error::refused(
            apply::name_after(errors, &d.path, &d.text, "lambda-batch init"),
            format!(
                "note: the manifest init drafted does not pass `check`; {shown} was not written"
            ),
        )
    })?;
    write::create(&d.path, &d.text)?;

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
    Ok(ExitCode::OK)
}

/// Runs one edit: read, change, validate as `check` does, write atomically or not at all.
fn edit(
    manifest: Option<&Utf8Path>,
    change: impl FnOnce(&mut Document) -> Result<String, EditError>,
) -> Result<ExitCode, Error> {
    let (path, original, mut doc) = open(manifest)?;
    let summary = change(&mut doc)?;
    let edited = doc.render();
    let invocation = invocation();
    let shown = display_path(&path);
    match apply::apply(&path, &original, &edited, &invocation) {
        Ok(Applied::Written) => {
            eprintln(&format!("{shown}: {summary}"));
            Ok(ExitCode::OK)
        }
        Ok(Applied::Unchanged) => {
            eprintln(&format!("{shown}: unchanged, it already says that"));
            Ok(ExitCode::OK)
        }
        Err(Refused::Invalid {
            errors,
            already_invalid,
        }) => Err(Error::refused(
            errors,
            if already_invalid {
                format!(
                    "note: {shown} did not pass `lambda-batch check` before `{invocation}` either; nothing was written"
                )
            } else {
                format!(
                    "note: `{invocation}` would make {shown} invalid, so it was not written: the file is unchanged"
                )
            },
        )),
        Err(Refused::Io(e)) => Err(e.into()),
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
