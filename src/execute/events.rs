//! What the executor reports while it runs: typed events, consumed by a reporter. The executor
//! never draws anything itself (the reporter decides between bars, plain lines or silence).

use std::time::{Duration, SystemTime};

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
        /// The wall-clock moment the run started: every event's time counts from it.
        started_at: SystemTime,
        /// The CPUs this machine has (what `CpuSampled` is a share of).
        cpus: usize,
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
        /// Where the executable came from.
        origin: Origin,
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
        /// From its turn in its lane (before the freshness check, the cache and the wait for
        /// a jobserver token) to its end; zero when it never started.
        elapsed: Duration,
        /// The CPU time (user and system) of its cargo child and of everything that child
        /// waited for (rustc, build scripts, linkers); `None` when no child ran.
        cpu: Option<Duration>,
    },
    /// The machine's CPU use since the previous sample (only when asked for, see
    /// `Options::sample_cpu`).
    CpuSampled {
        /// The share of all CPUs' time spent busy, from 0 to 1.
        busy: f64,
    },
    /// The run stops starting new work.
    Stopping {
        /// Why.
        reason: StopReason,
    },
}

/// Where an executable handed to packaging comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Built by cargo in this run.
    Built,
    /// Already here: a fresh group's, or the one held for the artifact's key.
    Here,
    /// Fetched from the artifact cache in this run.
    Fetched,
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

/// Where events go. Called from several threads at once (lanes and packaging jobs), at the
/// moment each thing happens.
pub trait EventSink: Sync {
    /// Receives one event that happened `at` (from the start of the run).
    fn event(&self, at: Duration, event: Event);
}

/// One event and when it happened, from the start of the run.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// When, from the start of the run (the executor's clock).
    pub at: Duration,
    /// What.
    pub event: Event,
}

/// Collects events, for tests.
#[derive(Debug, Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<Stamped>>);

impl EventSink for Recorded {
    fn event(&self, at: Duration, event: Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(Stamped { at, event });
        }
    }
}

/// Hands every event to two sinks: the progress people see and a recording.
pub struct Tee<'a>(pub &'a dyn EventSink, pub &'a dyn EventSink);

impl EventSink for Tee<'_> {
    fn event(&self, at: Duration, event: Event) {
        self.0.event(at, event.clone());
        self.1.event(at, event);
    }
}
