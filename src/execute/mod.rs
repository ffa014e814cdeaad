//! Stage 4: running a [`Plan`]. Each group is one cargo child; the groups of a lane (one
//! target dir, which cargo locks) run in turn, lanes run at the same time, and one jobserver
//! shared by every child bounds the total parallelism. Each executable is packaged on the rayon
//! pool the moment cargo reports it. Everything observable is reported as [`Event`]s to an
//! [`EventSink`]; the outcome of every artifact and group is returned as a [`RunOutcome`].
//!
//! Parallelism: the jobserver holds `jobs` tokens. Every cargo child owns one implicit token
//! (cargo always runs one job without asking), so the executor takes a token from the pool
//! before it starts a child and gives it back when the child has exited: the children and
//! everything they run never exceed `jobs` at once, and a lane waits for a token before it
//! starts its next group.

mod cached;
mod child;
mod cpu;
mod estimate;
mod events;
mod fresh;
mod group;
mod outcome;
mod signals;
mod zig;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use camino::Utf8PathBuf;

pub use cached::CacheRun;
pub use events::{
    Cause, Event, EventSink, GroupStatus, Origin, Recorded, Stamped, StopReason, Tee,
};
pub use outcome::{ArtifactOutcome, GroupOutcome, RunOutcome, strip_ansi};
pub use signals::Interrupt;

use crate::cache::{CallEnded, Toolchains};
use crate::package::PackageOptions;
use crate::plan::Plan;

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total parallel jobs shared by every cargo child (at least 1).
    pub jobs: usize,
    /// Build everything possible after a failure (and pass `--keep-going` to cargo).
    pub keep_going: bool,
    /// Each build program's location, from [`crate::cache::locate`]; others are looked up by name.
    pub programs: BTreeMap<String, PathBuf>,
    /// Build programs that are not installed, with why, for people: their groups fail at once
    /// (under `--keep-going` the others still run).
    pub missing: BTreeMap<String, String>,
    /// Ask cargo for colored diagnostics (its stderr is a pipe, so it would not by itself).
    pub color: bool,
    /// `SOURCE_DATE_EPOCH`, for the zip timestamps.
    pub source_date_epoch: Option<i64>,
    /// Set by Ctrl-C / SIGTERM.
    pub interrupt: Interrupt,
    /// Sample the machine's CPU use while the run goes (`Event::CpuSampled`), for a timeline.
    pub sample_cpu: bool,
    /// The artifact cache and the plan's input keys, when the run uses one.
    pub cache: Option<CacheRun>,
    /// `rustc -vV` per workspace, shared with the input keys (asked once per run).
    pub toolchains: Arc<Toolchains>,
}

/// Why a run could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The jobserver or the thread pool could not be created.
    #[error("cannot set up the build: {0}")]
    Setup(String),
}

/// State shared by the lanes and the packaging jobs of one run.
struct Run<'a> {
    plan: &'a Plan,
    /// When the run started: every event's time counts from it.
    started: Instant,
    options: &'a Options,
    sink: &'a dyn EventSink,
    jobserver: jobserver::Client,
    gate: zig::StartGate,
    /// Zig builds of several lanes may overlap: each lane gets its own zig cache.
    zig_lanes_overlap: bool,
    /// The variables each build read, for the records of the artifact cache.
    env_deps: fresh::EnvDeps,
    /// Every directory packaging writes into (never an input of a build).
    output_dirs: BTreeSet<Utf8PathBuf>,
    package_options: PackageOptions,
    /// A build or packaging failed.
    failed: AtomicBool,
    /// A group failed because a tool it needs is not installed.
    missing_tool: AtomicBool,
    /// The `Stopping` event was sent.
    announced: AtomicBool,
    artifacts: Mutex<Vec<Option<ArtifactOutcome>>>,
    groups: Mutex<Vec<Option<GroupOutcome>>>,
    /// Per group: packaging jobs queued or running.
    pending: Mutex<Vec<usize>>,
    /// Signalled whenever a packaging job ends.
    pending_done: Condvar,
    /// Per group: its cargo call, as the packaging of its outputs sees it.
    calls: Mutex<Vec<Call>>,
}

/// One group's cargo call, for the cache entries of the executables it builds: those wait for
/// the call's end, when cargo writes their dep-info (see [`crate::cache::CallEnded`]).
#[derive(Default)]
struct Call {
    /// How it ended; `None` while it runs (or before it starts).
    ended: Option<CallEnded>,
    /// Outputs packaged while it ran, their entries not yet recorded; each still counts as a
    /// packaging job of the group (see [`Run::job_queued`]).
    waiting: Vec<group::Packed>,
}

