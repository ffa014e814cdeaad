#!/usr/bin/env bash
# Two lambda-batch binaries on the same no-op, back to back: after scripts/bench-build.sh lb
# (or any cold `run`) has built the benchmark monorepo (BENCH_DIR, default /tmp/lb-bench).
#
#   scripts/bench-noop-compare.sh BEFORE AFTER
#
# One hyperfine call per scenario, each binary once first and once second (A B, then B A), so
# that neither always runs on a warmer machine: `run -q` (everything fresh), `run -q --cache
# DIR` (the input keys computed, every executable known to be in the cache), and `plan`. Each
# command has a warm-up run, which also rewrites whatever records the other binary left in a
# layout of its own (group and packaging stamps, the metadata cache), so that the timed runs
# are no-ops for the binary being timed. Results: $BENCH_DIR/results/noop-compare-*.json and
# a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
[ $# -eq 2 ] || { echo "usage: $0 BEFORE AFTER" >&2; exit 2; }
before=$(realpath "$1")
after=$(realpath "$2")
bench=${BENCH_DIR:-/tmp/lb-bench}
res=$bench/results
manifest=$bench/build/lambda.kdl
cache=$bench/noop-compare-cache
runs=${NOOP_RUNS:-10}
mkdir -p "$res"

# The cache holds every executable before anything is timed.
"$before" run -q --cache "$cache" "$manifest" >/dev/null
"$after" run -q --cache "$cache" "$manifest" >/dev/null

scenario() {
    local name=$1 first=$2 second=$3
    shift 3
    bench_load "noop-compare $name"
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop-compare-$name.json" \
        -n "$(basename "$(dirname "$first")") $*" "$first $* $manifest" \
        -n "$(basename "$(dirname "$second")") $*" "$second $* $manifest"
    bench_load "noop-compare $name done"
}
for order in ab ba; do
    if [ $order = ab ]; then a=$before b=$after; else a=$after b=$before; fi
    scenario "run-$order" "$a" "$b" run -q
    scenario "cache-$order" "$a" "$b" run -q --cache "$cache"
    scenario "plan-$order" "$a" "$b" plan
done
python3 - "$res" <<'EOF'
import json, sys, glob, os
rows = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "noop-compare-*.json"))):
    for r in json.load(open(path))["results"]:
        rows.setdefault(r["command"], []).append((r["mean"], r["stddev"], r["user"] + r["system"]))
print("| command | mean ± sd (ms), each call | CPU (ms) |")
print("|---|---|---|")
for cmd, xs in rows.items():
    means = ", ".join(f"{m * 1000:.0f} ± {s * 1000:.0f}" for m, s, _ in xs)
    cpu = ", ".join(f"{c * 1000:.0f}" for _, _, c in xs)
    print(f"| `{cmd}` | {means} | {cpu} |")
EOF
