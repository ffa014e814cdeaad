#!/usr/bin/env bash
# The timeline of the benchmark monorepo's cold run (issue 25), and what `--timeline` costs a
# no-op run.
#
#   scripts/bench-timeline.sh
#
# 1. The benchmark monorepo of BENCHMARKS.md section 2 (benches/gen_build_monorepo.py), built
#    cold once by a release lambda-batch with `--timeline`: the page and the report go to
#    $BENCH_DIR/results/cold.{html,json}, and headless Chromium draws the page's picture into
#    $BENCH_DIR/results/cold.png (PNG_OUT=FILE copies it there too).
# 2. The no-op (everything fresh) with and without `--timeline FILE`, one hyperfine call per
#    order (without first, then with first), NOOP_RUNS runs each after a warm-up.
# The load average and the machine's busy CPU are recorded around each step (load.txt).
# Environment: BENCH_DIR (default /tmp/lb-bench-timeline), NOOP_RUNS (30), SKIP_COLD=1 (reuse
# the last cold build), NICE (0: the niceness of the cold build).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench-timeline}
build=$bench/build
res=$bench/results
runs=${NOOP_RUNS:-30}
for tool in hyperfine cargo-zigbuild chromium; do
    command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh, BENCHMARKS.md)" >&2; exit 3; }
done
mkdir -p "$res"
cargo build --release --quiet
lb=$repo/target/release/lambda-batch
python3 benches/gen_build_monorepo.py "$build" "$repo/examples"
manifest=$build/lambda.kdl
{
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (+ uncommitted changes under src/)')"
    echo "nproc: $(nproc)"
    echo "lambda-batch: $("$lb" --version)"
    echo "chromium: $(chromium --version 2>/dev/null)"
} >"$res/machine.txt"

if [ -z "${SKIP_COLD:-}" ]; then
    rm -rf "$build/target"
    bench_load timeline cold
    start=$(date +%s.%N)
    status=0
    nice -n "${NICE:-0}" "$lb" run -q --timeline "$res/cold.html" --report "$res/cold.json" \
        "$manifest" >"$res/cold.log" 2>&1 || status=$?
    end=$(date +%s.%N)
    bench_load timeline cold done
    echo "cold: exit $status, $(echo "$end - $start" | bc) s wall" | tee -a "$res/load.txt"
    [ "$status" -eq 0 ] || { cat "$res/cold.log" >&2; exit 1; }
fi

# The picture: the page's header, lanes and CPU chart (the tables under them are left out).
svg_height=$(grep -o '<svg [^>]*height="[0-9]*"' "$res/cold.html" | head -1 | grep -o 'height="[0-9]*"' | tr -dc 0-9)
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --force-device-scale-factor=1 --user-data-dir="$profile" \
    --window-size="1290,$((svg_height + 250))" --screenshot="$res/cold.png" \
    "file://$res/cold.html" >/dev/null 2>&1
rm -rf "$profile"
[ -z "${PNG_OUT:-}" ] || cp "$res/cold.png" "$PNG_OUT"

# The no-op, with and without the page, both orders.
page=$bench/noop.html
without="$lb run -q $manifest"
with="$lb run -q --timeline $page $manifest"
for order in plain-first timeline-first; do
    bench_load noop "$order"
    if [ $order = plain-first ]; then
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop-$order.json" \
            -n plain "$without" -n timeline "$with"
    else
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop-$order.json" \
            -n timeline "$with" -n plain "$without"
    fi
    bench_load noop "$order" done
done

python3 - "$res" <<'EOF' | tee "$res/summary.md"
import glob, json, os, sys
res = sys.argv[1]
cold = json.load(open(os.path.join(res, "cold.json")))
calls = cold.get("cargo_calls", [])
print(f"cold: {cold['seconds']:.1f} s wall, {len(cold['artifacts'])} outputs, {len(calls)} cargo calls, "
      f"cargo CPU {sum(c.get('cpu_seconds') or 0 for c in calls):.1f} s")
print()
print("| order | plain, ms | with --timeline, ms | ratio, wall | CPU plain / timeline, ms | ratio, CPU |")
print("|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(res, "noop-*.json"))):
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    p, t = r["plain"], r["timeline"]
    cpu = lambda x: (x["user"] + x["system"]) * 1000
    order = os.path.basename(path)[5:-5]
    print(f"| {order} | {p['mean']*1000:.0f} ± {p['stddev']*1000:.0f} | {t['mean']*1000:.0f} ± {t['stddev']*1000:.0f} "
          f"| {t['mean']/p['mean']:.3f}× | {cpu(p):.0f} / {cpu(t):.0f} | {cpu(t)/cpu(p):.3f}× |")
EOF
cat "$res/load.txt"
