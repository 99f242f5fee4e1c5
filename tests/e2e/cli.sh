#!/usr/bin/env bash
# End-to-end tests of the clickpath command: exit statuses (R1.4, R1.4b),
# rejects.csv and summary.json (R8), validate --format json, gen determinism,
# and the demo.  Usage: tests/e2e/cli.sh build/clickpath
set -uo pipefail
CP=$(realpath "${1:-build/clickpath}")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   $1"; }
bad()  { fail=$((fail+1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
status() { "$@" >/dev/null 2>&1; echo $?; }

# --- help and usage errors -------------------------------------------------
check "help exits 0"                 test "$(status "$CP" --help)" = 0
check "report --help mentions --tz"  grep -q -- "--tz ZONE" <("$CP" report --help)
check "unknown command exits 2"      test "$(status "$CP" frobnicate)" = 2
check "report without --out exits 2" test "$(status "$CP" report x.csv)" = 2
check "bad --session exits 2"        test "$(status "$CP" report --out "$T/o" --session hourly x.csv)" = 2
check "bad --tz exits 2"             test "$(status "$CP" report --out "$T/o" --tz Mars/Olympus x.csv)" = 2

# R1.4b: a file that cannot be opened is a usage error naming the file
"$CP" validate "$T/missing.csv" 2>"$T/err"; rc=$?
check "missing input exits 2"        test "$rc" = 2
check "missing input is named"       grep -q "$T/missing.csv" "$T/err"
printf 'not gzip at all' | gzip | head -c 20 > "$T/trunc.gz"
check "truncated gzip exits 2"       test "$(status "$CP" validate "$T/trunc.gz")" = 2
printf 'ts,type\n' > "$T/h.csv"
check "--map of a missing column exits 2" test "$(status "$CP" validate --map visitor=nope "$T/h.csv")" = 2

# --- validate --format json: the input part of summary.json (R8) -----------
cat > "$T/small.csv" <<'CSV'
ts,type,visitor,asin,cost
2024-03-01T12:00:00Z,page_view,v1,A1,

2024-03-01T12:00:01Z,page_view,v1,A1,-1
2024-03-01T12:00:02Z,nonsense,v1,A1,
2024-03-01T12:00:03Z,page_view,v2,A2,
CSV
"$CP" validate --format json --max-reject-rate 100% "$T/small.csv" > "$T/v.json"; rc=$?
check "validate json exits 0 under a 100% max" test "$rc" = 0
# hand-derived: 5 records after the header: 2 accepted, 2 rejected, 1 blank
python3 - "$T/v.json" "$T/small.csv" <<'PY' && ok "validate json figures" || bad "validate json figures"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["inputs"] == [{"file": sys.argv[2], "lines": 5, "accepted": 2, "rejected": 2, "blank_lines": 1}], d
assert d["accepted"] == 2 and d["rejected"] == 2
assert d["rejects_by_reason"] == {"bad_type": 1, "bad_cost": 1}, d["rejects_by_reason"]
assert d["reject_rate"] == 0.5
PY
# R1.4: above the default 1% the status is 1
check "reject rate above 1% exits 1" test "$(status "$CP" validate "$T/small.csv")" = 1
check "--max-reject-rate 0.5 allows 50%" test "$(status "$CP" validate --max-reject-rate 0.5 "$T/small.csv")" = 0

# --- report: rejects.csv exactly (R1.4b), and stdin as '-' -------------------
"$CP" report --quiet --max-reject-rate 1 --out "$T/r" - < "$T/small.csv"; rc=$?
check "report from stdin exits 0" test "$rc" = 0
cat > "$T/rejects.expected" <<'CSV'
file,line,reason,field,text
-,4,bad_cost,cost,"2024-03-01T12:00:01Z,page_view,v1,A1,-1"
-,5,bad_type,type,"2024-03-01T12:00:02Z,nonsense,v1,A1,"
CSV
check "rejects.csv exact" cmp -s "$T/rejects.expected" "$T/r/rejects.csv"
check "summary.json is JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/r/summary.json"
"$CP" report --quiet --max-reject-rate 1 --format json --out "$T/rj" "$T/small.csv"
check "--format json writes rejects.json" python3 -c "
import json,sys; r=json.load(open(sys.argv[1])); assert [x['reason'] for x in r]==['bad_cost','bad_type'], r" "$T/rj/rejects.json"

# --- gen: same seed, same bytes ---------------------------------------------
"$CP" gen --events 5000 --seed 42 --out "$T/g1" 2>/dev/null
"$CP" gen --events 5000 --seed 42 --out "$T/g2" 2>/dev/null
"$CP" gen --events 5000 --seed 43 --out "$T/g3" 2>/dev/null
check "gen is deterministic" cmp -s "$T/g1/events.csv" "$T/g2/events.csv"
check "gen truth is deterministic" cmp -s "$T/g1/truth_clicks.csv" "$T/g2/truth_clicks.csv"
check "another seed differs" bash -c "! cmp -s '$T/g1/events.csv' '$T/g3/events.csv'"
check "generated data has no rejects" test "$(status "$CP" validate --max-reject-rate 0 "$T/g1/events.csv")" = 0

# --- demo ---------------------------------------------------------------------
(cd "$T" && "$CP" demo --events 20000 > demo.out 2>&1); rc=$?
check "demo exits 0" test "$rc" = 0
check "demo writes reports" test -s "$T/clickpath-demo/business_daily.csv" -a -s "$T/clickpath-demo/summary.json"
check "demo says where" grep -q "clickpath-demo" "$T/demo.out"

echo "e2e cli: $pass passed, $fail failed"
((fail == 0))
