#!/usr/bin/env bash
# Learned costs (issue 23): a monorepo of five cargo workspaces split over 2 shards, balanced
# by today's constant model (1 s + 15 s per bin of a release call, 60 s of dependencies per
# workspace) against the costs a previous run stored in the cache.
#
# The monorepo: two workspaces of one function each whose code is slow to compile (`heavy-1`,
# `heavy-2`: 300 generated functions, release profile), three of two trivial functions each
# (`light-1`..`light-3`). The constant model weighs a call by its number of bins, so it sees
# the light workspaces as the big ones; what the calls really cost is the other way round.
#
#   full      `run`, the whole plan, from empty target dirs: the CPU every split shares out
#   constant  `plan --shards 2` without a cache, then `run --shard K/2` for each shard
#   learned   one `run --cache DIR` stores every call's cost; `plan --shards 2 --cache C`
#             with a cache C holding only those costs (so every output misses and every call
#             is split, by what it cost), then `run --shard K/M:IDS` for each entry
#
# Each build starts from a fresh copy of the checkout (empty target dirs, no cache hits). CPU is
# user+sys of lambda-batch and everything it waited for (cargo, rustc, the linker). Reported:
# the larger shard's CPU as a share of the full build's, for both splits.
# Not part of CI; some minutes. Run under `flock /work/coord/bench.lock` on shared machines.
#
# Environment: BENCH_DIR (default /tmp/lb-bench-affected), LB_BIN (the lambda-batch measured;
# default: this checkout's `cargo build --release`), HEAVY (functions per heavy bin, 300).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-/tmp/lb-bench-affected}
heavy=${HEAVY:-300}
res=$bench/results
rm -rf "$bench"
mkdir -p "$bench/src" "$res"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
lb=$(bench_binary "$bench")
src=$bench/src

workspace() { # $1: workspace dir; then its bins
    local ws=$1
    shift
    mkdir -p "$src/$ws/src/bin"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[workspace]\n' \
        "$ws" >"$src/$ws/Cargo.toml"
    for b in "$@"; do
        printf 'fn main() {\n    println!("%s");\n}\n' "$b" >"$src/$ws/src/bin/$b.rs"
    done
}
{
    echo 'defaults {'
    echo '    profile "release"'
    echo '    arch "x86_64"'
    echo '    compiler "cargo"'
    echo '    output-format "zip"'
    echo '}'
    for h in 1 2; do
        workspace "heavy-$h" "heavy-$h"
        python3 - "$src/heavy-$h/src/bin/heavy-$h.rs" "$heavy" "$h" <<'PY'
import sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(n):
    out.append(f"""#[inline(never)]
fn f{i}(x: u64) -> u64 {{
    let mut v: Vec<u64> = (0..x).map(|k| k.wrapping_mul({(i * 2654435761 + seed) % 1000003}) ^ (k >> 3)).collect();
    v.sort_unstable();
    let s: std::collections::BTreeMap<u64, u64> = v.iter().map(|k| (k % {i + 7}, *k)).collect();
    s.values().fold({i}, |a, b| a.wrapping_add(*b).rotate_left(5))
}}""")
out.append("fn main() {\n    let n = std::hint::black_box(10);\n    let mut t = 0u64;")
out += [f"    t = t.wrapping_add(f{i}(n));" for i in range(n)]
out.append('    println!("{t}");\n}\n')
open(path, "w").write("\n".join(out))
PY
        printf 'workspace "heavy-%s" {\n    function "heavy-%s"\n}\n' "$h" "$h"
    done
    for l in 1 2 3; do
        workspace "light-$l" "light-$l-a" "light-$l-b"
        printf 'workspace "light-%s" {\n' "$l"
        for b in a b; do printf '    function "light-%s-%s"\n' "$l" "$b"; done
        echo '}'
    done
} >"$src/lambda.kdl"
for ws in heavy-1 heavy-2 light-1 light-2 light-3; do
    (cd "$src/$ws" && cargo generate-lockfile --offline --quiet)
done

# CPU seconds (user+sys) of `lambda-batch ARGS` and its descendants, in a fresh copy of the
# checkout, on stdout; $1: a label for results/cpu.txt (label, CPU s, wall s).
cpu() {
    local label=$1
    shift
    rm -rf "$bench/co" && cp -r "$src" "$bench/co"
    python3 - "$res/cpu.txt" "$label" "$bench/co" "$lb" "$@" <<'PY'
import resource, subprocess, sys, time
out, label, cwd, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.time()
subprocess.run(cmd + ["-q"], cwd=cwd, check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = r.ru_utime + r.ru_stime
with open(out, "a") as f:
    f.write(f"{label} {cpu:.1f} {time.time() - t0:.1f}\n")
print(f"{cpu:.1f}")
PY
}

bench_machine "$lb" >"$res/machine.txt" 2>/dev/null || true
bench_load before
full=$(cpu full run)

# Today's constant model.
(cd "$src" && "$lb" plan --shards 2 --format json) >"$res/constant.json"
constant=()
for k in 1 2; do
    c=$(cpu "constant-$k/2" run --shard "$k/2")
    constant+=("$c")
done

# Learned costs: one run that stores into a cache, then a cache of only its costs.
rm -rf "$bench/co" && cp -r "$src" "$bench/co"
(cd "$bench/co" && "$lb" run -q --cache "$bench/stored")
mkdir -p "$bench/costs-only/v2"
cp -r "$bench/stored/v2/costs" "$bench/costs-only/v2/costs"
(cd "$src" && "$lb" plan --shards 2 --format json --cache "$bench/costs-only") >"$res/learned.json"
learned=()
while read -r spec; do
    c=$(cpu "learned-$spec" run --shard "$spec")
    learned+=("$c")
done < <(python3 -c 'import json,sys; [print(s["shard"]) for s in json.load(open(sys.argv[1]))["include"]]' "$res/learned.json")
bench_load after
cat "$res/load.txt" "$res/cpu.txt"

python3 - "$full" "$res/constant.json" "$res/learned.json" "${constant[*]}" "${learned[*]}" <<'PY'
import json, sys
full = float(sys.argv[1])
for name, matrix, cpus in (("constant model", sys.argv[2], sys.argv[4]), ("learned costs", sys.argv[3], sys.argv[5])):
    cpus = [float(c) for c in cpus.split()]
    shards = json.load(open(matrix))["include"]
    print(f"{name}:")
    for s, c in zip(shards, cpus):
        print(f"  {s['shard'].split(':')[0]} estimated {s['estimated_seconds']:.0f}s, {c:.1f} CPU-s: {', '.join(a.split(' ')[0] for a in s['artifacts'])}")
    print(f"  larger shard {max(cpus):.1f} CPU-s of the full build's {full:.1f}: {max(cpus) / full:.2f}x")
PY
