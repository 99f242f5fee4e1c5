#!/usr/bin/env bash
# Runs every unit-test binary in BUILD/tests; fails if any fails.
set -uo pipefail
build=${1:-build}
rc=0; n=0
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  n=$((n+1))
  if ! "$t"; then echo "FAILED: $t"; rc=1; fi
done
((n > 0)) || { echo "no unit tests found in $build/tests"; exit 1; }
exit $rc
