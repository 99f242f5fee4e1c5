#!/usr/bin/env bash
# web/build.sh -- builds the assets of report.html (issue 8; docs/dashboard.md).
#
#   web/build.sh [OUTDIR]      default OUTDIR: build/web (beside build/clickpath)
#
# Installs the charting library (Chart.js, pinned in web/package.json and
# web/package-lock.json) from npm into web/node_modules (git-ignored: the
# library is never copied into the repository), then writes
#   OUTDIR/dashboard.bundle.js   Chart.js UMD build + web/dashboard.js
#   OUTDIR/dashboard.css         web/dashboard.css
#   OUTDIR/template.html         web/template.html
# which `clickpath report` reads at run time (from <dir of the executable>/web)
# and inlines into one self-contained report.html.  Without these files the
# report still runs and report.html shows tables only.
#
# Needs node and npm (Debian: nodejs npm).  Offline re-runs reuse
# node_modules when it already holds the pinned version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${1:-$root/build/web}"

if ! command -v npm >/dev/null 2>&1; then
  echo "web/build.sh: npm not found; report.html will have tables only (apt-get install nodejs npm)" >&2
  exit 1
fi

want="$(node -p "require('$here/package.json').dependencies['chart.js']")"
have=""
if [ -f "$here/node_modules/chart.js/package.json" ]; then
  have="$(node -p "require('$here/node_modules/chart.js/package.json').version")"
fi
if [ "$have" != "$want" ] || [ ! -d "$here/node_modules/playwright-core" ]; then
  ( cd "$here" && npm ci --no-audit --no-fund --loglevel=error )
fi

lib="$here/node_modules/chart.js/dist/chart.umd.js"
[ -f "$lib" ] || { echo "web/build.sh: $lib missing after npm ci" >&2; exit 1; }

mkdir -p "$out"
tmp="$out/dashboard.bundle.js.tmp"
{
  printf '/* Chart.js %s, MIT licence, (c) Chart.js Contributors: https://www.chartjs.org */\n' "$want"
  cat "$lib"
  printf '\n;\n'
  cat "$here/dashboard.js"
} > "$tmp"
mv "$tmp" "$out/dashboard.bundle.js"
cp "$here/dashboard.css" "$out/dashboard.css.tmp" && mv "$out/dashboard.css.tmp" "$out/dashboard.css"
cp "$here/template.html" "$out/template.html.tmp" && mv "$out/template.html.tmp" "$out/template.html"
echo "web/build.sh: wrote $out/dashboard.bundle.js ($(wc -c < "$out/dashboard.bundle.js") bytes, Chart.js $want)"
