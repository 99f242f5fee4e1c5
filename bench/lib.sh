# shellcheck shell=bash
# lib.sh -- shared helpers of bench/compare.sh (sourced).
#
# Environment (all optional):
#   CLICKPATH  the binary to measure (default build/clickpath)
#   SIZES      event counts to generate and measure (default "1000000 10000000")
#   RUNS       timed runs of each command (default 5)
#   SEED       generator seed (default 42)

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKPATH=${CLICKPATH:-$ROOT/build/clickpath}
SIZES=${SIZES:-"1000000 10000000"}
RUNS=${RUNS:-5}
SEED=${SEED:-42}
OUT=$BENCH_DIR/out

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 not found; run bench/setup.sh" >&2; exit 2; }
}

bench_check() {
    [ -x "$CLICKPATH" ] || { echo "bench: $CLICKPATH not built; run make (or set CLICKPATH)" >&2; exit 2; }
    [ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing; run bench/setup.sh" >&2; exit 2; }
    need node
    [ -d "$BENCH_DIR/node_modules/@duckdb/node-api" ] ||
        { echo "bench: @duckdb/node-api missing; run bench/setup.sh" >&2; exit 2; }
    mkdir -p "$OUT"
}

# gen_events N -> prints the path of a generated events.csv of N events
# (seeded; reused when already there).
gen_events() {
    local n=$1 dir="$OUT/gen-$1-s$SEED"
    if [ ! -s "$dir/events.csv" ] || [ ! -e "$dir/.done" ]; then
        mkdir -p "$dir"
        "$CLICKPATH" gen --events "$n" --seed "$SEED" --out "$dir" >&2
        touch "$dir/.done"
    fi
    echo "$dir/events.csv"
}

# machine_info -> one line describing machine and commit
machine_info() {
    local cpu
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
    printf 'machine: %s cores (nproc), %s, %s GiB RAM; commit %s%s; duckdb %s\n' \
        "$(nproc)" "${cpu:-unknown CPU}" \
        "$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)" \
        "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')" \
        "$(cd "$BENCH_DIR" && node --input-type=module -e "import d from '@duckdb/node-api'; console.log(d.version())" 2>/dev/null || echo '?')"
}

# timed RESULTS LABEL SIZE BYTES RUN CMD... : runs CMD once, appends a TSV row
#   label size bytes run wall_s cpu_s peak_rss_kb extra
# where extra is the "ms" of a duck.mjs JSON line (SQL time) or the bytes per
# event that clickpath --stats prints, when there.  CMD's stdout and stderr go
# to $OUT/last.out and $OUT/last.err.
timed() {
    local results=$1 label=$2 size=$3 bytes=$4 run=$5
    shift 5
    local t0 t1 rc=0 extra=""
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M %U %S' -o "$OUT/last.time" "$@" >"$OUT/last.out" 2>"$OUT/last.err" || rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" -ne 0 ]; then
        echo "bench: '$*' failed (exit $rc):" >&2
        tail -5 "$OUT/last.err" >&2
        return "$rc"
    fi
    read -r rss usr sys <"$OUT/last.time"
    if grep -q '"ms":' "$OUT/last.out" 2>/dev/null; then
        extra=$(sed -n 's/.*"ms":\([0-9.]*\).*/\1/p' "$OUT/last.out" | tail -1)
        extra="sql_ms=$extra"
    elif grep -q 'bytes per event' "$OUT/last.err" 2>/dev/null; then
        extra="bpe=$(sed -n 's/.*(\([0-9.]*\) bytes per event.*/\1/p' "$OUT/last.err" | tail -1)"
    fi
    local wall cpu
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    cpu=$(awk -v a="$usr" -v b="$sys" 'BEGIN { printf "%.2f", a + b }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$size" "$bytes" "$run" \
        "$wall" "$cpu" "$rss" "$extra" >>"$results"
    printf '  %-24s run %s: %7.3f s wall, %6.2f s CPU, peak %5d MB\n' "$label" "$run" \
        "$wall" "$cpu" "$((rss / 1024))" >&2
}
