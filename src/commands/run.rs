//! `lambda-batch run`: build and package. [`run`] reads as the list of its steps: [`prepare`]
//! (the plan), [`build_and_package`], [`finish`]; whatever the run comes to once it has a plan
//! (a shard with nothing to build, a missing build tool, the builds done), [`finish`] writes
//! the `--report`, in one place. `publish` takes the same steps and uploads before finishing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::SystemTime;

use camino::Utf8Path;

use super::Error;
use crate::cache::{Cache, CacheSettings, Keys, Located, Toolchains};
use crate::cli::RunArgs;
use crate::execute::{self, CacheRun, Interrupt, RunOutcome, Tee};
use crate::exit_code::ExitCode;
use crate::manifest::values::Arch;
use crate::pipeline::{Checked, Overrides};
use crate::plan::Plan;
use crate::plan::shard::ShardSpec;
use crate::provenance;
use crate::report::diagnostics::{print_error, print_warning};
use crate::report::output::{self, StdoutError, eprintln};
use crate::report::progress::{Progress, Style};
use crate::report::timeline::{Recorder, Timeline, page};
use crate::report::{github, run_report, summary};

/// Builds and packages every selected artifact.
pub fn run(args: &RunArgs, color: bool) -> Result<ExitCode, Error> {
    let started = SystemTime::now();
    let planned = match prepare(args, color)? {
        // Nothing to build is a success: the other shards build the rest.
        Prepared::Nothing(plan) => return nothing_to_build(args, Ran::new("run", &plan, started)),
        Prepared::Planned(planned) => planned,
    };
    if args.dry_run {
        super::print(&super::plan::text(&planned.plan, &planned.keys, true))?;
        return Ok(ExitCode::OK);
    }
    let built = build_and_package(args, planned, color)?;
    let mut report = run_report::build(&built.plan, &built.keys, &built.outcome);
    let mut unwritten = built.unwritten;
    unwritten.extend(write_sboms(&built.plan, &mut report));
    let ran = Ran::new("run", &built.plan, started);
    finish(
        args,
        ran,
        &report,
        built.timeline.as_ref(),
        built.code,
        unwritten,
    )
}

/// Finishes a run (`ran`) whose shard has nothing to build: a success, with a report and a
/// timeline that say so when asked for.
pub fn nothing_to_build(args: &RunArgs, ran: Ran<'_>) -> Result<ExitCode, Error> {
    let plan = ran.plan;
    let outcome = execute::not_started(plan, &BTreeMap::new());
    let report = run_report::build(plan, &Keys::none(), &outcome);
    let timeline = args
        .timeline
        .is_some()
        .then(|| Timeline::new(plan, Vec::new(), "nothing to build in this shard".into()));
    finish(
        args,
        ran,
        &report,
        timeline.as_ref(),
        ExitCode::OK,
        Vec::new(),
    )
}

/// What [`finish`] says of the run besides its report: for `--provenance`.
pub struct Ran<'a> {
    /// The subcommand.
    pub command: &'static str,
    /// What it planned.
    pub plan: &'a Plan,
    /// When it started.
    pub started: SystemTime,
}

impl<'a> Ran<'a> {
    /// `command` ran `plan` from `started` on.
    pub fn new(command: &'static str, plan: &'a Plan, started: SystemTime) -> Ran<'a> {
        Ran {
            command,
            plan,
            started,
        }
    }
}

/// Writes the SBOM of each output that asks for one, and names it in `report`; what could not
/// be written fails the run (the outputs stay).
pub fn write_sboms(plan: &Plan, report: &mut run_report::Report) -> Vec<Error> {
    let epoch = source_date_epoch().ok().flatten();
    let written = crate::sbom::write_all(plan, report, &crate::resolve::views, epoch);
    let mut errors = Vec::new();
    for (artifact, sbom) in report.artifacts.iter_mut().zip(written) {
        match sbom {
            Ok(sbom) => artifact.sbom = sbom,
            Err(why) => errors.push(Error::Sbom(why)),
        }
    }
    errors
}

