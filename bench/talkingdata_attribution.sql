-- talkingdata_attribution.sql -- SPEC R7 on the TalkingData sample in DuckDB
-- SQL: purchases (downloads) credited per channel, tag = channel, visitor =
-- ip|device|os.  The same mapping and rules as
-- bench/talkingdata_attribution.py (read its docstring); both are
-- independent of src/attribution/attribution.c, whose figures
-- tests/test_attribution.c checks against theirs.
--
-- usage (from the repository root, shared/ beside it):
--   duckdb < bench/talkingdata_attribution.sql
-- Not run in CI (DuckDB is not a dependency of the build).

CREATE TEMP TABLE raw AS
SELECT row_number() OVER () + 1 AS line, *   -- data lines start at 2
FROM read_csv('../shared/data/talkingdata/train_sample.csv', header = true, all_varchar = true);

-- input order (R1.6 ties): each line's click, then its purchase
CREATE TEMP TABLE clicks AS
SELECT 2 * line AS seq, CAST(click_time AS TIMESTAMP) AS ts, ip,
       ip || '|' || device || '|' || os AS identity, channel AS tag
FROM raw;

CREATE TEMP TABLE purchases AS
SELECT 2 * line + 1 AS seq, CAST(attributed_time AS TIMESTAMP) AS ts,
       ip || '|' || device || '|' || os AS identity, 'd' || line AS order_id
FROM raw WHERE attributed_time IS NOT NULL AND attributed_time <> '';

-- R3.1.3 flood: more than 10 clicks of the ip in (t - 1 h, t], at or before
-- this one in R1.6 order (every click counts, valid or not)
CREATE TEMP TABLE flood AS
SELECT c.seq, count(*) > 10 AS flood
FROM clicks c JOIN clicks d
  ON d.ip = c.ip AND d.ts > c.ts - INTERVAL 1 HOUR
 AND (d.ts < c.ts OR (d.ts = c.ts AND d.seq <= c.seq))
GROUP BY c.seq;

-- R3.1.4 duplicate: per (identity, tag) a click less than 72 h after the
-- last valid one; the anchor moves only on valid clicks, so a recursive walk
CREATE TEMP TABLE valid AS
WITH RECURSIVE nf AS (
    SELECT c.*, row_number() OVER (PARTITION BY identity, tag ORDER BY ts, seq) AS rn
    FROM clicks c JOIN flood f USING (seq) WHERE NOT f.flood
), chain(identity, tag, rn, seq, ts, anchor, ok) AS (
    SELECT identity, tag, rn, seq, ts, ts, true FROM nf WHERE rn = 1
    UNION ALL
    SELECT n.identity, n.tag, n.rn, n.seq, n.ts,
           CASE WHEN n.ts - c.anchor >= INTERVAL 72 HOUR THEN n.ts ELSE c.anchor END,
           n.ts - c.anchor >= INTERVAL 72 HOUR
    FROM chain c JOIN nf n ON n.identity = c.identity AND n.tag = c.tag AND n.rn = c.rn + 1
)
SELECT seq, ts, identity, tag FROM chain WHERE ok;

-- R7.1: the latest valid click of the identity with t - 14 d <= ts <= t
-- (equal times: the last in input order)
SELECT tag AS channel, count(DISTINCT order_id) AS purchases
FROM (
    SELECT p.order_id, arg_max(v.tag, struct_pack(ts := v.ts, seq := v.seq)) AS tag
    FROM purchases p JOIN valid v
      ON v.identity = p.identity AND v.ts <= p.ts AND v.ts >= p.ts - INTERVAL 14 DAY
    GROUP BY p.order_id
)
GROUP BY tag
ORDER BY CAST(tag AS INTEGER);
