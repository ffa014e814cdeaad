//! The closing summary of a run: one row per output (artifact, target, output, size, status),
//! then every failure with the artifacts it cost, then the totals.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::cache::{CacheStatus, Keys};
use crate::execute::{ArtifactOutcome, Cause, GroupStatus, RunOutcome, StopReason};
use crate::plan::{Group, Plan};
use crate::report::display_path;
use crate::report::run_report::{Status, cache_status, status};
use crate::report::table;

/// A cargo invocation for people: workspace, target, profile and compiler.
pub fn group_label(group: &Group) -> String {
    format!(
        "{} for {} ({}, {})",
        display_path(&group.workspace_root),
        group.target,
        group.profile,
        group.compiler
    )
}

/// A byte count for people.
pub fn human_size(bytes: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The first characters of an input key, enough to tell keys apart for people (the report
/// has them whole).
pub fn short_key(key: &str) -> &str {
    &key[..12.min(key.len())]
}

/// The summary text, with the input keys of the run's cache, `keys`.
pub fn render(plan: &Plan, keys: &Keys, outcome: &RunOutcome) -> String {
    let mut out = String::new();
    let with_cache = outcome.cache.is_some();
    let rows: Vec<Vec<String>> = plan
        .artifacts
        .iter()
        .zip(&outcome.artifacts)
        .enumerate()
        .map(|(i, (a, o))| {
            let size = match o {
                ArtifactOutcome::Packaged { packaged, .. } => human_size(packaged.size),
                ArtifactOutcome::Failed { .. } => "-".into(),
            };
            let status = match status(o) {
                Status::Built => "built",
                Status::Fresh => "fresh",
                Status::Failed => "failed",
            };
            let mut row = vec![
                a.resolved.identity.name.clone(),
                a.resolved.build.target.clone(),
                display_path(&a.output),
                size,
                status.into(),
            ];
            if with_cache {
                row.push(
                    cache_status(o, true)
                        .map_or("-", CacheStatus::as_str)
                        .into(),
                );
                row.push(keys.digest(i).map_or("-", short_key).into());
            }
            row
        })
        .collect();
    if !rows.is_empty() {
        let mut header = vec!["ARTIFACT", "TARGET", "OUTPUT", "SIZE", "STATUS"];
        if with_cache {
            header.extend(["CACHE", "KEY"]);
        }
        out.push_str(&table::render(&header, &rows));
    }

    let failures = failures(plan, outcome);
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        out.push_str(&failures);
    }

    out.push('\n');
    out.push_str(&closing(plan, outcome));
    out.push('\n');
    out
}

/// The summary's closing line: the totals, and how the run stopped if it stopped early.
pub fn closing(plan: &Plan, outcome: &RunOutcome) -> String {
    let mut out = totals(plan, outcome, |location| location.to_string())
        .trim_start()
        .to_string();
    match outcome.stopped {
        Some(StopReason::Signal(libc::SIGINT)) => out.push_str(" (interrupted)"),
        Some(StopReason::Signal(s)) => {
            let _ = write!(out, " (stopped by signal {s})");
        }
        Some(StopReason::Failure) => out.push_str(" (stopped after the first failure)"),
        None => {}
    }
    out
}

/// The closing line's counts, `\nN outputs: B built, F fresh, X failed in Ts`, with the cache's
/// hit, stored and miss counts when a cache was used (its location shown by `show`).
pub(crate) fn totals(plan: &Plan, outcome: &RunOutcome, show: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let count = |s: Status| outcome.artifacts.iter().filter(|o| status(o) == s).count();
    let _ = write!(
        out,
        "\n{} output{}: {} built, {} fresh, {} failed in {:.1}s",
        plan.artifacts.len(),
        if plan.artifacts.len() == 1 { "" } else { "s" },
        count(Status::Built),
        count(Status::Fresh),
        count(Status::Failed),
        outcome.elapsed.as_secs_f64()
    );
    if let Some(location) = &outcome.cache {
        let cached = |s: CacheStatus| {
            outcome
                .artifacts
                .iter()
                .filter(|o| cache_status(o, true) == Some(s))
                .count()
        };
        let _ = write!(
            out,
            "; cache {}: {} hit, {} stored, {} miss",
            show(location),
            cached(CacheStatus::Hit),
            cached(CacheStatus::Stored),
            cached(CacheStatus::Miss)
        );
    }
    out
}

/// Every failure, each with the artifacts it cost.
fn failures(plan: &Plan, outcome: &RunOutcome) -> String {
    let label = |i: usize| {
        plan.artifacts.get(i).map_or_else(
            || format!("#{i}"),
            |a| format!("{} ({})", a.resolved.identity.name, a.resolved.build.arch),
        )
    };
    let mut out = String::new();
    // Build failures, by group.
    for (g, group) in plan.groups.iter().enumerate() {
        let Some(GroupStatus::Failed(why)) = outcome.groups.get(g).map(|o| &o.status) else {
            continue;
        };
        let cost: Vec<String> = group
            .artifacts
            .iter()
            .filter(|&&a| {
                matches!(
                    outcome.artifacts.get(a),
                    Some(ArtifactOutcome::Failed {
                        cause: Cause::Build,
                        ..
                    })
                )
            })
            .map(|&a| label(a))
            .collect();
        let _ = writeln!(out, "  {}: {why}", group_label(group));
        if !cost.is_empty() {
            let _ = writeln!(out, "    cost: {}", cost.join(", "));
        }
        // A bin-specific reason (cargo --keep-going names each bin that failed) when it differs.
        let mut reasons: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for &a in &group.artifacts {
            if let Some(ArtifactOutcome::Failed {
                error,
                cause: Cause::Build,
                ..
            }) = outcome.artifacts.get(a)
                && !why.contains(error.as_str())
            {
                reasons.entry(error).or_default().push(label(a));
            }
        }
        if reasons.len() > 1 {
            for (error, names) in reasons {
                let _ = writeln!(out, "    {}: {error}", names.join(", "));
            }
        }
    }
    // Packaging failures, one per artifact.
    for (i, o) in outcome.artifacts.iter().enumerate() {
        if let ArtifactOutcome::Failed {
            error,
            cause: Cause::Package,
            ..
        } = o
        {
            let _ = writeln!(out, "  packaging {}: {error}", label(i));
        }
    }
    // What the stop left unbuilt.
    let stopped: Vec<String> = outcome
        .artifacts
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            matches!(
                o,
                ArtifactOutcome::Failed {
                    cause: Cause::Stopped,
                    ..
                }
            )
        })
        .map(|(i, _)| label(i))
        .collect();
    if !stopped.is_empty() {
        let why = match outcome.stopped {
            Some(StopReason::Signal(_)) => "interrupted",
            _ => "not built because the run stopped after the failure above",
        };
        let _ = writeln!(out, "  {why}: {}", stopped.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(human_size(u64::MAX), "17179869184.0 GiB");
    }
}
