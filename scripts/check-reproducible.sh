#!/usr/bin/env bash
# Reproducibility of release builds across machines (issue 10): the example monorepo's
# `services` workspace in two checkouts at different paths, built with two different
# CARGO_HOMEs (the second an offline copy of the first's registry), release profile with
# lambda-batch's optimizations, x86_64 and arm64, plain cargo and cargo-zigbuild. Every zip
# must be byte-identical between the checkouts, and no executable may name either checkout
# or either cargo home. The dev profile is checked by `tests/it/run_reproducible.rs`.
#
#   [LB=path/to/lambda-batch] scripts/check-reproducible.sh [WORKDIR]
#                                               (default WORKDIR: target/reproducible-release)
#
# Needs gcc-aarch64-linux-gnu (plain cargo's arm64 linker), cargo-zigbuild and the arm64 Rust
# target. Not part of CI: about 8 release builds of the lambda_runtime stack (~15 min on 2 cores).
# Exit 0 when everything is identical, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-$root/target/reproducible-release}
command -v aarch64-linux-gnu-gcc >/dev/null ||
    { echo "needs aarch64-linux-gnu-gcc to link arm64 with plain cargo (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 3; }
mkdir -p "$work"
work=$(cd "$work" && pwd)

# LB: a lambda-batch binary to use instead of building this checkout's.
if [ -n "${LB:-}" ]; then
    lb=$LB
else
    cargo build --release --quiet
    lb=$root/target/release/lambda-batch
fi
home_one=${CARGO_HOME:-$HOME/.cargo}
home_two=$work/cargo-home
one=$work/one
two=$work/second/checkout/at/another/depth

manifest='defaults {
    profile "release"
    arch "x86_64" "arm64"
    compiler "cargo"
    output-format "zip"
    lambda-dir "out/{arch}"
    target-dir "target"
}

workspace "services" {
    // Plain cargo links arm64 with the cross gcc; cargo-zigbuild with zig.
    function "get-product" {
        env CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="aarch64-linux-gnu-gcc"
    }
    function "order-events" {
        env CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="aarch64-linux-gnu-gcc"
    }
    // Another target dir: cargo fingerprints the linker, so cargo and cargo-zigbuild
    // builds of one target in one target dir would recompile all the dependencies.
    function "get-product-zig" bin="get-product" {
        compiler "cargo-zigbuild"
        lambda-dir "out-zig/{arch}"
        target-dir "target-zig"
    }
    function "order-events-zig" bin="order-events" {
        compiler "cargo-zigbuild"
        lambda-dir "out-zig/{arch}"
        target-dir "target-zig"
    }
}
'

for dir in "$one" "$two"; do
    mkdir -p "$dir"
    rm -rf "$dir/services"
    cp -r "$root/examples/services" "$dir/services"
    printf '%s' "$manifest" >"$dir/lambda.kdl"
done
mkdir -p "$home_two/registry"
for d in index cache; do
    [ -e "$home_two/registry/$d" ] || ln -s "$home_one/registry/$d" "$home_two/registry/$d"
done

echo "== checkout one: $one (CARGO_HOME=$home_one)"
(cd "$one" && CARGO_HOME=$home_one "$lb" run --locked --report "$work/one.json")
echo "== checkout two: $two (CARGO_HOME=$home_two, offline)"
(cd "$two" && CARGO_HOME=$home_two "$lb" run --locked --offline --report "$work/two.json")

status=0
for zip in $(cd "$one" && find out out-zig -name '*.zip' | sort); do
    a=$(sha256sum <"$one/$zip" | cut -d' ' -f1)
    b=$(sha256sum <"$two/$zip" | cut -d' ' -f1)
    if [ "$a" = "$b" ]; then
        echo "same      $zip $a"
    else
        echo "DIFFERENT $zip $a $b"
        status=1
    fi
    for dir in "$one" "$two"; do
        exe=$(mktemp)
        unzip -p "$dir/$zip" bootstrap >"$exe"
        for path in "$one" "$two" "$home_one" "$home_two"; do
            if grep -qF "$path" "$exe"; then
                echo "  $dir/$zip names $path"
                status=1
            fi
        done
        rm -f "$exe"
    done
done
if [ $status = 0 ]; then
    echo "all zips identical"
fi
exit $status
