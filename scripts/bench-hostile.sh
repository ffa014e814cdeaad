#!/usr/bin/env bash
# Hostile-input benchmark (issue 14): `check` and `plan` of a 5,000-node manifest, valid and
# with every node an error, and the inputs that once took superlinear time or crashed (see
# benches/gen_hostile.py). Not part of CI; the target is "under 1 s" for the 5,000-node rows.
# With BASE=/path/to/an/older/lambda-batch, each case also runs once on it (at most 60 s),
# side by side. Writes under target/bench/hostile and target/bench/results/. Needs hyperfine.
#
#   [BASE=...] [LB=...] scripts/bench-hostile.sh [RUNS]
#
# LB: a lambda-batch binary to measure instead of building this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
root=$PWD
out=$root/target/bench/results
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 3; }

if [ -n "${LB:-}" ]; then
    lb=$LB
else
    cargo build --release --quiet
    lb=$root/target/release/lambda-batch
fi
python3 benches/gen_hostile.py target/bench/hostile
cd target/bench/hostile
# Too recent for the metadata cache to trust (src/resolve/cache.rs): age them.
find . -exec touch -d '-1 minute' {} +
"$lb" check valid-5000.kdl

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cases=(
    "check valid-5000.kdl"
    "plan --format json valid-5000.kdl"
    "check errors-5000.kdl"
    "check --format json errors-5000.kdl"
    "plan errors-5000.kdl"
    "check comment-1mb.kdl"
    "check duplicates-2000.kdl"
    "check arch-40000.kdl"
    "check unknown-props-2000.kdl"
    "check nested-5000.kdl"
)
args=()
for c in "${cases[@]}"; do
    args+=(-n "$c" "$lb $c")
done
# -i: every error case exits 2 on purpose. Output goes to /dev/null, as hyperfine does.
hyperfine -N -i --warmup 1 --runs "$runs" --export-markdown "$out/hostile.md" \
    --export-json "$out/hostile.json" "${args[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${BASE:-}" ]; then
    echo "| case | $BASE: wall (s) | stderr (bytes) | exit |"
    echo "|---|---|---|---|"
    err=$(mktemp)
    for c in "${cases[@]}"; do
        start=$(date +%s%N)
        code=0
        # shellcheck disable=SC2086
        timeout 60 "$BASE" $c >/dev/null 2>"$err" || code=$?
        end=$(date +%s%N)
        # 124: stopped by the 60 s timeout.
        printf '| %s | %d.%02d | %s | %s |\n' "$c" $(((end - start) / 1000000000)) \
            $(((end - start) / 10000000 % 100)) "$(wc -c <"$err")" "$code"
    done | tee "$out/hostile-base.md"
    rm -f "$err"
    echo "load after base: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
