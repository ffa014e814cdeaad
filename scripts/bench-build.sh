#!/usr/bin/env bash
# Build benchmark (issue 4): lambda-batch against cargo-lambda, side by side, in one run.
# Not part of CI: cold release builds take minutes each on a 2-core machine.
#
#   scripts/bench-build.sh [APPROACH...]     APPROACH: lb clw floor clf (default: all four)
#
#   lb     lambda-batch run (its own peak RSS sampled by benches/peak-rss.sh)
#   clw    cargo-lambda's best usage: one `cargo lambda build --release` per workspace per arch
#   floor  the raw floor: the plan's own cargo-zigbuild commands, no packaging
#   clf    the per-function way: one `cargo lambda build --release --bin X` per function per arch
#   lbown  lambda-batch run without `target-dir`: each workspace its own target dir (one lane
#          per workspace, run side by side) instead of one shared target dir (one lane)
#
# For each: cold (target dirs emptied before the run), no-op (everything fresh) and touch (one
# shared source file touched: services/orders/common/src/lib.rs, used by 3 functions).
# Environment: BENCH_DIR (default /tmp/lb-bench; the generated monorepo and the results),
# COLD_RUNS (1), NOOP_RUNS (5), TOUCH_RUNS (2), SKIP_WARMUP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench}
build=$bench/build
cmds=$bench/cmds
res=$bench/results
cold_runs=${COLD_RUNS:-1}
noop_runs=${NOOP_RUNS:-5}
touch_runs=${TOUCH_RUNS:-2}
approaches=("$@")
[ ${#approaches[@]} -gt 0 ] || approaches=(lb clw floor clf)

for tool in hyperfine cargo-zigbuild cargo-lambda; do
    command -v "$tool" >/dev/null || { echo "needs $tool (see BENCHMARKS.md)" >&2; exit 3; }
done
mkdir -p "$res"
cargo build --release --quiet
lb=$repo/target/release/lambda-batch
python3 benches/gen_build_monorepo.py "$build" "$repo/examples"
"$lb" plan --format json "$build/lambda.kdl" >"$bench/plan.json"
python3 benches/bench_build_cmds.py "$bench/plan.json" "$cmds"

bench_machine "$lb" >"$res/machine.txt"
cat "$res/machine.txt"
if [ -z "${SKIP_WARMUP:-}" ]; then
    bench_zig_warmup "$bench/warmup" x86_64 arm64
fi

touched=$build/services/orders/common/src/lib.rs
command_of() {
    case $1 in
        lb) echo "$repo/benches/peak-rss.sh $res/rss-lb-$2.txt $lb run -q $build/lambda.kdl" ;;
        lbown) echo "$lb run -q $build/lambda-own-target-dirs.kdl" ;;
        clw) echo "bash $cmds/cl-workspace.sh" ;;
        floor) echo "bash $cmds/floor.sh" ;;
        clf) echo "bash $cmds/cl-per-function.sh" ;;
    esac
}
wipe_of() {
    case $1 in
        lb | floor) echo "bash $cmds/wipe-lb.sh" ;;
        clw | clf) echo "bash $cmds/wipe-cl.sh" ;;
        lbown) echo "bash -c 'bash $cmds/wipe-cl.sh && bash $cmds/wipe-lb.sh'" ;;
    esac
}
# Load average and busy CPU before and after each scenario (scripts/bench-lib.sh).
load() { bench_load "$1" "$2"; }

# A failing approach is recorded and skipped; the others still run.
failed() {
    echo "$(date -u +%T) $1 $2 FAILED" | tee -a "$res/failures.txt" >&2
    rm -f "$res/$1-$2.json"
}
for a in "${approaches[@]}"; do
    [ "$a" != lb ] || rm -f "$res/rss-lb-"*.txt
    load "$a" cold
    hyperfine -N --runs "$cold_runs" --prepare "$(wipe_of "$a")" \
        --export-json "$res/$a-cold.json" -n "$a cold" "$(command_of "$a" cold)" ||
        { failed "$a" cold; continue; }
    load "$a" noop
    hyperfine -N --warmup 1 --runs "$noop_runs" \
        --export-json "$res/$a-noop.json" -n "$a no-op" "$(command_of "$a" noop)" ||
        failed "$a" noop
    load "$a" touch
    hyperfine -N --runs "$touch_runs" --prepare "touch $touched" \
        --export-json "$res/$a-touch.json" -n "$a touch" "$(command_of "$a" touch)" ||
        failed "$a" touch
    load "$a" done
done
python3 benches/bench_summary.py "$res" | tee "$res/summary.md"
