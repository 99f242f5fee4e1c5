#!/usr/bin/env python3
"""Purchase-only event log with many customers, for timing the customer
reports and the CLV fit (SPEC R10) at scale: `clickpath gen` yields about one
buyer per 900 events, too few for a 1M-customer benchmark.

Each customer buys on a Poisson process (rate drawn from a gamma) and drops
out after each purchase with a beta-distributed probability (the BG/NBD
story), over 365 days from 2025-01-01; 20% of purchases get a return.
Deterministic for a seed.  Usage: gen_customers.py N_CUSTOMERS OUT.csv [SEED]"""
import random
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    start = 1735689600  # 2025-01-01T00:00:00Z
    span = 365 * 86400
    with open(out, "w") as f:
        f.write("ts,type,customer,asin,order,units,price\n")
        order = 0
        for c in range(n):
            lam = rnd.gammavariate(0.8, 1 / 20.0) / 86400  # purchases per second
            p = rnd.betavariate(0.8, 2.5)
            t = start + rnd.randrange(span // 2)
            while t < start + span:
                order += 1
                price = rnd.choice(("9.99", "19.99", "24.50", "49.00"))
                f.write(f"{t},purchase,c{c},A{rnd.randrange(50)},o{order},1,{price}\n")
                if rnd.random() < 0.2:
                    f.write(f"{t + 86400 * 3},return,c{c},A1,o{order},1,{price}\n")
                if rnd.random() < p:
                    break
                t += int(rnd.expovariate(lam)) + 1 if lam > 0 else span
    return 0


if __name__ == "__main__":
    sys.exit(main())
