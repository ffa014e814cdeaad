#!/usr/bin/env bash
# What `sbom "cyclonedx"` and `auditable true` cost (issue 24) on the build benchmark
# (scripts/bench-build.sh's monorepo: 10 functions and 1 extension, release, x86_64 + arm64,
# cargo-zigbuild, zip, 22 outputs, 8 cargo calls), side by side in one session:
#
#   plain      the benchmark's manifest as it is
#   sbom       the same with `sbom "cyclonedx"` in `defaults`: a `<zip>.cdx.json` per output
#   auditable  the same with `auditable true` in `defaults`: every call through
#              `cargo auditable zigbuild`, a `.dep-v0` section in every executable
#
# Each variant has its own manifest (beside the benchmark's, so the same paths and rustflags),
# its own target dir and outputs, and its own lambda-batch cache dir (metadata, `cargo tree`
# views, tool versions), so that one variant never makes another's build stale.
#   cold   `--prepare` empties the variant's target dir, outputs and lambda-batch cache dir:
#          everything compiled, every closure resolved (COLD_RUNS, default 1: minutes each)
#   no-op  everything fresh, caches warm; one hyperfine call, the variants in turn
#          (NOOP_RUNS, default 10, after one warm-up each)
# Then the outputs are checked (22 SBOMs, 22 executables with `.dep-v0`, none in the plain
# ones) and their sizes summed. Load average and the machine's busy CPU are recorded around
# each scenario (scripts/bench-lib.sh). Not part of CI; run it under
# `flock` with other benchmarks so that two never share the machine.
#
# Environment: BENCH_DIR (default /tmp/lb-bench-supply-chain), LB_BIN (the lambda-batch
# measured; default: this checkout's `cargo build --release`), COLD_RUNS, NOOP_RUNS,
# SKIP_WARMUP=1 (zig's global caches are already filled), SKIP_COLD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench-supply-chain}
build=$bench/build
res=$bench/results
cold_runs=${COLD_RUNS:-1}
noop_runs=${NOOP_RUNS:-10}
variants=(plain sbom auditable)

for tool in hyperfine cargo-zigbuild cargo-auditable rust-audit-info; do
    command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh)" >&2; exit 3; }
done
mkdir -p "$res"
lb=$(bench_binary "$bench")
python3 benches/gen_build_monorepo.py "$build" "$repo/examples"

# The variant's manifest: the benchmark's, with its own target dir and lambda dir, and the
# setting measured.
for v in "${variants[@]}"; do
    case $v in
        plain) setting= ;;
        sbom) setting='    sbom "cyclonedx"' ;;
        auditable) setting='    auditable true' ;;
    esac
    sed -e "s#lambda-dir \"target/lambda/{arch}\"#lambda-dir \"target/$v-lambda/{arch}\"#" \
        -e "s#target-dir \"target/shared\"#target-dir \"target/$v\"#" \
        ${setting:+-e "/^defaults {/a\\
$setting"} "$build/lambda.kdl" >"$build/$v.kdl"
    grep -q "target/$v\"" "$build/$v.kdl" || { echo "$v.kdl: the target dir was not replaced" >&2; exit 1; }
done
# The command measured and the wipe before a cold run, per variant.
command_of() { echo "env LAMBDA_BATCH_CACHE_DIR=$bench/lb-cache/$1 $lb run -q $build/$1.kdl"; }
wipe_of() { echo "rm -rf $build/target/$1 $build/target/$1-lambda $bench/lb-cache/$1"; }

bench_machine "$lb" >"$res/machine.txt"
echo "cargo-auditable: $(cargo-auditable --version 2>/dev/null || echo "sha256 $(sha256sum "$(command -v cargo-auditable)" | cut -c1-16)")" >>"$res/machine.txt"
cat "$res/machine.txt"
if [ -z "${SKIP_WARMUP:-}" ]; then
    bench_zig_warmup "$bench/warmup" x86_64 arm64
fi

if [ -z "${SKIP_COLD:-}" ]; then
    for v in "${variants[@]}"; do
        bench_load "$v" cold
        hyperfine -N --runs "$cold_runs" --prepare "bash -c '$(wipe_of "$v")'" \
            --export-json "$res/cold-$v.json" -n "$v cold" "$(command_of "$v")"
    done
    bench_load cold done
fi

# No-op: every variant built once more (fresh from here on), then measured in turn.
for v in "${variants[@]}"; do $(command_of "$v"); done
bench_load no-op
hyperfine -N --warmup 1 --runs "$noop_runs" --export-json "$res/noop.json" \
    -n "plain no-op" "$(command_of plain)" \
    -n "sbom no-op" "$(command_of sbom)" \
    -n "auditable no-op" "$(command_of auditable)"
bench_load no-op done

# What each variant produced: SBOMs, `.dep-v0` sections (rust-audit-info exits 1 without one),
# total bytes.
python3 - "$build" "${variants[@]}" <<'PY' | tee "$res/outputs.txt"
import glob, os, subprocess, sys, tempfile, zipfile
build, variants = sys.argv[1], sys.argv[2:]
for v in variants:
    zips = sorted(glob.glob(f"{build}/target/{v}-lambda/**/*.zip", recursive=True))
    sboms = sorted(glob.glob(f"{build}/target/{v}-lambda/**/*.cdx.json", recursive=True))
    audited = 0
    for z in zips:
        with zipfile.ZipFile(z) as archive:
            exe = next(i for i in archive.infolist() if i.external_attr >> 16 & 0o111)
            with tempfile.NamedTemporaryFile() as f:
                f.write(archive.read(exe))
                f.flush()
                audited += subprocess.run(["rust-audit-info", f.name], capture_output=True).returncode == 0
    zip_bytes = sum(os.path.getsize(z) for z in zips)
    sbom_bytes = sum(os.path.getsize(s) for s in sboms)
    print(f"{v}: {len(zips)} zips ({zip_bytes} bytes), {audited} with an audit list, "
          f"{len(sboms)} SBOMs ({sbom_bytes} bytes)")
PY

# Wall and CPU (user + sys) per scenario and variant, against plain.
python3 - "$res" "${variants[@]}" <<'PY' | tee "$res/summary.md"
import json, os, sys
res, variants = sys.argv[1], sys.argv[2:]
def stats(results):
    # hyperfine's export: every run's wall time, the mean user and system time.
    wall = [t for x in results for t in x["times"]]
    cpu = sum((x["user"] + x["system"]) * len(x["times"]) for x in results) / len(wall)
    return sum(wall) / len(wall), cpu, len(wall)
rows = {}
for v in variants:
    path = f"{res}/cold-{v}.json"
    if os.path.exists(path):
        rows[("cold", v)] = stats(json.load(open(path))["results"])
for r in json.load(open(f"{res}/noop.json"))["results"]:
    rows[("no-op", r["command"].split()[0])] = stats([r])
print("| scenario | variant | runs | wall (s) | CPU user+sys (s) | wall vs plain | CPU vs plain |")
print("|---|---|---|---|---|---|---|")
for (scenario, v), (wall, cpu, n) in rows.items():
    base = rows[(scenario, "plain")]
    print(f"| {scenario} | {v} | {n} | {wall:.3f} | {cpu:.3f} | {wall / base[0]:.3f}x | {cpu / base[1]:.3f}x |")
PY
cat "$res/load.txt"
