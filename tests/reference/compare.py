#!/usr/bin/env python3
"""Compare two report directories cell by cell (tests/reference, see
docs/reference.md).

    compare.py DIR_A DIR_B [--files f1.csv,f2.csv] [--max N]
               [--flag-only FILE:COLUMN]... [--missing-ok]

For every file: the same header, the same rows (matched by the file's key
columns), the same cell text, and the rows in the same order.  Prints the
first N differences per file with the row keys, then a one-line verdict per
file.  Exit status 1 on any difference, 0 when all files agree, 2 on usage
errors.

--flag-only FILE:COLUMN compares only whether both cells start with `FLAG`
(free text such as diagnostics.csv's note).  --missing-ok skips, with a
note, a file that DIR_A lacks (a C stage that has not landed yet).
"""
import argparse
import csv
import os
import sys

# key columns of each report (SPEC R8); rows are matched on them
KEYS = {
    "rejects.csv": ["file", "line"],
    "invalid_clicks.csv": ["file", "line"],
    "business_asin.csv": ["date", "asin"],
    "business_daily.csv": ["date"],
    "diagnostics.csv": ["scope", "metric"],
    "ads.csv": ["date", "campaign", "ad_group", "keyword", "asin"],
    "attribution.csv": ["date", "level", "tag", "channel", "publisher",
                        "campaign"],
    "customers.csv": ["customer"],
    "segments.csv": ["segment"],
    "cohorts.csv": ["cohort"],
    "cohorts_histogram.csv": ["days_to_second_order"],
    "feedback.csv": ["scope", "key"],
    "cac.csv": ["source", "level", "key"],
}
DEFAULT_FILES = ["rejects.csv", "invalid_clicks.csv", "business_asin.csv",
                 "business_daily.csv", "diagnostics.csv", "ads.csv",
                 "attribution.csv", "customers.csv", "segments.csv",
                 "cohorts.csv", "cohorts_histogram.csv", "feedback.csv",
                 "cac.csv"]


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return None, []
    return rows[0], rows[1:]


def compare_file(name, a_dir, b_dir, la, lb, maxn, flag_only):
    """Returns a list of difference lines (empty when equal)."""
    pa, pb = os.path.join(a_dir, name), os.path.join(b_dir, name)
    out = []
    if not os.path.exists(pa) or not os.path.exists(pb):
        return ["%s: missing in %s" % (name, la if not os.path.exists(pa) else lb)]
    ha, ra = read(pa)
    hb, rb = read(pb)
    if ha != hb:
        return ["%s: header differs\n  %s: %s\n  %s: %s" % (name, la, ha, lb, hb)]
    if ha is None:
        return []
    keycols = [c for c in KEYS.get(name, ha[:1]) if c in ha]
    ki = [ha.index(c) for c in keycols]

    def key(r):
        return tuple(r[i] if i < len(r) else "" for i in ki)

    def kstr(k):
        return " ".join("%s=%r" % (c, v) for c, v in zip(keycols, k))

    def index(rows, label):
        d = {}
        for n, r in enumerate(rows):
            k = key(r)
            if k in d:
                out.append("%s: %s has a repeated row key %s" % (name, label, kstr(k)))
            else:
                d[k] = r
        return d

    da, db = index(ra, la), index(rb, lb)
    loose = {ha.index(c) for (f, c) in flag_only if f == name and c in ha}
    n_cell = 0
    for r in ra:
        k = key(r)
        if k not in db:
            out.append("%s: row only in %s: %s" % (name, la, ",".join(r)))
            continue
        s = db[k]
        if len(r) != len(s):
            out.append("%s: %s: cell count %d vs %d" % (name, kstr(k), len(r), len(s)))
            continue
        for i, (x, y) in enumerate(zip(r, s)):
            if i in loose:
                same = x.startswith("FLAG") == y.startswith("FLAG")
            else:
                same = x == y
            if not same:
                n_cell += 1
                out.append("%s: %s: %s: %s=%r %s=%r" % (name, kstr(k), ha[i], la, x, lb, y))
    for r in rb:
        if key(r) not in da:
            out.append("%s: row only in %s: %s" % (name, lb, ",".join(r)))
    # order, over the rows both have
    common = set(da) & set(db)
    oa = [key(r) for r in ra if key(r) in common]
    ob = [key(r) for r in rb if key(r) in common]
    if oa != ob:
        for i, (x, y) in enumerate(zip(oa, ob)):
            if x != y:
                out.append("%s: row order differs at common row %d: %s has %s, %s has %s"
                           % (name, i + 1, la, kstr(x), lb, kstr(y)))
                break
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="compare two report directories")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--files", help="comma-separated file names")
    p.add_argument("--max", type=int, default=10)
    p.add_argument("--flag-only", action="append", default=[],
                   metavar="FILE:COLUMN")
    p.add_argument("--missing-ok", action="store_true")
    p.add_argument("--labels", default="C,ref")
    a = p.parse_args(argv)
    la, lb = a.labels.split(",")
    files = a.files.split(",") if a.files else DEFAULT_FILES
    flag_only = [tuple(x.split(":", 1)) for x in a.flag_only]
    bad = 0
    for f in files:
        if a.missing_ok and not os.path.exists(os.path.join(a.a, f)):
            print("skip %s: not in %s" % (f, a.a))
            continue
        diffs = compare_file(f, a.a, a.b, la, lb, a.max, flag_only)
        if diffs:
            bad += 1
            for d in diffs[:a.max]:
                print(d)
            if len(diffs) > a.max:
                print("%s: ... %d more differences" % (f, len(diffs) - a.max))
            print("DIFF %s (%d differences)" % (f, len(diffs)))
        else:
            print("same %s" % f)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
