#!/usr/bin/env bash
# Deploy benchmark (issue 22): `lambda-batch deploy` of the build benchmark monorepo
# (benches/gen_build_monorepo.py: 10 functions + 1 extension, release, x86_64 + arm64,
# cargo-zigbuild: 20 functions and 2 layers on Lambda) to moto's Lambda on 127.0.0.1, in one
# session. Not part of CI: the monorepo's one build (not measured) takes minutes.
#
#   first   every function exists with placeholder code and no layers, and no layer version:
#           every function is updated (the zip in the request), both layers published, and the
#           catalog's functions, which name the extension, get its layer (FIRST_RUNS runs, each
#           after a reset)
#   second  everything matches: one GetFunction per function, two reads per layer, nothing
#           changed (SECOND_RUNS runs), side by side with a no-op `lambda-batch run`
#
# The API calls of each are counted from the server's request log (mutating: any method but
# GET). The load average and the machine's busy CPU are recorded before and after each
# measurement (results/load.txt). Environment: BENCH_DIR (default /tmp/lb-bench-deploy; a
# directory of bench-publish.sh holds the same build), FIRST_RUNS (5), SECOND_RUNS (20).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/bench-lib.sh
bench=${BENCH_DIR:-/tmp/lb-bench-deploy}
build=$bench/build
res=$bench/results-deploy
first_runs=${FIRST_RUNS:-5}
second_runs=${SECOND_RUNS:-20}

for tool in hyperfine cargo-zigbuild moto_server; do
    command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh, BENCHMARKS.md)" >&2; exit 3; }
done
mkdir -p "$res"
: >"$res/load.txt"
cargo build --release --quiet
lb=$repo/target/release/lambda-batch
python3 benches/gen_build_monorepo.py "$build" "$repo/examples" >/dev/null
bench_machine "$lb" >"$res/machine.txt"
cat "$res/machine.txt"

# The catalog's functions (discovered) name the extension: they get its layer. The manifest
# sits beside the original (the same directory: the same build).
manifest=$build/lambda-deploy.kdl
sed 's|^workspace "services/catalog" discover=true$|workspace "services/catalog" discover=true {\n    layers "telemetry"\n}|' \
    "$build/lambda.kdl" >"$manifest"
grep -q 'layers "telemetry"' "$manifest" || { echo "no catalog workspace in $build/lambda.kdl" >&2; exit 1; }
"$lb" check -q "$manifest" >/dev/null 2>&1 || "$lb" check "$manifest"

# Every zip in place (the build itself is not measured).
"$lb" run -q "$manifest" >/dev/null
echo "zips: $(find "$build/target/lambda" -name '*.zip' | wc -l)"

# The server, on a free port, gone when the script ends.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$bench/moto-deploy.log
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN LAMBDA_BATCH_CACHE
for _ in $(seq 600); do
    curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/data.json" 2>/dev/null && break
    sleep 0.1
done
"$lb" list --format json "$manifest" >"$res/list.json"
cat >"$bench/lambda.py" <<'PY'
# lambda.py LIST.json: every function of the list exists with placeholder code and its
# architecture, and no layer has a version (the state before a first deploy).
import io, json, os, sys, zipfile, boto3
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
lam, iam = boto3.client("lambda", **kw), boto3.client("iam", **kw)
try:
    role = iam.get_role(RoleName="bench")["Role"]["Arn"]
except iam.exceptions.NoSuchEntityException:
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("bootstrap", "placeholder")
rows = json.load(open(sys.argv[1]))
names = {r["name"] for r in rows}
for r in rows:
    arch = r["arch"]
    name = f'{r["name"]}-{arch}'  # the default name of an artifact built for both
    if r["kind"] == "function":
        try:
            lam.update_function_code(FunctionName=name, ZipFile=buf.getvalue())
        except lam.exceptions.ResourceNotFoundException:
            lam.create_function(FunctionName=name, Role=role, Runtime="provided.al2023",
                                Handler="bootstrap", Architectures=[arch], Code={"ZipFile": buf.getvalue()})
        lam.update_function_configuration(FunctionName=name, Layers=[])
    else:
        for v in lam.list_layer_versions(LayerName=name).get("LayerVersions", []):
            lam.delete_layer_version(LayerName=name, VersionNumber=v["Version"])
PY
reset="python3 $bench/lambda.py $res/list.json"
$reset

deploy="$lb deploy -q $manifest"
# The calls one deploy makes, from the server's request log: total and mutating.
calls() {
    local before after
    before=$(grep -c '" [0-9][0-9][0-9] -$' "$log" || true)
    "$@" >"$res/last.txt"
    after=$(grep -c '" [0-9][0-9][0-9] -$' "$log" || true)
    tail -n +"$((before + 1))" <(grep '" [0-9][0-9][0-9] -$' "$log") | head -n "$((after - before))" >"$res/calls.txt"
    echo "$(wc -l <"$res/calls.txt") calls, $(grep -vc '"GET ' "$res/calls.txt" || true) mutating"
}
$reset
echo "first deploy: $(calls $deploy)" | tee "$res/calls-first.txt"
tail -1 "$res/last.txt" | tee -a "$res/calls-first.txt"
echo "second deploy: $(calls $deploy)" | tee "$res/calls-second.txt"
tail -1 "$res/last.txt" | tee -a "$res/calls-second.txt"

bench_load "first start"
hyperfine -N --runs "$first_runs" --prepare "$reset" --export-json "$res/deploy-first.json" \
    -n "deploy, first (every function updated)" "$deploy"
bench_load "first end"
$deploy >/dev/null
bench_load "second start"
hyperfine -N --warmup 2 --runs "$second_runs" --export-json "$res/deploy-second.json" \
    -n "run, no-op" "$lb run -q $manifest" \
    -n "deploy, second (nothing changed)" "$deploy"
bench_load "second end"

python3 - "$res" <<'PY'
import json, os, sys
res = sys.argv[1]
print("| command | runs | mean s | ± s | min s | CPU s |")
print("|---|---|---|---|---|---|")
for name in ["deploy-first", "deploy-second"]:
    for r in json.load(open(os.path.join(res, f"{name}.json")))["results"]:
        print(f'| {r["command"]} | {len(r["times"])} | {r["mean"]:.3f} | {r["stddev"] or 0:.3f} | {r["min"]:.3f} | {r["user"] + r["system"]:.3f} |')
PY
cat "$res/calls-first.txt" "$res/calls-second.txt" "$res/load.txt"
