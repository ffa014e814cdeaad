#!/usr/bin/env bash
# How long lambda-batch takes to stop after a signal, and what a dead cache backend costs a
# run (benches/faults.py): the times the tests check only for correctness. A few minutes; not
# part of CI.
#
#   scripts/bench-faults.sh        RUNS (default 5) runs of each scenario
#
# Results in $BENCH_DIR (default /tmp/lb-bench-faults): runs.jsonl (one JSON object per run),
# load.txt (load average before and after), and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-/tmp/lb-bench-faults}
runs=${RUNS:-5}
res=$bench
mkdir -p "$bench"
rm -f "$bench/runs.jsonl" "$bench/load.txt"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
cargo build --release --quiet
lb=$PWD/target/release/lambda-batch
echo "commit: $(git rev-parse --short HEAD), nproc: $(nproc)"
bench_load before
python3 benches/faults.py "$lb" "$bench" "$runs" | tee "$bench/runs.jsonl" >/dev/null
bench_load after
cat "$bench/load.txt"
python3 - "$bench/runs.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| scenario | runs | median s | min–max s | exit codes | blackhole connections |")
print("|---|---|---|---|---|---|")
for name in dict.fromkeys(r["scenario"] for r in rows):
    rs = [r for r in rows if r["scenario"] == name]
    s = [r["seconds"] for r in rs]
    codes = sorted({r["exit"] for r in rs})
    conns = sorted({r["connections"] for r in rs if "connections" in r})
    print(f"| {name} | {len(rs)} | {statistics.median(s):.2f} | {min(s):.2f}–{max(s):.2f} "
          f"| {', '.join(map(str, codes))} | {', '.join(map(str, conns)) or '-'} |")
PY
