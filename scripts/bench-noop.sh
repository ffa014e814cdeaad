#!/usr/bin/env bash
# Where a no-op `lambda-batch run` spends its time (issue 4): run after scripts/bench-build.sh
# has built the benchmark monorepo (BENCH_DIR, default /tmp/lb-bench). Times, everything fresh:
#   lambda-batch run, with and without the skipping of unchanged groups; cargo-lambda's best
#   usage; the plan's 8 cargo-zigbuild calls as planned (through the PATH, here a
#   pyenv shim); the same calls with cargo-zigbuild's resolved path and its Python's bin dir
#   first on PATH (so its `python3 -m ziglang` calls skip the pyenv shims too); and
#   `lambda-batch plan` alone. LB: a lambda-batch binary to measure instead of this checkout's
#   release build (to compare two versions back to back on the same build).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-/tmp/lb-bench}
cmds=$bench/cmds
res=$bench/results
lb=${LB:-$PWD/target/release/lambda-batch}
runs=${NOOP_RUNS:-5}

zigbuild=$(command -v pyenv >/dev/null && pyenv which cargo-zigbuild || command -v cargo-zigbuild)
bindir=$(dirname "$zigbuild")
sed "s#^    env \(.*\) cargo-zigbuild zigbuild #    env PATH=$bindir:\$PATH \1 $zigbuild zigbuild #" \
    "$cmds/floor.sh" >"$cmds/floor-direct.sh"

"$lb" run -q "$bench/build/lambda.kdl" # make sure everything is fresh
bash "$cmds/cl-workspace.sh" >/dev/null 2>&1 # and cargo-lambda's side too
hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop-breakdown.json" \
    -n "lambda-batch run" "$lb run -q $bench/build/lambda.kdl" \
    -n "lambda-batch run, LAMBDA_BATCH_ALWAYS_BUILD=1 (cargo started for every group)" \
    "env LAMBDA_BATCH_ALWAYS_BUILD=1 $lb run -q $bench/build/lambda.kdl" \
    -n "cargo-lambda's best usage" "bash $cmds/cl-workspace.sh" \
    -n "floor: plan's calls via PATH (pyenv shims)" "bash $cmds/floor.sh" \
    -n "floor: resolved cargo-zigbuild, no shims" "bash $cmds/floor-direct.sh" \
    -n "lambda-batch plan (resolve + plan only)" "$lb plan $bench/build/lambda.kdl"
# lambda-batch's own peak RSS in a no-op (GNU time: the largest of it and its children; a
# no-op starts no child but `rustc -vV`).
/usr/bin/time -f "%M KB peak RSS, %e s" "$lb" run -q "$bench/build/lambda.kdl" 2>&1 | tail -1 |
    tee "$res/noop-rss.txt"
