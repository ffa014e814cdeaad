#!/usr/bin/env bash
# What `sbom "cyclonedx"`, `auditable true` and `--provenance` cost (issue 24), on the example
# monorepo (both workspaces: three functions, two extensions; dev, x86_64, plain cargo, zips),
# side by side with the same build without them, one variant after the other in each round:
# - no-op: everything fresh, lambda-batch's own caches warm;
# - cold: lambda-batch's caches (metadata, cargo tree, tool versions) empty and the workspace
#   crates touched, so that cargo recompiles and relinks every function and extension. The
#   dependencies are not recompiled on either side: cargo-auditable wraps only the workspace's
#   own crates, and an SBOM compiles nothing, so what these add to a cold build is in here.
# LB: the lambda-batch binary measured (default: this checkout's release build). BENCH_DIR:
# the scratch directory (default /tmp/lb-bench-supply-chain). Results in $BENCH_DIR/results.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench-supply-chain}
res=$bench/results
lb=${LB:-$PWD/target/release/lambda-batch}
runs=${RUNS:-5}
cold_runs=${COLD_RUNS:-3}
[ -n "${LB:-}" ] || cargo build --release --quiet
mkdir -p "$bench/repo" "$res"
rm -rf "$bench/repo/examples"
git archive HEAD examples | tar -x -C "$bench/repo"
bench_machine "$lb" >"$res/machine.txt"
: >"$res/load.txt"

# One manifest per variant, in the same directory: the same paths, so the same rustflags, so
# one target dir serves them all.
manifest() {
    cat <<KDL
defaults {
    profile "dev"
    arch "x86_64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/$1"
    target-dir "target"
$2
}
workspace "examples/services" {
    function "get-product"
    function "put-product" package="catalog-api"
    function "order-events"
}
workspace "examples/extensions" {
    extension "telemetry"
    extension "secrets-cache" internal=true
}
KDL
}
manifest plain "" >"$bench/repo/plain.kdl"
manifest sbom '    sbom "cyclonedx"' >"$bench/repo/sbom.kdl"
manifest auditable '    auditable true' >"$bench/repo/auditable.kdl"
manifest all '    sbom "cyclonedx"
    auditable true' >"$bench/repo/all.kdl"

caches=$bench/caches
export LAMBDA_BATCH_CACHE_DIR=$caches
cd "$bench/repo"
for v in plain sbom auditable all; do "$lb" run -q "$v.kdl" >/dev/null; done

bench_load no-op start
hyperfine -N --warmup 1 --runs "$runs" --export-json "$res/noop.json" \
    -n "plain" "$lb run -q plain.kdl" \
    -n "sbom cyclonedx" "$lb run -q sbom.kdl" \
    -n "auditable true" "$lb run -q auditable.kdl" \
    -n "sbom + auditable + --provenance" "$lb run -q all.kdl --provenance $bench/provenance.json"
bench_load no-op end

touch_crates="rm -rf $caches; find examples -path '*/src/*.rs' -exec touch {} +"
bench_load cold start
hyperfine --runs "$cold_runs" --export-json "$res/cold.json" \
    --prepare "$touch_crates" \
    -n "plain" "$lb run -q plain.kdl" \
    -n "sbom cyclonedx" "$lb run -q sbom.kdl" \
    -n "auditable true" "$lb run -q auditable.kdl" \
    -n "sbom + auditable + --provenance" "$lb run -q all.kdl --provenance $bench/provenance.json"
bench_load cold end
cat "$res/load.txt"
