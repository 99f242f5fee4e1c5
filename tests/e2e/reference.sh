#!/usr/bin/env bash
# Cross-check of the C engine against the independent Python reference
# (tests/reference/spec_ref.py, written from SPEC.md alone): every report the
# two both write must agree cell by cell (tests/reference/compare.py).
# Usage: tests/e2e/reference.sh [build/clickpath]     (docs/reference.md)
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
CP=$(realpath "${1:-$HERE/build/clickpath}")
REF="python3 $HERE/tests/reference/spec_ref.py"
CMP="python3 $HERE/tests/reference/compare.py --missing-ok --flag-only diagnostics.csv:note"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
run_case() {      # name events tags [options...]
    local name=$1 ev=$2 tags=$3; shift 3
    rm -rf "$T/c" "$T/p"
    "$CP" report "$ev" --tags "$tags" --out "$T/c" --no-clv --quiet \
        --max-reject-rate 1 "$@" >"$T/c.log" 2>&1
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: clickpath report exited $rc"; cat "$T/c.log"
        fail=$((fail+1)); return
    fi
    if ! $REF "$ev" --tags "$tags" --out "$T/p" "$@"; then
        echo "FAIL $name: spec_ref.py failed"; fail=$((fail+1)); return
    fi
    if $CMP "$T/c" "$T/p" > "$T/cmp.log"; then
        echo "ok   $name"; pass=$((pass+1))
    else
        echo "FAIL $name"; sed 's/^/     /' "$T/cmp.log"; fail=$((fail+1))
    fi
}

# --- generated data ---------------------------------------------------------
"$CP" gen --events 30000 --seed 11 --out "$T/g" >/dev/null 2>&1 \
    || { echo "FAIL gen"; exit 1; }
run_case "gen 30000 seed 11, defaults" "$T/g/events.csv" "$T/g/tags.csv"
run_case "gen 30000 seed 11, --tz America/Los_Angeles --session idle:30m" \
    "$T/g/events.csv" "$T/g/tags.csv" --tz America/Los_Angeles --session idle:30m
"$CP" gen --events 30000 --seed 12 --format jsonl --out "$T/j" >/dev/null 2>&1 \
    || { echo "FAIL gen jsonl"; exit 1; }
run_case "gen 30000 seed 12, JSON Lines" "$T/j/events.jsonl" "$T/j/tags.csv"

# --- hand-written edge cases (R1.4b reasons, R2-R10 boundaries) -------------
python3 - "$T/edge" <<'PY'
import os, sys
d = sys.argv[1]; os.makedirs(d)
COLS = ["ts", "type", "visitor", "customer", "ip", "ua", "referrer", "asin",
        "campaign", "ad_group", "keyword", "tag", "click_id", "cost", "order",
        "units", "price", "amount", "loaded", "rating"]
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
lines = []
def ev(ts, type, **f):
    f.setdefault("ua", UA)
    row = []
    for c in COLS:
        v = {"ts": ts, "type": type}.get(c, f.get(c, ""))
        if any(ch in v for ch in ',"\n'):
            v = '"' + v.replace('"', '""') + '"'
        row.append(v)
    lines.append(",".join(row).encode())
def raw(b):
    lines.append(b)
