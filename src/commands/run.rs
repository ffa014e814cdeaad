//! `lambda-batch run`: build and package.

use std::io::IsTerminal;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};

use crate::cache::{Cache, CacheMode, Toolchains};
use crate::cli::RunArgs;
use crate::execute::{self, CacheRun, Interrupt};
use crate::exit_code;
use crate::manifest::values::{ARCH_WORDS, Arch, TargetSpec};
use crate::pipeline::{self, Overrides};
use crate::report::diagnostics::{print_error, print_warning};
use crate::report::output::{self, StdoutError, eprintln, stdout_then};
use crate::report::progress::{Progress, Style};
use crate::report::{github, run_report, summary};

/// The largest `--jobs`: far more compiler jobs than any machine runs usefully at once (each
/// is a token in one pipe, and the packaging threads stay at the CPU count whatever it is).
pub const MAX_JOBS: usize = 1024;

/// Builds and packages every selected artifact.
pub fn run(args: &RunArgs, color: bool) -> i32 {
    match try_run(args, color) {
        Ok(code) | Err(code) => code,
    }
}

fn try_run(args: &RunArgs, color: bool) -> Result<i32, i32> {
    let overrides = overrides(args).map_err(|(message, help)| usage(&message, &help, color))?;
    let jobs = match args.jobs {
        Some(0) => {
            return Err(usage(
                "`--jobs` must be at least 1",
                "leave it out to use every CPU",
                color,
            ));
        }
        Some(n) if n > MAX_JOBS => {
            return Err(usage(
                &format!(
                    "`--jobs {n}` is more than lambda-batch runs at once (at most {MAX_JOBS})"
                ),
                &format!(
                    "leave it out to use every CPU ({} here), or give at most {MAX_JOBS}",
                    std::thread::available_parallelism().map_or(1, usize::from)
                ),
                color,
            ));
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let source_date_epoch = source_date_epoch().map_err(|m| usage(&m, "", color))?;
    // `--keep-going` goes into the plan's commands, so `--dry-run` shows what runs.
    let flags = crate::plan::CargoFlags {
        keep_going: args.keep_going,
        ..args.cargo.flags()
    };
    let path = super::locate(args.manifest.as_deref(), color)?;
    super::require_cargo(color)?;
    let mut checked = pipeline::check_file_with(&path, &flags, &overrides).map_err(|errors| {
        super::print_manifest_errors(&errors, &path, false, color);
        exit_code::INVALID
    })?;
    let mode: CacheMode = args
        .cache_mode
        .parse()
        .map_err(|e: crate::cache::UnknownMode| usage(&e.to_string(), "", color))?;
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
        .unwrap_or_else(|| Utf8PathBuf::from("."));
    let manifest_cache = checked.resolved.manifest.cache.as_ref().map(|c| &c.value);
    let settings = crate::cache::settings(
        args.cache.as_deref(),
        manifest_cache,
        mode,
        args.cache_only,
        &cwd,
    )
    .map_err(|e| usage(&e.message, &e.help, color))?;
    let names = if checked.names.is_empty() {
        "(none)".to_string()
    } else {
        checked.names.join(", ")
    };

    for (glob, matcher) in args.only.iter().zip(&overrides.only) {
        if !checked
            .plan
            .artifacts
            .iter()
            .any(|a| matcher.is_match(&a.resolved.name))
        {
            let scope = if args.arch.is_empty() {
                ""
            } else {
                " for the selected architectures"
            };
            return Err(usage(
                &format!("`--only {glob}` matches no artifact{scope}"),
                &format!("the artifacts are: {names}"),
                color,
            ));
        }
    }
    if checked.plan.artifacts.is_empty() {
        return Err(usage(
            "nothing to build: no artifact of the manifest is built for the selected architectures",
            "check `lambda-batch list` for the architectures each artifact is built for",
            color,
        ));
    }
    if let Some(spec) = args.shard.shard {
        let whole = std::mem::replace(&mut checked.plan, crate::plan::Plan::empty());
        let (part, shard) =
            super::shard::narrow(&whole, spec, args.shard.timings.as_deref(), color)?;
        if !args.quiet || part.groups.is_empty() {
            eprintln(&super::shard::note(spec, &part, &whole, &shard));
        }
        checked.plan = part;
        if checked.plan.groups.is_empty() && !args.dry_run {
            // Nothing to build is a success: the other shards build the rest.
            if github::enabled()
                && let Some(path) = std::env::var_os(github::STEP_SUMMARY_VAR)
                && let Err(e) = github::append(
                    std::path::Path::new(&path),
                    &format!(
                        "### lambda-batch run (shard {spec})\n\n{}\n\n",
                        super::shard::note(spec, &checked.plan, &whole, &shard)
                    ),
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
            if let Some(report) = &args.report {
                let outcome = execute::not_started(&checked.plan, &Default::default());
                if let Err(e) =
                    run_report::write(report, &run_report::build(&checked.plan, &outcome))
                {
                    print_error(
                        &format!("cannot write the report `{report}`: {e}"),
                        "",
                        color,
                    );
                    return Err(exit_code::FAILED);
                }
            }
            return Ok(exit_code::OK);
        }
    }
    let located = crate::cache::locate(&checked.plan);
    let toolchains = Arc::new(Toolchains::default());
    if let Some(settings) = &settings {
        super::compute_keys(
            &mut checked,
            args.report.as_deref(),
            &located.found,
            &toolchains,
        );
        if !args.quiet {
            for a in &checked.plan.artifacts {
                if let Some(why) = &a.key_error {
                    let what = if settings.cache_only {
                        "it cannot be taken from the cache"
                    } else {
                        "it is built and not stored"
                    };
                    print_warning(
                        &format!(
                            "no input key for {} ({}): {why}; {what}",
                            a.resolved.name, a.resolved.arch
                        ),
                        color,
                    );
                }
            }
        }
    }
    let plan = checked.plan;
    if args.dry_run {
        return Ok(stdout_then(&super::plan::text(&plan), exit_code::OK));
    }

    for m in &located.missing {
        print_error(&m.to_string(), &m.install, color);
    }
    let missing: std::collections::BTreeMap<String, String> = located
        .missing
        .iter()
        .map(|m| {
            let why = format!(
                "not built: `{}` is not installed (help: {})",
                m.program, m.install
            );
            (m.program.clone(), why)
        })
        .collect();
    if !missing.is_empty() && !args.keep_going {
        // Nothing starts; the report still says what was not built and why.
        if let Some(report) = &args.report {
            let outcome = execute::not_started(&plan, &missing);
            if let Err(e) = run_report::write(report, &run_report::build(&plan, &outcome)) {
                print_error(
                    &format!("cannot write the report `{report}`: {e}"),
                    "",
                    color,
                );
            }
        }
        return Err(exit_code::MISSING_TOOL);
    }
    // The report is written beside itself too: sweep there what dead runs left (the output
    // directories are swept by the executor).
    if let Some(dir) = args.report.as_ref().and_then(|r| r.parent()) {
        let dir = if dir.as_str().is_empty() {
            Utf8Path::new(".")
        } else {
            dir
        };
        crate::atomic::Sweeper::new().sweep(dir);
    }
    let interrupt = Interrupt::install().unwrap_or_else(|e| {
        eprintln(&format!(
            "warning: cannot handle Ctrl-C ({e}); an interrupted run may leave temporary files"
        ));
        Interrupt::default()
    });
    let options = execute::Options {
        jobs,
        keep_going: args.keep_going,
        programs: located.found,
        missing: missing.clone(),
        color,
        source_date_epoch,
        interrupt,
        cache: settings.map(|s| CacheRun {
            cache: Arc::new(Cache::open(s.location, s.mode)),
            cache_only: s.cache_only,
        }),
        toolchains,
    };
    let style = Style {
        quiet: args.quiet,
        verbose: args.verbose,
        color,
        bars: std::io::stderr().is_terminal(),
    };
    let progress = Progress::new(&plan, style);
    let outcome = execute::execute(&plan, &options, &progress);
    progress.finish();
    let outcome = outcome.map_err(|e| {
        print_error(&e.to_string(), "", color);
        exit_code::FAILED
    })?;

    if github::enabled() {
        let title = match args.shard.shard {
            Some(spec) => format!("lambda-batch run (shard {spec})"),
            None => "lambda-batch run".to_string(),
        };
        github_actions(&plan, &outcome, &title, color);
    }
    let mut code = if let Some(signal) = outcome.signal() {
        exit_code::signalled(signal)
    } else if outcome.missing_tool {
        // --keep-going built what it could; a missing tool is still exit 3.
        exit_code::MISSING_TOOL
    } else if outcome.success() {
        exit_code::OK
    } else {
        exit_code::FAILED
    };
    // The outputs are in place whatever becomes of the summary; a summary that cannot be
    // written is a failure people hear about, unless its reader simply went away.
    if let Err(StdoutError::Failed(e)) = output::stdout(&summary::render(&plan, &outcome)) {
        print_error(
            &format!("cannot write the summary to stdout: {e}"),
            "the outputs were written; the summary is in `--report FILE` if you give one",
            color,
        );
        if code == exit_code::OK {
            code = exit_code::FAILED;
        }
    }
    if let Some(report) = &args.report
        && let Err(e) = run_report::write(report, &run_report::build(&plan, &outcome))
    {
        print_error(
            &format!("cannot write the report `{report}`: {e}"),
            "",
            color,
        );
        if code == exit_code::OK {
            code = exit_code::FAILED;
        }
    }
    Ok(code)
}

/// In GitHub Actions: an annotation per failed output, and the closing table appended to the
/// step summary (a summary file that is not there or cannot be written is a warning).
fn github_actions(
    plan: &crate::plan::Plan,
    outcome: &execute::RunOutcome,
    title: &str,
    color: bool,
) {
    github::emit(&github::failures(plan, outcome), false);
    let Some(path) = std::env::var_os(github::STEP_SUMMARY_VAR).filter(|p| !p.is_empty()) else {
        return;
    };
    if let Err(e) = github::append(
        std::path::Path::new(&path),
        &github::step_summary(plan, outcome, title),
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

/// `--only`, `--arch` and `--profile` as pipeline overrides; a bad value is a usage error
/// (message, help).
fn overrides(args: &RunArgs) -> Result<Overrides, (String, String)> {
    let only = args
        .only
        .iter()
        .map(|g| {
            globset::Glob::new(g)
                .map(|g| g.compile_matcher())
                .map_err(|e| {
                    (
                        format!("`--only {g}` is not a valid glob: {e}"),
                        "use `*` and `?` wildcards, as in `--only 'get-*'`".to_string(),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut arch: Vec<Arch> = Vec::new();
    for a in &args.arch {
        let parsed = TargetSpec::parse(a).map_err(|e| {
            (
                format!("`--arch {a}`: {e}"),
                format!("use one of {}", ARCH_WORDS.join(", ")),
            )
        })?;
        if !arch.contains(&parsed.arch) {
            arch.push(parsed.arch);
        }
    }
    Ok(Overrides {
        profile: args.profile.clone(),
        only,
        arch,
        builds: true,
    })
}

/// `SOURCE_DATE_EPOCH` from the environment, when set.
fn source_date_epoch() -> Result<Option<i64>, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => s.trim().parse().map(Some).map_err(|_| {
            format!("SOURCE_DATE_EPOCH=`{s}` is not a number of seconds since 1970-01-01")
        }),
        Err(_) => Ok(None),
    }
}

/// Prints a usage error and returns its exit code.
fn usage(message: &str, help: &str, color: bool) -> i32 {
    print_error(message, help, color);
    exit_code::INVALID
}
