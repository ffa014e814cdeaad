#!/usr/bin/env python3
"""Where a build leaves cores idle: reads the timeline benches/rustc-timeline.sh wrote (one
line per crate rustc compiled: start, end, CPU, kind, crate, target) and prints how long 0, 1
and 2+ crates were compiling at once, what compiled alone, and the CPU of each kind.

usage: onefn_profile.py TIMELINE [CORES] [--json OUT]

With CORES cores (default 2), the core-seconds left idle by the build's own schedule are
the integral of max(0, CORES - running): independent of other processes on the machine, as
far as they only stretch durations. A crate that compiles alone is the serial tail the issue
is about when it is a bin (its codegen with one codegen unit, the thin-LTO link).
"""
import collections
import json
import sys

args = sys.argv[1:]
json_out = None
if "--json" in args:
    i = args.index("--json")
    json_out = args[i + 1]
    del args[i:i + 2]
path = args[0]
cores = int(args[1]) if len(args) > 1 else 2
units = []
for line in open(path):
    parts = line.split()
    if len(parts) < 6:
        continue
    start, end, user, sys_ = map(float, parts[:4])
    units.append({
        "start": start, "end": end, "cpu": user + sys_, "kind": parts[4],
        "crate": parts[5], "target": parts[6] if len(parts) > 6 else "host",
    })
if not units:
    sys.exit(f"{path}: no crate compiled (was RUSTC_WRAPPER=benches/rustc-timeline.sh set?)")
units.sort(key=lambda u: u["start"])
t0 = units[0]["start"]
span = max(u["end"] for u in units) - t0

# Sweep: how many crates run in each interval, and which one when it is alone.
events = sorted([(u["start"], 1, i) for i, u in enumerate(units)]
                + [(u["end"], -1, i) for i, u in enumerate(units)])
running = set()
by_count = collections.Counter()
alone = collections.Counter()
alone_units = collections.Counter()
idle = 0.0
last = t0
for t, delta, i in events:
    dt = t - last
    if dt > 0:
        k = len(running)
        by_count[min(k, cores)] += dt
        idle += max(0, cores - k) * dt
        if k == 1:
            (only,) = running
            u = units[only]
            alone[u["kind"]] += dt
            alone_units[(u["kind"], u["crate"], u["target"])] += dt
    last = t
    if delta > 0:
        running.add(i)
    else:
        running.discard(i)

cpu = collections.Counter()
wall = collections.Counter()
count = collections.Counter()
for u in units:
    cpu[u["kind"]] += u["cpu"]
    wall[u["kind"]] += u["end"] - u["start"]
    count[u["kind"]] += 1
total_cpu = sum(cpu.values())

summary = {
    "span_s": round(span, 1),
    "cores": cores,
    "units": len(units),
    "rustc_cpu_s": round(total_cpu, 1),
    "rustc_cpu_use": round(total_cpu / span / cores, 3),
    "idle_core_s": round(idle, 1),
    "seconds_with_running": {str(k): round(v, 1) for k, v in sorted(by_count.items())},
    "alone_by_kind_s": {k: round(v, 1) for k, v in alone.most_common()},
    "cpu_by_kind_s": {k: round(v, 1) for k, v in cpu.most_common()},
    "cpu_per_wall_by_kind": {k: round(cpu[k] / wall[k], 2) for k in cpu if wall[k] > 0},
    "units_by_kind": dict(count),
    "longest_alone": [
        {"kind": k, "crate": c, "target": t, "s": round(v, 1)}
        for (k, c, t), v in alone_units.most_common(12)
    ],
}
print(f"span {summary['span_s']} s, {len(units)} crates, rustc CPU {summary['rustc_cpu_s']} s "
      f"({summary['rustc_cpu_use']:.0%} of {cores} cores over the span)")
print(f"idle core-seconds in the build's own schedule: {summary['idle_core_s']} "
      f"({idle / span / cores:.0%} of the span's core-seconds)")
for k in range(cores + 1):
    label = f"{k}+" if k == cores else str(k)
    print(f"  {label} crates compiling: {by_count.get(k, 0):7.1f} s")
print("alone (one crate compiling), by kind:", summary["alone_by_kind_s"])
print("CPU by kind:", summary["cpu_by_kind_s"], " CPU/wall by kind:", summary["cpu_per_wall_by_kind"])
print("longest alone:")
for a in summary["longest_alone"]:
    print(f"  {a['s']:6.1f} s  {a['kind']:6} {a['crate']} {a['target']}")
if json_out:
    with open(json_out, "w") as f:
        json.dump(summary, f, indent=2)
