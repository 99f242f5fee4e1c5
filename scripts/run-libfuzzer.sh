#!/usr/bin/env bash
# Runs each fuzz target under libFuzzer for a few seconds (default 10),
# starting from its stored corpus (copied: the repository's corpus is not
# changed).  Findings are written to build/fuzz-findings/.
set -uo pipefail
secs=${1:-10}
out=build/libfuzzer; mkdir -p "$out" build/fuzz-findings
src=$(find src -name '*.c' ! -path 'src/cli/*' | sort)
rc=0
for f in fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .c)
  bin=$out/$name
  if ! clang -std=c17 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
       -o "$bin" "$f" $src -lmicrohttpd -lxlsxwriter -lzstd -lz -lgsl -lgslcblas -lm -pthread; then
    echo "$name: does not build with libFuzzer"; rc=1; continue
  fi
  work=$(mktemp -d); cp -r fuzz/corpus/"$name"/. "$work"/ 2>/dev/null || true
  if "$bin" -max_total_time="$secs" -max_len=4096 -artifact_prefix=build/fuzz-findings/"$name"- \
       "$work" >"$out/$name.log" 2>&1; then
    echo "$name: $(grep -Eo '#[0-9]+' "$out/$name.log" | tail -1 | tr -d '#') runs, no finding"
  else
    echo "$name: FINDING (see $out/$name.log)"; tail -30 "$out/$name.log"; rc=1
  fi
  rm -rf "$work"
done
exit $rc
