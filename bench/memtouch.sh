#!/usr/bin/env bash
# memtouch.sh -- what fresh memory costs on this machine: seconds per GiB to
# give anonymous memory its pages by page faults, by MADV_POPULATE_WRITE
# (what clickpath's ingest does for its columns) and with transparent huge
# pages (bench/memtouch.c says why it matters).  Read the system time of a
# large run against it: 100M events touch about 9 GiB.
#
#   bench/memtouch.sh                 # 4096 MiB, 3 rounds of each mode
#   SIZE_MIB=8192 RUNS=5 bench/memtouch.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIZE_MIB=${SIZE_MIB:-4096}
RUNS=${RUNS:-3}
mkdir -p "$BENCH_DIR/out"
bin=$BENCH_DIR/out/memtouch
${CC:-cc} -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -o "$bin" "$BENCH_DIR/memtouch.c"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB;" \
     "THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)," \
     "defrag $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null || echo n/a)"
for ((r = 1; r <= RUNS; r++)); do
    for mode in fault populate huge; do
        printf 'round %d  ' "$r"; "$bin" "$SIZE_MIB" "$mode"
    done
done
