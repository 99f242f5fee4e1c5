#!/usr/bin/env bash
# scaling.sh -- `clickpath report` on 1, 2, 4 ... threads (up to nproc), each
# against the machine's own ceiling for that many jobs (bench/cores.sh's
# measure: N single-threaded copies at once), so that a speedup reads as a
# share of what the machine delivers.  Checks that every thread count
# writes the same report files as one thread (report.xlsx aside: it holds
# its creation time).
#
#   bench/scaling.sh                 # 10M generated events, 3 runs each
#   N=1000000 RUNS=5 bench/scaling.sh
#
# Environment: CLICKPATH (build/clickpath), N (events, 10000000), RUNS (3),
# SEED (42), THREADS (default "1 2 4 8 16 ..." up to nproc).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKPATH=${CLICKPATH:-$ROOT/build/clickpath}
N=${N:-10000000}
RUNS=${RUNS:-3}
SEED=${SEED:-42}
[ -x "$CLICKPATH" ] || { echo "scaling: build clickpath first (make)" >&2; exit 2; }
ncpu=$(nproc)
if [ -z "${THREADS:-}" ]; then
    THREADS=""
    for ((t = 1; t < ncpu; t *= 2)); do THREADS="$THREADS $t"; done
    THREADS="$THREADS $ncpu"
fi
dir=$BENCH_DIR/out/gen-$N-s$SEED
if [ ! -s "$dir/events.csv" ] || [ ! -e "$dir/.done" ]; then
    mkdir -p "$dir"
    "$CLICKPATH" gen --events "$N" --seed "$SEED" --out "$dir" >&2
    touch "$dir/.done"
fi
cat "$dir/events.csv" >/dev/null
out=$BENCH_DIR/out/scaling
mkdir -p "$out"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'; }

# the machine's ceiling for k jobs: k copies of `validate --threads 1` on 1M-event slices at once
small=$BENCH_DIR/out/gen-1000000-s$SEED/events.csv
if [ ! -s "$small" ]; then
    mkdir -p "$(dirname "$small")"
    "$CLICKPATH" gen --events 1000000 --seed "$SEED" --out "$(dirname "$small")" >&2
fi
ceiling() {
    local k=$1 t0 t1 one many
    one=$(for ((r = 0; r < RUNS; r++)); do secs "$CLICKPATH" validate "$small" --quiet --threads 1; done | median)
    many=$(for ((r = 0; r < RUNS; r++)); do
        t0=$(date +%s.%N)
        for ((j = 0; j < k; j++)); do "$CLICKPATH" validate "$small" --quiet --threads 1 >/dev/null 2>&1 & done
        wait
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'
    done | median)
    awk -v k="$k" -v o="$one" -v m="$many" 'BEGIN {printf "%.2f", k * o / m}'
}

echo "machine: $ncpu CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1); $N events; RUNS=$RUNS; $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
printf '%-8s %10s %9s %17s %s\n' threads "median s" speedup "machine ceiling" "same files as 1 thread"
base=""
for t in $THREADS; do
    m=$(for ((r = 0; r < RUNS; r++)); do
        secs "$CLICKPATH" report "$dir/events.csv" --tags "$dir/tags.csv" --out "$out/t$t" --quiet --threads "$t"
    done | median)
    [ -z "$base" ] && base=$m
    same=yes
    if [ "$t" != 1 ] && ! diff -rq -x report.xlsx "$out/t1" "$out/t$t" >/dev/null; then same=NO; fi
    printf '%-8s %10s %8.2fx %16sx %s\n' "$t" "$m" "$(awk -v b="$base" -v m="$m" 'BEGIN {print b / m}')" "$(ceiling "$t")" "$same"
done
