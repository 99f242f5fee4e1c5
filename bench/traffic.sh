#!/usr/bin/env bash
# traffic.sh -- sessions (idle rule), sessions and page views per ASIN:
# clickpath's whole report run vs DuckDB running bench/sessions.sql on the same
# CSV, with the numbers checked equal (issue 4's comparison; bench/README.md).
#
#   bench/traffic.sh                       # 1M and 10M events, 5 runs each
#   STITCH=0 SIZES=1000000 bench/traffic.sh
#
# Environment: CLICKPATH, SIZES, RUNS, SEED (lib.sh); IDLE (default 30m, a
# number of minutes followed by m); STITCH (1 default: identity with R2.1's
# cross-device stitching on both sides; 0: clickpath --no-stitch and DuckDB
# identity = coalesce(customer, visitor)).
# Writes bench/out/traffic.tsv and bench/out/traffic.txt.  Exits 1 when a
# number differs.
source "$(dirname "$0")/lib.sh"
bench_check

IDLE=${IDLE:-30m}
STITCH=${STITCH:-1}
idle_min=${IDLE%m}
[[ "$IDLE" == *m && "$idle_min" =~ ^[0-9]+$ ]] || { echo "bench: IDLE must be minutes, like 30m" >&2; exit 2; }
idle_ms=$((idle_min * 60000))
cp_stitch=()
[ "$STITCH" = 1 ] || cp_stitch=(--no-stitch)

RES=$OUT/traffic.tsv
: >"$RES"
{
    machine_info
    echo "clickpath: $CLICKPATH report FILE --tags TAGS --out DIR --session idle:$IDLE --quiet ${cp_stitch[*]}"
    echo "           (every report: quality, sessions, business, diagnostics, ads, attribution, customers, CLV)"
    echo "duckdb:    node bench/duck.mjs bench/sessions.sql FILE=FILE OUT=CSV IDLE_MS=$idle_ms STITCH=$STITCH"
} | tee "$OUT/traffic.txt"

status=0
for n in $SIZES; do
    f=$(gen_events "$n")
    tags=$(dirname "$f")/tags.csv
    bytes=$(stat -c %s "$f")
    rep=$OUT/report-$n
    duck=$OUT/duck-sessions-$n.csv
    echo "== $n events: $f ($bytes bytes)" >&2
    cat "$f" >/dev/null
    for r in $(seq 1 "$RUNS"); do
        timed "$RES" "clickpath report" "$n" "$bytes" "$r" \
            "$CLICKPATH" report "$f" --tags "$tags" --out "$rep" --session "idle:$IDLE" --quiet "${cp_stitch[@]}"
        timed "$RES" "duckdb sessions.sql" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" \
            "$BENCH_DIR/sessions.sql" FILE="$f" OUT="$duck" IDLE_MS="$idle_ms" STITCH="$STITCH"
    done
    echo "check $n events:" | tee -a "$OUT/traffic.txt"
    node "$BENCH_DIR/compare_sessions.mjs" "$duck" "$rep" | tee -a "$OUT/traffic.txt" || status=1
done

node "$BENCH_DIR/summarize.mjs" "$RES" "clickpath report,duckdb sessions.sql" \
    "clickpath report,sql:duckdb sessions.sql" | tee -a "$OUT/traffic.txt"
exit $status
