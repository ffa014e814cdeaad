#!/usr/bin/env bash
# The project's test command: install what the tests need, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export CARGO_TERM_COLOR=never CARGO_TERM_PROGRESS_WHEN=never
cargo test --locked
