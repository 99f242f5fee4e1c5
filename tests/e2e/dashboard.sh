#!/usr/bin/env bash
# End-to-end test of report.html and report.xlsx (issue 8).
#   tests/e2e/dashboard.sh build/clickpath
#
# Generates data with `clickpath gen`, runs `clickpath report --format xlsx`,
# renders report.html in headless Chromium (tests/e2e/dashboard.mjs: no
# console errors, no network requests, every chart's series and points match
# the CSVs, total sessions shown = business_daily.csv), checks report.xlsx's
# sheets, and the tables-only page written when the web assets are missing.
# Screenshots go to tests/artifacts/ (git-ignored).
# Needs: node + npm (web/build.sh installs Chart.js and playwright-core) and
# Debian's chromium.  CP_DASH_BIG=1 also checks the size of report.html for
# 10M generated events (slow: several GB of temporary data).
set -uo pipefail
CP=$(realpath "${1:-build/clickpath}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ASSETS="$(dirname "$CP")/web"
ART="$ROOT/tests/artifacts"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   $1"; }
bad()  { fail=$((fail+1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$pass passed, $fail failed"; ((fail == 0)); exit $?; }

# --- what the test needs ---------------------------------------------------
if [ ! -f "$ASSETS/dashboard.bundle.js" ] || [ "$ROOT/web/dashboard.js" -nt "$ASSETS/dashboard.bundle.js" ] \
   || [ "$ROOT/web/dashboard.css" -nt "$ASSETS/dashboard.css" ] || [ "$ROOT/web/template.html" -nt "$ASSETS/template.html" ]; then
  "$ROOT/web/build.sh" "$ASSETS" || { bad "web assets build (web/build.sh)"; finish; }
fi
[ -d "$ROOT/web/node_modules/playwright-core" ] || (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error) \
  || { bad "npm ci in web/ (playwright-core)"; finish; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { bad "chromium at $CHROMIUM (apt-get install chromium)"; finish; }
export CHROMIUM

# --- a report from generated data ------------------------------------------
"$CP" gen --events 150000 --seed 8 --out "$T/gen" >/dev/null 2>&1
check "gen" test -s "$T/gen/events.csv"
"$CP" report --quiet --out "$T/rep" --tags "$T/gen/tags.csv" --format xlsx "$T/gen/events.csv"
check "report --format xlsx exits 0" test $? = 0
check "report.html written" test -s "$T/rep/report.html"
check "report.xlsx written" test -s "$T/rep/report.xlsx"
check "the CSVs are still written with --format xlsx" test -s "$T/rep/business_daily.csv"

# report.html is one file: the library and the data are inside it
check "report.html inlines its script" grep -q 'window.clickpath' "$T/rep/report.html"
check "report.html loads nothing (no src= or href= to a file or URL)" \
  bash -c "! grep -Eiq '<(script|link|img|iframe)[^>]+(src|href)=' '$T/rep/report.html'"

# report.xlsx: a zip with one sheet per report CSV
if command -v unzip >/dev/null; then
  n_csv=$(ls "$T/rep"/*.csv | grep -Evc '/(clv_model)\.')
  n_sheets=$(unzip -p "$T/rep/report.xlsx" xl/workbook.xml | grep -o '<sheet ' | wc -l)
  check "report.xlsx: one sheet per CSV ($n_csv)" test "$n_sheets" = "$n_csv"
  check "report.xlsx: header rows frozen" bash -c "unzip -p '$T/rep/report.xlsx' xl/worksheets/sheet1.xml | grep -q 'state=\"frozen\"'"
fi

# --- the page in Chromium ----------------------------------------------------
mkdir -p "$ART"
node "$ROOT/tests/e2e/dashboard.mjs" full "$T/rep" "$ART" > "$T/mjs.out" 2>&1
cat "$T/mjs.out"
pass=$((pass + $(grep -c '^ok ' "$T/mjs.out")))
fail=$((fail + $(grep -c '^FAIL ' "$T/mjs.out")))
grep -q 'dashboard.mjs: .* passed' "$T/mjs.out" || bad "dashboard.mjs ran to its end"

# --- missing assets: a tables-only page, and the run still succeeds ----------
mkdir -p "$T/bin" && cp "$CP" "$T/bin/clickpath"
"$T/bin/clickpath" report --quiet --out "$T/rep2" --tags "$T/gen/tags.csv" "$T/gen/events.csv"
check "report without web assets exits 0" test $? = 0
check "report.html without web assets has the note" grep -q 'cp-note' "$T/rep2/report.html"
node "$ROOT/tests/e2e/dashboard.mjs" fallback "$T/rep2" "$ART" > "$T/mjs2.out" 2>&1
cat "$T/mjs2.out"
pass=$((pass + $(grep -c '^ok ' "$T/mjs2.out")))
fail=$((fail + $(grep -c '^FAIL ' "$T/mjs2.out")))

# --- 10M events: report.html under 5 MB (opt in) ---------------------------
if [ "${CP_DASH_BIG:-}" = 1 ]; then
  "$CP" gen --events 10000000 --seed 3 --out "$T/big" >/dev/null 2>&1
  "$CP" report --quiet --out "$T/bigrep" --tags "$T/big/tags.csv" "$T/big/events.csv"
  size=$(wc -c < "$T/bigrep/report.html")
  echo "report.html for 10M events: $size bytes"
  check "report.html for 10M events is under 5 MB" test "$size" -lt 5000000
fi
finish
