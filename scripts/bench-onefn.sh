#!/usr/bin/env bash
# One-function workspaces benchmark (issue 15): lambda-batch against cargo-lambda, side by
# side, in one session, on the repository of benches/gen_onefn_monorepo.py (12 workspaces,
# one artifact each, release, x86_64 + arm64, cargo-zigbuild, zip). Not part of CI: one cold
# run of each takes about 15 minutes on 2 cores.
#
#   scripts/bench-onefn.sh [APPROACH...]     APPROACH: lb cl floor (default: lb cl)
#
#   lb     lambda-batch run -q of the generated lambda.kdl (`target-dir "target/shared"`: one
#          cargo target dir for every workspace)
#   cl     cargo-lambda: one `cargo lambda build --release` per workspace per arch
#          (`--extension` for extensions), every call with the same CARGO_TARGET_DIR
#          (target/cl-shared), as lambda-batch shares target/shared
#   floor  the plan's own cargo-zigbuild calls, no packaging
#
# Cold runs only, unless NOOP_RUNS is set: before each run hyperfine's --prepare empties the
# approach's target dirs and lambda dirs. With COLD_RUNS > 1 the approaches take turns (lb cl
# lb cl ...). After each run: results/<approach>-zips.sha256, the sha256 of every zip and of
# every entry (bootstrap, extension) in them, to compare two lambda-batch versions byte for
# byte; a later run that differs is kept as <approach>-zips.<run>.sha256 (zips-diff.txt: how).
# results/load.txt: the load average and the machine's busy CPU before and after each run
# (summary.md subtracts the run's own CPU: what other processes used meanwhile).
#
# Environment:
#   BENCH_DIR    the generated repository (build/), the commands (cmds/), results/
#                (default /tmp/lb-onefn)
#   LB_BIN       the lambda-batch measured (default: this checkout's, `cargo build --release`),
#                copied to $BENCH_DIR/lambda-batch first
#   COLD_RUNS    cold runs of each approach (1; 0 with PROFILE=1: only the profile runs)
#   NOOP_RUNS    no-op runs of each approach after the cold ones (0: none)
#   PROFILE=1    then one more cold run of each approach under benches/rustc-timeline.sh
#                (not timed by hyperfine): results/timeline-<a>.log and profile-<a>.txt/.json
#                (benches/onefn_profile.py: when 0, 1, 2+ crates compiled, what compiled alone)
#   SKIP_WARMUP=1  skip filling zig's cache
#   ONEFN_ONLY, ONEFN_PROFILE, ONEFN_ARCH: a smaller repository, for a quick check that every
#                step works (see benches/gen_onefn_monorepo.py)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-onefn}
build=$bench/build
cmds=$bench/cmds
res=$bench/results
cold_runs=${COLD_RUNS:-1}
noop_runs=${NOOP_RUNS:-0}
profile=${PROFILE:-0}
approaches=("$@")
[ ${#approaches[@]} -gt 0 ] || approaches=(lb cl)
for a in "${approaches[@]}"; do
    case $a in
        lb | cl | floor) ;;
        *) echo "unknown approach $a: lb, cl or floor" >&2; exit 2 ;;
    esac
done

for tool in hyperfine cargo-zigbuild cargo-lambda; do
    command -v "$tool" >/dev/null || { echo "needs $tool (see BENCHMARKS.md)" >&2; exit 3; }