D = "2024-03-0"
# R2: v1 is seen with alice later, so its earlier events are alice's
ev(D+"1T10:00:00Z", "impression", visitor="v1", asin="A1", campaign="C1", ad_group="G", keyword="k", cost="0.01")
ev(D+"1T10:00:05Z", "click", visitor="v1", ip="10.0.0.1", asin="A1", campaign="C1", ad_group="G", keyword="k", click_id="k1", cost="1.00")
ev(D+"1T10:00:07Z", "page_view", visitor="v1", asin="A1", click_id="k1")
ev(D+"1T10:05:00.123456Z", "page_view", visitor="v1", asin="A2")
ev(D+"1T10:06:00Z", "add_to_cart", visitor="v1", asin="A1")
ev(D+"2T09:00:00Z", "purchase", visitor="v1", customer="alice", asin="A1", order="o1", units="2", price="10.00")
ev(D+"2T09:00:00Z", "purchase", customer="alice", asin="A3", order="o1", price="5.5")
ev(D+"2T10:00:00Z", "feedback", customer="alice", order="o1", rating="5")
ev(D+"4T10:00:00Z", "feedback", customer="alice", order="o1", rating="1")
# R6.1: a click with the purchase's own timestamp, later in input order
ev(D+"3T12:00:00Z", "purchase", visitor="v2", asin="A2", order="o2", amount="7.665")
ev(D+"3T12:00:00Z", "click", visitor="v2", ip="10.0.0.2", asin="A2", campaign="C2", click_id="k2", cost="0.5")
# R1.3: orders without id; R1.4a: a negative purchase is a return
ev(D+"3T13:00:00Z", "purchase", visitor="v3", asin="A1", units="1", price="3")
ev(D+"3T13:00:00Z", "purchase", visitor="v3", asin="A2", units="3", price="2.25")
ev(D+"5T13:00:00Z", "return", visitor="v3", asin="A1", units="1", price="3")
ev(D+"6T13:00:00Z", "purchase", visitor="v3", asin="A2", order="o9", units="-1", amount="-2.25")
# R3: bot, empty user agent, duplicate and its 72 h boundary, flood
ev(D+"1T11:00:00Z", "click", visitor="v4", ua="Mozilla/5.0 (compatible; Googlebot/2.1)", asin="A1", campaign="C1", click_id="k4", cost="1")
ev(D+"1T11:00:01Z", "click", visitor="v5", ua="", asin="A1", campaign="C1", click_id="k5", cost="1")
ev(D+"1T11:00:02Z", "impression", visitor="v5", ua="", asin="A1", campaign="C1", cost="0.02")
ev(D+"1T11:00:03Z", "impression", visitor="v5", ua="curl/8.0", asin="A1", campaign="C1", cost="0.5")
for i, t in enumerate(["1T12:00:00Z", "2T12:00:00Z", "4T12:00:00Z", "4T12:00:01Z"]):
    ev(D+t, "click", visitor="v6", asin="A2", campaign="C1", ad_group="G", keyword="k", click_id="d%d" % i, cost="0.3")
for i in range(12):
    ev(D+"7T08:%02d:00Z" % (i * 5), "click", visitor="f%d" % i, ip="9.9.9.9", tag="T1", referrer="https://www.google.com/", click_id="f%d" % i)
