//! The timeline as a Mermaid `gantt` block, which GitHub draws in a step summary: a section
//! per lane, a task per cargo call, at most [`MAX_ROWS`] of them (the longest), the rest left
//! to the `--timeline` page.
//!
//! Mermaid's gantt lexer reads a task line as its text up to the first `:` and then its data,
//! and tries its keywords (`title`, `section`, `click`, `dateFormat`, ...) at the start of a
//! line before taking it as a task: so a task's text keeps to letters, digits, spaces and
//! `-_.,/()+@=` (no `:`, `#`, `;` or `%`, which older versions also treat specially), and
//! always starts with one of this module's own words (`build`, `fresh`, ...). Times are
//! written as local date-times of one fixed day counted from the run's start: Mermaid reads
//! and draws them in the viewer's time zone alike, so the axis shows the time since the start
//! wherever it is read (a Unix timestamp would be drawn in local clock time).

use std::fmt::Write;

use super::{Call, CallState, Chart, Timeline, seconds};

/// The most tasks a block shows.
pub const MAX_ROWS: usize = 30;

/// The `dateFormat` of the block.
pub const DATE_FORMAT: &str = "YYYY-MM-DD HH:mm:ss.SSS";

/// The fixed day the run is drawn on (a day without a daylight saving change anywhere).
const DAY: &str = "2000-01-01";

/// The Markdown of the block (a fenced `mermaid` code block, then a line saying what was left
/// out, if anything), titled `title`; empty when no cargo call ran or was settled.
pub fn block(timeline: &Timeline, title: &str) -> String {
    let chart = Chart::of(timeline);
    let mut calls: Vec<&Call> = chart.drawn_calls().collect();
    if calls.is_empty() {
        return String::new();
    }
    let total = calls.len();
    if total > MAX_ROWS {
        calls.sort_by(|a, b| {
            (b.ended - b.start())
                .total_cmp(&(a.ended - a.start()))
                .then(a.group.cmp(&b.group))
        });
        calls.truncate(MAX_ROWS);
    }
    calls.sort_by(|a, b| {
        a.lane
            .cmp(&b.lane)
            .then(a.start().total_cmp(&b.start()))
            .then(a.group.cmp(&b.group))
    });
    let mut out = String::from("```mermaid\ngantt\n");
    let _ = writeln!(out, "    title {}", text(title, 80));
    let _ = writeln!(out, "    dateFormat {DATE_FORMAT}");
    let axis = if chart.end < 3600.0 {
        "%M:%S"
    } else {
        "%H:%M:%S"
    };
    let _ = writeln!(out, "    axisFormat {axis}");
    let mut lane = None;
    for call in &calls {
        if lane != Some(call.lane) {
            lane = Some(call.lane);
            let _ = writeln!(out, "    section lane {}", call.lane + 1);
        }
        let group = timeline.plan.groups.get(call.group);
        let (verb, tag) = match call.state {
            CallState::Built => ("build", ""),
            CallState::Fresh => ("fresh", "done, "),
            CallState::Cached => ("cached", "done, "),
            CallState::Failed => ("failed", "crit, "),
            CallState::Killed => ("stopped", "crit, "),
        };
        let bins = group.map_or(String::new(), |g| list(&g.bins, 3));
        let arch = group.map_or("", |g| g.target.split('-').next().unwrap_or(""));
        let name = text(
            &format!(
                "{verb} {bins} ({arch}) {}",
                seconds(call.ended - call.start())
            ),
            70,
        );
        let _ = writeln!(
            out,
            "    {name} :{tag}c{}, {}, {}",
            call.group + 1,
            time(call.start()),
            time(call.ended.max(call.start()))
        );
    }
    out.push_str("```\n");
    if total > calls.len() {
        let _ = writeln!(
            out,
            "\n{} of {total} cargo calls shown (the longest); `--timeline FILE` draws them all.",
            calls.len()
        );
    }
    out.push('\n');
    out
}

/// `names` joined, at most `max` of them and a count of the rest.
fn list(names: &[String], max: usize) -> String {
    let mut shown: Vec<&str> = names.iter().take(max).map(String::as_str).collect();
    let rest = names.len().saturating_sub(max);
    let more = format!("+{rest} more");
    if rest > 0 {
        shown.push(&more);
    }
    shown.join(", ")
}

/// `s` as a task's or a title's text: only characters Mermaid reads as text, at most `max`.
pub fn text(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_.,/()+@=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    cleaned.trim().to_string()
}

/// `seconds` after the start as a date-time in [`DATE_FORMAT`] on [`DAY`] (a run longer than
/// a day is drawn up to its first day's end).
pub fn time(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let ms = ms.min(24 * 3600 * 1000 - 1);
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{DAY} {h:02}:{m:02}:{s:02}.{ms:03}")
}
