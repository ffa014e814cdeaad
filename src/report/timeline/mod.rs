//! A run's timeline: what happened when, drawn from the executor's events (nothing is measured
//! again). [`Recorder`] keeps the events a timeline needs while the run goes; [`Timeline`] is
//! what it kept, with the plan and the closing line; [`Chart`] reads the events as bars and
//! marks, which [`page`] draws as a self-contained HTML page (`run --timeline FILE`) and
//! [`mermaid`] as a Mermaid `gantt` block for GitHub's step summary.

pub mod mermaid;
pub mod page;

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::cache::CacheStatus;
use crate::execute::{Cause, Event, EventSink, GroupStatus, Origin, Stamped, StopReason};
use crate::plan::Plan;

/// Keeps the events a timeline draws (cargo's own lines are left out), in the order they came.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Stamped>>,
}

impl Recorder {
    /// What was recorded.
    pub fn into_events(self) -> Vec<Stamped> {
        self.events.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl EventSink for Recorder {
    fn event(&self, at: Duration, event: Event) {
        if matches!(
            event,
            Event::GroupOutput { .. } | Event::CacheWarning { .. }
        ) {
            return;
        }
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.push(Stamped { at, event });
    }
}

/// One run as its timeline shows it: the plan it ran, the events it recorded, and its closing
/// line (the summary's last line).
#[derive(Debug, Clone)]
pub struct Timeline {
    /// What the run built.
    pub plan: Plan,
    /// What happened, when (from the start of the run).
    pub events: Vec<Stamped>,
    /// The summary's closing line (counts, time, cache, how the run stopped).
    pub summary: String,
}

impl Timeline {
    /// The timeline of a run of `plan` that recorded `events` and closed with `summary`.
    pub fn new(plan: &Plan, events: Vec<Stamped>, summary: String) -> Timeline {
        Timeline {
            plan: plan.clone(),
            events,
            summary,
        }
    }
}

/// How a cargo call ended, as the timeline colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Cargo ran and succeeded.
    Built,
    /// Not started: nothing it reads changed.
    Fresh,
    /// Not started: every executable came from the artifact cache.
    Cached,
    /// It failed (or could not start).
    Failed,
    /// The run stopped it.
    Killed,
}

impl CallState {
    /// The word (and CSS class) for it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Built => "built",
            CallState::Fresh => "fresh",
            CallState::Cached => "cached",
            CallState::Failed => "failed",
            CallState::Killed => "killed",
        }
    }
}

/// One cargo call of the plan, as it ran.
#[derive(Debug, Clone)]
pub struct Call {
    /// Index in the plan's groups.
    pub group: usize,
    /// Its lane.
    pub lane: usize,
    /// When its turn came, in seconds from the start of the run.
    pub queued: f64,
    /// When its cargo child was spawned (`None`: it started none).
    pub spawned: Option<f64>,
    /// When it ended.
    pub ended: f64,
    /// How it ended.
    pub state: CallState,
    /// Why it failed.
    pub error: Option<String>,
    /// The command line as spawned.
    pub command: Option<String>,
    /// The CPU seconds of its cargo child and everything that waited for.
    pub cpu: Option<f64>,
    /// Compilation units cargo reported: (compiled now, found fresh).
    pub units: (u64, u64),
}

impl Call {
    /// When its bar starts: its cargo's start, else its turn.
    pub fn start(&self) -> f64 {
        self.spawned.unwrap_or(self.queued)
    }
}

/// What became of one output, as the timeline marks it.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputState {
    /// Written now (or found up to date, `fresh`), `size` bytes.
    Packaged {
        /// Its size.
        size: u64,
        /// Already up to date: nothing was written.
        fresh: bool,
        /// What the artifact cache did for it.
        cache: Option<CacheStatus>,
    },
    /// Not produced.
    Failed {
        /// Why.
        error: String,
        /// Whose failure.
        cause: Cause,
    },
    /// No event said what became of it (the recording ended first).
    Unknown,
}

/// One output of the plan, as it went.
#[derive(Debug, Clone)]
pub struct Output {
    /// Index in the plan's artifacts.
    pub artifact: usize,
    /// Its cargo call.
    pub group: usize,
    /// When its executable was ready (handed to packaging), in seconds from the start.
    pub ready: Option<f64>,
    /// Where that executable came from.
    pub origin: Option<Origin>,
    /// When it was settled (packaged, or given up).
    pub settled: Option<f64>,
    /// What became of it.
    pub state: OutputState,
}

/// The events of a run read as a chart: calls, outputs, CPU use, in seconds from the start.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The wall-clock start of the run, when it started at all.
    pub started_at: Option<SystemTime>,
    /// The `--jobs` bound.
    pub jobs: Option<usize>,
    /// The machine's CPUs.
    pub cpus: Option<usize>,
    /// The last moment anything happened.
    pub end: f64,
    /// The calls that ran or were settled, by group index (`None`: never started).
    pub calls: Vec<Option<Call>>,
    /// Every output of the plan, in plan order.
    pub outputs: Vec<Output>,
    /// CPU use: (end of the sample's span, share of all CPUs busy over it).
    pub cpu: Vec<(f64, f64)>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
}

