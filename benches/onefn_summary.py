#!/usr/bin/env python3
"""Tables of the one-function benchmark (scripts/bench-onefn.sh): hyperfine's JSON exports,
load.txt, the profile runs and the zip hashes of RESULTS_DIR, as markdown.

usage: onefn_summary.py RESULTS_DIR

CPU is user + sys of the command and all its children (hyperfine). CPU use is CPU / (wall x
cores): 100% is every core busy with the build for the whole run. Others' CPU is the machine's busy CPU between the run's two lines of load.txt (which
also hold hyperfine's --prepare, emptying the target dirs) minus the run's own CPU: what other
processes took meanwhile.
"""
import glob
import json
import os
import re
import sys

res = sys.argv[1]
NAMES = {
    "lb": "lambda-batch run",
    "cl": "cargo-lambda, per workspace × arch, one shared CARGO_TARGET_DIR",
    "floor": "raw floor (the plan's cargo-zigbuild calls, no packaging)",
}
HZ = os.sysconf("SC_CLK_TCK")


def read(name):
    try:
        with open(os.path.join(res, name)) as f:
            return f.read()
    except FileNotFoundError:
        return ""


m = re.search(r"^nproc: (\d+)", read("machine.txt"), re.M)
cores = int(m.group(1)) if m else os.cpu_count() or 1

# "HH:MM:SS lb cold-1 start load: 1.00 0.90 0.80 busy_jiffies: 123"
loads = {}
for line in read("load.txt").splitlines():
    m = re.match(r"(\S+) (\S+) (\S+) (start|end) load: (\S+) \S+ \S+ busy_jiffies: (\d+)", line)
    if m:
        time, a, label, edge, load1, busy = m.groups()
        loads[(a, label, edge)] = (time, float(load1), int(busy))


def cold_runs(a):
    """(run, hyperfine result) of each cold run of `a`, in order."""
    runs = []
    for path in glob.glob(os.path.join(res, f"{a}-cold-*.json")):
        run = int(re.search(r"-cold-(\d+)\.json$", path).group(1))
        with open(path) as f:
            runs.append((run, json.load(f)["results"][0]))
    return sorted(runs, key=lambda r: r[0])


def window(a, label, cpu):
    """'load start → end' and the CPU other processes used during the run."""
    start, end = loads.get((a, label, "start")), loads.get((a, label, "end"))
    if not (start and end):
        return "—", "—"
    others = (end[2] - start[2]) / HZ - cpu
    return f"{start[1]:.2f} → {end[1]:.2f} ({start[0]}–{end[0]})", f"{others:.1f}"


print(f"### cold ({cores} cores)\n")
print(f"| approach | run | wall (s) | CPU user+sys (s) | CPU use (of {cores} cores) "
      "| load (1 min) start → end | others' CPU meanwhile (s) |")
print("|---|---|---|---|---|---|---|")
means = {}
for a, name in NAMES.items():
    runs = cold_runs(a)
    for run, r in runs:
        wall, cpu = r["mean"], r["user"] + r["system"]
        load, others = window(a, f"cold-{run}", cpu)
        print(f"| {name} | {run} | {wall:.1f} | {cpu:.1f} | {100 * cpu / wall / cores:.0f}% "
              f"| {load} | {others} |")
    if runs:
        walls = [r["mean"] for _, r in runs]
        cpus = [r["user"] + r["system"] for _, r in runs]
        means[a] = (sum(walls) / len(walls), sum(cpus) / len(cpus))
        if len(runs) > 1:
            w, c = means[a]
            print(f"| {name} | mean | {w:.1f} | {c:.1f} | {100 * c / w / cores:.0f}% | | |")

if "lb" in means and "cl" in means:
    (lw, lc), (cw, cc) = means["lb"], means["cl"]
    print(f"\nlambda-batch / cargo-lambda: wall **{lw / cw:.2f}×**, CPU {lc / cc:.2f}×")
if "lb" in means and "floor" in means:
    (lw, lc), (fw, fc) = means["lb"], means["floor"]
    print(f"lambda-batch / raw floor: wall {lw / fw:.2f}×, CPU {lc / fc:.2f}×")

noop = []
for a, name in NAMES.items():
    try:
        with open(os.path.join(res, f"{a}-noop.json")) as f:
            r = json.load(f)["results"][0]
    except FileNotFoundError:
        continue
    noop.append(f"| {name} | {len(r['times'])} | {1000 * r['mean']:.0f} ± {1000 * (r.get('stddev') or 0):.0f} |")
if noop:
    print("\n### no-op\n\n| approach | runs | wall (ms) |\n|---|---|---|")
    print("\n".join(noop))

profiles = []
for a, name in NAMES.items():
    text = read(f"profile-{a}.txt")
    try:
        with open(os.path.join(res, f"profile-{a}.json")) as f:
            p = json.load(f)
    except FileNotFoundError:
        continue
    wall = re.search(r"wall ([\d.]+) s", text)
    busy = p["seconds_with_running"]
    profiles.append(
        f"| {name} | {wall.group(1) if wall else '—'} | {p['span_s']} | {p['rustc_cpu_use']:.0%} "
        f"| {p['idle_core_s']} | " + " | ".join(f"{busy.get(str(k), 0)}" for k in range(cores + 1))
        + f" | {p['alone_by_kind_s'].get('bin', 0)} |")
if profiles:
    print("\n### profile runs (every rustc logged; not the timed runs)\n")
    print("| approach | wall (s) | rustc span (s) | rustc CPU use | idle core-s | "
          + " | ".join(f"s with {k}{'+' if k == cores else ''} compiling" for k in range(cores + 1))
          + " | s with a bin alone |")
    print("|---|---|---|---|---|" + "---|" * (cores + 1) + "---|")
    print("\n".join(profiles))
    print("\n(details: profile-<approach>.txt)")

print("\n### outputs\n")
for a, name in NAMES.items():
    sha = read(f"{a}-zips.sha256")
    if sha:
        lines = sha.splitlines()
        zips = [line for line in lines if "!" not in line]
        print(f"- {name}: {len(zips)} zips, {len(lines) - len(zips)} entries hashed "
              f"({a}-zips.sha256)")
diff = read("zips-diff.txt")
print("\n" + (diff if diff else "Every later run of an approach (COLD_RUNS, PROFILE) gave the zips of its first.\n"))
failures = read("failures.txt")
if failures:
    print("failures:\n\n```\n" + failures + "```")
