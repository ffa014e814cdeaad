//! `lambda-batch deploy [MANIFEST]`: `run`'s steps, then (when the manifest publishes) every
//! zip uploaded as `publish` does, then every function and layer brought to its zip on Lambda,
//! before the report is written.

use super::Error;
use super::hand_off::{self, Ending};
use super::run::{self, Prepared};
use crate::cli::{DeployArgs, RunArgs};
use crate::deploy::{self, Action, DeployTable, Deployer, Entry, Mode, Target, TargetKind};
use crate::exit_code::ExitCode;
use crate::manifest::PublishLocation;
use crate::publish::{self, Prefetch, Publisher};
use crate::report::diagnostics::print_error;
use crate::report::github::{self, Annotation, Level};
use crate::report::output::eprintln;
use crate::report::{run_report, table};

/// Builds as `run` does (a no-op when everything is fresh), publishes when the manifest (or
/// `--to`) says where, then deploys. A `binary` output stops it before anything is built; a
/// build or an upload that fails deploys nothing; a function that fails is printed (and
/// annotated in GitHub Actions) and exits 1 once the report is written.
pub fn deploy(args: &DeployArgs, color: bool) -> Result<ExitCode, Error> {
    // `--dry-run` is deploy's own: the build runs either way, since only a build says which
    // bytes there are.
    let started = std::time::SystemTime::now();
    let run_args = RunArgs {
        dry_run: false,
        ..args.run.clone()
    };
    let planned = match run::prepare(&run_args, color)? {
        // An empty shard: nothing to build, nothing to deploy.
        Prepared::Nothing(plan) => {
            return run::nothing_to_build(&run_args, run::Ran::new("deploy", &plan, started));
        }
        Prepared::Planned(planned) => planned,
    };
    let location: Option<PublishLocation> = args
        .to
        .clone()
        .or_else(|| planned.manifest.publish.as_ref().map(|n| n.value.clone()));
    run::refuse_binaries(&planned.plan, "`deploy` cannot deploy")?;
    let dry_run = args.run.dry_run;

    // The clients are set up while the run checks its outputs (they read the system's root
    // certificates and the AWS configuration files).
    let opening = std::thread::Builder::new()
        .name("lambda-batch-deploy-open".into())
        .spawn({
            let location = location.clone();
            move || {
                let publisher = location.as_ref().map(Publisher::from_env);
                (publisher, Deployer::from_env())
            }
        });
    let built = run::build_and_package(&run_args, planned, color)?;
    let mut report = run_report::build(&built.plan, &built.keys, &built.outcome);
    // `--timeline` shows the build; it is written with the report whatever comes after.
    let ending = Ending {
        args: &run_args,
        command: "deploy",
        plan: &built.plan,
        started,
        timeline: built.timeline.as_ref(),
        color,
    };
    // The SBOMs go beside their outputs (and up with them when the manifest publishes), as
    // `run` and `publish` write them; what cannot be written deploys nothing.
    let mut unwritten = built.unwritten;
    if let Some(why) = hand_off::write_sboms(&built.plan, &mut report, built.code, &mut unwritten) {
        let message = format!("nothing was deployed: {why}");
        return ending.stop(&report, built.code, unwritten, &message, "");
    }
    let (publisher, deployer) = match opening {
        Ok(thread) => thread
            .join()
            .unwrap_or_else(|_| (None, Err("setting up the AWS clients failed".into()))),
        Err(e) => (None, Err(format!("cannot start a thread: {e}"))),
    };
    let interrupt = built.interrupt.unwrap_or_default();

    if let (Some(location), Some(publisher)) = (&location, publisher) {
        let publisher = match publisher {
            Ok(p) => p,
            Err(why) => {
                return ending.stop(
                    &report,
                    ExitCode::FAILED,
                    unwritten,
                    &format!("nothing was deployed: cannot publish to {location}: {why}"),
                    "check AWS_REGION, AWS_ENDPOINT_URL and the credentials in the environment",
                );
            }
        };
        let mode = if dry_run {
            publish::Mode::DryRun
        } else {
            publish::Mode::Upload
        };
        let published = publisher.publish(
            &report,
            mode,
            &interrupt.flag(),
            &|| interrupt.received(),
            Prefetch::none(),
        );
        for (artifact, entry) in report.artifacts.iter_mut().zip(&published.entries) {
            artifact.published = entry.as_ref().and_then(|e| e.published());
        }
        if let Some(signal) = published.interrupted {
            return ending.finish(&report, ExitCode::signalled(signal), unwritten);
        }
        if !published.success() {
            super::publish::print_failures(&report, &published, color);
            return ending.stop(
                &report,
                ExitCode::FAILED,
                unwritten,
                "nothing was deployed: not every zip could be published",
                "",
            );
        }
    }

    let mut targets = deploy::targets(&built.plan, &report);
    if args.publish_version {
        for t in &mut targets {
            t.settings.publish_version = true;
        }
    }
    let over = deploy::direct_upload_limit(&targets);
    if !over.is_empty() && !dry_run {
        return ending.stop(
            &report,
            ExitCode::FAILED,
            unwritten,
            &format!(
                "nothing was deployed: Lambda takes a zip of at most {} MiB in the request, and these are larger: {}",
                deploy::DIRECT_UPLOAD_LIMIT / 1024 / 1024,
                over.join(", ")
            ),
            "publish the zips to S3 first: a top-level `publish \"s3://BUCKET/PREFIX\"` node in lambda.kdl, or `--to s3://BUCKET/PREFIX`",
        );
    }
    let deployer = match deployer {
        Ok(d) => d,
        Err(why) => {
            return ending.stop(
                &report,
                ExitCode::FAILED,
                unwritten,
                &format!("nothing was deployed: {why}"),
                "check AWS_REGION (or the profile's region), AWS_PROFILE, AWS_ENDPOINT_URL and the credentials",
            );
        }
    };
    let mode = if dry_run { Mode::DryRun } else { Mode::Deploy };
    let quiet = args.run.quiet;
    if !quiet {
        let layers = targets
            .iter()
            .filter(|t| t.kind == TargetKind::Layer)
            .count();
        eprintln(&format!(
            "{} {} function{} and {layers} layer{} on Lambda",
            if dry_run { "Checking" } else { "Deploying" },
            targets.len() - layers,
            plural(targets.len() - layers),
            plural(layers),
        ));
    }
    let on_done = |t: &Target, e: &Entry| {
        if !quiet {
            eprintln(&format!(
                "  {:>13} {} ({}) {}",
                e.action.word(),
                t.artifact,
                t.arch.as_str(),
                e.name
            ));
        }
    };
    let jobs = args.run.jobs.unwrap_or(deploy::DEFAULT_JOBS);
    let deployed = deployer.deploy(
        &targets,
        report.artifacts.len(),
        mode,
        jobs,
        args.run.keep_going,
        &interrupt.flag(),
        &|| interrupt.received(),
        &on_done,
    );
    for (artifact, entry) in report.artifacts.iter_mut().zip(&deployed.entries) {
        artifact.deployed = entry.as_ref().and_then(Entry::deployed);
    }
    print_failures(&report, &deployed, color);
    if let Err(e) = super::print(&render(&report, &deployed, mode)) {
        unwritten.push(e);
    }
    let code = if let Some(signal) = deployed.interrupted {
        ExitCode::signalled(signal)
    } else if deployed.success() {
        ExitCode::OK
    } else {
        ExitCode::FAILED
    };
    ending.finish(&report, code, unwritten)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Each function or layer that could not be deployed, and the endpoint's failure once; in
/// GitHub Actions also as annotations.
fn print_failures(report: &run_report::Report, deployed: &DeployTable, color: bool) {
    let mut annotations = Vec::new();
    for (artifact, entry) in report.artifacts.iter().zip(&deployed.entries) {
        if let Some(entry) = entry
            && let Action::Failed(why) = &entry.action
        {
            let what = if entry.layer { "layer" } else { "function" };
            let message = format!(
                "cannot deploy {} ({}) to the Lambda {what} `{}`: {why}",
                artifact.name,
                artifact.arch.as_str(),
                entry.name
            );
            print_error(&message, "", color);
            annotations.push(annotation(message));
        }
    }
    if let Some(why) = &deployed.unavailable {
        let message = format!("cannot deploy to Lambda: {why}");
        print_error(
            &message,
            "check AWS_REGION, AWS_ENDPOINT_URL and the credentials; what was deployed before this stays deployed",
            color,
        );
        annotations.push(annotation(message));
    }
    if github::enabled() {
        github::emit(&annotations, false);
    }
}

fn annotation(message: String) -> Annotation {
    Annotation {
        level: Level::Error,
        file: None,
        start: None,
        end: None,
        title: Some("lambda-batch deploy".into()),
        message,
    }
}

/// One row per function or layer (artifact, Lambda name, action, version, alias), then the
/// totals.
fn render(report: &run_report::Report, deployed: &DeployTable, mode: Mode) -> String {
    let rows: Vec<Vec<String>> = report
        .artifacts
        .iter()
        .zip(&deployed.entries)
        .filter_map(|(a, e)| {
            let e = e.as_ref()?;
            let action = match &e.action {
                Action::WouldUpdate(what) => format!("would update {}", what.join(", ")),
                other => other.word().to_owned(),
            };
            let version = match (&e.version, &e.layer_version_arn) {
                (Some(v), _) => v.clone(),
                (None, Some(arn)) => arn.rsplit(':').next().unwrap_or("").to_owned(),
                (None, None) => String::new(),
            };
            Some(vec![
                format!("{} ({})", a.name, a.arch.as_str()),
                if e.layer {
                    format!("layer {}", e.name)
                } else {
                    e.name.clone()
                },
                action,
                version,
                e.alias.clone().unwrap_or_default(),
            ])
        })
        .collect();
    let mut out = String::from("\n");
    out.push_str(&table::render(
        &["ARTIFACT", "FUNCTION", "ACTION", "VERSION", "ALIAS"],
        &rows,
    ));
    let counts: Vec<String> = deployed
        .counts()
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect();
    let counts = if counts.is_empty() {
        "nothing to deploy".to_owned()
    } else {
        counts.join(", ")
    };
    out.push_str(&match mode {
        Mode::Deploy => format!("deployed to Lambda: {counts}\n"),
        Mode::DryRun => format!("dry run, nothing changed on Lambda: {counts}\n"),
    });
    out
}