/// Refuses a plan with `binary` outputs before anything is built: Lambda takes zips.
/// `refusal` says what the command would have done with them ("`publish` cannot upload").
pub fn refuse_binaries(plan: &Plan, refusal: &str) -> Result<(), Error> {
    let binaries: BTreeSet<&str> = plan
        .artifacts
        .iter()
        .filter(|a| !a.is_zip())
        .map(|a| a.resolved.identity.name.as_str())
        .collect();
    if binaries.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = binaries.into_iter().collect();
    Err(Error::usage(
        format!(
            "Lambda deploys zips: {refusal} {}, built as `binary`",
            names.join(", ")
        ),
        format!("{}, or leave them out with `--only`", run_report::ZIP_HELP),
    ))
}

/// What [`prepare`] comes to.
pub enum Prepared {
    /// A shard with nothing to build (not under `--dry-run`): its plan.
    Nothing(Plan),
    /// Something to build.
    Planned(Box<Planned>),
}

/// A run planned and ready to start.
pub struct Planned {
    /// What it builds (`--only`, `--arch`, `--shard` applied).
    pub plan: Plan,
    /// The input key of each of its artifacts, when the run has a cache (else none).
    pub keys: Keys,
    /// The manifest it was planned from.
    pub manifest: crate::manifest::Manifest,
    cache: Option<CacheSettings>,
    located: Located,
    toolchains: Arc<Toolchains>,
    source_date_epoch: Option<i64>,
}

/// A run that has built and packaged what it could, and printed its closing table.
pub struct Built {
    /// What it built.
    pub plan: Plan,
    /// The input keys it built with (none without a cache).
    pub keys: Arc<Keys>,
    /// What became of each artifact.
    pub outcome: RunOutcome,
    /// What it exits with, unless writing its results fails.
    pub code: ExitCode,
    /// The results that could not be written so far (the summary).
    pub unwritten: Vec<Error>,
    /// The signals it listens to, still installed (none when nothing started): what comes
    /// after the build stops on them too.
    pub interrupt: Option<Interrupt>,
    /// What happened when, when asked for (`--timeline`, or GitHub's step summary).
    pub timeline: Option<Timeline>,
}

/// The run's plan: the manifest loaded with the selection, the cache settings, the shard, the
/// input keys.
pub fn prepare(args: &RunArgs, color: bool) -> Result<Prepared, Error> {
    let source_date_epoch = source_date_epoch()?;
    let checked = load(args)?;
    let cache = cache_settings(args, &checked)?;
    check_selection(args, &checked)?;
    let whole = checked.plan;
    let plan = match &args.shard.shard {
        Some(spec) => {
            let part = narrow(args, spec, &whole, color)?;
            if part.groups.is_empty() && !args.dry_run {
                return Ok(Prepared::Nothing(part));
            }
            part
        }
        None => whole,
    };
    let located = crate::cache::locate(&plan);
    let toolchains = Arc::new(Toolchains::default());
    let keys = match &cache {
        Some(cache) => {
            let keys = super::compute_keys(
                &plan,
                &checked.resolved.manifest.path,
                &checked.output_dirs,
                args.report.as_deref(),
                &located.found,
                &toolchains,
            );
            warn_keyless(args, &plan, &keys, cache, color);
            keys
        }
        None => Keys::none(),
    };
    Ok(Prepared::Planned(Box::new(Planned {
        plan,
        keys,
        manifest: checked.resolved.manifest,
        cache,
        located,
        toolchains,
        source_date_epoch,
    })))
}

