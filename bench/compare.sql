-- compare.sql -- DuckDB computing clickpath's reports, as far as SQL expresses
-- them, from the same events CSV in ONE script: one process, one load of the
-- CSV (bench/compare.sh runs it and checks every cell against clickpath's
-- files; bench/README.md says what is and is not here, and why).
--
-- Parameters (bench/duck.mjs NAME=VALUE):
--   FILE      the events CSV (one record per physical line: clickpath gen's)
--   TAGS      the tag registry (R5.1)
--   BOTS      the bot list, one substring per line (clickpath --bot-list)
--   OUT       a directory: the reports are written there as CSV files with
--             clickpath's file names and column names (a subset of columns)
--   IDLE_MS   R4.2 idle rule (clickpath --session idle:30m = 1800000)
--   FLOOD_MS, FLOOD_CLICKS   R3.1.3 (--flood-window 1h, --flood-clicks 10)
--   ADS_MS, OFFSITE_MS       R6.1 / R7.1 windows (7 d, 14 d)
-- The duplicate rule (R3.1.4) is written for clickpath's --dedup-window 1ms
-- only (see "clicks" below).  Days are UTC days (clickpath's default --tz).
--
-- Conventions: R1.6 order is (ms, input order); input order is the loaded
-- table's rowid (insertion order is preserved), so an event's file line is
-- rowid + 2.  Where a key must order by both, it is ms * 2^32 + rowid.
-- Money stays DECIMAL(18,6) and sums of it (exact micro-units, R1.5).
-- Ratios are computed exactly in integers and rounded half to even to six
-- decimals (ratio6), as clickpath writes them (docs/reports.md).

CREATE TABLE ev AS SELECT epoch_ms(ts) AS ms, * EXCLUDE (ts)
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

-- @load-end (duck.mjs LOAD_ONLY=1 stops here: the load alone)

CREATE MACRO day_of(ms) AS DATE '1970-01-01' + CAST(ms // 86400000 AS INTEGER);
CREATE MACRO ts_of(ms) AS strftime(make_timestamp(CAST(ms AS BIGINT) * 1000), '%Y-%m-%dT%H:%M:%S.%gZ');
CREATE MACRO okey(ms, rid) AS CAST(ms AS HUGEINT) * 4294967296 + rid;
CREATE MACRO lower_ascii(s) AS translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
CREATE MACRO micros(x) AS CAST(x * 1000000 AS HUGEINT);
CREATE MACRO fmt6(q) AS CAST(q // 1000000 AS VARCHAR) || '.' || lpad(CAST(q % 1000000 AS VARCHAR), 6, '0');
CREATE MACRO rq(n, d) AS (CAST(n AS HUGEINT) * 1000000) // CAST(d AS HUGEINT);
CREATE MACRO rr(n, d) AS (CAST(n AS HUGEINT) * 1000000) % CAST(d AS HUGEINT);
-- n / d rounded half to even to 6 decimals (n, d >= 0 integers); NULL when d = 0
CREATE MACRO ratio6(n, d) AS CASE WHEN coalesce(d, 0) = 0 THEN NULL ELSE
    fmt6(rq(n, d) + CASE WHEN 2 * rr(n, d) > d OR (2 * rr(n, d) = d AND rq(n, d) % 2 = 1) THEN 1 ELSE 0 END) END;

CREATE TABLE run AS SELECT max(ms) AS as_of, bool_or(ua IS NOT NULL) AS ua_on FROM ev;

-- R2.1: the customer each visitor is first seen with (R1.6 order)
CREATE TABLE stitch AS
SELECT visitor, arg_min(customer, okey(ms, rowid)) AS customer
FROM ev WHERE visitor IS NOT NULL AND customer IS NOT NULL GROUP BY visitor;

-- R3.1.1: the bot list (one substring per line; blank and # lines skipped),
-- matched case-insensitively (ASCII) once per distinct user agent
CREATE TABLE bots AS
SELECT DISTINCT lower_ascii(p) AS p
FROM (SELECT unnest(string_split(replace(content, chr(13), ''), chr(10))) AS p FROM read_text('{{BOTS}}'))
WHERE p <> '' AND NOT starts_with(p, '#');
CREATE TABLE ua_bot AS
SELECT u.ua, bool_or(contains(lower_ascii(u.ua), b.p)) AS bot
FROM (SELECT DISTINCT ua FROM ev WHERE ua IS NOT NULL AND type IN ('click', 'impression')) u
CROSS JOIN bots b GROUP BY u.ua;

-- every event but impressions, with its R2.1 identity (impressions need none
-- but for the last activity of R10.1, taken apart below)
CREATE TABLE x AS
SELECT e.rowid AS rid, e.ms, okey(e.ms, e.rowid) AS k, e.type,
       coalesce(e.customer, s.customer, e.visitor) AS ident,
       e.ip, e.ua, e.referrer, e.asin, e.campaign, e.ad_group, e.keyword, e.tag, e.click_id,
       e.cost, e."order" AS ord, e.units, e.price, e.amount, e.loaded, e.rating
FROM ev e LEFT JOIN stitch s ON s.visitor = e.visitor  -- (not "e.customer IS NULL AND ...":
WHERE e.type <> 'impression';                         --  DuckDB then plans a nested-loop join)

-- R10.1: the last event of any kind of each identity (impressions included)
CREATE TABLE last_act AS
WITH pairs AS (SELECT customer, visitor, max(ms) AS ms FROM ev GROUP BY customer, visitor)
SELECT coalesce(p.customer, s.customer, p.visitor) AS ident, max(p.ms) AS last_ms
FROM pairs p LEFT JOIN stitch s ON s.visitor = p.visitor
WHERE coalesce(p.customer, p.visitor) IS NOT NULL
GROUP BY 1;

-- Impressions per (day, placement, asin): R3.2 an impression is invalid when
-- its user agent is on the bot list; one without a user agent is valid.
CREATE TABLE imp AS
SELECT day_of(e.ms) AS date, e.campaign, coalesce(e.ad_group, '') AS ad_group,
       coalesce(e.keyword, '') AS keyword, coalesce(e.asin, '') AS asin,
       count(*) FILTER (WHERE NOT coalesce(b.bot, false)) AS impressions,
       coalesce(sum(e.cost) FILTER (WHERE NOT coalesce(b.bot, false)), 0) AS spend,
       coalesce(sum(e.cost) FILTER (WHERE coalesce(b.bot, false)), 0) AS invalid_cost
FROM ev e LEFT JOIN ua_bot b ON b.ua = e.ua
WHERE e.type = 'impression'
GROUP BY ALL;

-- ---- R3 clicks ----------------------------------------------------------
-- bot: the list, or an empty user agent while the input has user agents.
-- flood: per ip (the identity when there is none; the two never mix), the
--   clicks in (t - FLOOD_MS, t] at or before this one in R1.6 order = its
--   rank in (ms, input order) minus the clicks at or before t - FLOOD_MS.
-- duplicate, written for --dedup-window 1ms: a click is a duplicate when its
--   identity's last valid click on the same target is less than 1 ms before,
--   i.e. at the same millisecond; so among the clicks of one (identity,
--   target, ms) that are not bot or flood, the first in input order is valid
--   and the others are duplicates.  (The default 72 h window is not a window
--   function: bench/README.md.)
-- blocked_ip: no --ip-blocklist on either side.
CREATE TABLE clk AS
WITH c0 AS (
    SELECT x.*, coalesce(x.cost, 0) AS c_cost,
           CASE WHEN x.ua IS NULL THEN r.ua_on ELSE b.bot END AS bot,
           CASE WHEN x.ip IS NOT NULL THEN 'ip:' || x.ip ELSE 'id:' || x.ident END AS fkey
    FROM x LEFT JOIN ua_bot b ON b.ua = x.ua CROSS JOIN run r
    WHERE x.type = 'click'),
c1 AS (
    SELECT *, row_number() OVER (PARTITION BY fkey ORDER BY ms, rid)
            - count(*) OVER (PARTITION BY fkey ORDER BY ms RANGE BETWEEN UNBOUNDED PRECEDING AND {{FLOOD_MS}} PRECEDING)
              AS in_window
    FROM c0),
c2 AS (
    SELECT *, CASE WHEN bot THEN 'bot' WHEN in_window > {{FLOOD_CLICKS}} THEN 'flood' END AS r0
    FROM c1)
SELECT * EXCLUDE (r0),
       CASE WHEN r0 IS NOT NULL THEN r0
            WHEN row_number() OVER (PARTITION BY r0 IS NULL, ident, campaign,
                                    CASE WHEN campaign IS NOT NULL THEN ad_group END,
                                    CASE WHEN campaign IS NOT NULL THEN keyword END,
                                    CASE WHEN campaign IS NOT NULL THEN asin END,
                                    CASE WHEN campaign IS NULL THEN tag END, ms
                                    ORDER BY rid) > 1 THEN 'duplicate' END AS reason
FROM c2;

-- R4.3: a click_id belongs to the first click carrying it; a click's landing
-- page view is the first loaded page view carrying its id (R3.4: none =
-- bounced); "unloaded": an unloaded page view carries the id (R9.1).
CREATE TABLE cid AS
SELECT click_id, arg_min(campaign IS NOT NULL, k) AS sponsored, arg_min_null(reason, k) AS first_reason,
       arg_min(rid, k) AS first_rid
FROM clk WHERE click_id IS NOT NULL GROUP BY click_id;
CREATE TABLE landing AS
SELECT click_id, arg_min(rid, k) AS pv_rid, arg_min_null(asin, k) AS pv_asin
FROM x WHERE type = 'page_view' AND coalesce(loaded, true) AND click_id IS NOT NULL GROUP BY click_id;
CREATE TABLE unloaded AS
SELECT DISTINCT click_id FROM x WHERE type = 'page_view' AND NOT coalesce(loaded, true) AND click_id IS NOT NULL;

-- ---- R4 sessions (idle rule) ----------------------------------------------
-- src: 1 sponsored, 2 external, 3 organic (R4.3)
CREATE TABLE pvs AS
WITH pv AS (
    SELECT p.rid, p.ms, p.k, p.asin, p.ident, p.click_id,
           CASE WHEN c.sponsored THEN 1 WHEN NOT c.sponsored THEN 2 ELSE 3 END AS src
    FROM x p LEFT JOIN cid c ON c.click_id = p.click_id
    WHERE p.type = 'page_view' AND coalesce(p.loaded, true)),
gap AS (
    SELECT *, CASE WHEN ms - lag(ms) OVER w < {{IDLE_MS}} THEN 0 ELSE 1 END AS starts
    FROM pv WINDOW w AS (PARTITION BY ident ORDER BY ms, rid))
SELECT *, sum(starts) OVER w AS sess,
       last_value(CASE WHEN starts = 1 THEN src END IGNORE NULLS) OVER w AS ssrc
FROM gap
WINDOW w AS (PARTITION BY ident ORDER BY ms, rid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

CREATE TABLE sessions AS
SELECT ident, sess, any_value(ssrc) AS ssrc, min(ms) AS start_ms, arg_min(rid, k) AS first_rid,
       arg_min_null(click_id, k) AS first_click_id
FROM pvs GROUP BY ident, sess;

-- ---- carts, purchase lines, returns ----------------------------------------
-- R1.4a: a purchase with negative units is a return of that many units, its
-- amount negated.  sales = amount when present, else units (default 1) x
-- price.  R1.3: an order is its id, or (identity, ts) for lines without one.
CREATE TABLE lines AS
WITH l AS (
    SELECT *, type = 'purchase' AND units < 0 AS neg FROM x
    WHERE type IN ('add_to_cart', 'purchase', 'return'))
SELECT rid, ms, k, ident, asin,
       CASE WHEN neg THEN 'return' ELSE type END AS typ,
       CASE WHEN units IS NULL THEN 1 WHEN neg THEN -units ELSE units END AS u,
       CASE WHEN amount IS NOT NULL THEN (CASE WHEN neg THEN -amount ELSE amount END)
            WHEN price IS NOT NULL THEN (CASE WHEN units IS NULL THEN 1 WHEN neg THEN -units ELSE units END) * price
            ELSE 0 END AS money,
       CASE WHEN ord IS NOT NULL THEN 'o:' || ord ELSE 's:' || ident || '@' || ms END AS okey
FROM l;

-- orders with a purchase line: the time of the first one (R10.6, business_daily)
CREATE TABLE orders AS
SELECT okey, min(ms) AS first_ms FROM lines WHERE typ = 'purchase' GROUP BY okey;

-- ---- business_asin.csv (R4.4, R8) --------------------------------------------
CREATE TABLE acct_day AS
SELECT day_of(start_ms) AS date, count(*) AS sessions,
       count(*) FILTER (WHERE ssrc = 1) AS s1, count(*) FILTER (WHERE ssrc = 2) AS s2,
       count(*) FILTER (WHERE ssrc = 3) AS s3
FROM sessions GROUP BY ALL;

CREATE TABLE ba_day AS
WITH sa AS (  -- a session counts once per ASIN, on the day of its first page view of it
    SELECT asin, day_of(min(ms)) AS date, any_value(ssrc) AS ssrc FROM pvs GROUP BY asin, ident, sess),
s AS (
    SELECT date, asin, count(*) AS sessions, count(*) FILTER (WHERE ssrc = 1) AS s1,
           count(*) FILTER (WHERE ssrc = 2) AS s2, count(*) FILTER (WHERE ssrc = 3) AS s3
    FROM sa GROUP BY ALL),
p AS (
    SELECT day_of(ms) AS date, asin, count(*) AS pv, count(*) FILTER (WHERE src = 1) AS p1,
           count(*) FILTER (WHERE src = 2) AS p2, count(*) FILTER (WHERE src = 3) AS p3
    FROM pvs GROUP BY ALL),
o AS (
    SELECT day_of(ms) AS date, asin,
           count(*) FILTER (WHERE typ = 'add_to_cart') AS atc,
           coalesce(sum(u) FILTER (WHERE typ = 'purchase'), 0) AS units,
           coalesce(sum(money) FILTER (WHERE typ = 'purchase'), 0) AS sales,
           count(*) FILTER (WHERE typ = 'purchase') AS items,
           coalesce(sum(u) FILTER (WHERE typ = 'return'), 0) AS ur,
           coalesce(sum(money) FILTER (WHERE typ = 'return'), 0) AS refunds
    FROM lines GROUP BY ALL),
keys AS (SELECT date, asin FROM s UNION SELECT date, asin FROM p UNION SELECT date, asin FROM o)
SELECT k.date, k.asin,
       coalesce(s.sessions, 0) AS sessions, coalesce(s.s1, 0) AS s1, coalesce(s.s2, 0) AS s2,
       coalesce(s.s3, 0) AS s3, coalesce(p.pv, 0) AS pv, coalesce(p.p1, 0) AS p1,
       coalesce(p.p2, 0) AS p2, coalesce(p.p3, 0) AS p3, coalesce(o.atc, 0) AS atc,
       coalesce(o.units, 0) AS units, coalesce(o.sales, 0) AS sales, coalesce(o.items, 0) AS items,
       coalesce(o.ur, 0) AS ur, coalesce(o.refunds, 0) AS refunds
FROM keys k
LEFT JOIN s ON s.date = k.date AND s.asin = k.asin
LEFT JOIN p ON p.date = k.date AND p.asin = k.asin
LEFT JOIN o ON o.date = k.date AND o.asin = k.asin;

COPY (
    WITH whole AS (
        SELECT NULL::DATE AS date, asin, sum(sessions) AS sessions, sum(s1) AS s1, sum(s2) AS s2,
               sum(s3) AS s3, sum(pv) AS pv, sum(p1) AS p1, sum(p2) AS p2, sum(p3) AS p3,
               sum(atc) AS atc, sum(units) AS units, sum(sales) AS sales, sum(items) AS items,
               sum(ur) AS ur, sum(refunds) AS refunds, (SELECT sum(sessions) FROM acct_day) AS acct
        FROM ba_day GROUP BY asin),
    daily AS (
        SELECT b.*, coalesce(a.sessions, 0) AS acct FROM ba_day b LEFT JOIN acct_day a ON a.date = b.date),
    rows AS (SELECT * FROM whole UNION ALL SELECT * FROM daily)
    SELECT date, asin, sessions, s1 AS sessions_sponsored, s2 AS sessions_external,
           s3 AS sessions_organic, ratio6(sessions, acct) AS session_pct, pv AS page_views,
           p1 AS page_views_sponsored, p2 AS page_views_external, p3 AS page_views_organic,
           atc AS add_to_carts, units AS units_ordered, sales AS ordered_sales, items AS order_items,
           ratio6(units, sessions) AS unit_session_pct, ur AS units_returned, refunds
    FROM rows ORDER BY date NULLS FIRST, asin
) TO '{{OUT}}/business_asin.csv' (HEADER, DELIMITER ',');

-- ---- business_daily.csv ----------------------------------------------------
COPY (
    WITH p AS (
        SELECT day_of(ms) AS date, count(*) AS pv, count(*) FILTER (WHERE src = 1) AS p1,
               count(*) FILTER (WHERE src = 2) AS p2, count(*) FILTER (WHERE src = 3) AS p3
        FROM pvs GROUP BY ALL),
    b AS (  -- R3.4 bounced: valid clicks that no loaded page view carries, by the click's day
        SELECT day_of(c.ms) AS date, count(*) AS bounced
        FROM clk c WHERE c.reason IS NULL
          AND (c.click_id IS NULL OR c.click_id NOT IN (SELECT click_id FROM landing))
        GROUP BY ALL),
    u AS (
        SELECT day_of(ms) AS date, sum(u) AS units, sum(money) AS sales
        FROM lines WHERE typ = 'purchase' GROUP BY ALL),
    o AS (SELECT day_of(first_ms) AS date, count(*) AS orders FROM orders GROUP BY ALL),
    keys AS (SELECT date FROM acct_day UNION SELECT date FROM p UNION SELECT date FROM b
             UNION SELECT date FROM u UNION SELECT date FROM o),
    daily AS (
        SELECT k.date, coalesce(a.sessions, 0) AS sessions, coalesce(a.s1, 0) AS s1,
               coalesce(a.s2, 0) AS s2, coalesce(a.s3, 0) AS s3, coalesce(p.pv, 0) AS pv,
               coalesce(p.p1, 0) AS p1, coalesce(p.p2, 0) AS p2, coalesce(p.p3, 0) AS p3,
               coalesce(b.bounced, 0) AS bounced, coalesce(u.units, 0) AS units,
               coalesce(u.sales, 0) AS sales, coalesce(o.orders, 0) AS orders
        FROM keys k LEFT JOIN acct_day a USING (date) LEFT JOIN p USING (date)
        LEFT JOIN b USING (date) LEFT JOIN u USING (date) LEFT JOIN o USING (date)),
    rows AS (
        SELECT NULL::DATE AS date, coalesce(sum(sessions), 0) AS sessions, coalesce(sum(s1), 0) AS s1,
               coalesce(sum(s2), 0) AS s2, coalesce(sum(s3), 0) AS s3, coalesce(sum(pv), 0) AS pv,
               coalesce(sum(p1), 0) AS p1, coalesce(sum(p2), 0) AS p2, coalesce(sum(p3), 0) AS p3,
               coalesce(sum(bounced), 0) AS bounced, coalesce(sum(units), 0) AS units,
               coalesce(sum(sales), 0) AS sales, coalesce(sum(orders), 0) AS orders
        FROM daily
        UNION ALL SELECT * FROM daily)
    SELECT date, sessions, s1 AS sessions_sponsored, s2 AS sessions_external, s3 AS sessions_organic,
           pv AS page_views, p1 AS page_views_sponsored, p2 AS page_views_external,
           p3 AS page_views_organic, bounced AS bounced_clicks, units, sales, orders
    FROM rows ORDER BY date NULLS FIRST
) TO '{{OUT}}/business_daily.csv' (HEADER, DELIMITER ',');

-- ---- invalid_clicks.csv (R8; the file column is the input path) ------------
COPY (
    SELECT rid + 2 AS line, ts_of(ms) AS ts, ident AS identity, ip,
           CASE WHEN campaign IS NOT NULL
                THEN 'ad:' || campaign || '|' || coalesce(ad_group, '') || '|' || coalesce(keyword, '')
                     || '|' || coalesce(asin, '')
                ELSE 'tag:' || tag END AS target,
           reason
    FROM clk WHERE reason IS NOT NULL ORDER BY ms, rid
) TO '{{OUT}}/invalid_clicks.csv' (HEADER, DELIMITER ',');

-- ---- R6.1 sponsored credits: two ASOF joins (same ASIN, then any ASIN) ------
-- ASOF key: ms * 2^32 + rowid for clicks, ms * 2^32 + 2^32 - 1 for purchase
-- lines, so that a click at the purchase's own ms counts and the last one in
-- input order wins.  The latest same-ASIN click outside the window means none
-- is inside it.
CREATE TABLE adc AS
SELECT rid, ident, asin, campaign, coalesce(ad_group, '') AS ad_group, coalesce(keyword, '') AS keyword,
       coalesce(asin, '') AS c_asin, ms, k
FROM clk WHERE reason IS NULL AND campaign IS NOT NULL;
CREATE TABLE pur AS
SELECT rid, ident, asin, ms, CAST(ms AS HUGEINT) * 4294967296 + 4294967295 AS pk, u, money, okey
FROM lines WHERE typ = 'purchase';
CREATE TABLE ad_credit AS
WITH same AS (
    SELECT p.rid, c.rid AS crid, c.ms AS cms
    FROM pur p ASOF LEFT JOIN adc c ON p.ident = c.ident AND p.asin = c.asin AND p.pk >= c.k),
anyc AS (
    SELECT p.rid, c.rid AS crid, c.ms AS cms
    FROM pur p ASOF LEFT JOIN adc c ON p.ident = c.ident AND p.pk >= c.k)
SELECT p.*, coalesce(s.cms >= p.ms - {{ADS_MS}}, false) AS same_asin,
       CASE WHEN s.cms >= p.ms - {{ADS_MS}} THEN s.crid ELSE a.crid END AS crid
FROM pur p JOIN same s USING (rid) JOIN anyc a USING (rid)
WHERE s.cms >= p.ms - {{ADS_MS}} OR a.cms >= p.ms - {{ADS_MS}};

-- ---- ads.csv (R6.2, R6.3) ---------------------------------------------------
COPY (
    WITH c AS (
        SELECT day_of(c.ms) AS date, c.campaign, coalesce(c.ad_group, '') AS ad_group,
               coalesce(c.keyword, '') AS keyword, coalesce(c.asin, '') AS asin,
               count(*) FILTER (WHERE c.reason IS NULL) AS clicks,
               count(*) FILTER (WHERE c.reason IS NOT NULL) AS invalid_clicks,
               count(*) FILTER (WHERE c.reason IS NULL AND l.click_id IS NULL) AS bounced,
               coalesce(sum(c.c_cost) FILTER (WHERE c.reason IS NULL), 0) AS spend,
               coalesce(sum(c.c_cost) FILTER (WHERE c.reason IS NOT NULL), 0) AS invalid_cost
        FROM clk c LEFT JOIN landing l ON l.click_id = c.click_id
        WHERE c.campaign IS NOT NULL GROUP BY ALL),
    cr AS (  -- credited lines on the day of their click (R6.3), at its placement and ASIN
        SELECT day_of(a.ms) AS date, a.campaign, a.ad_group, a.keyword, a.c_asin AS asin,
               p.okey, p.u, p.money, p.same_asin
        FROM ad_credit p JOIN adc a ON a.rid = p.crid),
    keys AS (
        SELECT date, campaign, ad_group, keyword, asin FROM imp
        UNION SELECT date, campaign, ad_group, keyword, asin FROM c
        UNION SELECT date, campaign, ad_group, keyword, asin FROM cr),
    fig AS (  -- summable figures per day
        SELECT k.*, coalesce(i.impressions, 0) AS impressions, coalesce(c.clicks, 0) AS clicks,
               coalesce(c.invalid_clicks, 0) AS invalid_clicks, coalesce(c.bounced, 0) AS bounced,
               coalesce(i.spend, 0) + coalesce(c.spend, 0) AS spend,
               coalesce(i.invalid_cost, 0) + coalesce(c.invalid_cost, 0) AS invalid_cost
        FROM keys k
        LEFT JOIN imp i USING (date, campaign, ad_group, keyword, asin)
        LEFT JOIN c USING (date, campaign, ad_group, keyword, asin)),
    crd AS (
        SELECT date, campaign, ad_group, keyword, asin, count(DISTINCT okey) AS orders, sum(u) AS units,
               sum(money) AS sales, coalesce(sum(money) FILTER (WHERE same_asin), 0) AS adv
        FROM cr GROUP BY ALL),
    crw AS (
        SELECT NULL::DATE AS date, campaign, ad_group, keyword, asin, count(DISTINCT okey) AS orders,
               sum(u) AS units, sum(money) AS sales, coalesce(sum(money) FILTER (WHERE same_asin), 0) AS adv
        FROM cr GROUP BY ALL),
    rows AS (
        SELECT f.*, d.orders, d.units, d.sales, d.adv FROM fig f
        LEFT JOIN crd d USING (date, campaign, ad_group, keyword, asin)
        UNION ALL
        SELECT w.*, d.orders, d.units, d.sales, d.adv FROM (
            SELECT NULL::DATE AS date, campaign, ad_group, keyword, asin, sum(impressions) AS impressions,
                   sum(clicks) AS clicks, sum(invalid_clicks) AS invalid_clicks, sum(bounced) AS bounced,
                   sum(spend) AS spend, sum(invalid_cost) AS invalid_cost
            FROM fig GROUP BY ALL) w
        LEFT JOIN crw d ON d.campaign = w.campaign AND d.ad_group = w.ad_group
                       AND d.keyword = w.keyword AND d.asin = w.asin)
    SELECT date, campaign, ad_group, keyword, asin, impressions, clicks, invalid_clicks,
           bounced AS bounced_clicks, spend, invalid_cost,
           ratio6(clicks, impressions) AS ctr,
           ratio6(micros(spend), clicks * 1000000) AS cpc,
           ratio6(micros(spend), impressions * 1000) AS cpm,
           coalesce(orders, 0) AS orders_7d, coalesce(units, 0) AS units_7d,
           coalesce(sales, 0) AS sales_7d, coalesce(adv, 0) AS advertised_sales_7d,
           ratio6(micros(spend), micros(coalesce(sales, 0))) AS acos,
           ratio6(micros(coalesce(sales, 0)), micros(spend)) AS roas,
           ratio6(coalesce(orders, 0), clicks) AS cvr
    FROM rows ORDER BY date NULLS FIRST, campaign, ad_group, keyword, asin
) TO '{{OUT}}/ads.csv' (HEADER, DELIMITER ',');

-- ---- R7.1 off-site credits: one ASOF join, any ASIN ---------------------------
CREATE TABLE osc AS
SELECT rid, ident, tag, ms, k FROM clk WHERE reason IS NULL AND tag IS NOT NULL;
CREATE TABLE conv AS
SELECT rid, ident, 'dpv' AS kind, ms, CAST(ms AS HUGEINT) * 4294967296 + 4294967295 AS pk,
       0 AS u, 0::DECIMAL(18,6) AS money, NULL AS okey
FROM pvs
UNION ALL
SELECT rid, ident, 'atc', ms, CAST(ms AS HUGEINT) * 4294967296 + 4294967295, 0, 0, NULL
FROM lines WHERE typ = 'add_to_cart'
UNION ALL
SELECT rid, ident, 'purchase', ms, CAST(ms AS HUGEINT) * 4294967296 + 4294967295, u, money, okey
FROM lines WHERE typ = 'purchase';
CREATE TABLE os_credit AS
SELECT v.*, c.rid AS crid, c.tag, c.ms AS cms
FROM conv v ASOF JOIN osc c ON v.ident = c.ident AND v.pk >= c.k
WHERE c.ms >= v.ms - {{OFFSITE_MS}};

-- R7.2 new to brand, per order: at its first line (R1.6 order) the identity
-- has no purchase line of another order in [t - 365 d, t) (docs/attribution.md).
-- clickpath decides at the first line it meets walking identities in string-id
-- order, so for an order shared by several identities its answer depends on
-- line order (a bug: bench/README.md); generated orders have one identity each
-- (the last query counts the others: orders_of_several_identities).
CREATE TABLE ntb AS
WITH p AS (
    SELECT okey, ms, k, lag(ms) OVER (PARTITION BY ident ORDER BY ms, rid) AS prev_ms
    FROM lines WHERE typ = 'purchase')
SELECT okey, arg_min(prev_ms IS NULL OR prev_ms < ms - 31536000000, k) AS is_new
FROM p GROUP BY okey;

-- ---- attribution.csv (R7.2) ------------------------------------------------------
CREATE TABLE reg AS
SELECT tag, coalesce(channel, '') AS channel, coalesce(publisher, '') AS publisher,
       coalesce(campaign, '') AS campaign, coalesce(asin, '') AS asin
FROM (SELECT *, row_number() OVER (PARTITION BY tag ORDER BY rn) AS dup
      FROM (SELECT *, row_number() OVER () AS rn FROM read_csv('{{TAGS}}', header = true, all_varchar = true)))
WHERE dup = 1 AND tag IS NOT NULL;

CREATE TABLE att_tag_day AS
WITH c AS (
    SELECT day_of(ms) AS date, tag, count(*) FILTER (WHERE reason IS NULL) AS clicks,
           count(*) FILTER (WHERE reason IS NOT NULL) AS invalid
    FROM clk WHERE tag IS NOT NULL GROUP BY ALL),
v AS (
    SELECT day_of(cms) AS date, tag, count(*) FILTER (WHERE kind = 'dpv') AS dpv,
           count(*) FILTER (WHERE kind = 'atc') AS atc, coalesce(sum(u), 0) AS units,
           coalesce(sum(money), 0) AS sales,
           count(DISTINCT okey) AS purchases,
           count(DISTINCT okey) FILTER (WHERE n.is_new) AS ntb
    FROM os_credit o LEFT JOIN ntb n USING (okey) GROUP BY ALL)
SELECT date, tag, coalesce(c.clicks, 0) AS clicks, coalesce(c.invalid, 0) AS invalid,
       coalesce(v.dpv, 0) AS dpv, coalesce(v.atc, 0) AS atc, coalesce(v.purchases, 0) AS purchases,
       coalesce(v.units, 0) AS units, coalesce(v.sales, 0) AS sales, coalesce(v.ntb, 0) AS ntb
FROM c FULL JOIN v USING (date, tag);

COPY (
    WITH tags AS (SELECT tag FROM reg UNION SELECT DISTINCT tag FROM clk WHERE tag IS NOT NULL),
    w AS (  -- whole-period figures per tag; orders distinct over the period
        SELECT t.tag, coalesce(sum(d.clicks), 0) AS clicks, coalesce(sum(d.invalid), 0) AS invalid,
               coalesce(sum(d.dpv), 0) AS dpv, coalesce(sum(d.atc), 0) AS atc,
               coalesce(sum(d.units), 0) AS units, coalesce(sum(d.sales), 0) AS sales
        FROM tags t LEFT JOIN att_tag_day d USING (tag) GROUP BY t.tag),
    wo AS (
        SELECT tag, count(DISTINCT okey) AS purchases, count(DISTINCT okey) FILTER (WHERE n.is_new) AS ntb
        FROM os_credit LEFT JOIN ntb n USING (okey) WHERE okey IS NOT NULL GROUP BY tag),
    -- diagnostics: landing ASIN (ASIN_MISMATCH), referring sites (SHARED_TAG)
    vc AS (
        SELECT c.tag, l.pv_asin,
               lower_ascii(regexp_replace(
                   regexp_replace(regexp_extract(
                       regexp_replace(c.referrer, '^.*?://', ''), '^[^/?#]*'), '^[^@]*@', ''),
                   ':.*$', '')) AS h0
        FROM clk c LEFT JOIN landing l ON l.click_id = c.click_id
        WHERE c.reason IS NULL AND c.tag IS NOT NULL),
    vh AS (
        SELECT tag, pv_asin,
               CASE WHEN length(h0) > 4 AND starts_with(h0, 'www.') THEN substr(h0, 5) ELSE h0 END AS host
        FROM vc),
    dg AS (
        SELECT v.tag, count(DISTINCT host) FILTER (WHERE host <> '') > 1 AS shared,
               bool_or(r.asin <> '' AND v.pv_asin IS NOT NULL AND v.pv_asin <> r.asin) AS mismatch
        FROM vh v LEFT JOIN reg r USING (tag) GROUP BY v.tag),
    tagrows AS (
        SELECT NULL::DATE AS date, 1 AS lvl, 'tag' AS level, w.tag, r.channel, r.publisher, r.campaign,
               w.clicks, w.invalid, w.dpv, w.atc, coalesce(wo.purchases, 0) AS purchases, w.units,
               w.sales, coalesce(wo.ntb, 0) AS ntb,
               concat_ws(';',
                   CASE WHEN w.clicks = 0 THEN 'NO_CLICKS' END,
                   CASE WHEN w.clicks > 0 AND coalesce(wo.purchases, 0) = 0 THEN 'NO_CONVERSIONS' END,
                   CASE WHEN r.tag IS NULL THEN 'UNKNOWN_TAG' END,
                   CASE WHEN coalesce(dg.mismatch, false) AND r.tag IS NOT NULL THEN 'ASIN_MISMATCH' END,
                   CASE WHEN coalesce(dg.shared, false) THEN 'SHARED_TAG' END,
                   CASE WHEN w.invalid * 5 > w.clicks + w.invalid THEN 'HIGH_INVALID' END) AS diagnostics
        FROM w LEFT JOIN wo USING (tag) LEFT JOIN reg r USING (tag) LEFT JOIN dg USING (tag)),
    -- roll-ups over the registered tags: campaign, publisher, channel
    rl AS (
        SELECT r.*, g.lvl FROM reg r CROSS JOIN (VALUES (2), (3), (4)) g(lvl)),
    rk AS (
        SELECT tag, lvl, channel,
               CASE WHEN lvl <= 3 THEN publisher ELSE '' END AS publisher,
               CASE WHEN lvl = 2 THEN campaign ELSE '' END AS campaign
        FROM rl),
    rf AS (
        SELECT rk.lvl, rk.channel, rk.publisher, rk.campaign, sum(w.clicks) AS clicks,
               sum(w.invalid) AS invalid, sum(w.dpv) AS dpv, sum(w.atc) AS atc,
               sum(w.units) AS units, sum(w.sales) AS sales
        FROM rk JOIN w USING (tag) GROUP BY ALL),
    ro AS (
        SELECT rk.lvl, rk.channel, rk.publisher, rk.campaign, count(DISTINCT o.okey) AS purchases,
               count(DISTINCT o.okey) FILTER (WHERE n.is_new) AS ntb
        FROM rk JOIN os_credit o USING (tag) LEFT JOIN ntb n ON n.okey = o.okey
        WHERE o.okey IS NOT NULL GROUP BY ALL),
    rollrows AS (
        SELECT NULL::DATE AS date, rf.lvl,
               CASE rf.lvl WHEN 2 THEN 'campaign' WHEN 3 THEN 'publisher' ELSE 'channel' END AS level,
               NULL AS tag, rf.channel, rf.publisher, rf.campaign, rf.clicks, rf.invalid, rf.dpv, rf.atc,
               coalesce(ro.purchases, 0) AS purchases, rf.units, rf.sales, coalesce(ro.ntb, 0) AS ntb,
               concat_ws(';',
                   CASE WHEN rf.clicks = 0 THEN 'NO_CLICKS' END,
                   CASE WHEN rf.clicks > 0 AND coalesce(ro.purchases, 0) = 0 THEN 'NO_CONVERSIONS' END,
                   CASE WHEN rf.invalid * 5 > rf.clicks + rf.invalid THEN 'HIGH_INVALID' END) AS diagnostics
        FROM rf LEFT JOIN ro USING (lvl, channel, publisher, campaign)),
    dayrows AS (
        SELECT d.date, 1 AS lvl, 'tag' AS level, d.tag, r.channel, r.publisher, r.campaign,
               d.clicks, d.invalid, d.dpv, d.atc, d.purchases, d.units, d.sales, d.ntb, NULL AS diagnostics
        FROM att_tag_day d LEFT JOIN reg r USING (tag)),
    rows AS (SELECT * FROM tagrows UNION ALL SELECT * FROM rollrows UNION ALL SELECT * FROM dayrows)
    SELECT date, level, tag, channel, publisher, campaign, clicks, invalid AS invalid_clicks, dpv, atc,
           purchases, units, sales, ntb AS new_to_brand_purchases, ratio6(dpv, clicks) AS dpv_rate,
           ratio6(atc, clicks) AS atc_rate, ratio6(purchases, clicks) AS purchase_rate,
           nullif(diagnostics, '') AS diagnostics
    FROM rows ORDER BY date NULLS FIRST, lvl, channel, publisher, campaign, tag
) TO '{{OUT}}/attribution.csv' (HEADER, DELIMITER ',');

-- ---- customers.csv (R10.1, R10.2), without the model columns (R10.5) ---------
CREATE TABLE cust AS
WITH p AS (SELECT * FROM lines WHERE typ = 'purchase'),
c AS (
    SELECT ident, min(ms) AS first_ms, max(ms) AS last_ms, arg_min(rid, k) AS first_rid,
           count(DISTINCT okey) AS orders, sum(u) AS units, sum(money) AS gmv,
           count(DISTINCT okey) FILTER (WHERE ms >= (SELECT as_of FROM run) - 7776000000) AS orders_90d
    FROM p GROUP BY ident),
r AS (SELECT ident, sum(u) AS ur, sum(money) AS refunds FROM lines WHERE typ = 'return' GROUP BY ident),
f AS (
    SELECT c.*, coalesce(r.ur, 0) AS units_returned, coalesce(r.refunds, 0) AS refunds,
           c.gmv - coalesce(r.refunds, 0) AS net, a.last_ms AS last_act, count(*) OVER () AS n
    FROM c LEFT JOIN r USING (ident) LEFT JOIN last_act a USING (ident))
SELECT *,
       1 + (5 * (row_number() OVER (ORDER BY last_ms, ident) - 1)) // n AS r_score,
       1 + (5 * (row_number() OVER (ORDER BY orders, ident) - 1)) // n AS f_score,
       1 + (5 * (row_number() OVER (ORDER BY net, ident) - 1)) // n AS m_score,
       CASE WHEN orders_90d >= 2 AND net >= 150 AND units_returned * 1000000 < 50000 * units THEN 'high_value'
            WHEN (SELECT as_of FROM run) - last_act > 5184000000 THEN 'churn_risk'
            WHEN orders = 1 THEN 'potential' ELSE 'repeat' END AS segment
FROM f;

COPY (
    SELECT ident AS customer, ts_of(first_ms) AS first_purchase, ts_of(last_ms) AS last_purchase, orders,
           units, gmv, units_returned, refunds, net AS net_revenue, ratio6(units_returned, units) AS return_rate,
           ratio6(micros(gmv), orders * 1000000) AS aov, orders_90d,
           ((SELECT as_of FROM run) - last_act) // 86400000 AS days_since_last_activity,
           r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR AS rfm, segment
    FROM cust ORDER BY ident
) TO '{{OUT}}/customers.csv' (HEADER, DELIMITER ',');

-- segments.csv and pareto.csv: customers by GMV descending, ties by identity
CREATE TABLE by_gmv AS
SELECT ident, gmv, row_number() OVER (ORDER BY gmv DESC, ident) AS pos, count(*) OVER () AS n,
       sum(gmv) OVER () AS total
FROM cust;

COPY (
    WITH s AS (
        SELECT segment, count(*) AS customers, sum(gmv) AS gmv FROM cust GROUP BY segment),
    segs AS (SELECT * FROM (VALUES ('high_value', 1), ('churn_risk', 2), ('potential', 3), ('repeat', 4),
                                   ('pareto_top20', 5)) v(segment, o)),
    top AS (
        SELECT 'pareto_top20' AS segment, count(*) AS customers, sum(gmv) AS gmv
        FROM by_gmv WHERE pos <= (n + 4) // 5),
    rows AS (SELECT * FROM s UNION ALL SELECT * FROM top),
    tot AS (SELECT count(*) AS n, coalesce(sum(gmv), 0) AS gmv FROM cust)
    SELECT g.segment, coalesce(r.customers, 0) AS customers,
           ratio6(coalesce(r.customers, 0), tot.n) AS share, coalesce(r.gmv, 0) AS gmv,
           ratio6(micros(coalesce(r.gmv, 0)), micros(tot.gmv)) AS gmv_share
    FROM segs g LEFT JOIN rows r USING (segment) CROSS JOIN tot ORDER BY g.o
) TO '{{OUT}}/segments.csv' (HEADER, DELIMITER ',');

COPY (
    WITH d AS (SELECT range AS decile FROM range(1, 11)),
    tot AS (SELECT count(*) AS n, coalesce(sum(gmv), 0) AS gmv FROM cust)
    SELECT d.decile, (d.decile * tot.n + 9) // 10 AS customers,
           ratio6((d.decile * tot.n + 9) // 10, tot.n) AS customer_share,
           coalesce((SELECT sum(gmv) FROM by_gmv WHERE pos <= (d.decile * tot.n + 9) // 10), 0) AS gmv,
           ratio6(micros(coalesce((SELECT sum(gmv) FROM by_gmv WHERE pos <= (d.decile * tot.n + 9) // 10), 0)),
                  micros(tot.gmv)) AS gmv_share
    FROM d CROSS JOIN tot ORDER BY d.decile
) TO '{{OUT}}/pareto.csv' (HEADER, DELIMITER ',');

-- ---- cohorts.csv, cohorts_histogram.csv (R10.3) ---------------------------------
-- the second order: the second distinct order met in R1.6 order among the
-- customer's purchase lines; its first line's time
CREATE TABLE second_order AS
WITH o AS (
    SELECT ident, okey, min(k) AS fk, arg_min(ms, k) AS fms FROM lines WHERE typ = 'purchase' GROUP BY ident, okey),
r AS (SELECT *, row_number() OVER (PARTITION BY ident ORDER BY fk) AS n FROM o)
SELECT ident, fms AS second_ms FROM r WHERE n = 2;

COPY (
    WITH c AS (
        SELECT strftime(day_of(c.first_ms), '%Y-%m') AS cohort, (SELECT as_of FROM run) - c.first_ms AS age,
               s.second_ms - c.first_ms AS gap
        FROM cust c LEFT JOIN second_order s USING (ident)),
    a AS (SELECT NULL AS cohort, age, gap FROM c UNION ALL SELECT * FROM c),
    g AS (
        SELECT cohort, count(*) AS customers,
               count(*) FILTER (WHERE age >= 2592000000) AS e30,
               count(*) FILTER (WHERE age >= 2592000000 AND gap <= 2592000000) AS r30,
               count(*) FILTER (WHERE age >= 5184000000) AS e60,
               count(*) FILTER (WHERE age >= 5184000000 AND gap <= 5184000000) AS r60,
               count(*) FILTER (WHERE age >= 7776000000) AS e90,
               count(*) FILTER (WHERE age >= 7776000000 AND gap <= 7776000000) AS r90
        FROM a GROUP BY cohort)
    SELECT cohort, customers, e30 AS eligible_30, r30 AS retained_30, ratio6(r30, e30) AS rate_30,
           e60 AS eligible_60, r60 AS retained_60, ratio6(r60, e60) AS rate_60,
           e90 AS eligible_90, r90 AS retained_90, ratio6(r90, e90) AS rate_90
    FROM g ORDER BY cohort NULLS FIRST
) TO '{{OUT}}/cohorts.csv' (HEADER, DELIMITER ',');

COPY (
    SELECT (s.second_ms - c.first_ms) // 86400000 AS days_to_second_order, count(*) AS customers
    FROM cust c JOIN second_order s USING (ident) GROUP BY ALL ORDER BY 1
) TO '{{OUT}}/cohorts_histogram.csv' (HEADER, DELIMITER ',');

-- ---- feedback.csv (R10.6) -------------------------------------------------------
COPY (
    WITH w AS (  -- orders placed in [as-of - 90 d, as-of] (time of the first purchase line)
        SELECT okey FROM orders, run WHERE first_ms >= as_of - 7776000000 AND first_ms <= as_of),
    fb AS (  -- the latest feedback of each order (R1.6 order), matched by order id
        SELECT 'o:' || ord AS okey, arg_max(rating, k) AS rating
        FROM x WHERE type = 'feedback' AND ord IS NOT NULL GROUP BY ord),
    o AS (SELECT w.okey, fb.rating FROM w LEFT JOIN fb USING (okey)),
    oa AS (SELECT DISTINCT l.asin, o.* FROM lines l JOIN o USING (okey) WHERE l.typ = 'purchase'),
    rows AS (
        SELECT 'account' AS scope, NULL AS key, count(*) AS orders, count(rating) AS fbo,
               count(*) FILTER (WHERE rating <= 2) AS neg FROM o
        UNION ALL
        SELECT 'asin', asin, count(*), count(rating), count(*) FILTER (WHERE rating <= 2) FROM oa GROUP BY asin)
    SELECT scope, key, orders, fbo AS feedback_orders, neg AS negative_feedback_orders,
           ratio6(neg, orders) AS negative_feedback_rate
    FROM rows ORDER BY scope, key NULLS FIRST
) TO '{{OUT}}/feedback.csv' (HEADER, DELIMITER ',');

-- ---- cac.csv (R10.4) --------------------------------------------------------------
-- new customers: those whose first purchase line is credited by R6 (to the
-- click's campaign) or R7 (to the tag's registry campaign and channel)
COPY (
    WITH sp AS (  -- sponsored spend: valid impressions and clicks; seen: any
        SELECT campaign, sum(spend) AS spend FROM imp GROUP BY campaign
        UNION ALL
        SELECT campaign, coalesce(sum(c_cost) FILTER (WHERE reason IS NULL), 0) FROM clk
        WHERE campaign IS NOT NULL GROUP BY campaign),
    spn AS (
        SELECT a.campaign, count(*) AS n FROM cust c JOIN ad_credit p ON p.rid = c.first_rid
        JOIN adc a ON a.rid = p.crid GROUP BY a.campaign),
    spc AS (
        SELECT campaign, sum(spend) AS spend FROM sp GROUP BY campaign
        UNION ALL SELECT campaign, 0 FROM spn),
    sprow AS (
        SELECT 'sponsored' AS source, 1 AS lvl, 'campaign' AS level, s.campaign AS key, sum(s.spend) AS spend,
               coalesce(any_value(n.n), 0) AS new_customers
        FROM spc s LEFT JOIN spn n USING (campaign) GROUP BY s.campaign),
    sptot AS (
        SELECT 'sponsored', 2, 'channel', 'sponsored', sum(spend), sum(new_customers) FROM sprow
        HAVING count(*) > 0),
    ex AS (  -- off-site clicks of registered tags
        SELECT r.campaign, r.channel, coalesce(sum(c.c_cost) FILTER (WHERE c.reason IS NULL), 0) AS spend
        FROM clk c JOIN reg r USING (tag) GROUP BY ALL),
    exn AS (
        SELECT r.campaign, r.channel, count(*) AS n FROM cust c JOIN os_credit o ON o.rid = c.first_rid
        JOIN reg r ON r.tag = o.tag GROUP BY ALL),
    exk AS (
        SELECT campaign, channel, spend, 0 AS n FROM ex UNION ALL SELECT campaign, channel, 0, n FROM exn),
    exrow AS (
        SELECT 'external', 3, 'campaign', campaign, sum(spend), sum(n) FROM exk WHERE campaign <> '' GROUP BY campaign
        UNION ALL
        SELECT 'external', 4, 'channel', channel, sum(spend), sum(n) FROM exk WHERE channel <> '' GROUP BY channel),
    rows AS (SELECT * FROM sprow UNION ALL SELECT * FROM sptot UNION ALL SELECT * FROM exrow)
    SELECT source, level, key, spend, new_customers, ratio6(micros(spend), new_customers * 1000000) AS cac
    FROM rows ORDER BY lvl, key
) TO '{{OUT}}/cac.csv' (HEADER, DELIMITER ',');

-- ---- diagnostics.csv (R9.1): the value column ----------------------------------
COPY (
    WITH c AS (  -- valid and invalid clicks by scope; the landing of the id's first click
        SELECT CASE WHEN c.campaign IS NOT NULL THEN 'sponsored' ELSE 'external' END AS scope, c.reason,
               l.pv_rid, u.click_id IS NOT NULL AS unl
        FROM clk c LEFT JOIN landing l ON l.click_id = c.click_id LEFT JOIN unloaded u ON u.click_id = c.click_id),
    starts AS (SELECT first_rid FROM sessions),
    cf AS (
        SELECT scope,
               count(*) FILTER (WHERE reason IS NULL) AS valid_clicks,
               count(*) FILTER (WHERE reason IS NULL AND pv_rid IN (SELECT first_rid FROM starts)) AS started,
               count(*) FILTER (WHERE reason IS NULL AND pv_rid IS NULL) AS bounced,
               count(*) FILTER (WHERE reason IS NULL AND pv_rid IS NOT NULL
                                AND pv_rid NOT IN (SELECT first_rid FROM starts)) AS in_open,
               count(*) FILTER (WHERE reason IS NULL AND pv_rid IS NULL AND unl) AS b_unl,
               count(*) FILTER (WHERE reason IS NULL AND pv_rid IS NULL AND NOT unl) AS b_none,
               count(*) FILTER (WHERE reason IS NOT NULL) AS invalid,
               count(*) FILTER (WHERE reason = 'bot') AS i_bot,
               count(*) FILTER (WHERE reason = 'blocked_ip') AS i_blocked,
               count(*) FILTER (WHERE reason = 'flood') AS i_flood,
               count(*) FILTER (WHERE reason = 'duplicate') AS i_dup
        FROM c GROUP BY scope),
    sf AS (  -- sessions of a click source by their first page view's click (the id's first click)
        SELECT CASE s.ssrc WHEN 1 THEN 'sponsored' ELSE 'external' END AS scope, count(*) AS sessions,
               count(*) FILTER (WHERE i.first_reason IS NULL AND l.pv_rid = s.first_rid) AS from_landing,
               count(*) FILTER (WHERE i.first_reason IS NOT NULL) AS from_invalid,
               count(*) FILTER (WHERE i.first_reason IS NULL AND l.pv_rid <> s.first_rid) AS from_repeat
        FROM sessions s JOIN cid i ON i.click_id = s.first_click_id
        LEFT JOIN landing l ON l.click_id = s.first_click_id
        WHERE s.ssrc IN (1, 2) GROUP BY ALL),
    pf AS (
        SELECT CASE src WHEN 1 THEN 'sponsored' ELSE 'external' END AS scope, count(*) AS pv
        FROM pvs WHERE src IN (1, 2) GROUP BY ALL),
    sc AS (SELECT * FROM (VALUES ('sponsored', 1), ('external', 2)) v(scope, o)),
    f AS (
        SELECT sc.o, sc.scope, coalesce(cf.valid_clicks, 0) AS valid_clicks, coalesce(cf.started, 0) AS started,
               coalesce(cf.bounced, 0) AS bounced, coalesce(cf.in_open, 0) AS in_open,
               coalesce(cf.b_unl, 0) AS b_unl, coalesce(cf.b_none, 0) AS b_none,
               coalesce(sf.sessions, 0) AS sessions, coalesce(sf.from_landing, 0) AS from_landing,
               coalesce(sf.from_invalid, 0) AS from_invalid, coalesce(sf.from_repeat, 0) AS from_repeat,
               coalesce(cf.invalid, 0) AS invalid, coalesce(cf.i_bot, 0) AS i_bot,
               coalesce(cf.i_blocked, 0) AS i_blocked, coalesce(cf.i_flood, 0) AS i_flood,
               coalesce(cf.i_dup, 0) AS i_dup, coalesce(pf.pv, 0) AS pv
        FROM sc LEFT JOIN cf USING (scope) LEFT JOIN sf USING (scope) LEFT JOIN pf USING (scope)),
    rows AS (
        SELECT o, scope, m.i, m.metric, m.value FROM f, LATERAL (VALUES
            (1, 'valid_clicks', valid_clicks::VARCHAR), (2, 'sessions_started_by_click', started::VARCHAR),
            (3, 'bounced_clicks', bounced::VARCHAR), (4, 'clicks_in_open_session', in_open::VARCHAR),
            (5, 'decomposition_exact', CASE WHEN valid_clicks = started + bounced + in_open THEN 'true' ELSE 'false' END),
            (6, 'bounced_clicks_unloaded_page_view', b_unl::VARCHAR), (7, 'bounced_clicks_no_page_view', b_none::VARCHAR),
            (8, 'sessions', sessions::VARCHAR), (9, 'sessions_from_valid_click_landing', from_landing::VARCHAR),
            (10, 'sessions_from_invalid_click', from_invalid::VARCHAR),
            (11, 'sessions_from_repeat_landing', from_repeat::VARCHAR), (12, 'invalid_clicks', invalid::VARCHAR),
            (13, 'invalid_clicks_bot', i_bot::VARCHAR), (14, 'invalid_clicks_blocked_ip', i_blocked::VARCHAR),
            (15, 'invalid_clicks_flood', i_flood::VARCHAR), (16, 'invalid_clicks_duplicate', i_dup::VARCHAR),
            (17, 'page_views', pv::VARCHAR), (18, 'clicks_per_page_view', ratio6(valid_clicks, pv))) m(i, metric, value)
        UNION ALL
        SELECT 3, 'account', m.i, m.metric, m.value FROM (
            SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM pvs) AS pv,
                   (SELECT count(*) FROM x WHERE type = 'page_view' AND NOT coalesce(loaded, true)) AS unl) a,
            LATERAL (VALUES (1, 'sessions', s::VARCHAR), (2, 'page_views', pv::VARCHAR),
                            (3, 'unloaded_page_views', unl::VARCHAR),
                            (4, 'page_views_per_session', ratio6(pv, s))) m(i, metric, value))
    SELECT scope, metric, value FROM rows ORDER BY o, i
) TO '{{OUT}}/diagnostics.csv' (HEADER, DELIMITER ',');

SELECT (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM clk) AS clicks,
       (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM cust) AS customers,
       (SELECT count(*) FROM (SELECT okey FROM lines WHERE typ = 'purchase' GROUP BY okey
                              HAVING count(DISTINCT ident) > 1)) AS orders_of_several_identities;
