#!/usr/bin/env bash
# Precise keys (issue 23): on a package of ten functions as bins in src/bin/ (one library, a
# build script with rerun-if-changed, release profile with cargo-lambda's optimizations, plain
# cargo, x86_64, zip), one bin changed, from a fresh checkout (empty target dir):
#
#   cached  `lambda-batch run --cache DIR` with a cache warm from the commit before the change:
#           nine executables come from the cache, cargo builds the changed one
#   alone   `lambda-batch run --only fn-03` without a cache: cargo builds that bin alone
#
# Both sides compile the package's library and build script and link one bin; the first also
# downloads and packages nine more. hyperfine alternates them; --prepare makes a fresh copy of
# the checkout (and of the warm cache, since a run stores the changed bin) before every run.
# Not part of CI; a few minutes.
#
# Environment: BENCH_DIR (default /tmp/lb-bench-precise), RUNS (default 5), LB_BIN (the
# lambda-batch measured; default: this checkout's `cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-/tmp/lb-bench-precise}
runs=${RUNS:-5}
res=$bench/results
rm -rf "$bench"
mkdir -p "$bench/src" "$res"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
lb=$(bench_binary "$bench")

# The checkout: ten bins, each reading the library; fn-03 is the one that changes.
src=$bench/src
mkdir -p "$src/fns/src/bin"
cat >"$src/fns/Cargo.toml" <<'TOML'
[package]
name = "fns"
version = "0.1.0"
edition = "2021"
publish = false
TOML
printf 'fn main() {\n    println!("cargo:rerun-if-changed=build.rs");\n}\n' >"$src/fns/build.rs"
cat >"$src/fns/src/lib.rs" <<'RS'
pub fn handle(name: &str, n: u64) -> String {
    let mut v: Vec<u64> = (0..n).map(|i| i.wrapping_mul(2654435761) % 1000).collect();
    v.sort_unstable();
    format!("{name}: {}", v.iter().sum::<u64>())
}
RS
{
    echo 'defaults {'
    echo '    profile "release"'
    echo '    arch "x86_64"'
    echo '    compiler "cargo"'
    echo '    output-format "zip"'
    echo '    target-dir "target"'
    echo '}'
    echo 'workspace "fns" {'
    for i in 01 02 03 04 05 06 07 08 09 10; do
        echo "    function \"fn-$i\""
        printf 'fn main() {\n    println!("{}", fns::handle("fn-%s", 1%s));\n}\n' "$i" "$i" \
            >"$src/fns/src/bin/fn-$i.rs"
    done
    echo '}'
} >"$src/lambda.kdl"
(cd "$src/fns" && cargo generate-lockfile --offline --quiet)

# The warm cache: the commit before the change, built once (one cargo call, ten bins). Each of
# its ten entries must record the files its bin read, not its whole package; the report says
# how long the entries took to store once the call had ended.
(cd "$src" && "$lb" run -q --cache "$bench/warm-cache" --report "$res/warm-report.json")
python3 - "$bench/warm-cache" "$res/warm-report.json" <<'PY'
import glob, json, os, sys
records = [p for p in glob.glob(os.path.join(sys.argv[1], "v2/keys/*/*/*.json"))
           if not p.endswith("index.json")]
whole = [p for p in records if any(k.startswith("package ") for k in json.load(open(p))["reads"])]
print(f"warm cache: {len(records)} entries, {len(whole)} recording their whole package")
assert len(records) == 10 and not whole, whole
report = json.load(open(sys.argv[2]))
[call] = report["cargo_calls"]
print(f"fill run: {report['seconds']:.2f} s, its cargo call ended at {call['end']:.2f} s: "
      f"{report['seconds'] - call['end']:.2f} s of storing (and reporting) after it")
PY
rm -rf "$src/target" "$src/fns/target"
sed -i 's/"fn-03", 103/"fn-03 v2", 103/' "$src/fns/src/bin/fn-03.rs"
grep -q 'fn-03 v2' "$src/fns/src/bin/fn-03.rs"

prepare="rm -rf $bench/co $bench/cache && cp -r $src $bench/co && cp -r $bench/warm-cache $bench/cache"
bench_machine "$lb" >"$res/machine.txt" 2>/dev/null || true
bench_load before
hyperfine --runs "$runs" --prepare "$prepare" --export-json "$res/hyperfine.json" \
    -n cached "cd $bench/co && $lb run -q --cache $bench/cache" \
    -n alone "cd $bench/co && $lb run -q --only fn-03"
bench_load after
cat "$res/load.txt"
# One more cached run, checked: one bin built, nine hits.
rm -rf "$bench/co" "$bench/cache" && cp -r "$src" "$bench/co" && cp -r "$bench/warm-cache" "$bench/cache"
(cd "$bench/co" && "$lb" run -q --cache "$bench/cache" --report "$bench/co/report.json")
python3 - "$bench/co/report.json" "$res/hyperfine.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
statuses = sorted((a["name"], a.get("cache")) for a in report["artifacts"])
stored = [n for n, c in statuses if c == "stored"]
hits = [n for n, c in statuses if c == "hit"]
print(f"cached run: stored {stored}, {len(hits)} hits")
assert stored == ["fn-03"] and len(hits) == 9, statuses
r = {x["command"]: x for x in json.load(open(sys.argv[2]))["results"]}
c, a = r["cached"], r["alone"]
print("| side | median s | min–max s | user+sys s |")
print("|---|---|---|---|")
for name, x in (("cached", c), ("alone", a)):
    print(f"| {name} | {x['median']:.2f} | {x['min']:.2f}–{x['max']:.2f} | {x['user'] + x['system']:.2f} |")
print(f"cached / alone (median): {c['median'] / a['median']:.2f}")
PY
