#!/usr/bin/env bash
# Installs what the tests need on a bare Debian machine (as root, no stdin), idempotently:
# qemu-aarch64 + an arm64 glibc to run arm64 bootstraps, cargo-zigbuild (with zig) to
# cross-link them, and the aarch64 Rust std. Quiet unless something fails.
set -euo pipefail

# Runs a command with its output kept aside; shows the output only if it fails.
quietly() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        echo "setup: failed: $*" >&2
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

if ! command -v qemu-aarch64 >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get update
    quietly apt-get install -y --no-install-recommends qemu-user libc6-arm64-cross
fi

if ! command -v cargo-zigbuild >/dev/null || ! python3 -m ziglang version >/dev/null 2>&1; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        # A bare Debian has no pip (or no python3 at all).
        export DEBIAN_FRONTEND=noninteractive
        quietly apt-get update
        quietly apt-get install -y --no-install-recommends python3 python3-pip
        hash -r
    fi
    # cargo-zigbuild runs zig as `python3 -m ziglang`: install both into that python.
    if ! quietly python3 -m pip install --quiet --disable-pip-version-check cargo-zigbuild; then
        # A Debian system python refuses pip installs (PEP 668) unless told otherwise.
        quietly python3 -m pip install --quiet --disable-pip-version-check --break-system-packages cargo-zigbuild
    fi
    if command -v pyenv >/dev/null; then
        quietly pyenv rehash
    fi
    hash -r
    if ! command -v cargo-zigbuild >/dev/null; then
        # pip put it in a scripts folder that is not on PATH: link it into one that is.
        scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
        ln -sf "$scripts/cargo-zigbuild" /usr/local/bin/cargo-zigbuild
        hash -r
    fi
fi

if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    quietly rustup target add aarch64-unknown-linux-gnu
fi

# Fail here, loudly, rather than in the middle of the tests.
for tool in qemu-aarch64 cargo-zigbuild; do
    command -v "$tool" >/dev/null || { echo "setup: $tool is not on PATH after install" >&2; exit 1; }
done
quietly cargo-zigbuild --version
quietly python3 -m ziglang version
