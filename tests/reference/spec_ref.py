#!/usr/bin/env python3
"""Independent reference implementation of SPEC.md (shared/SPEC.md) in plain
Python 3 (standard library only), written from SPEC.md and docs/*.md alone,
never from the C sources.  It exists to check the C engine's reports cell by
cell (tests/reference/compare.py, tests/e2e/reference.sh).

Implements: R1 (CSV / JSON Lines, plain or gzip; every R1.4b reject reason in
order; R1.4a negative purchase units), R1.6 order, R2 identity, R3 invalid
clicks, R4 sessions, R6 ads, R7 off-site attribution, R9 diagnostics, R10.1-4
and R10.6 customers, segments, cohorts, CAC and feedback.  Not implemented:
zstd input, --map/--set/--ts-format/--delimiter, R10.5 CLV, summary.json.

Clarity over speed: every rule is a plain loop over events in R1.6 order.
Money is integer micro-units; ratios are fractions.Fraction rounded half to
even to six decimals (R8).

Usage: spec_ref.py EVENTS... --out DIR [--tags FILE] [--tz ZONE]
       [--input-tz ZONE] [--session fixed:24h|idle:30m] [--flood-clicks N]
       [--flood-window D] [--dedup-window D] [--ads-window D]
       [--offsite-window D] [--as-of TS|DATE] [--no-stitch]
       [--bot-list FILE] [--ip-blocklist FILE]
"""
import argparse
import bisect
import csv
import datetime as dt
import gzip
import io
import ipaddress
import json
import math
import os
import re
import sys
from collections import defaultdict
from fractions import Fraction
from zoneinfo import ZoneInfo

MS_SEC = 1000
MS_MIN = 60 * MS_SEC
MS_HOUR = 60 * MS_MIN
MS_DAY = 24 * MS_HOUR
TS_MAX = 4102444799000          # 2099-12-31T23:59:59.000Z
MICRO = 10 ** 6
MONEY_MAX = 10 ** 12 * MICRO
MiB = 1 << 20

FIELDS = ("ts", "type", "visitor", "customer", "ip", "ua", "referrer", "asin",
          "campaign", "ad_group", "keyword", "tag", "click_id", "cost",
          "order", "units", "price", "amount", "loaded", "rating")
TYPES = ("impression", "click", "page_view", "add_to_cart", "purchase",
         "return", "feedback")

# R3.1.1: our own built-in bot list (case-insensitive substrings): crawlers,
# headless browsers, HTTP libraries, AI crawlers.
BOT_LIST = [
    "bot", "crawler", "crawl", "spider", "slurp", "headless", "phantomjs",
    "selenium", "puppeteer", "playwright", "python-requests", "python-urllib",
    "aiohttp", "httpx", "curl/", "wget", "go-http-client", "scrapy", "java/",
    "okhttp", "libwww", "httpclient", "axios", "node-fetch", "gptbot",
    "chatgpt", "claudebot", "anthropic", "perplexity", "ccbot", "bytespider",
    "facebookexternalhit", "ahrefs", "semrush", "mj12", "yandex",
    "baiduspider", "duckduck", "petalbot", "applebot",
]


class Usage(Exception):
    pass


# --------------------------------------------------------------------------
# values (R1.2, R1.4b, docs/input-format.md)
# --------------------------------------------------------------------------

RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(Z|z|[+-][0-9]{2}:[0-9]{2}|[+-][0-9]{4})?")
DECIMAL = re.compile(r"(-?)([0-9]*)(?:\.([0-9]*))?")
INTEGER = re.compile(r"-?[0-9]+")


def parse_ts(s, input_tz):
    """R1.2 timestamp -> epoch milliseconds, or None when bad."""
    if re.fullmatch(r"[0-9]+", s):
        if len(s) <= 11:
            v = int(s) * 1000
        elif len(s) == 13:
            v = int(s)
        else:
            return None
        return v if 0 <= v <= TS_MAX else None
    m = RFC3339.fullmatch(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    ms = int((frac + "000")[:3])
    if not (1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= se <= 59):
        return None
    try:
        date = dt.date(y, mo, d)
    except ValueError:
        return None
    off = m.group(8)
    naive = dt.datetime(date.year, date.month, date.day, h, mi, se)
    if off in ("Z", "z"):
        offset_ms = 0
    elif off:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:])
        if oh > 23 or om > 59:
            return None
        offset_ms = sign * (oh * 60 + om) * MS_MIN
    elif input_tz is None:
        offset_ms = 0
    else:
        # fold=0: the earlier instant in an overlap, the offset before a gap
        uo = naive.replace(tzinfo=input_tz, fold=0).utcoffset()
        offset_ms = int(uo.total_seconds()) * 1000
    epoch = dt.datetime(1970, 1, 1)
    v = (naive - epoch) // dt.timedelta(milliseconds=1) + ms - offset_ms
    return v if 0 <= v <= TS_MAX else None


def parse_decimal(s):
    """docs/input-format.md decimal -> micros, or None (any sign)."""
    m = DECIMAL.fullmatch(s)
    if not m:
        return None
    neg, ip, fp = m.group(1), m.group(2), m.group(3)
    fp = fp or ""
    if not ip and not fp:
        return None
    if fp[6:].strip("0"):
        return None
    v = int(ip or "0") * MICRO + int((fp[:6] + "000000")[:6])
    if v > MONEY_MAX:
        return None
    return -v if neg else v


def parse_int(s):
    if not INTEGER.fullmatch(s):
        return None
    v = int(s)
    return v if abs(v) <= 10 ** 9 else None


def parse_duration(s):
    m = re.fullmatch(r"([0-9]+)(ms|s|m|h|d|w)", s)
    if not m:
        raise Usage("bad duration: " + s)
    mult = {"ms": 1, "s": MS_SEC, "m": MS_MIN, "h": MS_HOUR, "d": MS_DAY,
            "w": 7 * MS_DAY}[m.group(2)]
    return int(m.group(1)) * mult


# --------------------------------------------------------------------------
# R1 reading
# --------------------------------------------------------------------------

def valid_utf8(b):
    if b"\x00" in b:
        return False
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def reject_text(raw):
    t = raw.replace(b"\x00", b"\xff").decode("utf-8", "replace")
    return t[:200]


def is_blank(line):
    return not line.strip(b" \t\r")


