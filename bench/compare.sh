#!/usr/bin/env bash
# compare.sh -- clickpath against DuckDB on the same generated CSV, in the
# same run: every report that SQL can express, computed by both, checked
# equal cell by cell, and the wall time, CPU time and peak memory of each
# side (issue 7 item 5; bench/README.md says what each side computes).
#
#   bench/compare.sh                                   # 1M and 10M events, 5 runs
#   SIZES="1000000 10000000" RUNS=3 bench/compare.sh
#   SIZES=100000 RUNS=1 INGEST=0 bench/compare.sh      # quick
#
# Environment: CLICKPATH, SIZES, RUNS, SEED (lib.sh); and
#   IDLE       the idle rule of R4.2 on both sides (default 30m: minutes)
#   INGEST     1 (default): also time the load alone -- clickpath validate
#              and DuckDB's load of the CSV (compare.sql up to @load-end) --
#              and wc -l, the floor of touching every byte; 0: the reports only
#   SELFCHECK  1 (default): first check both sides on small adversarial
#              inputs (bench/edge_gen.mjs, 3 seeds; untimed); 0: skip
# Per size, RUNS times each, interleaved so that a slow moment of the
# machine hits every side:
#   clickpath report FILE --tags TAGS --out DIR --quiet --no-clv
#       --session idle:$IDLE --dedup-window 1ms --bot-list BOTS
#   node bench/duck.mjs bench/compare.sql FILE=... OUT=DIR ...   (one process,
#       one load of the CSV, every report it expresses)
# BOTS is the built-in bot list (src/quality/botlist.c) written out, so that
# both sides use the same list.  --dedup-window 1ms makes R3.1.4's 72-hour
# rule one that SQL can express (same-millisecond repeats; README).
# Then bench/compare.mjs checks DuckDB's files against clickpath's, and
# bench/summarize.mjs prints the figures.  Writes bench/out/compare.tsv (a
# row per run), bench/out/compare.txt (the summary), bench/out/compare-N/
# (both sides' reports).  Exits 1 when a cell differs.
source "$(dirname "$0")/lib.sh"
bench_check

IDLE=${IDLE:-30m}
INGEST=${INGEST:-1}
SELFCHECK=${SELFCHECK:-1}
idle_min=${IDLE%m}
[[ "$IDLE" == *m && "$idle_min" =~ ^[0-9]+$ ]] || { echo "bench: IDLE must be minutes, like 30m" >&2; exit 2; }
idle_ms=$((idle_min * 60000))

# The built-in bot list, one substring per line (clickpath --bot-list).
BOTS=$OUT/botlist.txt
sed -n '/cp_builtin_bot_list\[\] = {/,/NULL/p' "$ROOT/src/quality/botlist.c" |
    grep -o '"[^"]*"' | sed 's/^"//; s/"$//' >"$BOTS"
[ -s "$BOTS" ] || { echo "bench: could not read the bot list from src/quality/botlist.c" >&2; exit 2; }

cp_opts=(--quiet --no-clv --session "idle:$IDLE" --dedup-window 1ms --bot-list "$BOTS")
sql_params=(IDLE_MS="$idle_ms" FLOOD_MS=3600000 FLOOD_CLICKS=10 ADS_MS=604800000 OFFSITE_MS=1209600000
    BOTS="$BOTS")

# run_both FILE TAGS DIR: one run of each side into DIR/clickpath, DIR/duckdb
# (untimed; the self-check)
run_both() {
    rm -rf "$3/clickpath" "$3/duckdb"
    mkdir -p "$3/duckdb"
    "$CLICKPATH" report "$1" --tags "$2" --out "$3/clickpath" "${cp_opts[@]}"
    node "$BENCH_DIR/duck.mjs" "$BENCH_DIR/compare.sql" FILE="$1" TAGS="$2" OUT="$3/duckdb" \
        "${sql_params[@]}" >/dev/null
}

RES=$OUT/compare.tsv
TXT=$OUT/compare.txt
: >"$RES"
{
    date -u '+date: %Y-%m-%d %H:%M UTC'
    machine_info
    echo "clickpath: $CLICKPATH report FILE --tags TAGS --out DIR ${cp_opts[*]}"
    echo "duckdb:    node bench/duck.mjs bench/compare.sql FILE=FILE TAGS=TAGS OUT=DIR ${sql_params[*]}"
    if [ "$INGEST" = 1 ]; then
        echo "load:      $CLICKPATH validate FILE --quiet --stats; node bench/duck.mjs bench/compare.sql ... LOAD_ONLY=1; wc -l FILE"
    fi
} | tee "$TXT"

status=0
if [ "$SELFCHECK" = 1 ]; then
    for seed in 1 2 3; do
        dir=$OUT/edge-$seed
        node "$BENCH_DIR/edge_gen.mjs" 20000 "$seed" "$dir" >/dev/null
        run_both "$dir/events.csv" "$dir/tags.csv" "$dir"
        echo "self-check, adversarial input (bench/edge_gen.mjs 20000 $seed):" | tee -a "$TXT"
        node "$BENCH_DIR/compare.mjs" "$dir/clickpath" "$dir/duckdb" | tail -1 | sed 's/^/  /' | tee -a "$TXT" ||
            status=1
    done
fi

for n in $SIZES; do
    f=$(gen_events "$n")
    tags=$(dirname "$f")/tags.csv
    bytes=$(stat -c %s "$f")
    dir=$OUT/compare-$n
    rm -rf "$dir"
    mkdir -p "$dir/duckdb"
    echo "== $n events: $f ($bytes bytes)" >&2
    cat "$f" >/dev/null # every command reads the file from the page cache
    for r in $(seq 1 "$RUNS"); do
        timed "$RES" "clickpath report" "$n" "$bytes" "$r" \
            "$CLICKPATH" report "$f" --tags "$tags" --out "$dir/clickpath" "${cp_opts[@]}"
        timed "$RES" "duckdb compare.sql" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" \
            "$BENCH_DIR/compare.sql" FILE="$f" TAGS="$tags" OUT="$dir/duckdb" "${sql_params[@]}"
        if [ "$INGEST" = 1 ]; then
            timed "$RES" "clickpath validate" "$n" "$bytes" "$r" "$CLICKPATH" validate "$f" --quiet --stats
            timed "$RES" "duckdb load" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" \
                "$BENCH_DIR/compare.sql" FILE="$f" LOAD_ONLY=1
            timed "$RES" "wc -l" "$n" "$bytes" "$r" wc -l "$f"
        fi
    done
    echo "check, $n events (bench/compare.mjs $dir/clickpath $dir/duckdb):" | tee -a "$TXT"
    node "$BENCH_DIR/compare.mjs" "$dir/clickpath" "$dir/duckdb" | tee -a "$TXT" || status=1
done

node "$BENCH_DIR/summarize.mjs" "$RES" "clickpath report,duckdb compare.sql" \
    "clickpath report,sql:duckdb compare.sql" "clickpath validate,duckdb load" \
    "minus:clickpath report,clickpath validate" "minus:sql:duckdb compare.sql,sql:duckdb load" \
    "wc -l,clickpath validate" | tee -a "$TXT"
[ $status = 0 ] || echo "compare: some cells DIFFER (above)" | tee -a "$TXT"
exit $status
