#!/usr/bin/env bash
# Publish benchmark (issue 21): `lambda-batch publish` of the build benchmark monorepo
# (benches/gen_build_monorepo.py: 10 functions + 1 extension, release, x86_64 + arm64,
# cargo-zigbuild: 22 zips) to an S3-protocol server on 127.0.0.1 (moto_server), in one session.
# Not part of CI: the monorepo's one build (not measured) takes minutes.
#
#   cold   the bucket's prefix emptied before each run: everything is fresh, every zip is
#          uploaded (COLD_RUNS runs)
#   warm   every zip is there: nothing to upload, one HEAD per zip; measured side by side with
#          a no-op `lambda-batch run` of the same manifest, in one hyperfine invocation
#          (WARM_RUNS runs each). Target: warm <= 1.2x the no-op run.
#
# The load average and the machine's busy CPU are recorded before and after each measurement
# (results/load.txt). Environment: BENCH_DIR (default /tmp/lb-bench-publish), COLD_RUNS (5),
# WARM_RUNS (20).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench-publish}
build=$bench/build
res=$bench/results
cold_runs=${COLD_RUNS:-5}
warm_runs=${WARM_RUNS:-20}

for tool in hyperfine cargo-zigbuild moto_server; do
    command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh, BENCHMARKS.md)" >&2; exit 3; }
done
mkdir -p "$res"
cargo build --release --quiet
lb=$repo/target/release/lambda-batch
python3 benches/gen_build_monorepo.py "$build" "$repo/examples" >/dev/null
bench_machine "$lb" >"$res/machine.txt"
cat "$res/machine.txt"

# Every zip in place (the build itself is not measured).
"$lb" run -q "$build/lambda.kdl" >/dev/null
echo "zips: $(find "$build/target/lambda" -name '*.zip' | wc -l), $(du -sh "$build/target/lambda" | cut -f1)"

# The server, on a free port, gone when the script ends.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$bench/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN LAMBDA_BATCH_CACHE
for _ in $(seq 600); do
    curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/data.json" 2>/dev/null && break
    sleep 0.1
done
bucket=lb-bench
to=s3://$bucket/lambda
cat >"$bench/s3.py" <<'EOF'
# s3.py create|empty BUCKET: creates the bucket, or deletes every object in it.
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
action, bucket = sys.argv[1:3]
if action == "create":
    s3.create_bucket(Bucket=bucket)
else:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=o["Key"])
EOF
python3 "$bench/s3.py" create "$bucket"

publish="$lb publish -q --to $to $build/lambda.kdl"
bench_load "cold start"
hyperfine -N --runs "$cold_runs" --prepare "python3 $bench/s3.py empty $bucket" \
    --export-json "$res/publish-cold.json" -n "publish, cold (every zip uploaded)" "$publish"
bench_load "cold end"

$publish >/dev/null # everything is there now
bench_load "warm start"
hyperfine -N --warmup 2 --runs "$warm_runs" --export-json "$res/publish-warm.json" \
    -n "run, no-op" "$lb run -q $build/lambda.kdl" \
    -n "publish, warm (nothing to upload)" "$publish"
bench_load "warm end"
# What the warm publish did: nothing uploaded.
$publish | tail -1 | tee "$res/publish-warm-summary.txt"

python3 - "$res" <<'EOF'
import json, os, sys
res = sys.argv[1]
rows = []
for name in ["publish-cold", "publish-warm"]:
    for r in json.load(open(os.path.join(res, f"{name}.json")))["results"]:
        rows.append((r["command"], len(r["times"]), r["mean"], r["stddev"] or 0.0, r["min"], r["user"] + r["system"]))
print("| command | runs | mean s | ± s | min s | CPU s |")
print("|---|---|---|---|---|---|")
for command, runs, mean, sd, low, cpu in rows:
    print(f"| {command} | {runs} | {mean:.3f} | {sd:.3f} | {low:.3f} | {cpu:.3f} |")
means = {c: m for c, _, m, *_ in rows}
warm, noop = means["publish, warm (nothing to upload)"], means["run, no-op"]
print(f"- warm publish / no-op run: {warm / noop:.2f}x (target <= 1.2x)")
EOF
cat "$res/load.txt"
