#!/usr/bin/env python3
"""Where a cold build's time goes: the plan's cargo invocations, run in plan order into an
empty scratch target dir with `--timings`, and cargo's per-unit durations split into the
workspaces' own crates (their libs and bins, with the thin-LTO link of each bin) and
dependencies (registry crates, build scripts, proc macros).

usage: cold_profile.py PLAN_JSON SCRATCH_TARGET_DIR OUT_JSON

Cargo-lambda's best usage compiles the same workspace crates with the same flags, plus every
workspace's dependencies again for each workspace; lambda-batch with a shared target dir
compiles the dependencies once per target. So the split bounds the ratio any scheduler can
reach (see BENCHMARKS.md).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib

plan = json.load(open(sys.argv[1]))
scratch = sys.argv[2]
out = sys.argv[3]
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)

# The workspaces' own package names.
local = set()
for root in sorted({g["workspace_root"] for g in plan["groups"]}):
    for manifest in glob.glob(os.path.join(root, "**", "Cargo.toml"), recursive=True):
        if "/target/" in manifest:
            continue
        with open(manifest, "rb") as f:
            package = tomllib.load(f).get("package", {})
        if "name" in package:
            local.add(package["name"])

groups = []
for g in plan["groups"]:
    args = list(g["args"])
    i = args.index("--target-dir")
    args[i + 1] = scratch
    env = dict(os.environ, **g["env"])
    started = time.monotonic()
    cpu0 = os.times()
    subprocess.run(
        [g["program"], *args, "--timings"],
        cwd=g["workspace_root"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    cpu1 = os.times()
    groups.append(
        {
            "group": g["id"],
            "workspace": os.path.basename(g["workspace_root"]),
            "target": g["target"],
            "wall_s": round(time.monotonic() - started, 1),
            "cpu_s": round(
                (cpu1.children_user - cpu0.children_user)
                + (cpu1.children_system - cpu0.children_system),
                1,
            ),
        }
    )

# One report per invocation, in the order they ran.
reports = sorted(glob.glob(os.path.join(scratch, "cargo-timings", "cargo-timing-*.html")))
units = []
for k, path in enumerate(reports):
    text = open(path).read()
    m = re.search(r"const UNIT_DATA = (\[.*?\]);", text, re.S)
    if not m:
        continue
    for u in json.loads(m.group(1)):
        kind = "workspace crate" if u["name"] in local else "dependency"
        units.append(
            {
                "invocation": k,
                "name": u["name"],
                "target": u.get("target", ""),
                "mode": u.get("mode", ""),
                "kind": kind,
                "duration_s": u["duration"],
            }
        )
        if k < len(groups):
            key = "workspace_crates_s" if kind == "workspace crate" else "dependencies_s"
            groups[k][key] = round(groups[k].get(key, 0) + u["duration"], 1)

totals = {}
for u in units:
    totals[u["kind"]] = round(totals.get(u["kind"], 0) + u["duration_s"], 1)
summary = {
    "groups": groups,
    "unit_seconds_by_kind": totals,
    "wall_s": round(sum(g["wall_s"] for g in groups), 1),
    "cpu_s": round(sum(g["cpu_s"] for g in groups), 1),
    "slowest_units": sorted(units, key=lambda u: -u["duration_s"])[:15],
}
json.dump(summary, open(out, "w"), indent=2)
print(json.dumps({k: v for k, v in summary.items() if k != "slowest_units"}, indent=2))
