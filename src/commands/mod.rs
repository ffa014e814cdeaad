//! Parsing the command line and running the command: one module per subcommand, each returns
//! `Result<ExitCode, Error>`, and [`main`] turns that into the process exit code.

pub mod affected;
pub mod cache;
pub mod check;
pub mod deploy;
pub mod doctor;
pub mod edit;
pub mod emit;
pub mod error;
pub mod hand_off;
pub mod import;
pub mod learned;
pub mod list;
pub mod plan;
pub mod publish;
pub mod run;
pub mod schema;
pub mod shard;

use std::collections::BTreeMap;
use std::path::PathBuf;

use camino::{Utf8Path, Utf8PathBuf};
use clap::Parser;

use crate::cache::{KeyContext, Keys, Toolchains};
use crate::cli::{Cli, Command};
use crate::diagnostic::ManifestErrors;
use crate::edit::Document;
use crate::exit_code::ExitCode;
use crate::fingerprint::env_vars;
use crate::pipeline::{self, Checked};
use crate::plan::{CargoFlags, Plan};
use crate::report::github;
use crate::report::output::{self, StdoutError};

pub use error::Error;

/// Parses the command line and runs the command; returns the process exit code. The one place
/// where an [`Error`] is printed and becomes an exit code.
pub fn main() -> i32 {
    let (result, color) = match Cli::try_parse() {
        Ok(cli) => {
            let color = cli.color.enabled();
            (dispatch(cli.command, color), color)
        }
        Err(e) => (Err(Error::Cli(e)), false),
    };
    match result {
        Ok(code) => code,
        Err(e) => e.report(color),
    }
    .code()
}

/// Runs one command.
fn dispatch(command: Command, color: bool) -> Result<ExitCode, Error> {
    match command {
        Command::Run(args) => run::run(&args, color),
        Command::Publish(args) => publish::publish(&args, color),
        Command::Deploy(args) => deploy::deploy(&args, color),
        Command::Emit(args) => emit::emit(&args),
        Command::Cache(command) => cache::cache(&command),
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
            cache,
            cache_mode,
        } => plan::plan(
            manifest.as_deref(),
            format,
            &cargo.flags(),
            verbose,
            &plan::Sharding {
                shard,
                shards: shards.map(usize::from),
                timings: timings.as_deref(),
                cache: cache.as_deref(),
                cache_mode,
            },
            color,
        ),
        Command::List {
            manifest,
            format,
            shard,
        } => list::list(manifest.as_deref(), format, &shard),
        Command::Schema { format } => schema::schema(format),
        Command::Doctor { manifest } => doctor::doctor(manifest.as_deref()),
        Command::Add(add) => edit::add(add),
        Command::Remove {
            name,
            workspace,
            manifest,
        } => edit::remove(&name, workspace.as_deref(), manifest.as_deref()),
        Command::Set(args) => edit::set(&args),
        Command::Unset(args) => edit::unset(&args),
        Command::Fmt { check, manifest } => edit::fmt(check, manifest.as_deref()),
        Command::Init { path, context } => edit::init(path.as_deref(), context.as_deref(), color),
        Command::Import {
            dry_run,
            context,
            manifest,
        } => import::import(manifest.as_deref(), context.as_deref(), dry_run, color),
    }
}

/// Locates, loads, resolves and plans the manifest. With `builds`, the groups are those `run`
/// builds (see [`pipeline::Overrides::builds`]); `json`: standard output is JSON for a tool.
pub fn load(
    manifest: Option<&Utf8Path>,
    flags: &CargoFlags,
    builds: bool,
    json: bool,
) -> Result<Checked, Error> {
    let overrides = pipeline::Overrides {
        builds,
        ..Default::default()
    };
    load_with(manifest, flags, &overrides, json)
}

/// [`load`] with the overrides of `run` (`--only`, `--arch`, `--profile`).
pub fn load_with(
    manifest: Option<&Utf8Path>,
    flags: &CargoFlags,
    overrides: &pipeline::Overrides,
    json: bool,
) -> Result<Checked, Error> {
    let path = locate(manifest)?;
    require_cargo()?;
    pipeline::check_file_with(&path, flags, overrides)
        .map_err(|errors| Error::manifest_at(errors, &path, json))
}

/// In GitHub Actions, prints `diagnostics` of the manifest at `path` as workflow annotations
/// (see [`github`]); elsewhere nothing.
pub fn annotate(diagnostics: &[crate::diagnostic::ManifestError], path: &Utf8Path, json: bool) {
    if github::enabled() {
        let file = github::file_name_here(path);
        github::emit(&github::diagnostics(diagnostics, Some(&file)), json);
    }
}