def csv_records(data):
    """Yield (line, raw_bytes, fields or None, error) for each CSV record and
    ('blank', line) tuples for blank lines.  error is None,
    'csv_bad_quote' or 'csv_unterminated_quote'."""
    n = len(data)
    pos = 0
    line = 1
    while pos < n:
        nl = data.find(b"\n", pos)
        pend = n if nl < 0 else nl
        phys = data[pos:pend]
        if is_blank(phys):
            yield ("blank", line, None, None, None)
            pos = pend + 1
            line += 1
            continue
        if b'"' not in phys:
            raw = phys[:-1] if phys.endswith(b"\r") else phys
            yield ("rec", line, raw, raw.split(b","), None)
            pos = pend + 1
            line += 1
            continue
        # char-level RFC 4180
        start, start_line = pos, line
        fields = []
        i = pos
        err = None
        end = None           # index of the record's line end (exclusive)
        while True:
            if i < n and data[i:i + 1] == b'"':
                i += 1
                buf = bytearray()
                while True:
                    q = data.find(b'"', i)
                    if q < 0:
                        err = "csv_unterminated_quote"
                        break
                    buf += data[i:q]
                    if data[q + 1:q + 2] == b'"':
                        buf += b'"'
                        i = q + 2
                        continue
                    i = q + 1
                    break
                if err:
                    line += data.count(b"\n", start, n)
                    end = n
                    break
                fields.append(bytes(buf))
                c = data[i:i + 1]
                if c == b",":
                    i += 1
                    continue
                if c == b"" or c == b"\n" or (c == b"\r" and data[i + 1:i + 2] in (b"\n", b"")):
                    end = i
                    break
                err = "csv_bad_quote"
                break
            else:
                j = i
                while j < n and data[j:j + 1] not in (b",", b"\n", b'"'):
                    j += 1
                c = data[j:j + 1]
                if c == b'"':
                    err = "csv_bad_quote"
                    i = j
                    break
                f = data[i:j]
                if c != b"," and f.endswith(b"\r"):
                    f = f[:-1]
                fields.append(f)
                if c == b",":
                    i = j + 1
                    continue
                end = j
                break
        if err == "csv_bad_quote":
            e = data.find(b"\n", i)
            end = n if e < 0 else e
        line += data.count(b"\n", start, end)
        raw = data[start:end]
        if err == "csv_unterminated_quote":
            raw = raw.rstrip(b"\n")
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        yield ("rec", start_line, raw, fields, err)
        pos = end + 1
        line += 1


class Event:
    __slots__ = FIELDS + ("file", "fidx", "line", "seq", "ms", "cost_m",
                          "units_n", "price_m", "amount_m", "sales",
                          "is_loaded", "rating_n", "identity", "okey",
                          "valid", "reason", "pos")


def check_record(rec, input_tz):
    """R1.3 / R1.4b field checks of a dict of present values.  Returns
    (reason, field) or None; on success fills the parsed values."""
    g = rec.get
    if g("ts") is None:
        return ("missing_ts", "ts")
    ms = parse_ts(rec["ts"], input_tz)
    if ms is None:
        return ("bad_ts", "ts")
    t = g("type")
    if t is None:
        return ("missing_type", "type")
    if t not in TYPES:
        return ("bad_type", "type")
    ident = g("visitor") is not None or g("customer") is not None
    if t == "click":
        if g("campaign") is not None and g("tag") is not None:
            return ("click_campaign_and_tag", "tag")
        if g("campaign") is None and g("tag") is None:
            return ("click_without_campaign_or_tag", "campaign")
        if not ident:
            return ("missing_identity", "visitor")
    elif t == "impression":
        if g("campaign") is None:
            return ("missing_campaign", "campaign")
    elif t == "feedback":
        if not ident:
            return ("missing_identity", "visitor")
        if g("order") is None:
            return ("missing_order", "order")
    else:
        if g("asin") is None:
            return ("missing_asin", "asin")
        if not ident:
            return ("missing_identity", "visitor")
    parsed = {"ms": ms}
    if g("cost") is not None:
        v = parse_decimal(rec["cost"])
        if v is None or v < 0:
            return ("bad_cost", "cost")
        parsed["cost"] = v
    units = 1
    if g("units") is not None:
        v = parse_int(rec["units"])
        if v is None or v == 0 or (v < 0 and t != "purchase"):
            return ("bad_units", "units")
        units = v
    negated = False
    if units < 0:          # R1.4a: a purchase of negative units is a return
        negated = True
        units = -units
        t = "return"
    price = None
    if g("price") is not None:
        v = parse_decimal(rec["price"])
        if v is None or v < 0:
            return ("bad_price", "price")
        price = v
    amount = None
    if g("amount") is not None:
        v = parse_decimal(rec["amount"])
        if v is not None and negated:
            v = -v
        if v is None or v < 0:
            return ("bad_amount", "amount")
        amount = v
    if amount is None and price is not None and units * price > MONEY_MAX:
        return ("bad_price", "price")     # docs/input-format.md: line totals
    loaded = True
    if g("loaded") is not None:
        lv = rec["loaded"].lower()
        if lv not in ("0", "1", "true", "false"):
            return ("bad_loaded", "loaded")
        loaded = lv in ("1", "true")
    rating = None
    if g("rating") is not None:
        v = parse_int(rec["rating"])
        if v is None or not 1 <= v <= 5:
            return ("bad_rating", "rating")
        rating = v
    elif t == "feedback":
        return ("bad_rating", "rating")
    parsed.update(type=t, units=units, price=price, amount=amount,
                  loaded=loaded, rating=rating)
    return parsed


