-- asof.sql -- DuckDB computing SPEC R6.1's sponsored last-click credits with
-- ASOF joins, on the same events CSV as clickpath (issue 5's comparison;
-- bench/attribution.sh runs it and checks the totals against ads.csv).
--
-- Parameters (bench/duck.mjs NAME=VALUE):
--   FILE       the events CSV (one record per physical line: clickpath gen's)
--   INVALID    clickpath's invalid_clicks.csv for FILE (R3 is not simply
--              SQL-expressible; its lines are excluded from the candidates)
--   OUT        where to write the result CSV
--   WINDOW_MS  the attribution window in ms (R6.1: 7 d = 604800000)
--   RUN        1: compute the credits; 0: load only (same statements, the
--              joins see no rows), to time the load apart from the joins
--
-- Output: one row per campaign: campaign, orders_7d, units_7d, sales_7d,
-- advertised_sales_7d, where orders_7d is the sum over the campaign's
-- (campaign, ad_group, keyword, asin) rows of their distinct orders -- the
-- sum of ads.csv's whole-period rows of the campaign.
--
-- The rules, as SPEC states them:
--   R1.6  order = (ts, input order): rowid is the input order.
--   R1.3  a purchase line without `order` belongs to the order of that
--         identity's lines with the same timestamp.
--   R2.1  identity = customer; else the customer the visitor is first seen
--         with (R1.6 order); else the visitor.
--   R3    valid clicks: not listed in INVALID (line = rowid + 2: header is
--         line 1, one record per line).
--   R6.1  a purchase line at t is credited to the latest valid sponsored
--         click of its identity with t - 7 d <= click time <= t on the same
--         ASIN, else to the latest such click on any ASIN.  Candidates by time
--         alone (a click at the purchase's own ms counts even when later in
--         the input); among clicks of one ms the last in input order.  ASOF
--         key: ms * 2^32 + rowid for clicks, ms * 2^32 + (2^32 - 1) for
--         purchases, so that `>=` picks exactly that click.  The latest
--         same-ASIN click outside the window means none is inside it.
--   sales = amount when present, else units (default 1) x price.

CREATE TABLE ev AS SELECT ts, type, visitor, customer, asin, campaign, ad_group, keyword, "order",
    units, price, amount
FROM read_csv('{{FILE}}',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {
      'ts': 'TIMESTAMPTZ', 'type': 'VARCHAR', 'visitor': 'VARCHAR',
      'customer': 'VARCHAR', 'ip': 'VARCHAR', 'ua': 'VARCHAR',
      'referrer': 'VARCHAR', 'asin': 'VARCHAR', 'campaign': 'VARCHAR',
      'ad_group': 'VARCHAR', 'keyword': 'VARCHAR', 'tag': 'VARCHAR',
      'click_id': 'VARCHAR', 'cost': 'DECIMAL(18,6)', 'order': 'VARCHAR',
      'units': 'INTEGER', 'price': 'DECIMAL(18,6)', 'amount': 'DECIMAL(18,6)',
      'loaded': 'BOOLEAN', 'rating': 'TINYINT'});

CREATE TABLE invalid AS SELECT line FROM read_csv('{{INVALID}}', header = true, auto_detect = true);

-- R2.1 stitching, only for the visitors the credits need
CREATE TABLE stitch AS
SELECT visitor, arg_min(customer, epoch_ms(ts)::HUGEINT * 4294967296 + rowid) AS customer
FROM ev
WHERE {{RUN}} = 1 AND visitor IS NOT NULL AND customer IS NOT NULL
GROUP BY visitor;

CREATE TABLE clicks AS
SELECT coalesce(e.customer, s.customer, e.visitor) AS identity, e.asin, e.campaign, e.ad_group,
    e.keyword, epoch_ms(e.ts) AS ms, epoch_ms(e.ts)::HUGEINT * 4294967296 + e.rowid AS k
FROM ev e LEFT JOIN stitch s ON e.customer IS NULL AND s.visitor = e.visitor
WHERE {{RUN}} = 1 AND e.type = 'click' AND e.campaign IS NOT NULL
  AND e.rowid + 2 NOT IN (SELECT line FROM invalid);

CREATE TABLE purch AS
SELECT e.rowid AS pid, coalesce(e.customer, s.customer, e.visitor) AS identity, e.asin,
    epoch_ms(e.ts) AS ms, epoch_ms(e.ts)::HUGEINT * 4294967296 + 4294967295 AS k,
    coalesce(e.units, 1) AS units, coalesce(e.amount, coalesce(e.units, 1) * e.price) AS sales,
    e."order" AS order_id
FROM ev e LEFT JOIN stitch s ON e.customer IS NULL AND s.visitor = e.visitor
WHERE {{RUN}} = 1 AND e.type = 'purchase';

CREATE TABLE credits AS
WITH same AS (
    SELECT p.*, c.campaign, c.ad_group, c.keyword, c.asin AS c_asin, c.ms AS c_ms
    FROM purch p ASOF LEFT JOIN clicks c ON p.identity = c.identity AND p.asin = c.asin AND p.k >= c.k
), anyc AS (
    SELECT p.pid, c.campaign, c.ad_group, c.keyword, c.asin AS c_asin, c.ms AS c_ms
    FROM purch p ASOF LEFT JOIN clicks c ON p.identity = c.identity AND p.k >= c.k
)
SELECT s.pid, s.identity, s.ms, s.units, s.sales, s.order_id,
    (s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}}) AS advertised,
    CASE WHEN s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}} THEN s.campaign ELSE a.campaign END AS campaign,
    CASE WHEN s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}} THEN s.ad_group ELSE a.ad_group END AS ad_group,
    CASE WHEN s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}} THEN s.keyword ELSE a.keyword END AS keyword,
    CASE WHEN s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}} THEN s.c_asin ELSE a.c_asin END AS c_asin
FROM same s JOIN anyc a ON a.pid = s.pid
WHERE (s.c_ms IS NOT NULL AND s.c_ms >= s.ms - {{WINDOW_MS}})
   OR (a.c_ms IS NOT NULL AND a.c_ms >= s.ms - {{WINDOW_MS}});

CREATE TABLE per_campaign AS
WITH per_row AS (
    SELECT campaign, ad_group, keyword, c_asin,
        count(DISTINCT coalesce('o:' || order_id, 'x:' || identity || '@' || ms)) AS orders,
        sum(units) AS units, sum(sales) AS sales,
        sum(CASE WHEN advertised THEN sales ELSE 0 END) AS adv_sales
    FROM credits GROUP BY ALL
)
SELECT campaign, sum(orders)::BIGINT AS orders_7d, sum(units)::BIGINT AS units_7d,
    sum(sales)::DECIMAL(18,6) AS sales_7d, sum(adv_sales)::DECIMAL(18,6) AS advertised_sales_7d
FROM per_row GROUP BY campaign ORDER BY campaign;

COPY per_campaign TO '{{OUT}}' (HEADER, DELIMITER ',');

SELECT count(*) AS campaigns, sum(orders_7d) AS orders, sum(units_7d) AS units, sum(sales_7d) AS sales
FROM per_campaign;
