#!/usr/bin/env bash
# ingest.sh -- ingest throughput and memory per event: clickpath vs DuckDB
# building a table from the same CSV, beside the floors `wc -l` and `cat`
# (issue 3 item 8; bench/README.md).
#
#   bench/ingest.sh                      # 1M and 10M events, 5 runs each
#   SIZES=1000000 RUNS=3 bench/ingest.sh # smaller
#
# Environment: CLICKPATH (default build/clickpath), SIZES, RUNS, SEED (lib.sh).
# Writes bench/out/ingest.tsv (one row per run) and bench/out/ingest.txt (the
# summary printed at the end).
source "$(dirname "$0")/lib.sh"
bench_check

RES=$OUT/ingest.tsv
: >"$RES"
{
    machine_info
    echo "clickpath: $CLICKPATH validate FILE --quiet --stats [--threads 1]"
    echo "duckdb:    node bench/duck.mjs bench/load.sql FILE=FILE (CREATE TABLE ev AS SELECT * FROM read_csv(...))"
} | tee "$OUT/ingest.txt"

for n in $SIZES; do
    f=$(gen_events "$n")
    bytes=$(stat -c %s "$f")
    echo "== $n events: $f ($bytes bytes)" >&2
    cat "$f" >/dev/null # the file is read from the page cache by every command
    for r in $(seq 1 "$RUNS"); do
        timed "$RES" "wc -l" "$n" "$bytes" "$r" wc -l "$f"
        # shellcheck disable=SC2016 # $1 is the inner shell's
        timed "$RES" "cat" "$n" "$bytes" "$r" sh -c 'cat "$1" >/dev/null' sh "$f"
    done
    # Interleaved, so that a slow moment of the machine hits every side.
    for r in $(seq 1 "$RUNS"); do
        timed "$RES" "clickpath" "$n" "$bytes" "$r" "$CLICKPATH" validate "$f" --quiet --stats
        timed "$RES" "clickpath --threads 1" "$n" "$bytes" "$r" \
            "$CLICKPATH" validate "$f" --quiet --stats --threads 1
        timed "$RES" "duckdb" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" "$BENCH_DIR/load.sql" FILE="$f"
    done
done

node "$BENCH_DIR/summarize.mjs" "$RES" clickpath,duckdb clickpath,sql:duckdb \
    "clickpath,clickpath --threads 1" "wc -l,clickpath" | tee -a "$OUT/ingest.txt"
