#!/usr/bin/env bash
# End-to-end tests of the scale options (docs/scale.md, issue 7): a report
# split into partitions on disk (--partitions, --memory) and one computed by
# several MPI ranks (--mpi) write the same bytes as the report in memory;
# partition files are removed after success, errors and interruption.
# Usage: tests/e2e/scale.sh build/clickpath
set -uo pipefail
CP=$(realpath "${1:-build/clickpath}")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   $1"; }
bad()  { fail=$((fail+1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
same() { diff -r --exclude=report.xlsx "$1" "$2" >"$T/diff" 2>&1 || { head -5 "$T/diff"; return 1; }; }
empty_dir() { [ -z "$(ls -A "$1")" ]; }

"$CP" gen --events 400000 --seed 11 --out "$T/data" 2>/dev/null
D="$T/data/events.csv"; TAGS="$T/data/tags.csv"
mkdir -p "$T/tmp"
"$CP" report "$D" --tags "$TAGS" --out "$T/whole" --quiet
check "whole report written"          test -s "$T/whole/summary.json"

for p in 1 4 9; do
  "$CP" report "$D" --tags "$TAGS" --out "$T/p$p" --quiet --partitions $p --tmp-dir "$T/tmp"
  check "--partitions $p: same bytes"  same "$T/whole" "$T/p$p"
done
check "partition files removed"       empty_dir "$T/tmp"

# --memory: 16 MB splits 400k events (160 bytes each) into several partitions
"$CP" report "$D" --tags "$TAGS" --out "$T/m" --quiet --memory 16M --stats --tmp-dir "$T/tmp" 2>"$T/stats"
check "--memory 16M: same bytes"      same "$T/whole" "$T/m"
parts=$(sed -n 's/^partitions: \([0-9]*\),.*/\1/p' "$T/stats")
check "--memory 16M: several partitions ($parts)" test "${parts:-0}" -gt 1

# errors: standard input cannot be read twice; a bad --memory; a --tmp-dir
# that cannot be written
"$CP" report - --out "$T/x" --memory 1G < "$D" 2>"$T/err"; rc=$?
check "--memory with stdin exits 2"   test "$rc" = 2
check "... and says why"              grep -q "standard input" "$T/err"
"$CP" report "$D" --out "$T/x" --memory 12 2>/dev/null; rc=$?
check "--memory 12 exits 2"           test "$rc" = 2
"$CP" report "$D" --out "$T/x" --partitions 2 --tmp-dir "$T/data/events.csv" 2>"$T/err"; rc=$?
check "unusable --tmp-dir exits 2"    test "$rc" = 2
check "... and names it"              grep -q "tmp-dir" "$T/err"

# interrupted: SIGINT half-way leaves no partition files behind
big="$T/big.csv"
cat "$D" > "$big"; tail -n +2 "$D" >> "$big"; tail -n +2 "$D" >> "$big"
"$CP" report "$big" --out "$T/int" --quiet --partitions 3 --tmp-dir "$T/tmp" & pid=$!
for _ in $(seq 1 200); do [ -n "$(ls -A "$T/tmp")" ] && break; sleep 0.05; done
check "partition files exist while running" test -n "$(ls -A "$T/tmp")"
kill -INT $pid; wait $pid; rc=$?
check "SIGINT exits 130"              test "$rc" = 130
check "SIGINT removes the files"      empty_dir "$T/tmp"

# --mpi: 2 and 4 ranks on this machine
if command -v mpirun >/dev/null 2>&1; then
  MPIRUN=(mpirun --oversubscribe -np)
  [ "$(id -u)" = 0 ] && MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np)
  for n in 2 4; do
    "${MPIRUN[@]}" $n "$CP" report "$D" --tags "$TAGS" --out "$T/mpi$n" --quiet --mpi --threads 1 --tmp-dir "$T/tmp" >"$T/mpi.log" 2>&1
    check "--mpi with $n ranks exits 0"   test $? = 0
    check "--mpi with $n ranks: same bytes" same "$T/whole" "$T/mpi$n"
  done
  check "--mpi removes its files"     empty_dir "$T/tmp"
  # two inputs, one JSON Lines, and rejects spread over every rank's stripes
  "$CP" gen --events 60000 --seed 12 --format jsonl --out "$T/data2" 2>/dev/null
  awk 'NR > 1 && NR % 4000 == 0 { print "not a time,click,bad" NR } { print }' "$D" > "$T/bad.csv"
  "$CP" report "$T/bad.csv" "$T/data2/events.jsonl" --tags "$TAGS" --out "$T/whole2" --quiet --max-reject-rate 100%
  check "rejects in the input"        test "$(wc -l < "$T/whole2/rejects.csv")" -gt 50
  "${MPIRUN[@]}" 3 "$CP" report "$T/bad.csv" "$T/data2/events.jsonl" --tags "$TAGS" --out "$T/mpi3" --quiet \
      --max-reject-rate 100% --mpi --threads 1 --tmp-dir "$T/tmp" >"$T/mpi.log" 2>&1
  check "--mpi, 3 ranks, 2 inputs with rejects: same bytes" same "$T/whole2" "$T/mpi3"
  "$CP" report "$T/bad.csv" "$T/data2/events.jsonl" --tags "$TAGS" --out "$T/p2" --quiet \
      --max-reject-rate 100% --partitions 6 --tmp-dir "$T/tmp"
  check "--partitions 6, 2 inputs with rejects: same bytes" same "$T/whole2" "$T/p2"
else
  bad "mpirun not found (setup.sh installs openmpi-bin)"
fi

echo "scale: $pass passed, $fail failed"
[ "$fail" = 0 ]