impl Chart {
    /// Reads `timeline`'s events.
    pub fn of(timeline: &Timeline) -> Chart {
        let plan = &timeline.plan;
        let mut chart = Chart {
            started_at: None,
            jobs: None,
            cpus: None,
            end: 0.0,
            calls: vec![None; plan.groups.len()],
            outputs: plan
                .artifacts
                .iter()
                .enumerate()
                .map(|(i, a)| Output {
                    artifact: i,
                    group: a.group,
                    ready: None,
                    origin: None,
                    settled: None,
                    state: OutputState::Unknown,
                })
                .collect(),
            cpu: Vec::new(),
            stopped: None,
        };
        // Per group: spawned, command, units, until its end comes.
        let mut spawned: Vec<Option<(f64, String)>> = vec![None; plan.groups.len()];
        let mut units: Vec<(u64, u64)> = vec![(0, 0); plan.groups.len()];
        for Stamped { at, event } in &timeline.events {
            let t = at.as_secs_f64();
            chart.end = chart.end.max(t);
            match event {
                Event::RunStarted {
                    jobs,
                    started_at,
                    cpus,
                    ..
                } => {
                    chart.started_at = Some(*started_at);
                    chart.jobs = Some(*jobs);
                    chart.cpus = Some(*cpus);
                }
                Event::GroupStarted { group, command, .. } => {
                    if let Some(slot) = spawned.get_mut(*group) {
                        *slot = Some((t, command.clone()));
                    }
                }
                Event::UnitCompiled { group, fresh, .. } => {
                    if let Some((built, skipped)) = units.get_mut(*group) {
                        if *fresh {
                            *skipped += 1;
                        } else {
                            *built += 1;
                        }
                    }
                }
                Event::PackagingStarted { artifact, origin } => {
                    if let Some(o) = chart.outputs.get_mut(*artifact) {
                        o.ready = Some(t);
                        o.origin = Some(*origin);
                    }
                }
                Event::ArtifactPackaged {
                    artifact,
                    packaged,
                    cache,
                    ..
                } => {
                    if let Some(o) = chart.outputs.get_mut(*artifact) {
                        o.settled = Some(t);
                        o.state = OutputState::Packaged {
                            size: packaged.size,
                            fresh: packaged.fresh,
                            cache: *cache,
                        };
                    }
                }
                Event::ArtifactFailed {
                    artifact,
                    error,
                    cause,
                } => {
                    if let Some(o) = chart.outputs.get_mut(*artifact) {
                        o.settled = Some(t);
                        o.state = OutputState::Failed {
                            error: error.clone(),
                            cause: *cause,
                        };
                    }
                }
                Event::GroupFinished {
                    group,
                    status,
                    elapsed,
                    cpu,
                } => {
                    let Some(g) = plan.groups.get(*group) else {
                        continue;
                    };
                    let (state, error) = match status {
                        GroupStatus::Succeeded => (CallState::Built, None),
                        GroupStatus::Fresh => (CallState::Fresh, None),
                        GroupStatus::Cached => (CallState::Cached, None),
                        GroupStatus::Failed(why) => (CallState::Failed, Some(why.clone())),
                        GroupStatus::Killed => (CallState::Killed, None),
                        // Never started: nothing to draw.
                        GroupStatus::Skipped => continue,
                    };
                    let start = spawned.get_mut(*group).and_then(Option::take);
                    chart.calls[*group] = Some(Call {
                        group: *group,
                        lane: g.lane,
                        queued: (t - elapsed.as_secs_f64()).max(0.0),
                        spawned: start.as_ref().map(|(s, _)| *s),
                        ended: t,
                        state,
                        error,
                        command: start.map(|(_, c)| c),
                        cpu: cpu.map(|c| c.as_secs_f64()),
                        units: units.get(*group).copied().unwrap_or_default(),
                    });
                }
                Event::CpuSampled { busy } => chart.cpu.push((t, *busy)),
                Event::Stopping { reason } => chart.stopped = Some(*reason),
                Event::GroupOutput { .. } | Event::CacheWarning { .. } => {}
            }
        }
        // A call the recording ended in the middle of (it cannot, but a page is still drawn):
        // it ran until the end.
        for (group, start) in spawned.into_iter().enumerate() {
            if let (Some((t, command)), Some(g)) = (start, plan.groups.get(group))
                && chart.calls[group].is_none()
            {
                chart.calls[group] = Some(Call {
                    group,
                    lane: g.lane,
                    queued: t,
                    spawned: Some(t),
                    ended: chart.end,
                    state: CallState::Killed,
                    error: None,
                    command: Some(command),
                    cpu: None,
                    units: units[group],
                });
            }
        }
        chart
    }

    /// The lanes that have anything to show, in order.
    pub fn lanes(&self) -> Vec<usize> {
        let mut lanes: Vec<usize> = self.calls.iter().flatten().map(|c| c.lane).collect();
        lanes.sort_unstable();
        lanes.dedup();
        lanes
    }

    /// The calls that ran or were settled, in order.
    pub fn drawn_calls(&self) -> impl Iterator<Item = &Call> {
        self.calls.iter().flatten()
    }
}

/// A time for people: `0.4s`, `12.3s`, `2m 05s`.
pub fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        let whole = s.round() as u64;
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
pub(crate) mod tests;