impl Run<'_> {
    /// The time since the run started.
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Reports `event`, happening now.
    fn emit(&self, event: Event) {
        self.sink.event(self.now(), event);
    }

    /// Why new work must not start, if it must not.
    fn stop_reason(&self) -> Option<StopReason> {
        if let Some(signal) = self.options.interrupt.received() {
            Some(StopReason::Signal(signal))
        } else if !self.options.keep_going && self.failed.load(Ordering::SeqCst) {
            Some(StopReason::Failure)
        } else {
            None
        }
    }

    /// Records a failure; without `--keep-going` that stops the run.
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        self.announce_stop();
    }

    /// Sends `Stopping` once, when the run stops early.
    fn announce_stop(&self) {
        if let Some(reason) = self.stop_reason()
            && !self.announced.swap(true, Ordering::SeqCst)
        {
            self.emit(Event::Stopping { reason });
        }
    }

    /// Counts a packaging job of `group` as queued.
    fn job_queued(&self, group: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pending.get_mut(group) {
            *n += 1;
        }
    }

    /// Counts a packaging job of `group` as ended.
    fn job_ended(&self, group: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pending.get_mut(group) {
            *n = n.saturating_sub(1);
        }
        self.pending_done.notify_all();
    }

    /// Waits until no packaging job of `group` is queued or running.
    fn wait_for_packaging(&self, group: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        while pending.get(group).is_some_and(|n| *n > 0) {
            pending = self
                .pending_done
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Keeps `packed` until the cargo call of `group` ends; when it has ended already, hands
    /// it back with how it ended.
    fn after_call(
        &self,
        group: usize,
        packed: group::Packed,
    ) -> Result<(), (group::Packed, CallEnded)> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(group) {
            Some(call) => match call.ended {
                None => {
                    call.waiting.push(packed);
                    Ok(())
                }
                Some(ended) => Err((packed, ended)),
            },
            None => Err((packed, CallEnded::Unknown)),
        }
    }

    /// Records how the cargo call of `group` ended; returns what waited for it.
    fn call_ended(&self, group: usize, ended: CallEnded) -> Vec<group::Packed> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(group) {
            Some(call) => {
                call.ended = Some(ended);
                std::mem::take(&mut call.waiting)
            }
            None => Vec::new(),
        }
    }

    /// Records the outcome of one artifact (the first outcome wins) and reports it.
    fn settle(&self, artifact: usize, outcome: ArtifactOutcome) {
        let event = match &outcome {
            ArtifactOutcome::Packaged {
                packaged,
                elapsed,
                cache,
                ..
            } => Event::ArtifactPackaged {
                artifact,
                packaged: packaged.clone(),
                elapsed: *elapsed,
                cache: *cache,
            },
            ArtifactOutcome::Failed { error, cause, .. } => Event::ArtifactFailed {
                artifact,
                error: error.clone(),
                cause: *cause,
            },
        };
        let mut all = self.artifacts.lock().unwrap_or_else(|e| e.into_inner());
        match all.get_mut(artifact) {
            Some(slot @ None) => *slot = Some(outcome),
            _ => return,
        }
        drop(all);
        self.emit(event);
    }
}

/// Runs `plan`: every group, every packaging job; returns when all are done (or stopped).
pub fn execute(
    plan: &Plan,
    options: &Options,
    sink: &dyn EventSink,
) -> Result<RunOutcome, ExecuteError> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    // What earlier runs killed outright (SIGKILL, a power cut) left behind: never a file of a
    // run still going, which may be writing the same outputs right now.
    let mut sweeper = crate::atomic::Sweeper::new();
    sweeper.sweep_locks();
    for dir in temp_dirs(plan) {
        sweeper.sweep(&dir);
    }
    let jobs = options.jobs.max(1);
    let jobserver = jobserver::Client::new(jobs)
        .map_err(|e| ExecuteError::Setup(format!("cannot create the jobserver: {e}")))?;
    // Packaging reads, hashes and deflates: more threads than CPUs buy nothing, and `--jobs`
    // may be far above the CPU count.
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(cpus))
        .thread_name(|i| format!("lambda-batch-package-{i}"))
        .build()
        .map_err(|e| ExecuteError::Setup(format!("cannot start the packaging threads: {e}")))?;
    let run = Run {
        plan,
        started,
        options,
        sink,
        jobserver,
        gate: zig::StartGate::default(),
        zig_lanes_overlap: zig::lanes_overlap(plan, jobs),
        env_deps: fresh::EnvDeps::default(),
        output_dirs: output_dirs(plan),
        package_options: package_options(plan, options),
        failed: AtomicBool::new(false),
        missing_tool: AtomicBool::new(false),
        announced: AtomicBool::new(false),
        artifacts: Mutex::new(vec![None; plan.artifacts.len()]),
        groups: Mutex::new(vec![None; plan.groups.len()]),
        pending: Mutex::new(vec![0; plan.groups.len()]),
        pending_done: Condvar::new(),
        calls: Mutex::new(plan.groups.iter().map(|_| Call::default()).collect()),
    };
    run.emit(Event::RunStarted {
        groups: plan.groups.len(),
        artifacts: plan.artifacts.len(),
        jobs,
        started_at,
        cpus,
    });

    let mut lanes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for g in &plan.groups {
        lanes.entry(g.lane).or_default().push(g.id);
    }
    // Packaging jobs are spawned into the pool's scope by the lanes; it returns once the last
    // one has finished, so no output is still being written when the run reports.
    std::thread::scope(|outer| {
        // Samples until the last packaging job has ended (stopped with a last one when dropped).
        let sampler = options.sample_cpu.then(|| cpu::Sampler::start(outer, &run));
        pool.in_place_scope(|scope| {
            std::thread::scope(|threads| {
                for groups in lanes.values() {
                    let run = &run;
                    threads.spawn(move || {
                        for &g in groups {
                            let Some(group) = run.plan.groups.get(g) else {
                                continue;
                            };
                            // Cargo replaces `<target>/<profile>/<bin>` when it builds that bin
                            // again: an earlier group's packaging must have read it by then.
                            for &earlier in &group.waits_for {
                                run.wait_for_packaging(earlier);
                            }
                            group::run(run, group, scope);
                        }
                    });
                }
            });
        });
        drop(sampler);
    });

    // A failure under --keep-going is no stop: `stop_reason` is `None` then.
    let stopped = run.stop_reason();
    if matches!(stopped, Some(StopReason::Signal(_))) {
        for dir in temp_dirs(plan) {
            crate::atomic::remove_own_temp_files(&dir);
        }
    }
    let ended = run.now();
    let artifacts = run
        .artifacts
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| ArtifactOutcome::Failed {
                error: "not built: the run stopped first".into(),
                cause: Cause::Stopped,
                elapsed: Duration::ZERO,
            })
        })
        .collect();
    let groups = run
        .groups
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| o.unwrap_or_else(|| GroupOutcome::not_started(GroupStatus::Skipped, ended)))
        .collect();
    Ok(RunOutcome {
        artifacts,
        groups,
        stopped,
        missing_tool: run.missing_tool.load(Ordering::SeqCst),
        elapsed: started.elapsed(),
        started_at,
        cache: options
            .cache
            .as_ref()
            .map(|c| c.cache.location().to_string()),
    })
}

