#!/usr/bin/env bash
# attribution.sh -- R6.1 sponsored last-click credits: clickpath's report vs
# DuckDB's ASOF joins (bench/asof.sql) on the same generated CSV, with the
# totals per campaign checked equal (issue 5's comparison; bench/README.md).
#
#   bench/attribution.sh                     # 1M and 10M events, 5 runs each
#   SIZES=2000000 SEED=5 bench/attribution.sh
#
# Environment: CLICKPATH, SIZES, RUNS, SEED (lib.sh).
# Timed, RUNS times each:
#   clickpath report FILE --tags TAGS --out DIR --quiet --no-clv  (every report)
#   duckdb asof.sql RUN=1   load the CSV, stitch, ASOF credits, totals
#   duckdb asof.sql RUN=0   the same load alone (the joins see no rows)
# DuckDB's validity of clicks comes from clickpath's invalid_clicks.csv (R3 is
# not simply SQL-expressible).  Writes bench/out/attribution.tsv and
# bench/out/attribution.txt.  Exits 1 when a total differs.
source "$(dirname "$0")/lib.sh"
bench_check
need python3

RES=$OUT/attribution.tsv
: >"$RES"
{
    machine_info
    echo "clickpath: $CLICKPATH report FILE --tags TAGS --out DIR --quiet --no-clv"
    echo "duckdb:    node bench/duck.mjs bench/asof.sql FILE=FILE INVALID=DIR/invalid_clicks.csv OUT=CSV WINDOW_MS=604800000 RUN=1|0"
} | tee "$OUT/attribution.txt"

status=0
for n in $SIZES; do
    f=$(gen_events "$n")
    tags=$(dirname "$f")/tags.csv
    bytes=$(stat -c %s "$f")
    rep=$OUT/report-attr-$n
    duck=$OUT/duck-asof-$n.csv
    echo "== $n events: $f ($bytes bytes)" >&2
    cat "$f" >/dev/null
    for r in $(seq 1 "$RUNS"); do
        timed "$RES" "clickpath report" "$n" "$bytes" "$r" \
            "$CLICKPATH" report "$f" --tags "$tags" --out "$rep" --quiet --no-clv
        timed "$RES" "duckdb asof.sql" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" \
            "$BENCH_DIR/asof.sql" FILE="$f" INVALID="$rep/invalid_clicks.csv" OUT="$duck" \
            WINDOW_MS=604800000 RUN=1
        timed "$RES" "duckdb asof.sql load" "$n" "$bytes" "$r" node "$BENCH_DIR/duck.mjs" \
            "$BENCH_DIR/asof.sql" FILE="$f" INVALID="$rep/invalid_clicks.csv" OUT="$duck.load" \
            WINDOW_MS=604800000 RUN=0
    done
    echo "check $n events (per campaign: orders_7d, units_7d, sales_7d, advertised_sales_7d):" |
        tee -a "$OUT/attribution.txt"
    python3 - "$rep/ads.csv" "$duck" <<'EOF' | tee -a "$OUT/attribution.txt" || status=1
import csv, sys
from decimal import Decimal
ads, duck = sys.argv[1], sys.argv[2]
want = {}
for r in csv.DictReader(open(ads, newline='')):
    if r['date']:
        continue  # daily rows; whole-period rows have an empty date (R8)
    t = want.setdefault(r['campaign'], [0, 0, Decimal(0), Decimal(0)])
    t[0] += int(r['orders_7d']); t[1] += int(r['units_7d'])
    t[2] += Decimal(r['sales_7d']); t[3] += Decimal(r['advertised_sales_7d'])
want = {k: v for k, v in want.items() if v[0] or v[1] or v[2]}
got = {}
for r in csv.DictReader(open(duck, newline='')):
    got[r['campaign']] = [int(r['orders_7d']), int(r['units_7d']), Decimal(r['sales_7d']),
                          Decimal(r['advertised_sales_7d'])]
bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        bad += 1
        print(f"  DIFFERS {k}: clickpath {want.get(k)} duckdb {got.get(k)}")
tot = lambda d, i: sum(v[i] for v in d.values())
print(f"  {len(want)} campaigns; clickpath orders {tot(want,0)} units {tot(want,1)} sales {tot(want,2)} "
      f"advertised {tot(want,3)}; duckdb orders {tot(got,0)} units {tot(got,1)} sales {tot(got,2)} "
      f"advertised {tot(got,3)}; {'EQUAL' if not bad else str(bad) + ' campaigns differ'}")
sys.exit(1 if bad else 0)
EOF
done

node "$BENCH_DIR/summarize.mjs" "$RES" "clickpath report,duckdb asof.sql" \
    "clickpath report,sql:duckdb asof.sql" | tee -a "$OUT/attribution.txt"
# DuckDB's joins alone: median SQL time of RUN=1 minus that of RUN=0 (load)
awk -F'\t' '$8 ~ /^sql_ms=/ { split($8, kv, "="); v[$1 "\t" $2] = v[$1 "\t" $2] " " kv[2] }
    function med(s,   a, n, i, j, t) { n = split(s, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { for (k in v) { split(k, p, "\t"); if (p[1] != "duckdb asof.sql") continue
            full = med(v[k]); load = med(v["duckdb asof.sql load\t" p[2]])
            printf "duckdb %s events: SQL median %.0f ms, load alone %.0f ms, stitch + ASOF joins + totals %.0f ms\n", p[2], full, load, full - load } }' \
    "$RES" | tee -a "$OUT/attribution.txt"
exit $status
