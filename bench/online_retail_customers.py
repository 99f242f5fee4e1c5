#!/usr/bin/env python3
"""Independent check of the customer figures (SPEC R10.1, R1.4a, R2.1) on the
UCI Online Retail export, read with the Python standard library only.

It reads ../shared/data/online-retail/online_retail.csv.gz as clickpath does
with

  --map order=InvoiceNo --map asin=StockCode --map units=Quantity
  --map ts=InvoiceDate --map price=UnitPrice --map customer=CustomerID
  --map visitor=InvoiceNo --input-tz Europe/London --set type=purchase

and prints the totals that tests/test_customers.c asserts:
  - rows with a negative price are rejected (bad_price, R1.4b);
  - a negative quantity is a return of |quantity| units, refund |q| * price
    (R1.4a);
  - identity (R2.1): CustomerID when present, else the customer that the
    visitor (the invoice number) is first seen with in time order, else the
    invoice number itself;
  - a customer is an identity with a purchase (R10.1); as-of is the latest
    event, so every event counts.
Money is summed exactly with Decimal (R1.5).

Usage: python3 bench/online_retail_customers.py [path]
"""
import csv
import gzip
import sys
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/online-retail/online_retail.csv.gz"
    london = ZoneInfo("Europe/London")
    rows = []
    rejected = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for line_no, r in enumerate(csv.DictReader(f), start=2):
            price = Decimal(r["UnitPrice"])
            if price < 0:
                rejected += 1
                continue
            q = int(r["Quantity"])
            local = datetime.strptime(r["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=london)
            ts = int(local.timestamp())
            cust = r["CustomerID"]
            rows.append((ts, line_no, r["InvoiceNo"], cust, q, price))
    rows.sort(key=lambda x: (x[0], x[1]))  # R1.6
    first_customer = {}
    for ts, _, visitor, cust, _, _ in rows:
        if cust and visitor not in first_customer:
            first_customer[visitor] = cust
    per = {}
    n_returns = 0
    for ts, _, visitor, cust, q, price in rows:
        ident = cust or first_customer.get(visitor) or visitor
        p = per.setdefault(ident, [0, Decimal(0), 0, Decimal(0)])
        if q > 0:
            p[0] += q
            p[1] += q * price
        else:
            n_returns += 1
            p[2] += -q
            p[3] += -q * price
    customers = {k: v for k, v in per.items() if v[0] > 0}
    print("rejected", rejected)
    print("return_events", n_returns)
    print("customers", len(customers))
    print("units", sum(v[0] for v in customers.values()))
    print("gmv", sum(v[1] for v in customers.values()))
    print("units_returned", sum(v[2] for v in customers.values()))
    print("refunds", sum(v[3] for v in customers.values()))
    print("customers_with_returns", sum(1 for v in customers.values() if v[2] > 0))


if __name__ == "__main__":
    main()
