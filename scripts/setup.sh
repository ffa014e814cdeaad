#!/usr/bin/env bash
# Installs what the tests need on a bare Debian machine (as root, no stdin), idempotently:
# qemu-aarch64 + an arm64 glibc to run arm64 bootstraps, cargo-zigbuild (with zig) to
# cross-link them, the aarch64 Rust std, moto's S3 server for the cache's and publish's tests,
# cfn-lint for the SAM templates `emit` writes, cyclonedx-python-lib to validate SBOMs,
# cargo-auditable and rust-audit-info for auditable executables, cargo-lambda (to compare
# with), and Chromium to draw `run --timeline` pages headless. Quiet unless something fails.
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

# Installs PyPI packages into the `python3` on PATH (installing python3 and pip first on a bare
# Debian), then makes their commands reachable: pyenv's shims are rebuilt, and a command pip put
# in a scripts folder that is not on PATH is linked into /usr/local/bin.
pip_install() {
    local commands=$1
    shift
    if ! python3 -m pip --version >/dev/null 2>&1; then
        # A bare Debian has no pip (or no python3 at all).
        export DEBIAN_FRONTEND=noninteractive
        quietly apt-get update
        quietly apt-get install -y --no-install-recommends python3 python3-pip
        hash -r
    fi
    if ! quietly python3 -m pip install --quiet --disable-pip-version-check "$@"; then
        # A Debian system python refuses pip installs (PEP 668) unless told otherwise.
        quietly python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
    fi
    if command -v pyenv >/dev/null; then
        quietly pyenv rehash
    fi
    hash -r
    local scripts command
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
    for command in $commands; do
        if ! command -v "$command" >/dev/null; then
            ln -sf "$scripts/$command" "/usr/local/bin/$command"
        fi
    done
    hash -r
}

# cargo-zigbuild runs zig as `python3 -m ziglang`: both go into that python.
if ! command -v cargo-zigbuild >/dev/null || ! python3 -m ziglang version >/dev/null 2>&1; then
    pip_install cargo-zigbuild cargo-zigbuild
fi

# moto's S3 server (with boto3, which the tests use to set it up), for the cache's S3 tests.
if ! command -v moto_server >/dev/null || ! python3 -c 'import moto.server, boto3' >/dev/null 2>&1; then
    pip_install moto_server 'moto[server]'
fi

# cfn-lint validates the SAM templates `lambda-batch emit sam` writes, offline.
if ! command -v cfn-lint >/dev/null || ! cfn-lint --version >/dev/null 2>&1; then
    pip_install cfn-lint cfn-lint
fi

# cyclonedx-python-lib validates the SBOMs `sbom "cyclonedx"` writes against CycloneDX's JSON
# schema, offline.
if ! python3 -c 'from cyclonedx.validation.json import JsonStrictValidator; import jsonschema' >/dev/null 2>&1; then
    pip_install "" 'cyclonedx-python-lib[json-validation]'
fi

# cargo-lambda itself, the tool lambda-batch translates configuration from: the migration
# tests build the same fixtures with `cargo lambda build` and compare the outputs.
if ! cargo-lambda lambda --version 2>/dev/null | grep -q '^cargo-lambda 1\.9\.2'; then
    pip_install cargo-lambda 'cargo-lambda==1.9.2'
fi

# cargo-auditable builds `auditable true` artifacts; rust-audit-info reads their embedded
# dependency list back in the tests. Pinned, so that a CI machine gets what was tested.
if ! grep -q '^"cargo-auditable 0\.7\.7 ' "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" 2>/dev/null || ! command -v cargo-auditable >/dev/null; then
    quietly cargo install --locked cargo-auditable --version 0.7.7
fi
if ! grep -q '^"rust-audit-info 0\.5\.4 ' "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" 2>/dev/null || ! command -v rust-audit-info >/dev/null; then
    quietly cargo install --locked rust-audit-info --version 0.5.4
fi

# Debian's chromium draws a `--timeline` page into a screenshot, headless, for its tests.
if ! command -v chromium >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get update
    quietly apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi

if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    quietly rustup target add aarch64-unknown-linux-gnu
fi

# Fail here, loudly, rather than in the middle of the tests.
for tool in qemu-aarch64 cargo-zigbuild moto_server cfn-lint cargo-lambda chromium cargo-auditable rust-audit-info; do
    command -v "$tool" >/dev/null || { echo "setup: $tool is not on PATH after install" >&2; exit 1; }
done
quietly cargo-zigbuild --version
quietly python3 -m ziglang version