/// Runs the plan: cargo, the cache, packaging, the progress, the closing table and GitHub's
/// annotations. A missing build program starts nothing (unless `--keep-going`).
pub fn build_and_package(
    args: &RunArgs,
    planned: Box<Planned>,
    color: bool,
) -> Result<Built, Error> {
    let Planned {
        plan,
        keys,
        cache,
        located,
        toolchains,
        source_date_epoch,
        ..
    } = *planned;
    let keys = Arc::new(keys);
    let missing = missing_tools(&located, color);
    let recorder = (args.timeline.is_some() || github::enabled()).then(Recorder::default);
    if !missing.is_empty() && !args.keep_going {
        // Nothing starts; the report still says what was not built and why.
        let outcome = execute::not_started(&plan, &missing);
        let timeline =
            recorder.map(|_| Timeline::new(&plan, Vec::new(), summary::closing(&plan, &outcome)));
        return Ok(Built {
            plan,
            keys,
            outcome,
            code: ExitCode::MISSING_TOOL,
            unwritten: Vec::new(),
            interrupt: None,
            timeline,
        });
    }
    sweep_beside_report(args);
    let interrupt = interrupt();
    let options = execute::Options {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        keep_going: args.keep_going,
        programs: located.found,
        missing,
        color,
        source_date_epoch,
        interrupt: interrupt.clone(),
        sample_cpu: args.timeline.is_some(),
        cache: cache.map(|s| CacheRun {
            cache: Arc::new(Cache::open(s.location, s.mode)),
            cache_only: s.cache_only,
            keys: Arc::clone(&keys),
        }),
        toolchains,
    };
    let outcome = build(args, &plan, &keys, &options, recorder.as_ref(), color)?;
    if let Some(c) = &options.cache {
        super::learned::store(&c.cache, &plan, &outcome, color);
        c.cache.log_run(&run_entry(&outcome));
    }
    let timeline =
        recorder.map(|r| Timeline::new(&plan, r.into_events(), summary::closing(&plan, &outcome)));
    if github::enabled() {
        github_actions(
            &plan,
            &keys,
            &outcome,
            &title(args.shard.shard.as_ref()),
            timeline.as_ref(),
            color,
        );
    }
    let unwritten = print_summary(&plan, &keys, &outcome)
        .err()
        .into_iter()
        .collect();
    Ok(Built {
        code: exit_code(&outcome),
        plan,
        keys,
        outcome,
        unwritten,
        interrupt: Some(interrupt),
        timeline,
    })
}

/// What the run did with the cache, for the cache's run log (`cache stats`).
fn run_entry(outcome: &RunOutcome) -> crate::cache::RunEntry {
    use crate::cache::CacheStatus;
    let mut entry = crate::cache::RunEntry {
        finished: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        command: std::env::args()
            .skip(1)
            .find(|c| ["run", "publish", "deploy"].contains(&c.as_str()))
            .unwrap_or_else(|| "run".to_string()),
        hits: 0,
        stored: 0,
        misses: 0,
        other: 0,
    };
    for a in &outcome.artifacts {
        match a {
            execute::ArtifactOutcome::Packaged {
                cache: Some(status),
                ..
            } => match status {
                CacheStatus::Hit => entry.hits += 1,
                CacheStatus::Stored => entry.stored += 1,
                CacheStatus::Miss => entry.misses += 1,
            },
            _ => entry.other += 1,
        }
    }
    entry
}

/// `SOURCE_DATE_EPOCH` from the environment, when set: the zips' timestamp.
fn source_date_epoch() -> Result<Option<i64>, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => s.trim().parse().map(Some).map_err(|_| {
            Error::usage(
                format!("SOURCE_DATE_EPOCH=`{s}` is not a number of seconds since 1970-01-01"),
                "",
            )
        }),
        Err(_) => Ok(None),
    }
}

/// The manifest, resolved and planned with `--only`, `--arch`, `--profile` and the cargo flags.
fn load(args: &RunArgs) -> Result<Checked, Error> {
    let mut arch: Vec<Arch> = Vec::new();
    for a in &args.arch {
        if !arch.contains(a) {
            arch.push(*a);
        }
    }
    let overrides = Overrides {
        profile: args.profile.clone(),
        only: args.only.iter().map(|o| o.matcher.clone()).collect(),
        arch,
        builds: true,
    };
    // `--keep-going` goes into the plan's commands, so `--dry-run` shows what runs.
    let flags = crate::plan::CargoFlags {
        keep_going: args.keep_going,
        ..args.cargo.flags()
    };
    super::load_with(args.manifest.as_deref(), &flags, &overrides, false)
}

/// The cache the run uses: `--cache` (or its variable) over the manifest's `cache` node, with
/// `--cache-mode` and `--cache-only`.
fn cache_settings(args: &RunArgs, checked: &Checked) -> Result<Option<CacheSettings>, Error> {
    let manifest_cache = checked.resolved.manifest.cache.as_ref().map(|c| &c.value);
    super::cache_settings(
        args.cache.as_deref(),
        manifest_cache,
        args.cache_mode,
        args.cache_only,
    )
}

