//! The timeline as one self-contained HTML page: inline SVG and CSS, no script, nothing
//! fetched, so that it opens from a CI artifact as it is. One row per lane with a bar per cargo
//! call (its wait for its turn before it), each output's packaging under its call from the
//! moment its executable was ready, the machine's CPU use under the rows, then a table per
//! output, one per cargo call, and the summary line. Hovering a bar or a mark shows its
//! details (an SVG `<title>`).

use std::fmt::Write;

use super::{Call, CallState, Chart, Output, OutputState, Timeline, seconds};
use crate::cache::CacheStatus;
use crate::execute::{Cause, Origin, StopReason};
use crate::plan::Plan;
use crate::report::display_path;
use crate::report::summary::{group_label, human_size};

/// The drawing's width, in CSS pixels.
const WIDTH: f64 = 1240.0;
/// The column of lane labels.
const LABELS: f64 = 190.0;
/// The right margin.
const RIGHT: f64 = 24.0;
/// The time axis band at the top.
const AXIS: f64 = 26.0;
/// A cargo call's bar.
const BAR: f64 = 20.0;
/// One row of packaging bars under the calls of a lane.
const SLOT: f64 = 9.0;
/// Space above and below a lane's contents.
const PAD: f64 = 7.0;
/// The CPU chart's height.
const CPU: f64 = 80.0;
/// The legend's height.
const LEGEND: f64 = 58.0;
/// The widest a bar's text may be, per character (11 px sans-serif), to decide whether it fits.
const CHAR: f64 = 6.4;
/// At most this many CPU samples are drawn (more are averaged in buckets).
const MAX_SAMPLES: usize = 1000;

