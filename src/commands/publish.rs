//! `lambda-batch publish [MANIFEST] --to s3://BUCKET/PREFIX`: `run`'s steps, then every zip
//! uploaded under its content key before the report is written.

use super::Error;
use super::hand_off::{self, Ending};
use super::run::{self, Prepared};
use crate::cli::{PublishArgs, RunArgs};
use crate::exit_code::ExitCode;
use crate::manifest::PublishLocation;
use crate::publish::{Mode, Prefetch, PublishTable, Publisher, State, likely_files};
use crate::report::diagnostics::print_error;
use crate::report::{run_report, table};

/// Builds as `run` does (a no-op when everything is fresh), then publishes. Usage errors (no
/// destination, a `binary` output) stop it before anything is built. A build that fails
/// publishes nothing; uploads that fail, or a bucket that cannot be used, are printed here and
/// exit 1 once the report is written.
pub fn publish(args: &PublishArgs, color: bool) -> Result<ExitCode, Error> {
    // `--dry-run` is publishing's own: the build runs either way, since only a build says
    // which bytes (and so which keys) there are.
    let started = std::time::SystemTime::now();
    let run_args = RunArgs {
        dry_run: false,
        ..args.run.clone()
    };
    let planned = match run::prepare(&run_args, color)? {
        // An empty shard: nothing to build, nothing to publish.
        Prepared::Nothing(plan) => {
            return run::nothing_to_build(&run_args, run::Ran::new("publish", &plan, started));
        }
        Prepared::Planned(planned) => planned,
    };
    let location: PublishLocation = match (&args.to, &planned.manifest.publish) {
        (Some(to), _) => to.clone(),
        (None, Some(node)) => node.value.clone(),
        (None, None) => {
            return Err(Error::usage(
                "`publish` needs a destination",
                "give `--to s3://bucket/prefix`, or a top-level `publish \"s3://bucket/prefix\"` node in lambda.kdl",
            ));
        }
    };
    run::refuse_binaries(&planned.plan, "`publish` cannot upload")?;

    // While the run checks its outputs, the client is set up (it reads the system's root
    // certificates) and the bucket is asked for the keys the outputs had when last packaged: a
    // fresh output's key is then known to be there (or not) when the run ends.
    let opening = {
        let location = location.clone();
        let likely = likely_files(&location, &planned.plan);
        std::thread::Builder::new()
            .name("lambda-batch-publish-open".into())
            .spawn(move || {
                Publisher::from_env(&location).map(|publisher| {
                    let prefetch = publisher.prefetch(likely);
                    (publisher, prefetch)
                })
            })
    };
    let built = run::build_and_package(&run_args, planned, color)?;
    let mut report = run_report::build(&built.plan, &built.keys, &built.outcome);
    let ending = Ending {
        args: &run_args,
        command: "publish",
        plan: &built.plan,
        started,
        timeline: built.timeline.as_ref(),
        color,
    };
    let mut unwritten = built.unwritten;
    if let Some(why) = hand_off::write_sboms(&built.plan, &mut report, built.code, &mut unwritten) {
        let message = format!("nothing was published to {location}: {why}");
        return ending.stop(&report, built.code, unwritten, &message, "");
    }
    let opened: Result<(Publisher, Prefetch), String> = match opening {
        Ok(thread) => thread
            .join()
            .unwrap_or_else(|_| Err("setting up the S3 client failed".into())),
        Err(e) => Err(format!("cannot start a thread: {e}")),
    };
    let (publisher, prefetch) = match opened {
        Ok(opened) => opened,
        Err(why) => {
            return ending.stop(
                &report,
                ExitCode::FAILED,
                unwritten,
                &format!("nothing was published: cannot publish to {location}: {why}"),
                "check AWS_REGION, AWS_ENDPOINT_URL and the credentials in the environment",
            );
        }
    };
    let mode = if args.run.dry_run {
        Mode::DryRun
    } else {
        Mode::Upload
    };
    let interrupt = built.interrupt.unwrap_or_default();
    let published = publisher.publish(
        &report,
        mode,
        &interrupt.flag(),
        &|| interrupt.received(),
        prefetch,
    );
    for (artifact, entry) in report.artifacts.iter_mut().zip(&published.entries) {
        artifact.published = entry.as_ref().and_then(|e| e.published());
    }
    print_failures(&report, &published, color);
    if let Err(e) = super::print(&render(&report, &published, mode)) {
        unwritten.push(e);
    }
    let code = if let Some(signal) = published.interrupted {
        ExitCode::signalled(signal)
    } else if published.success() {
        ExitCode::OK
    } else {
        ExitCode::FAILED
    };
    ending.finish(&report, code, unwritten)
}

/// Each zip that could not be published, and the bucket's failure once.
pub(super) fn print_failures(report: &run_report::Report, published: &PublishTable, color: bool) {
    for (artifact, entry) in report.artifacts.iter().zip(&published.entries) {
        if let Some(entry) = entry
            && let State::Failed(why) = &entry.state
        {
            print_error(
                &format!(
                    "cannot publish {} ({}): {why}",
                    artifact.name,
                    artifact.arch.as_str()
                ),
                "",
                color,
            );
        }
    }
    if let Some(why) = &published.unavailable {
        print_error(
            &format!("cannot publish to {}: {why}", published.location),
            "check the bucket's name and region (AWS_REGION, AWS_ENDPOINT_URL) and the credentials; the objects already uploaded stay valid, since their keys name their bytes",
            color,
        );
    }
}

/// One row per zip (artifact, object, status), then the totals.
fn render(report: &run_report::Report, published: &PublishTable, mode: Mode) -> String {
    let rows: Vec<Vec<String>> = report
        .artifacts
        .iter()
        .zip(&published.entries)
        .filter_map(|(a, e)| {
            let e = e.as_ref()?;
            Some(vec![
                format!("{} ({})", a.name, a.arch.as_str()),
                e.url(),
                e.status().to_owned(),
            ])
        })
        .collect();
    let mut out = String::from("\n");
    out.push_str(&table::render(&["ARTIFACT", "OBJECT", "STATUS"], &rows));
    let [uploaded, existing, to_upload, failed] = published.counts();
    let mut totals = match mode {
        Mode::Upload => format!(
            "published to {}: {uploaded} uploaded, {existing} already there",
            published.location
        ),
        Mode::DryRun => format!(
            "dry run, nothing uploaded to {}: {to_upload} would be uploaded, {existing} already there",
            published.location
        ),
    };
    if failed > 0 {
        totals.push_str(&format!(", {failed} not published"));
    }
    out.push_str(&totals);
    out.push('\n');
    out
}