class Reader:
    def __init__(self, input_tz):
        self.input_tz = input_tz
        self.events = []
        self.rejects = []      # (file, line, reason, field, text)
        self.inputs = []

    def add_event(self, path, fidx, line, rec, raw):
        r = check_record(rec, self.input_tz)
        if isinstance(r, tuple):
            self.rejects.append((path, line, r[0], r[1], reject_text(raw)))
            return False
        e = Event()
        for f in FIELDS:
            setattr(e, f, rec.get(f))
        e.file, e.fidx, e.line, e.seq = path, fidx, line, len(self.events)
        e.ms = r["ms"]
        e.type = r["type"]
        e.cost_m = r.get("cost", 0)
        e.units_n = r["units"]
        e.price_m = r["price"]
        e.amount_m = r["amount"]
        if e.amount_m is not None:
            e.sales = e.amount_m
        else:
            e.sales = e.units_n * (e.price_m or 0)
        e.is_loaded = r["loaded"]
        e.rating_n = r["rating"]
        e.valid, e.reason = True, None
        self.events.append(e)
        return True

    def read(self, path, fidx):
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as fh:
                    data = fh.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            elif data[:4] == b"\x28\xb5\x2f\xfd":
                raise Usage(path + ": zstd input is not supported by the reference")
        except (OSError, EOFError, gzip.BadGzipFile) as ex:
            raise Usage("%s: %s" % (path, ex))
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        stats = {"file": path, "lines": 0, "accepted": 0, "rejected": 0,
                 "blank_lines": 0}
        first = None
        for ln in data.split(b"\n"):
            if not is_blank(ln):
                first = ln
                break
        if first is not None and first.lstrip(b" \t").startswith(b"{"):
            self.read_jsonl(path, fidx, data, stats)
        elif first is not None:
            self.read_csv(path, fidx, data, stats)
        self.inputs.append(stats)

    def count(self, stats, ok):
        stats["lines"] += 1
        stats["accepted" if ok else "rejected"] += 1

    def reject(self, stats, path, line, reason, raw):
        self.rejects.append((path, line, reason, "", reject_text(raw)))
        self.count(stats, False)

    def read_jsonl(self, path, fidx, data, stats):
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for i, ln in enumerate(lines, 1):
            if ln.endswith(b"\r"):
                ln = ln[:-1]
            if is_blank(ln):
                stats["lines"] += 1
                stats["blank_lines"] += 1
                continue
            if not valid_utf8(ln):
                self.reject(stats, path, i, "bad_encoding", ln)
                continue
            if len(ln) > MiB:
                self.reject(stats, path, i, "line_too_long", ln)
                continue
            rec = json_record(ln)
            if rec is None:
                self.reject(stats, path, i, "bad_json", ln)
                continue
            self.count(stats, self.add_event(path, fidx, i, rec, ln))

    def read_csv(self, path, fidx, data, stats):
        header = None
        for kind, line, raw, fields, err in csv_records(data):
            if header is None:
                if kind == "blank":
                    continue
                if err or not valid_utf8(raw):
                    raise Usage(path + ": the header cannot be read")
                header = [f.decode("utf-8") for f in fields]
                continue
            if kind == "blank":
                stats["lines"] += 1
                stats["blank_lines"] += 1
                continue
            if not valid_utf8(raw):
                self.reject(stats, path, line, "bad_encoding", raw)
            elif len(raw) > MiB:
                self.reject(stats, path, line, "line_too_long", raw)
            elif err:
                self.reject(stats, path, line, err, raw)
            elif len(fields) != len(header):
                self.reject(stats, path, line, "bad_field_count", raw)
            else:
                rec = {}
                for name, f in zip(header, fields):
                    if name in FIELDS and f:
                        rec[name] = f.decode("utf-8")
                self.count(stats, self.add_event(path, fidx, line, rec, raw))


class _BadJson(Exception):
    pass


def _no_const(_):
    raise _BadJson()