/// The page for `timeline`, titled `title`.
pub fn render(timeline: &Timeline, title: &str) -> String {
    let chart = Chart::of(timeline);
    let plan = &timeline.plan;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{} timeline</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    );
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"manifest\">{}</p>\n",
        esc(title),
        esc(&display_path(&plan.manifest))
    );
    facts(&mut out, &chart, plan);
    out.push_str("<figure>\n");
    svg(&mut out, &chart, plan);
    out.push_str("</figure>\n");
    outputs_table(&mut out, &chart, plan);
    calls_table(&mut out, &chart, plan);
    let _ = write!(
        out,
        "<p class=\"summary\"><code>{}</code></p>\n</body>\n</html>\n",
        esc(timeline.summary.trim())
    );
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:20px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 2px}h2{font-size:16px;margin:22px 0 6px}
p.manifest{margin:0 0 12px;color:#555;font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px}
figure{margin:8px 0}
table{border-collapse:collapse;font-size:12.5px}
th,td{padding:3px 9px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
table.facts td{border:none;padding:1px 14px 1px 0}table.facts td:first-child{color:#666}
code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:11.5px}
td code{word-break:break-all}td{white-space:nowrap}td.cmd{white-space:normal}
.st-failed,.st-killed{color:#c62828;font-weight:600}
p.summary{margin-top:16px}
svg text{font-family:system-ui,'DejaVu Sans',sans-serif;font-size:11px;fill:#333}
svg .axis{fill:#666}svg .lane{font-weight:600;fill:#222}svg .sub{fill:#777;font-size:10px}
svg .grid{stroke:#ececec;stroke-width:1}svg .sep{stroke:#d8d8d8;stroke-width:1}
svg text.in{fill:#fff;font-size:10.5px}svg text.in.fresh{fill:#333}
rect.call.built{fill:#4e79a7}rect.call.fresh{fill:#bdbdbd}rect.call.cached{fill:#59a14f}
rect.call.failed{fill:#e15759}rect.call.killed{fill:#f28e2b}
rect.wait{fill:#eeeeee;stroke:#c9c9c9;stroke-dasharray:3 2}
line.ready{stroke:#333;stroke-width:1.2}
rect.pack.written{fill:#76b7b2}rect.pack.fresh{fill:#d0d0d0}rect.pack.hit{fill:#8cd17d}
rect.pack.downloaded{fill:#2e8b57}rect.pack.failed{fill:#e15759}rect.pack.stopped{fill:#f28e2b}
path.cross{stroke:#c62828;stroke-width:2;fill:none}path.cross.stopped{stroke:#999}
path.cpu,rect.cpu{fill:#b07aa1;fill-opacity:.45;stroke:#8e5b84;stroke-width:1}
path.ours,line.ours{fill:none;stroke:#3b1f6b;stroke-width:1.8}
rect.frame{fill:none;stroke:#d0d0d0}
";

/// `&`, `<`, `>`, `"` and `'` escaped: safe in text and in attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in HTML text (ANSI escapes from cargo).
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The run's facts above the picture.
fn facts(out: &mut String, chart: &Chart, plan: &Plan) {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(at) = chart.started_at {
        rows.push((
            "Started",
            humantime::format_rfc3339_seconds(at)
                .to_string()
                .replace('T', " ")
                .replace('Z', " UTC"),
        ));
    }
    rows.push(("Wall time", seconds(chart.end)));
    let count = |f: &dyn Fn(&Output) -> bool| chart.outputs.iter().filter(|o| f(o)).count();
    let fresh = count(&|o| matches!(o.state, OutputState::Packaged { fresh: true, .. }));
    let built = count(&|o| matches!(o.state, OutputState::Packaged { fresh: false, .. }));
    let failed = plan.artifacts.len() - fresh - built;
    rows.push((
        "Outputs",
        format!(
            "{} — {built} built, {fresh} fresh, {failed} not built",
            plan.artifacts.len()
        ),
    ));
    let calls = |s: CallState| chart.drawn_calls().filter(|c| c.state == s).count();
    let never = chart.calls.iter().filter(|c| c.is_none()).count();
    let mut call_text = format!(
        "{} — {} ran cargo, {} fresh, {} from the cache",
        plan.groups.len(),
        calls(CallState::Built) + calls(CallState::Failed) + calls(CallState::Killed),
        calls(CallState::Fresh),
        calls(CallState::Cached)
    );
    for (n, what) in [
        (calls(CallState::Failed), "failed"),
        (calls(CallState::Killed), "stopped"),
        (never, "not started"),
    ] {
        if n > 0 {
            let _ = write!(call_text, ", {n} {what}");
        }
    }
    rows.push(("Cargo calls", call_text));
    let cpu: f64 = chart.drawn_calls().filter_map(|c| c.cpu).sum();
    if cpu > 0.0 {
        rows.push(("CPU time of cargo", seconds(cpu)));
    }
    if let Some(jobs) = chart.jobs {
        let cpus = chart
            .cpus
            .map_or(String::new(), |c| format!(" on {c} CPUs"));
        rows.push(("Jobs", format!("{jobs}{cpus}")));
    }
    if let Some(mean) = mean_busy(chart) {
        rows.push((
            "Machine busy",
            format!(
                "{:.0}% on average (every process of the machine, not only the build's)",
                mean * 100.0
            ),
        ));
    }
    match chart.stopped {
        Some(StopReason::Signal(libc::SIGINT)) => rows.push(("Ended", "interrupted".into())),
        Some(StopReason::Signal(s)) => rows.push(("Ended", format!("stopped by signal {s}"))),
        Some(StopReason::Failure) => rows.push(("Ended", "stopped after a failure".into())),
        None => {}
    }
    out.push_str("<table class=\"facts\">\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>\n");
}

/// The time-weighted mean of the CPU samples.
fn mean_busy(chart: &Chart) -> Option<f64> {
    let mut last = 0.0;
    let (mut sum, mut span) = (0.0, 0.0);
    for &(t, busy) in &chart.cpu {
        let dt = (t - last).max(0.0);
        sum += busy * dt;
        span += dt;
        last = t;
    }
    (span > 0.0).then(|| sum / span)
}

/// The scale of the time axis: the span shown and the tick step, both in seconds.
fn scale(end: f64) -> (f64, f64) {
    let end = end.max(0.5);
    // About eight ticks: steps of 1, 2 or 5 times a power of ten (30 s and 60 s multiples
    // past a minute, so that ticks fall on whole minutes).
    let raw = end / 8.0;
    let candidates = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0,
    ];
    let step = candidates
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0);
    ((end / step).ceil() * step, step)
}

/// A tick label.
fn tick(t: f64, step: f64) -> String {
    if step < 1.0 {
        format!("{t:.1}s")
    } else if t < 60.0 || step < 60.0 && t < 120.0 {
        format!("{}s", t.round())
    } else {
        let s = t.round() as u64;
        if s % 60 == 0 {
            format!("{}m", s / 60)
        } else {
            format!("{}m{:02}s", s / 60, s % 60)
        }
    }
}

/// Where one lane is drawn.
struct LaneBox {
    lane: usize,
    top: f64,
    /// Per output of the lane: its packaging row.
    slots: Vec<(usize, usize)>,
}

/// Packaging rows for the outputs of `lane`: each output takes the first row where its mark
/// does not touch the one before (in pixels, so that nothing drawn overlaps).
fn slots(chart: &Chart, lane: usize, x: &dyn Fn(f64) -> f64) -> Vec<(usize, usize)> {
    let mut marks: Vec<(f64, f64, usize)> = chart
        .outputs
        .iter()
        .filter(|o| {
            chart
                .calls
                .get(o.group)
                .and_then(Option::as_ref)
                .is_some_and(|c| c.lane == lane)
        })
        .filter_map(|o| {
            let from = o.ready.or(o.settled)?;
            let to = o.settled.unwrap_or(from).max(from);
            Some((x(from) - 4.0, (x(to) + 4.0).max(x(from) + 4.0), o.artifact))
        })
        .collect();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
    let mut rows: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for (from, to, artifact) in marks {
        let row = match rows.iter().position(|end| *end + 1.0 < from) {
            Some(r) => r,
            None => {
                rows.push(f64::MIN);
                rows.len() - 1
            }
        };
        rows[row] = to;
        out.push((artifact, row));
    }
    out
}

/// The picture: axis, lanes, CPU use, legend.
fn svg(out: &mut String, chart: &Chart, plan: &Plan) {
    let (span, step) = scale(chart.end);
    let plot = WIDTH - LABELS - RIGHT;
    let x = move |t: f64| LABELS + (t.max(0.0) / span).min(1.0) * plot;
    let mut lanes: Vec<LaneBox> = Vec::new();
    let mut top = AXIS;
    for lane in chart.lanes() {
        let slots = slots(chart, lane, &x);
        let rows = slots.iter().map(|(_, r)| r + 1).max().unwrap_or(0) as f64;
        let height = PAD + BAR + if rows > 0.0 { 4.0 + rows * SLOT } else { 0.0 } + PAD;
        lanes.push(LaneBox { lane, top, slots });
        top += height;
    }
    if lanes.is_empty() {
        top += 30.0;
    }
    let cpu_top = top + 14.0;
    let legend_top = cpu_top + CPU + 22.0;
    let height = legend_top + LEGEND;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-label=\"timeline of the run\">"
    );

    // The axis and the grid, through the lanes and the CPU chart.
    let mut t = 0.0;
    while t <= span + step / 2.0 {
        let gx = x(t);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{gx:.1}\" y1=\"{:.1}\" x2=\"{gx:.1}\" y2=\"{:.1}\"/>\
             <text class=\"axis\" x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            AXIS - 4.0,
            cpu_top + CPU,
            AXIS - 9.0,
            tick(t, step)
        );
        t += step;
    }
    if lanes.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{LABELS}\" y=\"{:.1}\">No cargo call ran or was settled.</text>",
            AXIS + 20.0
        );
    }

    for b in &lanes {
        lane(out, chart, plan, b, &x);
    }

    cpu_chart(out, chart, cpu_top, &x, span);
    legend(out, legend_top);
    out.push_str("</svg>\n");
}

/// One lane: its label, its calls' bars and its outputs' marks.
fn lane(out: &mut String, chart: &Chart, plan: &Plan, b: &LaneBox, x: &dyn Fn(f64) -> f64) {
    let calls: Vec<&Call> = chart.drawn_calls().filter(|c| c.lane == b.lane).collect();
    let _ = writeln!(
        out,
        "<line class=\"sep\" x1=\"0\" y1=\"{:.1}\" x2=\"{WIDTH}\" y2=\"{:.1}\"/>",
        b.top, b.top
    );
    let first = calls.first().and_then(|c| plan.groups.get(c.group));
    let _ = writeln!(
        out,
        "<text class=\"lane\" x=\"6\" y=\"{:.1}\">lane {}</text>",
        b.top + PAD + 10.0,
        b.lane + 1
    );
    if let Some(g) = first {
        let dir = display_path(&g.target_dir);
        let _ = writeln!(
            out,
            "<text class=\"sub\" x=\"6\" y=\"{:.1}\">{}<title>target dir {}</title></text>",
            b.top + PAD + 23.0,
            esc(&tail(&dir, 30)),
            esc(&dir)
        );
    }
    let bar_top = b.top + PAD;
    for call in &calls {
        let Some(group) = plan.groups.get(call.group) else {
            continue;
        };
        let _ = writeln!(
            out,
            "<g class=\"call\" data-group=\"{}\"><title>{}</title>",
            call.group,
            esc(&call_title(call, plan))
        );
        if let Some(spawned) = call.spawned
            && x(spawned) - x(call.queued) >= 1.0
        {
            let _ = writeln!(
                out,
                "<rect class=\"wait\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
                x(call.queued),
                bar_top + 4.0,
                x(spawned) - x(call.queued),
                BAR - 8.0
            );
        }
        let (x0, x1) = (x(call.start()), x(call.ended));
        let w = (x1 - x0).max(2.0);
        let state = call.state.as_str();
        let _ = writeln!(
            out,
            "<rect class=\"call {state}\" data-group=\"{}\" x=\"{x0:.1}\" y=\"{bar_top:.1}\" \
             width=\"{w:.1}\" height=\"{BAR}\" rx=\"2\"/>",
            call.group
        );
        let text = bar_text(group, call);
        let fits = (w - 8.0) / CHAR;
        if fits >= 4.0 {
            let _ = writeln!(
                out,
                "<text class=\"in {state}\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x0 + 4.0,
                bar_top + 14.0,
                esc(&ellipsis(&text, fits as usize))
            );
        }
        out.push_str("</g>\n");
    }
    let slot_top = bar_top + BAR + 4.0;
    for (artifact, row) in &b.slots {
        let Some(o) = chart.outputs.get(*artifact) else {
            continue;
        };
        let y = slot_top + *row as f64 * SLOT;
        output_mark(out, o, plan, bar_top + BAR, y, x);
    }
}

/// What a call's bar says: the bins it built (or was to build), and its target.
fn bar_text(group: &crate::plan::Group, call: &Call) -> String {
    let what = match call.state {
        CallState::Fresh => "fresh: ",
        CallState::Cached => "from the cache: ",
        CallState::Failed => "failed: ",
        CallState::Killed => "stopped: ",
        CallState::Built => "",
    };
    format!("{what}{} ({})", group.bins.join(", "), group.target)
}

/// The hover text of a call.
fn call_title(call: &Call, plan: &Plan) -> String {
    let mut t = plan
        .groups
        .get(call.group)
        .map_or_else(|| format!("call #{}", call.group + 1), group_label);
    if let Some(group) = plan.groups.get(call.group) {
        let _ = write!(t, "\nbins: {}", group.bins.join(", "));
    }
    match (&call.command, call.state) {
        (Some(command), _) => {
            let _ = write!(t, "\n{command}");
        }
        (None, CallState::Fresh) => {
            t.push_str("\ncargo not started: nothing it reads changed since its last build")
        }
        (None, CallState::Cached) => {
            t.push_str("\ncargo not started: every executable came from the artifact cache")
        }
        (None, _) => t.push_str("\ncargo not started"),
    }
    let _ = write!(t, "\nturn at {}", seconds(call.queued));
    if let Some(s) = call.spawned {
        let _ = write!(
            t,
            ", cargo started at {} (waited {})",
            seconds(s),
            seconds(s - call.queued)
        );
    }
    let _ = write!(
        t,
        ", ended at {} ({})",
        seconds(call.ended),
        seconds(call.ended - call.start())
    );
    if let Some(cpu) = call.cpu {
        let _ = write!(t, "\nCPU {}", seconds(cpu));
    }
    if call.units != (0, 0) {
        let _ = write!(
            t,
            "\n{} units compiled, {} fresh",
            call.units.0, call.units.1
        );
    }
    if let Some(e) = &call.error {
        let _ = write!(t, "\n{e}");
    }
    t
}

/// One output's mark: a tick where its executable was ready, its packaging bar from there to
/// its end, or a cross where it was given up.
fn output_mark(
    out: &mut String,
    o: &Output,
    plan: &Plan,
    bar_bottom: f64,
    y: f64,
    x: &dyn Fn(f64) -> f64,
) {
    let (class, kind) = output_class(o);
    let _ = writeln!(
        out,
        "<g class=\"output {class}\" data-artifact=\"{}\"><title>{}</title>",
        o.artifact,
        esc(&output_title(o, plan))
    );
    match o.ready {
        Some(ready) => {
            let x0 = x(ready);
            let x1 = x(o.settled.unwrap_or(ready)).max(x0 + 3.0);
            let _ = writeln!(
                out,
                "<line class=\"ready\" x1=\"{x0:.1}\" y1=\"{:.1}\" x2=\"{x0:.1}\" y2=\"{:.1}\"/>\
                 <rect class=\"pack {kind}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"1\"/>",
                bar_bottom - 3.0,
                y + SLOT - 2.0,
                y + 1.0,
                x1 - x0,
                SLOT - 2.0
            );
        }
        None => {
            let cx = x(o.settled.unwrap_or(0.0));
            let cy = y + SLOT / 2.0;
            let _ = writeln!(
                out,
                "<path class=\"cross {kind}\" d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\"/>",
                cx - 3.0,
                cy - 3.0,
                cx + 3.0,
                cy + 3.0,
                cx - 3.0,
                cy + 3.0,
                cx + 3.0,
                cy - 3.0
            );
        }
    }
    out.push_str("</g>\n");
}

/// An output's status word (for the mark's class) and how its packaging is coloured.
fn output_class(o: &Output) -> (&'static str, &'static str) {
    match &o.state {
        OutputState::Packaged { .. } if o.origin == Some(Origin::Fetched) => {
            ("packaged", "downloaded")
        }
        OutputState::Packaged {
            cache: Some(CacheStatus::Hit),
            ..
        } => ("packaged", "hit"),
        OutputState::Packaged { fresh: true, .. } => ("packaged", "fresh"),
        OutputState::Packaged { .. } => ("packaged", "written"),
        OutputState::Failed {
            cause: Cause::Stopped,
            ..
        } => ("failed", "stopped"),
        OutputState::Failed { .. } | OutputState::Unknown => ("failed", "failed"),
    }
}

/// An output's name for people: `name (arch)`.
fn output_name(o: &Output, plan: &Plan) -> String {
    plan.artifacts.get(o.artifact).map_or_else(
        || format!("#{}", o.artifact),
        |a| format!("{} ({})", a.resolved.identity.name, a.resolved.build.arch),
    )
}

/// The hover text of an output.
fn output_title(o: &Output, plan: &Plan) -> String {
    let mut t = output_name(o, plan);
    if let Some(a) = plan.artifacts.get(o.artifact) {
        let _ = write!(t, " → {}", display_path(&a.output));
    }
    if let Some(ready) = o.ready {
        let from = match o.origin {
            Some(Origin::Built) => "built by cargo",
            Some(Origin::Here) => "already here",
            Some(Origin::Fetched) => "downloaded from the artifact cache",
            None => "",
        };
        let _ = write!(t, "\nexecutable ready at {} ({from})", seconds(ready));
    }
    match (&o.state, o.settled) {
        (OutputState::Packaged { size, fresh, cache }, Some(at)) => {
            let verb = if *fresh { "up to date" } else { "packaged" };
            let took = o
                .ready
                .map_or(String::new(), |r| format!(" ({})", seconds(at - r)));
            let _ = write!(
                t,
                "\n{verb} at {}{took}, {}",
                seconds(at),
                human_size(*size)
            );
            if let Some(c) = cache {
                let _ = write!(t, ", cache {}", c.as_str());
            }
        }
        (OutputState::Failed { error, .. }, at) => {
            let when = at.map_or(String::new(), |at| format!(" at {}", seconds(at)));
            let _ = write!(t, "\nnot built{when}: {error}");
        }
        _ => {}
    }
    t
}

/// The CPU chart: the share of the machine busy over time, as steps.
fn cpu_chart(out: &mut String, chart: &Chart, top: f64, x: &dyn Fn(f64) -> f64, span: f64) {
    let bottom = top + CPU;
    let _ = writeln!(
        out,
        "<text class=\"lane\" x=\"6\" y=\"{:.1}\">CPU use</text>\
         <text class=\"sub\" x=\"6\" y=\"{:.1}\">{}</text>\
         <rect class=\"frame\" x=\"{LABELS}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{CPU}\"/>",
        top + 12.0,
        top + 25.0,
        chart
            .cpus
            .map_or("the machine".to_string(), |c| format!("all {c} CPUs")),
        WIDTH - LABELS - RIGHT
    );
    for (share, label) in [(0.5, "50%"), (1.0, "100%")] {
        let y = bottom - share * CPU;
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LABELS}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            WIDTH - RIGHT,
            LABELS - 4.0,
            y + 4.0
        );
    }
    let samples = bucket(&chart.cpu, span);
    if samples.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"sub\" x=\"{:.1}\" y=\"{:.1}\">not sampled</text>",
            LABELS + 8.0,
            top + CPU / 2.0
        );
        return;
    }
    let mut d = format!("M{:.1} {bottom:.1}", x(0.0));
    let mut from = 0.0;
    for (t, busy) in samples {
        let y = bottom - busy * CPU;
        let _ = write!(d, "L{:.1} {y:.1}L{:.1} {y:.1}", x(from), x(t));
        from = t;
    }
    let _ = write!(d, "L{:.1} {bottom:.1}Z", x(from));
    let _ = writeln!(
        out,
        "<path class=\"cpu\" d=\"{d}\"><title>the share of the machine's CPU time spent busy, sampled from /proc/stat</title></path>"
    );
    let ours = own_share(chart);
    if ours.len() > 1 {
        let mut d = String::new();
        for (i, (t, share)) in ours.iter().enumerate() {
            let y = bottom - share.min(1.0) * CPU;
            let _ = write!(d, "{}{:.1} {y:.1}", if i == 0 { "M" } else { "L" }, x(*t));
        }
        let _ = writeln!(
            out,
            "<path class=\"ours\" d=\"{d}\"><title>this run's cargo calls: each call's CPU time spread evenly over its run</title></path>"
        );
    }
}

/// The share of the machine this run's cargo calls used, as steps: each call's CPU time
/// spread evenly over its span (what the kernel counted when it was reaped), summed.
fn own_share(chart: &Chart) -> Vec<(f64, f64)> {
    let cpus = chart.cpus.unwrap_or(1).max(1) as f64;
    let spans: Vec<(f64, f64, f64)> = chart
        .drawn_calls()
        .filter_map(|c| {
            let (start, cpu) = (c.spawned?, c.cpu?);
            (c.ended > start).then(|| (start, c.ended, cpu / (c.ended - start) / cpus))
        })
        .collect();
    if spans.is_empty() {
        return Vec::new();
    }
    let mut edges: Vec<f64> = spans.iter().flat_map(|s| [s.0, s.1]).collect();
    edges.push(0.0);
    edges.push(chart.end);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let mut steps = Vec::new();
    for pair in edges.windows(2) {
        let mid = (pair[0] + pair[1]) / 2.0;
        let share: f64 = spans
            .iter()
            .filter(|s| s.0 <= mid && mid < s.1)
            .map(|s| s.2)
            .sum();
        steps.push((pair[0], share));
        steps.push((pair[1], share));
    }
    steps
}

/// At most [`MAX_SAMPLES`] samples: consecutive ones averaged (weighted by their spans).
fn bucket(samples: &[(f64, f64)], span: f64) -> Vec<(f64, f64)> {
    if samples.len() <= MAX_SAMPLES {
        return samples.to_vec();
    }
    let width = span / MAX_SAMPLES as f64;
    let mut out: Vec<(f64, f64)> = Vec::new();
    let (mut sum, mut weight, mut last) = (0.0, 0.0, 0.0);
    let mut edge = width;
    for &(t, busy) in samples {
        let dt = (t - last).max(0.0);
        sum += busy * dt;
        weight += dt;
        last = t;
        if t >= edge {
            out.push((t, if weight > 0.0 { sum / weight } else { busy }));
            (sum, weight) = (0.0, 0.0);
            edge = t + width;
        }
    }
    if weight > 0.0 {
        out.push((last, sum / weight));
    }
    out
}

/// The legend under the picture: the calls, the outputs, the CPU use.
fn legend(out: &mut String, top: f64) {
    /// A swatch: a rectangle of a class, a cross, a tick, or a line.
    enum Key {
        Rect(&'static str),
        Cross,
        Tick,
        Line,
    }
    let rows: [&[(Key, &str)]; 3] = [
        &[
            (Key::Rect("call built"), "cargo call"),
            (Key::Rect("call fresh"), "fresh (not started)"),
            (Key::Rect("call cached"), "all from the cache"),
            (Key::Rect("call failed"), "failed"),
            (Key::Rect("call killed"), "stopped"),
            (Key::Rect("wait"), "waiting for its turn"),
        ],
        &[
            (Key::Tick, "executable ready"),
            (Key::Rect("pack written"), "packaging"),
            (Key::Rect("pack fresh"), "output up to date"),
            (Key::Rect("pack hit"), "cache hit"),
            (Key::Rect("pack downloaded"), "downloaded from the cache"),
            (Key::Rect("pack failed"), "packaging failed"),
            (Key::Cross, "not built"),
        ],
        &[
            (Key::Rect("cpu"), "the machine busy (/proc/stat)"),
            (
                Key::Line,
                "this run's cargo calls (CPU time spread over each call)",
            ),
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        let y = top + r as f64 * 18.0;
        let mut lx = LABELS;
        for (key, name) in row.iter() {
            let _ = match key {
                Key::Rect(class) => write!(
                    out,
                    "<rect class=\"{class}\" x=\"{lx:.1}\" y=\"{:.1}\" width=\"14\" height=\"10\" rx=\"1\"/>",
                    y - 9.0
                ),
                Key::Cross => write!(
                    out,
                    "<path class=\"cross failed\" d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\"/>",
                    lx + 3.0,
                    y - 8.0,
                    lx + 11.0,
                    y,
                    lx + 3.0,
                    y,
                    lx + 11.0,
                    y - 8.0
                ),
                Key::Tick => write!(
                    out,
                    "<line class=\"ready\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
                    lx + 7.0,
                    y - 10.0,
                    lx + 7.0,
                    y + 1.0
                ),
                Key::Line => write!(
                    out,
                    "<line class=\"ours\" x1=\"{lx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
                    y - 4.0,
                    lx + 14.0,
                    y - 4.0
                ),
            };
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
                lx + 19.0,
                esc(name)
            );
            lx += 30.0 + name.chars().count() as f64 * CHAR;
        }
    }
}

/// The table of outputs: where each came from, how long it took, what it cost.
fn outputs_table(out: &mut String, chart: &Chart, plan: &Plan) {
    out.push_str(
        "<h2>Outputs</h2>\n<table class=\"outputs\">\n<thead><tr><th>#</th><th>Output</th>\
         <th>Cargo call</th><th>Ready</th><th>Done</th><th>Wall</th><th>CPU</th><th>Cache</th>\
         <th>Size</th><th>Status</th></tr></thead>\n<tbody>\n",
    );
    for o in &chart.outputs {
        let call = chart.calls.get(o.group).and_then(Option::as_ref);
        let num = |v: Option<f64>| v.map_or("-".to_string(), seconds);
        // From its call's turn to its output: what the report's `seconds` says too.
        let wall = match (call, o.settled) {
            (Some(c), Some(at)) => Some(at - c.queued),
            _ => None,
        };
        let outputs_of_call = chart.outputs.iter().filter(|p| p.group == o.group).count();
        let cpu = match call.and_then(|c| c.cpu) {
            Some(cpu) if outputs_of_call > 1 => {
                format!("{} (call of {outputs_of_call})", seconds(cpu))
            }
            Some(cpu) => seconds(cpu),
            None => "-".into(),
        };
        let (cache, size, status) = match &o.state {
            OutputState::Packaged { size, fresh, cache } => (
                match (cache, o.origin) {
                    (_, Some(Origin::Fetched)) => "hit (downloaded)".to_string(),
                    (Some(c), _) => c.as_str().to_string(),
                    (None, _) => "-".into(),
                },
                human_size(*size),
                if *fresh { "fresh" } else { "built" }.to_string(),
            ),
            OutputState::Failed { .. } | OutputState::Unknown => {
                ("-".into(), "-".into(), "failed".into())
            }
        };
        let error = match &o.state {
            OutputState::Failed { error, .. } => format!(" title=\"{}\"", esc(error)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"st-{status}\"{error}>{status}</td></tr>",
            o.artifact + 1,
            esc(&output_name(o, plan)),
            o.group + 1,
            num(o.ready),
            num(o.settled),
            num(wall),
            esc(&cpu),
            esc(&cache),
            size,
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The table of cargo calls.
fn calls_table(out: &mut String, chart: &Chart, plan: &Plan) {
    out.push_str(
        "<h2>Cargo calls</h2>\n<table class=\"calls\">\n<thead><tr><th>#</th><th>Lane</th>\
         <th>Target</th><th>Bins</th><th>Status</th><th>Waited</th><th>Ran</th><th>CPU</th>\
         <th>Units</th><th>Command</th></tr></thead>\n<tbody>\n",
    );
    for (i, group) in plan.groups.iter().enumerate() {
        let call = chart.calls.get(i).and_then(Option::as_ref);
        let (status, waited, ran, cpu, units, command) = match call {
            Some(c) => (
                c.state.as_str(),
                c.spawned.map_or("-".to_string(), |s| seconds(s - c.queued)),
                seconds(c.ended - c.start()),
                c.cpu.map_or("-".to_string(), seconds),
                if c.units == (0, 0) {
                    "-".to_string()
                } else {
                    format!("{} + {} fresh", c.units.0, c.units.1)
                },
                c.command.clone().unwrap_or_else(|| "(not started)".into()),
            ),
            None => (
                "not started",
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "(not started)".into(),
            ),
        };
        let error = call
            .and_then(|c| c.error.as_ref())
            .map_or(String::new(), |e| format!(" title=\"{}\"", esc(e)));
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{n}</td><td class=\"n\">{lane}</td><td>{target}</td>\
             <td>{bins}</td><td class=\"st-{class}\"{error}>{status}</td>\
             <td class=\"n\">{waited}</td><td class=\"n\">{ran}</td><td class=\"n\">{cpu}</td>\
             <td class=\"n\">{units}</td><td class=\"cmd\"><code>{command}</code></td></tr>",
            n = i + 1,
            lane = group.lane + 1,
            target = esc(&group.target),
            bins = esc(&group.bins.join(", ")),
            class = status.replace(' ', "-"),
            command = esc(&command),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The end of `s`, at most `max` characters, with an ellipsis before when cut.
fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let mut cut = String::from("…");
    cut.extend(s.chars().skip(n - max + 1));
    cut
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Writes the page `html` to `path` atomically (a temporary file beside it, then a rename), so
/// that a reader never sees half a page. Unlike the report it is not flushed to disk first: an
/// fsync cost a no-op run up to a quarter of its time on a busy disk, and the page is only a
/// view of the run (the report holds its times), drawn again by the next run.
pub fn write(path: &camino::Utf8Path, html: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = crate::atomic::AtomicFile::create(path)?;
    file.file().write_all(html.as_bytes())?;
    Ok(file.commit(0o644)?)
}
