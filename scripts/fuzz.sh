#!/usr/bin/env bash
# Fuzzes lambda-batch with cargo fuzz (libFuzzer), each target for a bounded time, one after
# the other (the machine may be shared):
#
#   ./scripts/fuzz.sh [SECONDS] [TARGET...]      # default: 600 s each, targets manifest and edit
#
# Targets (fuzz/fuzz_targets/): `manifest` decodes, resolves against fixed workspaces (no
# cargo is started) and plans; `edit` parses, edits, validates and prints. The seeds are the
# manifests of tests/manifests/, the root lambda.kdl and the examples'. A finding is written
# to fuzz/artifacts/TARGET/ and the script fails: turn it into a manifest in
# tests/manifests/broken/ with its expected diagnostics, fix it, and run again.
#
# cargo fuzz needs nightly-only compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 lets
# them through. It is never part of the test suite (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(manifest edit)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

# The seeds, with the corpus's workspace paths made relative to the fuzz fixture's tree.
seed() {
    local into=$1 prefix=$2 tag=$3 n=0
    mkdir -p "$into"
    for f in tests/manifests/valid/*.kdl tests/manifests/broken/*.kdl lambda.kdl examples/*/lambda.kdl; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        { printf '%b' "$prefix"; sed 's#\.\./\.\./\.\./examples/#examples/#g' "$f"; } >"$into/seed-$tag-$n-$(basename "$f")"
    done
}

for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    case $target in
        manifest) seed "$corpus" "" plain ;;
        # The edit target's first byte chooses the edit and the level.
        edit) for op in 0 5 10 15 18 23 29 31; do seed "$corpus" "\\x$(printf '%02x' "$op")" "op$op"; done ;;
        *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
    esac
    echo "fuzz: $target for ${seconds}s from $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
    # No sanitizer: the code is safe Rust; what is looked for is panics, stack overflows,
    # time-outs (10 s for one input) and memory blow-ups (2 GB).
    (cd fuzz && cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1)
    echo "fuzz: $target done at $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
