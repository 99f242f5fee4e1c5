#!/usr/bin/env python3
"""Independent check of SPEC R7 on the TalkingData sample (issue 5).

Standard library only, written apart from src/attribution/attribution.c (it
shares no code or data structures with it), so agreement between the two is
evidence, not an echo.  bench/talkingdata_attribution.sql is the same
computation in DuckDB SQL.

Mapping: every row is an off-site click (tag = channel, visitor =
ip|device|os, ip = ip, asin = app, ts = click_time, UTC); a row with an
attributed_time is also a download, read as a purchase at attributed_time
(order id = "d" + data line number).  Clicks are judged by R3.1 (no user
agents: the bot rule is off; no blocklist): flood = more than 10 clicks of the
same ip in (t - 1 h, t] at or before the click in R1.6 order; duplicate = a
valid click of the same identity and tag less than 72 h before.  A purchase at
t is credited to the latest valid click of its identity with
t - 14 d <= click time <= t (R7.1; equal times: clicks count, the last in
input order wins).  Prints purchases (distinct orders) per channel, as
"channel:count" sorted by channel, and the total.

usage: python3 bench/talkingdata_attribution.py [../shared/data/talkingdata/train_sample.csv]
"""
import bisect
import csv
import sys
from collections import defaultdict, deque
from datetime import datetime, timezone

H = 3600 * 1000
D = 24 * H


def ms(s):
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp() * 1000)


def main(path):
    events = []  # (ts, seq, kind, identity, ip, tag, order)
    seq = 0
    with open(path, newline="") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            ident = "%s|%s|%s" % (row["ip"], row["device"], row["os"])
            events.append((ms(row["click_time"]), seq, "click", ident, row["ip"], row["channel"], None))
            seq += 1
            if row["attributed_time"]:
                events.append((ms(row["attributed_time"]), seq, "purchase", ident, row["ip"], None,
                               "d%d" % line_no))
                seq += 1
    events.sort(key=lambda e: (e[0], e[1]))  # R1.6

    # R3.1.3 flood, per ip, every click counted
    recent = defaultdict(deque)
    valid = {}
    for ts, s, kind, ident, ip, tag, _ in events:
        if kind != "click":
            continue
        q = recent[ip]
        q.append(ts)
        while q[0] <= ts - H:
            q.popleft()
        valid[s] = len(q) <= 10
    # R3.1.4 duplicate, per (identity, tag), anchored on the last valid click
    last_valid = {}
    for ts, s, kind, ident, ip, tag, _ in events:
        if kind != "click" or not valid[s]:
            continue
        k = (ident, tag)
        if k in last_valid and ts - last_valid[k] < 72 * H:
            valid[s] = False
        else:
            last_valid[k] = ts

    # R7.1 per identity: valid clicks in R1.6 order; latest with ts <= t
    clicks = defaultdict(list)  # identity -> [(ts, seq, tag)]
    for ts, s, kind, ident, ip, tag, _ in events:
        if kind == "click" and valid[s]:
            clicks[ident].append((ts, s, tag))
    credited = defaultdict(set)
    for ts, s, kind, ident, ip, tag, order in events:
        if kind != "purchase":
            continue
        cl = clicks.get(ident, [])
        i = bisect.bisect_right([c[0] for c in cl], ts) - 1  # last click with time <= t
        if i >= 0 and cl[i][0] >= ts - 14 * D:
            credited[cl[i][2]].add(order)
    total = 0
    for ch in sorted(credited, key=int):
        print("%s:%d" % (ch, len(credited[ch])))
        total += len(credited[ch])
    print("total:%d" % total)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/talkingdata/train_sample.csv")
