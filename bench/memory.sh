#!/usr/bin/env bash
# memory.sh -- `clickpath report` in memory against `--memory SIZE` (and,
# with MPI=N, `mpirun -np N ... --mpi`) on the same generated file: wall
# time and peak memory (median of RUNS), the partition files' size, and a
# check that every variant writes the same files as the run in memory
# (report.xlsx aside: it holds its creation time).
#
#   bench/memory.sh                          # 10M events; --memory 1G and 256M
#   N=1000000 LIMITS="64M 16M" RUNS=5 bench/memory.sh
#   INPUT=/data/events.csv.zst TAGS=/data/tags.csv LIMITS=8G RUNS=1 WHOLE=0 bench/memory.sh
#
# Environment: CLICKPATH (build/clickpath), N (10000000), SEED (42), RUNS (3),
# LIMITS ("1G 256M"), INPUT and TAGS (an existing file instead of generated
# data), WHOLE (1: also the run in memory, the reference for the check),
# MPI (rank counts, e.g. "2 4"; none by default), TMP (--tmp-dir, default
# bench/out/tmp).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKPATH=${CLICKPATH:-$ROOT/build/clickpath}
N=${N:-10000000}
SEED=${SEED:-42}
RUNS=${RUNS:-3}
LIMITS=${LIMITS:-"1G 256M"}
WHOLE=${WHOLE:-1}
MPI=${MPI:-}
TMP=${TMP:-$BENCH_DIR/out/tmp}
[ -x "$CLICKPATH" ] || { echo "memory: build clickpath first (make)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "memory: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
if [ -z "${INPUT:-}" ]; then
    dir=$BENCH_DIR/out/gen-$N-s$SEED
    if [ ! -s "$dir/events.csv" ] || [ ! -e "$dir/.done" ]; then
        mkdir -p "$dir"
        "$CLICKPATH" gen --events "$N" --seed "$SEED" --out "$dir" >&2
        touch "$dir/.done"
    fi
    INPUT=$dir/events.csv
    TAGS=$dir/tags.csv
fi
out=$BENCH_DIR/out/memory
mkdir -p "$out" "$TMP"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run NAME CMD... : RUNS timed runs; prints "wall_s peak_kb" medians; the
# last run's stderr (the --stats lines) in $out/NAME.err
run() {
    local name=$1; shift
    local walls=() peaks=()
    for ((r = 0; r < RUNS; r++)); do
        /usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" >/dev/null 2>"$out/$name.err"
        read -r w p < "$out/$name.time"
        walls+=("$w"); peaks+=("$p")
    done
    echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${peaks[@]}" | median)"
}

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo) GiB; input $INPUT ($(du -h "$INPUT" | cut -f1)); RUNS=$RUNS; $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
printf '%-22s %9s %12s %10s %12s %s\n' variant "median s" "peak MB" partitions "part. files" "same files"
base_s=""
if [ "$WHOLE" = 1 ]; then
    read -r s kb < <(run whole "$CLICKPATH" report "$INPUT" --tags "$TAGS" --out "$out/whole" --quiet)
    base_s=$s
    printf '%-22s %9s %12.0f %10s %12s %s\n' "in memory" "$s" "$(echo "$kb / 1024" | bc -l)" - - reference
fi
variant() {
    local name=$1 label=$2; shift 2
    read -r s kb < <(run "$name" "$@")
    local parts bytes same=-
    parts=$(sed -n 's/^partitions: \([0-9]*\),.*/\1/p' "$out/$name.err" | head -1)
    bytes=$(sed -n 's/^partitions: [0-9]*, \([0-9.]*\) MB.*/\1 MB/p' "$out/$name.err" | head -1)
    if [ "$WHOLE" = 1 ]; then
        same=yes
        diff -rq -x report.xlsx "$out/whole" "$out/$name" >/dev/null || same=NO
    fi
    printf '%-22s %9s %12.0f %10s %12s %s\n' "$label" "$s" "$(echo "$kb / 1024" | bc -l)" "${parts:--}" "${bytes:--}" "$same"
}
for m in $LIMITS; do
    variant "mem$m" "--memory $m" "$CLICKPATH" report "$INPUT" --tags "$TAGS" --out "$out/mem$m" --quiet \
        --memory "$m" --stats --tmp-dir "$TMP"
done
for np in $MPI; do
    root=(); [ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
    variant "mpi$np" "--mpi, $np ranks" mpirun "${root[@]}" --oversubscribe -np "$np" "$CLICKPATH" report "$INPUT" \
        --tags "$TAGS" --out "$out/mpi$np" --quiet --mpi --tmp-dir "$TMP"
done
