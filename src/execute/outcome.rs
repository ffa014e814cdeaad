//! What a finished run hands to the reporter: one outcome per artifact and per group.

use std::time::Duration;

use crate::package::Packaged;

use super::events::{Cause, GroupStatus, StopReason};

/// The outcome of one artifact (one output).
#[derive(Debug, Clone)]
pub enum ArtifactOutcome {
    /// Its output is in place (written now, or `packaged.fresh` when already up to date).
    Packaged {
        /// What packaging produced.
        packaged: Packaged,
        /// From the start of its group to the output being ready.
        elapsed: Duration,
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
    /// Its wall time.
    pub elapsed: Duration,
    /// What cargo wrote to stderr (kept for the summary of a failing group).
    pub stderr: Vec<String>,
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
}

impl RunOutcome {
    /// Whether every artifact is in place and the run was not interrupted.
    pub fn success(&self) -> bool {
        !matches!(self.stopped, Some(StopReason::Signal(_)))
            && self.artifacts.iter().all(ArtifactOutcome::is_ok)
            && self
                .groups
                .iter()
                .all(|g| matches!(g.status, GroupStatus::Succeeded | GroupStatus::Fresh))
    }

    /// The signal that interrupted the run, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.stopped {
            Some(StopReason::Signal(s)) => Some(s),
            _ => None,
        }
    }
}