ev(D+"7T09:00:00Z", "click", visitor="f12", ip="9.9.9.9", tag="T1", click_id="f12")
# R3.4 bounces; a repeated click id; a landing page view before its click
ev(D+"1T14:00:00Z", "click", visitor="v7", asin="A1", campaign="C2", click_id="k7", cost="0.4")
ev(D+"1T14:10:00Z", "click", visitor="v7", asin="A1", campaign="C3", click_id="k8", cost="0.4")
ev(D+"1T14:10:02Z", "page_view", visitor="v7", asin="A1", click_id="k8", loaded="0")
ev(D+"1T15:00:00Z", "click", visitor="v9", asin="A4", campaign="C3", click_id="k9", cost="0.4")
ev(D+"1T15:00:01Z", "page_view", visitor="v9", asin="A4", click_id="k9")
ev(D+"5T15:00:00Z", "click", visitor="v9", asin="A4", campaign="C3", click_id="k9", cost="0.4")
ev(D+"5T15:00:01Z", "page_view", visitor="v9", asin="A4", click_id="k9", loaded="TRUE")
ev(D+"2T16:00:00Z", "page_view", visitor="v10", asin="A4", click_id="k10")
ev(D+"2T16:00:02Z", "click", visitor="v10", asin="A4", campaign="C3", click_id="k10", cost="0.4")
# R4.2 fixed 24 h boundary; a session crossing midnight
ev("2024-03-20T10:00:00Z", "page_view", visitor="v11", asin="A1")
ev("2024-03-21T10:00:00Z", "page_view", visitor="v11", asin="A1")
ev("2024-03-22T23:50:00Z", "page_view", visitor="v12", asin="A1")
ev("2024-03-23T00:10:00Z", "page_view", visitor="v12", asin="A5")
# R7: tags, unknown tag, ASIN mismatch, shared tag, conversions
ev(D+"8T10:00:00Z", "click", visitor="v8", ip="10.0.0.8", tag="T1", referrer="https://www.google.com/search?q=x", click_id="t1", cost="0.25")
ev(D+"8T10:00:03Z", "page_view", visitor="v8", asin="A2", click_id="t1")
ev(D+"8T10:01:00Z", "add_to_cart", visitor="v8", asin="A2")
ev(D+"9T10:00:00Z", "click", visitor="v13", ip="10.0.0.13", tag="T1", referrer="https://l.facebook.com/", click_id="t2")
ev(D+"9T10:00:00Z", "click", visitor="v14", ip="10.0.0.14", tag="TX", click_id="t3")
ev("2024-03-15T10:00:00Z", "purchase", visitor="v8", customer="bob", asin="A2", order="o8", units="2", price="19.99")
ev("2024-03-25T10:00:00Z", "purchase", customer="bob", asin="A2", order="o10", price="19.99")
# R1.4b: one reject per reason, in order
raw(b"2024-03-01T10:00:00Z,page_view,v1,,,\xff,,A1" + b"," * 12)
raw(b'2024-03-01T10:00:00Z,page_view,v"1,,,,,A1' + b"," * 12)
raw(b'2024-03-01T10:00:00Z,page_view,"v1"x,,,,,A1' + b"," * 12)
raw(b"2024-03-01T10:00:00Z,page_view,v1")
ev("", "page_view", visitor="v1", asin="A1")
for bad in ["2024-02-30T00:00:00Z", "2024-03-01T12:34Z", "2024-03-01", "1970-01-01T00:59:59+01:00",
            "2099-12-31T23:59:59.500Z", "170000000000", " 2024-03-01T00:00:00Z", "2024-03-01T24:00:00Z",
            "2024-03-01T00:00:00+08"]:
    ev(bad, "page_view", visitor="v1", asin="A1")
ev(D+"1T00:00:00Z", "", visitor="v1", asin="A1")
ev(D+"1T00:00:00Z", "Click", visitor="v1", asin="A1")
ev(D+"1T00:00:00Z", "click", visitor="v1", campaign="C1", tag="T1")
ev(D+"1T00:00:00Z", "click", visitor="v1")
ev(D+"1T00:00:00Z", "click", campaign="C1")
ev(D+"1T00:00:00Z", "impression", visitor="v1")
ev(D+"1T00:00:00Z", "feedback", order="o1", rating="2")
ev(D+"1T00:00:00Z", "feedback", visitor="v1", rating="2")
ev(D+"1T00:00:00Z", "page_view", visitor="v1")
ev(D+"1T00:00:00Z", "add_to_cart", asin="A1")
for c in ["1e5", "-1", "1.0000001", "+1", ".", "NaN", "1000000000000.01"]:
    ev(D+"1T00:00:00Z", "click", visitor="v1", campaign="C1", cost=c)
for u in ["0", "1.5", "-1", "1000000001"]:
    ev(D+"1T00:00:00Z", "return", visitor="v1", asin="A1", units=u)
