//! Rendering the executor's events while a run goes: indicatif bars on a terminal (one per
//! running cargo invocation, one for packaging), plain cargo-style lines otherwise (CI logs),
//! and nothing but errors with `-q`. Cargo's own stderr (its rendered diagnostics) is shown as
//! it comes, except the status lines the bars replace; with `-q` it is kept and shown only for
//! a cargo invocation that fails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::Keys;
use crate::execute::{Cause, Event, EventSink, GroupStatus, StopReason};
use crate::plan::Plan;
use crate::report::diagnostics::warning_line;
use crate::report::display_path;
use crate::report::summary::{group_label, human_size, short_key};

/// How much to show, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Only errors (and the closing summary).
    pub quiet: bool,
    /// Every cargo line and every command.
    pub verbose: bool,
    /// ANSI colors.
    pub color: bool,
    /// Draw progress bars (stderr is a terminal and not quiet).
    pub bars: bool,
}

/// The event sink that shows a run to people.
pub struct Progress<'a> {
    plan: &'a Plan,
    keys: &'a Keys,
    style: Style,
    inner: Mutex<Inner>,
}

struct Inner {
    bars: Option<Bars>,
    /// With `-q`: each group's stderr, shown only if the group fails.
    kept: HashMap<usize, Vec<String>>,
}

struct Bars {
    multi: MultiProgress,
    groups: HashMap<usize, ProgressBar>,
    packaging: ProgressBar,
}