def json_record(ln):
    try:
        obj = json.loads(ln.decode("utf-8"), parse_int=str, parse_float=str,
                         parse_constant=_no_const)
    except (ValueError, _BadJson, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    rec = {}
    for k, v in obj.items():
        if isinstance(v, (dict, list)):
            return None
        if v is None:
            rec.pop(k, None)
            continue
        if v is True:
            v = "true"
        elif v is False:
            v = "false"
        if "\x00" in v or "\x00" in k:
            return None
        if k in FIELDS:
            if v == "":
                rec.pop(k, None)
            else:
                rec[k] = v
    return rec


# --------------------------------------------------------------------------
# output formatting (R8)
# --------------------------------------------------------------------------

def money(m):
    neg = m < 0
    m = abs(m)
    s = "%d.%06d" % (m // MICRO, m % MICRO)
    s = s.rstrip("0")
    whole, frac = s.split(".")
    frac = (frac + "00")[:max(2, len(frac))]
    return ("-" if neg else "") + whole + "." + frac


def ratio(num, den):
    if den == 0:
        return ""
    q = Fraction(num) / Fraction(den)
    r = round(q * 10 ** 6)          # Fraction.__round__: half to even
    neg = r < 0
    r = abs(r)
    return ("-" if neg else "") + "%d.%06d" % (r // 10 ** 6, r % 10 ** 6)


def money_ratio(num_micros, den):
    """a money amount divided by a count: a ratio of six decimals"""
    if den == 0:
        return ""
    return ratio(Fraction(num_micros, MICRO), den)


def money_div(num_micros, den):
    """a money amount divided by a count (aov, cac) is written as a ratio,
    six decimals half to even, like cpc and cpm (docs/reports.md)"""
    if den == 0:
        return ""
    return ratio(Fraction(num_micros, MICRO), den)


def iso(ms):
    d = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


class Days:
    """Calendar day of an instant in the report zone (R4.4)."""

    def __init__(self, tz):
        self.tz = tz
        self.cache = {}

    def offset(self, ms):
        b = ms // (15 * MS_MIN)
        o = self.cache.get(b)
        if o is None:
            if self.tz is None:
                o = 0
            else:
                d = dt.datetime.fromtimestamp(b * 15 * 60, self.tz)
                o = int(d.utcoffset().total_seconds()) * 1000
            self.cache[b] = o
        return o

    def day(self, ms):
        d = (ms + self.offset(ms)) // MS_DAY
        return (dt.date(1970, 1, 1) + dt.timedelta(days=d)).isoformat()

    def end_of_day(self, date):
        """last millisecond of a local date"""
        nxt = date + dt.timedelta(days=1)
        naive = dt.datetime(nxt.year, nxt.month, nxt.day)
        if self.tz is not None:
            u = naive.replace(tzinfo=self.tz).astimezone(dt.timezone.utc)
            start = int(u.timestamp()) * 1000
        else:
            start = int(naive.replace(tzinfo=dt.timezone.utc).timestamp()) * 1000
        return start - 1


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if c is None else c for c in r])


def bsort(rows, nkeys):
    """R8: whole-period rows (empty date) first, then by key columns in
    byte order"""
    return sorted(rows, key=lambda r: tuple(
        (str(c).encode("utf-8")) for c in r[:nkeys]))


# --------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------

class Run:
    def __init__(self, a):
        self.a = a
        self.tz = None if a.tz in (None, "UTC") else ZoneInfo(a.tz)
        self.days = Days(self.tz)
        itz = None if a.input_tz in (None, "UTC") else ZoneInfo(a.input_tz)
        rd = Reader(itz)
        for i, p in enumerate(a.events):
            rd.read(p, i)
        self.reader = rd
        ev = rd.events
        # R1.6: timestamp order, ties in input order (file, line)
        ev.sort(key=lambda e: (e.ms, e.fidx, e.line))
        for i, e in enumerate(ev):
            e.pos = i
        self.ev = ev
        self.identity()
        self.orders()
        self.tags = self.load_tags(a.tags)

    # R2
    def identity(self):
        first_cust = {}
        if not self.a.no_stitch:
            for e in self.ev:
                if e.visitor is not None and e.customer is not None:
                    first_cust.setdefault(e.visitor, e.customer)
        for e in self.ev:
            if e.customer is not None:
                e.identity = e.customer
            elif e.visitor in first_cust:
                e.identity = first_cust[e.visitor]
            else:
                e.identity = e.visitor

    # R1.3 orders: an id is global; without one, the identity's lines of one
    # timestamp (docs: a lone return without id is its own order)
    def orders(self):
        purch_keys = set()
        for e in self.ev:
            if e.type == "purchase" and e.order is None:
                purch_keys.add((e.identity, e.ms))
        for e in self.ev:
            if e.type not in ("purchase", "return"):
                e.okey = None
            elif e.order is not None:
                e.okey = ("id", e.order)
            elif e.type == "purchase" or (e.identity, e.ms) in purch_keys:
                e.okey = ("ts", e.identity, e.ms)
            else:
                e.okey = ("ret", e.pos)

    def load_tags(self, path):
        tags = {}
        if not path:
            return tags
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for r in csv.DictReader(fh):
                t = r.get("tag") or ""
                if t:
                    tags[t] = {k: (r.get(k) or "") for k in
                               ("channel", "publisher", "campaign", "asin")}
        return tags

    # ---------------------------------------------------------------- R3
    def quality(self):
        a = self.a
        bots = BOT_LIST
        if a.bot_list:
            with open(a.bot_list, encoding="utf-8") as fh:
                bots = [ln.rstrip("\r\n") for ln in fh]
            bots = [b for b in bots if b and not b.startswith("#")]
        bots = [b.lower() for b in bots]
        nets = []
        if a.ip_blocklist:
            with open(a.ip_blocklist, encoding="utf-8") as fh:
                for ln in fh:
                    ln = ln.split("#", 1)[0].strip()
                    if ln:
                        nets.append(ipaddress.ip_network(ln, strict=False))
        ua_cache = {}

        def is_bot(ua):
            v = ua_cache.get(ua)
            if v is None:
                low = ua.lower()
                v = any(b in low for b in bots)
                ua_cache[ua] = v
            return v

        def blocked(ip):
            if not nets or ip is None:
                return False
            try:
                ad = ipaddress.ip_address(ip)
            except ValueError:
                return False
            if ad.version == 6 and ad.ipv4_mapped:
                ad = ad.ipv4_mapped
            return any(ad.version == n.version and ad in n for n in nets)

        ua_rule = any(e.ua is not None for e in self.ev)
        self.ua_rule = ua_rule
        flood_win = parse_duration(a.flood_window)
        dedup = parse_duration(a.dedup_window)
        flood_keys = defaultdict(list)    # key -> deque of ts
        anchors = {}
        for e in self.ev:
            if e.type == "impression":
                e.valid = True
                e.reason = None
                if e.ua is not None and is_bot(e.ua):
                    e.valid, e.reason = False, "bot"
                elif blocked(e.ip):
                    e.valid, e.reason = False, "blocked_ip"
                continue
            if e.type != "click":
                continue
            key = ("ip", e.ip) if e.ip is not None else ("id", e.identity)
            lst = flood_keys[key]
            lst.append(e.ms)
            lo = bisect.bisect_right(lst, e.ms - flood_win)
            n_in = len(lst) - lo
            if e.campaign is not None:
                target = ("ad", e.campaign, e.ad_group or "", e.keyword or "",
                          e.asin or "")
            else:
                target = ("tag", e.tag)
            reason = None
            if (e.ua is not None and is_bot(e.ua)) or (e.ua is None and ua_rule):
                reason = "bot"
            elif blocked(e.ip):
                reason = "blocked_ip"
            elif n_in > a.flood_clicks:
                reason = "flood"
            else:
                k = (e.identity, target)
                last = anchors.get(k)
                if last is not None and e.ms - last < dedup:
                    reason = "duplicate"
                else:
                    anchors[k] = e.ms
            e.valid = reason is None
            e.reason = reason

    # ---------------------------------------------------------------- R4
    def sessions(self):
        a = self.a
        m = re.fullmatch(r"(fixed|idle):(.+)", a.session)
        if not m:
            raise Usage("bad --session")
        rule, dur = m.group(1), parse_duration(m.group(2))
        # click ids (R4.3)
        self.click_of = {}
        for e in self.ev:
            if e.type == "click" and e.click_id is not None:
                self.click_of.setdefault(e.click_id, e)
        self.landing = {}          # click_id -> first loaded pv
        self.unloaded_ids = set()
        for e in self.ev:
            if e.type == "page_view" and e.click_id is not None:
                if e.is_loaded:
                    self.landing.setdefault(e.click_id, e)
                else:
                    self.unloaded_ids.add(e.click_id)
        self.pvs = [e for e in self.ev if e.type == "page_view" and e.is_loaded]
        self.pv_source = {}
        for p in self.pvs:
            c = self.click_of.get(p.click_id) if p.click_id is not None else None
            if c is None:
                s = "organic"
            elif c.campaign is not None:
                s = "sponsored"
            else:
                s = "external"
            self.pv_source[p.pos] = s
        by_id = defaultdict(list)
        for p in self.pvs:
            by_id[p.identity].append(p)
        self.sess = []            # list of lists of pvs
        self.sess_of = {}         # pv.pos -> session index
        for ident, lst in by_id.items():
            cur = None
            start = prev = None
            for p in lst:
                new = cur is None
                if not new:
                    if rule == "fixed":
                        new = p.ms - start >= dur
                    else:
                        new = p.ms - prev >= dur
                if new:
                    cur = []
                    self.sess.append(cur)
                    start = p.ms
                cur.append(p)
                self.sess_of[p.pos] = len(self.sess) - 1
                prev = p.ms
        self.sess_source = [self.pv_source[s[0].pos] for s in self.sess]

    def landing_of(self, click):
        if click.click_id is None:
            return None
        return self.landing.get(click.click_id)

    def bounced(self, click):
        return self.landing_of(click) is None

    # ---------------------------------------------------------------- R6/R7
    def attribute(self, window, kind):
        """credit purchases (R6) or conversions (R7) to valid clicks.
        Returns {event.pos: (click, same_asin)}"""
        clicks = defaultdict(list)
        for e in self.ev:
            if e.type == "click" and e.valid and \
                    (e.campaign is not None) == (kind == "ads"):
                clicks[e.identity].append(e)
        ts = {k: [c.ms for c in v] for k, v in clicks.items()}
        credit = {}
        for e in self.ev:
            if kind == "ads":
                if e.type != "purchase":
                    continue
            elif not ((e.type == "page_view" and e.is_loaded) or
                      e.type in ("add_to_cart", "purchase")):
                continue
            lst = clicks.get(e.identity)
            if not lst:
                continue
            t = ts[e.identity]
            hi = bisect.bisect_right(t, e.ms)
            lo = bisect.bisect_left(t, e.ms - window)
            if hi <= lo:
                continue
            if kind == "ads":
                for i in range(hi - 1, lo - 1, -1):
                    if lst[i].asin == e.asin:
                        credit[e.pos] = (lst[i], True)
                        break
                else:
                    credit[e.pos] = (lst[hi - 1], False)
            else:
                credit[e.pos] = (lst[hi - 1], None)
        return credit


# --------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------

def rep_rejects(run, out):
    write_csv(os.path.join(out, "rejects.csv"),
              ["file", "line", "reason", "field", "text"], run.reader.rejects)


def rep_invalid_clicks(run, out):
    rows = []
    for e in run.ev:
        if e.type == "click" and not e.valid:
            if e.campaign is not None:
                target = "ad:%s|%s|%s|%s" % (e.campaign, e.ad_group or "",
                                             e.keyword or "", e.asin or "")
            else:
                target = "tag:" + e.tag
            rows.append([e.file, e.line, iso(e.ms), e.identity, e.ip or "",
                         target, e.reason])
    write_csv(os.path.join(out, "invalid_clicks.csv"),
              ["file", "line", "ts", "identity", "ip", "target", "reason"], rows)


SRC = ("sponsored", "external", "organic")


def rep_business(run, out):
    day = run.days.day
    Z = lambda: defaultdict(int)
    # ---- business_asin
    cols = ["sessions", "s_sponsored", "s_external", "s_organic", "pv",
            "pv_sponsored", "pv_external", "pv_organic", "atc", "units",
            "sales", "items", "ret_units", "refunds"]
    cell = defaultdict(Z)            # (date, asin) -> col -> value
    acct = Z()                       # date -> sessions by start
    for si, s in enumerate(run.sess):
        src = run.sess_source[si]
        acct[day(s[0].ms)] += 1
        acct[""] += 1
        firsts = {}
        for p in s:
            firsts.setdefault(p.asin, p.ms)
        for asin, ms in firsts.items():
            for k in ((day(ms), asin), ("", asin)):
                cell[k]["sessions"] += 1
                cell[k]["s_" + src] += 1
    for p in run.pvs:
        src = run.pv_source[p.pos]
        for k in ((day(p.ms), p.asin), ("", p.asin)):
            cell[k]["pv"] += 1
            cell[k]["pv_" + src] += 1
    for e in run.ev:
        if e.type == "add_to_cart":
            f = (("atc", 1),)
        elif e.type == "purchase":
            f = (("units", e.units_n), ("sales", e.sales), ("items", 1))
        elif e.type == "return":
            f = (("ret_units", e.units_n), ("refunds", e.sales))
        else:
            continue
        for k in ((day(e.ms), e.asin), ("", e.asin)):
            for c, v in f:
                cell[k][c] += v
    rows = []
    for (d, asin), c in cell.items():
        if not any(c[x] for x in cols):
            continue
        rows.append([d, asin, c["sessions"], c["s_sponsored"], c["s_external"],
                     c["s_organic"], ratio(c["sessions"], acct[d]), c["pv"],
                     c["pv_sponsored"], c["pv_external"], c["pv_organic"],
                     c["atc"], c["units"], money(c["sales"]), c["items"],
                     ratio(c["units"], c["sessions"]), c["ret_units"],
                     money(c["refunds"])])
    write_csv(os.path.join(out, "business_asin.csv"),
              ["date", "asin", "sessions", "sessions_sponsored",
               "sessions_external", "sessions_organic", "session_pct",
               "page_views", "page_views_sponsored", "page_views_external",
               "page_views_organic", "add_to_carts", "units_ordered",
               "ordered_sales", "order_items", "unit_session_pct",
               "units_returned", "refunds"], bsort(rows, 2))
    # ---- business_daily
    dd = defaultdict(Z)
    dd[""]
    for si, s in enumerate(run.sess):
        src = run.sess_source[si]
        for d in (day(s[0].ms), ""):
            dd[d]["sessions"] += 1
            dd[d]["s_" + src] += 1
    for p in run.pvs:
        src = run.pv_source[p.pos]
        for d in (day(p.ms), ""):
            dd[d]["pv"] += 1
            dd[d]["pv_" + src] += 1
    seen_orders = set()
    for e in run.ev:
        if e.type == "click" and e.valid and run.bounced(e):
            for d in (day(e.ms), ""):
                dd[d]["bounced"] += 1
        elif e.type == "purchase":
            for d in (day(e.ms), ""):
                dd[d]["units"] += e.units_n
                dd[d]["sales"] += e.sales
                if e.okey not in seen_orders:
                    dd[d]["orders"] += 1
            seen_orders.add(e.okey)
    rows = []
    for d, c in dd.items():
        if d and not any(c.values()):
            continue
        rows.append([d, c["sessions"], c["s_sponsored"], c["s_external"],
                     c["s_organic"], c["pv"], c["pv_sponsored"],
                     c["pv_external"], c["pv_organic"], c["bounced"],
                     c["units"], money(c["sales"]), c["orders"]])
    write_csv(os.path.join(out, "business_daily.csv"),
              ["date", "sessions", "sessions_sponsored", "sessions_external",
               "sessions_organic", "page_views", "page_views_sponsored",
               "page_views_external", "page_views_organic", "bounced_clicks",
               "units", "sales", "orders"], bsort(rows, 1))


REASONS = ("bot", "blocked_ip", "flood", "duplicate")


def rep_diagnostics(run, out):
    rows = []
    for scope in ("sponsored", "external"):
        c = defaultdict(int)
        for e in run.ev:
            if e.type != "click" or (e.campaign is not None) != (scope == "sponsored"):
                continue
            if not e.valid:
                c["invalid_clicks"] += 1
                c["invalid_clicks_" + e.reason] += 1
                continue
            c["valid_clicks"] += 1
            L = run.landing_of(e)
            if L is None:
                c["bounced_clicks"] += 1
                if e.click_id is not None and e.click_id in run.unloaded_ids:
                    c["bounced_clicks_unloaded_page_view"] += 1
                else:
                    c["bounced_clicks_no_page_view"] += 1
            elif run.sess[run.sess_of[L.pos]][0] is L:
                c["sessions_started_by_click"] += 1
            else:
                c["clicks_in_open_session"] += 1
        for si, s in enumerate(run.sess):
            if run.sess_source[si] != scope:
                continue
            c["sessions"] += 1
            p = s[0]
            k = run.click_of[p.click_id]
            if not k.valid:
                c["sessions_from_invalid_click"] += 1
            elif run.landing.get(k.click_id) is p:
                c["sessions_from_valid_click_landing"] += 1
            else:
                c["sessions_from_repeat_landing"] += 1
        c["page_views"] = sum(1 for p in run.pvs if run.pv_source[p.pos] == scope)
        exact = c["valid_clicks"] == (c["sessions_started_by_click"] +
                                      c["bounced_clicks"] +
                                      c["clicks_in_open_session"])
        cpp = ratio(c["valid_clicks"], c["page_views"])
        flag = c["page_views"] and 2 * c["valid_clicks"] > 3 * c["page_views"]
        for m in ("valid_clicks", "sessions_started_by_click", "bounced_clicks",
                  "clicks_in_open_session"):
            rows.append([scope, m, c[m], ""])
        rows.append([scope, "decomposition_exact", "true" if exact else "false", ""])
        for m in ("bounced_clicks_unloaded_page_view",
                  "bounced_clicks_no_page_view", "sessions",
                  "sessions_from_valid_click_landing",
                  "sessions_from_invalid_click",
                  "sessions_from_repeat_landing", "invalid_clicks") + \
                tuple("invalid_clicks_" + r for r in REASONS) + ("page_views",):
            rows.append([scope, m, c[m], ""])
        rows.append([scope, "clicks_per_page_view", cpp,
                     ("FLAG clicks per page view above 1.5: shoppers leave "
                      "before the page loads") if flag else
                     "%d valid clicks, %d page views" % (c["valid_clicks"],
                                                         c["page_views"])])
    ns, npv = len(run.sess), len(run.pvs)
    unl = sum(1 for e in run.ev if e.type == "page_view" and not e.is_loaded)
    rows.append(["account", "sessions", ns, ""])
    rows.append(["account", "page_views", npv, ""])
    rows.append(["account", "unloaded_page_views", unl, ""])
    flag = ns and 2 * npv > 3 * ns
    rows.append(["account", "page_views_per_session", ratio(npv, ns),
                 ("FLAG page views per session above 1.5: shoppers return to "
                  "compare before buying") if flag else
                 "%d page views, %d sessions" % (npv, ns)])
    write_csv(os.path.join(out, "diagnostics.csv"),
              ["scope", "metric", "value", "note"], rows)


def rep_ads(run, out):
    day = run.days.day
    win = parse_duration(run.a.ads_window)
    credit = run.attribute(win, "ads")
    run.ads_credit = credit
    cell = defaultdict(lambda: defaultdict(int))
    orders = defaultdict(set)

    def keys(e, ms):
        pl = (e.campaign, e.ad_group or "", e.keyword or "", e.asin or "")
        return ((day(ms),) + pl, ("",) + pl)

    for e in run.ev:
        if e.type == "impression":
            for k in keys(e, e.ms):
                if e.valid:
                    cell[k]["impressions"] += 1
                    cell[k]["spend"] += e.cost_m
                else:
                    cell[k]["invalid_cost"] += e.cost_m
                    cell[k]["touched"] += 1
        elif e.type == "click" and e.campaign is not None:
            for k in keys(e, e.ms):
                if e.valid:
                    cell[k]["clicks"] += 1
                    cell[k]["spend"] += e.cost_m
                    if run.bounced(e):
                        cell[k]["bounced"] += 1
                else:
                    cell[k]["invalid_clicks"] += 1
                    cell[k]["invalid_cost"] += e.cost_m
        elif e.type == "purchase" and e.pos in credit:
            c, same = credit[e.pos]
            for k in keys(c, c.ms):
                cell[k]["units"] += e.units_n
                cell[k]["sales"] += e.sales
                if same:
                    cell[k]["adv"] += e.sales
                orders[k].add(e.okey)
    rows = []
    for k, c in cell.items():
        if not any(c.values()) and not orders[k]:
            continue
        o = len(orders[k])
        sp, im, cl, sa = c["spend"], c["impressions"], c["clicks"], c["sales"]
        rows.append(list(k) + [
            im, cl, c["invalid_clicks"], c["bounced"], money(sp),
            money(c["invalid_cost"]), ratio(cl, im), money_ratio(sp, cl),
            money_ratio(1000 * sp, im), o, c["units"], money(sa),
            money(c["adv"]), ratio(sp, sa), ratio(sa, sp), ratio(o, cl)])
    write_csv(os.path.join(out, "ads.csv"),
              ["date", "campaign", "ad_group", "keyword", "asin",
               "impressions", "clicks", "invalid_clicks", "bounced_clicks",
               "spend", "invalid_cost", "ctr", "cpc", "cpm", "orders_7d",
               "units_7d", "sales_7d", "advertised_sales_7d", "acos", "roas",
               "cvr"], sorted(rows, key=lambda r: (r[0] != "", r[0]) + tuple(
                   c.encode("utf-8") for c in r[1:5])))


def site_of(ref):
    """docs/attribution.md: the host, scheme, user info and port dropped,
    lower-cased, a leading www. dropped"""
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", ref)
    rest = ref[m.end():] if m else ref
    host = re.split(r"[/?#]", rest, 1)[0]
    host = host.rsplit("@", 1)[-1]
    if not host.startswith("["):
        host = host.split(":", 1)[0]
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def rep_attribution(run, out):
    day = run.days.day
    win = parse_duration(run.a.offsite_window)
    credit = run.attribute(win, "offsite")
    run.offsite_credit = credit
    tags = run.tags
    # new-to-brand (R7.2): the order's identity had no purchase of another
    # order in the 365 days before the order's first line
    first_line = {}
    purch = defaultdict(list)
    for e in run.ev:
        if e.type == "purchase":
            first_line.setdefault(e.okey, e)
            purch[e.identity].append(e)
    ntb = {}
    for ok, f in first_line.items():
        ntb[ok] = not any(p.okey != ok and f.ms - 365 * MS_DAY <= p.ms and
                          (p.ms < f.ms or (p.ms == f.ms and p.pos < f.pos))
                          for p in purch[f.identity])
    cell = defaultdict(lambda: defaultdict(int))
    osets = defaultdict(set)
    sites = defaultdict(set)
    mismatch = set()
    tagset = set(tags)

    for e in run.ev:
        if e.type == "click" and e.tag is not None:
            tagset.add(e.tag)
            for d in (day(e.ms), ""):
                cell[(d, e.tag)]["clicks" if e.valid else "invalid"] += 1
            if e.referrer and e.valid:
                sites[e.tag].add(site_of(e.referrer))
            L = run.landing_of(e)
            reg = tags.get(e.tag)
            if e.valid and L is not None and reg and reg["asin"] and L.asin != reg["asin"]:
                mismatch.add(e.tag)
        elif e.pos in credit:
            c, _ = credit[e.pos]
            for d in (day(c.ms), ""):
                k = (d, c.tag)
                if e.type == "page_view":
                    cell[k]["dpv"] += 1
                elif e.type == "add_to_cart":
                    cell[k]["atc"] += 1
                else:
                    cell[k]["units"] += e.units_n
                    cell[k]["sales"] += e.sales
                    osets[k].add(e.okey)
    rows = []

    def figures(c, os_):
        cl = c["clicks"]
        p = len(os_)
        return [cl, c["invalid"], c["dpv"], c["atc"], p, c["units"],
                money(c["sales"]), sum(1 for o in os_ if ntb[o]),
                ratio(c["dpv"], cl), ratio(c["atc"], cl), ratio(p, cl)]

    def diag(c, p, tag=None):
        cl, inv = c["clicks"], c["invalid"]
        d = []
        if cl == 0:
            d.append("NO_CLICKS")
        if cl > 0 and p == 0:
            d.append("NO_CONVERSIONS")
        if tag is not None:
            if tag not in tags:
                d.append("UNKNOWN_TAG")
            if tag in mismatch:
                d.append("ASIN_MISMATCH")
            if len(sites[tag]) > 1:
                d.append("SHARED_TAG")
        if (cl + inv) and 5 * inv > cl + inv:
            d.append("HIGH_INVALID")
        return ";".join(d)

    roll = defaultdict(lambda: defaultdict(int))
    rollo = defaultdict(set)
    for t in tagset:
        cell[("", t)]
    for (d, t), c in list(cell.items()):
        os_ = osets[(d, t)]
        if d and not any(c.values()):
            continue
        reg = tags.get(t)
        ch, pu, ca = (reg["channel"], reg["publisher"], reg["campaign"]) if reg else ("", "", "")
        rows.append([d, "tag", t, ch, pu, ca] + figures(c, os_) +
                    [diag(c, len(os_), t) if not d else ""])
        if reg and (ROLLUP_DAILY or not d):
            for key in (("campaign", "", ch, pu, ca), ("publisher", "", ch, pu, ""),
                        ("channel", "", ch, "", "")):
                rk = (d,) + key
                for f, v in c.items():
                    roll[rk][f] += v
                rollo[rk] |= os_
    for rk, c in roll.items():
        os_ = rollo[rk]
        d = rk[0]
        rows.append(list(rk) + figures(c, os_) +
                    [diag(c, len(os_)) if not d else ""])
    write_csv(os.path.join(out, "attribution.csv"),
              ["date", "level", "tag", "channel", "publisher", "campaign",
               "clicks", "invalid_clicks", "dpv", "atc", "purchases", "units",
               "sales", "new_to_brand_purchases", "dpv_rate", "atc_rate",
               "purchase_rate", "diagnostics"], sorted(rows, key=attr_order))


LEVELS = {"tag": 0, "campaign": 1, "publisher": 2, "channel": 3}


def attr_order(r):
    """docs/reports.md: whole-period rows first (tag rows by tag, then
    campaign, publisher, channel rows by their keys), then daily tag rows by
    date and tag"""
    b = lambda x: x.encode("utf-8")
    return (r[0] != "", r[0], LEVELS[r[1]], b(r[2]), b(r[3]), b(r[4]), b(r[5]))


ROLLUP_DAILY = False


# ---------------------------------------------------------------- R10
def rep_customers(run, out):
    a = run.a
    day = run.days.day
    if a.as_of:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", a.as_of):
            asof = run.days.end_of_day(dt.date.fromisoformat(a.as_of))
        else:
            asof = parse_ts(a.as_of, None)
            if asof is None:
                raise Usage("bad --as-of")
    else:
        asof = max((e.ms for e in run.ev), default=0)
    ev = [e for e in run.ev if e.ms <= asof]
    last_act = {}
    cust = {}
    for e in ev:
        last_act[e.identity] = e.ms
        if e.type == "purchase":
            c = cust.get(e.identity)
            if c is None:
                c = cust[e.identity] = {
                    "first": e.ms, "first_ev": e, "last": e.ms, "orders": {},
                    "units": 0, "gmv": 0, "ru": 0, "ref": 0, "o90": set()}
            c["last"] = e.ms
            c["orders"].setdefault(e.okey, e.ms)
            c["units"] += e.units_n
            c["gmv"] += e.sales
            if asof - 90 * MS_DAY <= e.ms:
                c["o90"].add(e.okey)
    for e in ev:
        if e.type == "return" and e.identity in cust:
            c = cust[e.identity]
            c["ru"] += e.units_n
            c["ref"] += e.sales
    ids = sorted(cust, key=lambda s: s.encode("utf-8"))
    n = len(ids)

    def scores(keyf):
        order = sorted(ids, key=lambda i: (keyf(cust[i]), i.encode("utf-8")))
        return {i: 1 + (5 * r) // n for r, i in enumerate(order)}
    R = scores(lambda c: c["last"])
    F = scores(lambda c: len(c["orders"]))
    M = scores(lambda c: c["gmv"] - c["ref"])
    rows = []
    for i in ids:
        c = cust[i]
        no = len(c["orders"])
        net = c["gmv"] - c["ref"]
        rr_num, rr_den = c["ru"], c["units"]
        if len(c["o90"]) >= 2 and net >= 150 * MICRO and rr_den and \
                Fraction(rr_num, rr_den) < Fraction(5, 100):
            seg = "high_value"
        elif asof - last_act[i] > 60 * MS_DAY:
            seg = "churn_risk"
        elif no == 1:
            seg = "potential"
        else:
            seg = "repeat"
        c["segment"] = seg
        rows.append([i, iso(c["first"]), iso(c["last"]), no, c["units"],
                     money(c["gmv"]), c["ru"], money(c["ref"]), money(net),
                     ratio(rr_num, rr_den), money_div(c["gmv"], no),
                     len(c["o90"]), (asof - last_act[i]) // MS_DAY,
                     "%d%d%d" % (R[i], F[i], M[i]), seg])
    write_csv(os.path.join(out, "customers.csv"),
              ["customer", "first_purchase", "last_purchase", "orders",
               "units", "gmv", "units_returned", "refunds", "net_revenue",
               "return_rate", "aov", "orders_90d",
               "days_since_last_activity", "rfm", "segment"], rows)
    # segments
    tot = sum(cust[i]["gmv"] for i in ids)
    srows = []
    for s in ("high_value", "churn_risk", "potential", "repeat"):
        mem = [i for i in ids if cust[i]["segment"] == s]
        g = sum(cust[i]["gmv"] for i in mem)
        srows.append([s, len(mem), ratio(len(mem), n), money(g), ratio(g, tot)])
    k = -(-n // 5)
    top = sorted(ids, key=lambda i: (-cust[i]["gmv"], i.encode("utf-8")))[:k]
    g = sum(cust[i]["gmv"] for i in top)
    srows.append(["pareto_top20", k, ratio(k, n), money(g), ratio(g, tot)])
    write_csv(os.path.join(out, "segments.csv"),
              ["segment", "customers", "share", "gmv", "gmv_share"], srows)
    # cohorts (R10.3)
    co = defaultdict(lambda: defaultdict(int))
    hist = defaultdict(int)
    for i in ids:
        c = cust[i]
        month = day(c["first"])[:7]
        ots = sorted(c["orders"].values())
        second = ots[1] if len(ots) > 1 else None
        if second is not None:
            hist[(second - c["first"]) // MS_DAY] += 1
        for m in ("", month):
            co[m]["customers"] += 1
            for N in (30, 60, 90):
                if asof - c["first"] >= N * MS_DAY:
                    co[m]["e%d" % N] += 1
                    if second is not None and second - c["first"] <= N * MS_DAY:
                        co[m]["r%d" % N] += 1
    crows = []
    for m in sorted(co):
        c = co[m]
        r = [m, c["customers"]]
        for N in (30, 60, 90):
            r += [c["e%d" % N], c["r%d" % N], ratio(c["r%d" % N], c["e%d" % N])]
        crows.append(r)
    if not co:
        crows.append(["", 0, 0, 0, "", 0, 0, "", 0, 0, ""])
    write_csv(os.path.join(out, "cohorts.csv"),
              ["cohort", "customers", "eligible_30", "retained_30", "rate_30",
               "eligible_60", "retained_60", "rate_60", "eligible_90",
               "retained_90", "rate_90"], crows)
    write_csv(os.path.join(out, "cohorts_histogram.csv"),
              ["days_to_second_order", "customers"],
              [[d, hist[d]] for d in sorted(hist)])
    # feedback (R10.6)
    ofirst = {}
    oasins = defaultdict(set)
    for e in ev:
        if e.type == "purchase":
            ofirst.setdefault(e.okey, e.ms)
            oasins[e.okey].add(e.asin)
    latest = {}
    for e in ev:
        if e.type == "feedback":
            latest[("id", e.order)] = e.rating_n
    win = [o for o, t in ofirst.items() if asof - 90 * MS_DAY <= t <= asof]
    frows = []
    acc = [0, 0, 0]
    per = defaultdict(lambda: [0, 0, 0])
    for o in win:
        f = latest.get(o)
        v = (1, f is not None, f is not None and f <= 2)
        for j in range(3):
            acc[j] += v[j]
        for s in oasins[o]:
            for j in range(3):
                per[s][j] += v[j]
    frows.append(["account", "", acc[0], acc[1], acc[2], ratio(acc[2], acc[0])])
    for s in sorted(per, key=lambda x: x.encode("utf-8")):
        v = per[s]
        frows.append(["asin", s, v[0], v[1], v[2], ratio(v[2], v[0])])
    write_csv(os.path.join(out, "feedback.csv"),
              ["scope", "key", "orders", "feedback_orders",
               "negative_feedback_orders", "negative_feedback_rate"], frows)
    # CAC (R10.4)
    spend = defaultdict(int)
    newc = defaultdict(int)
    tags = run.tags
    # a row for every campaign and channel with a click or impression at or
    # before as-of (valid or not); spend counts the valid ones
    for e in ev:
        if e.type not in ("impression", "click"):
            continue
        cost = e.cost_m if e.valid else 0
        if e.campaign is not None:
            spend[("sponsored", "campaign", e.campaign)] += cost
            spend[("sponsored", "channel", "sponsored")] += cost
        elif e.tag in tags:
            reg = tags[e.tag]
            spend[("external", "campaign", reg["campaign"])] += cost
            spend[("external", "channel", reg["channel"])] += cost
    for i in ids:
        f = cust[i]["first_ev"]
        if f.pos in run.ads_credit:
            newc[("sponsored", "campaign", run.ads_credit[f.pos][0].campaign)] += 1
            newc[("sponsored", "channel", "sponsored")] += 1
        if f.pos in run.offsite_credit:
            t = run.offsite_credit[f.pos][0].tag
            if t in tags:
                newc[("external", "campaign", tags[t]["campaign"])] += 1
                newc[("external", "channel", tags[t]["channel"])] += 1
    krows = []
    for k in set(spend) | set(newc):
        krows.append(list(k) + [money(spend[k]), newc[k],
                                money_div(spend[k], newc[k])])
    # sources and levels in R8's order (sponsored, external; campaign,
    # channel), then keys in byte order
    krows.sort(key=lambda r: (r[0] != "sponsored", r[1] != "campaign",
                              r[2].encode("utf-8")))
    write_csv(os.path.join(out, "cac.csv"),
              ["source", "level", "key", "spend", "new_customers", "cac"],
              krows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("events", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--tags")
    p.add_argument("--tz", default="UTC")
    p.add_argument("--input-tz", default="UTC")
    p.add_argument("--session", default="fixed:24h")
    p.add_argument("--flood-clicks", type=int, default=10)
    p.add_argument("--flood-window", default="1h")
    p.add_argument("--dedup-window", default="72h")
    p.add_argument("--ads-window", default="7d")
    p.add_argument("--offsite-window", default="14d")
    p.add_argument("--as-of")
    p.add_argument("--no-stitch", action="store_true")
    p.add_argument("--max-reject-rate", help="accepted for CLI parity; ignored")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--bot-list")
    p.add_argument("--ip-blocklist")
    p.add_argument("--rollup-daily", choices=("yes", "no"), default="no",
                   help="attribution roll-up rows per day too (SPEC R8 is open)")
    a = p.parse_intermixed_args(argv)
    global ROLLUP_DAILY
    ROLLUP_DAILY = a.rollup_daily == "yes"
    try:
        run = Run(a)
        os.makedirs(a.out, exist_ok=True)
        run.quality()
        run.sessions()
        rep_rejects(run, a.out)
        rep_invalid_clicks(run, a.out)
        rep_business(run, a.out)
        rep_diagnostics(run, a.out)
        rep_ads(run, a.out)
        rep_attribution(run, a.out)
        rep_customers(run, a.out)
    except Usage as ex:
        print("spec_ref: " + str(ex), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
