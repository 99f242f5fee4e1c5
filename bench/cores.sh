#!/usr/bin/env bash
# cores.sh -- how much parallel compute this machine really delivers.
#
# A scaling figure ("2 threads are 1.4x faster than 1") means little without
# the machine's own ceiling: a virtual machine's vCPUs may share physical
# cores or be throttled by the host.  This runs the same single-threaded job
# alone and then N copies at once (N = 1..nproc) and prints the throughput
# of N copies relative to one: a machine with N real cores prints ~N.
#
#   bench/cores.sh            # awk spin loop (pure ALU) and clickpath validate --threads 1
#   RUNS=5 bench/cores.sh
#
# Environment: RUNS (3), CLICKPATH (build/clickpath), FILE (a generated CSV;
# default bench/out/gen-1000000-s42/events.csv, made when missing).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKPATH=${CLICKPATH:-$ROOT/build/clickpath}
RUNS=${RUNS:-3}
FILE=${FILE:-$BENCH_DIR/out/gen-1000000-s42/events.csv}
[ -x "$CLICKPATH" ] || { echo "cores: build clickpath first (make)" >&2; exit 2; }
if [ ! -s "$FILE" ]; then
    mkdir -p "$(dirname "$FILE")"
    "$CLICKPATH" gen --events 1000000 --seed 42 --out "$(dirname "$FILE")" >&2
fi
cat "$FILE" >/dev/null
ncpu=$(nproc)

now() { date +%s.%N; }

# wall seconds for $1 copies of the job in "$@" (after the count), started together
copies() {
    local n=$1; shift
    local t0 t1 pids=()
    t0=$(now)
    for ((k = 0; k < n; k++)); do "$@" >/dev/null 2>&1 & pids+=($!); done
    wait "${pids[@]}"
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() {
    local label=$1; shift
    local base=""
    for ((n = 1; n <= ncpu; n++)); do
        local m
        m=$(for ((r = 0; r < RUNS; r++)); do copies "$n" "$@"; echo; done | median)
        [ -z "$base" ] && base=$m
        awk -v l="$label" -v n="$n" -v m="$m" -v b="$base" \
            'BEGIN {printf "%-26s %2d at once: %7.3f s (median of runs)  throughput %.2fx one\n", l, n, m, n * b / m}'
    done
}

echo "machine: $ncpu CPUs (nproc), $(lscpu | sed -n 's/^Model name: *//p' | head -1); RUNS=$RUNS"
measure "awk spin loop" awk 'BEGIN { for (i = 0; i < 20000000; i++) x += i * 7 % 13 }'
measure "clickpath validate -t1" "$CLICKPATH" validate "$FILE" --quiet --threads 1
