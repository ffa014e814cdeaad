#!/usr/bin/env bash
# Where a no-op `lambda-batch run` spends its time (issue 4): run after scripts/bench-build.sh
# has built the benchmark monorepo (BENCH_DIR, default /tmp/lb-bench). Times, everything fresh:
#   lambda-batch run; the plan's 8 cargo-zigbuild calls as planned (through the PATH, here a
#   pyenv shim); the same with cargo-zigbuild's resolved path; and with CARGO_ZIGBUILD_ZIG_PATH
#   naming zig's binary too (no `python -m ziglang` per call).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-/tmp/lb-bench}
cmds=$bench/cmds
res=$bench/results
lb=$PWD/target/release/lambda-batch
runs=${NOOP_RUNS:-5}

zigbuild=$(command -v pyenv >/dev/null && pyenv which cargo-zigbuild || command -v cargo-zigbuild)
zig=$(python3 -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
sed "s# cargo-zigbuild zigbuild # $zigbuild zigbuild #" "$cmds/floor.sh" >"$cmds/floor-direct.sh"
sed "s#^    env #    env CARGO_ZIGBUILD_ZIG_PATH=$zig #" "$cmds/floor-direct.sh" >"$cmds/floor-direct-zig.sh"

"$lb" run -q "$bench/build/lambda.kdl" # make sure everything is fresh
hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop-breakdown.json" \
    -n "lambda-batch run" "$lb run -q $bench/build/lambda.kdl" \
    -n "floor: plan's calls via PATH" "bash $cmds/floor.sh" \
    -n "floor: resolved cargo-zigbuild" "bash $cmds/floor-direct.sh" \
    -n "floor: resolved cargo-zigbuild + CARGO_ZIGBUILD_ZIG_PATH" "bash $cmds/floor-direct-zig.sh" \
    -n "lambda-batch plan (resolve + plan only)" "$lb plan $bench/build/lambda.kdl"
