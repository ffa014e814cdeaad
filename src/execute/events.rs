//! What the executor reports while it runs: typed events, consumed by a reporter. The executor
//! never draws anything itself (the reporter decides between bars, plain lines or silence).

use std::time::Duration;

use crate::cache::CacheStatus;
use crate::package::Packaged;

/// One thing that happened during a run. Indices point into the executed `Plan`'s `groups`
/// and `artifacts`.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run is about to start its first cargo child.
    RunStarted {
        /// Number of cargo invocations.
        groups: usize,
        /// Number of outputs to package.
        artifacts: usize,
        /// The `--jobs` bound shared by every cargo child.
        jobs: usize,
    },
    /// A cargo child was spawned.
    GroupStarted {
        /// The group.
        group: usize,
        /// The command line as spawned (env, program, args), for people.
        command: String,
        /// How many units it compiled (or found fresh) last time, if known: the progress total.
        estimated_units: Option<u64>,
    },
    /// A line cargo wrote to stderr (its rendered diagnostics and status lines), without the
    /// line terminator.
    GroupOutput {
        /// The group.
        group: usize,
        /// The line, as cargo wrote it (it may carry ANSI colors).
        line: String,
    },
    /// Cargo reported one compilation unit as done (compiled now or fresh).
    UnitCompiled {
        /// The group.
        group: usize,
        /// Units done so far in this group.
        done: u64,
        /// The estimated total, if known (grows if the estimate was too low).
        total: Option<u64>,
        /// The crate or target name.
        name: String,
        /// Whether cargo found it up to date.
        fresh: bool,
    },
    /// An artifact's executable appeared; its packaging is queued on the thread pool.
    PackagingStarted {
        /// The artifact.
        artifact: usize,
    },
    /// An artifact's output was written, or found up to date.
    ArtifactPackaged {
        /// The artifact.
        artifact: usize,
        /// What packaging produced.
        packaged: Packaged,
        /// Time from the start of its group to its output being ready.
        elapsed: Duration,
        /// What the artifact cache did for it (`None`: the run has no cache).
        cache: Option<CacheStatus>,
    },
    /// Something about the artifact cache the user should hear: an entry that is corrupt, a
    /// backend that failed (once per run), a store that failed. The build goes on.
    CacheWarning {
        /// The warning, for people.
        message: String,
    },
    /// An artifact will not be produced.
    ArtifactFailed {
        /// The artifact.
        artifact: usize,
        /// Why, for people.
        error: String,
        /// Whose failure it was.
        cause: Cause,
    },
    /// A cargo child ended (or was never started because the run stopped).
    GroupFinished {
        /// The group.
        group: usize,
        /// How it ended.
        status: GroupStatus,
        /// Its wall time (zero when it never started).
        elapsed: Duration,
    },
    /// The run stops starting new work.
    Stopping {
        /// Why.
        reason: StopReason,
    },
}

/// Why an artifact was not produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Its group's cargo invocation failed before producing its executable.
    Build,
    /// Its own packaging failed (ELF check, includes, writing).
    Package,
    /// The run stopped (a failure elsewhere without `--keep-going`, or a signal) first.
    Stopped,
}

/// How a cargo child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStatus {
    /// It exited successfully.
    Succeeded,
    /// It was not started: nothing it reads changed since its last successful build (see
    /// [`super::fresh`]), so its artifacts were packaged from the executables of that build.
    Fresh,
    /// It was not started: every executable it would build came from the artifact cache, or
    /// was already here for its input key (see [`super::cached`]).
    Cached,
    /// It exited unsuccessfully; the text names the exit status and cargo's error.
    Failed(String),
    /// It was killed because the run stopped.
    Killed,
    /// It was never started because the run stopped first.
    Skipped,
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A build or packaging failed and `--keep-going` was not given.
    Failure,
    /// The process received this signal (SIGINT for Ctrl-C).
    Signal(i32),
}

/// Where events go. Called from several threads at once (lanes and packaging jobs).
pub trait EventSink: Sync {
    /// Receives one event.
    fn event(&self, event: Event);
}

/// Collects events, for tests.
#[derive(Debug, Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<Event>>);

impl EventSink for Recorded {
    fn event(&self, event: Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}
