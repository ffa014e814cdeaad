#!/usr/bin/env python3
"""Writes the build benchmark's command scripts from `lambda-batch plan --format json`.

usage: bench_build_cmds.py [--cl-target-dir DIR] PLAN_JSON OUT_DIR

  floor.sh            the raw floor: exactly the cargo invocations of the plan (argv and env),
                      lanes in parallel and the groups of a lane in turn, as lambda-batch
                      schedules them, with no packaging (cargo's JSON stream to /dev/null)
  cl-workspace.sh     cargo-lambda's best usage: one `cargo lambda build --release` per
                      workspace per architecture; workspaces of extensions with `--extension`
  cl-per-function.sh  the per-function way (SAM, CDK): one `cargo lambda build --release
                      --bin X` per artifact per architecture
  wipe-lb.sh          empties what lambda-batch and the floor build into (their target dirs
                      and lambda dirs)
  wipe-cl.sh          empties what cargo-lambda builds into (each workspace's target/)
  zips-lb.sh OUT      the sha256 of lambda-batch's zips and of their entries (zip_sha.py)
  zips-cl.sh OUT      the same for cargo-lambda's per-workspace zips

The cargo-lambda commands take the plan's profile (`--release` for release). With
--cl-target-dir, they all build into that one CARGO_TARGET_DIR (as lambda-batch does with
`target-dir`), which wipe-cl.sh empties too; without it, each workspace into its own target/.
"""
import argparse
import collections
import json
import os
import shlex

parser = argparse.ArgumentParser()
parser.add_argument("--cl-target-dir")
parser.add_argument("plan_json")
parser.add_argument("out_dir")
opts = parser.parse_args()
plan = json.load(open(opts.plan_json))
out = opts.out_dir
os.makedirs(out, exist_ok=True)
CL_ARCH = {"x86_64": "--x86-64", "arm64": "--arm64"}
ZIP_SHA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zip_sha.py")
build_root = os.path.dirname(plan["manifest"])
cl_env = []
if opts.cl_target_dir:
    cl_env = [f"export CARGO_TARGET_DIR={shlex.quote(os.path.abspath(opts.cl_target_dir))}"]


def script(name, lines):
    path = os.path.join(out, name)
    with open(path, "w") as f:
        f.write("#!/usr/bin/env bash\nset -euo pipefail\n" + "\n".join(lines) + "\n")
    os.chmod(path, 0o755)


def profile_flag(profile):
    return {"release": " --release", "dev": ""}.get(profile, f" --profile {shlex.quote(profile)}")


# The floor: the plan's own commands.
lanes = collections.OrderedDict()
for g in plan["groups"]:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(g["env"].items()))
    cmd = f"env {env} {shlex.quote(g['program'])} " + " ".join(shlex.quote(a) for a in g["args"])
    lanes.setdefault(g["lane"], []).append(f"    {cmd} >/dev/null")
floor = []
for lane, cmds in lanes.items():
    floor.append("(")
    floor.extend(cmds)
    floor.append(") &")
    floor.append(f"pids+=($!)")
floor = ["pids=()"] + floor + ['for p in "${pids[@]}"; do wait "$p"; done']
script("floor.sh", floor)

# Artifacts by workspace root, kind, arch.
arts = plan["artifacts"]
roots = collections.OrderedDict()
for a in arts:
    roots.setdefault(a["workspace_root"], []).append(a)

ws, per = [], []
cl_dirs = set()
for root, items in roots.items():
    cl_dirs.add(os.path.join(root, "target"))
    kinds = sorted({a["kind"] for a in items})
    archs = sorted({a["arch"] for a in items})
    (profile,) = {a["profile"] for a in items}
    q = shlex.quote(root)
    for arch in archs:
        lambda_dir = f"target/lambda/{arch}"
        common = f"cargo lambda build{profile_flag(profile)} {CL_ARCH[arch]} --output-format zip --lambda-dir {lambda_dir} --quiet"
        for kind in kinds:
            of_kind = [a for a in items if a["kind"] == kind and a["arch"] == arch]
            ext = " --extension" if kind == "extension" else ""
            if len(kinds) == 1:
                ws.append(f"(cd {q} && {common}{ext})")
            else:
                bins = " ".join(f"--bin {shlex.quote(a['bin'])}" for a in of_kind)
                ws.append(f"(cd {q} && {common}{ext} {bins})")
            for a in of_kind:
                per.append(f"(cd {q} && {common}{ext} --bin {shlex.quote(a['bin'])})")
script("cl-workspace.sh", cl_env + ws)
script("cl-per-function.sh", cl_env + per)

lb_dirs = sorted({a["target_dir"] for a in arts} | {a["lambda_dir"] for a in arts})
script("wipe-lb.sh", [f"rm -rf {shlex.quote(d)}" for d in lb_dirs])
if opts.cl_target_dir:
    cl_dirs.add(os.path.abspath(opts.cl_target_dir))
script("wipe-cl.sh", [f"rm -rf {shlex.quote(d)}" for d in sorted(cl_dirs)])


def zips(name, dirs):
    args = " ".join(shlex.quote(d) for d in [ZIP_SHA, build_root])
    dirs = " ".join(shlex.quote(d) for d in sorted(dirs))
    script(name, [f'python3 {args} "$1" {len(arts)} {dirs}'])


zips("zips-lb.sh", {a["lambda_dir"] for a in arts})
zips("zips-cl.sh", {os.path.join(r, "target", "lambda") for r in roots})
print(f"{out}: {len(plan['groups'])} cargo calls in {len(lanes)} lanes; "
      f"cargo-lambda: {len(ws)} calls per workspace, {len(per)} per function")
