//! Parsing the command line and running the command: one module per subcommand, each returns
//! the process exit code.

pub mod check;
pub mod doctor;
pub mod edit;
pub mod import;
pub mod list;
pub mod plan;
pub mod run;
pub mod schema;
pub mod shard;

use std::collections::BTreeMap;
use std::path::PathBuf;

use camino::{Utf8Path, Utf8PathBuf};
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::report::output::eprintln;

use crate::cache::{self, KeyContext, Toolchains, install_hint};
use crate::diagnostic::ManifestErrors;
use crate::edit::{Document, EditError};
use crate::exit_code;
use crate::fingerprint::env_vars;
use crate::pipeline::{self, Checked};
use crate::plan::CargoFlags;
use crate::report::diagnostics::{print_error, print_errors, render_diagnostic};
use crate::report::github;

/// Parses the command line and runs the command; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit_code::OK
                }
                _ => exit_code::INVALID,
            };
        }
    };
    let color = cli.color.enabled();
    match cli.command {
        Command::Run(args) => run::run(&args, color),
        Command::Check {
            manifest,
            format,
            deny_warnings,
            context,
        } => check::check(
            manifest.as_deref(),
            format,
            &check::Warnings {
                deny: deny_warnings,
                context: context.as_deref(),
            },
            color,
        ),
        Command::Plan {
            manifest,
            format,
            cargo,
            verbose,
            shard,
            shards,
            timings,
        } => plan::plan(
            manifest.as_deref(),
            format,
            &cargo.flags(),
            verbose,
            &plan::Sharding {
                shard,
                shards: shards.map(usize::from),
                timings: timings.as_deref(),
            },
            color,
        ),
        Command::List {
            manifest,
            format,
            shard,
        } => list::list(manifest.as_deref(), format, &shard, color),
        Command::Schema { format } => schema::schema(format),
        Command::Doctor { manifest } => doctor::doctor(manifest.as_deref(), color),
        Command::Add(add) => edit::add(add, color),
        Command::Remove {
            name,
            workspace,
            manifest,
        } => edit::remove(&name, workspace.as_deref(), manifest.as_deref(), color),
        Command::Set(args) => edit::set(&args, color),
        Command::Unset(args) => edit::unset(&args, color),
        Command::Fmt { check, manifest } => edit::fmt(check, manifest.as_deref(), color),
        Command::Init { path, context } => edit::init(path.as_deref(), context.as_deref(), color),
        Command::Import {
            dry_run,
            context,
            manifest,
        } => import::import(manifest.as_deref(), context.as_deref(), dry_run, color),
    }
}

/// Locates, loads, resolves and plans the manifest; prints diagnostics and returns exit code 2
/// on any problem. With `builds`, the groups are those `run` builds (see
/// [`pipeline::Overrides::builds`]); `json`: standard output is JSON for a tool.
pub fn load(
    manifest: Option<&Utf8Path>,
    flags: &CargoFlags,
    color: bool,
    builds: bool,
    json: bool,
) -> Result<Checked, i32> {
    let path = locate(manifest, color)?;
    require_cargo(color)?;
    let overrides = pipeline::Overrides {
        builds,
        ..Default::default()
    };
    pipeline::check_file_with(&path, flags, &overrides).map_err(|errors| {
        print_manifest_errors(&errors, &path, json, color);
        exit_code::INVALID
    })
}

/// Prints the diagnostics of the manifest at `path`; in GitHub Actions also as workflow
/// annotations on its lines (on standard error when standard output is JSON, `json`).
pub fn print_manifest_errors(errors: &ManifestErrors, path: &Utf8Path, json: bool, color: bool) {
    print_errors(errors, color);
    annotate(&errors.0, path, json);
}

/// In GitHub Actions, prints `diagnostics` of the manifest at `path` as workflow annotations
/// (see [`github`]); elsewhere nothing.
pub fn annotate(diagnostics: &[crate::diagnostic::ManifestError], path: &Utf8Path, json: bool) {
    if github::enabled() {
        let file = github::file_name_here(path);
        github::emit(&github::diagnostics(diagnostics, Some(&file)), json);
    }
}

/// Computes the input key of every artifact of `checked.plan` (see `cache::compute_keys`),
/// with `programs` the located build programs; `report` is the file `run --report` writes,
/// which is never an input.
pub fn compute_keys(
    checked: &mut Checked,
    report: Option<&Utf8Path>,
    programs: &BTreeMap<String, PathBuf>,
    toolchains: &Toolchains,
) {
    let env: BTreeMap<String, String> = env_vars(|_| true).into_iter().collect();
    let mut excluded_files = vec![checked.resolved.manifest.path.clone()];
    if let Some(report) = report
        && let Ok(cwd) = std::env::current_dir()
        && let Some(cwd) = Utf8Path::from_path(&cwd)
    {
        excluded_files.push(crate::manifest::normalize(&cwd.join(report)));
    }
    let cx = KeyContext {
        programs,
        toolchains,
        env: &env,
        excluded_dirs: checked.output_dirs.clone(),
        excluded_files,
        views: &crate::resolve::views,
        versions_dir: crate::resolve::local_cache_dir("tools"),
    };
    cache::compute_keys(&mut checked.plan, &cx);
}

/// Where cargo is, the way `cargo metadata` is run: `$CARGO`, else `cargo` on PATH.
pub fn cargo_program() -> Option<std::path::PathBuf> {
    match std::env::var_os("CARGO") {
        Some(cargo) => which::which(cargo).ok(),
        None => which::which("cargo").ok(),
    }
}

/// Exit 3, naming cargo and how to install it, when cargo cannot be found: every command that
/// resolves a workspace runs `cargo metadata`.
pub fn require_cargo(color: bool) -> Result<(), i32> {
    if cargo_program().is_some() {
        return Ok(());
    }
    print_error(
        "`cargo` is not installed (or not on PATH); it is needed to read the cargo workspaces",
        install_hint("cargo"),
        color,
    );
    Err(exit_code::MISSING_TOOL)
}

/// Finds the manifest, printing the diagnostic when there is none.
pub fn locate(manifest: Option<&Utf8Path>, color: bool) -> Result<Utf8PathBuf, i32> {
    crate::manifest::locate(manifest).map_err(|e| {
        print_errors(&ManifestErrors(vec![e]), color);
        exit_code::INVALID
    })
}

/// Reads and parses the manifest for an editing command, or prints why not and returns the
/// exit code.
pub fn open(
    manifest: Option<&Utf8Path>,
    color: bool,
) -> Result<(Utf8PathBuf, String, Document), i32> {
    let path = locate(manifest, color)?;
    require_cargo(color)?;
    // An edit killed while writing leaves its temporary file beside the manifest.
    if let Some(dir) = path.parent() {
        crate::atomic::Sweeper::new().sweep(dir);
    }
    let text = crate::manifest::limits::read(&path).map_err(|errors| {
        print_errors(&errors, color);
        exit_code::INVALID
    })?;
    match Document::parse(&path, &text) {
        Ok(doc) => Ok((path, text, doc)),
        Err(e) => {
            // The decoder explains KDL errors the way `check` does; fall back to the kdl crate's.
            match crate::manifest::parse(&path, &text) {
                Err(errors) => print_errors(&errors, color),
                Ok(_) => {
                    fail(&e, color);
                }
            }
            Err(exit_code::INVALID)
        }
    }
}

/// Prints an edit error; returns exit code 2.
pub fn fail(e: &EditError, color: bool) -> i32 {
    eprintln(&render_diagnostic(e, color));
    exit_code::INVALID
}
