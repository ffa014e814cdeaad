#!/usr/bin/env bash
# The main job: install what the build needs, build lambda-batch, and build every artifact of
# the root lambda.kdl (the example monorepo) into target/lambda/.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --locked --quiet
exec ./target/release/lambda-batch run lambda.kdl "$@"
