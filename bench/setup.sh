#!/usr/bin/env bash
# setup.sh -- installs what the benchmarks need and the main build does not:
# DuckDB's Node API (npm @duckdb/node-api at the exact version that
# bench/package.json pins; its bindings pin theirs; into bench/node_modules) and
# hyperfine, GNU time and Node.js (Debian).  Not run by the main build or CI.
#
#   bench/setup.sh
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# No lock file: it would list every platform's optional bindings package and
# `npm ci` rejects it on some npm versions; the exact pins make it unneeded.
npm install --no-audit --no-fund --no-package-lock
node --input-type=module -e "import d from '@duckdb/node-api'; console.log('DuckDB', d.version(), 'ready')"
