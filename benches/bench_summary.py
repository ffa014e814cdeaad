#!/usr/bin/env python3
"""Tables of the build benchmark from hyperfine's JSON exports (scripts/bench-build.sh).

usage: bench_summary.py RESULTS_DIR
"""
import json
import os
import sys

res = sys.argv[1]
cores = os.cpu_count() or 1
NAMES = {
    "lb": "lambda-batch run",
    "clw": "cargo-lambda, per workspace x arch",
    "clf": "cargo-lambda, per function x arch",
    "floor": "raw floor (plan's cargo-zigbuild calls, no packaging)",
    "lbown": "lambda-batch run, each workspace its own target dir",
}
SCENARIOS = ["cold", "noop", "touch"]


def load(a, s):
    try:
        with open(os.path.join(res, f"{a}-{s}.json")) as f:
            return json.load(f)["results"][0]
    except (FileNotFoundError, KeyError, IndexError, ValueError):
        return None


def rss(s):
    try:
        with open(os.path.join(res, f"rss-lb-{s}.txt")) as f:
            values = [int(x) for x in f.read().split()]
        return max(values) / 1024 if values else None
    except FileNotFoundError:
        return None


for s in SCENARIOS:
    print(f"\n### {s}\n")
    print("| approach | runs | wall (s) | CPU user+sys (s) | CPU / wall / %d cores | vs cargo-lambda per workspace | vs raw floor |" % cores)
    print("|---|---|---|---|---|---|---|")
    base = {k: load(k, s) for k in NAMES}
    for a, name in NAMES.items():
        r = base[a]
        if r is None:
            print(f"| {name} | — | not measured | | | | |")
            continue
        wall = r["mean"]
        cpu = r["user"] + r["system"]
        sd = f" ± {r['stddev']:.2f}" if r.get("stddev") and len(r["times"]) > 1 else ""
        ratio = lambda b: f"{wall / b['mean']:.2f}×" if b else "—"
        print(f"| {name} | {len(r['times'])} | {wall:.2f}{sd} | {cpu:.1f} | "
              f"{100 * cpu / wall / cores:.0f}% | {ratio(base['clw'])} | {ratio(base['floor'])} |")
    m = rss(s)
    if m is not None:
        print(f"\nlambda-batch's own peak RSS ({s}): {m:.1f} MB")