/// Each `--only` matches an artifact, and something is left to build.
fn check_selection(args: &RunArgs, checked: &Checked) -> Result<(), Error> {
    let artifacts = &checked.plan.artifacts;
    for only in &args.only {
        if !artifacts
            .iter()
            .any(|a| only.matcher.is_match(&a.resolved.identity.name))
        {
            let scope = if args.arch.is_empty() {
                ""
            } else {
                " for the selected architectures"
            };
            let names = if checked.names.is_empty() {
                "(none)".to_string()
            } else {
                checked.names.join(", ")
            };
            return Err(Error::usage(
                format!("`--only {}` matches no artifact{scope}", only.glob),
                format!("the artifacts are: {names}"),
            ));
        }
    }
    if artifacts.is_empty() {
        return Err(Error::usage(
            "nothing to build: no artifact of the manifest is built for the selected architectures",
            "check `lambda-batch list` for the architectures each artifact is built for",
        ));
    }
    Ok(())
}

/// The plan narrowed to shard `spec`, saying what the shard builds; a shard with nothing to
/// build says so in GitHub Actions' step summary too.
fn narrow(args: &RunArgs, spec: &ShardSpec, whole: &Plan, color: bool) -> Result<Plan, Error> {
    let (part, shard) = super::shard::narrow(whole, spec, args.shard.timings.as_deref())?;
    let note = super::shard::note(spec, &part, whole, &shard);
    if !args.quiet || part.groups.is_empty() {
        eprintln(&note);
    }
    if part.groups.is_empty()
        && !args.dry_run
        && github::enabled()
        && let Some(path) = std::env::var_os(github::STEP_SUMMARY_VAR)
        && let Err(e) = github::append(
            std::path::Path::new(&path),
            &format!("### {}\n\n{note}\n\n", title(Some(spec))),
        )
    {
        print_warning(
            &format!(
                "cannot append the summary to ${}: {e}",
                github::STEP_SUMMARY_VAR
            ),
            color,
        );
    }
    Ok(part)
}

/// A warning for each artifact of `plan` that has no input key in `keys` (unless `--quiet`).
fn warn_keyless(args: &RunArgs, plan: &Plan, keys: &Keys, cache: &CacheSettings, color: bool) {
    if args.quiet {
        return;
    }
    for (a, key) in plan.artifacts.iter().zip(keys.iter()) {
        if let Err(why) = key {
            let what = if cache.cache_only {
                "it cannot be taken from the cache"
            } else {
                "it is built and not stored"
            };
            print_warning(
                &format!(
                    "no input key for {} ({}): {why}; {what}",
                    a.resolved.identity.name, a.resolved.build.arch
                ),
                color,
            );
        }
    }
}

/// Each build program that is not installed, said with how to install it, by name: why its
/// artifacts are not built.
fn missing_tools(located: &Located, color: bool) -> BTreeMap<String, String> {
    for m in &located.missing {
        print_error(&m.to_string(), &m.install, color);
    }
    located
        .missing
        .iter()
        .map(|m| {
            let why = format!(
                "not built: `{}` is not installed (help: {})",
                m.program, m.install
            );
            (m.program.clone(), why)
        })
        .collect()
}

/// The report is written beside itself too: sweeps there what dead runs left (the output
/// directories are swept by the executor).
fn sweep_beside_report(args: &RunArgs) {
    if let Some(dir) = args.report.as_ref().and_then(|r| r.parent()) {
        let dir = if dir.as_str().is_empty() {
            Utf8Path::new(".")
        } else {
            dir
        };
        crate::atomic::Sweeper::new().sweep(dir);
    }
}

/// Ctrl-C and the other signals, handled so that the run stops cleanly.
fn interrupt() -> Interrupt {
    Interrupt::install().unwrap_or_else(|e| {
        eprintln(&format!(
            "warning: cannot handle Ctrl-C ({e}); an interrupted run may leave temporary files"
        ));
        Interrupt::default()
    })
}

/// Runs the plan, with progress on standard error (and its events to `recorder` too).
fn build(
    args: &RunArgs,
    plan: &Plan,
    keys: &Keys,
    options: &execute::Options,
    recorder: Option<&Recorder>,
    color: bool,
) -> Result<RunOutcome, Error> {
    let style = Style {
        quiet: args.quiet,
        verbose: args.verbose,
        color,
        bars: std::io::stderr().is_terminal(),
    };
    let progress = Progress::new(plan, keys, style);
    let outcome = match recorder {
        Some(recorder) => execute::execute(plan, options, &Tee(&progress, recorder)),
        None => execute::execute(plan, options, &progress),
    };
    progress.finish();
    Ok(outcome?)
}