done
[ "$profile" = 0 ] || [ -x /usr/bin/time ] || { echo "PROFILE=1 needs GNU time (/usr/bin/time)" >&2; exit 3; }
# A compiler wrapper of the environment (sccache) would make cold runs warm.
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
mkdir -p "$res"
rm -f "$res"/*.json "$res"/*.sha256 "$res"/load.txt "$res"/failures.txt "$res"/zips-diff.txt \
    "$res"/timeline-*.log "$res"/profile-*.txt "$res"/summary.md
# A copy, so that a rebuild of the binary during the session changes nothing.
if [ -z "${LB_BIN:-}" ]; then
    cargo build --release --quiet
    LB_BIN=$repo/target/release/lambda-batch
fi
lb=$bench/lambda-batch
cp "$LB_BIN" "$lb.tmp"
mv "$lb.tmp" "$lb"
python3 benches/gen_onefn_monorepo.py "$build"
"$lb" plan --format json "$build/lambda.kdl" >"$bench/plan.json"
python3 benches/bench_build_cmds.py --cl-target-dir "$build/target/cl-shared" "$bench/plan.json" "$cmds"
archs=$(python3 -c 'import json,sys; print(" ".join(sorted({a["arch"] for a in json.load(open(sys.argv[1]))["artifacts"]})))' "$bench/plan.json")

{
    bench_machine "$lb"
    echo "lambda-batch binary: a copy of $(realpath "$LB_BIN"), sha256 $(sha256sum "$lb" | cut -c1-16)"
    echo "benchmark: $(grep -c '^workspace' "$build/lambda.kdl") workspaces, profile ${ONEFN_PROFILE:-release}, arch $archs${ONEFN_ONLY:+, only $ONEFN_ONLY}"
    echo "approaches: ${approaches[*]}; cold runs: $cold_runs; no-op runs: $noop_runs; profile run: $profile"
} >"$res/machine.txt"
cat "$res/machine.txt"
if [ -z "${SKIP_WARMUP:-}" ]; then
    # shellcheck disable=SC2086 # one word per architecture
    bench_zig_warmup "$bench/warmup" $archs
fi

command_of() {
    case $1 in
        lb) echo "$lb run -q $build/lambda.kdl" ;;
        cl) echo "bash $cmds/cl-workspace.sh" ;;
        floor) echo "bash $cmds/floor.sh" ;;
    esac
}
wipe_of() {
    case $1 in
        lb | floor) echo "bash $cmds/wipe-lb.sh" ;;
        cl) echo "bash $cmds/wipe-cl.sh" ;;
    esac
}
# A failing run is recorded and skipped; the others still run.
failed() {
    echo "$(date -u +%T) $1 $2 FAILED" | tee -a "$res/failures.txt" >&2
    rm -f "$res/$1-$2.json"
}
# The hashes of the zips an approach just produced (the floor packages nothing): the first run
# writes <a>-zips.sha256; a later run's are compared with it, zips and entries apart
# (cargo-lambda's zips hold timestamps), and kept when they differ (zips-diff.txt says how).
zips() {
    local a=$1 run=$2 first=$res/$1-zips.sha256 out
    [ "$a" != floor ] || return 0
    out=$first
    [ ! -e "$first" ] || out=$res/$a-zips.$run.sha256
    bash "$cmds/zips-$a.sh" "$out" || { failed "$a" "$run-zips"; return 0; }
    [ "$out" != "$first" ] || return 0
    if cmp -s "$first" "$out"; then
        rm "$out"
    elif cmp -s <(grep '!' "$first") <(grep '!' "$out"); then
        echo "$a $run: the zips differ from the first run's, every entry in them is identical ($out)" >>"$res/zips-diff.txt"
    else
        echo "$a $run: entries differ from the first run's ($out)" | tee -a "$res/zips-diff.txt" >&2
    fi
}

for run in $(seq "$cold_runs"); do
    for a in "${approaches[@]}"; do
        bench_load "$a" "cold-$run" start
        if hyperfine -N --runs 1 --prepare "$(wipe_of "$a")" --export-json "$res/$a-cold-$run.json" \
            -n "$a cold $run" "$(command_of "$a")"; then
            bench_load "$a" "cold-$run" end
            zips "$a" "cold-$run"
        else
            bench_load "$a" "cold-$run" end
            failed "$a" "cold-$run"
        fi
    done
done

if [ "$noop_runs" -gt 0 ]; then
    for a in "${approaches[@]}"; do
        [ -e "$res/$a-cold-$cold_runs.json" ] || continue
        bench_load "$a" noop start
        hyperfine -N --warmup 1 --runs "$noop_runs" --export-json "$res/$a-noop.json" \
            -n "$a no-op" "$(command_of "$a")" || failed "$a" noop
        bench_load "$a" noop end
    done
fi

# Where the cores wait: one more cold run, each rustc logged (start, end, CPU).
if [ "$profile" != 0 ]; then
    for a in "${approaches[@]}"; do
        $(wipe_of "$a")
        timeline=$res/timeline-$a.log
        bench_load "$a" profile start
        start=$(date +%s.%N)
        # shellcheck disable=SC2046 # the command's words
        if RUSTC_WRAPPER=$repo/benches/rustc-timeline.sh RUSTC_TIMELINE=$timeline $(command_of "$a"); then
            wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
            bench_load "$a" profile end
            {
                echo "$a, cold, every rustc under benches/rustc-timeline.sh: wall $wall s"
                python3 benches/onefn_profile.py "$timeline" "$(nproc)" --json "$res/profile-$a.json"
            } >"$res/profile-$a.txt"
            zips "$a" profile
        else
            bench_load "$a" profile end
            failed "$a" profile
        fi
    done
fi

python3 benches/onefn_summary.py "$res" | tee "$res/summary.md"
