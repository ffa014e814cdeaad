//! The machine's CPU use while a run goes, for its timeline: `/proc/stat` read every
//! [`INTERVAL`] on a thread of its own, each sample the share of all CPUs' time spent busy
//! since the one before (as `cargo build --timings` samples it). Where `/proc/stat` cannot be
//! read nothing is reported.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use super::Run;
use super::events::Event;

/// How often the CPU use is sampled.
pub(super) const INTERVAL: Duration = Duration::from_millis(250);

/// The sampling thread; dropping it takes a last sample and ends the thread.
pub(super) struct Sampler<'scope> {
    stop: Option<Sender<()>>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> Sampler<'scope> {
    /// Starts sampling on a thread of `scope`, reporting to `run`'s sink.
    pub(super) fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        run: &'env Run<'env>,
    ) -> Sampler<'scope> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lambda-batch-cpu".into())
            .spawn_scoped(scope, move || {
                let Some(mut last) = read() else {
                    return;
                };
                loop {
                    let end = match stopped.recv_timeout(INTERVAL) {
                        Err(RecvTimeoutError::Timeout) => false,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                    };
                    let Some(now) = read() else {
                        return;
                    };
                    if let Some(busy) = busy(last, now) {
                        run.emit(Event::CpuSampled { busy });
                    }
                    last = now;
                    if end {
                        return;
                    }
                }
            })
            .ok();
        Sampler {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Sampler<'_> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The CPU time counters of all CPUs together: (busy, total), in clock ticks.
type Counters = (u64, u64);

/// The counters now, from `/proc/stat`.
fn read() -> Option<Counters> {
    parse(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The counters of the `cpu` line of a `/proc/stat` text: user, nice, system, idle, iowait,
/// irq, softirq, steal (guest time is already counted in user). Idle and iowait are not busy.
fn parse(stat: &str) -> Option<Counters> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// The share of time spent busy between two readings (`None` when no time was counted).
fn busy(before: Counters, after: Counters) -> Option<f64> {
    let total = after.1.checked_sub(before.1)?;
    let busy = after.0.checked_sub(before.0)?;
    (total > 0).then(|| (busy as f64 / total as f64).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_is_everything_but_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1 2\n";
        assert_eq!(parse(stat), Some((160, 1000)));
        assert_eq!(parse("cpu0 1 2 3 4\n"), None);
        assert_eq!(parse("cpu  1 two 3 4\n"), None);
        let later = (160 + 30, 1000 + 40);
        assert_eq!(busy((160, 1000), later), Some(0.75));
        assert_eq!(busy((160, 1000), (160, 1000)), None);
        assert_eq!(busy((160, 1000), (150, 900)), None);
    }

    #[test]
    fn this_machine_has_counters() {
        if std::path::Path::new("/proc/stat").exists() {
            let (busy, total) = read().expect("/proc/stat has a cpu line");
            assert!(busy <= total && total > 0);
        }
    }
}
