#!/usr/bin/env bash
# The project's test command: install what the tests need, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export CARGO_TERM_COLOR=never CARGO_TERM_PROGRESS_WHEN=never
# The suite builds real functions in several target dirs, and a CI runner's disk can be small:
# debug info and incremental caches would take half of it. These two variables reach the
# fixtures' builds too, identically on every side of every comparison (both checkouts,
# lambda-batch and cargo-lambda, plain cargo).
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0
# The test binaries drop the standard library's debug info as well (a third of the target dir);
# a failing assertion still names its file and line. `--config` does not reach the fixtures.
df -h . | awk 'NR == 2 { print "disk: " $4 " free of " $2 }'
cargo test --locked --config 'profile.dev.strip="debuginfo"'
