# Shared by the benchmarks (scripts/bench-build.sh, scripts/bench-onefn.sh, scripts/bench-precise.sh,
# scripts/bench-affected.sh, scripts/bench-supply-chain.sh): sourced.

# The machine and the tools, on stdout: the header of a benchmark's results (machine.txt).
# $1: the lambda-batch binary measured.
bench_machine() {
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (+ uncommitted changes under src/)')"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    free -g | sed 's/^/free -g: /'
    echo "rustc: $(rustc --version)"
    echo "cargo: $(cargo --version)"
    echo "cargo-zigbuild: $(cargo-zigbuild --version)"
    echo "zig: $(python3 -m ziglang version)"
    echo "cargo-lambda: $(cargo lambda --version)"
    echo "hyperfine: $(hyperfine --version)"
    echo "lambda-batch: $("$1" --version)"
}

# Appends to $res/load.txt the time, the labels given, the load average and the machine's
# total busy CPU (jiffies of /proc/stat's cpu line): taken before and after a run, the CPU
# other processes used during it is the busy CPU minus what hyperfine reports for the command.
bench_load() {
    local busy
    busy=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
    echo "$(date -u +%T) $* load: $(cut -d' ' -f1-3 /proc/loadavg) busy_jiffies: $busy" >>"$res/load.txt"
}

# Zig builds its libc stubs once per target and glibc into a global cache: fill it for every
# target both tools use, so that no cold run pays for it. $1: a scratch directory; then the
# architectures (x86_64, arm64).
bench_zig_warmup() {
    local warm=$1 arch
    shift
    mkdir -p "$warm/src"
    printf '[package]\nname = "warmup"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n' >"$warm/Cargo.toml"
    echo 'fn main() {}' >"$warm/src/main.rs"
    (
        cd "$warm"
        for arch in "$@"; do
            cargo zigbuild --release --quiet --target "${arch/arm64/aarch64}-unknown-linux-gnu.2.34"
        done
        for arch in "$@"; do
            cargo lambda build --release --quiet "--${arch/_/-}"
        done
    )
}

# The lambda-batch measured, copied to $1/lambda-batch (its path on stdout): $LB_BIN, else this
# checkout's release build (built here). Run from the repository's root.
bench_binary() {
    if [ -z "${LB_BIN:-}" ]; then
        cargo build --release --quiet >&2
        LB_BIN=$PWD/target/release/lambda-batch
    fi
    cp "$LB_BIN" "$1/lambda-batch"
    echo "$1/lambda-batch"
}
