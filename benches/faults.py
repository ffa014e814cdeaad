#!/usr/bin/env python3
"""How long lambda-batch takes to stop, and to give up on a dead cache: the times the tests
check only for correctness (tests/it/run_faults.rs, run_interrupt.rs, cache_store.rs,
run_cache.rs), measured here instead.

    faults.py LAMBDA_BATCH DIR RUNS

- stop: `run` is building (a build script that sleeps 600 s has started); lambda-batch gets
  SIGINT to its process group (Ctrl-C in a terminal), or SIGTERM or SIGHUP to itself alone.
  Measured: from the signal to its exit, with its exit code.
- dead cache: `run --cache-only` of 100 functions against an S3 endpoint that refuses
  connections (a closed port) or accepts them and never answers (a blackhole), and against an
  empty directory cache (every lookup answered at once: the same run without waiting).
  Measured: the wall time of the run, with its exit code and the blackhole's connections.

Prints one JSON object per run on stdout.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

LB, DIR, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])

SLEEPY_BUILD_RS = """fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::write(format!("{dir}/build-script-started"), "").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(600));
}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def workspace(root, package, bins):
    write(
        f"{root}/Cargo.toml",
        f'[package]\nname = "{package}"\nversion = "0.1.0"\nedition = "2021"\n'
        "publish = false\n\n[workspace]\n",
    )
    for b in bins:
        write(f"{root}/src/bin/{b}.rs", 'fn main() {\n    println!("%s");\n}\n' % b)


def manifest(root, functions):
    body = "".join(f'    function "{f}"\n' for f in functions)
    write(
        f"{root}/lambda.kdl",
        'defaults {\n    profile "dev"\n    arch "x86_64"\n    compiler "cargo"\n'
        '    output-format "zip"\n    lambda-dir "out/{arch}"\n    target-dir "target"\n}\n\n'
        f'workspace "ws" {{\n{body}}}\n',
    )


def env():
    keep = ("PATH", "HOME", "USER", "LANG", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN",
            "PYENV_ROOT", "CARGO_PROFILE_DEV_DEBUG", "CARGO_INCREMENTAL")
    e = {k: os.environ[k] for k in keep if k in os.environ}
    e.update(NO_COLOR="1", CARGO_TERM_COLOR="never")
    return e


def stop(name, deliver):
    """One run stopped by `deliver(process)` once its build script runs."""
    root = f"{DIR}/stop"
    marker = f"{root}/ws/build-script-started"
    if os.path.exists(marker):
        os.remove(marker)
    p = subprocess.Popen(
        [LB, "--color", "never", "run"], cwd=root, env=env(), start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while not os.path.exists(marker):
        if p.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name}: the build script never started")
        time.sleep(0.01)
    sent = time.monotonic()
    deliver(p)
    code = p.wait()
    took = time.monotonic() - sent
    # Whatever is left of the group (nothing, if lambda-batch did its job).
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return {"scenario": name, "seconds": round(took, 3), "exit": code}


class Blackhole:
    """Accepts connections on 127.0.0.1 and never answers; counts them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.sock.accept()
            self.held.append(conn)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dead_cache(name, cache, port=None, hole=None):
    root = f"{DIR}/cache"
    e = env()
    if port is not None:
        e.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
            AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1",
        )
    before = len(hole.held) if hole else 0
    started = time.monotonic()
    p = subprocess.run(
        [LB, "--color", "never", "run", "--offline", "--cache-only", "--cache", cache],
        cwd=root, env=e, stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    took = time.monotonic() - started
    row = {"scenario": name, "seconds": round(took, 3), "exit": p.returncode}
    if hole:
        row["connections"] = len(hole.held) - before
    return row


def main():
    root = f"{DIR}/stop"
    workspace(f"{root}/ws", "bench-stop", ["bench-stop"])
    write(f"{root}/ws/build.rs", SLEEPY_BUILD_RS)
    manifest(root, ["bench-stop"])
    for _ in range(RUNS):
        for name, deliver in [
            ("SIGINT to the process group", lambda p: os.killpg(p.pid, signal.SIGINT)),
            ("SIGTERM to lambda-batch", lambda p: p.send_signal(signal.SIGTERM)),
            ("SIGHUP to lambda-batch", lambda p: p.send_signal(signal.SIGHUP)),
        ]:
            print(json.dumps(stop(name, deliver)), flush=True)

    root = f"{DIR}/cache"
    functions = [f"bench-dc-{i}" for i in range(100)]
    workspace(f"{root}/ws", "bench-dead-cache", functions)
    manifest(root, functions)
    subprocess.run(["cargo", "generate-lockfile", "--offline", "--quiet"], cwd=f"{root}/ws",
                   check=True)
    hole = Blackhole()
    s3 = "s3://lb-bench-dead/x"
    for i in range(RUNS):
        empty = f"{DIR}/empty-cache-{i}"
        print(json.dumps(dead_cache("empty directory cache (no wait)", empty)), flush=True)
        print(json.dumps(dead_cache("closed port", s3, port=closed_port())), flush=True)
        print(json.dumps(dead_cache("blackhole", s3, port=hole.port, hole=hole)), flush=True)


main()
