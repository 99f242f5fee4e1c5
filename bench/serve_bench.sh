#!/usr/bin/env bash
# serve_bench.sh -- throughput and latency of `clickpath serve` (issue 9) on
# loopback, with wrk (Debian package `wrk`).
#
#   bench/serve_bench.sh [CLICKPATH] [--runs N] [--duration S] [--conns C]
#                        [--batch EVENTS] [--soak S]
#
# Cases, each run N times (default 5), median/min/max printed:
#   healthz    GET /healthz: the HTTP floor (no disk), the peer of the others
#   redirect   GET /r/TAG: one click logged per request, durably (fdatasync
#              before the 302)
#   events     POST /events: JSON Lines batches of EVENTS events (default
#              1000), validated (R1.3/R1.4b) and durable before the 200
# Then, with --soak S, S seconds of mixed load and the collector's RSS
# before/after (memory must stay flat).
set -euo pipefail
CP=build/clickpath
RUNS=5; DUR=5; CONNS=64; BATCH=1000; SOAK=0
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then CP=$1; shift; fi
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2;; --duration) DUR=$2; shift 2;; --conns) CONNS=$2; shift 2;;
    --batch) BATCH=$2; shift 2;; --soak) SOAK=$2; shift 2;;
    *) echo "usage: $0 [CLICKPATH] [--runs N] [--duration S] [--conns C] [--batch N] [--soak S]" >&2; exit 2;;
  esac
done
command -v wrk >/dev/null || { echo "serve_bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
CP=$(realpath "$CP")
T=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

printf 'tag,channel,publisher,campaign,asin\ngoog-1,google,search,spring,B000000001\n' > "$T/reg.csv"
"$CP" serve --listen 127.0.0.1:0 --data "$T/data" --registry "$T/reg.csv" --port-file "$T/port" 2>"$T/server.log" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
U="http://127.0.0.1:$(cat "$T/port")"

# one batch body; wrk posts it again and again (every event is logged again)
python3 - "$BATCH" > "$T/body.jsonl" <<'EOF'
import sys
n = int(sys.argv[1])
for i in range(n):
    print('{"ts":"2024-03-01T12:%02d:%02dZ","type":"page_view","visitor":"v%d","asin":"B%07d","ip":"10.0.%d.%d"}'
          % (i // 60 % 60, i % 60, i, i % 500, i % 250, i % 200))
EOF
cat > "$T/post.lua" <<EOF
local f = io.open("$T/body.jsonl", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
EOF

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
# run_wrk URL [SCRIPT] -> "requests_per_s p99_ms"
run_wrk() {
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s "$2" "$1")
  else out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$1"); fi
  local rps p99 errs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  errs=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  [ -n "$errs" ] && echo "  warning: $errs non-2xx/3xx answers" >&2
  echo "$rps $p99"
}
# stats NAME SCALE < lines of "rps p99": median/min/max of rps*SCALE and of p99
stats() {
  python3 -c "
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
scale = float(sys.argv[2])
r = sorted(x[0] * scale for x in rows); p = sorted(x[1] for x in rows)
print('%-9s %12.0f/s (min %.0f, max %.0f)   p99 %.2f ms (min %.2f, max %.2f)' % (
      sys.argv[1], statistics.median(r), r[0], r[-1], statistics.median(p), p[0], p[-1]))" "$1" "$2"
}

echo "clickpath serve benchmark: $(nproc) cores, $(uname -r), commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "wrk -t1 -c$CONNS -d${DUR}s, $RUNS runs each; batches of $BATCH events; data on $(df -P "$T" | awk 'NR==2 {print $1}')"
RSS0=$(rss_kb)
for i in $(seq "$RUNS"); do run_wrk "$U/healthz"; done > "$T/h"
for i in $(seq "$RUNS"); do run_wrk "$U/r/goog-1"; done > "$T/r"
for i in $(seq "$RUNS"); do run_wrk "$U/events" "$T/post.lua"; done > "$T/e"
stats healthz 1 < "$T/h"
stats redirect 1 < "$T/r"
stats events "$BATCH" < "$T/e"
python3 -c "
import sys
h = sorted(float(l.split()[0]) for l in open('$T/h')); r = sorted(float(l.split()[0]) for l in open('$T/r'))
print('redirect/healthz throughput ratio: %.2f (cost of logging each click durably)' % (r[len(r)//2] / h[len(h)//2]))"
curl -s "$U/metrics" | awk '/^clickpath_log_fsync_seconds_(sum|count)/ {v[$1]=$2} END {if (v["clickpath_log_fsync_seconds_count"] > 0) printf "group commits: %d, mean fdatasync %.2f ms\n", v["clickpath_log_fsync_seconds_count"], 1000*v["clickpath_log_fsync_seconds_sum"]/v["clickpath_log_fsync_seconds_count"]}'
if [ "$SOAK" -gt 0 ]; then
  echo "soak: ${SOAK}s of redirects and batches at once"
  R1=$(rss_kb)
  wrk -t1 -c32 -d"${SOAK}s" "$U/r/goog-1" >/dev/null &
  W1=$!
  wrk -t1 -c8 -d"${SOAK}s" -s "$T/post.lua" "$U/events" >/dev/null &
  W2=$!
  for s in $(seq 1 $((SOAK / 10))); do sleep 10; echo "  t=$((s * 10))s rss $(rss_kb) kB"; done
  wait "$W1" "$W2"
  echo "soak: rss $R1 kB before, $(rss_kb) kB after"
fi
echo "rss at start $RSS0 kB, at end $(rss_kb) kB; log $(du -sh "$T/data" | cut -f1)"