/// What a run that started exits with.
fn exit_code(outcome: &RunOutcome) -> ExitCode {
    if let Some(signal) = outcome.signal() {
        ExitCode::signalled(signal)
    } else if outcome.missing_tool {
        // --keep-going built what it could; a missing tool is still exit 3.
        ExitCode::MISSING_TOOL
    } else if outcome.success() {
        ExitCode::OK
    } else {
        ExitCode::FAILED
    }
}

/// The summary on standard output. The outputs are in place whatever becomes of it; one that
/// cannot be written is a failure people hear about, unless its reader simply went away.
fn print_summary(plan: &Plan, keys: &Keys, outcome: &RunOutcome) -> Result<(), Error> {
    match output::stdout(&summary::render(plan, keys, outcome)) {
        Ok(()) | Err(StdoutError::Closed) => Ok(()),
        Err(StdoutError::Failed(e)) => Err(Error::Summary(e)),
    }
}

/// The one place that writes `--report` (`report`), `--timeline` (`timeline`: a run that
/// asked for one always has one) and `--provenance` (of `ran`), once the run has come to
/// `code` (with `unwritten`, the results that could not be written so far): a result that
/// cannot be written fails a run that had succeeded.
pub fn finish(
    args: &RunArgs,
    ran: Ran<'_>,
    report: &run_report::Report,
    timeline: Option<&Timeline>,
    code: ExitCode,
    mut unwritten: Vec<Error>,
) -> Result<ExitCode, Error> {
    if let Some(path) = &args.report
        && let Err(source) = run_report::write(path, report)
    {
        unwritten.push(Error::Report {
            path: path.clone(),
            source,
        });
    }
    if let (Some(path), Some(timeline)) = (&args.timeline, timeline) {
        let html = page::render(timeline, &title(args.shard.shard.as_ref()));
        if let Err(source) = page::write(path, &html) {
            unwritten.push(Error::Timeline {
                path: path.clone(),
                source,
            });
        }
    }
    if let Some(path) = &args.provenance {
        let (builder, invocation) = provenance::builder(&|k| std::env::var(k).ok());
        let cx = provenance::Context {
            manifest: ran.plan.manifest.clone(),
            command: ran.command.to_string(),
            arguments: std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            resolved: provenance::gather(ran.plan, &ran.plan.manifest),
            builder,
            invocation,
            started: ran.started,
            finished: SystemTime::now(),
        };
        if let Err(e) = provenance::write(path, &provenance::render(report, &cx)) {
            unwritten.push(Error::Provenance {
                path: path.clone(),
                message: e.to_string(),
            });
        }
    }
    if unwritten.is_empty() {
        Ok(code)
    } else {
        Err(Error::Unwritten {
            outcome: code,
            errors: unwritten,
        })
    }
}

/// The heading of the run's step summary in GitHub Actions.
fn title(shard: Option<&ShardSpec>) -> String {
    match shard {
        Some(spec) => format!("lambda-batch run (shard {})", spec.number()),
        None => "lambda-batch run".to_string(),
    }
}

/// In GitHub Actions: an annotation per failed output, and the closing table and the timeline
/// appended to the step summary (a summary file that is not there or cannot be written is a
/// warning).
fn github_actions(
    plan: &Plan,
    keys: &Keys,
    outcome: &RunOutcome,
    title: &str,
    timeline: Option<&Timeline>,
    color: bool,
) {
    github::emit(&github::failures(plan, outcome), false);
    let Some(path) = std::env::var_os(github::STEP_SUMMARY_VAR).filter(|p| !p.is_empty()) else {
        return;
    };
    if let Err(e) = github::append(
        std::path::Path::new(&path),
        &github::step_summary(plan, keys, outcome, title, timeline),
    ) {
        print_warning(
            &format!(
                "cannot append the summary to ${} (`{}`): {e}",
                github::STEP_SUMMARY_VAR,
                std::path::Path::new(&path).display()
            ),
            color,
        );
    }
}
