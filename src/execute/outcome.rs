//! What a finished run hands to the reporter: one outcome per artifact and per group, and how
//! a group's end is told and blamed on the artifacts it did not produce.

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use crate::cache::CacheStatus;
use crate::package::Packaged;
use crate::resolve::ResolvedArtifact;

use super::events::{Cause, GroupStatus, StopReason};

/// The outcome of one artifact (one output).
#[derive(Debug, Clone)]
pub enum ArtifactOutcome {
    /// Its output is in place (written now, or `packaged.fresh` when already up to date).
    Packaged {
        /// What packaging produced.
        packaged: Packaged,
        /// The features cargo compiled the executable's package with (its `compiler-artifact`
        /// message), sorted.
        features: Vec<String>,
        /// From the start of its group to the output being ready.
        elapsed: Duration,
        /// What the artifact cache did for it (`None`: the run has no cache).
        cache: Option<CacheStatus>,
    },
    /// It was not produced.
    Failed {
        /// Why, for people.
        error: String,
        /// Whose failure it was.
        cause: Cause,
        /// From the start of its group to the failure (zero if the group never started).
        elapsed: Duration,
    },
}

impl ArtifactOutcome {
    /// Whether the output is in place.
    pub fn is_ok(&self) -> bool {
        matches!(self, ArtifactOutcome::Packaged { .. })
    }
}

/// The outcome of one cargo invocation.
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    /// How it ended.
    pub status: GroupStatus,
    /// Its wall time, from its turn in its lane to its end.
    pub elapsed: Duration,
    /// What cargo wrote to stderr (kept for the summary of a failing group).
    pub stderr: Vec<String>,
    /// When its turn came, from the start of the run (its lane got to it; the freshness
    /// check, the cache and the wait for a jobserver token come before its cargo starts).
    pub queued: Duration,
    /// When it ended, from the start of the run.
    pub ended: Duration,
    /// When its cargo child was spawned, from the start of the run (`None`: it started none).
    pub spawned: Option<Duration>,
    /// The command line of its cargo child, as shown to people (the cache may have narrowed
    /// it to the bins it did not have).
    pub command: Option<String>,
    /// The CPU time of its cargo child and of everything that child waited for.
    pub cpu: Option<Duration>,
    /// The artifacts its cargo child was asked to build (indices into `Plan::artifacts`): all
    /// of the group's, or those the cache narrowed it to; none when it started no child.
    pub built: Vec<usize>,
}

impl GroupOutcome {
    /// The outcome of a group that never started, settled `at` (from the start of the run).
    pub fn not_started(status: GroupStatus, at: Duration) -> GroupOutcome {
        GroupOutcome {
            status,
            elapsed: Duration::ZERO,
            stderr: Vec::new(),
            queued: at,
            ended: at,
            spawned: None,
            command: None,
            cpu: None,
            built: Vec::new(),
        }
    }
}

/// Everything a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Parallel to `Plan::artifacts`.
    pub artifacts: Vec<ArtifactOutcome>,
    /// Parallel to `Plan::groups`.
    pub groups: Vec<GroupOutcome>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// A group failed because a build program or a Rust target is not installed (exit 3).
    pub missing_tool: bool,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// The wall-clock moment it started, which every time of its outcome counts from.
    pub started_at: std::time::SystemTime,
    /// The artifact cache the run used, as shown to people (`None`: none).
    pub cache: Option<String>,
}

impl RunOutcome {
    /// Whether every artifact is in place and the run was not interrupted.
    pub fn success(&self) -> bool {
        !matches!(self.stopped, Some(StopReason::Signal(_)))
            && self.artifacts.iter().all(ArtifactOutcome::is_ok)
            && self.groups.iter().all(|g| {
                matches!(
                    g.status,
                    GroupStatus::Succeeded | GroupStatus::Fresh | GroupStatus::Cached
                )
            })
    }

    /// The signal that interrupted the run, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.stopped {
            Some(StopReason::Signal(s)) => Some(s),
            _ => None,
        }
    }
}