ev(D+"1T00:00:00Z", "purchase", visitor="v1", asin="A1", price="-1")
ev(D+"1T00:00:00Z", "purchase", visitor="v1", asin="A1", units="-2", amount="5")
ev(D+"1T00:00:00Z", "purchase", visitor="v1", asin="A1", units="1001", price="1000000000")
ev(D+"1T00:00:00Z", "page_view", visitor="v1", asin="A1", loaded="yes")
ev(D+"1T00:00:00Z", "page_view", visitor="v1", asin="A1", rating="9")
ev(D+"1T00:00:00Z", "feedback", visitor="v1", order="o1")
ev(D+"1T00:00:00Z", "feedback", visitor="v1", order="o1", rating="0")
# accepted oddities: space for T, offsets, epochs, decimals
ev("2024-03-01 09:00:00", "page_view", visitor="v20", asin="A6")
ev("2024-03-01T20:00:00+0800", "page_view", visitor="v20", asin="A6", cost=".5")
ev("1709300000", "page_view", visitor="v21", asin="A6", cost="5.")
ev("1709300000123", "page_view", visitor="v21", asin="A6", cost="1.5000000000")
ev("2024-03-01T10:00:00.9999z", "page_view", visitor="v22", asin="A6", rating="05")
head = ",".join(COLS).encode()
body = b"\n".join(lines)
quoted = b'2024-03-01T10:00:00Z,page_view,"multi\nline visitor",,,x,,A6' + b"," * 12
with open(os.path.join(d, "edge.csv"), "wb") as fh:
    fh.write(b"\xef\xbb\xbf" + head + b"\r\n" + body + b"\n\n  \n" + quoted +
             b"\n" + lines[0] + b"\r\n" + b'2024-03-01T10:00:00Z,page_view,"open')
with open(os.path.join(d, "tags.csv"), "w") as fh:
    fh.write("tag,channel,publisher,campaign,asin\n"
             "T1,google,cpc,G1,A1\nT2,facebook,feed,F1,A2\nT3,google,cpc,G1,A3\n")
PY
# JSON Lines: number text, booleans, null, nesting, NUL, repeated keys;
# wall times in --input-tz across both DST changes; a second file whose
# events tie the first file's timestamps (R1.6)
cat > "$T/edge/edge.jsonl" <<'JSONL'
{"ts":"2024-03-01T10:00:00Z","type":"click","visitor":"j1","campaign":"C1","asin":"A1","click_id":"jk1","cost":0.75,"ua":"Mozilla/5.0"}
{"ts":"2024-03-01T10:00:02Z","type":"page_view","visitor":"j1","asin":"A1","click_id":"jk1","loaded":true}
{"ts":"2024-03-01T10:00:03Z","type":"page_view","visitor":"j1","asin":"A1","loaded":false}
{"ts":1709287205,"type":"page_view","visitor":"j1","asin":"A2","loaded":null,"rating":null}
{"ts":"2024-03-01T10:00:06Z","type":"purchase","visitor":"j1","asin":"A1","units":2,"price":"9.99","order":"jo1"}

