#!/usr/bin/env bash
# big.sh -- the whole report set on a large generated log read as .csv.zst
# (issue 7: 100M events in under 30 s), against another build in the same
# run when BASELINE names one: median wall, user, system and peak memory of
# RUNS runs each (the builds alternating, so that a slow moment of the
# machine hits both), the phases `--stats` prints, and a check that both
# builds wrote the same files.
#
#   bench/big.sh                                        # 100M events, 3 runs
#   N=10000000 RUNS=5 BASELINE=/tmp/clickpath-old bench/big.sh
#
# The log is written once to bench/out/big-N-sSEED/events.csv.zst (100M:
# 1.5 GB, 27 GB of CSV that never touch the disk: the generator writes into
# a FIFO that zstd -1 reads; about 75 s), beside tags.csv and the truth
# files.  Environment: CLICKPATH (build/clickpath), BASELINE (none), N
# (100000000), SEED (42), RUNS (3), KEEP (1: keep the log afterwards).
# Read the system time against bench/memtouch.sh: in a virtual machine,
# fresh memory may cost several times what it does on bare metal.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKPATH=${CLICKPATH:-$ROOT/build/clickpath}
BASELINE=${BASELINE:-}
N=${N:-100000000}
SEED=${SEED:-42}
RUNS=${RUNS:-3}
KEEP=${KEEP:-1}
[ -x "$CLICKPATH" ] || { echo "big: build clickpath first (make)" >&2; exit 2; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "big: BASELINE $BASELINE is not an executable" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "big: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
command -v zstd >/dev/null || { echo "big: zstd missing (apt-get install zstd)" >&2; exit 2; }

dir=$BENCH_DIR/out/big-$N-s$SEED
out=$BENCH_DIR/out/big
mkdir -p "$dir" "$out"
if [ ! -e "$dir/.done" ]; then
    echo "big: generating $N events into $dir/events.csv.zst" >&2
    rm -f "$dir/events.csv" "$dir/events.csv.zst"
    mkfifo "$dir/events.csv"
    zstd -q -1 -T1 -o "$dir/events.csv.zst" < "$dir/events.csv" &
    zpid=$!
    "$CLICKPATH" gen --events "$N" --seed "$SEED" --out "$dir" >&2
    wait "$zpid"
    rm -f "$dir/events.csv"
    touch "$dir/.done"
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
labels=(new)
bins=("$CLICKPATH")
if [ -n "$BASELINE" ]; then labels+=(baseline); bins+=("$BASELINE"); fi
for l in "${labels[@]}"; do : > "$out/$l.tsv"; done
for ((r = 1; r <= RUNS; r++)); do
    for k in "${!bins[@]}"; do
        l=${labels[$k]}
        rm -rf "$out/$l"
        /usr/bin/time -f "%e %U %S %M" -o "$out/$l.time" "${bins[$k]}" report "$dir/events.csv.zst" \
            --tags "$dir/tags.csv" --out "$out/$l" --quiet --stats >/dev/null 2>"$out/$l.err"
        # phases, where the build prints them (--stats "time:" line)
        ph=$(awk '/^time:/ {print $2, $5, $10}' "$out/$l.err")
        echo "$(cat "$out/$l.time") ${ph:--1 -1 -1}" >> "$out/$l.tsv"
        echo "run $r $l: $(cat "$out/$l.time") ${ph:+(phases $ph)}" >&2
    done
done

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo) GiB;" \
     "$N events, $(du -h "$dir/events.csv.zst" | cut -f1) of .csv.zst; RUNS=$RUNS; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)"
printf '%-9s %9s %8s %8s %9s   %s\n' build "wall s" "user s" "sys s" "peak MB" "loading / ordering / reports s"
for l in "${labels[@]}"; do
    col() { awk -v c="$1" '{print $c}' "$out/$l.tsv" | median; }
    w=$(col 1); u=$(col 2); s=$(col 3); m=$(col 4); pl=$(col 5); po=$(col 6); pr=$(col 7)
    phases="-"
    [ "$pl" = "-1" ] || phases="$pl / $po / $pr"
    printf '%-9s %9.2f %8.1f %8.1f %9.0f   %s\n' "$l" "$w" "$u" "$s" "$(echo "$m" | awk '{print $1 / 1024}')" "$phases"
    eval "wall_$l=$w"
done
if [ -n "$BASELINE" ]; then
    awk -v a="$wall_baseline" -v b="$wall_new" 'BEGIN {printf "ratio baseline / new: %.2fx (median wall)\n", a / b}'
    # report.xlsx and report.html carry their creation time
    if diff -r --exclude=report.xlsx --exclude=report.html "$out/new" "$out/baseline" >/dev/null; then
        echo "files: the same"
    else
        echo "files: DIFFERENT (diff -r $out/new $out/baseline)"
        exit 1
    fi
fi
[ "$KEEP" = 1 ] || rm -rf "$dir"