/// How a cargo child that was started ended: `status` from waiting for it, `killed` when the
/// run stopped it, `stderr` what it wrote.
pub(crate) fn ended(
    program: &str,
    status: &io::Result<ExitStatus>,
    killed: bool,
    stderr: &[String],
) -> GroupStatus {
    match status {
        _ if killed => GroupStatus::Killed,
        Ok(s) if s.success() => GroupStatus::Succeeded,
        Ok(s) => GroupStatus::Failed(format!(
            "{program} failed ({s}){}",
            first_error(stderr, None).map_or(String::new(), |e| format!(": {e}"))
        )),
        Err(e) => GroupStatus::Failed(format!("waiting for {program} failed: {e}")),
    }
}

/// Why `artifact` was not produced by its group, which ended with `status` without handing
/// it to packaging (`stop`: why the run stopped, if it did; `stderr`: what the group's
/// `program` wrote), and whose failure that was.
pub(crate) fn blame(
    status: &GroupStatus,
    stop: StopReason,
    program: &str,
    stderr: &[String],
    artifact: &ResolvedArtifact,
) -> (String, Cause) {
    match status {
        GroupStatus::Killed | GroupStatus::Skipped => (stopped_message(stop), Cause::Stopped),
        GroupStatus::Failed(why) => {
            let bin = &artifact.identity.bin;
            let error = match first_error(stderr, Some(bin)) {
                Some(line) if line.contains(&format!("(bin \"{bin}\")")) => line,
                // Another unit's error stopped cargo before it got to this bin.
                Some(line) => format!("not built: {program} stopped first: {line}"),
                None => why.clone(),
            };
            (error, Cause::Build)
        }
        GroupStatus::Succeeded | GroupStatus::Fresh | GroupStatus::Cached => (
            format!(
                "{program} succeeded but reported no executable for bin `{}` of package `{}`",
                artifact.identity.bin, artifact.identity.package
            ),
            Cause::Build,
        ),
    }
}

/// Why an artifact was not built when the run stopped.
pub(crate) fn stopped_message(reason: StopReason) -> String {
    match reason {
        StopReason::Failure => {
            "not built: the run stopped after a failure (--keep-going builds the rest)".into()
        }
        StopReason::Signal(libc::SIGINT) => "not built: interrupted (Ctrl-C)".into(),
        StopReason::Signal(s) => format!("not built: interrupted by signal {s}"),
    }
}

/// The line of cargo's stderr that says what went wrong: for `bin`, its "could not compile"
/// line if there is one, otherwise the first error line.
fn first_error(stderr: &[String], bin: Option<&str>) -> Option<String> {
    let errors: Vec<String> = stderr
        .iter()
        .map(|l| strip_ansi(l))
        .filter(|l| l.trim_start().starts_with("error"))
        .collect();
    if let Some(bin) = bin {
        let needle = format!("(bin \"{bin}\")");
        if let Some(line) = errors.iter().find(|l| l.contains(&needle)) {
            return Some(line.trim().to_string());
        }
    }
    errors
        .iter()
        .find(|l| l.contains("could not compile"))
        .or_else(|| errors.first())
        .map(|l| l.trim().to_string())
}

/// `line` without ANSI escape sequences (cargo colors its stderr when asked to).
pub fn strip_ansi(line: &str) -> String {
    anstream::adapter::strip_str(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_for_a_bin_is_its_could_not_compile_line() {
        let stderr: Vec<String> = [
            "   Compiling broken v0.1.0",
            "\u{1b}[1m\u{1b}[31merror[E0425]\u{1b}[0m: cannot find value `x` in this scope",
            "error: could not compile `broken` (bin \"broken\") due to 1 previous error",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            first_error(&stderr, Some("broken")).as_deref(),
            Some("error: could not compile `broken` (bin \"broken\") due to 1 previous error")
        );
        assert_eq!(
            first_error(&stderr, Some("other")).as_deref(),
            Some("error: could not compile `broken` (bin \"broken\") due to 1 previous error")
        );
        assert_eq!(
            first_error(&stderr[..2], None).as_deref(),
            Some("error[E0425]: cannot find value `x` in this scope")
        );
        assert_eq!(first_error(&[], None), None);
    }
}