{"ts":"2024-03-01T10:00:07Z","type":"click","visitor":"j1","campaign":"C1","cost":1e5}
{"ts":"2024-03-01T10:00:08Z","type":"click","visitor":"j1","campaign":"C1","extra":{"a":1}}
{"ts":"2024-03-01T10:00:09Z","type":"click","visitor":"j1","campaign":"C1","extra":[1]}
{"ts":"2024-03-01T10:00:10Z","type":"click","visitor":"j\u0000","campaign":"C1"}
["ts","type"]
{"ts":"2024-03-01T10:00:11Z","type":"page_view"
{"ts":"2024-03-01T10:00:12Z","type":"page_view","visitor":"j2","asin":"A1","asin":"A9"}
{"ts":"2024-03-01T10:00:13Z","type":"page_view","visitor":"j2","asin":"A1","loaded":1}
{"ts":"2024-03-01T10:00:14Z","type":"page_view","visitor":"j2","asin":"A1","units":NaN}
{"ts":"2024-03-01T10:00:15Z","type":"page_view","visitor":"","customer":"","asin":"A1"}
{"ts":"2024-03-10 02:30:00","type":"page_view","visitor":"j3","asin":"A1"}
{"ts":"2024-11-03 01:30:00","type":"page_view","visitor":"j3","asin":"A1"}
{"ts":"2024-11-03T01:30:00-07:00","type":"page_view","visitor":"j3","asin":"A2"}
{"ts":"2024-03-10T10:30:00Z","type":"click","visitor":"j3","tag":"T2","click_id":"jt","ua":"Mozilla/5.0"}
JSONL
printf 'ts,type,visitor,asin,click_id\n2024-03-01T10:00:02Z,page_view,j9,A7,jk1\n2024-03-10T10:30:00Z,page_view,j3,A2,jt\n' > "$T/edge/second.csv"
run_case "edge JSON Lines + a second file, --input-tz America/Los_Angeles" \
    "$T/edge/edge.jsonl" "$T/edge/tags.csv" "$T/edge/second.csv" --input-tz America/Los_Angeles
run_case "edge cases, defaults" "$T/edge/edge.csv" "$T/edge/tags.csv"
run_case "edge cases, --tz America/Los_Angeles --session idle:30m" \
    "$T/edge/edge.csv" "$T/edge/tags.csv" --tz America/Los_Angeles --session idle:30m
run_case "edge cases, --no-stitch --as-of 2024-03-10" \
    "$T/edge/edge.csv" "$T/edge/tags.csv" --no-stitch --as-of 2024-03-10

# R1.4b whole-line boundaries: blank lines before the header (physical line
# numbers), a truncated UTF-8 sequence and a NUL (U+FFFD per byte in text),
# a record of 1 MiB + 1 and one of exactly 1 MiB, CR inside fields, CRLF in
# quotes, a space after a closing quote, a value with a trailing blank; a
# multi-stream gzip file; a header-only and an empty file
python3 - "$T/raw" <<'PY'
import gzip, os, sys
d = sys.argv[1]; os.makedirs(d)
h = b"ts,type,visitor,asin,ua\n"
rows = [b"2024-03-01T10:00:00Z,page_view,v1,A1,\xe2\x82x",
        b"2024-03-01T10:00:01Z,page_view,v1,A1,a\rb",
        b'2024-03-01T10:00:02Z,page_view,v1,A1,"x\r\ny"',
        b"2024-03-01T10:00:03Z,page_view ,v1,A1,u",
        b"2024-03-01T10:00:04Z,page_view,v1,A1," + b"u" * (1 << 20),
        b"2024-03-01T10:00:05Z,page_view,v1,A1," + b"u" * ((1 << 20) - 37),
        b'2024-03-01T10:00:06Z,page_view,v1,A1,"a""b"',
        b'2024-03-01T10:00:07Z,page_view,v1,A1,"a" ',
        b"2024-03-01T10:00:08Z,page_view,v1,A1," + "\u00e9".encode() * 300 + b"\x00",
        b"2024-03-01T10:00:09Z,page_view,v1,A1,ok\r"]
open(os.path.join(d, "a.csv"), "wb").write(b"\n \n" + h + b"\n".join(rows) + b"\n")
open(os.path.join(d, "h.csv"), "wb").write(h)
open(os.path.join(d, "e.csv"), "wb").write(b"")
open(os.path.join(d, "m.csv.gz"), "wb").write(
    gzip.compress(h + rows[6] + b"\n") +
    gzip.compress(b"2024-03-02T10:00:00Z,page_view,v2,A2,u\n"))
open(os.path.join(d, "tags.csv"), "w").write("tag,channel,publisher,campaign,asin\n")
PY
for f in a.csv h.csv e.csv m.csv.gz; do
    run_case "raw input $f" "$T/raw/$f" "$T/raw/tags.csv"
done

# --- random small logs: few identities, addresses, click ids and orders, so
# that every rule meets its boundaries (REF_SEEDS seeds, default 20) ---------
cat > "$T/rand.py" <<'PY'
import random, sys, os, csv, datetime
seed = int(sys.argv[1]); out = sys.argv[2]
R = random.Random(seed)
COLS = ["ts","type","visitor","customer","ip","ua","referrer","asin","campaign","ad_group","keyword","tag","click_id","cost","order","units","price","amount","loaded","rating"]
base = 1709251200  # 2024-03-01
rows = []
n = R.randint(20, 400)
span = R.choice([3600, 86400, 5*86400, 20*86400, 60*86400])
for i in range(n):
    t = base + R.randint(0, span)
    typ = R.choice(["impression","click","click","page_view","page_view","page_view","add_to_cart","purchase","return","feedback"])
    r = dict.fromkeys(COLS, "")
    ms = R.choice([0, 0, R.randint(0, 999)])
    r["ts"] = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (".%03dZ" % ms)
    r["type"] = typ
    if R.random() < 0.9: r["visitor"] = "v%d" % R.randint(1, 8)
    if R.random() < 0.25 or not r["visitor"]: r["customer"] = "c%d" % R.randint(1, 4)
    if R.random() < 0.8: r["ip"] = "10.0.0.%d" % R.randint(1, 3)
    r["ua"] = R.choice(["Mozilla/5.0", "Mozilla/5.0", "Mozilla/5.0", "", "Googlebot"]) 
    r["asin"] = R.choice(["A1", "A2", "A3"])
    if typ in ("impression", "click"):
        if typ == "impression" or R.random() < 0.5:
            r["campaign"] = R.choice(["C1", "C2"]); r["ad_group"] = R.choice(["", "G"]); r["keyword"] = R.choice(["", "k"])
            if R.random() < 0.2: r["asin"] = ""
        else:
            r["tag"] = R.choice(["T1", "T2", "T3", "TX"])
            r["referrer"] = R.choice(["", "https://www.google.com/", "https://l.facebook.com/x", "https://mail.google.com/"])
        r["cost"] = R.choice(["", "0.1", "0.25", "1.005", "0.0035"])
        if typ == "click" and R.random() < 0.9: r["click_id"] = "k%d" % R.randint(1, 40)
    if typ == "page_view":
        if R.random() < 0.6: r["click_id"] = "k%d" % R.randint(1, 40)
        if R.random() < 0.15: r["loaded"] = R.choice(["0", "false", "1"])
    if typ in ("purchase", "return"):
        if R.random() < 0.8 or (os.environ.get("NOIDLESS") and typ == "return"): r["order"] = "o%d-%s" % (R.randint(1, 15), r["customer"] or r["visitor"])
        r["units"] = R.choice(["", "1", "2", "3"] + (["-1"] if typ == "purchase" else []))
        if os.environ.get("NOIDLESS") and r["units"] == "-1" and not r["order"]: r["units"] = "1"
        if R.random() < 0.8: r["price"] = R.choice(["9.99", "20", "0.5"])
        if R.random() < 0.2: r["amount"] = R.choice(["15.00", "7.5"]) if r["units"] != "-1" else "-7.5"
    if typ == "feedback":
        r["order"] = "o%d-%s" % (R.randint(1, 15), r["customer"] or r["visitor"]); r["rating"] = str(R.randint(1, 5)); r["asin"] = R.choice(["", "A1"])
    if typ not in ("page_view","add_to_cart","purchase","return") and R.random() < 0.5: r["asin"] = r["asin"] if typ in ("impression","click") else ""
    rows.append(r)
os.makedirs(out, exist_ok=True)
with open(out + "/ev.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, COLS, lineterminator="\n"); w.writeheader(); w.writerows(rows)
with open(out + "/tags.csv", "w") as fh:
    fh.write("tag,channel,publisher,campaign,asin\nT1,google,cpc,G1,A1\nT2,facebook,feed,F1,A2\nT3,google,cpc,G1,A3\nT4,email,news,E1,A1\n")
PY
for s in $(seq 1 "${REF_SEEDS:-20}"); do
    python3 "$T/rand.py" "$s" "$T/r$s"
    case $((s % 5)) in
        0) opts=() ;;
        1) opts=(--session idle:30m) ;;
        2) opts=(--tz America/Los_Angeles) ;;
        3) opts=(--no-stitch) ;;
        4) opts=(--session fixed:2h --flood-clicks 3 --dedup-window 1h) ;;
    esac
    run_case "random seed $s ${opts[*]}" "$T/r$s/ev.csv" "$T/r$s/tags.csv" "${opts[@]}"
done

echo "reference: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
