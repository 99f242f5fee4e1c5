#!/usr/bin/env bash
# Replays each fuzz target's stored corpus (fuzz/corpus/<target>/) through
# the target linked with fuzz/replay.c: crashes, sanitizer faults and leaks
# fail the run.
set -uo pipefail
build=${1:-build}
rc=0
for r in "$build"/fuzz/*_replay; do
  [ -x "$r" ] || continue
  name=$(basename "$r" _replay)
  dir=fuzz/corpus/$name
  [ -d "$dir" ] || { echo "$name: no corpus in $dir"; rc=1; continue; }
  printf '%s: ' "$name"
  "$r" "$dir" || rc=1
done
exit $rc