impl<'a> Progress<'a> {
    /// A reporter for `plan`, whose input keys are `keys`, in `style`.
    pub fn new(plan: &'a Plan, keys: &'a Keys, style: Style) -> Progress<'a> {
        let bars = (style.bars && !style.quiet).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let packaging = multi.add(ProgressBar::new(plan.artifacts.len() as u64));
            packaging.set_style(bar_style(style.color, true));
            packaging.set_prefix("Packaging");
            Bars {
                multi,
                groups: HashMap::new(),
                packaging,
            }
        });
        Progress {
            plan,
            keys,
            style,
            inner: Mutex::new(Inner {
                bars,
                kept: HashMap::new(),
            }),
        }
    }

    /// Removes the bars; call before printing the summary.
    pub fn finish(&self) {
        let mut inner = self.lock();
        if let Some(bars) = inner.bars.take() {
            for bar in bars.groups.values() {
                bar.finish_and_clear();
            }
            bars.packaging.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Prints a line above the bars, or to stderr.
    fn say(&self, inner: &Inner, line: &str) {
        match &inner.bars {
            Some(bars) => {
                let _ = bars.multi.println(line);
            }
            None => super::output::eprintln(line),
        }
    }

    /// A cargo-style status line: a right-aligned verb, then the text.
    fn status(&self, verb: &str, text: &str, kind: Tone) -> String {
        let code = match kind {
            Tone::Good => "1;32",
            Tone::Bad => "1;31",
            Tone::Note => "1;36",
        };
        if self.style.color {
            format!("\u{1b}[{code}m{verb:>12}\u{1b}[0m {text}")
        } else {
            format!("{verb:>12} {text}")
        }
    }

    fn artifact_label(&self, artifact: usize) -> String {
        self.plan.artifacts.get(artifact).map_or_else(
            || format!("#{artifact}"),
            |a| format!("{} ({})", a.resolved.identity.name, a.resolved.build.arch),
        )
    }

    /// ` KEY` (its first characters) of an artifact with an input key.
    fn key(&self, artifact: usize) -> String {
        self.keys
            .digest(artifact)
            .map(|k| format!(" {}", short_key(k)))
            .unwrap_or_default()
    }

    fn group_label(&self, group: usize) -> String {
        self.plan
            .groups
            .get(group)
            .map_or_else(|| format!("#{group}"), group_label)
    }
}

#[derive(Clone, Copy)]
enum Tone {
    Good,
    Bad,
    Note,
}

impl EventSink for Progress<'_> {
    fn event(&self, _at: Duration, event: Event) {
        let mut inner = self.lock();
        let quiet = self.style.quiet;
        match event {
            Event::RunStarted { .. } => {}
            Event::GroupStarted {
                group,
                command,
                estimated_units,
            } => {
                if self.style.verbose {
                    let line = self.status("Running", &format!("`{command}`"), Tone::Note);
                    self.say(&inner, &line);
                }
                let label = self.group_label(group);
                if let Some(bars) = &mut inner.bars {
                    let bar = match estimated_units {
                        Some(total) => {
                            let bar = ProgressBar::new(total);
                            bar.set_style(bar_style(self.style.color, true));
                            bar
                        }
                        None => {
                            let bar = ProgressBar::new_spinner();
                            bar.set_style(bar_style(self.style.color, false));
                            bar
                        }
                    };
                    bar.set_prefix("Building");
                    bar.set_message(label);
                    let bar = bars.multi.insert_before(&bars.packaging, bar);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bars.groups.insert(group, bar);
                } else if !quiet {
                    let line = self.status("Building", &label, Tone::Note);
                    self.say(&inner, &line);
                }
            }
            Event::GroupOutput { group, line } => {
                if !self.style.verbose && is_status_line(&line) {
                    return;
                }
                if quiet {
                    inner.kept.entry(group).or_default().push(line);
                } else {
                    self.say(&inner, &line);
                }
            }
            Event::UnitCompiled {
                group,
                done,
                total,
                name,
                ..
            } => {
                let label = self.group_label(group);
                if let Some(bar) = inner.bars.as_ref().and_then(|b| b.groups.get(&group)) {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                    bar.set_message(format!("{label}: {name}"));
                }
            }
            Event::PackagingStarted { .. } | Event::CpuSampled { .. } => {}
            Event::ArtifactPackaged {
                artifact,
                packaged,
                elapsed,
                cache,
            } => {
                if let Some(bars) = &inner.bars {
                    bars.packaging.inc(1);
                    bars.packaging.set_message(self.artifact_label(artifact));
                }
                if !quiet {
                    let output = display_path(&packaged.output);
                    let cached = cache
                        .map(|status| format!("cache {}{}", status.as_str(), self.key(artifact)));
                    let line = if packaged.fresh {
                        let detail = cached.map(|c| format!(" ({c})")).unwrap_or_default();
                        self.status(
                            "Fresh",
                            &format!("{} → {output}{detail}", self.artifact_label(artifact)),
                            Tone::Good,
                        )
                    } else {
                        let detail = cached.map(|c| format!(", {c}")).unwrap_or_default();
                        self.status(
                            "Packaged",
                            &format!(
                                "{} → {output} ({}, {:.1}s{detail})",
                                self.artifact_label(artifact),
                                human_size(packaged.size),
                                elapsed.as_secs_f64()
                            ),
                            Tone::Good,
                        )
                    };
                    self.say(&inner, &line);
                    if let Some(warning) = &packaged.warning {
                        let line = self.status("Warning", warning, Tone::Bad);
                        self.say(&inner, &line);
                    }
                }
            }
            Event::CacheWarning { message } => {
                if !quiet {
                    self.say(&inner, &warning_line(&message, self.style.color));
                }
            }
            Event::ArtifactFailed {
                artifact,
                error,
                cause,
            } => {
                if let Some(bars) = &inner.bars {
                    bars.packaging.inc(1);
                }
                // A build failure is shown once for its cargo invocation (with cargo's own
                // diagnostics), a stop's casualties once in the summary.
                if cause == Cause::Package {
                    let line = self.status(
                        "Failed",
                        &format!("{}: {error}", self.artifact_label(artifact)),
                        Tone::Bad,
                    );
                    self.say(&inner, &line);
                }
            }
            Event::GroupFinished {
                group,
                status,
                elapsed,
                ..
            } => {
                if let Some(bar) = inner.bars.as_mut().and_then(|b| b.groups.remove(&group)) {
                    bar.finish_and_clear();
                    if let Some(bars) = &inner.bars {
                        bars.multi.remove(&bar);
                    }
                }
                let label = self.group_label(group);
                let kept = inner.kept.remove(&group).unwrap_or_default();
                match status {
                    GroupStatus::Succeeded if !quiet => {
                        let line = self.status(
                            "Finished",
                            &format!("{label} in {:.1}s", elapsed.as_secs_f64()),
                            Tone::Good,
                        );
                        self.say(&inner, &line);
                    }
                    GroupStatus::Cached if !quiet => {
                        let detail = if self.style.verbose {
                            " (not started: every executable came from the artifact cache)"
                        } else {
                            ""
                        };
                        let line = self.status("Cached", &format!("{label}{detail}"), Tone::Good);
                        self.say(&inner, &line);
                    }
                    GroupStatus::Fresh if !quiet => {
                        let detail = if self.style.verbose {
                            " (not started: nothing it reads changed since its last build)"
                        } else {
                            ""
                        };
                        let line = self.status("Fresh", &format!("{label}{detail}"), Tone::Good);
                        self.say(&inner, &line);
                    }
                    GroupStatus::Failed(why) => {
                        for line in kept {
                            self.say(&inner, &line);
                        }
                        let line = self.status("Failed", &format!("{label}: {why}"), Tone::Bad);
                        self.say(&inner, &line);
                    }
                    GroupStatus::Killed if !quiet => {
                        let line = self.status("Stopped", &label, Tone::Bad);
                        self.say(&inner, &line);
                    }
                    _ => {}
                }
            }
            Event::Stopping { reason } => {
                let text = match reason {
                    StopReason::Failure => {
                        "a build failed: stopping the others (--keep-going builds everything it can)"
                            .to_string()
                    }
                    StopReason::Signal(libc::SIGINT) => {
                        "interrupted: stopping cargo and removing temporary files".to_string()
                    }
                    StopReason::Signal(s) => {
                        format!("signal {s}: stopping cargo and removing temporary files")
                    }
                };
                let line = self.status("Stopping", &text, Tone::Bad);
                self.say(&inner, &line);
            }
        }
    }
}

fn bar_style(color: bool, bounded: bool) -> ProgressStyle {
    let prefix = if color {
        "{prefix:>12.cyan.bold}"
    } else {
        "{prefix:>12}"
    };
    let template = if bounded {
        format!("{prefix} [{{bar:25}}] {{pos}}/{{len}} {{wide_msg}}")
    } else {
        format!("{prefix} {{spinner}} {{pos}} {{wide_msg}}")
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Cargo's per-unit status lines, which the progress display replaces.
pub fn is_status_line(line: &str) -> bool {
    const VERBS: &[&str] = &["Compiling", "Checking", "Fresh", "Dirty", "Finished"];
    let plain = crate::execute::strip_ansi(line);
    let trimmed = plain.trim_start();
    plain.len() - trimmed.len() <= 12
        && VERBS.iter().any(|verb| {
            trimmed
                .strip_prefix(verb)
                .is_some_and(|rest| rest.starts_with(' '))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_recognized_with_and_without_color() {
        assert!(is_status_line("   Compiling serde v1.0.0"));
        assert!(is_status_line(
            "\u{1b}[1m\u{1b}[32m    Finished\u{1b}[0m `release` profile"
        ));
        assert!(!is_status_line("warning: unused variable: `x`"));
        assert!(!is_status_line("    Blocking waiting for file lock"));
        assert!(!is_status_line("Compilingfoo"));
    }
}
