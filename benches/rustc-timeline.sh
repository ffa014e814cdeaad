#!/usr/bin/env bash
# A RUSTC_WRAPPER that records, for every crate rustc compiles, when it started and ended and
# the CPU it used (user + sys of rustc and what it ran: the linker, zig), one line per crate:
#   start end user sys kind crate
# kind: `bin` (an executable), `host` (a build script, proc macro or their dependency: no
# `--target`), `target`. Appends to $RUSTC_TIMELINE. Used by benches/onefn_profile.py.
#   RUSTC_TIMELINE=/tmp/t.log RUSTC_WRAPPER=benches/rustc-timeline.sh cargo build ...
rustc=$1
shift
crate= kind=target bin= target=
prev=
for a in "$@"; do
    case $prev in
        --crate-name) crate=$a ;;
        --crate-type) [ "$a" = bin ] && bin=1 ;;
        --target) target=$a ;;
    esac
    prev=$a
done
# Version probes, cargo's target-info probes (`--crate-name ___ --print=...`) and build-script
# probes (`--crate-name=x`) are not units.
case " $* " in *" --print"*) crate= ;; esac
[ -n "$crate" ] && [ "$crate" != ___ ] || exec "$rustc" "$@"
: "${RUSTC_TIMELINE:?set RUSTC_TIMELINE to the file to append to}"
[ -n "$target" ] || kind=host
[ -z "$bin" ] || [ "$crate" = build_script_build ] || kind=bin
start=$(date +%s.%N)
times=$(mktemp)
/usr/bin/time -f '%U %S' -o "$times" "$rustc" "$@"
status=$?
end=$(date +%s.%N)
echo "$start $end $(tail -n1 "$times") $kind $crate${target:+ $target}" >>"$RUSTC_TIMELINE"
rm -f "$times"
exit $status
