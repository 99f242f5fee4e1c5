#!/usr/bin/env bash
# check.sh -- the whole test suite (`make check`):
#   1. gcc build with warnings as errors, unit tests, fuzz-corpus replay
#   2. clang build with warnings as errors, unit tests
#   3. AddressSanitizer + UndefinedBehaviorSanitizer build, unit tests, replay
#   4. libFuzzer: each fuzz target runs briefly (clang -fsanitize=fuzzer)
#   5. end-to-end tests of the CLI (tests/e2e/*.sh) on generated and real data
# Ends with one line "check: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
passed=0; failed=0; failures=()

step() { # name, command...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed+1)); echo "--- ok: $name"
  else failed=$((failed+1)); failures+=("$name"); echo "--- FAILED: $name"; fi
}

step "build (gcc, -Werror)" make -s -j"$JOBS" WERROR=1 BUILD=build tests
step "unit tests (gcc)" scripts/run-unit.sh build
step "fuzz corpus replay (gcc)" scripts/run-fuzz-replay.sh build

step "build (clang, -Werror)" make -s -j"$JOBS" CC=clang WERROR=1 BUILD=build/clang tests
step "unit tests (clang)" scripts/run-unit.sh build/clang

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
step "build (ASan+UBSan)" make -s -j"$JOBS" OPT=-O1 SAN="$SAN" BUILD=build/asan tests
step "unit tests (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 scripts/run-unit.sh build/asan
step "fuzz corpus replay (ASan+UBSan)" scripts/run-fuzz-replay.sh build/asan

step "libFuzzer (brief)" scripts/run-libfuzzer.sh "${FUZZ_SECONDS:-10}"

step "web assets (web/build.sh)" web/build.sh build/web

for t in tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  step "e2e $(basename "$t" .sh)" bash "$t" build/clickpath
done

echo
if ((failed)); then echo "failed steps: ${failures[*]}"; fi
echo "check: $passed passed, $failed failed"
((failed == 0))
