#!/usr/bin/env bash
# End-to-end tests of `clickpath serve` (issue 9), on loopback only:
# redirects and event batches with curl, then `clickpath report DIR`; every
# event exactly once; bad requests get clear answers; a crash test that kills
# the server with SIGKILL three times under load and checks that every
# acknowledged event is in the log exactly once.
# Usage: tests/e2e/serve.sh build/clickpath      (needs curl and python3)
set -uo pipefail
CP=$(realpath "${1:-build/clickpath}")
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   $1"; }
bad()  { fail=$((fail+1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
for tool in curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "serve.sh: $tool is not installed (setup.sh installs it)"; echo "0 passed, 1 failed"; exit 1
  fi
done

T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat > "$T/reg.csv" <<'EOF'
tag,channel,publisher,campaign,asin
goog-1,google,search,spring,B000000001
fb-1,facebook,feed,spring,B000000002
EOF

# start_server DIR [OPTIONS...]: listens on a free loopback port ($PORT)
start_server() {
  local dir=$1; shift
  rm -f "$T/port"
  "$CP" serve --listen 127.0.0.1:0 --data "$dir" --registry "$T/reg.csv" --port-file "$T/port" \
    --timeout 2 "$@" 2>>"$T/server.log" &
  SRV_PID=$!
  for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
  PORT=$(cat "$T/port" 2>/dev/null || echo 0)
  U="http://127.0.0.1:$PORT"
}
# stop_server: SIGTERM, then waits (bounded) and returns its exit status
stop_server() {
  kill -TERM "$SRV_PID" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
  wait "$SRV_PID"; local rc=$?
  SRV_PID=""
  return $rc
}
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# ---- redirects and batches ----------------------------------------------------
D="$T/data"
start_server "$D"
check "server starts and writes its port"  test "$PORT" -gt 0
check "GET /healthz is 200"                test "$(code "$U/healthz")" = 200

curl -s -D "$T/h1" -o /dev/null --max-time 5 -A "Mozilla/5.0 e2e" -e "https://blog.example/p" "$U/r/goog-1?utm=x"
check "known tag answers 302"              grep -q "^HTTP/1.1 302" "$T/h1"
check "302 goes to the registry's landing URL with a click_id" \
  grep -qE "^Location: https://www.amazon.com/dp/B000000001\?tag=goog-1&click_id=[0-9a-f]{32}" "$T/h1"
check "a visitor cookie is set when missing" grep -qE "^Set-Cookie: cp_vid=[0-9a-f]{32}; .*HttpOnly" "$T/h1"
VID=0123456789abcdef0123456789abcdef
curl -s -D "$T/h2" -o /dev/null --max-time 5 -b "cp_vid=$VID" "$U/r/fb-1"
check "a valid visitor cookie is kept"     bash -c "! grep -q '^Set-Cookie' '$T/h2'"
check "unknown tag answers 404"            test "$(code "$U/r/unknown-tag")" = 404
check "path traversal in a tag is 400"     test "$(code "$U/r/..%2F..%2Fetc%2Fpasswd")" = 400
check "raw ../ in a tag is not a redirect" bash -c "c=\$(curl -s -o /dev/null -w '%{http_code}' --path-as-is '$U/r/../../etc/passwd'); test \$c = 400 -o \$c = 404"
curl -s -D "$T/h3" -o /dev/null --max-time 5 "$U/r/goog-1?url=https://evil.example/&next=//evil.example"
check "open redirect: query cannot change the target" grep -q "^Location: https://www.amazon.com/dp/B000000001?tag=goog-1&" "$T/h3"
check "open redirect: a URL as tag is 400" test "$(code "$U/r/https:%2F%2Fevil.example")" = 400
check "POST to a redirect is 405"          test "$(code -X POST "$U/r/goog-1")" = 405
check "GET /events is 405"                 test "$(code "$U/events")" = 405
check "unknown path is 404"                test "$(code "$U/nope")" = 404

# JSON Lines batch: lines 1,2,4 valid, 3 bad_json (R1.4b)
printf '%s\n' \
  '{"ts":"2024-03-01T12:00:00Z","type":"page_view","visitor":"e2e-1","asin":"B000000001"}' \
  '{"ts":"2024-03-01T12:01:00Z","type":"add_to_cart","visitor":"e2e-2","asin":"B000000001"}' \
  '{"ts":"2024-03-01T12:02:00Z","type":' \
  '{"ts":"2024-03-01T12:03:00Z","type":"purchase","visitor":"e2e-3","asin":"B000000001","order":"o1","price":"9.99"}' \
  > "$T/b1.jsonl"
A=$(curl -s --max-time 5 -H 'Content-Type: application/x-ndjson' --data-binary @"$T/b1.jsonl" "$U/events")
check "batch answer counts and names the rejected line" \
  test "$A" = '{"accepted":3,"rejected":[{"line":3,"reason":"bad_json"}]}'
printf 'ts,type,visitor,asin\n2024-03-01T12:04:00Z,page_view,e2e-4,B000000002\n2024-03-01T12:05:00Z,page_view,,B000000002\n' > "$T/b2.csv"
A=$(curl -s --max-time 5 -H 'Content-Type: text/csv' --data-binary @"$T/b2.csv" "$U/events")
check "CSV batch by Content-Type (R1.1)" \
  test "$A" = '{"accepted":1,"rejected":[{"line":3,"reason":"missing_identity","field":"visitor"}]}'
check "CSV sent as JSON Lines is 400"      test "$(code -H 'Content-Type: application/x-ndjson' --data-binary @"$T/b2.csv" "$U/events")" = 400
check "unsupported Content-Type is 415"    test "$(code -H 'Content-Type: application/xml' --data-binary '<x/>' "$U/events")" = 415
head -c 17000000 /dev/zero | tr '\0' 'x' > "$T/big"
check "body over 16 MiB is 413 (Content-Length)" test "$(code -H 'Content-Type: application/x-ndjson' --data-binary @"$T/big" "$U/events")" = 413
check "chunked body over 16 MiB is 413"    test "$(code -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/x-ndjson' --data-binary @"$T/big" "$U/events")" = 413
python3 -c "print('{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"' + 'v'*1100000 + '\",\"asin\":\"B1\"}')" > "$T/long.jsonl"
A=$(curl -s --max-time 10 -H 'Content-Type: application/x-ndjson' --data-binary @"$T/long.jsonl" "$U/events")
check "a line over 1 MiB is rejected line_too_long" test "$A" = '{"accepted":0,"rejected":[{"line":1,"reason":"line_too_long"}]}'

# malformed HTTP and a slow client, over raw sockets
check "malformed request gets a 4xx answer" python3 - "$PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(b"GARBAGE / NOPE\r\n\x01\x02\r\n\r\n")
except OSError:
    pass
r = b""
try:
    r = s.recv(200)
except OSError:
    pass
sys.exit(0 if r.startswith(b"HTTP/1.") and r[9:10] == b"4" else 1)
EOF
python3 - "$PORT" > "$T/slow.out" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"ts"')
t = time.time()
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print(round(time.time() - t))
EOF
SLOW=$!
sleep 0.3
check "a slow client does not block others" test "$(code --max-time 2 "$U/healthz")" = 200
wait "$SLOW"
check "a slow client is cut off after --timeout (bounded)" test "$(cat "$T/slow.out")" -le 6
check "server still healthy after bad requests" test "$(code "$U/healthz")" = 200

M=$(curl -s --max-time 5 "$U/metrics")
check "metrics: accepted events"           grep -q '^clickpath_events_accepted_total 4$' <<<"$M"
check "metrics: rejects by reason"         grep -q '^clickpath_events_rejected_total{reason="bad_json"} 1$' <<<"$M"
check "metrics: redirects"                 grep -q '^clickpath_redirects_total{outcome="known"} 3$' <<<"$M"
check "metrics: fsync histogram"           grep -q '^clickpath_log_fsync_seconds_bucket{le="+Inf"} [1-9]' <<<"$M"
stop_server; rc=$?
check "SIGTERM drains and exits 0"         test "$rc" = 0
check "closed segments are compressed"     bash -c "ls '$D'/events-*.jsonl.zst >/dev/null 2>&1 && ! ls '$D'/events-*.jsonl >/dev/null 2>&1"

# 3 redirects to known tags + 1 unknown (R7.2 UNKNOWN_TAG needs it) + 3 + 1 + 0 events
"$CP" report "$D" --out "$T/out" >/dev/null 2>"$T/report.err"
check "clickpath report DIR reads the segments" test -s "$T/out/summary.json"
check "every event is there exactly once (8 accepted, 0 rejected)" python3 - "$T/out/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["accepted"] == 8 and s["rejected"] == 0 else 1)
EOF

# ---- token --------------------------------------------------------------------
printf 's3cret\n' > "$T/token"
start_server "$T/data2" --token-file "$T/token"
check "POST without the token is 401"      test "$(code --data-binary @"$T/b1.jsonl" "$U/events")" = 401
check "POST with a wrong token is 401"     test "$(code -H 'Authorization: Bearer nope' --data-binary @"$T/b1.jsonl" "$U/events")" = 401
check "POST with the token is 200"         test "$(code -H 'Authorization: Bearer s3cret' -H 'Content-Type: application/x-ndjson' --data-binary @"$T/b1.jsonl" "$U/events")" = 200
check "a second collector on one DIR is refused" bash -c "'$CP' serve --listen 127.0.0.1:0 --data '$T/data2' 2>/dev/null; test \$? = 2"
stop_server

# ---- crash test: SIGKILL three times under load -------------------------------
# Loaders send batches of 20 events with unique visitors and redirects; a
# batch or click counts as acknowledged only on a 200/302 answer.  Plain
# segments (--no-compress) so the check can read them.
C="$T/crash"
: > "$T/acked_visitors"; : > "$T/acked_clicks"
start_server "$C" --no-compress
loader() {
  local id=$1 end=$(( $(date +%s) + 8 )) b=0
  while [ "$(date +%s)" -lt "$end" ] && [ $b -lt 400 ]; do
    local port; port=$(cat "$T/port" 2>/dev/null) || { sleep 0.05; continue; }  # restarting
    b=$((b+1))
    python3 -c "
import sys
for k in range(20): print('{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"L$id-B$b-E%d\",\"asin\":\"B1\"}' % k)" > "$T/batch$id"
    if [ "$(curl -s -o "$T/ans$id" -w '%{http_code}' --max-time 3 -H "Content-Type: application/x-ndjson" --data-binary @"$T/batch$id" "http://127.0.0.1:$port/events")" = 200 ] \
       && grep -q '"accepted":20' "$T/ans$id"; then
      for k in $(seq 0 19); do echo "L$id-B$b-E$k"; done >> "$T/acked_visitors.$id"
    fi
    loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 3 "http://127.0.0.1:$port/r/goog-1")
    case "$loc" in "302 "*) echo "${loc##*click_id=}" >> "$T/acked_clicks.$id";; esac
  done
}
loader 1 & L1=$!
loader 2 & L2=$!
loader 3 & L3=$!
for round in 1 2 3; do
  sleep 1.5
  kill -9 "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=""
  start_server "$C" --no-compress
done
wait "$L1" "$L2" "$L3"
stop_server
cat "$T"/acked_visitors.* > "$T/acked_visitors" 2>/dev/null
cat "$T"/acked_clicks.* > "$T/acked_clicks" 2>/dev/null
check "crash test acknowledged some batches and clicks" test -s "$T/acked_visitors" -a -s "$T/acked_clicks"
check "crash test: every acknowledged event exactly once, nothing twice, no torn line" python3 - "$C" "$T/acked_visitors" "$T/acked_clicks" <<'EOF'
import collections, glob, json, sys
d, av, ac = sys.argv[1:4]
seen_v, seen_c, bad = collections.Counter(), collections.Counter(), 0
for f in sorted(glob.glob(d + "/events-*.jsonl")):
    for line in open(f, encoding="utf-8"):
        try:
            e = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if e["type"] == "click": seen_c[e["click_id"]] += 1
        else: seen_v[e["visitor"]] += 1
acked_v = [l.strip() for l in open(av) if l.strip()]
acked_c = [l.strip() for l in open(ac) if l.strip()]
missing = [v for v in acked_v if seen_v[v] != 1] + [c for c in acked_c if seen_c[c] != 1]
dups = [k for k, n in list(seen_v.items()) + list(seen_c.items()) if n > 1]
print("  acked events %d, acked clicks %d, logged %d + %d, missing %d, duplicated %d, torn %d"
      % (len(acked_v), len(acked_c), sum(seen_v.values()), sum(seen_c.values()), len(missing), len(dups), bad))
sys.exit(0 if not missing and not dups and bad == 0 else 1)
EOF
"$CP" validate "$C" >/dev/null 2>&1; rc=$?
check "crash test: the log validates with no rejects" test "$rc" = 0

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
