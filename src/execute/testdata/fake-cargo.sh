#!/bin/sh
# Stands in for cargo in the executor's unit tests (execute/tests.rs): it compiles nothing.
# For each `--bin NAME` it copies $FAKE_EXE to $FAKE_OUT/NAME and prints the compiler-artifact
# message cargo would (package $FAKE_ID, manifest $FAKE_MANIFEST). $FAKE_MODE chooses what it
# does instead: `fail` prints cargo's error lines and exits 101, `hang` waits to be stopped.
# $FAKE_DELAY seconds pass before anything happens; with $FAKE_WAIT_FOR set, it first waits
# (10 s at most) for that file to exist. With $FAKE_STARTED set, it creates that file at once.
# With $FAKE_LOG set, it appends its arguments to that file, one line per call. Beside the
# executables it makes the `deps` directory cargo has there.
[ -n "$FAKE_LOG" ] && echo "$*" >> "$FAKE_LOG"
bins=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bins="$bins $2"; shift 2 ;;
        *) shift ;;
    esac
done
[ -n "$FAKE_STARTED" ] && : > "$FAKE_STARTED"
if [ -n "$FAKE_WAIT_FOR" ]; then
    n=0
    while [ ! -e "$FAKE_WAIT_FOR" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
fi
sleep "${FAKE_DELAY:-0}"
echo "   Compiling fake v0.1.0 ($FAKE_MANIFEST)" >&2
case "${FAKE_MODE:-ok}" in
    fail)
        for bin in $bins; do
            echo "error[E0425]: cannot find value \`x\` in this scope" >&2
            echo "error: could not compile \`fake\` (bin \"$bin\") due to 1 previous error" >&2
        done
        exit 101 ;;
    hang)
        exec sleep 60 ;;
esac
mkdir -p "$FAKE_OUT/deps"
for bin in $bins; do
    cp "$FAKE_EXE" "$FAKE_OUT/$bin"
    printf '{"reason":"compiler-artifact","package_id":"%s","manifest_path":"%s","target":{"kind":["bin"],"crate_types":["bin"],"name":"%s","src_path":"/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["%s"],"executable":"%s","fresh":false}\n' \
        "$FAKE_ID" "$FAKE_MANIFEST" "$bin" "$FAKE_OUT/$bin" "$FAKE_OUT/$bin"
done
echo '{"reason":"build-finished","success":true}'
