#!/usr/bin/env bash
# setup.sh -- installs what clickpath needs from Debian's packages, builds
# build/clickpath and runs the demo on data it generates itself.
#
#   ./setup.sh              install, build, run the demo
#   ./setup.sh --deps-only  install the packages only (used by .ci/run)
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential make pkg-config       # compiler and build
  zlib1g-dev libzstd-dev                # gzip and zstd input (R1.1)
  libgsl-dev                            # CLV model fitting (R10.5), GPL-3
  libmicrohttpd-dev curl                # clickpath serve (issue 9) and its tests
  libxlsxwriter-dev                     # --format xlsx
  chromium unzip fonts-dejavu-core      # dashboard and workbook tests
  libcmocka-dev                         # unit test framework
  clang libclang-rt-14-dev              # clang build, sanitizers, libFuzzer
  python3                               # independent checks in the tests
  libopenmpi-dev openmpi-bin            # report --mpi (issue 7) and its tests
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# report.html assets come from npm (Chart.js): node and npm, from Debian
# only when the machine has none (a nodesource node already carries npm)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--deps-only" ] && exit 0

make -j"$(nproc)"
web/build.sh build/web || echo "setup: web/build.sh failed; report.html will have tables only"
echo
build/clickpath demo
