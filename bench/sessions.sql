-- sessions.sql -- DuckDB computing what clickpath's business report computes
-- for sessions and page views under the idle rule (issue 4's comparison;
-- bench/traffic.sh runs it and checks the numbers against clickpath).
--
-- Parameters (bench/duck.mjs NAME=VALUE):
--   FILE     the events CSV          OUT      where to write the result CSV
--   IDLE_MS  the idle gap in ms (R4.2 idle:30m = 1800000)
--   STITCH   1: identity after R2.1 with cross-device stitching (clickpath's
--            default); 0: identity = coalesce(customer, visitor) (--no-stitch)
--
-- Output: one row per ASIN over the whole period with business_asin.csv's
-- columns asin, sessions, sessions_sponsored, sessions_external,
-- sessions_organic, page_views, page_views_sponsored, page_views_external,
-- page_views_organic; plus one row with an empty asin holding the account's
-- sessions and page views (business_daily.csv's whole-period row).
--
-- The rules, as SPEC states them:
--   R1.6  order = (ts, input order): DuckDB's rowid of the loaded table is the
--         input order (insertion order is preserved).
--   R2.1  identity = customer; else the customer the visitor is first seen
--         with (R1.6 order, anywhere in the input); else the visitor.
--   R4.1  page views are page_view events with loaded true (empty = true).
--   R4.2  idle rule: a new session when the gap to the identity's previous
--         page view is IDLE_MS or more.
--   R4.3  a page view is sponsored / external when its click_id belongs to a
--         sponsored (campaign) / off-site (tag) click -- the first click that
--         carries the id, valid or not -- organic otherwise; a session's
--         source is its first page view's.
--   R4.4  a session counts once for every ASIN it viewed, under the session's
--         source.
-- Column types as in bench/load.sql; only the columns used are kept (DuckDB
-- then skips converting the others: its advantage, not ours).

CREATE TABLE ev AS SELECT ts, type, visitor, customer, asin, campaign, click_id, loaded
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

-- R2.1: the customer each visitor is first seen with.  The key orders by
-- (ts, input order): milliseconds shifted past any rowid.
CREATE TABLE stitch AS
SELECT visitor, arg_min(customer, epoch_ms(ts)::HUGEINT * 4294967296 + rowid) AS customer
FROM ev
WHERE {{STITCH}} = 1 AND visitor IS NOT NULL AND customer IS NOT NULL
GROUP BY visitor;

-- R4.3: the first click carrying each click_id decides its scope.
CREATE TABLE click_scope AS
SELECT click_id, arg_min(campaign IS NOT NULL, epoch_ms(ts)::HUGEINT * 4294967296 + rowid) AS sponsored
FROM ev
WHERE type = 'click' AND click_id IS NOT NULL
GROUP BY click_id;

COPY (
  WITH pv AS (
    SELECT e.rowid AS rid, epoch_ms(e.ts) AS t, e.asin,
           coalesce(e.customer, s.customer, e.visitor) AS ident,
           CASE WHEN c.sponsored THEN 1 WHEN NOT c.sponsored THEN 2 ELSE 3 END AS src
    FROM ev e
    LEFT JOIN stitch s ON e.customer IS NULL AND s.visitor = e.visitor
    LEFT JOIN click_scope c ON c.click_id = e.click_id
    WHERE e.type = 'page_view' AND coalesce(e.loaded, true)
  ),
  gap AS (
    SELECT *, CASE WHEN t - lag(t) OVER w < {{IDLE_MS}} THEN 0 ELSE 1 END AS starts
    FROM pv
    WINDOW w AS (PARTITION BY ident ORDER BY t, rid)
  ),
  numbered AS (
    SELECT *,
           sum(starts) OVER w AS sess,
           last_value(CASE WHEN starts = 1 THEN src END IGNORE NULLS) OVER w AS ssrc
    FROM gap
    WINDOW w AS (PARTITION BY ident ORDER BY t, rid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ),
  session_asin AS (
    SELECT asin, ident, sess, any_value(ssrc) AS ssrc, count(*) AS pv,
           count(*) FILTER (WHERE src = 1) AS pv_s,
           count(*) FILTER (WHERE src = 2) AS pv_e,
           count(*) FILTER (WHERE src = 3) AS pv_o
    FROM numbered
    GROUP BY asin, ident, sess
  )
  SELECT asin, count(*) AS sessions,
         count(*) FILTER (WHERE ssrc = 1) AS sessions_sponsored,
         count(*) FILTER (WHERE ssrc = 2) AS sessions_external,
         count(*) FILTER (WHERE ssrc = 3) AS sessions_organic,
         sum(pv) AS page_views, sum(pv_s) AS page_views_sponsored,
         sum(pv_e) AS page_views_external, sum(pv_o) AS page_views_organic
  FROM session_asin
  GROUP BY asin
  UNION ALL
  SELECT '' AS asin, sum(starts),
         count(*) FILTER (WHERE starts = 1 AND src = 1),
         count(*) FILTER (WHERE starts = 1 AND src = 2),
         count(*) FILTER (WHERE starts = 1 AND src = 3),
         count(*), count(*) FILTER (WHERE src = 1),
         count(*) FILTER (WHERE src = 2), count(*) FILTER (WHERE src = 3)
  FROM numbered
  ORDER BY asin
) TO '{{OUT}}' (HEADER, DELIMITER ',');
