#!/usr/bin/env bash
# usage: peak-rss.sh OUTFILE CMD [ARGS...]
# Runs CMD and appends its own peak resident set size (VmHWM, in kB; its children not
# included) to OUTFILE. Samples /proc/PID/status ten times a second with bash builtins only,
# so the sampling adds no child processes to a timed run. Exits with CMD's status.
out=$1
shift
"$@" &
pid=$!
hwm=0
exec {tick}<> <(:)
while kill -0 "$pid" 2>/dev/null; do
    while read -r key value _; do
        [[ $key == VmHWM: ]] && hwm=$value
    done 2>/dev/null </proc/"$pid"/status
    read -r -t 0.1 -u "$tick" _ || true
done
wait "$pid"
rc=$?
echo "$hwm" >>"$out"
exit "$rc"