/// The outcome of a run that did not start: every artifact failed with `why` (when its
/// group's program is in `missing`) or stopped.
pub fn not_started(plan: &Plan, missing: &BTreeMap<String, String>) -> RunOutcome {
    let artifacts = plan
        .artifacts
        .iter()
        .map(|a| {
            let program = plan.groups.get(a.group).map(|g| g.program.as_str());
            match program.and_then(|p| missing.get(p)) {
                Some(why) => ArtifactOutcome::Failed {
                    error: why.clone(),
                    cause: Cause::Build,
                    elapsed: Duration::ZERO,
                },
                None => ArtifactOutcome::Failed {
                    error: "not built: a build program is missing (--keep-going builds the rest)"
                        .into(),
                    cause: Cause::Stopped,
                    elapsed: Duration::ZERO,
                },
            }
        })
        .collect();
    let groups = plan
        .groups
        .iter()
        .map(|g| {
            let status = match missing.get(&g.program) {
                Some(why) => GroupStatus::Failed(why.clone()),
                None => GroupStatus::Skipped,
            };
            GroupOutcome::not_started(status, Duration::ZERO)
        })
        .collect();
    RunOutcome {
        artifacts,
        groups,
        stopped: Some(StopReason::Failure),
        missing_tool: true,
        elapsed: Duration::ZERO,
        started_at: SystemTime::now(),
        cache: None,
    }
}

/// Every directory packaging writes files into (temporary files are created beside their
/// destination, so these are where stray ones can be).
pub fn output_dirs(plan: &Plan) -> BTreeSet<Utf8PathBuf> {
    let mut dirs = BTreeSet::new();
    for a in &plan.artifacts {
        dirs.insert(a.resolved.packaging.lambda_dir.clone());
        for f in &a.files {
            if let Some(parent) = f.parent() {
                dirs.insert(parent.to_path_buf());
            }
        }
    }
    dirs
}

/// Every directory where this run may leave a temporary file: the output directories, the
/// packaging stamps', the executables' (where the artifact cache puts what it fetches) and
/// the state directories of the groups.
pub fn temp_dirs(plan: &Plan) -> BTreeSet<Utf8PathBuf> {
    let mut dirs = output_dirs(plan);
    for a in &plan.artifacts {
        dirs.extend(a.stamp.parent().map(Utf8PathBuf::from));
        dirs.extend(a.executable.parent().map(Utf8PathBuf::from));
    }
    for g in &plan.groups {
        dirs.insert(g.state_dir.clone());
        dirs.insert(crate::plan::state::group_stamps(&g.state_dir));
    }
    dirs
}

/// The packaging settings of this run.
fn package_options(plan: &Plan, options: &Options) -> PackageOptions {
    PackageOptions {
        source_date_epoch: options.source_date_epoch,
        cancel: Some(options.interrupt.flag()),
        planned_files: std::sync::Arc::new(
            plan.artifacts
                .iter()
                .flat_map(|a| a.files.iter().cloned())
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests;