/// The input key of every artifact of `plan` (see `cache::compute_keys`), a plan of the
/// manifest at `manifest` (perhaps narrowed to a shard) whose target and output directories,
/// never inputs, are `output_dirs` (`Checked::output_dirs`), with `programs` the located build
/// programs; `report` is the file `run --report` writes, which is never an input either.
pub fn compute_keys(
    plan: &Plan,
    manifest: &Utf8Path,
    output_dirs: &[Utf8PathBuf],
    report: Option<&Utf8Path>,
    programs: &BTreeMap<String, PathBuf>,
    toolchains: &Toolchains,
) -> Keys {
    let env: BTreeMap<String, String> = env_vars(|_| true).into_iter().collect();
    let mut excluded_files = vec![manifest.to_path_buf()];
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
        excluded_dirs: output_dirs.to_vec(),
        excluded_files,
        views: &crate::resolve::views,
        versions_dir: crate::resolve::local_cache_dir("tools"),
    };
    crate::cache::compute_keys(plan, &cx)
}

/// The input keys of `plan` (the checked manifest's plan, perhaps narrowed to a shard) as
/// `plan` and `plan --shards` compute them: no report file, the build programs found on this
/// machine, the toolchains asked afresh.
pub fn keys_of(checked: &crate::pipeline::Checked, plan: &Plan) -> Keys {
    let located = crate::cache::locate(plan);
    compute_keys(
        plan,
        &checked.resolved.manifest.path,
        &checked.output_dirs,
        None,
        &located.found,
        &Toolchains::default(),
    )
}

/// The cache a command uses: `flag` (`--cache`, or LAMBDA_BATCH_CACHE through it; relative to
/// the current directory) over the manifest's `cache` node `manifest` (see
/// `cache::settings`).
pub fn cache_settings(
    flag: Option<&str>,
    manifest: Option<&crate::cache::CacheLocation>,
    mode: crate::cache::CacheMode,
    cache_only: bool,
) -> Result<Option<crate::cache::CacheSettings>, Error> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
        .unwrap_or_else(|| Utf8PathBuf::from("."));
    crate::cache::settings(flag, manifest, mode, cache_only, &cwd)
        .map_err(|e| Error::usage(e.message, e.help))
}

/// Where cargo is, the way `cargo metadata` is run: `$CARGO`, else `cargo` on PATH.
pub fn cargo_program() -> Option<std::path::PathBuf> {
    match std::env::var_os("CARGO") {
        Some(cargo) => which::which(cargo).ok(),
        None => which::which("cargo").ok(),
    }
}

/// [`Error::CargoMissing`] when cargo cannot be found: every command that resolves a workspace
/// runs `cargo metadata`.
pub fn require_cargo() -> Result<(), Error> {
    match cargo_program() {
        Some(_) => Ok(()),
        None => Err(Error::CargoMissing),
    }
}

/// Finds the manifest.
pub fn locate(manifest: Option<&Utf8Path>) -> Result<Utf8PathBuf, Error> {
    crate::manifest::locate(manifest).map_err(|e| Error::manifest(ManifestErrors(vec![e])))
}

/// Reads and parses the manifest for an editing command.
pub fn open(manifest: Option<&Utf8Path>) -> Result<(Utf8PathBuf, String, Document), Error> {
    let path = locate(manifest)?;
    require_cargo()?;
    // An edit killed while writing leaves its temporary file beside the manifest.
    if let Some(dir) = path.parent() {
        crate::atomic::Sweeper::new().sweep(dir);
    }
    let text = crate::manifest::limits::read(&path).map_err(Error::manifest)?;
    match Document::parse(&path, &text) {
        Ok(doc) => Ok((path, text, doc)),
        // The decoder explains KDL errors the way `check` does; fall back to the kdl crate's.
        Err(e) => Err(match crate::manifest::parse(&path, &text) {
            Err(errors) => Error::manifest(errors),
            Ok(_) => Error::Edit(e),
        }),
    }
}

/// Writes `text` to standard output; a reader that went away is no error (`list | head -1`).
pub fn print(text: &str) -> Result<(), Error> {
    match output::stdout(text) {
        Ok(()) | Err(StdoutError::Closed) => Ok(()),
        Err(StdoutError::Failed(e)) => Err(Error::Stdout(e)),
    }
}
