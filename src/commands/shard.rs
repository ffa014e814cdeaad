//! `--shard K/N`, `--shards N` and `--timings FILE` for `run`, `plan` and `list`: the timings
//! read from an earlier report, and the plan narrowed to one shard.

use camino::Utf8Path;

use super::Error;
use crate::plan::Plan;
use crate::plan::shard::{self, Shard, ShardSpec, Timings};
use crate::report::{Report, Status};

/// The seconds each artifact took to build in the report at `path`: only outputs built in
/// that run count (fresh ones and cache hits say nothing about building them).
pub fn read_timings(path: &Utf8Path) -> Result<Timings, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let report: Report = serde_json::from_slice(&text)
        .map_err(|e| format!("`{path}` is not a report of `lambda-batch run --report`: {e}"))?;
    Ok(report
        .artifacts
        .iter()
        .filter(|a| a.status == Status::Built)
        .filter(|a| a.cache != Some(crate::cache::CacheStatus::Hit))
        .map(|a| ((a.name.clone(), a.target.clone()), a.seconds))
        .collect())
}

/// The timings of `--timings`, or none; a file that cannot be read is a usage error (exit 2),
/// since runners that disagree on it would split the plan differently.
pub fn timings(path: Option<&Utf8Path>) -> Result<Timings, Error> {
    match path {
        None => Ok(Timings::new()),
        Some(path) => read_timings(path).map_err(|e| {
            Error::usage(
                format!("--timings: {e}"),
                "pass the JSON report an earlier `lambda-batch run --report FILE` wrote, the same file to every shard",
            )
        }),
    }
}

/// `plan` narrowed to shard `spec` (see [`shard`]), with its description.
pub fn narrow(
    plan: &Plan,
    spec: &ShardSpec,
    timings_file: Option<&Utf8Path>,
) -> Result<(Plan, Shard), Error> {
    let timings = timings(timings_file)?;
    shard::select(plan, spec, &timings).map_err(|e| {
        Error::usage(
            format!("--shard: {e}"),
            "pass `--shard` the value the `plan --shards N` job of this commit printed, with the same manifest, selection and toolchain in every job",
        )
    })
}

/// One line for people about what shard `spec` builds out of `whole`.
pub fn note(spec: &ShardSpec, part: &Plan, whole: &Plan, shard: &Shard) -> String {
    let number = spec.number();
    if part.groups.is_empty() {
        return format!(
            "shard {number} has nothing to build: the plan has {} cargo call{} for {} shards",
            whole.groups.len(),
            if whole.groups.len() == 1 { "" } else { "s" },
            spec.count
        );
    }
    format!(
        "shard {number}: {} of {} outputs, {} of {} cargo calls (estimated {:.0}s)",
        part.artifacts.len(),
        whole.artifacts.len(),
        part.groups.len(),
        whole.groups.len(),
        shard.estimated_seconds
    )
}
