#!/usr/bin/env bash
# Planner scale benchmark (issue 4): `check` and `plan` of 500 artifacts in 50 workspaces.
# Not part of CI. Writes the generated monorepo under target/bench/planner and the results
# under target/bench/results/. Needs hyperfine and GNU time (/usr/bin/time, Debian `time`).
#
#   scripts/bench-planner.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
root=$PWD
out=$root/target/bench/results
mkdir -p "$out"

command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 3; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 3; }

# LB: a lambda-batch binary to measure instead of building this checkout's.
if [ -n "${LB:-}" ]; then
    lb=$LB
else
    cargo build --release --quiet
    lb=$root/target/release/lambda-batch
fi
python3 benches/gen_planner_monorepo.py target/bench/planner 50 10
cd target/bench/planner
# Files just written are too recent for the metadata cache to trust (see src/resolve/cache.rs):
# age them, as a checkout that is more than two seconds old is.
find . -exec touch -d '-1 minute' {} +

"$lb" check
# `plan` resolves each package's features alone with `cargo tree` (src/resolve/tree.rs), which
# needs the workspaces' lock files: let it write them once (this may fetch the registry index),
# then age them too.
"$lb" plan >/dev/null
find . -exec touch -d '-1 minute' {} +
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

# 1. The metadata cache warm (the usual case: nothing changed since the last command).
LAMBDA_BATCH_CACHE_DIR=$cache "$lb" check >/dev/null
LAMBDA_BATCH_CACHE_DIR=$cache "$lb" plan >/dev/null
LAMBDA_BATCH_CACHE_DIR=$cache hyperfine -N --warmup 2 --runs "$runs" \
    --export-markdown "$out/planner-warm.md" --export-json "$out/planner-warm.json" \
    -n "check (cache warm)" "$lb check" \
    -n "plan --format json (cache warm)" "$lb plan --format json"
# 2. The cache cold: every workspace misses (first command after a change of every Cargo.toml).
LAMBDA_BATCH_CACHE_DIR=$cache hyperfine -N --runs "$(( runs < 10 ? runs : 10 ))" \
    --prepare "rm -rf $cache/metadata" \
    --export-markdown "$out/planner-cold.md" --export-json "$out/planner-cold.json" \
    -n "check (cache cold)" "$lb check" \
    -n "plan --format json (cache cold)" "$lb plan --format json"
# 2b. Both caches cold: every workspace misses, and every package that may share a cargo call
# with another runs `cargo tree` (first command after a change of every lock file).
LAMBDA_BATCH_CACHE_DIR=$cache hyperfine -N --runs "$(( runs < 5 ? runs : 5 ))" \
    --prepare "rm -rf $cache/metadata $cache/tree" \
    --export-markdown "$out/planner-tree-cold.md" --export-json "$out/planner-tree-cold.json" \
    -n "plan --format json (metadata and tree caches cold)" "$lb plan --format json"
# 3. No cache at all: 50 `cargo metadata` children every time.
LAMBDA_BATCH_CACHE_DIR= hyperfine -N --warmup 1 --runs "$(( runs < 10 ? runs : 10 ))" \
    --export-markdown "$out/planner-nocache.md" --export-json "$out/planner-nocache.json" \
    -n "check (no cache)" "$lb check" \
    -n "plan --format json (no cache)" "$lb plan --format json"

# Peak RSS of lambda-batch itself (GNU time reports the largest of the process and its
# children, and the cargo children are gone when the cache is warm; the cold row includes
# cargo metadata's own RSS).
rss() {
    local label=$1; shift
    /usr/bin/time -f "%M %e %U %S" -o "$out/time.tmp" "$@" >/dev/null 2>&1 || true
    read -r kb wall user sys <"$out/time.tmp"
    printf '| %s | %s | %s | %s | %s |\n' "$label" "$((kb / 1024))" "$wall" "$user" "$sys"
}
{
    echo "| command | peak RSS (MB) | wall (s) | user (s) | sys (s) |"
    echo "|---|---|---|---|---|"
    export LAMBDA_BATCH_CACHE_DIR=$cache
    rss "check (cache warm)" "$lb" check
    rss "plan --format json (cache warm)" "$lb" plan --format json
    rm -rf "$cache/metadata"
    rss "check (cache cold, includes cargo children)" "$lb" check
    rm -rf "$cache/metadata"
    rss "plan --format json (cache cold, includes cargo children)" "$lb" plan --format json
    rm -rf "$cache/metadata" "$cache/tree"
    rss "plan --format json (both caches cold, includes cargo children)" "$lb" plan --format json
} | tee "$out/planner-rss.md"
rm -f "$out/time.tmp"
